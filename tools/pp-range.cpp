// pp-range: print a slice of a topic, optionally following it as it grows (CONTRACT.md).
#include <malloc.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <map>
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

void format_chunk(TopicReader& reader, uint64_t a, uint64_t b, pptool::Format fmt, Chunk& c) {
  IdFormatter ids;
  c.status = reader.scan(a, b, [&](const LogView& v) {
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
}

void export_parallel(Store& store, const std::string& topic, uint64_t from, uint64_t to, pptool::Format fmt,
                     pptool::Output& out, pptool::Progress& progress) {
  // Worker threads (one reader each, kept for the whole export: a new reader would read
  // the segment's index again) take the next chunk of sequences, format it, and leave it
  // for this thread, which writes the chunks in order. At most `ahead` chunks wait.
  const unsigned workers = std::max(2u, std::thread::hardware_concurrency());
  const uint64_t ahead = workers + 1;
  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, Chunk> ready;  // formatted chunks by number
  std::vector<Text> texts;          // spare chunk texts: fresh ones would be faulted in anew
  uint64_t next_seq = from, next_chunk = 0, written = 0;
  uint64_t per_chunk = 64;  // logs per chunk, from the text per log seen so far
  bool stop = false;
  auto worker = [&] {
    auto opened = store.reader(topic);
    for (;;) {
      Chunk c;
      uint64_t k, a, b;
      {
        std::unique_lock lk(mu);
        cv.wait(lk, [&] { return stop || next_seq >= to || next_chunk - written < ahead; });
        if (stop || next_seq >= to) return;
        k = next_chunk++;
        a = next_seq;
        b = next_seq = std::min(to, next_seq + per_chunk);
        if (!texts.empty()) {
          c.text = std::move(texts.back());
          texts.pop_back();
          c.text.clear();
        }
      }
      if (opened.ok()) {
        format_chunk(**opened, a, b, fmt, c);
      } else {
        c.status = opened.status();
      }
      std::lock_guard lk(mu);
      ready.emplace(k, std::move(c));
      cv.notify_all();
    }
  };
  // Readers' buffers come and go: keep freed memory for the next ones instead of
  // returning it to the kernel and faulting it in again.
  ::mallopt(M_ARENA_MAX, 2);
  ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 128 << 20);
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < workers; ++i) threads.emplace_back(worker);
  auto finish = [&] {
    {
      std::lock_guard lk(mu);
      stop = true;
    }
    cv.notify_all();
    for (auto& t : threads) t.join();
  };
  uint64_t logs = 0, bytes = 0;
  for (;;) {
    Chunk c;
    {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return ready.count(written) || (next_seq >= to && written == next_chunk); });
      auto it = ready.find(written);
      if (it == ready.end()) break;  // all written
      c = std::move(it->second);
      ready.erase(it);
    }
    out.put(c.text.view());
    if (!c.status.ok()) {
      out.flush();
      finish();
      pptool::fail(c.status);
    }
    logs += c.logs;
    bytes += c.bytes;
    progress.update(logs, bytes);
    std::lock_guard lk(mu);
    ++written;
    if (c.logs > 0)
      per_chunk = std::clamp<uint64_t>(kChunkBytes * c.logs / std::max<size_t>(1, c.text.view().size()), 1, 1 << 16);
    texts.push_back(std::move(c.text));
    cv.notify_all();
  }
  finish();
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
