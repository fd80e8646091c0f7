// Fuzzes the index entry and file header codecs (format::decode_index_entry,
// decode_file_header). Properties: an index entry that decodes re-encodes to the same 32
// bytes; a header that decodes holds its magic, version and value; encoded values decode
// back; a header is valid for one kind only; each decoder reads only its 32 bytes.
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz_util.h"
#include "record.h"

using namespace pipeproc::format;

namespace {

struct Kind {
  uint64_t magic;
  uint32_t version;
};
constexpr Kind kKinds[] = {
    {kSegmentMagic, kSegmentVersion}, {kIndexMagic, kIndexVersion}, {kJournalMagic, kJournalVersion}};

// One 32-byte block in its own heap allocation, so that ASan sees a read past it.
void check_block(const uint8_t* p) {
  std::unique_ptr<char[]> in(new char[32]);
  std::memcpy(in.get(), p, 32);

  if (auto e = decode_index_entry(in.get())) {
    char out[32];
    encode_index_entry(out, *e);
    FUZZ_CHECK(std::memcmp(out, in.get(), 32) == 0, "index entry does not re-encode to its bytes");
  }
  for (const Kind& k : kKinds) {
    if (auto v = decode_file_header(in.get(), k.magic, k.version)) {
      // The fields come back. (Bytes 12-15 are "zero" in docs/format.md but not checked by
      // the decoder, so the re-encoding is compared field by field, not byte for byte.)
      FUZZ_CHECK(get_u64(in.get()) == k.magic && get_u32(in.get() + 8) == k.version && get_u64(in.get() + 16) == *v,
                 "file header fields differ from the value decoded");
      // A header is valid for one kind only.
      for (const Kind& other : kKinds)
        if (other.magic != k.magic)
          FUZZ_CHECK(!decode_file_header(in.get(), other.magic, other.version), "header valid for two kinds");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Every 32-byte window (as an index file is read: header, then entries; and unaligned).
  for (size_t at = 0; at + 32 <= size; at += (at < 64 ? 1 : 32)) check_block(data + at);

  // Round trip of values from the input.
  fuzzutil::Bytes b{data, size};
  IndexEntry e{b.u64(), b.u64(), b.u64()};
  char buf[32];
  encode_index_entry(buf, e);
  auto d = decode_index_entry(buf);
  FUZZ_CHECK(d && d->seq == e.seq && d->ts == e.ts && d->offset == e.offset, "index entry round trip");
  uint64_t value = b.u64();
  for (const Kind& k : kKinds) {
    encode_file_header(buf, k.magic, k.version, value);
    auto v = decode_file_header(buf, k.magic, k.version);
    FUZZ_CHECK(v && *v == value, "file header round trip");
    FUZZ_CHECK(!decode_file_header(buf, k.magic, k.version + 1), "header accepted for another version");
    // Flipping any one bit of the header makes it invalid (the reserved word included).
    uint8_t bit = b.u8();
    buf[(bit >> 3) % 32] = static_cast<char>(buf[(bit >> 3) % 32] ^ (1 << (bit & 7)));
    FUZZ_CHECK(!decode_file_header(buf, k.magic, k.version), "header with bit %u flipped accepted", bit);
  }
  return 0;
}
