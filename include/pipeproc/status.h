// Status: the result of every fallible library call. Libraries never print or exit;
// tools map a Status to an error line and an exit code (see tools/common.cpp).
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace pipeproc {

// The stable error words of CONTRACT.md. The word printed is code_name(code).
enum class Code {
  ok = 0,
  invalid_name,          // usage (exit 2)
  usage,                 // usage (exit 2)
  invalid_topic,         // refused (exit 1)
  invalid_range_offset,  // refused (exit 1)
  sequence_not_found,    // refused (exit 1)
  invalid_proc,
  proc_is_disabled,
  proc_name_not_unique,
  nothing_to_reclaim,
  nothing_to_ack,
  proc_already_disabled,
  proc_already_active,
  store_full,            // refused (exit 1): control block capacity reached
  node_already_running,  // refused (exit 1)
  invalid_json,          // bad input data (exit 65)
  record_too_large,      // bad input data (exit 65)
  invalid_envelope,      // bad input data (exit 65)
  connection_failed,     // exit 69
  node_not_running,      // exit 69
  io_error,              // exit 74
  corrupt_record,        // exit 74
  no_space,              // exit 74 (disk full)
  timeout,               // exit 124
};

std::string_view code_name(Code c) noexcept;
int code_exit(Code c) noexcept;

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return {}; }
  bool ok() const noexcept { return code_ == Code::ok; }
  explicit operator bool() const noexcept { return ok(); }
  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }

 private:
  Code code_ = Code::ok;
  std::string message_;
};

// errno → Status: ENOSPC/EDQUOT/EFBIG become no_space, everything else io_error.
Status errno_status(int err, std::string_view what);

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  bool ok() const noexcept { return status_.ok(); }
  const Status& status() const noexcept { return status_; }
  T& value() & { return value_; }
  T&& value() && { return std::move(value_); }
  const T& value() const& { return value_; }
  T* operator->() { return &value_; }
  T& operator*() { return value_; }

 private:
  Status status_;
  T value_{};
};

#define PP_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::pipeproc::Status pp_st_ = (expr);      \
    if (!pp_st_.ok()) return pp_st_;         \
  } while (0)

}  // namespace pipeproc
