// Record codec: round trips and the two failure modes a reader must tell apart.
#include <doctest/doctest.h>

#include <vector>

#include "record.h"

// XXH3 as xxhash.h builds it for any x86-64 (SSE2), the reference for the library's own.
#define XXH_INLINE_ALL
#include <xxhash.h>

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

TEST_CASE("AHeaderEncodedApartFromItsBodyIsTheHeaderOfTheWholeRecord") {
  // A writer that hands large bodies to pwritev encodes their headers alone: the bytes
  // must be the ones encode_record writes, at every XXH3 size class.
  for (size_t len : {0, 1, 16, 17, 100, 128, 129, 208, 209, 240, 241, 1024, 5000, 70000}) {
    std::string body(len, 'x');
    for (size_t i = 0; i < len; ++i) body[i] = static_cast<char>('a' + i * 7 % 26);
    std::string whole;
    append_record(whole, 42, 1518951480106, body);
    char hdr[kRecordHeaderSize];
    encode_record_header(hdr, 42, 1518951480106, body);
    CAPTURE(len);
    CHECK(std::string(hdr, sizeof hdr) == whole.substr(0, kRecordHeaderSize));
  }
}

TEST_CASE("TheChecksumIsPortableXXH3OnEveryPathTheCpuMayTake") {
  // Long inputs may be hashed with AVX2 (chosen at run time): the value stored on disk
  // must be the one any other build or CPU computes.
  std::string data(70016, '\0');  // room for the longest length at an offset of 3
  uint64_t x = 88172645463325252ull;
  for (char& c : data) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x);
  }
  for (size_t len : {0, 1, 24, 124, 240, 241, 255, 256, 1023, 1024, 1025, 4120, 65536, 69999}) {
    CAPTURE(len);
    CHECK(checksum(data.data(), len) == XXH3_64bits(data.data(), len));
    CHECK(checksum(data.data() + 3, len) == XXH3_64bits(data.data() + 3, len));  // unaligned
  }
}

#include "pipeproc/types.h"

TEST_CASE("IdFormatterCarriesAcrossDigits") {
  pipeproc::IdFormatter f;
  std::string out;
  for (uint64_t s = 7; s <= 101; ++s) {
    out.clear();
    f.append(out, {1000, s});
    CHECK(out == "1000-" + std::to_string(s));
  }
  out.clear();
  f.append(out, {1001, 5});  // a new timestamp, a jump in sequence
  CHECK(out == "1001-5");
  out.clear();
  f.append(out, {1001, 999});
  f.append(out, {1001, 1000});
  CHECK(out == "1001-9991001-1000");
  // Counted up in a register up to 8 digits, converted from the 9th on.
  for (uint64_t s = 99999990; s <= 100000010; ++s) {
    out.clear();
    f.append(out, {1002, s});
    CHECK(out == "1002-" + std::to_string(s));
  }
  out.clear();
  f.append(out, {1002, 0});  // back to one digit
  f.append(out, {1002, 1});
  CHECK(out == "1002-01002-1");
  out.clear();
  f.append(out, {1003, 2});  // the next sequence under a new timestamp
  f.append(out, {1003, 3});
  CHECK(out == "1003-21003-3");
  out.clear();
  f.append(out, {1003, 3});  // the same sequence again is not counted up
  CHECK(out == "1003-3");
}

TEST_CASE("IdFormatterAppendLinesWritesEveryIdOnItsOwnLine") {
  std::vector<pipeproc::LogId> ids;
  for (uint64_t s = 0; s < 3000; ++s) ids.push_back({1700000000000 + s / 1000, s * 7});  // > 16 KiB of text
  pipeproc::IdFormatter f;
  std::string out = "x\n";
  f.append_lines(out, ids);
  std::string want = "x\n";
  for (const auto& id : ids) want += std::to_string(id.ts) + "-" + std::to_string(id.seq) + "\n";
  CHECK(out == want);
}

TEST_CASE("AnEmptyBodyIsEncodedWithoutReadingItsPointer") {
  // string_view{} has a null pointer: memcpy from it, even of 0 bytes, is undefined
  // (UBSan stops the sanitizer build on it).
  char buf[kRecordHeaderSize];
  size_t n = encode_record(buf, 1, 2, std::string_view{});
  CHECK(n == kRecordHeaderSize);
  RecordView r;
  REQUIRE(decode_record(std::string_view(buf, n), &r, 1 << 20) == DecodeResult::ok);
  CHECK(r.body.empty());
  CHECK(r.seq == 1);
  CHECK(r.ts == 2);
}

TEST_CASE("TruncatedTrailingRecordIsTruncatedNotCorrupt") {
  std::string buf;
  append_record(buf, 1, 2, R"({"a":1})");
  RecordView r;
  for (size_t n = 0; n < buf.size(); ++n) CHECK(decode_record(std::string_view(buf).substr(0, n), &r, 1 << 20) == DecodeResult::truncated);
}

TEST_CASE("ChecksumMismatchIsCorrupt") {
  std::string buf;
  append_record(buf, 1, 2, R"({"a":1})");
  for (size_t i = 0; i < buf.size(); ++i) {
    if (i >= 8 && i < 12) continue;  // a bad length reads as truncated or as too large
    std::string bad = buf;
    bad[i] ^= 0x10;
    RecordView r;
    CHECK_MESSAGE(decode_record(bad, &r, 1 << 20) == DecodeResult::corrupt, "byte ", i);
  }
}

TEST_CASE("OversizedLengthIsCorrupt") {
  std::string buf;
  append_record(buf, 1, 2, std::string(100, 'x'));
  RecordView r;
  CHECK(decode_record(buf, &r, 50) == DecodeResult::corrupt);
}
