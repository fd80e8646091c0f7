// pp-shutdown: stop the store's node gracefully; returns when it has stopped.
#include <signal.h>
#include <unistd.h>

#include "common.h"
#include "pipeproc/node.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  long long timeout = 30000;
  CLI::App app("Stop the store's node gracefully (it finishes its claims in flight) and return\n"
               "once it has stopped. No node: node_not_running (exit 69).");
  pptool::setup(app, argv[0], store_args);
  app.add_option("--timeout", timeout, "give up after MS (exit 124; default 30000)");
  pptool::parse(app, argc, argv);
  const std::string dir = pptool::store_dir(store_args);
  (void)pptool::open_store(store_args, Store::Mode::read);
  long pid = 0;
  if (!node_running(dir, &pid) || pid <= 0) pptool::fail(Status(Code::node_not_running, "no node runs for " + dir));
  if (::kill(static_cast<pid_t>(pid), SIGTERM) != 0) pptool::fail(errno_status(errno, "signal the node"));
  const uint64_t deadline = now_ms() + static_cast<uint64_t>(std::max(0LL, timeout));
  while (node_running(dir, nullptr)) {
    if (now_ms() >= deadline) pptool::fail(Status(Code::timeout, "the node did not stop within " + std::to_string(timeout) + " ms"));
    ::usleep(10000);
  }
  return 0;
}
