// SystemProcs: processors registered in the store and run by the node. Registering one
// creates its procs (one per --from topic: NAME, or NAME__TOPIC with several) in the same
// commit, so they can be added, listed and removed without a node.
#pragma once

#include <string>
#include <vector>

#include "pipeproc/proc.h"
#include "pipeproc/status.h"
#include "pipeproc/store.h"

namespace pipeproc {

struct SystemProc {
  std::string name;
  std::vector<std::string> from;   // topics
  std::vector<std::string> to;     // topics the results go to
  bool stream = false;             // --stream (long-running) instead of --exec (per claim)
  std::string cmd;
  ProcOptions opts;                // settings of its procs
  std::vector<std::string> procs;  // the proc names, one per from topic
};

// The proc name for a topic of a systemProc.
std::string systemproc_proc_name(const SystemProc& sp, const std::string& topic);

// add: a no-op if it exists with the same topics; proc_name_not_unique if the name (or
// one of its procs) is taken for another topic. Returns the registered systemProc.
Result<SystemProc> systemproc_add(Store& store, SystemProc sp);
Result<std::vector<SystemProc>> systemproc_list(Store& store);
// remove: the systemProc and its procs; invalid_proc if there is none.
Result<SystemProc> systemproc_remove(Store& store, const std::string& name);

std::string systemproc_json(const SystemProc& sp);

}  // namespace pipeproc
