// pp-gc: run one collection (cron-friendly), as the node's GC does (CONTRACT.md).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common.h"
#include "pipeproc/gc.h"

using namespace pipeproc;

namespace {
// The collected files are unlinked already; the last close of each gives its space back,
// which costs the kernel time in proportion to the file's cached pages (about 10 ms per
// 64 MiB segment here). A detached child that holds nothing else does the last closes,
// so a cron job or a script is not held up by them; if it cannot start, they happen here.
void release_in_background(std::vector<int>& fds) {
  if (fds.empty()) return;
  // The child closes its copies only after this process has closed its own (the pipe's
  // end of file says so): whoever closes last pays, and that must be the child.
  int go[2];
  const bool piped = ::pipe2(go, O_CLOEXEC) == 0;
  pid_t pid = -1;
  if (piped) {
    std::vector<int> keep = fds;  // what the child keeps open
    keep.push_back(go[0]);
    std::sort(keep.begin(), keep.end());
    pid = ::fork();
    if (pid == 0) {
      // Close everything else first (stdout may be a pipe someone waits on to end).
      unsigned from = 0;
      for (int fd : keep) {
        if (static_cast<unsigned>(fd) > from) ::close_range(from, static_cast<unsigned>(fd) - 1, 0);
        from = static_cast<unsigned>(fd) + 1;
      }
      ::close_range(from, ~0u, 0);
      ::setsid();
      char c;
      while (::read(go[0], &c, 1) < 0 && errno == EINTR) {
      }
      for (int fd : fds) ::close(fd);
      ::_exit(0);
    }
  }
  for (int fd : fds) ::close(fd);
  fds.clear();
  if (piped) {
    ::close(go[0]);
    ::close(go[1]);  // the child may go on now
  }
  if (pid > 0) ::waitpid(pid, nullptr, WNOHANG);  // else init adopts it when this process exits
}
}  // namespace

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  GcOptions opts;
  long long min_prune = 30000;
  bool json = false;
  CLI::App app("Collect old logs: in topics without active procs, logs older than the min prune\n"
               "time; in topics with active procs, the logs before the earliest of their procs'\n"
               "previous claims, once older than the min prune time.");
  pptool::setup(app, argv[0], store_args);
  app.add_option("--min-prune-time", min_prune, "only logs older than MS go (default 30000)");
  app.add_flag("--dry-run", opts.dry_run, "say what would be collected; change nothing");
  app.add_flag("--json", json, "one JSON object per topic");
  pptool::parse(app, argc, argv);
  if (min_prune < 0) pptool::usage_error("--min-prune-time takes MS >= 0");
  opts.min_prune_time = static_cast<uint64_t>(min_prune);
  auto store = pptool::open_store(store_args, Store::Mode::read);
  pptool::Progress progress("topics", json);
  std::vector<int> deleted;
  opts.release_later = &deleted;
  auto res = gc_collect(*store, opts, [&](uint64_t n, uint64_t b) { progress.update(n, b); });
  progress.done();
  release_in_background(deleted);
  if (!res.ok()) pptool::fail(res.status());
  pptool::Output out;
  for (const GcTopicResult& r : *res) {
    if (json) {
      out.put("{\"topic\":\"" + r.topic + "\",\"collected\":" + std::to_string(r.collected) + ",\"first\":\"" +
              r.first + "\",\"bytesFreed\":" + std::to_string(r.bytes_freed) + "}\n");
    } else {
      out.put(r.topic + ": " + (opts.dry_run ? "would collect " : "collected ") + std::to_string(r.collected) +
              " logs, " + (opts.dry_run ? "would free " : "freed ") + std::to_string(r.bytes_freed) + " bytes, " +
              (r.first.empty() ? std::string("none left") : "first kept " + r.first) + "\n");
    }
  }
  return 0;
}
