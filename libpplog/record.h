// Encoding and decoding of records, segment and index headers, index entries and journal
// records (docs/format.md). Pure functions over bytes: no I/O, thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "format.h"
#include "pipeproc/status.h"

namespace pipeproc::format {

inline void put_u16(char* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline void put_u32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void put_u64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline uint16_t get_u16(const char* p) { uint16_t v; std::memcpy(&v, p, 2); return v; }
inline uint32_t get_u32(const char* p) { uint32_t v; std::memcpy(&v, p, 4); return v; }
inline uint64_t get_u64(const char* p) { uint64_t v; std::memcpy(&v, p, 8); return v; }

uint64_t checksum(const void* data, size_t len);

// Writes one record (header + body) at out, which has room for kRecordHeaderSize +
// body.size() bytes; returns that size.
size_t encode_record(char* out, uint64_t seq, uint64_t ts, std::string_view body);
// Appends one record (header + body) to out.
void append_record(std::string& out, uint64_t seq, uint64_t ts, std::string_view body);
// Writes only the header of the record of body at out (kRecordHeaderSize bytes), for a
// writer that hands the body to the kernel from where it is instead of copying it.
void encode_record_header(char* out, uint64_t seq, uint64_t ts, std::string_view body);

struct RecordView {
  uint64_t seq = 0;
  uint64_t ts = 0;
  std::string_view body;
  size_t size = 0;  // header + body
};

enum class DecodeResult { ok, truncated, corrupt };
// Decodes the record at the start of buf. truncated: buf ends before the record does
// (a torn tail when at the end of a file); corrupt: header or checksum wrong.
// A record whose sequence is below verify_from is not checksummed: a scan that only
// steps over it (from an index entry to the log it wants) never hands out its body, and
// the sequence chain it walks is still checked.
// Inline: a reader calls it once per log, and through a call GCC hands the view back in
// memory that the caller then reloads with wider moves, which stalls store forwarding.
inline DecodeResult decode_record(std::string_view buf, RecordView* out, size_t max_body, uint64_t verify_from = 0) {
  if (buf.size() < kRecordHeaderSize) return DecodeResult::truncated;
  const char* p = buf.data();
  uint32_t len = get_u32(p + 8);
  if (get_u32(p + 12) != static_cast<uint32_t>(RecordKind::log) || len > max_body) return DecodeResult::corrupt;
  if (buf.size() < kRecordHeaderSize + len) return DecodeResult::truncated;
  if (get_u64(p + 16) >= verify_from && get_u64(p) != checksum(p + 8, kRecordHeaderSize - 8 + len))
    return DecodeResult::corrupt;
  out->seq = get_u64(p + 16);
  out->ts = get_u64(p + 24);
  out->body = std::string_view(p + kRecordHeaderSize, len);
  out->size = kRecordHeaderSize + len;
  return DecodeResult::ok;
}

// File headers (segment, index, journal share one layout: magic, version, 0, u64, xxh3).
void encode_file_header(char out[32], uint64_t magic, uint32_t version, uint64_t value);
// Returns the u64 value, or nullopt if the header is not valid for magic/version.
std::optional<uint64_t> decode_file_header(const char in[32], uint64_t magic, uint32_t version);

struct IndexEntry {
  uint64_t seq = 0;
  uint64_t ts = 0;
  uint64_t offset = 0;
};
void encode_index_entry(char out[32], const IndexEntry& e);
std::optional<IndexEntry> decode_index_entry(const char in[32]);

// Journal record framing: writes the 16-byte header for payload in place (buf holds
// 16 reserved bytes then the payload).
void seal_journal_record(std::string& buf, uint32_t flags);

}  // namespace pipeproc::format
