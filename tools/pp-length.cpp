// pp-length: how many logs a topic holds now (collected logs not counted).
#include <string>

#include "common.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  std::string topic;
  CLI::App app("Print how many logs TOPIC holds.");
  pptool::setup(app, argv[0], store_args);
  app.add_option("TOPIC", topic, "topic to count")->required();
  pptool::parse(app, argc, argv);
  pptool::check(check_name(topic));
  auto store = pptool::open_store(store_args, Store::Mode::read);
  auto rd = store->reader(topic);
  if (!rd.ok()) pptool::fail(rd.status());
  pptool::Output out;
  out.put(std::to_string((*rd)->end() - (*rd)->start()));
  out.put('\n');
  return 0;
}
