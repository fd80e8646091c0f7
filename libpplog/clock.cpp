// The wall clock, with a fixed value for tests (PIPEPROC_NOW_MS).
#include <chrono>
#include <cstdlib>

#include "pipeproc/types.h"

namespace pipeproc {

uint64_t now_ms() {
  const char* fixed = std::getenv("PIPEPROC_NOW_MS");
  if (fixed && *fixed) return std::strtoull(fixed, nullptr, 10);
  using namespace std::chrono;
  return static_cast<uint64_t>(duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace pipeproc
