// pp-commit: add logs to topics, from arguments or JSON lines on stdin (CONTRACT.md).
//
// Built twice. bin/pp-commit is linked static and commits to a -t topic bodies given as
// arguments, or a small stdin that is all there already, itself, checking them with
// check_json_value; for anything else (streams, envelopes) it runs
// libexec/pipeproc/pp-commit-json, this file built with
// PP_COMMIT_JSON, which parses with simdjson. libsimdjson is a shared library only, and
// with it come libstdc++.so, libm and libgcc_s: loading them took 0.4 ms of a one-shot
// commit's 1.4 ms here, against 2.6 ms for one redis-cli XADD.
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

#include "common.h"
#include "pipeproc/jsonl.h"
#ifdef PP_COMMIT_JSON
#include "input.h"
#include "thread.h"
#endif

using namespace pipeproc;

namespace {

struct Args {
  pptool::StoreArgs store;
  std::string topic;
  std::vector<std::string> bodies;
  bool atomic = false;
  bool no_sync = false;
  bool quiet = false;
  size_t max_body = 16u << 20;
};

#ifdef PP_COMMIT_JSON
// A batch of validated lines, owning the buffer its entries point into.
struct Batch {
  std::vector<char> buf;
  std::vector<Entry> entries;
  std::vector<Line> tail;  // lines after the entries still to validate (by the committer)
  Status err;              // the line after the entries (and tail) is bad
  bool idle = false;  // no more input was ready when it was read
  bool end = false;   // the input has ended
};

// Two batches in flight between the reading thread and the committing one, plus spares.
// It also balances the two threads: validation is most of the reading thread's work, so
// the share of each batch's lines the committing thread validates grows when that thread
// has to wait for batches and shrinks when the reading thread has to wait for room.
class BatchQueue {
 public:
  static constexpr int kShareSteps = 64;  // tail_share() is in 1/64ths of a batch
  static constexpr size_t kInFlight = 2;  // full batches waiting at most

  // fixed_share >= 0 (tests: PIPEPROC_TEST_TAIL_SHARE) pins the share instead.
  BatchQueue(bool balance, int fixed_share)
      : balance_(balance && fixed_share < 0), share_(balance ? std::clamp(fixed_share, 0, kShareSteps / 2) : 0) {}
  int tail_share() const { return share_.load(std::memory_order_relaxed); }

  void push(Batch b) {
    std::unique_lock lk(mu_);
    if (full_.size() >= kInFlight) nudge(-1);
    cv_.wait(lk, [&] { return full_.size() < kInFlight; });
    full_.push_back(std::move(b));
    cv_.notify_all();
  }
  Batch pop() {
    std::unique_lock lk(mu_);
    if (full_.empty() && popped_) nudge(+1);
    popped_ = true;
    cv_.wait(lk, [&] { return !full_.empty(); });
    Batch b = std::move(full_.front());
    full_.pop_front();
    cv_.notify_all();
    return b;
  }
  Batch spare() {
    std::lock_guard lk(mu_);
    if (spares_.empty()) return Batch{};
    Batch b = std::move(spares_.back());
    spares_.pop_back();
    b.entries.clear();
    b.tail.clear();
    b.err = Status();
    b.idle = b.end = false;
    return b;
  }
  void recycle(Batch b) {
    std::lock_guard lk(mu_);
    spares_.push_back(std::move(b));
  }

 private:
  void nudge(int by) {
    if (!balance_) return;
    int s = std::clamp(share_.load(std::memory_order_relaxed) + by, 0, kShareSteps / 2);
    share_.store(s, std::memory_order_relaxed);
  }
  const bool balance_;
  std::atomic<int> share_{0};
  bool popped_ = false;  // the first pop always waits: not a sign of anything
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> full_;
  std::vector<Batch> spares_;
};

// Ids waiting for a flush before they are printed, kept as runs of sequences under one
// timestamp (a batch to one topic is one run): a few bytes per batch rather than ~17 per
// log. Held as text, megabytes of ids were written into fresh memory on every flush, and
// where a page fault is dear that cost more than the commits.
class IdRuns {
 public:
  void add(const std::vector<LogId>& ids) {
    for (const LogId& id : ids) {
      if (!runs_.empty() && runs_.back().ts == id.ts && runs_.back().seq + runs_.back().n == id.seq) {
        ++runs_.back().n;
      } else {
        runs_.push_back(Run{id.ts, id.seq, 1});
      }
    }
    count_ += ids.size();
  }
  size_t count() const { return count_; }
  void clear() {
    runs_.clear();
    count_ = 0;
  }
  // Prints one id per line, through out's buffer.
  void print(pptool::Output& out, IdFormatter& f) const {
    char buf[16384];
    char* p = buf;
    for (const Run& r : runs_) {
      for (uint64_t k = 0; k < r.n; ++k) {
        if (p + IdFormatter::kMaxLen + 1 > buf + sizeof buf) {
          out.put(std::string_view(buf, static_cast<size_t>(p - buf)));
          p = buf;
        }
        p = f.write(p, LogId{r.ts, r.seq + k});
        *p++ = '\n';
      }
    }
    out.put(std::string_view(buf, static_cast<size_t>(p - buf)));
  }

 private:
  struct Run {
    uint64_t ts, seq, n;
  };
  std::vector<Run> runs_;
  size_t count_ = 0;
};

// One Store::Flush at a time on a thread of its own, holding the ids it makes durable, so
// that the committing thread goes on while the disk catches up.
class BackgroundFlush {
 public:
  ~BackgroundFlush() {
    if (thread_.joinable()) thread_.join();
  }
  bool busy() const { return thread_.joinable(); }
  bool done() const { return done_.load(std::memory_order_acquire); }
  // Takes the ids (ids is left empty).
  void start(Flush f, IdRuns& ids) {
    ids_.clear();
    std::swap(ids_, ids);
    done_.store(false, std::memory_order_relaxed);
    thread_ = pptool::Thread([this, f = std::move(f)]() mutable {
      status_ = f.run();
      done_.store(true, std::memory_order_release);
    });
  }
  // Waits for the flush on its way; ids receives the ids it was given.
  Status finish(IdRuns& ids) {
    thread_.join();
    std::swap(ids, ids_);
    return status_;
  }

 private:
  pptool::Thread thread_;
  std::atomic<bool> done_{false};
  Status status_;
  IdRuns ids_;
};

#endif  // PP_COMMIT_JSON

void print_ids(pptool::Output& out, const std::vector<LogId>& ids) {
  IdFormatter f;
  f.append_lines(out.raw(), ids);
  out.flush();
}

// Opens the store, commits entries as one atomic batch (if any) and prints their ids.
void commit_batch(const Args& a, const StoreOptions& opts, bool sync, const std::vector<Entry>& entries) {
  auto store = pipeproc::Store::open(pptool::store_dir(a.store), Store::Mode::write, opts);
  if (!store.ok()) pptool::fail(store.status());
  std::vector<LogId> ids;
  if (!entries.empty()) pptool::check((*store)->commit(entries, sync, &ids));
  pptool::Output out;
  if (!a.quiet) print_ids(out, ids);
}

#ifndef PP_COMMIT_JSON
// True when all of stdin is small and already there: a regular file with at most kSmall
// bytes left, or a pipe whose writers have all gone, holding at most kSmall bytes
// (`echo '{}' | pp-commit -t T`). The stream would take such input as one batch; it is
// committed here, without starting the helper. Anything else, or a writer still there,
// goes to the helper, which gives the same result.
bool stdin_small_and_complete() {
  constexpr off_t kSmall = 64 << 10;
  struct stat st;
  if (::fstat(0, &st) != 0) return false;
  if (S_ISREG(st.st_mode)) {
    off_t at = ::lseek(0, 0, SEEK_CUR);
    return at >= 0 && st.st_size - at <= kSmall;
  }
  if (!S_ISFIFO(st.st_mode)) return false;
  pollfd p{0, POLLIN, 0};
  int queued = 0;
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) && ::ioctl(0, FIONREAD, &queued) == 0 && queued <= kSmall;
}

// Commits such a stdin as the stream does its batch: the lines before the first bad one
// (none of them with --atomic), their ids printed, then the bad line's error.
void commit_small_stdin(const Args& a, const StoreOptions& opts, bool sync) {
  pptool::Inputs in;
  Status err = pptool::collect_stdin_lines(
      a.max_body,
      [&](std::span<const Line> lines, std::vector<Entry>& batch, Status* bad) {
        for (size_t i = 0; i < lines.size(); ++i) {
          Status st = check_json_value(lines[i].text);
          if (!st.ok()) {
            *bad = Status(st.code(), "line " + std::to_string(lines[i].number) + ": " + st.message());
            return i;
          }
          batch.push_back(Entry{a.topic, lines[i].text});
        }
        return lines.size();
      },
      in);
  if (a.atomic && !err.ok()) pptool::fail(err);
  if (!in.entries.empty()) commit_batch(a, opts, sync, in.entries);
  if (!err.ok()) pptool::fail(err);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  Args a;
  CLI::App app("Add logs to a topic: BODY arguments (one atomic batch), else JSON lines on stdin.\n"
               "Without -t each input is an envelope {\"topic\":\"t\",\"body\":...}.");
  pptool::setup(app, argv[0], a.store);
  auto* topic_opt = app.add_option("-t,--topic", a.topic, "topic to commit to (else: envelopes)");
  app.add_flag("--atomic", a.atomic, "all of stdin is one all-or-nothing batch");
  app.add_flag("--no-sync", a.no_sync, "do not fsync (survives a process crash, not a power loss)");
  app.add_flag("-q,--quiet", a.quiet, "print no ids");
  app.add_option("--max-body", a.max_body, "largest body in bytes (default 16777216)");
  // Bodies are taken raw from what CLI11 leaves over: as an option value it would split
  // "[1,2]" into two values.
  app.allow_extras();
  app.footer("Arguments:\n  BODY...  JSON bodies (envelopes without -t); put -- before one that starts with -\n");
  pptool::parse(app, argc, argv);
  if (a.max_body == 0 || a.max_body > (1u << 30)) pptool::usage_error("--max-body takes 1 to 1073741824 bytes");
  a.bodies = pptool::remaining_bodies(app);

  if (topic_opt->count() > 0) pptool::check(check_name(a.topic));
#ifndef PP_COMMIT_JSON
  if (topic_opt->count() == 0 || (a.bodies.empty() && !stdin_small_and_complete())) {
    // Envelopes and streams are parsed with simdjson, by the helper (see the top of the file).
    std::string helper = pptool::self_dir() + "/../libexec/pipeproc/pp-commit-json";
    argv[0] = const_cast<char*>("pp-commit");
    ::execv(helper.c_str(), argv);
    pptool::fail(errno_status(errno, "run " + helper));
  }
#endif
  const bool sync = !a.no_sync && !pptool::env_no_sync();
  StoreOptions opts;
  opts.max_body = a.max_body;
#ifndef PP_COMMIT_JSON
  if (a.bodies.empty()) {
    commit_small_stdin(a, opts, sync);
    return 0;
  }
#else
  pptool::EntryBuilder builder(topic_opt->count() > 0 ? a.topic : std::string());
#endif
  if (!a.bodies.empty() || a.atomic) {
    // One atomic batch: the arguments, or all of stdin.
    pptool::Inputs in;
#ifdef PP_COMMIT_JSON
    pptool::collect_inputs(builder, a.bodies, a.max_body, in);
#else
    pptool::collect_arg_bodies(a.bodies, a.max_body, [&](std::string_view b, Entry* e) -> Status {
      PP_RETURN_IF_ERROR(check_json_value(b));
      *e = Entry{a.topic, b};
      return {};
    }, in);
#endif
    commit_batch(a, opts, sync, in.entries);
    return 0;
  }
#ifdef PP_COMMIT_JSON

  pptool::Output out;
  std::vector<LogId> ids;
  std::unique_ptr<Store> store;
  auto open = [&]() -> Store& {
    if (!store) {
      auto s = pipeproc::Store::open(pptool::store_dir(a.store), Store::Mode::write, opts);
      if (!s.ok()) pptool::fail(s.status());
      store = std::move(s).value();
    }
    return *store;
  };
  LineReader reader(0, a.max_body);
  std::vector<Line> lines;
  std::vector<Entry> entries;

  // Streaming: each batch of available lines commits on its own; a bad line stops the
  // stream after the lines before it are committed. Batches that follow each other without
  // a wait for input share the fsyncs (Store::flush_later) that a thread of their own runs
  // every 16 MiB or so, while the next batches commit; the ids of a batch are printed once
  // a flush that began after it has run, so an id printed is an id on disk. When input
  // pauses or ends, the stream waits for a last fsync (Store::sync) and prints every id.
  // A second thread reads and validates the next batch while this one commits.
  const bool one_topic = topic_opt->count() > 0;
  int pinned = -1;
  if (const char* v = std::getenv("PIPEPROC_TEST_TAIL_SHARE")) {
    std::string_view s(v);
    if (std::from_chars(s.data(), s.data() + s.size(), pinned).ptr != s.data() + s.size()) pinned = -1;
  }
  BatchQueue queue(one_topic, pinned);
  pptool::EntryBuilder tail_builder(one_topic ? a.topic : std::string());
  pptool::Thread producer([&] {
    std::vector<Line> blines;
    for (;;) {
      Batch b = queue.spare();
      auto more = reader.next(blines);
      if (!more.ok()) {
        b.err = more.status();
        queue.push(std::move(b));
        return;
      }
      if (!*more) {
        b.end = true;
        queue.push(std::move(b));
        return;
      }
      size_t n = blines.size();
      size_t mine = n - n * static_cast<size_t>(queue.tail_share()) / BatchQueue::kShareSteps;
      size_t ok = builder.build(std::span<const Line>(blines).first(mine), b.entries, &b.err);
      if (ok == mine && mine < n) {
        b.tail.assign(blines.begin() + static_cast<std::ptrdiff_t>(mine), blines.end());
      }
      b.idle = !reader.ready();
      reader.swap_buffer(b.buf);
      bool stop = !b.err.ok();
      queue.push(std::move(b));
      if (stop) return;
    }
  });
  IdRuns pending;               // ids of commits not yet synced
  uint64_t unsynced_bytes = 0;  // committed since the last flush began
  bool marked = false;          // committed since the last sync(): topics marked unsynced
  uint64_t committed = 0, committed_bytes = 0;
  pptool::Progress progress("logs", a.quiet);
  IdFormatter idf;
  Status failure;
  BackgroundFlush flusher;
  IdRuns flushed;
  auto finish_flush = [&] {
    if (!flusher.busy()) return;
    Status st = flusher.finish(flushed);
    if (failure.ok()) failure = st;
    if (failure.ok()) flushed.print(out, idf);
  };
  auto settle = [&] {
    finish_flush();
    if (sync && marked && failure.ok()) failure = open().sync();
    marked = false;
    unsynced_bytes = 0;
    if (failure.ok()) pending.print(out, idf);
    out.flush();
    pending.clear();
  };
  // Past 16 MiB (or 128 Ki ids) a flush starts; past four times that, the stream waits
  // for the one on its way, which bounds the ids held.
  constexpr uint64_t kFlushBytes = 16u << 20, kIds = 128u << 10;
  auto flush_due = [&](uint64_t times) {
    return unsynced_bytes >= times * kFlushBytes || pending.count() >= times * kIds;
  };
  for (;;) {
    Batch b = queue.pop();
    if (b.end) break;
    if (!b.tail.empty()) {
      Status tail_err;
      size_t ok = tail_builder.build(b.tail, b.entries, &tail_err);  // appended after the head's
      if (ok < b.tail.size()) b.err = tail_err;  // before any error the reading thread saw
    }
    if (!b.entries.empty() && failure.ok()) {
      Status st = open().commit(b.entries, false, &ids);
      if (!st.ok()) {
        settle();
        failure = st;
      }
      uint64_t body_bytes = 0;
      for (const Entry& e : b.entries) body_bytes += e.body.size();
      unsynced_bytes += body_bytes + 32 * b.entries.size();
      marked = true;
      committed += b.entries.size();
      committed_bytes += body_bytes + b.entries.size();
      progress.update(committed, committed_bytes);
      if (!a.quiet && st.ok()) {
        if (sync) {
          pending.add(ids);
        } else {  // nothing to wait for: printed now, from the output's own buffer
          idf.append_lines(out.raw(), ids);
          out.maybe_flush();
        }
      }
    }
    bool bad = !b.err.ok();
    if (bad && failure.ok()) {
      settle();
      failure = b.err;
    }
    const bool idle = b.idle;
    queue.recycle(std::move(b));
    if (bad || !failure.ok()) break;
    if (idle) {
      settle();
    } else if (flush_due(1)) {
      if (!sync) {
        settle();
        continue;
      }
      if (flusher.busy() && (flusher.done() || flush_due(4))) finish_flush();
      if (!flusher.busy() && failure.ok()) {
        auto f = open().flush_later();
        if (!f.ok()) {
          failure = f.status();
          break;
        }
        flusher.start(std::move(f).value(), pending);
        unsynced_bytes = 0;
      }
      if (!failure.ok()) break;
    }
  }
  settle();
  progress.done();
  if (!failure.ok()) {
    // The reading thread may be blocked on input that goes on (a bad line from a pipe that
    // stays open), or still validating: end the process without waiting for it, and
    // without running static destructors under it. settle() flushed the ids.
    producer.detach();
    pptool::fail_now(failure);
  }
  producer.join();
#endif  // PP_COMMIT_JSON
  return 0;
}
