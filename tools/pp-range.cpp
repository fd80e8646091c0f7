// pp-range: print a slice of a topic, optionally following it as it grows (CONTRACT.md).
#include <malloc.h>
#include <sys/mman.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older glibc headers lack it
#endif

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "common.h"
#include "pipeproc/range.h"
#include "thread.h"

using namespace pipeproc;

namespace {
// Large exports are cut into chunks of sequences formatted on worker threads (each with its
// own reader) and written in order, a few chunks ahead: the work per log (checksum, id,
// copy) is spread over the cores while memory stays bounded.
constexpr uint64_t kParallelMin = 1 << 16;
constexpr uint64_t kChunkBytes = 1 << 19;  // text per chunk; its log count adapts to it

// A chunk's text, appended through a cursor: one room check per log, not one per piece.
// Faults in the pages of [p, p + n) with one system call, not one fault per page (dear in
// a virtual machine); a kernel without MADV_POPULATE_WRITE (before 5.14) leaves it to the
// faults.
void populate(char* p, size_t n) {
  constexpr uintptr_t kPage = 4096;
  uintptr_t a = (reinterpret_cast<uintptr_t>(p) + kPage - 1) & ~(kPage - 1);
  uintptr_t b = (reinterpret_cast<uintptr_t>(p) + n) & ~(kPage - 1);
  if (b > a) (void)::madvise(reinterpret_cast<void*>(a), b - a, MADV_POPULATE_WRITE);
}

class Text {
 public:
  char* room(size_t n) {
    if (cap_ - len_ < n) grow(n);
    return buf_.get() + len_;
  }
  void done(char* end) { len_ = static_cast<size_t>(end - buf_.get()); }
  std::string_view view() const { return {buf_.get(), len_}; }
  void clear() { len_ = 0; }
  void reserve(size_t n) {
    if (cap_ < n) grow(n - len_);
  }

 private:
  void grow(size_t n) {
    size_t cap = std::max(cap_ * 2, len_ + n);
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    populate(bigger.get(), cap);
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
  c.status = reader.scan_batches(a, b, [&](std::span<const LogView> batch) {
    size_t room = 0;
    for (const LogView& v : batch) room += v.body.size() + IdFormatter::kMaxLen + 24;
    char* p = c.text.room(room);
    for (const LogView& v : batch) {
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
      c.bytes += v.body.size();
    }
    c.text.done(p);
    c.logs += batch.size();
    return true;
  });
}

// Every thread (this one too, with the reader it already has) takes the next chunk of
// sequences and formats it; whichever thread finishes the chunk due next writes it, and any
// chunks after it that are ready. No thread only writes: on two cores a third thread would
// cost a context switch per chunk, and here a switch or a fresh page is dear. At most
// `ahead` chunks are claimed and not yet written, so memory stays bounded.
void export_parallel(Store& store, TopicReader& own, const std::string& topic, uint64_t from, uint64_t to,
                     pptool::Format fmt, pptool::Output& out, pptool::Progress& progress) {
  const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  const uint64_t ahead = threads + 1;
  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, Chunk> ready;  // formatted chunks by number
  std::vector<Text> spare;          // texts of written chunks: fresh ones would be faulted in anew
  uint64_t next_seq = from, next_chunk = 0, written = 0;
  uint64_t per_chunk = 64;  // logs per chunk, from the text per log seen so far
  uint64_t logs = 0, bytes = 0;
  unsigned waiting = 0;
  bool writing = false, stop = false;
  Status failed;
  auto work = [&](TopicReader& reader, bool fresh) {
    // A fresh reader opens its segment and index, and a text buffer is faulted in, before
    // the thread claims a chunk: claimed first, that setup held back the chunks after it.
    Text warm;
    if (fresh) {
      Status st = reader.scan(from, from + 1, [](const LogView&) { return false; });
      (void)st;  // an error shows again in the chunk that meets it
      warm.reserve(kChunkBytes + kChunkBytes / 4);
    }
    std::unique_lock lk(mu);
    for (;;) {
      ++waiting;
      cv.wait(lk, [&] { return stop || next_seq >= to || next_chunk - written < ahead; });
      --waiting;
      if (stop || next_seq >= to) return;
      Chunk c;
      uint64_t k = next_chunk++, a = next_seq, b = next_seq = std::min(to, next_seq + per_chunk);
      if (fresh) {
        c.text = std::move(warm);
        fresh = false;
      } else if (!spare.empty()) {
        c.text = std::move(spare.back());
        spare.pop_back();
        c.text.clear();
      }
      lk.unlock();
      c.text.reserve(kChunkBytes + kChunkBytes / 4);  // grown once, not by doubling
      format_chunk(reader, a, b, fmt, c);
      lk.lock();
      ready.emplace(k, std::move(c));
      if (writing) continue;  // the thread writing will find it
      writing = true;
      for (auto it = ready.find(written); !stop && it != ready.end(); it = ready.find(written)) {
        Chunk w = std::move(it->second);
        ready.erase(it);
        lk.unlock();
        out.put(w.text.view());
        logs += w.logs;
        bytes += w.bytes;
        progress.update(logs, bytes);
        lk.lock();
        if (!w.status.ok()) {
          failed = w.status;
          stop = true;
        }
        ++written;
        if (w.logs > 0)
          per_chunk = std::clamp<uint64_t>(kChunkBytes * w.logs / std::max<size_t>(1, w.text.view().size()), 1, 1 << 16);
        spare.push_back(std::move(w.text));
        if (waiting) cv.notify_all();
      }
      writing = false;
    }
  };
  // Readers' buffers come and go: keep freed memory for the next ones instead of
  // returning it to the kernel and faulting it in again.
  ::mallopt(M_ARENA_MAX, 2);
  ::mallopt(M_MMAP_THRESHOLD, 64 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 128 << 20);
  std::vector<pptool::Thread> helpers;
  std::vector<std::unique_ptr<TopicReader>> readers;
  for (unsigned i = 1; i < threads; ++i) {
    auto r = store.reader(topic);
    if (!r.ok()) pptool::fail(r.status());
    readers.push_back(std::move(r).value());
  }
  for (auto& r : readers) helpers.emplace_back([&work, &r] { work(*r, true); });
  work(own, false);
  for (auto& t : helpers) t.join();
  out.flush();
  if (!failed.ok()) pptool::fail(failed);
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
      export_parallel(*store, reader, topic, range->from, to, fmt, out, progress);
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
