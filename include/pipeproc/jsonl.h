// JSON lines input: reading stdin in batches of whole lines, validating each line as one
// JSON value (simdjson), and envelopes {"topic":..,"body":..}. Not thread-safe: one
// reader per stream.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeproc/status.h"

namespace pipeproc {

// Bytes readable past the end of every line a LineReader hands out: simdjson reads ahead.
inline constexpr size_t kLinePadding = 64;

struct Line {
  std::string_view text;  // trimmed of blanks at both ends; never empty
  uint64_t number = 0;    // 1-based line number in the input
};

// Reads a stream in windows and hands out the complete lines each read made available.
// Memory stays within window + the longest line (bounded by max_line).
class LineReader {
 public:
  LineReader(int fd, size_t max_line, size_t window = 512u << 10);
  ~LineReader();
  // Fills lines with the next batch: every complete line available after at least one
  // read (blank lines skipped). Views stay valid until the next call. Returns false once
  // the input is exhausted. A line over max_line bytes is record_too_large, reported
  // after the lines before it were handed out.
  Result<bool> next(std::vector<Line>& lines);
  uint64_t bytes_read() const { return bytes_read_; }
  // True if the next call would find input without waiting (or the input has ended).
  bool ready();
  // Hands the buffer holding the last batch's lines to the caller (they stay valid there)
  // and continues in spare, which the caller may pass back later for reuse.
  void swap_buffer(std::vector<char>& spare);

 private:
  Status fill(bool block);
  int fd_;
  size_t max_line_;
  size_t window_;
  std::vector<char> buf_;  // capacity + padding for the JSON parser
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t line_no_ = 0;
  uint64_t bytes_read_ = 0;
  Status pending_;  // an error to report on the next call
};

// Validates JSON lines. Lines must live in a buffer readable 64 bytes past each line
// (LineReader's are).
class JsonValidator {
 public:
  JsonValidator();
  ~JsonValidator();
  // Returns the index of the first line that is not exactly one JSON value (lines.size()
  // if all are), with its error in *err.
  size_t validate(std::span<const Line> lines, Status* err);
  // One line, any buffer.
  Status validate_one(std::string_view text);

  // An envelope line: {"topic":"name","body":<any JSON>}. body is the raw text of the
  // body value as given. invalid_json / invalid_envelope on failure.
  Status envelope(std::string_view text, std::string_view* topic, std::string_view* body);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The raw text of a top-level member of a JSON object that is already known to be
// valid; empty if absent.
std::string_view raw_member(std::string_view object, std::string_view key);

// The check of JsonValidator::validate_one (is text exactly one JSON value?), made
// without simdjson (libpplog/json_check.cpp), for tools that are linked without it.
Status check_json_value(std::string_view text);

// True if s is exactly one JSON number (any size).
bool is_json_number(std::string_view s);

// A copy of text with every number token that follows JSON's grammar replaced by a 0 of
// the same width: what is left for a parser to check is everything but the size of
// numbers (parsers refuse numbers beyond 64-bit integers and doubles; JSON allows them).
std::string neutralise_numbers(std::string_view text);

}  // namespace pipeproc
