// Thin POSIX file helpers: every failure becomes a Status naming the path.
// Thread-safe as the system calls they wrap.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pipeproc/status.h"

namespace pipeproc::posix {

// An owned file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  int release() noexcept {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

Result<Fd> open_file(const std::string& path, int flags, mode_t mode = 0644);
Status pwrite_all(int fd, const void* buf, size_t len, uint64_t off, const std::string& path);
// Writes the pieces one after the other from off (any number of them; iov is consumed).
Status pwritev_all(int fd, std::vector<struct iovec>& iov, uint64_t off, const std::string& path);
// Reads up to len bytes; returns how many were read (short only at end of file).
Result<size_t> pread_full(int fd, void* buf, size_t len, uint64_t off, const std::string& path);
Result<uint64_t> file_size(int fd, const std::string& path);
Status truncate_file(int fd, uint64_t size, const std::string& path);
Status sync_data(int fd, const std::string& path);
// Tests only: called with the path of every file sync_data flushes (nullptr: none).
extern void (*sync_observer)(const std::string& path);
Status sync_dir(const std::string& dir);
Status make_dirs(const std::string& dir);
bool exists(const std::string& path);
// Names in a directory (no "." and ".."); a missing directory is an empty list.
Result<std::vector<std::string>> list_dir(const std::string& dir);

// Test hook: PIPEPROC_FAULT_FSIZE-like faults come from RLIMIT in tests; nothing here.

}  // namespace pipeproc::posix
