// Wake latency of a sleeping `pp-proc --wait 0`: how long after a commit from another
// process the waiting claimer prints the new log.
//
// usage: wake_latency STORE_DIR PP_PROC N [SETTLE_MS]
//
// Per round: forks/execs `PP_PROC w -n w --wait 0 --format id -L STORE_DIR` with stdout on
// a pipe, lets it settle SETTLE_MS (default 30) so that it is asleep in the store's change
// wait (checked: /proc/PID/stat state S; it waits longer, and counts the round as "late",
// if not), then takes t0, commits one log to topic w through the library
// (Store::commit, sync=false), reads the pipe until the id line arrives, t1. The line
// must be the committed id. Then acks through the library (proc_ack) and reaps the child
// (exit status 0 required). One warm-up round (creating the topic and the proc) is not
// counted.
//
// Prints one line of key=value pairs (times in microseconds):
//   wake_latency n=N median_us= p90_us= min_us= max_us= mean_us= commit_median_us=
//                commit_p90_us= commit_max_us= late=K wchan=NAME
// wchan is where the first counted child slept (from /proc/PID/wchan), for the record.
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "pipeproc/proc.h"
#include "pipeproc/store.h"

using namespace pipeproc;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "wake_latency: %s\n", msg.c_str());
  std::exit(1);
}

struct Child {
  pid_t pid = -1;
  int out = -1;  // read end of its stdout
};

Child spawn(const std::string& pp_proc, const std::string& dir) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) die(std::string("pipe2: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0) die(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::dup2(fds[1], 1);  // dup2 clears FD_CLOEXEC on the new descriptor
    const char* argv[] = {pp_proc.c_str(), "w",   "-n",       "w",  "--wait", "0",
                          "--format",      "id", "-L", dir.c_str(), nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    std::fprintf(stderr, "wake_latency: exec %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(fds[1]);
  return Child{pid, fds[0]};
}

// The state letter of /proc/PID/stat (after the ")" that ends the command name).
char proc_state(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto p = s.rfind(')');
  if (p == std::string::npos || p + 2 >= s.size()) return '?';
  return s[p + 2];
}

std::string proc_wchan(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/wchan");
  std::string s;
  std::getline(f, s);
  return s.empty() ? "?" : s;
}

// Reads until a newline; returns the line without it ("" with eof set on EOF).
std::string read_line(int fd, bool& eof) {
  std::string line;
  char buf[256];
  eof = false;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(std::string("read: ") + std::strerror(errno));
    if (n == 0) {
      eof = true;
      return line;
    }
    line.append(buf, static_cast<size_t>(n));
    auto nl = line.find('\n');
    if (nl != std::string::npos) return line.substr(0, nl);
  }
}

void reap(Child& c) {
  ::close(c.out);
  int st = 0;
  while (::waitpid(c.pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("pp-proc exited with status " + std::to_string(st));
}

double pct(std::vector<double> v, double p) {  // nearest-rank percentile
  std::sort(v.begin(), v.end());
  size_t k = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  if (k < 1) k = 1;
  if (k > v.size()) k = v.size();
  return v[k - 1];
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: wake_latency STORE_DIR PP_PROC N [SETTLE_MS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const std::string pp_proc = argv[2];
  const int rounds = std::atoi(argv[3]);
  const int settle_ms = argc > 4 ? std::atoi(argv[4]) : 30;
  if (rounds < 1 || settle_ms < 0) die("bad N or SETTLE_MS");
  ::signal(SIGPIPE, SIG_IGN);

  auto s = Store::open(dir, Store::Mode::write);
  if (!s.ok()) die("cannot open the store " + dir);
  Store& store = **s;

  std::vector<double> lat_us, commit_us;
  int late = 0;
  std::string wchan = "?";
  for (int r = -1; r < rounds; ++r) {  // r == -1: warm-up
    std::string body = "{\"round\":" + std::to_string(r) + "}";
    Entry e{"w", body};
    std::vector<LogId> ids;
    Child c;
    if (r < 0) {
      // Warm-up: the topic exists and holds a log before the first pp-proc starts, so it
      // claims at once; this creates the proc and warms the page cache for the binary.
      if (!store.commit({&e, 1}, false, &ids).ok()) die("commit failed");
      c = spawn(pp_proc, dir);
    } else {
      c = spawn(pp_proc, dir);
      std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
      bool was_late = false;
      for (int i = 0; proc_state(c.pid) != 'S'; ++i) {
        if (i >= 400) die("pp-proc did not go to sleep within 2 s");
        was_late = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (was_late) ++late;
      if (r == 0) wchan = proc_wchan(c.pid);
      auto t0 = Clock::now();
      if (!store.commit({&e, 1}, false, &ids).ok()) die("commit failed");
      auto tc = Clock::now();
      bool eof = false;
      std::string line = read_line(c.out, eof);
      auto t1 = Clock::now();
      if (eof) die("pp-proc closed its output without printing an id");
      if (line != format_id(ids[0])) die("pp-proc printed '" + line + "', expected " + format_id(ids[0]));
      lat_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      commit_us.push_back(std::chrono::duration<double, std::micro>(tc - t0).count());
    }
    if (r < 0) {
      bool eof = false;
      std::string line = read_line(c.out, eof);
      if (line != format_id(ids[0])) die("warm-up: pp-proc printed '" + line + "', expected " + format_id(ids[0]));
    }
    reap(c);
    auto a = proc_ack(store, "w");
    if (!a.ok()) die("proc_ack failed");
    if (!(a->first == ids[0] && a->last == ids[0])) die("proc_ack acked another range");
  }
  double sum = 0;
  for (double v : lat_us) sum += v;
  std::printf(
      "wake_latency n=%d median_us=%.1f p90_us=%.1f min_us=%.1f max_us=%.1f mean_us=%.1f "
      "commit_median_us=%.1f commit_p90_us=%.1f commit_max_us=%.1f late=%d wchan=%s\n",
      rounds, median(lat_us), pct(lat_us, 90), *std::min_element(lat_us.begin(), lat_us.end()),
      *std::max_element(lat_us.begin(), lat_us.end()), sum / static_cast<double>(lat_us.size()), median(commit_us),
      pct(commit_us, 90), *std::max_element(commit_us.begin(), commit_us.end()), late, wchan.c_str());
  return 0;
}
