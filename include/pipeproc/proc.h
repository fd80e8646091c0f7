// Procs: named consumers of a topic that claim logs, ack them (optionally committing
// results in the same commit), and reclaim them on failure. Every state change is one
// commit of the store, so it is as atomic and durable as the logs themselves.
//
// All calls take the store's writer lock: any number of processes may drive one proc, and
// no two ever get the same claim.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeproc/status.h"
#include "pipeproc/store.h"
#include "pipeproc/types.h"

namespace pipeproc {

// A claimed (or acked) set of consecutive logs of the proc's topic.
struct LogRange {
  LogId first, last;
  friend bool operator==(const LogRange&, const LogRange&) = default;
};
// "first..last" (state fields); "" for none.
std::string range_text(const std::optional<LogRange>& r);
// What pp-ack prints: the id for one log, "first..last" for several.
std::string ack_text(const LogRange& r);

enum class OnMaxReclaims : uint8_t { disable = 0, cont = 1, dead_letter = 2 };  // stored: never renumber

struct ProcState {
  std::string name;
  std::string topic;
  bool disabled = false;
  std::string offset = ">";      // where a fresh proc starts (">", "$>", a range bound)
  uint64_t start_seq = 0;        // "$>": the topic's end when the proc was created
  uint64_t created_at = 0;       // ms
  uint64_t last_claimed_at = 0;  // ms, 0: never
  uint64_t last_acked_at = 0;    // ms, 0: never
  std::optional<LogRange> claimed;   // the last claim (acked or not)
  std::optional<LogRange> previous;  // the claim before it: what a reclaim returns to
  std::optional<LogRange> acked;     // the last acked claim; claimed != acked: a claim is open
  int64_t reclaims = 0;              // reclaims of the open claim (zeroed by ack and resume)
  int64_t max_reclaims = 10;         // -1: no limit
  int64_t reclaim_timeout = 10000;   // ms before an open claim is reclaimed; -1: never
  OnMaxReclaims on_max = OnMaxReclaims::disable;
  std::string dead_letter;           // with OnMaxReclaims::dead_letter
  int64_t count = 1;                 // logs per claim

  bool open_claim() const { return claimed && claimed != acked; }
};

std::string encode_proc(const ProcState& p);
Result<ProcState> decode_proc(std::string_view bytes);

// Settings for a proc's first use; later calls may change only count.
struct ProcOptions {
  std::string offset = ">";
  std::optional<int64_t> count;
  int64_t max_reclaims = 10;
  int64_t reclaim_timeout = 10000;
  OnMaxReclaims on_max = OnMaxReclaims::disable;
  std::string dead_letter;  // default NAME.dead with dead_letter
  bool must_exist = false;  // refuse (invalid_proc) instead of creating the proc
};

// Checks settings: usage errors for a count below 1, negative limits other than -1, a bad offset.
Status check_proc_settings(const ProcOptions& o);

struct ClaimedLog {
  LogId id;
  std::string body;
};

struct ClaimResult {
  std::vector<ClaimedLog> logs;  // empty: nothing to claim now
  // When an open claim blocks this proc: the time (ms) its reclaim timeout runs out, or 0.
  uint64_t blocked_until = 0;
};

// The seed's proc(): creates the proc on first use, then claims up to COUNT logs.
Result<ClaimResult> proc_claim(Store& store, std::string_view topic, std::string_view name, const ProcOptions& opts);
// ack: returns the acked range.
Result<LogRange> proc_ack(Store& store, std::string_view name);
// ackCommit: acks and commits entries in one commit; ids receives the committed ids.
Result<LogRange> proc_ack_commit(Store& store, std::string_view name, std::span<const Entry> entries, bool sync,
                                 std::vector<LogId>* ids);
// An ack (or ackCommit, with entries) and the next claim in ONE commit: a consumer loop
// pays one commit per claim instead of two. The claim follows proc_claim's rules; a proc
// that is disabled keeps the ack and claims nothing. The proc must read TOPIC.
struct AckClaimResult {
  LogRange acked;
  ClaimResult next;
};
Result<AckClaimResult> proc_ack_claim(Store& store, std::string_view topic, std::string_view name,
                                      const ProcOptions& opts, std::span<const Entry> entries = {},
                                      bool sync = false, std::vector<LogId>* ids = nullptr);
// reclaim: returns the state after the reset.
Result<ProcState> proc_reclaim(Store& store, std::string_view name);

Result<ProcState> proc_inspect(Store& store, std::string_view name);
Result<ProcState> proc_disable(Store& store, std::string_view name);
Result<ProcState> proc_resume(Store& store, std::string_view name);
Result<ProcState> proc_destroy(Store& store, std::string_view name);
// Every proc, or those of one topic.
Result<std::vector<ProcState>> proc_list(Store& store, std::string_view topic = {});

// Logs of the topic the proc has not acked yet (0 if the topic does not exist).
uint64_t proc_lag(Store& store, const ProcState& p);
// Caught up: no open claim and nothing left to claim.
bool proc_caught_up(Store& store, const ProcState& p);

// One JSON object with the seed's fields, then lag and deadLetter.
std::string proc_json(const ProcState& p, uint64_t lag);

}  // namespace pipeproc
