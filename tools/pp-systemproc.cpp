// pp-systemproc: register, list and remove systemProcs (processors the node runs).
#include "common.h"
#include "pipeproc/systemproc.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  SystemProc sp;
  std::string exec_cmd, stream_cmd, on_max = "disable", name;
  int64_t count = 1;
  CLI::App app("Register processors that the node (pp-spawn) runs: each claim of their procs is\n"
               "fed to CMD and its results committed to the target topics with the ack.");
  pptool::setup(app, argv[0], store_args);
  app.require_subcommand(1);
  auto* add = app.add_subcommand("add", "register a systemProc (and create its procs)");
  add->fallthrough();
  add->add_option("NAME", sp.name, "systemProc name")->required();
  add->add_option("--from", sp.from, "topics to claim from (one proc per topic)")->required()->expected(1, -1);
  add->add_option("--to", sp.to, "topics the results are committed to")->expected(1, -1);
  auto* ex = add->add_option("--exec", exec_cmd, "run `sh -c CMD` once per claim");
  auto* st = add->add_option("--stream", stream_cmd, "run CMD once per worker slot, one line in and out per claim");
  ex->excludes(st);
  add->add_option("-o,--offset", sp.opts.offset, "where its procs start (default >)");
  add->add_option("-c,--count", count, "logs per claim (default 1)");
  add->add_option("--max-reclaims", sp.opts.max_reclaims, "default 10, -1: no limit");
  add->add_option("--reclaim-timeout", sp.opts.reclaim_timeout, "ms, default 10000, -1: never");
  add->add_option("--on-max-reclaims", on_max, "disable (default) or continue")
      ->check(CLI::IsMember({"disable", "continue"}));
  auto* list = app.add_subcommand("list", "every systemProc");
  list->fallthrough();
  auto* remove = app.add_subcommand("remove", "remove a systemProc and its procs");
  remove->fallthrough();
  remove->add_option("NAME", name, "systemProc name")->required();
  pptool::parse(app, argc, argv);

  pptool::Output out;
  if (add->parsed()) {
    if (exec_cmd.empty() && stream_cmd.empty()) pptool::usage_error("add needs --exec CMD or --stream CMD");
    sp.stream = !stream_cmd.empty();
    sp.cmd = sp.stream ? stream_cmd : exec_cmd;
    sp.opts.count = count;
    sp.opts.on_max = on_max == "continue" ? OnMaxReclaims::cont : OnMaxReclaims::disable;
    auto store = pptool::open_store(store_args, Store::Mode::write);
    auto r = systemproc_add(*store, sp);
    if (!r.ok()) pptool::fail(r.status());
    out.put(systemproc_json(*r) + "\n");
    return 0;
  }
  auto store = pptool::open_store(store_args, Store::Mode::read);
  if (list->parsed()) {
    auto r = systemproc_list(*store);
    if (!r.ok()) pptool::fail(r.status());
    for (auto& s : *r) out.put(systemproc_json(s) + "\n");
    return 0;
  }
  auto r = systemproc_remove(*store, name);
  if (!r.ok()) pptool::fail(r.status());
  out.put(systemproc_json(*r) + "\n");
  return 0;
}
