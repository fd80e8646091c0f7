// pp-wait: return once the named procs (default: every active proc) have caught up — no
// open claim and nothing left in their topics for them — or exit 124 at the timeout.
#include "common.h"
#include "pipeproc/proc.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  std::vector<std::string> names;
  long long timeout = -1;
  CLI::App app("Wait until procs have caught up: no open claim, nothing left to claim.\n"
               "Without NAME: every active proc. Exit 124 when --timeout runs out.");
  pptool::setup(app, argv[0], store_args);
  app.add_option("NAME", names, "procs to wait for");
  app.add_option("--timeout", timeout, "give up after MS (exit 124)");
  pptool::parse(app, argc, argv);
  if (timeout < -1) pptool::usage_error("--timeout takes MS >= 0");
  for (auto& n : names) pptool::check(check_name(n, "proc"));
  auto store = pptool::open_store(store_args, Store::Mode::read);
  const uint64_t deadline = timeout >= 0 ? now_ms() + static_cast<uint64_t>(timeout) : 0;
  for (;;) {
    uint32_t seen = store->change_counter();
    bool done = true;
    if (store->exists()) {
      auto procs = proc_list(*store);
      if (!procs.ok()) pptool::fail(procs.status());
      for (const std::string& n : names) {
        bool found = false;
        for (auto& p : *procs) found = found || p.name == n;
        if (!found) pptool::fail(Status(Code::invalid_proc, "no proc named '" + n + "'"));
      }
      for (const ProcState& p : *procs) {
        bool wanted = names.empty() ? !p.disabled : std::find(names.begin(), names.end(), p.name) != names.end();
        if (wanted && !proc_caught_up(*store, p)) done = false;
      }
    } else if (!names.empty()) {
      pptool::fail(Status(Code::invalid_proc, "no proc named '" + names.front() + "'"));
    }
    if (done) return 0;
    uint64_t now = now_ms();
    if (deadline && now >= deadline) pptool::fail(Status(Code::timeout, "procs did not catch up within " + std::to_string(timeout) + " ms"));
    store->wait_change(seen, deadline ? static_cast<int>(deadline - now) : 1000);
  }
}
