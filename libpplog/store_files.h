// The writer's cache of open segment and index files, per topic (private to libpplog).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pipeproc/store.h"
#include "posix.h"

namespace pipeproc {

// Compares segment bytes that journal records carry (topic_data ops, docs/format.md) with
// the segment files, and with write, writes the journal's copy back where they differ:
// after a power loss they may never have left the page cache, and pp-check finds them
// damaged. Used by recovery and by pp-check.
class CarriedBytes {
 public:
  explicit CarriedBytes(bool write) : write_(write) {}
  // Whether the segment at path holds other bytes at offset than these. A segment that is
  // gone (collected), or that ends before offset (damage the record scan reports, not a
  // hole to write past), is not compared: false.
  Result<bool> differ(const std::string& path, uint64_t offset, std::string_view bytes);
  // Makes what was written back durable.
  Status flush();

 private:
  const bool write_;
  std::string path_;
  posix::Fd fd_;
  std::string buf_;
  bool written_ = false;
};

struct Store::TopicFiles {
  uint64_t seg_base = UINT64_MAX;  // the segment these descriptors belong to
  posix::Fd seg, idx;
  std::string seg_path, idx_path;
};

}  // namespace pipeproc
