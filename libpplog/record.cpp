// Record and header codecs; see record.h and docs/format.md.
#include "record.h"

// The hash inlined from xxhash.h: most records are small, where a call through the shared
// library's PLT costs as much as the hash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#if defined(PIPEPROC_AVX2_HASH)
#include <cpuid.h>
#endif

namespace pipeproc::format {

#if defined(PIPEPROC_AVX2_HASH)
uint64_t checksum_avx2(const void* data, size_t len);  // checksum_avx2.cpp
uint64_t checksum2_avx2(const void* a, size_t na, const void* b, size_t nb);

namespace {
// Past 240 bytes XXH3 runs its vector loop, and AVX2 does it in half the time of the SSE2
// that x86-64 code may assume (a 4 KiB body: a tenth of what a commit's thread spends).
// Asked of the CPU on first use, not at start-up: a one-shot tool never hashes that much.
constexpr size_t kVectorMin = 241;
bool cpu_has_avx2() {
  static const bool has = [] {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX)) return false;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6) return false;  // the OS saves the SSE and AVX registers
    return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX2);
  }();
  return has;
}
}  // namespace
#endif

uint64_t checksum(const void* data, size_t len) {
#if defined(PIPEPROC_AVX2_HASH)
  if (len >= kVectorMin && cpu_has_avx2()) return checksum_avx2(data, len);
#endif
  return XXH3_64bits(data, len);
}

namespace {
// Fills the header of a record whose body_len bytes of body already follow it at out.
void seal_record(char* out, uint64_t seq, uint64_t ts, size_t body_len) {
  // Length and kind in one 8-byte store: the hash then reads them back with one 8-byte
  // load, which two 4-byte stores could not forward.
  put_u64(out + 8, body_len | uint64_t{static_cast<uint32_t>(RecordKind::log)} << 32);
  put_u64(out + 16, seq);
  put_u64(out + 24, ts);
  put_u64(out, checksum(out + 8, kRecordHeaderSize - 8 + body_len));
}
}  // namespace

size_t encode_record(char* out, uint64_t seq, uint64_t ts, std::string_view body) {
  if (!body.empty()) std::memcpy(out + kRecordHeaderSize, body.data(), body.size());
  seal_record(out, seq, ts, body.size());
  return kRecordHeaderSize + body.size();
}

void append_record(std::string& out, uint64_t seq, uint64_t ts, std::string_view body) {
  // Appended, not resized then filled: resize would zero the bytes first.
  char h[kRecordHeaderSize] = {};
  size_t at = out.size();
  out.append(h, sizeof h);
  out.append(body);
  seal_record(out.data() + at, seq, ts, body.size());
}

void encode_record_header(char* out, uint64_t seq, uint64_t ts, std::string_view body) {
  put_u64(out + 8, body.size() | uint64_t{static_cast<uint32_t>(RecordKind::log)} << 32);
  put_u64(out + 16, seq);
  put_u64(out + 24, ts);
  // The same XXH3 as over the contiguous record, fed in two pieces.
#if defined(PIPEPROC_AVX2_HASH)
  if (kRecordHeaderSize - 8 + body.size() >= kVectorMin && cpu_has_avx2()) {
    put_u64(out, checksum2_avx2(out + 8, kRecordHeaderSize - 8, body.data(), body.size()));
    return;
  }
#endif
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, out + 8, kRecordHeaderSize - 8);
  XXH3_64bits_update(&state, body.data(), body.size());
  put_u64(out, XXH3_64bits_digest(&state));
}

void encode_file_header(char out[32], uint64_t magic, uint32_t version, uint64_t value) {
  put_u64(out, magic);
  put_u32(out + 8, version);
  put_u32(out + 12, 0);
  put_u64(out + 16, value);
  put_u64(out + 24, checksum(out, 24));
}

std::optional<uint64_t> decode_file_header(const char in[32], uint64_t magic, uint32_t version) {
  if (get_u64(in) != magic || get_u32(in + 8) != version || get_u32(in + 12) != 0 ||
      get_u64(in + 24) != checksum(in, 24))
    return std::nullopt;
  return get_u64(in + 16);
}

void encode_index_entry(char out[32], const IndexEntry& e) {
  put_u64(out, e.seq);
  put_u64(out + 8, e.ts);
  put_u64(out + 16, e.offset);
  put_u64(out + 24, checksum(out, 24));
}

std::optional<IndexEntry> decode_index_entry(const char in[32]) {
  if (get_u64(in + 24) != checksum(in, 24)) return std::nullopt;
  return IndexEntry{get_u64(in), get_u64(in + 8), get_u64(in + 16)};
}

void seal_journal_record(std::string& buf, uint32_t flags) {
  char* p = buf.data();
  put_u32(p + 8, static_cast<uint32_t>(buf.size() - kJournalRecordHeaderSize));
  put_u32(p + 12, flags);
  put_u64(p, checksum(p + 8, buf.size() - 8));
}

}  // namespace pipeproc::format
