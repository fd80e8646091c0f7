// Embedding pipeproc: commit, read a range, claim and ack in-process through the C++ API.
// usage: embed STORE_DIR
#include <pipeproc/proc.h>
#include <pipeproc/range.h>
#include <pipeproc/store.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace pipeproc;

static int fail(const Status& st) {
  std::fprintf(stderr, "embed: %s: %s\n", std::string(code_name(st.code())).c_str(), st.message().c_str());
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed STORE_DIR\n");
    return 2;
  }
  auto opened = Store::open(argv[1], Store::Mode::write);
  if (!opened.ok()) return fail(opened.status());
  Store& store = **opened;

  // Commit three logs atomically (durably: sync = true).
  std::vector<Entry> batch = {{"numbers", "1"}, {"numbers", "2"}, {"numbers", "3"}};
  std::vector<LogId> ids;
  if (Status st = store.commit(batch, true, &ids); !st.ok()) return fail(st);
  std::printf("committed %s..%s\n", format_id(ids.front()).c_str(), format_id(ids.back()).c_str());

  // Read sequences 1..2.
  auto reader = store.reader("numbers");
  if (!reader.ok()) return fail(reader.status());
  RangeSpec spec;
  spec.start = *parse_bound(":1");
  spec.end = *parse_bound(":2");
  auto range = resolve_range(**reader, spec);
  if (!range.ok()) return fail(range.status());
  Status scanned = (*reader)->scan(range->from, range->to, [](const LogView& v) {
    std::printf("range %s %.*s\n", format_id(v.id).c_str(), static_cast<int>(v.body.size()), v.body.data());
    return true;
  });
  if (!scanned.ok()) return fail(scanned);

  // A proc: claim a log and square it; then ack it, commit the square and claim the next
  // log, all in one commit (durably: sync = true).
  auto first = proc_claim(store, "numbers", "squares", ProcOptions{});
  if (!first.ok()) return fail(first.status());
  ClaimResult claim = std::move(first).value();
  while (!claim.logs.empty()) {
    long n = std::stol(claim.logs[0].body);
    std::string out = std::to_string(n * n);
    Entry result{"squares", out};
    auto step = proc_ack_claim(store, "numbers", "squares", ProcOptions{}, {&result, 1}, true);
    if (!step.ok()) return fail(step.status());
    std::printf("acked %s -> %s\n", ack_text(step->acked).c_str(), out.c_str());
    claim = std::move(step->next);
  }
  auto squares = store.reader("squares");
  if (!squares.ok()) return fail(squares.status());
  std::printf("squares holds %llu logs\n", static_cast<unsigned long long>((*squares)->end() - (*squares)->start()));
  return 0;
}
