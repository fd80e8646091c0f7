// JSON lines validation with simdjson; see jsonl.h.
//
// Validation runs simdjson's parse_many over a whole batch (the fast SIMD kernel picked at
// run time) and checks that its documents line up one to one with the lines; on any
// mismatch it falls back to parsing line by line to find the first bad one.
#include "pipeproc/jsonl.h"

#include <cstring>
#include <simdjson.h>

namespace pipeproc {

static_assert(simdjson::SIMDJSON_PADDING <= kLinePadding, "LineReader pads its lines for simdjson");

namespace {
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
}  // namespace

struct JsonValidator::Impl {
  simdjson::dom::parser many;
  simdjson::dom::parser one;

  // DOM first; a number it cannot hold gets a second look that only checks the grammar.
  simdjson::error_code parse(std::string_view text, bool padded) {
    simdjson::dom::element e;
    auto err = one.parse(text.data(), text.size(), !padded).get(e);
    if (err != simdjson::NUMBER_ERROR) return err;
    std::string plain = neutralise_numbers(text);
    return one.parse(plain).get(e);
  }
};

JsonValidator::JsonValidator() : impl_(std::make_unique<Impl>()) {}
JsonValidator::~JsonValidator() = default;

Status JsonValidator::validate_one(std::string_view text) {
  if (auto err = impl_->parse(text, false)) return Status(Code::invalid_json, simdjson::error_message(err));
  return {};
}

size_t JsonValidator::validate(std::span<const Line> lines, Status* err) {
  if (lines.empty()) return 0;
  // simdjson 3.0's parse_many reads the byte after its input: when that byte is not
  // JSON whitespace it was seen to accept an invalid last document ('["k" "k":]' followed
  // by ','). Every line but the last is followed by its newline; the last one (at the
  // end of the input, or in a caller's buffer) is then left to the line-by-line check.
  auto json_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  size_t fast = lines.size();
  if (!json_space(lines.back().text.data()[lines.back().text.size()])) --fast;
  const char* base = lines.front().text.data();
  size_t len = fast == 0 ? 0 : static_cast<size_t>(lines[fast - 1].text.data() + lines[fast - 1].text.size() - base);
  size_t ok = 0;  // lines known good
  simdjson::dom::document_stream stream;
  size_t batch = std::max<size_t>(len + 1, 1 << 16);
  // The fast path is only trusted on valid UTF-8 (on a batch that is not, simdjson 3.0's
  // parse_many was seen to hand out "3{" as the document 3), and a scalar document must be
  // exactly its token.
  if (fast > 0 && simdjson::validate_utf8(base, len) &&
      !impl_->many.parse_many(reinterpret_cast<const uint8_t*>(base), len, batch).get(stream)) {
    for (auto it = stream.begin(); it != stream.end() && ok < fast; ++it) {
      simdjson::dom::element e;
      if ((*it).get(e)) break;
      const Line& l = lines[ok];
      if (it.current_index() != static_cast<size_t>(l.text.data() - base) || it.source().size() != l.text.size())
        break;
      if (!e.is_object() && !e.is_array() && !e.is_string()) {
        std::string_view t = l.text;
        bool exact = e.is_null() ? t == "null" : e.is_bool() ? (t == "true" || t == "false") : is_json_number(t);
        if (!exact) break;
      }
      ++ok;
    }
  }
  // Lines after the aligned prefix: one by one (padding: the buffer extends past each line).
  for (; ok < lines.size(); ++ok) {
    const Line& l = lines[ok];
    if (auto e2 = impl_->parse(l.text, true)) {
      *err = Status(Code::invalid_json, "line " + std::to_string(l.number) + ": " + simdjson::error_message(e2));
      return ok;
    }
  }
  return ok;
}

Status JsonValidator::envelope(std::string_view text, std::string_view* topic, std::string_view* body) {
  if (auto err = impl_->parse(text, false)) return Status(Code::invalid_json, simdjson::error_message(err));
  simdjson::dom::element e;
  if (impl_->one.parse(text.data(), text.size(), true).get(e)) {
    // Valid JSON the DOM cannot hold (a huge number somewhere): find the members by text.
    std::string_view t = raw_member(text, "topic");
    *body = raw_member(text, "body");
    if (t.size() < 2 || t.front() != '"' || body->empty())
      return Status(Code::invalid_envelope, R"(an envelope is {"topic":"name","body":...})");
    // The topic's string value (escapes resolved), parsed on its own.
    simdjson::dom::element te;
    if (impl_->one.parse(t.data(), t.size(), true).get(te) || te.get(*topic))
      return Status(Code::invalid_envelope, R"(the envelope has no "topic" string)");
    return {};
  }
  simdjson::dom::object obj;
  if (e.get(obj)) return Status(Code::invalid_envelope, R"(an envelope is an object {"topic":"name","body":...})");
  std::string_view t;
  if (obj["topic"].get(t)) return Status(Code::invalid_envelope, R"(the envelope has no "topic" string)");
  simdjson::dom::element b;
  if (obj["body"].get(b)) return Status(Code::invalid_envelope, R"(the envelope has no "body")");
  *topic = t;  // points into the parser: valid until the next parse
  *body = raw_member(text, "body");
  if (body->empty()) return Status(Code::invalid_envelope, R"(the envelope's "body" could not be found)");
  return {};
}

namespace {
// Skips a JSON string starting at s[i] == '"'; returns the index after its closing quote.
size_t skip_string(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return s.size();
}
size_t skip_ws(std::string_view s, size_t i) {
  while (i < s.size() && is_blank(s[i])) ++i;
  return i;
}
// Skips one valid JSON value starting at s[i].
size_t skip_value(std::string_view s, size_t i) {
  if (i >= s.size()) return i;
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"') {
        i = skip_string(s, i) - 1;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return s.size();
  }
  while (i < s.size() && !is_blank(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i;
}
}  // namespace

std::string_view raw_member(std::string_view s, std::string_view key) {
  size_t i = skip_ws(s, 0);
  if (i >= s.size() || s[i] != '{') return {};
  i = skip_ws(s, i + 1);
  while (i < s.size() && s[i] == '"') {
    size_t kend = skip_string(s, i);
    std::string_view k = s.substr(i + 1, kend - i - 2);
    i = skip_ws(s, kend);
    if (i >= s.size() || s[i] != ':') return {};
    i = skip_ws(s, i + 1);
    size_t vend = skip_value(s, i);
    if (k == key) return s.substr(i, vend - i);
    i = skip_ws(s, vend);
    if (i < s.size() && s[i] == ',') i = skip_ws(s, i + 1);
  }
  return {};
}

}  // namespace pipeproc
