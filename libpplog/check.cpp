// pp-check's engine: verify every record, index and the journal; with repair, cut torn
// tails, rebuild indexes and cut a topic at its first damaged record (keeping every valid
// log before the damage). Runs under the writer lock.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
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
struct Reporter {
  const std::function<void(std::string_view)>& out;
  size_t problems = 0;
  void operator()(const std::string& s) {
    ++problems;
    out(s);
  }
};
}  // namespace

namespace {
// Finds the valid records after a damaged one (resyncing on the next record that decodes
// with a later sequence) in this segment and the ones after it, and writes them as log
// lines to lost+found/TOPIC.SEQ.jsonl. Returns how many, and the file.
Result<std::pair<size_t, std::string>> save_lost(int fd, const std::string& path, uint64_t bad_off, uint64_t limit,
                                                 uint64_t bad_seq, const std::string& tdir, size_t k,
                                                 const std::vector<uint64_t>& bases, const std::string& topic,
                                                 const std::string& store_dir, size_t max_body) {
  std::string lines;
  size_t count = 0;
  auto take = [&](const RecordView& rec) {
    lines += "{\"id\":\"" + std::to_string(rec.ts) + "-" + std::to_string(rec.seq) + "\",\"body\":";
    lines.append(rec.body);
    lines += "}\n";
    ++count;
  };
  std::string data(limit - bad_off, '\0');
  auto n = posix::pread_full(fd, data.data(), data.size(), bad_off, path);
  if (!n.ok()) return n.status();
  data.resize(*n);
  for (size_t at = 1; at + kRecordHeaderSize <= data.size(); ++at) {
    RecordView rec;
    if (decode_record(std::string_view(data).substr(at), &rec, max_body) != DecodeResult::ok || rec.seq <= bad_seq)
      continue;
    take(rec);
    at += rec.size - 1;
  }
  for (size_t j = k + 1; j < bases.size(); ++j) {
    std::string p = tdir + "/" + segment_file_name(bases[j], ".log");
    auto g = posix::open_file(p, O_RDONLY);
    if (!g.ok()) continue;
    auto size = posix::file_size(g->get(), p);
    if (!size.ok()) continue;
    auto r = scan_segment(g->get(), p, kSegmentHeaderSize, *size, bases[j], max_body,
                          [&](const RecordView& rec, uint64_t) { take(rec); });
    (void)r;
  }
  if (count == 0) return std::pair<size_t, std::string>{0, ""};
  std::string dir = store_dir + "/lost+found";
  PP_RETURN_IF_ERROR(posix::make_dirs(dir));
  std::string out = dir + "/" + topic + "." + std::to_string(bad_seq) + ".jsonl";
  auto o = posix::open_file(out, O_WRONLY | O_CREAT | O_TRUNC);
  if (!o.ok()) return o.status();
  PP_RETURN_IF_ERROR(posix::pwrite_all(o->get(), lines.data(), lines.size(), 0, out));
  PP_RETURN_IF_ERROR(posix::sync_data(o->get(), out));
  return std::pair<size_t, std::string>{count, out};
}
}  // namespace

Result<size_t> Store::check(bool repair, bool cut, const std::function<void(std::string_view)>& report,
                            const std::function<void(uint64_t, uint64_t)>& progress) {
  uint64_t records = 0, bytes = 0;
  if (!ctl_) return size_t{0};
  Reporter rep{report};
  Status locked = lock();
  if (!locked.ok()) {
    rep(std::string(code_name(locked.code())) + ": " + locked.message());
    return rep.problems;
  }
  struct Guard {
    Store* s;
    ~Guard() { s->unlock(); }
  } guard{this};
  Control& c = *ctl_;

  // The journal, and the segment bytes its records carry (docs/format.md, "Carried records").
  struct Carried {
    uint32_t id;
    uint64_t seg_base, offset;
    std::string_view bytes;  // into data
  };
  std::vector<Carried> carried;
  std::string data;
  {
    std::string jpath = dir_ + "/journal";
    auto size = posix::file_size(journal_fd_, jpath);
    if (!size.ok()) return size.status();
    uint64_t end = c.h.journal_end.load();
    if (*size > end) {
      // Zeros there are space reserved by writers; anything else is a torn tail.
      std::string tail(*size - end, '\0');
      auto got = posix::pread_full(journal_fd_, tail.data(), tail.size(), end, jpath);
      if (!got.ok()) return got.status();
      if (tail.find_first_not_of('\0') != std::string::npos) {
        rep(jpath + ": " + std::to_string(*size - end) + " bytes after the last commit (a torn tail)");
        if (repair) {
          PP_RETURN_IF_ERROR(posix::truncate_file(journal_fd_, end, jpath));
          c.h.journal_size.store(end);
        }
      }
    }
    data.assign(end, '\0');
    auto n = posix::pread_full(journal_fd_, data.data(), data.size(), 0, jpath);
    if (!n.ok()) return n.status();
    uint64_t pos = kJournalHeaderSize;
    while (pos < *n) {
      const char* p = data.data() + pos;
      uint32_t len = pos + kJournalRecordHeaderSize <= *n ? get_u32(p + 8) : 0;
      if (pos + kJournalRecordHeaderSize + len > *n || get_u64(p) != checksum(p + 8, 8 + len)) {
        rep(jpath + ": bad record at byte " + std::to_string(pos));
        break;
      }
      Status st = decode_ops(std::string_view(p + kJournalRecordHeaderSize, len), [&](const OpView& op) {
        if (op.op == Op::topic_data) carried.push_back(Carried{op.id, op.seg_base, op.offset, op.value});
        return Status{};
      });
      if (!st.ok()) rep(jpath + ": record at byte " + std::to_string(pos) + ": " + st.message());
      pos += kJournalRecordHeaderSize + len;
    }
  }

  // A record that the journal still carries is stored twice: where the segment's copy
  // differs, it was damaged, and --repair writes the journal's back (before the records
  // are checked below, which then find it whole). A segment gone was collected.
  uint32_t ntopics = c.h.topic_count.load();
  {
    CarriedBytes bytes(repair);
    for (const Carried& k : carried) {
      if (k.id >= ntopics) continue;  // reported with the journal's records
      std::string path = topic_dir(slot_name(c.topics[k.id])) + "/" + segment_file_name(k.seg_base, ".log");
      auto d = bytes.differ(path, k.offset, k.bytes);
      if (!d.ok()) return d.status();
      if (!*d) continue;
      rep(path + ": " + std::to_string(k.bytes.size()) + " bytes at byte " + std::to_string(k.offset) +
          " differ from the copy the journal holds" + (repair ? " (written back)" : " (--repair writes it back)"));
    }
    PP_RETURN_IF_ERROR(bytes.flush());
  }

  bool changed = false;
  std::string payload(kJournalRecordHeaderSize, '\0');
  for (uint32_t id = 0; id < ntopics; ++id) {
    TopicSlot& slot = c.topics[id];
    std::string name(slot_name(slot));
    std::string tdir = topic_dir(name);
    TopicHead h = writer_head(slot);
    auto bases = list_segments(tdir);
    if (!bases.ok()) return bases.status();
    uint64_t expect_seq = UINT64_MAX;
    uint64_t last_ts = 0;
    struct Prev {  // the segment checked last, whole
      uint64_t base, end;
      std::string seg_path, idx_path;
    };
    std::optional<Prev> prev;
    for (size_t k = 0; k < bases->size(); ++k) {
      uint64_t base = (*bases)[k];
      std::string seg_path = tdir + "/" + segment_file_name(base, ".log");
      std::string idx_path = tdir + "/" + segment_file_name(base, ".idx");
      if (base > h.seg_base) {
        rep(seg_path + ": a segment beyond the committed head");
        if (repair) {
          ::unlink(seg_path.c_str());
          ::unlink(idx_path.c_str());
        }
        continue;
      }
      if (k + 1 < bases->size() && (*bases)[k + 1] <= h.start) {
        // Wholly collected: GC deletes such segments after its commit, without the lock
        // (possibly right now), and no reader looks at them any more.
        expect_seq = UINT64_MAX;
        prev.reset();
        continue;
      }
      auto f = posix::open_file(seg_path, repair ? O_RDWR : O_RDONLY);
      if (!f.ok()) return f.status();
      auto size = posix::file_size(f->get(), seg_path);
      if (!size.ok()) return size.status();
      char hdr[kSegmentHeaderSize];
      auto hn = posix::pread_full(f->get(), hdr, sizeof hdr, 0, seg_path);
      if (!hn.ok()) return hn.status();
      if (*hn != sizeof hdr || decode_file_header(hdr, kSegmentMagic, kSegmentVersion) != base) {
        rep(seg_path + ": bad segment header");
        if (!repair) {
          expect_seq = UINT64_MAX;
          prev.reset();
          continue;
        }
        // The header holds nothing the file name does not: write it anew (also when the
        // file was cut inside it; the records it lost are then damage, cut below).
        encode_file_header(hdr, kSegmentMagic, kSegmentVersion, base);
        PP_RETURN_IF_ERROR(posix::pwrite_all(f->get(), hdr, sizeof hdr, 0, seg_path));
        *size = std::max<uint64_t>(*size, sizeof hdr);
      }
      bool last = base == h.seg_base;
      uint64_t limit = last ? h.seg_end : *size;
      if (last && *size > h.seg_end) {
        rep(seg_path + ": " + std::to_string(*size - h.seg_end) + " bytes after the committed head (a torn tail)");
        if (repair) PP_RETURN_IF_ERROR(posix::truncate_file(f->get(), h.seg_end, seg_path));
      }
      if (expect_seq != UINT64_MAX && base != expect_seq) {
        rep(seg_path + ": starts at sequence " + std::to_string(base) + ", expected " + std::to_string(expect_seq));
        if (repair && !cut)
          report("not repaired: cutting topic '" + name + "' at the gap would drop the valid logs after it; " +
                 "--repair --cut does, saving them to lost+found/");
        if (repair && cut && prev) {
          // Logs are missing between the segment before and this one (a segment that lost
          // its last records at a record boundary): the topic is cut where they go missing;
          // the valid logs from this segment on are saved to lost+found/ first.
          auto saved = save_lost(f->get(), seg_path, kSegmentHeaderSize - 1, limit, expect_seq, tdir, k, *bases, name,
                                 dir_, kMaxRecordBody);
          if (!saved.ok()) return saved.status();
          if (saved->first > 0)
            report("saved " + std::to_string(saved->first) + " valid logs after the gap to " + saved->second);
          for (size_t j = k; j < bases->size(); ++j) {
            ::unlink((tdir + "/" + segment_file_name((*bases)[j], ".log")).c_str());
            ::unlink((tdir + "/" + segment_file_name((*bases)[j], ".idx")).c_str());
          }
          auto pf = posix::open_file(prev->seg_path, O_RDWR);
          if (!pf.ok()) return pf.status();
          PP_RETURN_IF_ERROR(posix::truncate_file(pf->get(), prev->end, prev->seg_path));
          h.end = expect_seq;
          h.seg_base = prev->base;
          h.seg_end = prev->end;
          op_topic_head(payload, id, h.end, h.seg_base, h.seg_end, last_ts);
          PP_RETURN_IF_ERROR(rebuild_index(pf->get(), prev->seg_path, prev->idx_path, prev->base, prev->end,
                                           kMaxRecordBody, &slot.idx_count, &slot.idx_last_off));
          changed = true;
          break;
        }
      }
      // Records.
      std::vector<IndexEntry> seen;  // every record's (seq, ts, off) for index checks: sparse
      bool ts_bad = false;
      auto r = scan_segment(f->get(), seg_path, kSegmentHeaderSize, limit, base, kMaxRecordBody,
                            [&](const RecordView& rec, uint64_t off) {
                              if (rec.ts < last_ts && !ts_bad) {
                                ts_bad = true;
                                rep(seg_path + ": timestamp goes back at byte " + std::to_string(off));
                              }
                              last_ts = rec.ts;
                              seen.push_back(IndexEntry{rec.seq, rec.ts, off});
                              bytes += rec.size;
                              if (progress && (++records & 0xffff) == 0) progress(records, bytes);
                            });
      if (!r.ok()) return r.status();
      if (r->stop != DecodeResult::ok) {
        rep(r->problem + (last ? "" : " (segment " + std::to_string(base) + ")") + ", " +
            std::to_string(limit - r->offset) + " bytes and the logs from sequence " + std::to_string(r->next_seq) +
            " on are affected");
        if (repair && !cut)
          report("not repaired: cutting topic '" + name + "' at the damage would drop the valid logs after it; " +
                 "--repair --cut does, saving them to lost+found/");
        if (repair && cut) {
          // Cut the topic at the damage: every log before it stays; the valid logs after
          // it are saved to lost+found/ first, so that the cut loses only what is damaged.
          auto saved = save_lost(f->get(), seg_path, r->offset, limit, r->next_seq, tdir, k, *bases, name, dir_,
                                 kMaxRecordBody);
          if (!saved.ok()) return saved.status();
          if (saved->first > 0)
            report("saved " + std::to_string(saved->first) + " valid logs after the damage to " + saved->second);
          PP_RETURN_IF_ERROR(posix::truncate_file(f->get(), r->offset, seg_path));
          for (size_t j = k + 1; j < bases->size(); ++j) {
            ::unlink((tdir + "/" + segment_file_name((*bases)[j], ".log")).c_str());
            ::unlink((tdir + "/" + segment_file_name((*bases)[j], ".idx")).c_str());
          }
          h.end = r->next_seq;
          h.seg_base = base;
          h.seg_end = r->offset;
          op_topic_head(payload, id, h.end, h.seg_base, h.seg_end, last_ts);
          PP_RETURN_IF_ERROR(
              rebuild_index(f->get(), seg_path, idx_path, base, r->offset, kMaxRecordBody, &slot.idx_count, &slot.idx_last_off));
          changed = true;
        }
        break;
      }
      if (last && r->next_seq != h.end)
        rep(seg_path + ": holds logs up to " + std::to_string(r->next_seq) + ", the head says " + std::to_string(h.end));
      expect_seq = r->next_seq;
      prev = Prev{base, r->offset, seg_path, idx_path};
      // The index: every entry must point at the record it names.
      bool idx_ok = true;
      std::string idx;
      if (auto xf = posix::open_file(idx_path, O_RDONLY); xf.ok()) {
        auto xs = posix::file_size(xf->get(), idx_path);
        if (!xs.ok()) return xs.status();
        idx.resize(*xs);
        auto xn = posix::pread_full(xf->get(), idx.data(), idx.size(), 0, idx_path);
        if (!xn.ok()) return xn.status();
        if (idx.size() < kIndexHeaderSize || decode_file_header(idx.data(), kIndexMagic, kIndexVersion) != base) {
          idx_ok = false;
        } else {
          size_t j = 0;
          for (size_t at = kIndexHeaderSize; at + kIndexEntrySize <= idx.size(); at += kIndexEntrySize) {
            auto e = decode_index_entry(idx.data() + at);
            if (!e) {
              idx_ok = false;
              break;
            }
            if (e->seq >= r->next_seq) break;  // ahead of the head: ignored by readers
            while (j < seen.size() && seen[j].seq < e->seq) ++j;
            if (j == seen.size() || seen[j].offset != e->offset || seen[j].ts != e->ts) {
              idx_ok = false;
              break;
            }
          }
        }
      } else {
        idx_ok = false;
      }
      if (!idx_ok) {
        rep(idx_path + ": index missing or wrong");
        if (repair) {
          uint64_t cnt = 0, lastoff = 0;
          PP_RETURN_IF_ERROR(rebuild_index(f->get(), seg_path, idx_path, base, limit, kMaxRecordBody, &cnt, &lastoff));
          if (last) {
            slot.idx_count = cnt;
            slot.idx_last_off = lastoff;
          }
        }
      }
    }
  }
  if (changed) {
    // Publish the cut heads as one durable commit.
    c.h.dirty.store(1);
    PP_RETURN_IF_ERROR(write_journal(payload, 0));
    PP_RETURN_IF_ERROR(posix::sync_data(journal_fd_, dir_ + "/journal"));
    PP_RETURN_IF_ERROR(apply_payload(c, std::string_view(payload).substr(kJournalRecordHeaderSize)));
    c.h.journal_end.fetch_add(payload.size());
    files_.clear();
    // A head moved back: new records will take the place of cut ones, so no older record
    // may still carry bytes for that place (recovery would write them back). A new
    // journal carries none.
    PP_RETURN_IF_ERROR(rotate_journal());
    c.h.dirty.store(0);
    wake_all(c);
  }
  return rep.problems;
}

}  // namespace pipeproc
