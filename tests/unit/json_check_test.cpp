// check_json_value (RapidJSON, in the static pp-commit) must judge every text as
// JsonValidator::validate_one (simdjson, everywhere else) does: a body given as an argument
// and the same body piped in are both committed or both refused.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "pipeproc/jsonl.h"

using namespace pipeproc;

namespace {
// Texts at the edges where two JSON parsers are known to part ways.
std::vector<std::string> edge_cases() {
  std::vector<std::string> v = {
      "{}", "[]", "1", "-0", "01", "1.", ".5", "1e400", "-1e-400", "123456789012345678901234567890", "1E+2", "+1",
      "\"a\"", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\udc00\"", "\"\\ud800\\u0041\"",
      "\"\\uDBFF\\uDFFF\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xf4\x8f\xbf\xbf\"",
      "\"\xe2\x82\xac\"", "\"\x80\"", "\"\xff\"", "\"\xe0\x80\x80\"", "\"\xf0\x80\x80\x80\"", "\"\t\"", "\"\\t\"",
      "\"\\x\"", "\"\\/\"", "\"\x7f\"", "\"\x1f\"", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "[1 2]", "{} {}", "{}x",
      "nul", "null", "true", "tru", "falsee", "NaN", "Infinity", "[-]", "\"abc", "{\"a\":}", "{1:2}",
      "[\"a\\\"b\"]", "\xef\xbb\xbf{}", "{\"\xed\xb0\x80\":1}", "{\"\\udc00\":1}", "[1e5,2E-3,-0.0e+0]", "-",
      "0x10", "1e", "1e+", "[1e400,{\"k\":-2E+999}]", std::string("{\"a\":\"\0\"}", 9), std::string("{}\0", 3)};
  // simdjson's depth limit counts the containers that hold something.
  auto nest = [](size_t n, const std::string& inner) { return std::string(n, '[') + inner + std::string(n, ']'); };
  v.push_back(nest(1024, ""));
  v.push_back(nest(1025, ""));
  v.push_back(nest(1023, "1"));
  v.push_back(nest(1024, "1"));
  v.push_back(nest(1023, "{\"a\":1}"));
  v.push_back(nest(1022, "{\"a\":1}"));
  v.push_back(nest(1023, "{}"));
  return v;
}
}  // namespace

TEST_CASE("TheStaticCheckJudgesEveryEdgeCaseAsSimdjsonDoes") {
  JsonValidator simd;
  for (const std::string& t : edge_cases()) {
    CAPTURE(t.substr(0, 40));
    CHECK(check_json_value(t).ok() == simd.validate_one(t).ok());
  }
}

TEST_CASE("TheStaticCheckAcceptsNumbersOfAnySizeAndRefusesLoneSurrogates") {
  CHECK(check_json_value("1e400").ok());
  CHECK(check_json_value("[-123456789012345678901234567890.5e-999]").ok());
  CHECK(check_json_value("\"\\ud83d\\ude00\"").ok());
  Status lone = check_json_value("\"\\udc00\"");
  CHECK(lone.code() == Code::invalid_json);
  CHECK(lone.message().find("lone surrogate") != std::string::npos);
  CHECK(check_json_value(std::string(1025, '[') + std::string(1025, ']')).code() == Code::invalid_json);
  CHECK(check_json_value("").code() == Code::invalid_json);
  // RapidJSON would stop at the NUL and call what is before it the whole text.
  CHECK(check_json_value(std::string("{}\0x", 4)).code() == Code::invalid_json);
}

TEST_CASE("TheStaticCheckNamesWhatIsWrongAndWhere") {
  Status st = check_json_value("{\"a\":1,}");
  REQUIRE(st.code() == Code::invalid_json);
  CHECK(st.message().find("at byte 7") != std::string::npos);
  CHECK(st.message().back() != '.');
}

TEST_CASE("MutatedDocumentsGetTheSameVerdictFromBothChecks") {
  // Random edits of valid documents, with the bytes that matter most to a parser.
  std::mt19937 rng(20261206);
  const std::vector<std::string> seeds = {"{\"a\":[1,2.5e3,\"x\\u00e9\"],\"b\":{\"c\":null}}",
                                          "[true,false,\"\\ud83d\\ude00\"]", "\"\xe2\x82\xac\\n\"", "-12.5E-7"};
  const std::string alphabet = "{}[]\":,\\u0123456789abcdefEe+-. tnrl\xed\xa0\x80\xc0\xff\xf4\x90";
  JsonValidator simd;
  size_t valid = 0, differ = 0;
  for (int it = 0; it < 50000; ++it) {
    std::string s = seeds[rng() % seeds.size()];
    for (int k = 1 + static_cast<int>(rng() % 4); k > 0; --k) {
      size_t pos = rng() % (s.size() + 1);
      char ch = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), ch); break;
        case 1: if (pos < s.size()) s.erase(pos, 1); break;
        default: if (pos < s.size()) s[pos] = ch; break;
      }
    }
    // As the tools hand them over: trimmed, never empty.
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.pop_back();
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.erase(0, 1);
    if (s.empty()) continue;
    bool a = simd.validate_one(s).ok();
    valid += a;
    if (a != check_json_value(s).ok()) {
      ++differ;
      CAPTURE(s);
      CHECK(a == check_json_value(s).ok());
    }
  }
  CHECK(differ == 0);
  CHECK(valid > 1000);  // the edits leave enough valid documents to compare
}
