// The collector: one collection over every topic, as `pp-gc` and the node's GC timer run it.
//
// In a topic without active procs, logs older than min_prune_time go. In a topic with
// active procs, the logs before the earliest of their procs' previous claims go (a proc
// with no previous claim keeps the whole topic), once older than min_prune_time. A topic's
// new start is one commit; whole segments behind it are deleted afterwards (a crash in
// between leaves them to the next collection). Readers keep reading what they opened.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pipeproc/status.h"
#include "pipeproc/store.h"

namespace pipeproc {

struct GcOptions {
  uint64_t min_prune_time = 30000;  // ms
  bool dry_run = false;             // compute and report, change nothing
  // Unset: the deleted files' space is back before gc_collect returns. Set: each file is
  // opened before it is unlinked and its descriptor appended here, so the space (and the
  // kernel's work of dropping the file's cached pages, which for a large collection is
  // most of its time) comes back when the caller closes them: pp-gc hands them to a
  // detached process. The files are gone from the directory either way.
  std::vector<int>* release_later = nullptr;
};

struct GcTopicResult {
  std::string topic;
  uint64_t collected = 0;   // logs that went (or would go)
  std::string first;        // id of the first log kept, "" if none is left
  uint64_t bytes_freed = 0; // bytes of segment and index files deleted (or that would be)
};

// progress (optional) is told the topics done and bytes freed so far.
Result<std::vector<GcTopicResult>> gc_collect(Store& store, const GcOptions& opts,
                                              const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

}  // namespace pipeproc
