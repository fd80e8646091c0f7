// pp-check: verify a store (checksums, ordering, indexes, the journal); --repair fixes what
// can be fixed without dropping a valid committed log.
#include <unistd.h>

#include "common.h"

using namespace pipeproc;


int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  bool repair = false, cut = false, json = false;
  CLI::App app("Verify every record, index and the journal of a store.\n"
               "Exit 0 when clean, 74 with a report when not.");
  pptool::setup(app, argv[0], store_args);
  app.add_flag("--repair", repair, "cut torn tails and rebuild indexes (never drops a valid log)");
  app.add_flag("--cut", cut, "with --repair: cut a topic at a damaged record; the valid logs after it go to lost+found/");
  app.add_flag("--json", json, "print one JSON report object");
  pptool::parse(app, argc, argv);
  auto store = pptool::open_store(store_args, Store::Mode::read);
  std::vector<std::string> found;
  pptool::Progress progress("records", json);
  auto problems = store->check(
      repair, cut, [&](std::string_view p) { found.emplace_back(p); },
      [&](uint64_t n, uint64_t b) { progress.update(n, b); });
  progress.done();
  if (!problems.ok()) pptool::fail(problems.status());
  size_t left = *problems;
  std::vector<std::string> after;
  if (repair && *problems > 0) {
    auto again = store->check(false, false, [&](std::string_view p) { after.emplace_back(p); });
    if (!again.ok()) pptool::fail(again.status());
    left = *again;
  }
  pptool::Output out;
  if (json) {
    std::string o = "{\"store\":" + pptool::json_quote(store->dir()) + ",\"clean\":" + (left == 0 ? "true" : "false") +
                    ",\"repaired\":" + (repair && *problems > 0 ? "true" : "false") + ",\"problems\":[";
    for (size_t i = 0; i < found.size(); ++i) o += (i ? "," : "") + pptool::json_quote(found[i]);
    o += "],\"remaining\":[";
    for (size_t i = 0; i < after.size(); ++i) o += (i ? "," : "") + pptool::json_quote(after[i]);
    o += "]}\n";
    out.put(o);
  } else {
    for (auto& p : found) out.put(p + "\n");
    if (repair && *problems > 0) {
      out.put(left == 0 ? "repaired: the store is clean\n" : "not repaired:\n");
      for (auto& p : after) out.put(p + "\n");
    }
    if (found.empty()) out.put("clean\n");
  }
  out.flush();
  return left == 0 ? 0 : 74;
}
