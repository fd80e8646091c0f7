// pp-range: print a slice of a topic, optionally following it as it grows (CONTRACT.md).
#include <malloc.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "common.h"
#include "pipeproc/range.h"

using namespace pipeproc;

namespace {
// Large exports are cut into chunks of sequences formatted on worker threads (each with its
// own reader) and written in order, a few chunks ahead: the work per log (checksum, id,
// copy) is spread over the cores while memory stays bounded.
constexpr uint64_t kParallelMin = 1 << 16;
constexpr uint64_t kChunkBytes = 1 << 20;  // text per chunk; its log count adapts to it

// A chunk's text, appended through a cursor: one room check per log, not one per piece.
class Text {
 public:
  char* room(size_t n) {
    if (cap_ - len_ < n) grow(n);
    return buf_.get() + len_;
  }
  void done(char* end) { len_ = static_cast<size_t>(end - buf_.get()); }
  std::string_view view() const { return {buf_.get(), len_}; }
  void clear() { len_ = 0; }

 private:
  void grow(size_t n) {
    size_t cap = std::max(cap_ * 2, len_ + n);
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    if (len_) std::memcpy(bigger.get(), buf_.get(), len_);
    buf_ = std::move(bigger);
    cap_ = cap;
  }
  std::unique_ptr<char[]> buf_;
  size_t len_ = 0, cap_ = 0;
};

char* put(char* p, std::string_view s) {
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

struct Chunk {
  Status status;
  Text text;
  uint64_t logs = 0, bytes = 0;
};

void export_parallel(Store& store, const std::string& topic, uint64_t from, uint64_t to, pptool::Format fmt,
                     pptool::Output& out, pptool::Progress& progress) {
  // Readers are reused from a pool (one per thread at a time): a new reader would read the
  // segment's whole index again for every chunk.
  std::mutex pool_mu;
  std::vector<std::unique_ptr<TopicReader>> pool;
  // Chunk texts are reused too: fresh ones would be faulted in page by page.
  std::vector<Text> texts;
  auto work = [&store, &topic, fmt, &pool_mu, &pool, &texts](uint64_t a, uint64_t b) {
    Chunk c;
    std::unique_ptr<TopicReader> reader;
    {
      std::lock_guard lk(pool_mu);
      if (!pool.empty()) {
        reader = std::move(pool.back());
        pool.pop_back();
      }
      if (!texts.empty()) {
        c.text = std::move(texts.back());
        texts.pop_back();
        c.text.clear();
      }
    }
    if (!reader) {
      auto r = store.reader(topic);
      if (!r.ok()) {
        c.status = r.status();
        return c;
      }
      reader = std::move(r).value();
    }
    struct GiveBack {
      std::mutex& mu;
      std::vector<std::unique_ptr<TopicReader>>& pool;
      std::unique_ptr<TopicReader>& reader;
      ~GiveBack() {
        std::lock_guard lk(mu);
        pool.push_back(std::move(reader));
      }
    } give_back{pool_mu, pool, reader};
    auto* r = &reader;
    IdFormatter ids;
    c.status = (*r)->scan(a, b, [&](const LogView& v) {
      char* p = c.text.room(v.body.size() + IdFormatter::kMaxLen + 24);
      switch (fmt) {
        case pptool::Format::log:
          p = put(p, R"({"id":")");
          p = ids.write(p, v.id);
          p = put(p, R"(","body":)");
          p = put(p, v.body);
          p = put(p, "}\n");
          break;
        case pptool::Format::body:
          p = put(p, v.body);
          *p++ = '\n';
          break;
        case pptool::Format::id:
          p = ids.write(p, v.id);
          *p++ = '\n';
          break;
      }
      c.text.done(p);
      ++c.logs;
      c.bytes += v.body.size();
      return true;
    });
    return c;
  };
  // Readers' buffers come and go: keep freed memory for the next ones instead of
  // returning it to the kernel and faulting it in again.
  ::mallopt(M_ARENA_MAX, 2);
  ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 128 << 20);
  const unsigned ahead = std::max(2u, std::thread::hardware_concurrency()) + 1;
  std::deque<std::future<Chunk>> pending;
  uint64_t next = from, logs = 0, bytes = 0;
  uint64_t per_chunk = 64;  // logs per chunk, from the text per log seen so far
  auto launch = [&] {
    uint64_t b = std::min(to, next + per_chunk);
    pending.push_back(std::async(std::launch::async, work, next, b));
    next = b;
  };
  while (next < to && pending.size() < ahead) launch();
  while (!pending.empty()) {
    Chunk c = pending.front().get();
    pending.pop_front();
    if (next < to) launch();
    out.put(c.text.view());
    if (!c.status.ok()) {
      out.flush();
      for (auto& f : pending) f.wait();
      pptool::fail(c.status);
    }
    logs += c.logs;
    bytes += c.bytes;
    progress.update(logs, bytes);
    if (c.logs > 0)
      per_chunk = std::clamp<uint64_t>(kChunkBytes * c.logs / std::max<size_t>(1, c.text.view().size()), 1, 1 << 16);
    std::lock_guard lk(pool_mu);
    texts.push_back(std::move(c.text));
  }
  out.flush();
}
}  // namespace

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  std::string topic, start, end, format = "log";
  long long limit = 0;
  bool exclusive = false, reverse = false, follow = false;
  CLI::App app("Print the logs of TOPIC between two bounds, oldest first.\n"
               "A bound is an id TS-SEQ, a timestamp TS (ms) or a sequence :N.");
  pptool::setup(app, argv[0], store_args);
  app.add_option("TOPIC", topic, "topic to read")->required();
  auto* start_opt = app.add_option("-s,--start", start, "first bound (with --reverse: the newest)");
  auto* end_opt = app.add_option("-e,--end", end, "last bound (with --reverse: the oldest)");
  app.add_option("-l,--limit", limit, "print at most N logs (0 or -1: all)");
  app.add_flag("-x,--exclusive", exclusive, "exclude the bounds themselves");
  app.add_flag("-r,--reverse", reverse, "newest first");
  app.add_flag("-f,--follow", follow, "keep printing new logs as they are committed");
  pptool::add_format_option(app, format);
  pptool::parse(app, argc, argv);
  if (follow && reverse) pptool::usage_error("--follow does not go with --reverse");
  if (follow && end_opt->count() > 0) pptool::usage_error("--follow does not go with --end");
  pptool::Format fmt = pptool::parse_format(format);

  pptool::check(check_name(topic));
  RangeSpec spec;
  spec.exclusive = exclusive;
  spec.reverse = reverse;
  if (start_opt->count() > 0) {
    auto b = parse_bound(start);
    if (!b.ok()) pptool::fail(b.status());
    spec.start = *b;
  }
  if (end_opt->count() > 0) {
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
  if (!follow) {
    uint64_t to = range->to;
    if (left != UINT64_MAX && range->from + left < to) to = range->from + left;
    if (to > range->from && to - range->from >= kParallelMin) {
      export_parallel(*store, topic, range->from, to, fmt, out, progress);
      return 0;
    }
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
