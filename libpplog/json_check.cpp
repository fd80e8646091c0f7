// check_json_value (jsonl.h): the validity check of JsonValidator::validate_one, made with
// RapidJSON's header-only SAX reader, for tools linked without libsimdjson; and the number
// grammar both checks share. Nothing here needs simdjson. Thread-safe: no shared state.
//
// It must give the same answer as the simdjson check on every input
// (tests/unit/json_check_test.cpp and tests/fuzz/fuzz_json_check.cpp compare the two):
// - numbers are checked by their grammar alone, whatever their size (RapidJSON hands them
//   over as text; the simdjson check neutralises the ones its DOM cannot hold);
// - strings are valid UTF-8, and a \u escape of a lone surrogate is refused;
// - a value inside 1024 containers is refused, as simdjson's depth limit does;
// - a NUL byte anywhere is refused (RapidJSON would take it for the end of the text).
#include <cctype>
#include <cstring>
#include <string>

#define RAPIDJSON_HAS_STDSTRING 0
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include "pipeproc/jsonl.h"

namespace pipeproc {

// JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_json_number(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// A copy of text with every number token that follows JSON's grammar replaced by a 0 of
// the same width: what is left for the DOM parser to check is everything but the size of
// numbers (the DOM parser refuses numbers beyond 64-bit integers and doubles; JSON allows them).
std::string neutralise_numbers(std::string_view text) {
  std::string out(text);
  for (size_t i = 0; i < out.size();) {
    char c = out[i];
    if (c == '"') {
      for (++i; i < out.size() && out[i] != '"'; ++i)
        if (out[i] == '\\') ++i;
      ++i;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      size_t j = i;
      while (j < out.size() && (std::strchr("0123456789+-.eE", out[j]) != nullptr)) ++j;
      if (is_json_number(std::string_view(out).substr(i, j - i))) {
        out[i] = '0';
        for (size_t k = i + 1; k < j; ++k) out[k] = ' ';
      }
      i = j;
    } else {
      ++i;
    }
  }
  return out;
}

namespace {

constexpr unsigned kMaxDepth = 1024;  // simdjson::DEFAULT_MAX_DEPTH

// Accepts every event; refuses only what RapidJSON lets through and simdjson does not.
struct Checker : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Checker> {
  unsigned depth = 0;  // containers open around the next event
  const char* why = nullptr;

  // simdjson counts only containers that hold something: a value (or key) inside
  // kMaxDepth of them is too deep, an empty container there is not.
  bool value() {
    if (depth < kMaxDepth) return true;
    why = "nested too deep";
    return false;
  }
  bool Default() { return value(); }
  bool open() {
    if (!value()) return false;
    ++depth;
    return true;
  }
  bool StartObject() { return open(); }
  bool StartArray() { return open(); }
  bool EndObject(rapidjson::SizeType) { return --depth, true; }
  bool EndArray(rapidjson::SizeType) { return --depth, true; }
  // A lone low surrogate (\uDC00-\uDFFF) comes out of RapidJSON 1.1 encoded as ED B0..BF:
  // bytes that valid UTF-8 input can never produce, since the encoding check refuses them.
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (!value()) return false;
    for (const char* p = s; (p = static_cast<const char*>(std::memchr(p, '\xED', n - static_cast<size_t>(p - s))));
         ++p) {
      if (p + 1 < s + n && static_cast<unsigned char>(p[1]) >= 0xA0) {
        why = "a \\u escape of a lone surrogate";
        return false;
      }
    }
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return String(s, n, copy); }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return value(); }
};

rapidjson::ParseResult parse(std::string_view text, Checker& checker) {
  constexpr unsigned kFlags =
      rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::MemoryStream in(text.data(), text.size());
  rapidjson::Reader reader;
  return reader.Parse<kFlags>(in, checker);
}

}  // namespace

Status check_json_value(std::string_view text) {
  if (text.empty()) return Status(Code::invalid_json, "no JSON value");
  if (const void* nul = std::memchr(text.data(), '\0', text.size()))
    return Status(Code::invalid_json, "a NUL character at byte " + std::to_string(static_cast<const char*>(nul) - text.data()));
  Checker checker;
  rapidjson::ParseResult r = parse(text, checker);
  if (r.Code() == rapidjson::kParseErrorNumberTooBig) {
    // Even as text, RapidJSON refuses an exponent beyond a double's: JSON allows it.
    checker = Checker();
    r = parse(neutralise_numbers(text), checker);
  }
  if (r) return {};
  // RapidJSON's messages read "Invalid value.": made to read as ours do.
  std::string what = checker.why ? checker.why : rapidjson::GetParseError_En(r.Code());
  if (!what.empty() && what.back() == '.') what.pop_back();
  if (!what.empty()) what[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(what[0])));
  return Status(Code::invalid_json, what + " at byte " + std::to_string(r.Offset()));
}

}  // namespace pipeproc
