// Code words and exit codes: the one table behind CONTRACT.md's "Exit codes".
#include "pipeproc/status.h"

#include <cerrno>
#include <cstring>

namespace pipeproc {

namespace {
struct CodeInfo {
  std::string_view name;
  int exit;
};
constexpr CodeInfo kCodes[] = {
    {"ok", 0},
    {"invalid_name", 2},
    {"usage", 2},
    {"invalid_topic", 1},
    {"invalid_range_offset", 1},
    {"sequence_not_found", 1},
    {"invalid_proc", 1},
    {"proc_is_disabled", 1},
    {"proc_name_not_unique", 1},
    {"nothing_to_reclaim", 1},
    {"nothing_to_ack", 1},
    {"proc_already_disabled", 1},
    {"proc_already_active", 1},
    {"store_full", 1},
    {"node_already_running", 1},
    {"invalid_json", 65},
    {"record_too_large", 65},
    {"invalid_envelope", 65},
    {"connection_failed", 69},
    {"node_not_running", 69},
    {"io_error", 74},
    {"corrupt_record", 74},
    {"no_space", 74},
    {"timeout", 124},
};
static_assert(sizeof(kCodes) / sizeof(kCodes[0]) == static_cast<size_t>(Code::timeout) + 1);
}  // namespace

std::string_view code_name(Code c) noexcept { return kCodes[static_cast<size_t>(c)].name; }
int code_exit(Code c) noexcept { return kCodes[static_cast<size_t>(c)].exit; }

Status errno_status(int err, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) return {Code::no_space, std::move(msg)};
  return {Code::io_error, std::move(msg)};
}

}  // namespace pipeproc
