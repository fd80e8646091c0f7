// The store: a directory holding topics (append-only logs), a journal that orders every
// commit, and a control block shared by all processes using it. See docs/design.md.
//
// A Store object is used by one thread at a time; any number of processes (each with its
// own Store) may use one directory at once. Writers serialise on a kernel-released lock;
// readers take no lock and see only committed logs.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <functional>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pipeproc/status.h"
#include "pipeproc/types.h"

namespace pipeproc {

struct Control;
struct LockBlock;
struct TopicHead;

struct StoreOptions {
  size_t max_body = 16u << 20;     // record_too_large above this
  uint64_t segment_bytes = 64ull << 20;  // roll to a new segment past this size
};

// One log to commit.
struct Entry {
  std::string_view topic;
  std::string_view body;
};

// One log read back. body points into the reader's buffer: valid until the next call.
struct LogView {
  LogId id;
  std::string_view body;
};

struct TopicInfo {
  std::string name;
  uint64_t start = 0;  // first sequence held
  uint64_t end = 0;    // one past the last sequence
  uint64_t last_ts = 0;
};

class TopicReader;
class Store;

// The fsyncs that make every commit made before it durable, taken out of the store
// (Store::flush_later) so that another thread can wait for them while the store goes on
// committing. It holds its own descriptors and touches nothing of the store.
class Flush {
 public:
  Flush() = default;
  Flush(Flush&& o) noexcept : files_(std::move(o.files_)) { o.files_.clear(); }
  Flush& operator=(Flush&& o) noexcept;
  Flush(const Flush&) = delete;
  Flush& operator=(const Flush&) = delete;
  ~Flush();

  // fdatasyncs each file, the journal last. Runs on any thread, once.
  Status run();

 private:
  friend class Store;
  struct File {
    int fd;
    std::string path;
  };
  void close_all() noexcept;
  std::vector<File> files_;
};

// A write transaction: runs under the store's writer lock, reads the current state, and
// stages logs and blob changes that commit together as one atomic commit (or not at all,
// if the transaction's function fails). Blobs are small keyed values (up to 1 KiB) that
// ride in the journal with the logs: the libraries above keep proc state in them.
class Txn {
 public:
  explicit Txn(Store& s) : store_(s) {}
  Store& store() { return store_; }

  // Reads see the state at the lock plus this transaction's own staged blob changes.
  std::optional<std::string> get(uint8_t kind, std::string_view key) const;
  // Every (key, value) of a kind.
  std::vector<std::pair<std::string, std::string>> list(uint8_t kind) const;

  void put(uint8_t kind, std::string_view key, std::string value);
  void del(uint8_t kind, std::string_view key);
  // Logs to commit: the views must stay valid until transact() returns.
  void add(std::string_view topic, std::string_view body) { entries_.push_back(Entry{topic, body}); }
  // Same, for bodies the transaction should own.
  void add_owned(std::string topic, std::string body);
  size_t log_count() const { return logs().size(); }
  // The commit must be durable even if transact() was asked not to sync (it adds logs
  // the caller cannot opt out of syncing, e.g. dead letters).
  void require_sync() { sync_ = true; }
  // Moves a topic's logical start forward (GC): the logs before seq vanish from every
  // reader at the commit. When no log is left the topic rolls to an empty segment, so
  // that all its old segments can be deleted.
  void set_start(std::string_view topic, uint64_t seq) { starts_.emplace_back(std::string(topic), seq); }

 private:
  friend class Store;
  struct BlobOp {
    uint8_t kind;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  std::span<const Entry> logs() const { return borrowed_.empty() ? std::span<const Entry>(entries_) : borrowed_; }

  Store& store_;
  std::vector<Entry> entries_;
  std::span<const Entry> borrowed_;  // Store::commit's entries, used in place of entries_
  std::vector<BlobOp> blobs_;
  std::deque<std::string> owned_;
  std::vector<std::pair<std::string, uint64_t>> starts_;
  bool sync_ = false;
};

class Store {
 public:
  enum class Mode { read, write };
  // Opens the store at dir. Mode::write creates it; Mode::read does not (a store that does
  // not exist yet reads as one with no topics).
  static Result<std::unique_ptr<Store>> open(const std::string& dir, Mode mode, StoreOptions opts = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& dir() const { return dir_; }
  const StoreOptions& options() const { return opts_; }

  // Commits entries as one atomic batch: every log or none. All share one timestamp.
  // ids (if given) receives each entry's id, in input order. With sync, success means the
  // batch is on disk (fdatasync); without, it survives any process crash.
  Status commit(std::span<const Entry> entries, bool sync, std::vector<LogId>* ids);

  // Runs fn under the writer lock; if it succeeds, commits what it staged atomically.
  // ids (if given) receives the ids of the staged logs, in order.
  Status transact(bool sync, const std::function<Status(Txn&)>& fn, std::vector<LogId>* ids = nullptr);

  // Makes every commit so far durable (what commit(..., sync=true) does for its own):
  // lets a stream of unsynced commits share one fsync.
  Status sync();
  // What sync() waits for, taken to run on another thread (Flush::run) while this one
  // commits on. It leaves the topics marked unsynced: the sync() that ends the stream
  // clears them.
  Result<Flush> flush_later();

  // Lists the topics (lock-free).
  std::vector<TopicInfo> topics();
  // A reader over one topic; invalid_topic if the store has no such topic.
  Result<std::unique_ptr<TopicReader>> reader(std::string_view topic);
  bool exists() const { return ctl_ != nullptr; }
  // A reader kept by the store for reuse (refreshed on each call).
  Result<TopicReader*> topic_reader(std::string_view topic);

  // Change notification: a counter bumped by every commit, and a wait for it to move.
  uint32_t change_counter() const;
  // Waits until change_counter() != seen or timeout_ms passes (-1: forever). If the store
  // does not exist yet, polls for it to appear.
  void wait_change(uint32_t seen, int timeout_ms);
  // Wakes every process waiting in wait_change() (no commit needed).
  void notify();
  // Re-tries attaching to a store that did not exist at open (read mode).
  Status refresh();

  // Verification (pp-check). report receives one line per problem. repair: cut torn
  // tails and rebuild indexes. cut (with repair): also cut a topic at a damaged record,
  // saving the valid logs after it to lost+found/ (without cut such damage is left as it
  // is: a repair never drops a valid committed log). Returns the number of problems found.
  // progress (optional) is told the records and bytes verified so far.
  Result<size_t> check(bool repair, bool cut, const std::function<void(std::string_view)>& report,
                       const std::function<void(uint64_t, uint64_t)>& progress = nullptr);

  // Internal: used by TopicReader.
  Control* control() const { return ctl_; }
  std::string topic_dir(std::string_view topic) const;

 private:
  Store(std::string dir, StoreOptions opts);
  Status attach(bool create);
  Status lock();
  void unlock();
  Status map_lock_block();
  Status build_lock_block();
  Status rebuild(bool verify_data);
  Status ensure_journal();
  void close_journal();
  Status rotate_journal_if_needed();
  // Starts a new journal holding one snapshot of the state (under the writer lock).
  Status rotate_journal();
  struct TopicFiles;
  Result<TopicFiles*> writer_files(uint32_t id, std::string_view name, const TopicHead& head);
  // Makes every topic's unsynced segment bytes durable; those the journal carries only
  // with carried_too (before the journal that carries them is replaced).
  Status sync_unsynced(bool carried_too = false);
  Status sync_topic(uint32_t id, std::string_view name, const TopicHead& head);
  // Calls fn with a descriptor of each segment of the topic holding unsynced bytes, the
  // oldest first (the descriptor is valid only during the call).
  Status each_unsynced_segment(uint32_t id, std::string_view name, const TopicHead& head,
                               const std::function<Status(int fd, const std::string& path)>& fn);
  Status commit_locked(const Txn& txn, bool sync, std::vector<LogId>* ids);
  Status apply_payload(Control& c, std::string_view payload);
  Status write_journal(std::string& rec, uint32_t flags);

  std::string dir_;
  StoreOptions opts_;
  int lock_fd_ = -1;
  LockBlock* lock_block_ = nullptr;  // the LOCK file, mapped: the writers' mutex
  int ctl_fd_ = -1;
  Control* ctl_ = nullptr;
  int journal_fd_ = -1;
  uint64_t journal_gen_ = 0;
  char* journal_map_ = nullptr;  // shared mapping of the journal (format::kJournalMapBytes)
  bool journal_grow_failed_ = false;  // the file system cannot reserve: pwrite only
  std::vector<std::unique_ptr<TopicFiles>> files_;  // by topic id, writer cache
  std::vector<char> scratch_;                       // a commit's records, reused (grown, never zeroed again)
  std::vector<struct iovec> gather_;                // a commit's headers and large bodies, in order
  std::vector<std::unique_ptr<TopicReader>> readers_;
  friend class Txn;
};

// Reads one topic. Lock-free; sees logs committed up to the head it last loaded.
class TopicReader {
 public:
  TopicReader(Store& store, std::string name, uint32_t slot);
  ~TopicReader();

  // Reloads the published head. Returns the [start, end) sequence range held.
  void refresh();
  uint64_t start() const;
  uint64_t end() const;
  const std::string& name() const { return name_; }

  // First sequence whose timestamp is >= ts (strict: > ts); end() if none.
  Result<uint64_t> seq_at_or_after(uint64_t ts, bool strict);
  // Timestamp of a held sequence.
  Result<uint64_t> ts_of(uint64_t seq);

  // Calls fn for each log in [from, to) oldest first (to clamped to end()); fn returns
  // false to stop early.
  Status scan(uint64_t from, uint64_t to, const std::function<bool(const LogView&)>& fn);
  // Same, with the logs in batches (those of one read of the segment, a few hundred KiB):
  // one call per batch instead of one per log, for loops that do little per log. The views
  // are valid until fn returns.
  Status scan_batches(uint64_t from, uint64_t to, const std::function<bool(std::span<const LogView>)>& fn);
  // Same, newest first over [from, to).
  Status scan_reverse(uint64_t from, uint64_t to, const std::function<bool(const LogView&)>& fn);

 private:
  struct Segment;
  Status load_segments();
  Result<Segment*> segment_for(uint64_t seq);
  Result<uint64_t> offset_for(Segment& seg, uint64_t seq, bool check = true);
  static bool hint_holds(const Segment& seg, uint64_t limit);
  Status read_index(Segment& seg);
  void release_segments(Segment* keep);
  template <class Sink>
  Status scan_with(uint64_t from, uint64_t to, Sink& sink);

  Store& store_;
  std::string name_;
  uint32_t slot_;
  std::unique_ptr<TopicHead> head_;
  std::vector<std::unique_ptr<Segment>> segs_;
  uint64_t segs_for_base_ = UINT64_MAX;  // seg_base the list was loaded for
  uint64_t windows_gen_ = 0;             // journal generation the segments' windows were read in
  std::vector<LogView> batch_;           // scan_batches' views, reused
};

}  // namespace pipeproc
