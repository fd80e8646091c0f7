// Recovery: rebuilding the control block from the journal and segments, and journal
// rotation. Both run under the writer lock.
//
// Policy (as in the reader of a log): a journal record cut short at the end of the file
// means its writer died — dropped quietly; a bad record followed by more records is
// corruption — reported, never skipped. After a reboot (or when the control block is
// gone) the segment bytes that journal records carry (topic_data) are written back where
// they differ, and the data behind journal records written after the last synced one is
// verified, since it may not have reached the disk; the journal is cut at the first that
// fails.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "control.h"
#include "journal.h"
#include "pipeproc/store.h"
#include "posix.h"
#include "record.h"
#include "segment.h"
#include "store_files.h"

namespace pipeproc {

using namespace format;

namespace {

struct JournalRecord {
  uint64_t offset;
  uint32_t flags;
  std::string_view payload;
};

bool all_zero(std::string_view s) {
  for (char ch : s)
    if (ch != 0) return false;
  return true;
}

// The first valid record at or after byte from, if any (evidence that a bad record before
// it is damage, not a torn write).
std::optional<uint64_t> valid_record_after(std::string_view data, uint64_t from) {
  for (uint64_t q = from; q + kJournalRecordHeaderSize <= data.size(); ++q) {
    const char* r = data.data() + q;
    uint32_t l2 = get_u32(r + 8);
    if (l2 == 0 || l2 > data.size() - q - kJournalRecordHeaderSize) continue;
    if (get_u64(r) == checksum(r + 8, kJournalRecordHeaderSize - 8 + l2)) return q;
  }
  return std::nullopt;
}

// Splits a journal image into its valid records; *cut is where the valid prefix ends. The
// file may run on past the last record in zero bytes (space reserved by writers).
Status split_journal(std::string_view data, const std::string& path, std::vector<JournalRecord>* out, uint64_t* cut) {
  uint64_t pos = kJournalHeaderSize;
  while (pos < data.size()) {
    size_t left = data.size() - pos;
    const char* p = data.data() + pos;
    if (left < kJournalRecordHeaderSize) break;  // torn header
    uint32_t len = get_u32(p + 8);
    if (len == 0 && get_u64(p) == 0 && all_zero(data.substr(pos))) break;  // the reserved tail
    if (len > left - kJournalRecordHeaderSize) {
      // Cut short at the end of the file: a torn write — unless a valid record follows,
      // which means this record's length is damaged: corruption, never cut silently.
      if (auto q = valid_record_after(data, pos + 1))
        return Status(Code::corrupt_record, path + ": bad journal record at byte " + std::to_string(pos) +
                                                " (a damaged length; valid records follow at byte " +
                                                std::to_string(*q) + ")");
      break;  // torn body
    }
    if (get_u64(p) != checksum(p + 8, kJournalRecordHeaderSize - 8 + len)) {
      // The last record, torn: at the end of the file, or with nothing but zeros after it
      // (a write through the mapping cut short leaves the rest of the reserved tail zero).
      if (pos + kJournalRecordHeaderSize + len == data.size() || !valid_record_after(data, pos + 1)) break;
      return Status(Code::corrupt_record, path + ": bad journal record at byte " + std::to_string(pos) + " of " +
                                              std::to_string(data.size()) + " (" +
                                              std::to_string(data.size() - pos) + " bytes after it)");
    }
    out->push_back({pos, get_u32(p + 12), std::string_view(p + kJournalRecordHeaderSize, len)});
    pos += kJournalRecordHeaderSize + len;
  }
  *cut = pos;
  return {};
}

// Writes back the segment bytes a journal record carries (topic_data ops) where the file
// does not hold them.
Status redo_carried(const Store& store, CarriedBytes& carried, const Control& image, std::string_view payload) {
  return decode_ops(payload, [&](const OpView& op) -> Status {
    if (op.op != Op::topic_data) return {};
    if (op.id >= image.h.topic_count.load(std::memory_order_relaxed))
      return Status(Code::corrupt_record, "journal: data of an unknown topic");
    auto d = carried.differ(store.topic_dir(slot_name(image.topics[op.id])) + "/" +
                                segment_file_name(op.seg_base, ".log"),
                            op.offset, op.value);
    return d.status();
  });
}

Status read_all(int fd, const std::string& path, std::string* out) {
  auto size = posix::file_size(fd, path);
  if (!size.ok()) return size.status();
  out->resize(*size);
  auto n = posix::pread_full(fd, out->data(), out->size(), 0, path);
  if (!n.ok()) return n.status();
  out->resize(*n);
  return {};
}

}  // namespace

Result<bool> CarriedBytes::differ(const std::string& path, uint64_t offset, std::string_view bytes) {
  if (path != path_) {
    PP_RETURN_IF_ERROR(flush());
    path_ = path;
    fd_ = posix::Fd(::open(path.c_str(), (write_ ? O_RDWR : O_RDONLY) | O_CLOEXEC));
    if (!fd_.valid() && errno != ENOENT) return errno_status(errno, "open " + path);
  }
  if (!fd_.valid()) return false;
  buf_.resize(bytes.size());
  auto n = posix::pread_full(fd_.get(), buf_.data(), buf_.size(), offset, path);
  if (!n.ok()) return n.status();
  if (*n == buf_.size() && std::string_view(buf_) == bytes) return false;
  if (*n == 0) {
    auto size = posix::file_size(fd_.get(), path);
    if (!size.ok()) return size.status();
    if (*size < offset) return false;
  }
  if (write_) {
    PP_RETURN_IF_ERROR(posix::pwrite_all(fd_.get(), bytes.data(), bytes.size(), offset, path));
    written_ = true;
  }
  return true;
}

Status CarriedBytes::flush() {
  if (!written_) return {};
  written_ = false;
  return posix::sync_data(fd_.get(), path_);
}

Status Store::rebuild(bool verify_data) {
  const std::string jpath = dir_ + "/journal";
  ::unlink((jpath + ".new").c_str());  // a rotation that did not finish
  if (!posix::exists(jpath)) {
    // A new store: an empty snapshot starts the journal.
    std::string data(kJournalHeaderSize, '\0');
    encode_file_header(data.data(), kJournalMagic, kJournalVersion, 1);
    std::string rec(kJournalRecordHeaderSize, '\0');
    seal_journal_record(rec, kJournalFlagSnapshot | kJournalFlagSynced);
    data += rec;
    auto f = posix::open_file(jpath + ".new", O_RDWR | O_CREAT | O_TRUNC);
    if (!f.ok()) return f.status();
    PP_RETURN_IF_ERROR(posix::pwrite_all(f->get(), data.data(), data.size(), 0, jpath + ".new"));
    PP_RETURN_IF_ERROR(posix::sync_data(f->get(), jpath + ".new"));
    if (::rename((jpath + ".new").c_str(), jpath.c_str()) != 0) return errno_status(errno, "rename " + jpath);
    PP_RETURN_IF_ERROR(posix::sync_dir(dir_));
  }
  auto jf = posix::open_file(jpath, O_RDWR);
  if (!jf.ok()) return jf.status();
  std::string data;
  PP_RETURN_IF_ERROR(read_all(jf->get(), jpath, &data));
  auto gen = data.size() >= kJournalHeaderSize ? decode_file_header(data.data(), kJournalMagic, kJournalVersion)
                                               : std::nullopt;
  if (!gen) return Status(Code::corrupt_record, jpath + ": bad journal header");
  std::vector<JournalRecord> recs;
  uint64_t cut = 0;
  PP_RETURN_IF_ERROR(split_journal(data, jpath, &recs, &cut));
  if (recs.empty() || !(recs[0].flags & kJournalFlagSnapshot))
    return Status(Code::corrupt_record, jpath + ": the journal does not start with a snapshot");
  size_t last_synced = 0;
  for (size_t i = 0; i < recs.size(); ++i)
    if (recs[i].flags & kJournalFlagSynced) last_synced = i;

  // The image is mapped anonymous memory: zero pages that cost nothing until touched (a
  // store with few topics and procs touches a few pages of its 12 MiB).
  void* mem = ::mmap(nullptr, sizeof(Control), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return errno_status(errno, "mmap");
  std::unique_ptr<Control, void (*)(Control*)> image(static_cast<Control*>(mem),
                                                     [](Control* p) { ::munmap(p, sizeof(Control)); });
  CarriedBytes carried(true);
  for (size_t i = 0; i < recs.size(); ++i) {
    // Carried records are synced ones: never cut below, so their bytes always go back.
    if (verify_data) PP_RETURN_IF_ERROR(redo_carried(*this, carried, *image, recs[i].payload));
    if (verify_data && i > last_synced) {
      // Check the data this record publishes before trusting it.
      bool good = true;
      Status st = decode_ops(recs[i].payload, [&](const OpView& op) -> Status {
        if (op.op == Op::topic_create) return {};
        if (op.op != Op::topic_head) return {};
        uint32_t n = image->h.topic_count.load(std::memory_order_relaxed);
        std::string name;
        TopicHead prev{};
        if (op.id < n) {
          name = std::string(slot_name(image->topics[op.id]));
          prev = writer_head(image->topics[op.id]);
        } else {
          // Created in this same record: find its name.
          (void)decode_ops(recs[i].payload, [&](const OpView& o) -> Status {
            if (o.op == Op::topic_create && o.id == op.id) name = std::string(o.name);
            return {};
          });
          prev = TopicHead{0, 0, 0, kSegmentHeaderSize, 0};
        }
        uint64_t from = prev.seg_end, first = prev.end;
        if (op.seg_base != prev.seg_base || op.id >= n) {
          from = kSegmentHeaderSize;
          first = op.seg_base;
        }
        std::string path = topic_dir(name) + "/" + segment_file_name(op.seg_base, ".log");
        auto f = posix::open_file(path, O_RDONLY);
        if (!f.ok()) {
          good = false;
          return {};
        }
        auto r = scan_segment(f->get(), path, from, op.seg_end, first, kMaxRecordBody, nullptr);
        if (!r.ok()) return r.status();
        if (r->stop != DecodeResult::ok || r->next_seq != op.end) good = false;
        return {};
      });
      PP_RETURN_IF_ERROR(st);
      if (!good) {
        cut = recs[i].offset;
        recs.resize(i);
        break;
      }
    }
    PP_RETURN_IF_ERROR(apply_payload(*image, recs[i].payload));
  }
  PP_RETURN_IF_ERROR(carried.flush());
  if (cut < data.size()) {
    PP_RETURN_IF_ERROR(posix::truncate_file(jf->get(), cut, jpath));
    PP_RETURN_IF_ERROR(posix::sync_data(jf->get(), jpath));
  }

  // Bring each topic's files in line with its head: orphan segments (created by a commit
  // that never reached the journal) go, the last segment and its index are cut at the head.
  uint32_t n = image->h.topic_count.load(std::memory_order_relaxed);
  for (uint32_t id = 0; id < n; ++id) {
    TopicSlot& s = image->topics[id];
    TopicHead h = writer_head(s);
    std::string tdir = topic_dir(slot_name(s));
    auto bases = list_segments(tdir);
    if (!bases.ok()) return bases.status();
    uint64_t oldest = bases->empty() ? h.seg_base : std::min(bases->front(), h.seg_base);
    for (uint64_t b : *bases) {
      if (b > h.seg_base) {
        ::unlink((tdir + "/" + segment_file_name(b, ".log")).c_str());
        ::unlink((tdir + "/" + segment_file_name(b, ".idx")).c_str());
      }
    }
    std::string seg_path = tdir + "/" + segment_file_name(h.seg_base, ".log");
    std::string idx_path = tdir + "/" + segment_file_name(h.seg_base, ".idx");
    auto sf = posix::open_file(seg_path, O_RDWR);
    if (!sf.ok()) return sf.status();
    auto size = posix::file_size(sf->get(), seg_path);
    if (!size.ok()) return size.status();
    if (*size < h.seg_end) {
      // Committed bytes are gone (a damaged disk): leave the topic as the journal says, so
      // readers report corrupt_record and pp-check --repair --cut can cut it; writers
      // refuse to append to it meanwhile (writer_files).
      s.idx_count = 0;
      s.idx_last_off = 0;
      s.unsynced = 1 + oldest;
      continue;
    }
    if (*size > h.seg_end) PP_RETURN_IF_ERROR(posix::truncate_file(sf->get(), h.seg_end, seg_path));
    // The index: keep the valid entries below the head, else rebuild it from the segment.
    bool rebuilt = false;
    std::string idx;
    if (auto xf = posix::open_file(idx_path, O_RDWR); xf.ok()) {
      PP_RETURN_IF_ERROR(read_all(xf->get(), idx_path, &idx));
      if (idx.size() >= kIndexHeaderSize && decode_file_header(idx.data(), kIndexMagic, kIndexVersion) == h.seg_base) {
        uint64_t count = 0, last = 0, prev_seq = 0;
        for (size_t at = kIndexHeaderSize; at + kIndexEntrySize <= idx.size(); at += kIndexEntrySize) {
          auto e = decode_index_entry(idx.data() + at);
          if (!e || e->seq >= h.end || e->offset >= h.seg_end || (count && e->seq <= prev_seq)) break;
          prev_seq = e->seq;
          last = e->offset;
          ++count;
        }
        if (count > 0 || h.end == h.seg_base) {
          PP_RETURN_IF_ERROR(posix::truncate_file(xf->get(), kIndexHeaderSize + count * kIndexEntrySize, idx_path));
          s.idx_count = count;
          s.idx_last_off = last;
          rebuilt = true;
        }
      }
    }
    if (!rebuilt)
      PP_RETURN_IF_ERROR(rebuild_index(sf->get(), seg_path, idx_path, h.seg_base, h.seg_end, kMaxRecordBody,
                                       &s.idx_count, &s.idx_last_off));
    s.unsynced = 1 + oldest;  // unknown: the next durable commit syncs every segment
  }

  // Publish the image. The shared block is reset first unless it is this boot's (readers
  // may be using it: topics keep their slots, heads move through the seqlocks).
  Control& c = *ctl_;
  bool keep = c.h.magic == kControlMagic && c.h.version == kControlVersion && c.h.max_topics == kMaxTopics &&
              std::string_view(c.h.boot_id) == boot_id() && c.h.initialized.load() == 1;
  if (!keep) {
    c.h.initialized.store(0);
    // Zero it without touching its pages: punch a hole over the whole file. (Not by
    // truncating it: another process mapping it meanwhile would fault past the end.)
    if (::fallocate(ctl_fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(kControlSize)) != 0) {
      std::memset(static_cast<void*>(&c), 0, sizeof(Control));
    } else if (int err = ::posix_fallocate(ctl_fd_, 0, static_cast<off_t>(kControlSize));
               err != 0 && err != EOPNOTSUPP && err != EINVAL) {
      // The hole gave the blocks back: take them again, or a write to the mapping on a full
      // disk would fault. No room: a clean no_space now.
      return errno_status(err, "reserve " + dir_ + "/control");
    }
    c.h.magic = kControlMagic;
    c.h.version = kControlVersion;
    c.h.max_topics = kMaxTopics;
    std::snprintf(c.h.boot_id, sizeof c.h.boot_id, "%s", std::string(boot_id()).c_str());
  }
  for (uint32_t id = 0; id < n; ++id) {
    TopicSlot& dst = c.topics[id];
    const TopicSlot& src = image->topics[id];
    auto name = slot_name(src);
    if (slot_name(dst) != name) {
      std::memcpy(dst.name, name.data(), name.size());
      dst.id = id;
      publish_head(dst, writer_head(src));
      dst.name_len.store(static_cast<uint32_t>(name.size()), std::memory_order_release);
    } else {
      publish_head(dst, writer_head(src));
    }
    dst.unsynced = src.unsynced;
    dst.carried = 0;  // the next durable commit syncs every segment
    dst.idx_count = src.idx_count;
    dst.idx_last_off = src.idx_last_off;
  }
  c.h.topic_count.store(n, std::memory_order_release);
  std::memcpy(static_cast<void*>(c.blobs), image->blobs, sizeof(BlobSlot) * image->h.blob_count);
  for (uint32_t i = image->h.blob_count; i < c.h.blob_count && i < kMaxBlobs; ++i) c.blobs[i].kind = 0;
  c.h.blob_count = image->h.blob_count;
  c.h.journal_gen.store(*gen);
  c.h.journal_end.store(cut);
  c.h.journal_size.store(cut);  // cut below: the file ends at its last record
  c.h.last_ts.store(image->h.last_ts.load());
  c.h.txid.store(recs.size());
  c.h.dirty.store(0);
  c.h.initialized.store(1, std::memory_order_release);
  files_.clear();
  close_journal();
  wake_all(c);
  return {};
}

Status Store::rotate_journal_if_needed() {
  Control& c = *ctl_;
  if (c.h.journal_end.load(std::memory_order_relaxed) < kJournalRotateBytes) return {};
  return rotate_journal();
}

Status Store::rotate_journal() {
  Control& c = *ctl_;
  // The new journal carries no segment bytes: those the old one carries go to disk first.
  PP_RETURN_IF_ERROR(sync_unsynced(true));
  std::string rec(kJournalRecordHeaderSize, '\0');
  uint32_t n = c.h.topic_count.load(std::memory_order_relaxed);
  for (uint32_t id = 0; id < n; ++id) {
    const TopicSlot& s = c.topics[id];
    TopicHead h = writer_head(s);
    op_topic_create(rec, id, slot_name(s));
    op_topic_head(rec, id, h.end, h.seg_base, h.seg_end, h.last_ts);
    if (h.start) op_topic_start(rec, id, h.start);
  }
  for (uint32_t i = 0; i < c.h.blob_count; ++i) {
    const BlobSlot& b = c.blobs[i];
    if (b.kind) op_blob_put(rec, static_cast<uint8_t>(b.kind), std::string_view(b.key, b.key_len), std::string_view(b.val, b.val_len));
  }
  op_clock(rec, c.h.last_ts.load(std::memory_order_relaxed));
  seal_journal_record(rec, kJournalFlagSnapshot | kJournalFlagSynced);
  uint64_t gen = c.h.journal_gen.load(std::memory_order_relaxed) + 1;
  std::string data(kJournalHeaderSize, '\0');
  encode_file_header(data.data(), kJournalMagic, kJournalVersion, gen);
  data += rec;
  const std::string jpath = dir_ + "/journal", tmp = jpath + ".new";
  auto f = posix::open_file(tmp, O_RDWR | O_CREAT | O_TRUNC);
  if (!f.ok()) return f.status();
  PP_RETURN_IF_ERROR(posix::pwrite_all(f->get(), data.data(), data.size(), 0, tmp));
  PP_RETURN_IF_ERROR(posix::sync_data(f->get(), tmp));
  if (::rename(tmp.c_str(), jpath.c_str()) != 0) return errno_status(errno, "rename " + tmp);
  PP_RETURN_IF_ERROR(posix::sync_dir(dir_));
  c.h.journal_gen.store(gen);
  c.h.journal_end.store(data.size());
  c.h.journal_size.store(data.size());
  return ensure_journal();
}

}  // namespace pipeproc
