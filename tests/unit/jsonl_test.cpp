// JSON lines validation: what the batch validator accepts must not depend on the bytes
// after the lines it is given.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "pipeproc/jsonl.h"

using namespace pipeproc;

namespace {
// Lines cut from buf (each ends before a '\n' or at end); buf keeps 64 bytes of padding
// after end.
std::vector<Line> lines_of(std::string& buf, size_t end) {
  std::vector<Line> out;
  size_t at = 0;
  uint64_t no = 0;
  while (at < end) {
    size_t nl = buf.find('\n', at);
    if (nl == std::string::npos || nl > end) nl = end;
    out.push_back(Line{std::string_view(buf.data() + at, nl - at), ++no});
    at = nl + 1;
  }
  return out;
}
}  // namespace

TEST_CASE("AnInvalidLastLineIsRefusedWhateverByteFollowsIt") {
  // Seen accepted by the batch parser when followed by ',' or ':' (stale buffer bytes
  // after the last line of an input without a final newline).
  const std::vector<std::string> bad = {R"(["k" "k":])", R"({"topic""s"}})", R"([true  {"k"}])", R"({"v"true]})"};
  JsonValidator v;
  for (const std::string& line : bad) {
    for (char after : std::string(",: \n1{\"")) {
      std::string buf = "{\"a\":1}\n" + line;
      size_t end = buf.size();
      buf.push_back(after);
      buf.append(64, after);
      auto lines = lines_of(buf, end);
      REQUIRE(lines.size() == 2);
      Status err;
      CHECK_MESSAGE(v.validate(lines, &err) == 1, line, " followed by '", after, "'");
      CHECK(err.code() == Code::invalid_json);
      CHECK(err.message().rfind("line 2:", 0) == 0);
      CHECK_FALSE(v.validate_one(line).ok());
    }
  }
}

TEST_CASE("ValidLinesAreAcceptedWhateverByteFollowsTheLast") {
  JsonValidator v;
  for (char after : std::string(",: \n1{\"]")) {
    std::string buf = "{\"a\":1}\n[1,2]\n\"s\"\n3";
    size_t end = buf.size();
    buf.append(65, after);
    auto lines = lines_of(buf, end);
    Status err;
    CHECK_MESSAGE(v.validate(lines, &err) == lines.size(), "followed by '", after, "': ", err.message());
  }
}
