// In-process claim+ack cycles per second through the library API (COUNT 1).
// usage: claim_ack STORE_DIR N [--one-commit]
//   default       proc_claim then proc_ack: two commits per cycle
//   --one-commit  proc_ack_claim: each ack and the next claim in one commit
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "pipeproc/proc.h"
#include "pipeproc/store.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  if (argc < 3 || (argc > 3 && std::string(argv[3]) != "--one-commit")) {
    std::fprintf(stderr, "usage: claim_ack STORE_DIR N [--one-commit]\n");
    return 2;
  }
  const bool one_commit = argc > 3;
  const std::string dir = argv[1];
  const size_t n = std::strtoull(argv[2], nullptr, 10);
  auto s = Store::open(dir, Store::Mode::write);
  if (!s.ok()) return 1;
  Store& store = **s;
  std::vector<std::string> bodies(n);
  std::vector<Entry> entries;
  for (size_t i = 0; i < n; ++i) {
    bodies[i] = "{\"i\":" + std::to_string(i) + "}";
    entries.push_back(Entry{"bench", bodies[i]});
  }
  if (!store.commit(entries, false, nullptr).ok()) return 1;
  ProcOptions opts;
  auto t0 = std::chrono::steady_clock::now();
  size_t done = 0;
  if (one_commit) {
    auto c = proc_claim(store, "bench", "p", opts);
    bool more = c.ok() && !c->logs.empty();
    while (more) {
      auto r = proc_ack_claim(store, "bench", "p", opts);
      if (!r.ok()) return 1;
      ++done;
      more = !r->next.logs.empty();
    }
  } else {
    for (;;) {
      auto c = proc_claim(store, "bench", "p", opts);
      if (!c.ok() || c->logs.empty()) break;
      if (!proc_ack(store, "p").ok()) return 1;
      ++done;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%zu claim+ack cycles in %.3f s: %.0f/s\n", done, secs, done / secs);
  return done == n ? 0 : 1;
}
