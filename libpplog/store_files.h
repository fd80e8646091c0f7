// The writer's cache of open segment and index files, per topic (private to libpplog).
#pragma once

#include <cstdint>
#include <string>

#include "pipeproc/store.h"
#include "posix.h"

namespace pipeproc {

struct Store::TopicFiles {
  uint64_t seg_base = UINT64_MAX;  // the segment these descriptors belong to
  posix::Fd seg, idx;
  std::string seg_path, idx_path;
};

}  // namespace pipeproc
