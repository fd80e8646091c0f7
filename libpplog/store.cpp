// The store's write side: opening, the writer lock, commits, journal rotation and the
// rebuild of the control block from the files (recovery). Readers live in reader.cpp.
//
// Commit protocol (docs/format.md, "Journal"): under the writer lock, mark the control block
// dirty, append records to each topic's segment (and sparse index), fdatasync every segment
// holding unsynced data when the commit is durable, append one journal record — the commit
// point — then publish the new heads, clear dirty and wake waiters. A durable commit then
// fdatasyncs the journal outside the lock, so concurrent committers share that fsync.
// A small durable commit to existing segments carries its record bytes in the journal
// record instead (topic_data ops): its segments are not fdatasync'd, and the journal's
// fsync alone makes it durable; recovery after a reboot writes carried bytes back.
#include "pipeproc/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "control.h"
#include "journal.h"
#include "posix.h"
#include "record.h"
#include "segment.h"
#include "store_files.h"

namespace pipeproc {

using namespace format;

namespace {

// A commit whose bodies average at least this many bytes writes them from where they are
// (pwritev) rather than copying them next to their headers first.
constexpr size_t kGatherBody = 1024;

bool header_valid(const Control& c, bool check_boot) {
  if (c.h.magic != kControlMagic || c.h.version != kControlVersion || c.h.max_topics != kMaxTopics) return false;
  if (c.h.initialized.load(std::memory_order_acquire) != 1) return false;
  if (check_boot && std::string_view(c.h.boot_id) != boot_id()) return false;
  return true;
}

uint64_t env_u64(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  uint64_t n = std::strtoull(v, &end, 10);
  return (end && *end == 0 && n > 0) ? n : fallback;
}

// Sizes a shared file to n bytes under a flock of lock_fd, blocks reserved (a sparse
// mapping would fault on a full disk when first written).
Status size_under_flock(int lock_fd, int fd, size_t n, const std::string& path) {
  auto size = posix::file_size(fd, path);
  if (!size.ok()) return size.status();
  if (*size >= n) return {};
  while (::flock(lock_fd, LOCK_EX) != 0 && errno == EINTR) {}
  Status st;
  auto again = posix::file_size(fd, path);
  if (again.ok() && *again < n) {
    int err = ::posix_fallocate(fd, 0, static_cast<off_t>(n));
    if (err == EOPNOTSUPP || err == EINVAL) {
      st = posix::truncate_file(fd, n, path);
    } else if (err != 0) {
      (void)posix::truncate_file(fd, *again, path);
      st = errno_status(err, "reserve " + path);
    }
  }
  ::flock(lock_fd, LOCK_UN);
  return st;
}

bool lock_block_ready(const LockBlock& b) {
  return b.ready.load(std::memory_order_acquire) == 1 && b.magic == kLockMagic &&
         std::string_view(b.boot_id) == boot_id();
}
}  // namespace

Result<std::unique_ptr<Store>> Store::open(const std::string& dir, Mode mode, StoreOptions opts) {
  opts.segment_bytes = env_u64("PIPEPROC_SEGMENT_BYTES", opts.segment_bytes);
  std::unique_ptr<Store> s(new Store(dir, opts));
  PP_RETURN_IF_ERROR(s->attach(mode == Mode::write));
  return s;
}

Store::Store(std::string dir, StoreOptions opts) : dir_(std::move(dir)), opts_(opts) {}

Store::~Store() {
  if (ctl_) ::munmap(ctl_, kControlSize);
  if (lock_block_) ::munmap(lock_block_, kLockFileSize);
  if (ctl_fd_ >= 0) ::close(ctl_fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);
  close_journal();
}

void Store::close_journal() {
  if (journal_map_) ::munmap(journal_map_, kJournalMapBytes);
  journal_map_ = nullptr;
  if (journal_fd_ >= 0) ::close(journal_fd_);
  journal_fd_ = -1;
}

std::string Store::topic_dir(std::string_view topic) const {
  std::string d = dir_;
  d += "/topics/";
  d += topic;
  return d;
}

Status Store::refresh() {
  if (ctl_) return {};
  return attach(false);
}

Status Store::attach(bool create) {
  if (ctl_) return {};
  if (create) {
    PP_RETURN_IF_ERROR(posix::make_dirs(dir_ + "/topics"));
  } else if (!posix::exists(dir_ + "/journal")) {
    return {};  // no store yet: no topics
  }
  if (lock_fd_ < 0) {
    auto lf = posix::open_file(dir_ + "/LOCK", O_RDWR | O_CREAT);
    if (!lf.ok()) return lf.status();
    lock_fd_ = lf->release();
  }
  PP_RETURN_IF_ERROR(map_lock_block());
  auto cf = posix::open_file(dir_ + "/control", O_RDWR | O_CREAT);
  if (!cf.ok()) return cf.status();
  // A new (or deleted and re-created) control block is sized under the flock so that no
  // process maps a short file. The zero bytes read as "not initialized": rebuilt below.
  PP_RETURN_IF_ERROR(size_under_flock(lock_fd_, cf->get(), kControlSize, dir_ + "/control"));
  void* p = ::mmap(nullptr, kControlSize, PROT_READ | PROT_WRITE, MAP_SHARED, cf->get(), 0);
  if (p == MAP_FAILED) return errno_status(errno, "mmap " + dir_ + "/control");
  ctl_ = static_cast<Control*>(p);
  ctl_fd_ = cf->release();
  if (!header_valid(*ctl_, true)) {
    PP_RETURN_IF_ERROR(lock());
    unlock();
  }
  return {};
}

Status Store::map_lock_block() {
  if (lock_block_) return {};
  PP_RETURN_IF_ERROR(size_under_flock(lock_fd_, lock_fd_, kLockFileSize, dir_ + "/LOCK"));
  void* p = ::mmap(nullptr, kLockFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, lock_fd_, 0);
  if (p == MAP_FAILED) return errno_status(errno, "mmap " + dir_ + "/LOCK");
  lock_block_ = static_cast<LockBlock*>(p);
  return {};
}

Status Store::build_lock_block() {
  // Under the flock, so that one process of this boot builds the mutex, once.
  while (::flock(lock_fd_, LOCK_EX) != 0) {
    if (errno != EINTR) return errno_status(errno, "lock " + dir_ + "/LOCK");
  }
  LockBlock& b = *lock_block_;
  Status st;
  if (!lock_block_ready(b)) {
    b.ready.store(0, std::memory_order_relaxed);
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    std::memset(static_cast<void*>(&b.mutex), 0, sizeof b.mutex);
    if (int err = pthread_mutex_init(&b.mutex, &attr); err != 0) st = errno_status(err, "init " + dir_ + "/LOCK");
    pthread_mutexattr_destroy(&attr);
    b.magic = kLockMagic;
    std::snprintf(b.boot_id, sizeof b.boot_id, "%s", std::string(boot_id()).c_str());
    if (st.ok()) b.ready.store(1, std::memory_order_release);
  }
  ::flock(lock_fd_, LOCK_UN);
  return st;
}

Status Store::lock() {
  if (!lock_block_ready(*lock_block_)) PP_RETURN_IF_ERROR(build_lock_block());
  int err = pthread_mutex_lock(&lock_block_->mutex);
  if (err == EOWNERDEAD) {
    // Its holder died: the lock is ours. Whatever it left half done, the control block's
    // dirty flag says (rebuilt below).
    pthread_mutex_consistent(&lock_block_->mutex);
  } else if (err != 0) {
    return errno_status(err, "lock " + dir_ + "/LOCK");
  }
  Status st;
  bool same_boot = header_valid(*ctl_, true);
  if (!same_boot || ctl_->h.dirty.load(std::memory_order_relaxed)) {
    // Data needs checking against the journal unless this boot's page cache holds it all.
    st = rebuild(!same_boot);
  }
  if (st.ok()) st = ensure_journal();
  if (!st.ok()) unlock();
  return st;
}

namespace {
// Whether blocks a file took by written zeros stay its own when the zeros are overwritten
// through a mapping. On copy-on-write file systems (btrfs, zfs, ...) and on ones not known
// here, an overwrite needs new blocks, and on a full disk a store to the mapping would kill
// the process with SIGBUS instead of failing a write: the journal is written with pwrite.
// (xfs shares blocks too, but only between reflinked copies: a journal copied with
// `cp --reflink` and then written on a full disk is the one case left.)
bool overwrites_in_place(int fd) {
  struct statfs fs {};
  if (::fstatfs(fd, &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53:      // ext2, ext3, ext4
    case 0x58465342:  // xfs
    case 0x01021994:  // tmpfs
      return true;
    default:
      return false;
  }
}
}  // namespace

void Store::unlock() { pthread_mutex_unlock(&lock_block_->mutex); }

Status Store::ensure_journal() {
  uint64_t gen = ctl_->h.journal_gen.load(std::memory_order_relaxed);
  if (journal_fd_ >= 0 && journal_gen_ == gen) return {};
  close_journal();
  std::string path = dir_ + "/journal";
  auto f = posix::open_file(path, O_RDWR);
  if (!f.ok()) return f.status();
  char hdr[kJournalHeaderSize];
  auto n = posix::pread_full(f->get(), hdr, sizeof hdr, 0, path);
  if (!n.ok()) return n.status();
  auto g = *n == sizeof hdr ? decode_file_header(hdr, kJournalMagic, kJournalVersion) : std::nullopt;
  if (!g) return Status(Code::corrupt_record, path + ": bad journal header");
  // Mapping past the end of the file is allowed; only the bytes below journal_size (the
  // file's size, kept by writers under the lock) are ever touched. A file found shorter
  // (cut by hand) lowers it: a copy past the end of a mapped file would fault.
  auto size = posix::file_size(f->get(), path);
  if (!size.ok()) return size.status();
  if (*size < ctl_->h.journal_size.load(std::memory_order_relaxed))
    ctl_->h.journal_size.store(*size, std::memory_order_relaxed);
  void* m = MAP_FAILED;
  if (overwrites_in_place(f->get()) && !std::getenv("PIPEPROC_TEST_JOURNAL_PWRITE"))
    m = ::mmap(nullptr, kJournalMapBytes, PROT_READ | PROT_WRITE, MAP_SHARED, f->get(), 0);
  journal_map_ = m == MAP_FAILED ? nullptr : static_cast<char*>(m);
  journal_fd_ = f->release();
  journal_gen_ = *g;
  return {};
}

Status Store::write_journal(std::string& rec, uint32_t flags) {
  seal_journal_record(rec, flags);
  Control& c = *ctl_;
  uint64_t at = c.h.journal_end.load(std::memory_order_relaxed);
  uint64_t need = at + rec.size();
  uint64_t size = c.h.journal_size.load(std::memory_order_relaxed);
  if (journal_map_ && need <= kJournalMapBytes) {
    if (need > size && !journal_grow_failed_) {
      // Grow the file by the next step, written with zeros: the blocks are reserved now (a
      // full disk is an error here, not a fault in the mapping later) and the pages are in
      // the page cache (writes to the mapping take a minor fault per page; fallocate'd pages
      // cost several times more, read in and converted one by one). Readers of the file
      // stop at the zeros after the last record. The zeros come from a small block that is
      // never written (a large one would cost a page fault per page in every process).
      uint64_t grow = std::min(kJournalMapBytes, (need + kJournalGrowBytes - 1) / kJournalGrowBytes * kJournalGrowBytes);
      static const char zeros[64 << 10] = {};
      while (size < grow && !journal_grow_failed_) {
        uint64_t n = std::min<uint64_t>(grow - size, sizeof zeros);
        if (posix::pwrite_all(journal_fd_, zeros, n, size, dir_ + "/journal").ok()) {
          size += n;
          c.h.journal_size.store(size, std::memory_order_relaxed);
        } else {
          journal_grow_failed_ = true;  // no room or a size limit: the pwrite below says which
        }
      }
    }
    if (need <= size) {
      std::memcpy(journal_map_ + at, rec.data(), rec.size());
      return {};
    }
  }
  PP_RETURN_IF_ERROR(posix::pwrite_all(journal_fd_, rec.data(), rec.size(), at, dir_ + "/journal"));
  if (need > size) c.h.journal_size.store(need, std::memory_order_relaxed);
  return {};
}

Status Store::apply_payload(Control& c, std::string_view payload) {
  return decode_ops(payload, [&](const OpView& op) -> Status {
    switch (op.op) {
      case Op::topic_create: {
        if (op.id != c.h.topic_count.load(std::memory_order_relaxed) || op.id >= kMaxTopics || op.name.empty() ||
            op.name.size() > sizeof(TopicSlot::name))
          return Status(Code::corrupt_record, "journal: topic id out of order");
        TopicSlot& s = c.topics[op.id];
        std::memcpy(s.name, op.name.data(), op.name.size());
        s.id = op.id;
        publish_head(s, TopicHead{});
        s.name_len.store(static_cast<uint32_t>(op.name.size()), std::memory_order_release);
        c.h.topic_count.store(op.id + 1, std::memory_order_release);
        return {};
      }
      case Op::topic_head:
      case Op::topic_start: {
        if (op.id >= c.h.topic_count.load(std::memory_order_relaxed))
          return Status(Code::corrupt_record, "journal: head of an unknown topic");
        TopicSlot& s = c.topics[op.id];
        TopicHead h = writer_head(s);
        if (op.op == Op::topic_head) {
          h.end = op.end;
          h.seg_base = op.seg_base;
          h.seg_end = op.seg_end;
          h.last_ts = op.last_ts;
        } else {
          h.start = op.start;
        }
        publish_head(s, h);
        return {};
      }
      case Op::clock:
        if (op.ts > c.h.last_ts.load(std::memory_order_relaxed)) c.h.last_ts.store(op.ts, std::memory_order_relaxed);
        return {};
      case Op::blob_put: {
        if (op.name.empty() || op.name.size() > kMaxBlobKey || op.value.size() > kMaxBlobValue || op.kind == 0)
          return Status(Code::corrupt_record, "journal: bad state record");
        int at = find_blob(c, op.kind, op.name);
        if (at < 0) {
          for (uint32_t i = 0; i < c.h.blob_count && at < 0; ++i)
            if (c.blobs[i].kind == 0) at = static_cast<int>(i);
          if (at < 0) {
            if (c.h.blob_count >= kMaxBlobs) return Status(Code::store_full, "the store holds its maximum of state records");
            at = static_cast<int>(c.h.blob_count++);
          }
        }
        BlobSlot& b = c.blobs[at];
        b.kind = op.kind;
        b.key_len = static_cast<uint16_t>(op.name.size());
        std::memcpy(b.key, op.name.data(), op.name.size());
        b.val_len = static_cast<uint32_t>(op.value.size());
        std::memcpy(b.val, op.value.data(), op.value.size());
        return {};
      }
      case Op::blob_del: {
        int at = find_blob(c, op.kind, op.name);
        if (at >= 0) c.blobs[at].kind = 0;
        return {};
      }
      case Op::topic_data:  // the bytes are in the segment already (recovery writes them back)
        if (op.id >= c.h.topic_count.load(std::memory_order_relaxed))
          return Status(Code::corrupt_record, "journal: data of an unknown topic");
        return {};
    }
    return {};
  });
}

Result<Store::TopicFiles*> Store::writer_files(uint32_t id, std::string_view name, const TopicHead& head) {
  if (files_.size() <= id) files_.resize(id + 1);
  if (!files_[id]) files_[id] = std::make_unique<TopicFiles>();
  TopicFiles& f = *files_[id];
  if (f.seg_base == head.seg_base && f.seg.valid()) return &f;
  std::string tdir = topic_dir(name);
  f.seg_path = tdir + "/" + segment_file_name(head.seg_base, ".log");
  f.idx_path = tdir + "/" + segment_file_name(head.seg_base, ".idx");
  auto sf = posix::open_file(f.seg_path, O_RDWR);
  if (!sf.ok()) return sf.status();
  auto xf = posix::open_file(f.idx_path, O_RDWR | O_CREAT);
  if (!xf.ok()) return xf.status();
  // Bytes past the committed head (a torn write whose writer died, or anything else
  // appended) are cut before this writer appends after the head.
  auto size = posix::file_size(sf->get(), f.seg_path);
  if (!size.ok()) return size.status();
  if (*size > head.seg_end && head.seg_end >= kSegmentHeaderSize)
    PP_RETURN_IF_ERROR(posix::truncate_file(sf->get(), head.seg_end, f.seg_path));
  if (*size < head.seg_end)
    return Status(Code::corrupt_record, f.seg_path + ": " + std::to_string(head.seg_end - *size) +
                                            " committed bytes are missing (pp-check --repair --cut)");
  f.seg = std::move(*sf);
  f.idx = std::move(*xf);
  f.seg_base = head.seg_base;
  return &f;
}

// The topic's current segment, and first every older one a --no-sync stream rolled away
// from (TopicSlot::unsynced names the oldest).
Status Store::each_unsynced_segment(uint32_t id, std::string_view name, const TopicHead& head,
                                    const std::function<Status(int fd, const std::string& path)>& fn) {
  const TopicSlot& s = ctl_->topics[id];
  if (s.unsynced && s.unsynced - 1 < head.seg_base) {
    uint64_t from = s.unsynced - 1;
    std::string tdir = topic_dir(name);
    auto bases = list_segments(tdir);
    if (!bases.ok()) return bases.status();
    for (uint64_t b : *bases) {
      if (b < from || b >= head.seg_base) continue;
      std::string path = tdir + "/" + segment_file_name(b, ".log");
      posix::Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
      if (!f.valid() && errno == ENOENT) continue;  // collected meanwhile
      if (!f.valid()) return errno_status(errno, "open " + path);
      PP_RETURN_IF_ERROR(fn(f.get(), path));
    }
  }
  auto f = writer_files(id, name, head);
  if (!f.ok()) return f.status();
  return fn((*f)->seg.get(), (*f)->seg_path);
}

Status Store::sync_topic(uint32_t id, std::string_view name, const TopicHead& head) {
  PP_RETURN_IF_ERROR(each_unsynced_segment(id, name, head, posix::sync_data));
  TopicSlot& s = ctl_->topics[id];
  s.unsynced = 0;
  s.carried = 0;
  return {};
}

Status Store::sync_unsynced(bool carried_too) {
  Control& c = *ctl_;
  uint32_t n = c.h.topic_count.load(std::memory_order_relaxed);
  for (uint32_t id = 0; id < n; ++id) {
    const TopicSlot& s = c.topics[id];
    if (s.unsynced && (carried_too || !s.carried))
      PP_RETURN_IF_ERROR(sync_topic(id, slot_name(s), writer_head(s)));
  }
  return {};
}

namespace {
// Releases the writer lock when a commit leaves early.
class LockGuard {
 public:
  explicit LockGuard(std::function<void()> unlock) : unlock_(std::move(unlock)) {}
  ~LockGuard() { release(); }
  void release() {
    if (unlock_) unlock_();
    unlock_ = nullptr;
  }

 private:
  std::function<void()> unlock_;
};
}  // namespace

Status Store::commit(std::span<const Entry> entries, bool sync, std::vector<LogId>* ids) {
  if (entries.empty()) return {};
  return transact(
      sync,
      [&](Txn& t) {
        t.borrowed_ = entries;  // valid until transact returns: no copy of a large batch
        return Status{};
      },
      ids);
}

Status Store::transact(bool sync, const std::function<Status(Txn&)>& fn, std::vector<LogId>* ids) {
  if (!ctl_) PP_RETURN_IF_ERROR(attach(true));
  if (ids) ids->clear();
  PP_RETURN_IF_ERROR(lock());
  LockGuard guard([this] { unlock(); });
  Txn txn(*this);
  PP_RETURN_IF_ERROR(fn(txn));
  if (txn.logs().empty() && txn.blobs_.empty() && txn.starts_.empty()) return {};
  sync = sync || txn.sync_;
  PP_RETURN_IF_ERROR(commit_locked(txn, sync, ids));
  if (!sync) return {};
  // The journal fsync runs outside the lock, so concurrent committers share it.
  int jfd = ::dup(journal_fd_);
  guard.release();
  if (jfd < 0) return errno_status(errno, "dup journal");
  Status st = posix::sync_data(jfd, dir_ + "/journal");
  ::close(jfd);
  return st;
}

// Writes one commit; the writer lock is held. Validates everything before changing anything.
Status Store::commit_locked(const Txn& txn, bool sync, std::vector<LogId>* ids) {
  std::span<const Entry> entries = txn.logs();
  const std::vector<Txn::BlobOp>& blobs = txn.blobs_;
  // Validate everything before changing anything.
  struct Group {
    std::string_view name;
    uint32_t slot = 0;
    bool fresh = false;
    std::vector<uint32_t> members;
    TopicHead head;
    uint64_t idx_count = 0, idx_last_off = 0;
    uint64_t unsynced_from = UINT64_MAX;  // oldest segment this commit wrote without fdatasync
  };
  std::vector<Group> groups;
  for (uint32_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.body.size() > kMaxRecordBody)
      return Status(Code::record_too_large, "body of " + std::to_string(e.body.size()) +
                                                " bytes is over the limit of " + std::to_string(kMaxRecordBody));
    // Most batches are one topic, usually one string for all entries: the last group and
    // the view's pointer first.
    auto same = [](std::string_view x, std::string_view y) {
      return x.size() == y.size() && (x.data() == y.data() || x == y);
    };
    Group* g = nullptr;
    for (size_t k = groups.size(); !g && k > 0; --k)
      if (same(groups[k - 1].name, e.topic)) g = &groups[k - 1];
    if (!g) {
      PP_RETURN_IF_ERROR(check_name(e.topic));
      g = &groups.emplace_back();
      g->name = e.topic;
    }
    g->members.push_back(i);
  }
  for (const auto& b : blobs) {
    if (b.key.empty() || b.key.size() > kMaxBlobKey || (b.value && b.value->size() > kMaxBlobValue))
      return Status(Code::invalid_name, "state record too large");
  }
  if (ids) ids->assign(entries.size(), LogId{});
  Control& c = *ctl_;
  // From here until the publish below, a death leaves dirty set: the next writer rebuilds.
  c.h.dirty.store(1, std::memory_order_relaxed);
  PP_RETURN_IF_ERROR(rotate_journal_if_needed());
  // One timestamp for the batch: never before the last log of any topic in it.
  uint64_t ts = now_ms();
  for (Group& g : groups)
    if (int found = find_topic(c, g.name); found >= 0) ts = std::max(ts, writer_head(c.topics[found]).last_ts);

  // Carry the records in the journal record? Only a durable commit of few bytes, to
  // segments that exist on disk and hold no unsynced bytes but carried ones.
  bool carry = sync && txn.starts_.empty() && entries.size() * kRecordHeaderSize <= kCarryBytes;
  for (size_t k = 0, carried_bytes = 0; carry && k < groups.size(); ++k) {
    const Group& g = groups[k];
    int found = find_topic(c, g.name);
    if (found < 0) {
      carry = false;
      break;
    }
    const TopicSlot& s = c.topics[found];
    TopicHead h = writer_head(s);
    for (uint32_t i : g.members) carried_bytes += kRecordHeaderSize + entries[i].body.size();
    carry = (s.unsynced == 0 || s.carried) && carried_bytes <= kCarryBytes &&
            !(h.seg_end > kSegmentHeaderSize && h.seg_end + carried_bytes > opts_.segment_bytes);
  }

  std::string payload(kJournalRecordHeaderSize, '\0');
  uint32_t next_id = c.h.topic_count.load(std::memory_order_relaxed);
  std::string idx;
  for (Group& g : groups) {
    int found = find_topic(c, g.name);
    g.fresh = found < 0;
    if (g.fresh) {
      if (next_id >= kMaxTopics)
        return Status(Code::store_full, "the store holds its maximum of " + std::to_string(kMaxTopics) + " topics");
      g.slot = next_id++;
      op_topic_create(payload, g.slot, g.name);
      PP_RETURN_IF_ERROR(create_segment(topic_dir(g.name), 0, sync));
      g.head = TopicHead{0, 0, 0, kSegmentHeaderSize, 0};
    } else {
      g.slot = static_cast<uint32_t>(found);
      g.head = writer_head(c.topics[g.slot]);
      g.idx_count = c.topics[g.slot].idx_count;
      g.idx_last_off = c.topics[g.slot].idx_last_off;
    }
    uint64_t batch_bytes = 0;
    for (uint32_t i : g.members) batch_bytes += kRecordHeaderSize + entries[i].body.size();
    if (g.head.seg_end > kSegmentHeaderSize && g.head.seg_end + batch_bytes > opts_.segment_bytes) {
      // Roll to a new segment. A durable commit makes the old one durable first; a
      // --no-sync one leaves it to the next durable commit, which syncs every segment
      // from the oldest unsynced one (TopicSlot::unsynced).
      if (sync && c.topics[g.slot].unsynced) {
        PP_RETURN_IF_ERROR(sync_topic(g.slot, g.name, g.head));
      } else if (!sync && !g.fresh) {
        g.unsynced_from = std::min(g.unsynced_from, g.head.seg_base);
      }
      PP_RETURN_IF_ERROR(create_segment(topic_dir(g.name), g.head.end, sync));
      g.head.seg_base = g.head.end;
      g.head.seg_end = kSegmentHeaderSize;
      g.idx_count = 0;
      g.idx_last_off = 0;
    }
    auto files = writer_files(g.slot, g.name, g.head);
    if (!files.ok()) return files.status();
    // Large bodies go to the kernel from where they are, behind headers written apart:
    // copying them into one buffer first cost as much as the write itself. Small ones are
    // copied (a piece per record would cost more than the copy), as are carried ones (the
    // journal record needs them in one piece).
    const size_t n = g.members.size();
    const bool gather = !carry && batch_bytes >= n * (kRecordHeaderSize + kGatherBody);
    const size_t need = gather ? n * kRecordHeaderSize : batch_bytes;
    if (scratch_.size() < need) scratch_.resize(std::max<size_t>(need, scratch_.size() * 2));
    char* const buf = scratch_.data();
    if (gather) gather_.clear();
    size_t len = 0;
    idx.clear();
    for (size_t k = 0; k < n; ++k) {
      const uint32_t i = g.members[k];
      uint64_t off = g.head.seg_end + len;
      uint64_t seq = g.head.end++;
      if (g.idx_count == 0 || off - g.idx_last_off >= kIndexInterval) {
        char e[kIndexEntrySize];
        encode_index_entry(e, IndexEntry{seq, ts, off});
        idx.append(e, sizeof e);
        ++g.idx_count;
        g.idx_last_off = off;
      }
      std::string_view body = entries[i].body;
      if (gather) {
        char* h = buf + k * kRecordHeaderSize;
        encode_record_header(h, seq, ts, body);
        gather_.push_back(iovec{h, kRecordHeaderSize});
        if (!body.empty()) gather_.push_back(iovec{const_cast<char*>(body.data()), body.size()});
        len += kRecordHeaderSize + body.size();
      } else {
        len += encode_record(buf + len, seq, ts, body);
      }
      if (ids) (*ids)[i] = LogId{ts, seq};
    }
    TopicFiles& f = **files;
    if (gather) {
      PP_RETURN_IF_ERROR(posix::pwritev_all(f.seg.get(), gather_, g.head.seg_end, f.seg_path));
    } else {
      PP_RETURN_IF_ERROR(posix::pwrite_all(f.seg.get(), buf, len, g.head.seg_end, f.seg_path));
    }
    if (!idx.empty()) {
      uint64_t at = kIndexHeaderSize + g.idx_count * kIndexEntrySize - idx.size();
      PP_RETURN_IF_ERROR(posix::pwrite_all(f.idx.get(), idx.data(), idx.size(), at, f.idx_path));
    }
    if (carry) op_topic_data(payload, g.slot, g.head.seg_base, g.head.seg_end, std::string_view(buf, len));
    g.head.seg_end += len;
    g.head.last_ts = ts;
    op_topic_head(payload, g.slot, g.head.end, g.head.seg_base, g.head.seg_end, ts);
    if (carry) {
      g.unsynced_from = g.head.seg_base;
    } else if (sync) {
      PP_RETURN_IF_ERROR(sync_topic(g.slot, g.name, g.head));
    } else {
      g.unsynced_from = std::min(g.unsynced_from, g.head.seg_base);
    }
  }
  const bool few_blobs = blobs.size() <= 64;
  for (size_t i = 0; i < blobs.size(); ++i) {
    const auto& b = blobs[i];
    // A key written again later in the same commit: only its last value is stored (an
    // ack then the next claim rewrite one proc's state). Few ops: a plain search.
    bool superseded = false;
    for (size_t k = i + 1; k < blobs.size() && !superseded && few_blobs; ++k)
      superseded = blobs[k].kind == b.kind && blobs[k].key == b.key;
    if (superseded) continue;
    if (b.value) {
      op_blob_put(payload, b.kind, b.key, *b.value);
    } else {
      op_blob_del(payload, b.kind, b.key);
    }
  }
  for (const auto& [name, seq] : txn.starts_) {
    int id = find_topic(c, name);
    if (id < 0) return Status(Code::invalid_topic, "no topic named '" + name + "'");
    TopicHead h = writer_head(c.topics[id]);
    for (const Group& g : groups)
      if (g.slot == static_cast<uint32_t>(id)) h = g.head;
    if (seq < h.start || seq > h.end)
      return Status(Code::invalid_range_offset, "topic '" + name + "' cannot start at " + std::to_string(seq));
    op_topic_start(payload, static_cast<uint32_t>(id), seq);
    if (seq == h.end && h.seg_end > kSegmentHeaderSize) {
      // Nothing left: continue in an empty segment so the old ones can all go.
      PP_RETURN_IF_ERROR(create_segment(topic_dir(name), h.end, sync));
      op_topic_head(payload, static_cast<uint32_t>(id), h.end, h.end, kSegmentHeaderSize, h.last_ts);
      TopicSlot& s = c.topics[id];
      s.idx_count = 0;
      s.idx_last_off = 0;
      // Until a sync, the new file may not be on disk: nothing can be carried into it.
      if (!sync && !s.unsynced) s.unsynced = 1 + h.end;
      s.carried = 0;
    }
  }
  op_clock(payload, ts);
  uint32_t flags = 0;
  if (sync) {
    // Other topics' unsynced data goes to disk too: a synced journal record vouches for
    // everything before it (recovery trusts data up to the last synced record).
    PP_RETURN_IF_ERROR(sync_unsynced());
    flags |= kJournalFlagSynced;
  }
  PP_RETURN_IF_ERROR(write_journal(payload, flags));
  // The commit point has passed: publish.
  PP_RETURN_IF_ERROR(apply_payload(c, std::string_view(payload).substr(kJournalRecordHeaderSize)));
  for (Group& g : groups) {
    TopicSlot& s = c.topics[g.slot];
    s.idx_count = g.idx_count;
    s.idx_last_off = g.idx_last_off;
    if (sync && !carry) {
      s.unsynced = 0;
      s.carried = 0;
    } else {
      if (s.unsynced == 0 || s.unsynced - 1 > g.unsynced_from) s.unsynced = 1 + g.unsynced_from;
      s.carried = carry;
    }
  }
  c.h.journal_end.fetch_add(payload.size(), std::memory_order_relaxed);
  c.h.txid.fetch_add(1, std::memory_order_relaxed);
  c.h.dirty.store(0, std::memory_order_release);
  wake_all(c);
  return {};
}

std::optional<std::string> Txn::get(uint8_t kind, std::string_view key) const {
  for (auto it = blobs_.rbegin(); it != blobs_.rend(); ++it)
    if (it->kind == kind && it->key == key) return it->value;
  const Control& c = *store_.ctl_;
  int at = find_blob(c, kind, key);
  if (at < 0) return std::nullopt;
  return std::string(c.blobs[at].val, c.blobs[at].val_len);
}

std::vector<std::pair<std::string, std::string>> Txn::list(uint8_t kind) const {
  std::vector<std::pair<std::string, std::string>> out;
  const Control& c = *store_.ctl_;
  for (uint32_t i = 0; i < c.h.blob_count; ++i) {
    const BlobSlot& b = c.blobs[i];
    if (b.kind != kind) continue;
    std::string key(b.key, b.key_len);
    if (auto v = get(kind, key)) out.emplace_back(key, std::move(*v));
  }
  for (const auto& op : blobs_) {  // staged creations
    if (op.kind != kind || !op.value || find_blob(c, kind, op.key) >= 0) continue;
    bool seen = false;
    for (auto& kv : out) seen = seen || kv.first == op.key;
    if (!seen)
      if (auto v = get(kind, op.key)) out.emplace_back(op.key, std::move(*v));
  }
  return out;
}

void Txn::put(uint8_t kind, std::string_view key, std::string value) {
  blobs_.push_back(BlobOp{kind, std::string(key), std::move(value)});
}
void Txn::del(uint8_t kind, std::string_view key) { blobs_.push_back(BlobOp{kind, std::string(key), std::nullopt}); }
void Txn::add_owned(std::string topic, std::string body) {
  owned_.push_back(std::move(topic));
  std::string_view t = owned_.back();
  owned_.push_back(std::move(body));
  entries_.push_back(Entry{t, owned_.back()});
}

Status Store::sync() {
  if (!ctl_) return {};
  PP_RETURN_IF_ERROR(lock());
  Status st = sync_unsynced();
  int jfd = st.ok() ? ::dup(journal_fd_) : -1;
  unlock();
  PP_RETURN_IF_ERROR(st);
  if (jfd < 0) return errno_status(errno, "dup journal");
  st = posix::sync_data(jfd, dir_ + "/journal");
  ::close(jfd);
  return st;
}

Result<Flush> Store::flush_later() {
  Flush out;
  if (!ctl_) return out;
  auto keep = [&out](int fd, const std::string& path) -> Status {
    int d = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d < 0) return errno_status(errno, "dup " + path);
    out.files_.push_back(Flush::File{d, path});
    return {};
  };
  PP_RETURN_IF_ERROR(lock());
  Status st;
  Control& c = *ctl_;
  uint32_t n = c.h.topic_count.load(std::memory_order_relaxed);
  for (uint32_t id = 0; id < n && st.ok(); ++id) {
    const TopicSlot& s = c.topics[id];
    if (s.unsynced && !s.carried) st = each_unsynced_segment(id, slot_name(s), writer_head(s), keep);
  }
  if (st.ok()) st = keep(journal_fd_, dir_ + "/journal");
  unlock();
  PP_RETURN_IF_ERROR(st);
  return out;
}

Flush& Flush::operator=(Flush&& o) noexcept {
  if (this != &o) {
    close_all();
    files_ = std::move(o.files_);
    o.files_.clear();
  }
  return *this;
}

Flush::~Flush() { close_all(); }

void Flush::close_all() noexcept {
  for (const File& f : files_) ::close(f.fd);
  files_.clear();
}

Status Flush::run() {
  Status st;
  for (const File& f : files_) {
    st = posix::sync_data(f.fd, f.path);
    if (!st.ok()) break;
  }
  close_all();
  return st;
}

std::vector<TopicInfo> Store::topics() {
  std::vector<TopicInfo> out;
  if (!ctl_) return out;
  uint32_t n = ctl_->h.topic_count.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < n && i < kMaxTopics; ++i) {
    const TopicSlot& s = ctl_->topics[i];
    auto name = slot_name(s);
    if (name.empty()) continue;
    TopicHead h = read_head(s);
    out.push_back(TopicInfo{std::string(name), h.start, h.end, h.last_ts});
  }
  return out;
}

uint32_t Store::change_counter() const {
  return ctl_ ? ctl_->h.futex.load(std::memory_order_acquire) : 0;
}

void Store::notify() {
  if (ctl_) wake_all(*ctl_);
}

void Store::wait_change(uint32_t seen, int timeout_ms) {
  if (!ctl_) {
    // No store yet: poll for it to appear (at most every 50 ms).
    int step = timeout_ms < 0 ? 50 : std::min(timeout_ms, 50);
    ::usleep(static_cast<useconds_t>(step) * 1000);
    (void)refresh();
    return;
  }
  pipeproc::wait_change(*ctl_, seen, timeout_ms);
}

}  // namespace pipeproc
