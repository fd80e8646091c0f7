// Record codec: round trips and the two failure modes a reader must tell apart.
#include <doctest/doctest.h>

#include "record.h"

using namespace pipeproc::format;

TEST_CASE("RecordRoundTrip") {
  std::string buf;
  append_record(buf, 7, 1518951480106, R"({"a":1})");
  RecordView r;
  REQUIRE(decode_record(buf, &r, 1 << 20) == DecodeResult::ok);
  CHECK(r.seq == 7);
  CHECK(r.ts == 1518951480106);
  CHECK(r.body == R"({"a":1})");
  CHECK(r.size == buf.size());
}
