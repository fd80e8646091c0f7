// pp-range: print a slice of a topic, optionally following it as it grows (CONTRACT.md).
#include "common.h"
#include "pipeproc/range.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  std::string topic, start, end, format = "log";
  long long limit = 0;
  bool exclusive = false, reverse = false, follow = false;
  CLI::App app("Print the logs of TOPIC between two bounds, oldest first.\n"
               "A bound is an id TS-SEQ, a timestamp TS (ms) or a sequence :N.");
  pptool::setup(app, argv[0], store_args);
  app.add_option("TOPIC", topic, "topic to read")->required();
  app.add_option("-s,--start", start, "first bound (with --reverse: the newest)");
  app.add_option("-e,--end", end, "last bound (with --reverse: the oldest)");
  app.add_option("-l,--limit", limit, "print at most N logs (0 or -1: all)");
  app.add_flag("-x,--exclusive", exclusive, "exclude the bounds themselves");
  app.add_flag("-r,--reverse", reverse, "newest first");
  app.add_flag("-f,--follow", follow, "keep printing new logs as they are committed");
  pptool::add_format_option(app, format);
  pptool::parse(app, argc, argv);
  if (follow && reverse) pptool::usage_error("--follow does not go with --reverse");
  if (follow && !end.empty()) pptool::usage_error("--follow does not go with --end");
  pptool::Format fmt = pptool::parse_format(format);

  pptool::check(check_name(topic));
  RangeSpec spec;
  spec.exclusive = exclusive;
  spec.reverse = reverse;
  if (!start.empty()) {
    auto b = parse_bound(start);
    if (!b.ok()) pptool::fail(b.status());
    spec.start = *b;
  }
  if (!end.empty()) {
    auto b = parse_bound(end);
    if (!b.ok()) pptool::fail(b.status());
    spec.end = *b;
  }
  uint64_t left = limit > 0 ? static_cast<uint64_t>(limit) : UINT64_MAX;

  auto store = pptool::open_store(store_args, Store::Mode::read);
  auto rd = store->reader(topic);
  if (!rd.ok() && follow && rd.status().code() == Code::invalid_topic) {
    // --follow waits for the topic to appear.
    while (!rd.ok() && rd.status().code() == Code::invalid_topic) {
      uint32_t seen = store->change_counter();
      rd = store->reader(topic);
      if (rd.ok()) break;
      store->wait_change(seen, 1000);
      rd = store->reader(topic);
    }
  }
  if (!rd.ok()) pptool::fail(rd.status());
  TopicReader& reader = **rd;
  auto range = resolve_range(reader, spec);
  if (!range.ok()) pptool::fail(range.status());

  pptool::Output out;
  IdFormatter ids;
  pptool::Progress progress("logs", follow);  // --follow runs forever: no progress line
  uint64_t printed = 0, bytes = 0;
  auto emit = [&](const LogView& v) {
    pptool::print_log(out, ids, fmt, v.id, v.body);
    bytes += v.body.size();
    if ((++printed & 0xfff) == 0) progress.update(printed, bytes);
    return --left > 0;
  };
  if (reverse) {
    pptool::check(reader.scan_reverse(range->from, range->to, emit));
    return 0;
  }
  uint64_t next = range->from;
  pptool::check(reader.scan(next, range->to, [&](const LogView& v) {
    next = v.id.seq + 1;
    return emit(v);
  }));
  out.flush();
  if (!follow) return 0;
  next = std::max(next, range->to);
  while (left > 0) {
    uint32_t seen = store->change_counter();
    reader.refresh();
    if (reader.end() > next) {
      next = std::max(next, reader.start());
      pptool::check(reader.scan(next, reader.end(), [&](const LogView& v) {
        next = v.id.seq + 1;
        return emit(v);
      }));
      out.flush();
      continue;
    }
    store->wait_change(seen, 1000);
  }
  return 0;
}
