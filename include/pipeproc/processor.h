// Running a processor: `sh -c CMD` fed the claimed logs as JSON lines on stdin; its stdout
// holds result bodies as JSON lines. Used by pp-live --exec (and the node's systemProcs).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pipeproc/proc.h"
#include "pipeproc/status.h"

namespace pipeproc {

struct ExecResult {
  int exit_code = -1;      // -1: killed by a signal or by the timeout
  bool timed_out = false;
  std::string out;         // everything it wrote on stdout
  std::string err_tail;    // the last few hundred bytes of stderr, for messages
};

// Starts `sh -c cmd` in a process group of its own with extra environment entries; its
// stdin and stdout become in_fd and out_fd, its stderr err_fd (-1: this process's). The
// child only calls async-signal-safe functions, so the caller may have threads.
Result<pid_t> spawn_shell(const std::string& cmd, const std::vector<std::pair<std::string, std::string>>& env,
                          int in_fd, int out_fd, int err_fd);

// Runs `sh -c cmd` with input on stdin and extra environment entries; kills it (and its
// process group) after timeout_ms (-1: no limit).
Result<ExecResult> run_exec(const std::string& cmd, const std::string& input,
                            const std::vector<std::pair<std::string, std::string>>& env, int64_t timeout_ms);

// The JSON lines a processor gets for a claim: one {"id":..,"body":..} per log.
std::string claim_input(const std::vector<ClaimedLog>& logs);

// Runs a processor on one claim and settles it: its output bodies (each validated as JSON)
// are committed to every `to` topic atomically with the ack; a non-zero exit, output that
// is not JSON, or running past the proc's reclaim timeout reclaims the claim instead.
// Returns the acked range (nullopt when reclaimed) and in *why what went wrong.
Result<std::optional<LogRange>> process_claim(Store& store, const ProcState& proc, const std::vector<ClaimedLog>& logs,
                                              const std::string& cmd, const std::vector<std::string>& to,
                                              const std::vector<std::pair<std::string, std::string>>& env,
                                              std::string* why);

}  // namespace pipeproc
