// pp-proc: claim logs of a topic for a proc, creating the proc on first use (CONTRACT.md).
#include <algorithm>

#include "common.h"
#include "pipeproc/proc.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  std::string topic, name, format = "log", on_max = "disable";
  ProcOptions opts;
  int64_t count = 1;
  long long wait_ms = -1;
  CLI::App app("Claim up to COUNT logs of TOPIC for the proc NAME (created on first use).\n"
               "Prints nothing when there is nothing to claim, or while the last claim is neither\n"
               "acked (pp-ack) nor reclaimed (pp-reclaim).");
  pptool::setup(app, argv[0], store_args);
  app.add_option("TOPIC", topic, "topic to claim from")->required();
  app.add_option("-n,--name", name, "proc name")->required();
  app.add_option("-o,--offset", opts.offset, "where a new proc starts: > (default, the start), $> (new logs), an id, TS or :N");
  auto* count_opt = app.add_option("-c,--count", count, "logs per claim (default 1)");
  app.add_option("--max-reclaims", opts.max_reclaims, "reclaims before --on-max-reclaims applies (default 10, -1: no limit)");
  app.add_option("--reclaim-timeout", opts.reclaim_timeout, "ms before an open claim is reclaimed (default 10000, -1: never)");
  app.add_option("--on-max-reclaims", on_max, "disable (default), continue or dead-letter")
      ->check(CLI::IsMember({"disable", "continue", "dead-letter"}));
  app.add_option("--dead-letter", opts.dead_letter, "dead-letter topic (default NAME.dead)");
  app.add_option("-w,--wait", wait_ms, "wait up to MS for something to claim (0: forever); exit 124 if nothing came");
  pptool::add_format_option(app, format);
  pptool::parse(app, argc, argv);
  if (count_opt->count() > 0) opts.count = count;
  opts.on_max = on_max == "continue" ? OnMaxReclaims::cont
                : on_max == "dead-letter" ? OnMaxReclaims::dead_letter
                                          : OnMaxReclaims::disable;
  if (!opts.dead_letter.empty() && opts.on_max != OnMaxReclaims::dead_letter)
    pptool::usage_error("--dead-letter goes with --on-max-reclaims dead-letter");
  if (wait_ms < -1) pptool::usage_error("--wait takes MS >= 0");
  pptool::check(check_name(topic));
  pptool::check(check_name(name, "proc"));

  auto store = pptool::open_store(store_args, Store::Mode::write);
  const uint64_t deadline = wait_ms > 0 ? now_ms() + static_cast<uint64_t>(wait_ms) : 0;
  ClaimResult got;
  for (;;) {
    uint32_t seen = store->change_counter();
    auto r = proc_claim(*store, topic, name, opts);
    if (!r.ok()) pptool::fail(r.status());
    got = std::move(*r);
    if (!got.logs.empty() || wait_ms < 0) break;
    // Sleep until a commit changes the store or the open claim's timeout runs out.
    uint64_t now = now_ms();
    if (deadline && now >= deadline)
      pptool::fail(Status(Code::timeout, "nothing to claim for proc '" + name + "' within " + std::to_string(wait_ms) + " ms"));
    int64_t sleep = -1;
    if (deadline) sleep = static_cast<int64_t>(deadline - now);
    if (got.blocked_until) {
      int64_t until = got.blocked_until > now ? static_cast<int64_t>(got.blocked_until - now) : 0;
      sleep = sleep < 0 ? until + 1 : std::min(sleep, until + 1);
    }
    store->wait_change(seen, static_cast<int>(std::min<int64_t>(sleep, INT32_MAX)));
  }
  pptool::Output out;
  IdFormatter ids;
  pptool::Format fmt = pptool::parse_format(format);
  for (const ClaimedLog& l : got.logs) pptool::print_log(out, ids, fmt, l.id, l.body);
  return 0;
}
