// pp-gc: run one collection (cron-friendly), as the node's GC does (CONTRACT.md).
#include "common.h"
#include "pipeproc/gc.h"

using namespace pipeproc;

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
  auto res = gc_collect(*store, opts, [&](uint64_t n, uint64_t b) { progress.update(n, b); });
  progress.done();
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
