// Fuzzes the record codec (format::decode_record / append_record, docs/format.md).
// Properties: a record decoded is exactly what append_record writes for its fields; every
// proper prefix of a good record is `truncated`, never `corrupt` (a torn tail); whatever
// the bytes, decoding stays inside the buffer; append then decode gives the fields back.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "record.h"

using namespace pipeproc::format;

namespace {

size_t pick_max_body(uint8_t b) {
  switch (b & 3) {
    case 0:
      return 0;
    case 1:
      return 64;
    case 2:
      return 1u << 20;
    default:
      return kDefaultMaxBody;
  }
}

// Decodes every record of buf in turn, checking each one.
void decode_all(std::string_view buf, size_t max_body) {
  size_t at = 0;
  while (at <= buf.size()) {
    std::string_view rest = buf.substr(at);
    RecordView r;
    DecodeResult d = decode_record(rest, &r, max_body);
    if (d == DecodeResult::truncated) {
      // Only a buffer shorter than the header or than the length it declares is short.
      FUZZ_CHECK(rest.size() < kRecordHeaderSize || rest.size() < kRecordHeaderSize + get_u32(rest.data() + 8),
                 "truncated with %zu bytes for a record of %zu", rest.size(),
                 rest.size() < 12 ? size_t{0} : kRecordHeaderSize + get_u32(rest.data() + 8));
      return;
    }
    if (d == DecodeResult::corrupt) return;
    FUZZ_CHECK(r.size == kRecordHeaderSize + r.body.size() && r.size <= rest.size(), "size %zu of %zu", r.size,
               rest.size());
    FUZZ_CHECK(r.body.data() == rest.data() + kRecordHeaderSize, "body does not follow the header");
    FUZZ_CHECK(r.body.size() <= max_body, "body of %zu over max_body %zu", r.body.size(), max_body);
    // Canonical: the encoder writes exactly these bytes for these fields.
    std::string again;
    append_record(again, r.seq, r.ts, r.body);
    FUZZ_CHECK(again == rest.substr(0, r.size), "re-encoding differs (seq %llu)",
               static_cast<unsigned long long>(r.seq));
    // A torn tail: every cut inside the record reads as truncated.
    for (size_t cut = 0; cut < r.size; cut += (r.size > 256 ? 7 : 1)) {
      RecordView t;
      DecodeResult dt = decode_record(rest.substr(0, cut), &t, max_body);
      FUZZ_CHECK(dt == DecodeResult::truncated, "prefix of %zu of a %zu-byte record is %s", cut, r.size,
                 dt == DecodeResult::ok ? "ok" : "corrupt");
    }
    at += r.size;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  // Arbitrary bytes, read in place (libFuzzer's buffer is exactly `size` long, so ASan
  // sees any read past it), under each max_body.
  for (uint8_t m = 0; m < 4; ++m) decode_all(in, pick_max_body(m));

  // Round trip: fields taken from the input, appended after a prefix.
  fuzzutil::Bytes b{data, size};
  uint8_t prefix = b.u8() % 40;
  uint64_t seq = b.u64(), ts = b.u64();
  std::string_view body = b.rest();
  std::string buf(prefix, 'x');
  append_record(buf, seq, ts, body);
  append_record(buf, seq + 1, ts, body.substr(0, body.size() / 2));
  std::string_view recs = std::string_view(buf).substr(prefix);
  RecordView r;
  FUZZ_CHECK(decode_record(recs, &r, body.size()) == DecodeResult::ok, "fresh record does not decode");
  FUZZ_CHECK(r.seq == seq && r.ts == ts && r.body == body && r.size == kRecordHeaderSize + body.size(),
             "round trip changed the record");
  RecordView r2;
  FUZZ_CHECK(decode_record(recs.substr(r.size), &r2, body.size()) == DecodeResult::ok, "second record");
  FUZZ_CHECK(r2.seq == seq + 1 && r2.ts == ts && r2.body == body.substr(0, body.size() / 2), "second round trip");
  if (!body.empty()) {
    // One byte less of max_body than the body: refused as corrupt (too large), not truncated.
    FUZZ_CHECK(decode_record(recs, &r, body.size() - 1) == DecodeResult::corrupt, "body over max_body accepted");
    // Any single flipped bit outside the length field is caught by the checksum or kind.
    std::string bad(recs.substr(0, r.size));
    size_t at = (seq ^ ts) % bad.size();
    if (at < 8 || at >= 12) {
      bad[at] = static_cast<char>(bad[at] ^ (1 << (ts % 8)));
      FUZZ_CHECK(decode_record(bad, &r, kDefaultMaxBody) == DecodeResult::corrupt, "flipped byte %zu accepted", at);
    }
  }
  decode_all(recs, kDefaultMaxBody);
  return 0;
}
