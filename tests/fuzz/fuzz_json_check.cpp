// Fuzzes the two JSON checks against each other: check_json_value (RapidJSON, used by the
// static bin/pp-commit for arguments and small stdin) and JsonValidator::validate_one
// (simdjson, used for streams and everywhere else).
// Property: on every text, trimmed as the tools trim a body, both accept or both refuse,
// and a refusal is invalid_json.
//
// Input: the text of one body.
#include <cstdint>
#include <string_view>

#include "fuzz_util.h"
#include "pipeproc/jsonl.h"

using namespace pipeproc;

namespace {
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
  if (text.empty()) return 0;  // the tools skip blank lines and never pass an empty body
  static JsonValidator simd;
  Status a = simd.validate_one(text);
  Status b = check_json_value(text);
  FUZZ_CHECK(a.ok() == b.ok(), "simdjson %s, RapidJSON %s on %zu bytes: %s | %s", a.ok() ? "accepts" : "refuses",
             b.ok() ? "accepts" : "refuses", text.size(), a.message().c_str(), b.message().c_str());
  FUZZ_CHECK(b.ok() || b.code() == Code::invalid_json, "check_json_value refused with %s", b.message().c_str());
  return 0;
}
