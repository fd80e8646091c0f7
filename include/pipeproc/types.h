// Value types shared by the libraries and tools: log ids, names, the clock.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "pipeproc/status.h"

namespace pipeproc {

// A log id: {timestamp}-{sequence}. The sequence is the log's position in its topic
// (dense from 0); the timestamp is the commit time in ms. Within a topic timestamps never
// decrease: a commit takes max(now, last timestamp of the store), so a clock stepping back
// reuses the last timestamp instead of reordering ids.
struct LogId {
  uint64_t ts = 0;
  uint64_t seq = 0;
  friend bool operator==(const LogId&, const LogId&) = default;
};

std::string format_id(LogId id);
// Appends "TS-SEQ" to out (no allocation beyond out's growth).
void append_id(std::string& out, LogId id);

// Formats runs of ids fast: consecutive ids usually share a timestamp, so its text and the
// '-' are kept and copied with one fixed-size move. A sequence one past the last one of up
// to 8 digits is counted up in a register holding its digits and stored with one 8-byte
// move; any other is converted. (An earlier version incremented the digits byte by byte
// in memory and copied them out with wide loads: each load waited for those stores to
// drain from the store buffer, 3x slower.)
class IdFormatter {
 public:
  static constexpr size_t kMaxLen = 41;  // 20 digits, '-', 20 digits
  void append(std::string& out, LogId id);
  // Writes the id at out (room for kMaxLen bytes); returns the end of what it wrote. The
  // usual case (the next sequence, same timestamp, last digit not a 9) is inline: in a
  // batch export the call itself was a tenth of the time.
  char* write(char* out, LogId id) {
    if (ndigits_ != 0 && id.seq == seq_ + 1 && id.ts == ts_) {
      const unsigned top = 8 * (ndigits_ - 1);  // the lowest digit's byte
      if (((digits_ >> top) & 0xff) != '9') {
        digits_ += uint64_t{1} << top;
        seq_ = id.seq;
        std::memcpy(out, prefix_, kPrefixCopy);
        char* d = out + prefix_len_;
        std::memcpy(d, &digits_, 8);
        return d + ndigits_;
      }
    }
    return write_any(out, id);
  }
  // Appends each id and a newline: the ids a commit printed, at memory speed.
  void append_lines(std::string& out, std::span<const LogId> ids);

 private:
  char* write_any(char* out, LogId id);
  static constexpr size_t kPrefixCopy = 24;  // covers 20 digits and '-'
  char prefix_[kPrefixCopy] = {};            // "TS-" of the last timestamp
  size_t prefix_len_ = 0;
  uint64_t ts_ = 0;
  bool have_ts_ = false;
  uint64_t seq_ = 0;     // the last sequence written
  uint64_t digits_ = 0;  // its digits, first in the lowest byte, when it has 1-8 of them
  unsigned ndigits_ = 0; // how many (0: not kept, convert the next one)
};

// Appends s as a JSON string (quotes, escapes for " \ and control characters).
void append_json_string(std::string& out, std::string_view s);

// Topic and proc names: 1-200 bytes of [A-Za-z0-9._-], not "." or "..".
Status check_name(std::string_view name, std::string_view what = "topic");

// Milliseconds since the epoch; PIPEPROC_NOW_MS (tests only) fixes it.
uint64_t now_ms();

}  // namespace pipeproc
