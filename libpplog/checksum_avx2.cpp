// XXH3 over long inputs with AVX2, for record.cpp to call where the CPU has it (it checks).
// Built with -mavx2 (libpplog/CMakeLists.txt), on x86-64 only; nothing else in the
// library is, so no AVX2 instruction runs on a CPU without it. Thread-safe, pure.
#define XXH_INLINE_ALL
#define XXH_VECTOR XXH_AVX2
#include <xxhash.h>

#include <cstddef>
#include <cstdint>

namespace pipeproc::format {

uint64_t checksum_avx2(const void* data, size_t len) { return XXH3_64bits(data, len); }

uint64_t checksum2_avx2(const void* a, size_t na, const void* b, size_t nb) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  XXH3_64bits_update(&state, a, na);
  XXH3_64bits_update(&state, b, nb);
  return XXH3_64bits_digest(&state);
}

}  // namespace pipeproc::format
