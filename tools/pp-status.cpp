// pp-status: the node (or that none runs), the topics and the procs of a store.
#include "common.h"
#include "pipeproc/node.h"
#include "pipeproc/proc.h"
#include "pipeproc/systemproc.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  bool json = false;
  CLI::App app("Show the store's node (or that no node runs), its topics and its procs.");
  pptool::setup(app, argv[0], store_args);
  app.add_flag("--json", json, "one JSON object");
  pptool::parse(app, argc, argv);
  auto store = pptool::open_store(store_args, Store::Mode::read);
  long pid = 0;
  bool running = node_running(store->dir(), &pid);
  auto topics = store->topics();
  auto procs = proc_list(*store);
  if (!procs.ok()) pptool::fail(procs.status());
  auto sps = systemproc_list(*store);
  if (!sps.ok()) pptool::fail(sps.status());
  pptool::Output out;
  if (json) {
    std::string o = "{\"store\":" + pptool::json_quote(store->dir()) + ",\"node\":{\"running\":" + (running ? "true" : "false") +
                    ",\"pid\":" + std::to_string(running ? pid : 0) + "},\"topics\":[";
    for (size_t i = 0; i < topics.size(); ++i)
      o += std::string(i ? "," : "") + "{\"name\":\"" + topics[i].name + "\",\"length\":" +
           std::to_string(topics[i].end - topics[i].start) + ",\"start\":" + std::to_string(topics[i].start) +
           ",\"end\":" + std::to_string(topics[i].end) + ",\"lastTimestamp\":" + std::to_string(topics[i].last_ts) + "}";
    o += "],\"procs\":[";
    for (size_t i = 0; i < procs->size(); ++i) o += (i ? "," : "") + proc_json((*procs)[i], proc_lag(*store, (*procs)[i]));
    o += "],\"systemProcs\":[";
    for (size_t i = 0; i < sps->size(); ++i) o += (i ? "," : "") + systemproc_json((*sps)[i]);
    o += "]}\n";
    out.put(o);
    return 0;
  }
  out.put("store: " + store->dir() + "\n");
  out.put(running ? "node: running (pid " + std::to_string(pid) + ")\n" : std::string("node: no node runs\n"));
  out.put("topics: " + std::to_string(topics.size()) + "\n");
  for (auto& t : topics) out.put("  " + t.name + "  " + std::to_string(t.end - t.start) + " logs\n");
  out.put("procs: " + std::to_string(procs->size()) + "\n");
  for (auto& p : *procs)
    out.put("  " + p.name + "  " + p.topic + "  " + (p.disabled ? "disabled" : "active") + "  lag " +
            std::to_string(proc_lag(*store, p)) + (p.open_claim() ? "  claimed " + range_text(p.claimed) : "") + "\n");
  out.put("systemProcs: " + std::to_string(sps->size()) + "\n");
  for (auto& s : *sps) out.put("  " + s.name + "  " + (s.stream ? "stream: " : "exec: ") + s.cmd + "\n");
  return 0;
}
