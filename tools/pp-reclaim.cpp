// pp-reclaim: give a proc's open claim back, so the same logs are claimed again.
#include "common.h"
#include "pipeproc/proc.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  std::string name;
  CLI::App app("Reset proc NAME to its previous claim, so the same logs are claimed again.\n"
               "Prints the proc's lastClaimedRange after the reset (an empty line if none).\n"
               "Counts toward the proc's max reclaims.");
  pptool::setup(app, argv[0], store_args);
  app.add_option("NAME", name, "proc name")->required();
  pptool::parse(app, argc, argv);
  pptool::check(check_name(name, "proc"));
  auto store = pptool::open_store(store_args, Store::Mode::read);
  if (!store->exists()) pptool::fail(Status(Code::invalid_proc, "no proc named '" + name + "'"));
  auto r = proc_reclaim(*store, name);
  if (!r.ok()) pptool::fail(r.status());
  pptool::Output out;
  out.put(range_text(r->claimed) + "\n");
  return 0;
}
