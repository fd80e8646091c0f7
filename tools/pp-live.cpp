// pp-live: a liveProc in this process — follows a topic, printing each new log as a JSON
// line and acking it once written; with --exec, runs a processor per claim instead.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "common.h"
#include "pipeproc/processor.h"
#include "pipeproc/proc.h"

using namespace pipeproc;

namespace {
volatile sig_atomic_t g_stop = 0;
Store* g_store = nullptr;
std::string g_anonymous;  // a proc to remove on exit (no -n)

void on_signal(int) { g_stop = 1; }
void cleanup() {
  if (g_store && !g_anonymous.empty()) (void)proc_destroy(*g_store, g_anonymous);
}
}  // namespace

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  std::string topic, mode = "live", exec_cmd, name, format = "log";
  std::vector<std::string> to;
  int64_t count = 1;
  CLI::App app("Follow TOPIC as a liveProc: print each new log as a JSON line and ack it once\n"
               "written; with --exec, run CMD per claim as pp-systemproc --exec does. Without -n\n"
               "the proc is removed when pp-live exits; with -n it is kept, and resumed next time.");
  pptool::setup(app, argv[0], store_args);
  app.add_option("TOPIC", topic, "topic to follow")->required();
  app.add_option("--mode", mode, "live (default): logs committed from now on; all: from the start")
      ->check(CLI::IsMember({"live", "all"}));
  app.add_option("-c,--count", count, "logs per claim (default 1)");
  app.add_option("--exec", exec_cmd, "run `sh -c CMD` per claim: logs on stdin, result bodies on stdout");
  app.add_option("--to", to, "with --exec: topics the results are committed to")->expected(1, -1);
  app.add_option("-n,--name", name, "keep the proc under this name (resumed by a later pp-live)");
  pptool::add_format_option(app, format);
  pptool::parse(app, argc, argv);
  if (!to.empty() && exec_cmd.empty()) pptool::usage_error("--to goes with --exec");
  if (count < 1) pptool::usage_error("--count takes N >= 1");
  pptool::check(check_name(topic));
  for (auto& t : to) pptool::check(check_name(t));
  if (!name.empty()) pptool::check(check_name(name, "proc"));

  auto store = pptool::open_store(store_args, Store::Mode::write);
  g_store = store.get();
  if (name.empty()) {
    name = "pp-live." + std::to_string(::getpid()) + "." + std::to_string(now_ms());
    g_anonymous = name;
  }
  struct sigaction sa{};
  sa.sa_handler = on_signal;  // no SA_RESTART: a waiting futex returns at once
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  pptool::on_broken_pipe(cleanup);

  ProcOptions opts;
  opts.offset = mode == "all" ? ">" : "$>";
  opts.count = count;
  std::vector<std::pair<std::string, std::string>> env = {{"PIPEPROC_PROC", name}, {"PIPEPROC_TOPIC", topic},
                                                          {"PIPEPROC_LOCATION", store->dir()}};
  pptool::Output out;
  IdFormatter ids;
  pptool::Format fmt = pptool::parse_format(format);
  int rc = 0;
  std::optional<ClaimResult> next;  // claimed together with the last ack
  while (!g_stop) {
    uint32_t seen = store->change_counter();
    Result<ClaimResult> claim = next ? Result<ClaimResult>(std::move(*next)) : proc_claim(*store, topic, name, opts);
    next.reset();
    if (!claim.ok()) {
      cleanup();
      pptool::fail(claim.status());
    }
    if (claim->logs.empty()) {
      int wait = 1000;
      if (claim->blocked_until) {
        uint64_t now = now_ms();
        wait = claim->blocked_until > now ? static_cast<int>(std::min<uint64_t>(claim->blocked_until - now + 1, 1000)) : 0;
      }
      store->wait_change(seen, wait);
      // Like tail -f: a reader that went away ends pp-live even while no logs come.
      pollfd p{1, 0, 0};
      if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP))) break;
      continue;
    }
    if (exec_cmd.empty()) {
      for (const ClaimedLog& l : claim->logs) pptool::print_log(out, ids, fmt, l.id, l.body);
      out.flush();
      // The ack and the next claim share one commit.
      auto acked = proc_ack_claim(*store, topic, name, opts);
      if (acked.ok()) {
        if (!acked->next.logs.empty() || acked->next.blocked_until) next = std::move(acked->next);
      } else if (acked.status().code() != Code::nothing_to_ack) {
        cleanup();
        pptool::fail(acked.status());
      }
      continue;
    }
    auto proc = proc_inspect(*store, name);
    if (!proc.ok()) pptool::fail(proc.status());
    std::string why;
    auto done = process_claim(*store, *proc, claim->logs, exec_cmd, to, env, &why);
    if (!done.ok()) {
      cleanup();
      pptool::fail(done.status());
    }
    if (!*done) {
      std::string line = pptool::tool_name() + ": claim " + range_text(proc->claimed) + " reclaimed: " + why + "\n";
      (void)!::write(2, line.data(), line.size());
    }
  }
  out.flush();
  cleanup();
  return rc;
}
