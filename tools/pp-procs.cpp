// pp-procs: list, inspect, destroy, disable and resume procs. Each prints proc state as one
// JSON object per line (CONTRACT.md "Output").
#include "common.h"
#include "pipeproc/proc.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  std::string name, topic;
  CLI::App app("Manage procs; each command prints proc state as JSON lines.");
  pptool::setup(app, argv[0], store_args);
  app.require_subcommand(1);
  auto* list = app.add_subcommand("list", "every proc (with -t: those of one topic), with its lag");
  list->add_option("-t,--topic", topic, "only the procs of this topic");
  auto* inspect = app.add_subcommand("inspect", "one proc's state");
  auto* destroy = app.add_subcommand("destroy", "remove a proc (prints its last state)");
  auto* disable = app.add_subcommand("disable", "stop a proc from claiming (it may still ack)");
  auto* resume = app.add_subcommand("resume", "let a disabled proc claim again (zeroes its reclaims)");
  for (auto* sc : {list, inspect, destroy, disable, resume}) sc->fallthrough();  // store options anywhere
  for (auto* sc : {inspect, destroy, disable, resume}) sc->add_option("NAME", name, "proc name")->required();
  pptool::parse(app, argc, argv);

  pptool::Output out;
  if (list->parsed()) {
    if (!topic.empty()) pptool::check(check_name(topic));
    auto store = pptool::open_store(store_args, Store::Mode::read);
    auto procs = proc_list(*store, topic);
    if (!procs.ok()) pptool::fail(procs.status());
    for (const ProcState& p : *procs) out.put(proc_json(p, proc_lag(*store, p)) + "\n");
    return 0;
  }
  pptool::check(check_name(name, "proc"));
  auto store = pptool::open_store(store_args, Store::Mode::read);
  if (!store->exists()) pptool::fail(Status(Code::invalid_proc, "no proc named '" + name + "'"));
  Result<ProcState> r = inspect->parsed()   ? proc_inspect(*store, name)
                        : destroy->parsed() ? proc_destroy(*store, name)
                        : disable->parsed() ? proc_disable(*store, name)
                                            : proc_resume(*store, name);
  if (!r.ok()) pptool::fail(r.status());
  out.put(proc_json(*r, proc_lag(*store, *r)) + "\n");
  return 0;
}
