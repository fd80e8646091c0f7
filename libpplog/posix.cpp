// POSIX helpers; see posix.h.
#include "posix.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace pipeproc::posix {

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) reset(o.release());
  return *this;
}
Fd::~Fd() { reset(); }
void Fd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Result<Fd> open_file(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return errno_status(errno, "open " + path);
  return Fd(fd);
}

Status pwritev_all(int fd, std::vector<struct iovec>& iov, uint64_t off, const std::string& path) {
  size_t i = 0;
  while (i < iov.size()) {
    int count = static_cast<int>(std::min<size_t>(iov.size() - i, IOV_MAX));
    ssize_t n = ::pwritev(fd, iov.data() + i, count, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, "write " + path);
    }
    if (n == 0) return errno_status(ENOSPC, "write " + path);
    off += static_cast<uint64_t>(n);
    auto left = static_cast<size_t>(n);
    while (i < iov.size() && left >= iov[i].iov_len) left -= iov[i++].iov_len;
    if (left > 0) {  // a short write ended inside this piece
      iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
      iov[i].iov_len -= left;
    }
  }
  return {};
}

Status pwrite_all(int fd, const void* buf, size_t len, uint64_t off, const std::string& path) {
  auto p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = ::pwrite(fd, p, len, static_cast<off_t>(off));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, "write " + path);
    }
    if (n == 0) return errno_status(ENOSPC, "write " + path);
    p += n;
    len -= static_cast<size_t>(n);
    off += static_cast<uint64_t>(n);
  }
  return {};
}

Result<size_t> pread_full(int fd, void* buf, size_t len, uint64_t off, const std::string& path) {
  auto p = static_cast<char*>(buf);
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::pread(fd, p + done, len - done, static_cast<off_t>(off + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, "read " + path);
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

Result<uint64_t> file_size(int fd, const std::string& path) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) return errno_status(errno, "stat " + path);
  return static_cast<uint64_t>(st.st_size);
}

Status truncate_file(int fd, uint64_t size, const std::string& path) {
  if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return errno_status(errno, "truncate " + path);
  return {};
}

void (*sync_observer)(const std::string& path) = nullptr;

Status sync_data(int fd, const std::string& path) {
  if (sync_observer) sync_observer(path);
  if (::fdatasync(fd) != 0) return errno_status(errno, "fsync " + path);
  return {};
}

Status sync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status(errno, "open " + dir);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errno_status(err, "fsync " + dir);
  return {};
}

Status make_dirs(const std::string& dir) {
  if (dir.empty()) return {};
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = dir.find('/', pos + 1);
    cur = dir.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) return errno_status(errno, "mkdir " + cur);
  }
  return {};
}

bool exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::vector<std::string>> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return errno_status(errno, "open " + dir);
  }
  while (dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n == "." || n == "..") continue;
    out.emplace_back(n);
  }
  ::closedir(d);
  return out;
}

}  // namespace pipeproc::posix
