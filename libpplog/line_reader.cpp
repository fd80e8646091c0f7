// LineReader (jsonl.h): a stream cut into batches of whole lines. Needs no JSON library, so
// that the tools linked without simdjson can read lines too. One reader per stream.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "pipeproc/jsonl.h"

namespace pipeproc {

namespace {
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
}  // namespace

LineReader::LineReader(int fd, size_t max_line, size_t window) : fd_(fd), max_line_(max_line), window_(window) {
  buf_.resize(window_ + kLinePadding);
}
LineReader::~LineReader() = default;

Status LineReader::fill(bool block) {
  if (begin_ > 0) {  // keep the partial line at the front
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ + kLinePadding + 1 > buf_.size()) {
    size_t cap = std::max(buf_.size() * 2, window_ + kLinePadding);
    buf_.resize(cap);
  }
  for (;;) {
    if (!block) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP))) return {};
    }
    ssize_t n = ::read(fd_, buf_.data() + end_, buf_.size() - kLinePadding - end_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_status(errno, "read input");
    }
    if (n == 0) eof_ = true;
    end_ += static_cast<size_t>(n);
    bytes_read_ += static_cast<uint64_t>(n);
    return {};
  }
}

void LineReader::swap_buffer(std::vector<char>& spare) {
  size_t tail = end_ - begin_;
  if (spare.size() < std::max(buf_.size(), tail + kLinePadding + 1)) spare.resize(std::max(buf_.size(), tail + kLinePadding + 1));
  std::memcpy(spare.data(), buf_.data() + begin_, tail);
  std::swap(buf_, spare);
  begin_ = 0;
  end_ = tail;
}

bool LineReader::ready() {
  if (eof_ || !pending_.ok()) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

Result<bool> LineReader::next(std::vector<Line>& lines) {
  lines.clear();
  if (!pending_.ok()) return pending_;
  // Read until a newline arrives (or the input ends), then take whatever more is ready
  // without waiting, up to the window.
  bool got_any = false;
  for (;;) {
    if (eof_) break;
    bool have_newline = std::memchr(buf_.data() + begin_, '\n', end_ - begin_) != nullptr;
    if (have_newline && (end_ - begin_ >= window_)) break;
    if (!have_newline && end_ - begin_ > max_line_ + 4096) {
      pending_ = Status(Code::record_too_large, "line " + std::to_string(line_no_ + 1) + ": longer than " +
                                                    std::to_string(max_line_) + " bytes");
      return pending_;
    }
    size_t before = end_;
    PP_RETURN_IF_ERROR(fill(!have_newline));
    if (end_ == before && !eof_) break;  // nothing more ready now
    got_any = true;
  }
  (void)got_any;
  // Cut the buffer into lines.
  size_t pos = begin_;
  while (pos < end_) {
    const char* nl = static_cast<const char*>(std::memchr(buf_.data() + pos, '\n', end_ - pos));
    size_t stop;
    if (nl) {
      stop = static_cast<size_t>(nl - buf_.data());
    } else if (eof_) {
      stop = end_;
    } else {
      break;
    }
    ++line_no_;
    size_t a = pos, b = stop;
    while (a < b && is_blank(buf_[a])) ++a;
    while (b > a && is_blank(buf_[b - 1])) --b;
    if (b - a > max_line_) {
      pending_ = Status(Code::record_too_large, "line " + std::to_string(line_no_) + ": body of " +
                                                    std::to_string(b - a) + " bytes is over the limit of " +
                                                    std::to_string(max_line_));
      begin_ = end_;
      return !lines.empty() ? Result<bool>(true) : Result<bool>(pending_);
    }
    if (b > a) lines.push_back(Line{std::string_view(buf_.data() + a, b - a), line_no_});
    pos = nl ? stop + 1 : stop;
  }
  begin_ = pos;
  if (lines.empty() && eof_ && begin_ >= end_) return false;
  return true;
}

}  // namespace pipeproc
