// pp-spawn: start the node for the store and return once it is ready (prints its pid).
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>

#include "common.h"
#include "pipeproc/node.h"

using namespace pipeproc;

namespace {
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }
}  // namespace

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  NodeOptions opts;
  bool memory = false, foreground = false;
  long long min_prune = 30000, interval = 30000;
  std::string tcp, socket_addr, log_file, tls_key, tls_cert, tls_ca;
  CLI::App app("Start the node for the store: it runs the systemProcs (pp-systemproc) on its\n"
               "worker slots and, with --gc, the GC timer. Returns once it is ready and prints\n"
               "its pid; --foreground stays attached (SIGTERM/SIGINT: graceful shutdown).");
  pptool::setup(app, argv[0], store_args);
  app.add_flag("--memory", memory, "keep the store in memory (needs the socket server: not in this build)");
  app.add_option("--workers", opts.workers, "worker processes for systemProcs (default 1, 0: none)");
  app.add_option("--worker-concurrency", opts.worker_concurrency, "processors at once per worker (default 1)");
  app.add_option("--worker-restart-after", opts.worker_restart_after, "restart a stream processor after N claims");
  app.add_flag("--gc", opts.gc, "run the GC timer");
  app.add_option("--gc-min-prune-time", min_prune, "GC min prune time in ms (default 30000)");
  app.add_option("--gc-interval", interval, "ms between collections (default 30000)");
  auto* tcp_opt = app.add_option("--tcp", tcp, "serve clients on HOST:PORT (not in this build)");
  auto* sock_opt = app.add_option("--socket", socket_addr, "serve clients on ADDR (not in this build)");
  tcp_opt->excludes(sock_opt);
  app.add_flag("--foreground", foreground, "stay attached; SIGTERM/SIGINT shut down gracefully");
  app.add_option("--log", log_file, "append the node's log lines to FILE");
  pptool::parse(app, argc, argv);
  if (opts.workers < 0 || opts.worker_concurrency < 1) pptool::usage_error("--workers >= 0, --worker-concurrency >= 1");
  if (min_prune < 0 || interval < 1) pptool::usage_error("--gc-min-prune-time >= 0, --gc-interval >= 1");
  if (!store_args.tls_key.empty() && tcp.empty()) pptool::usage_error("TLS options need --tcp HOST:PORT");
  if (!tcp.empty() || !socket_addr.empty() || memory)
    pptool::usage_error("this build's node serves no clients (--tcp, --socket, --memory): the socket server is not built yet");
  opts.gc_min_prune_time = static_cast<uint64_t>(min_prune);
  opts.gc_interval = static_cast<uint64_t>(interval);

  auto store = pptool::open_store(store_args, Store::Mode::write);
  const std::string dir = store->dir();
  store.reset();
  auto lock = acquire_node_lock(dir);
  if (!lock.ok()) pptool::fail(lock.status());

  int ready[2] = {-1, -1};
  if (!foreground) {
    if (::pipe(ready) != 0) pptool::fail(errno_status(errno, "pipe"));
    pid_t pid = ::fork();
    if (pid < 0) pptool::fail(errno_status(errno, "fork"));
    if (pid > 0) {
      // The parent returns once the node says it is ready.
      ::close(ready[1]);
      char buf[32] = {};
      ssize_t n = ::read(ready[0], buf, sizeof buf - 1);
      if (n <= 0) pptool::fail(Status(Code::io_error, "the node did not start (see --log)"));
      std::printf("%ld\n", static_cast<long>(pid));
      return 0;
    }
    ::close(ready[0]);
    ::setsid();
    int nul = ::open("/dev/null", O_RDWR);
    ::dup2(nul, 0);
    ::dup2(nul, 1);
    if (log_file.empty()) ::dup2(nul, 2);
  }
  FILE* logf = nullptr;
  if (!log_file.empty()) {
    logf = std::fopen(log_file.c_str(), "a");
    if (!logf) pptool::fail(errno_status(errno, "open " + log_file));
    if (!foreground) ::dup2(fileno(logf), 2);
  }
  std::mutex log_mu;
  auto log = [&](const std::string& line) {
    std::lock_guard lk(log_mu);
    FILE* f = logf ? logf : stderr;
    std::fprintf(f, "%llu pp-spawn[%ld]: %s\n", static_cast<unsigned long long>(now_ms()), static_cast<long>(::getpid()),
                 line.c_str());
    std::fflush(f);
  };
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  pptool::check(write_node_pid(dir, ::getpid()));
  log("node ready for " + dir);
  if (foreground) {
    std::printf("%ld\n", static_cast<long>(::getpid()));
    std::fflush(stdout);
  } else {
    (void)!::write(ready[1], "ready\n", 6);
    ::close(ready[1]);
  }
  Status st = run_node(dir, opts, g_stop, log);
  ::unlink((dir + "/node.pid").c_str());
  log("node stopped");
  if (!st.ok()) pptool::fail(st);
  return 0;
}
