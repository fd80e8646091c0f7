// The node: one process per store, holding the store's node lock (STORE/node.lock, a
// flock the kernel releases when the node dies). It runs the systemProcs on worker slots
// and the GC timer. The pp-* tools never need it except for what only it does.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "pipeproc/status.h"

namespace pipeproc {

struct NodeOptions {
  int workers = 1;               // 0: run no systemProcs
  int worker_concurrency = 1;    // processors at once per worker
  int64_t worker_restart_after = 0;  // --stream processors restart after N claims (0: never)
  bool gc = false;
  uint64_t gc_min_prune_time = 30000;
  uint64_t gc_interval = 30000;
};

// Takes the node lock (node_already_running if another node holds it); returns the fd.
Result<int> acquire_node_lock(const std::string& store_dir);
// Whether a node runs for the store, and its pid (from STORE/node.pid).
bool node_running(const std::string& store_dir, long* pid);
// Records the running node's pid (after the lock is held).
Status write_node_pid(const std::string& store_dir, long pid);

// Runs the node until stop becomes true. log receives one line per event worth noting.
Status run_node(const std::string& store_dir, const NodeOptions& opts, const std::atomic<bool>& stop,
                const std::function<void(const std::string&)>& log);

}  // namespace pipeproc
