// TopicReader: lock-free reads of one topic up to its published head. Segments are found
// by listing the topic directory; a log is found by sequence or timestamp through the
// sparse index of its segment (binary search), then a short forward scan.
// A segment deleted by GC after it was opened stays readable through the open descriptor.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>

#include "control.h"
#include "pipeproc/store.h"
#include "posix.h"
#include "record.h"
#include "segment.h"

namespace pipeproc {

using namespace format;

namespace {
// A copy of part of a segment file, read with pread into a buffer that the next window
// reuses. Not a mapping: a mapped window is faulted in 64 KiB at a time on every pass,
// and where a page fault is dear (a paravirtualised guest: 10 us per fault, measured)
// that was most of an export's time; a buffer is faulted in once. A file cut under the
// reader then gives a short read (an error), never a SIGBUS.
constexpr uint64_t kWindowBytes = 256u << 10;     // the most a window reads at once
constexpr uint64_t kFirstWindowBytes = 16u << 10;  // the first one of a scan of unknown length

class Window {
 public:
  static constexpr uint64_t kKeep = 4u << 20;  // a larger buffer (one huge record) is not kept

  // Reads [off, off + len) of the file, or what of it the file holds: end() says where
  // the copy stops.
  Status load(int fd, const std::string& path, uint64_t off, uint64_t len) {
    if (len > cap_ || (cap_ > kKeep && len <= kKeep)) {
      buf_.reset();
      cap_ = std::max<uint64_t>(len, 64u << 10);
      buf_ = std::make_unique_for_overwrite<char[]>(cap_);
    }
    len_ = 0;
    auto n = posix::pread_full(fd, buf_.get(), len, off, path);
    if (!n.ok()) return n.status();
    off_ = off;
    len_ = *n;
    return {};
  }
  // Forgets the contents, keeping the buffer.
  void forget() { len_ = 0; }
  // Forgets the contents and frees the buffer.
  void reset() {
    buf_.reset();
    cap_ = len_ = 0;
  }
  bool holds(uint64_t off, uint64_t len) const { return len_ && off >= off_ && off + len <= off_ + len_; }
  const char* at(uint64_t off) const { return buf_.get() + (off - off_); }
  uint64_t end() const { return off_ + len_; }

 private:
  std::unique_ptr<char[]> buf_;
  uint64_t cap_ = 0, off_ = 0, len_ = 0;
};

// A segment's sparse index, read from its file a block of 128 entries (4 KiB) at a time as
// lookups touch them, the last 32 blocks kept: a seek reads the few blocks its binary
// search visits, not the whole file (512 KiB for a full segment, each of its pages a fault
// in fresh memory). Not mapped: recovery may cut the file under a reader, and a mapped
// page past the new end would fault.
class IndexBlocks {
 public:
  static constexpr size_t kPerBlock = 128;
  static constexpr size_t kKeep = 32;  // blocks held at most (128 KiB)

  // Opens the index of the segment starting at base; false when there is none usable
  // (missing, or a header that is not this segment's): the segment is then scanned.
  bool open(const std::string& path, uint64_t base) {
    close();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    fd_.reset(fd);
    path_ = path;
    char hdr[kIndexHeaderSize];
    auto n = posix::pread_full(fd, hdr, sizeof hdr, 0, path);
    if (!n.ok() || *n != sizeof hdr || decode_file_header(hdr, kIndexMagic, kIndexVersion) != base) {
      close();
      return false;
    }
    return true;
  }
  void close() {
    fd_.reset();
    blocks_.clear();
    loaded_.clear();
    n_ = 0;
  }
  bool is_open() const { return fd_.valid(); }
  // The entries the file holds now (whole ones). Fewer than before: it was cut, and what
  // was read of it is forgotten. More: a block read when it was shorter is read again
  // when an entry past what it holds is wanted.
  void refresh() {
    off_t len = is_open() ? ::lseek(fd_.get(), 0, SEEK_END) : 0;
    size_t n = len > static_cast<off_t>(kIndexHeaderSize)
                   ? (static_cast<size_t>(len) - kIndexHeaderSize) / kIndexEntrySize
                   : 0;
    if (n < n_) {
      blocks_.clear();
      loaded_.clear();
    }
    n_ = n;
  }
  size_t entries() const { return n_; }
  // Entry i (< entries()); nullopt when it is damaged or cannot be read.
  std::optional<IndexEntry> entry(size_t i) {
    size_t b = i / kPerBlock, k = i % kPerBlock;
    if (b >= blocks_.size()) blocks_.resize(b + 1);
    std::string& block = blocks_[b];
    if (block.size() < (k + 1) * kIndexEntrySize) {
      if (block.empty()) {
        if (loaded_.size() >= kKeep) {
          // Reuse the oldest block's buffer: an export reads every block once, and fresh
          // memory for each would be a page fault each.
          std::swap(block, blocks_[loaded_.front()]);
          blocks_[loaded_.front()].clear();
          loaded_.pop_front();
        }
        loaded_.push_back(b);
      }
      size_t count = std::min(kPerBlock, n_ - b * kPerBlock);
      block.resize(count * kIndexEntrySize);
      auto n = posix::pread_full(fd_.get(), block.data(), block.size(),
                                 kIndexHeaderSize + b * kPerBlock * kIndexEntrySize, path_);
      if (!n.ok() || *n != block.size()) {
        block.clear();
        return std::nullopt;
      }
    }
    return decode_index_entry(block.data() + k * kIndexEntrySize);
  }

 private:
  posix::Fd fd_;
  std::string path_;
  size_t n_ = 0;
  std::vector<std::string> blocks_;  // by block number; empty until read (or dropped)
  std::deque<size_t> loaded_;        // numbers of the blocks held, oldest first
};
}  // namespace

struct TopicReader::Segment {
  uint64_t base = 0;
  std::string path;
  posix::Fd fd;
  IndexBlocks idx;            // its sparse index (entries at or beyond the head are ignored;
                             // an entry is checked against the record it points at first)
  std::vector<bool> checked; // entries already checked against their records
  bool idx_tried = false;
  uint64_t idx_for_end = 0;  // head.end when the index was last looked at
  Window win;                // the last window of records read
  // Where the last scan stopped: the record of sequence hint_seq starts at hint_off. A
  // consumer reading on from there needs neither the index nor a walk over an interval.
  uint64_t hint_seq = UINT64_MAX, hint_off = 0;
  size_t entries() const { return idx.entries(); }
  std::optional<IndexEntry> entry(size_t i) { return idx.entry(i); }
};

// Whether the record at seg's saved position (below limit) is still the log it names: its
// header from the window, else from the file.
bool TopicReader::hint_holds(const Segment& seg, uint64_t limit) {
  if (seg.hint_off + kRecordHeaderSize > limit) return false;
  char hdr[kRecordHeaderSize];
  const char* h = hdr;
  if (seg.win.holds(seg.hint_off, sizeof hdr)) {
    h = seg.win.at(seg.hint_off);
  } else {
    auto n = posix::pread_full(seg.fd.get(), hdr, sizeof hdr, seg.hint_off, seg.path);
    if (!n.ok() || *n != sizeof hdr) return false;
  }
  return get_u64(h + 16) == seg.hint_seq && get_u32(h + 12) == static_cast<uint32_t>(RecordKind::log);
}

TopicReader::TopicReader(Store& store, std::string name, uint32_t slot)
    : store_(store), name_(std::move(name)), slot_(slot), head_(std::make_unique<TopicHead>()) {
  refresh();
}

TopicReader::~TopicReader() = default;

void TopicReader::refresh() {
  uint64_t was = head_->seg_base;
  *head_ = read_head(store_.control()->topics[slot_]);
  if (head_->seg_base != was) release_segments(nullptr);  // e.g. GC rolled an emptied topic
}
uint64_t TopicReader::start() const { return head_->start; }
uint64_t TopicReader::end() const { return head_->end; }

Result<std::unique_ptr<TopicReader>> Store::reader(std::string_view topic) {
  PP_RETURN_IF_ERROR(check_name(topic));
  int slot = ctl_ ? find_topic(*ctl_, topic) : -1;
  if (slot < 0) return Status(Code::invalid_topic, "no topic named '" + std::string(topic) + "'");
  return std::make_unique<TopicReader>(*this, std::string(topic), static_cast<uint32_t>(slot));
}

Result<TopicReader*> Store::topic_reader(std::string_view topic) {
  for (auto& r : readers_)
    if (r->name() == topic) {
      r->refresh();
      return r.get();
    }
  auto r = reader(topic);
  if (!r.ok()) return r.status();
  readers_.push_back(std::move(r).value());
  return readers_.back().get();
}

Status TopicReader::load_segments() {
  if (segs_for_base_ == head_->seg_base && !segs_.empty()) return {};
  auto bases = list_segments(store_.topic_dir(name_));
  if (!bases.ok()) return bases.status();
  std::vector<std::unique_ptr<Segment>> next;
  for (uint64_t b : *bases) {
    if (b > head_->seg_base) continue;  // an orphan of a commit that never happened
    std::unique_ptr<Segment> seg;
    for (auto& old : segs_)
      if (old && old->base == b) seg = std::move(old);
    if (!seg) {
      seg = std::make_unique<Segment>();
      seg->base = b;
      seg->path = store_.topic_dir(name_) + "/" + segment_file_name(b, ".log");
    }
    next.push_back(std::move(seg));
  }
  segs_ = std::move(next);
  segs_for_base_ = head_->seg_base;
  if (segs_.empty() || segs_.back()->base != head_->seg_base)
    return Status(Code::corrupt_record, store_.topic_dir(name_) + ": the segment being written is missing");
  return {};
}

// Keep open only `keep` and the segment being written: a reader walking a long topic must
// not hold every segment (file descriptors, and the space of segments GC deleted).
void TopicReader::release_segments(Segment* keep) {
  for (auto& other : segs_) {
    if (other.get() == keep || other->base == head_->seg_base || !other->fd.valid()) continue;
    other->win.reset();
    other->fd.reset();
    // Its index goes too (read again if the segment is visited again): a reader that
    // walks a long topic would otherwise keep every segment's index, 512 KiB each.
    other->idx.close();
    std::vector<bool>().swap(other->checked);
    other->idx_tried = false;
  }
}

Result<TopicReader::Segment*> TopicReader::segment_for(uint64_t seq) {
  PP_RETURN_IF_ERROR(load_segments());
  auto it = std::upper_bound(segs_.begin(), segs_.end(), seq,
                             [](uint64_t s, const std::unique_ptr<Segment>& g) { return s < g->base; });
  if (it == segs_.begin())
    return Status(Code::corrupt_record, store_.topic_dir(name_) + ": no segment holds sequence " + std::to_string(seq));
  Segment* seg = (--it)->get();
  release_segments(seg);
  if (!seg->fd.valid()) {
    auto f = posix::open_file(seg->path, O_RDONLY);
    if (!f.ok()) return f.status();
    seg->fd = std::move(*f);
  }
  return seg;
}

Status TopicReader::read_index(Segment& seg) {
  bool last = seg.base == head_->seg_base;
  if (seg.idx_tried && !(last && seg.idx_for_end != head_->end)) return {};
  if (!seg.idx_tried || !seg.idx.is_open()) {
    seg.checked.clear();
    seg.idx.open(store_.topic_dir(name_) + "/" + segment_file_name(seg.base, ".idx"), seg.base);
  }
  seg.idx_tried = true;
  seg.idx_for_end = head_->end;
  size_t had = seg.idx.entries();
  seg.idx.refresh();
  if (seg.idx.entries() < had) seg.checked.clear();
  seg.checked.resize(seg.idx.entries(), false);
  return {};
}

// Offset of a record at or before seq in seg, from the index (header end if none).
// check: make sure the record there is the one the entry names (once per entry).
Result<uint64_t> TopicReader::offset_for(Segment& seg, uint64_t seq, bool check) {
  PP_RETURN_IF_ERROR(read_index(seg));
  size_t lo = 0, hi = seg.entries();  // find the last entry with entry.seq <= seq
  uint64_t best = kSegmentHeaderSize;
  size_t best_i = SIZE_MAX;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    auto e = seg.entry(mid);
    if (!e) return uint64_t{kSegmentHeaderSize};  // a damaged index is ignored: scan
    if (e->seq <= seq && e->seq < head_->end) {
      best = e->offset;
      best_i = mid;
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (check && best_i != SIZE_MAX && !seg.checked[best_i]) {
    // A stale index (cut and rewritten by recovery) must not send a scan into the middle
    // of a record: the record at the offset must be the one the entry names.
    char hdr[kRecordHeaderSize];
    auto n = best < (1ull << 62) ? posix::pread_full(seg.fd.get(), hdr, sizeof hdr, best, seg.path)
                                 : Result<size_t>(size_t{0});
    auto e = seg.entry(best_i);
    if (!n.ok() || *n != sizeof hdr || get_u64(hdr + 16) != e->seq || get_u64(hdr + 24) != e->ts ||
        get_u32(hdr + 12) != static_cast<uint32_t>(RecordKind::log)) {
      seg.idx.close();
      seg.checked.clear();
      seg.idx_tried = false;  // read it afresh next time
      return uint64_t{kSegmentHeaderSize};
    }
    seg.checked[best_i] = true;
  }
  return best;
}

// The one forward scan, handing each log to sink.put(view) (false: stop). A sink may keep
// the views it is given until sink.flush() (false: stop), which the scan calls before the
// bytes they point into are read over, and before it returns: a sink that batches sees
// every log before an error, as one that does not.
template <class Sink>
Status TopicReader::scan_with(uint64_t from, uint64_t to, Sink& sink) {
  // A window is a copy of committed bytes, which only a repair that cuts a topic rewrites
  // (new logs then take the cut sequences). Such a repair starts a new journal: windows
  // read under an older one are read again.
  uint64_t gen = store_.control()->h.journal_gen.load(std::memory_order_acquire);
  if (gen != windows_gen_) {
    for (auto& seg : segs_) seg->win.forget();
    windows_gen_ = gen;
  }
  from = std::max(from, head_->start);
  to = std::min(to, head_->end);
  uint64_t seq = from;
  Segment* last = nullptr;  // the segment the scan ends in
  // An error (or a stop) inside a window: the logs before it go to the sink first.
  auto stop_with = [&](Status st) { return sink.flush() ? st : Status(); };
  while (seq < to) {
    auto sg = segment_for(seq);
    if (!sg.ok()) {
      // GC may have deleted the segment after this reader listed it: if the topic's start
      // moved past seq, those logs were collected; go on from the new start.
      TopicHead h = read_head(store_.control()->topics[slot_]);
      if (h.start <= seq) return sg.status();
      *head_ = h;
      segs_for_base_ = UINT64_MAX;
      segs_.clear();
      seq = h.start;
      to = std::min(to, h.end);
      continue;
    }
    Segment& seg = **sg;
    last = &seg;
    uint64_t limit;
    uint64_t next_base = UINT64_MAX;
    for (size_t i = 0; i + 1 < segs_.size(); ++i)
      if (segs_[i].get() == &seg) next_base = segs_[i + 1]->base;
    if (seg.base == head_->seg_base) {
      limit = head_->seg_end;
    } else {
      auto size = posix::file_size(seg.fd.get(), seg.path);
      if (!size.ok()) return size.status();
      limit = *size;
    }
    // Start where the last scan stopped when that is the wanted log, or closer to it than
    // what the index says (and the record there is still the one it was).
    uint64_t pos;
    if (seg.hint_seq == seq && hint_holds(seg, limit)) {
      pos = seg.hint_off;
    } else {
      auto off = offset_for(seg, seq);
      if (!off.ok()) return off.status();
      pos = seg.hint_seq < seq && seg.hint_off > *off && hint_holds(seg, limit) ? seg.hint_off : *off;
    }
    // Read the segment a window at a time (a fixed amount of memory whatever the topic's
    // size); a record that crosses the window's end starts the next window. A window ends
    // where the index says `to` lies (plus an interval's slack), so the workers of a
    // parallel export each read their own chunk and no more. The last window is kept for
    // the next scan (claims read a few logs at a time).
    uint64_t expect = UINT64_MAX;
    bool reload = false;
    // Where the index cannot say how far the scan goes (past this segment, or to the end of
    // the topic), the first window is small: a seek reads one log, not 256 KiB.
    uint64_t window = to < next_base ? kWindowBytes : kFirstWindowBytes;
    // The file ends before the committed end (cut by hand, or a disk that lost its tail):
    // the logs before the cut are handed out, then the cut is an error.
    auto cut_short = [&] {
      return stop_with(Status(Code::corrupt_record, seg.path + ": ends at byte " + std::to_string(seg.win.end()) +
                                                        ", before the committed end " + std::to_string(limit)));
    };
    while (seq < to && seq < next_base) {
      if (pos >= limit)
        return Status(Code::corrupt_record, seg.path + ": sequence " + std::to_string(seq) + " missing before byte " +
                                                std::to_string(limit));
      bool file_ends = false;
      if (reload || !seg.win.holds(pos, kRecordHeaderSize)) {
        uint64_t end = std::min(limit, pos + window);
        window = kWindowBytes;
        if (to < next_base) {
          auto end_off = offset_for(seg, to, false);
          if (end_off.ok()) end = std::min(end, std::max(*end_off + 2 * kIndexInterval, pos + kIndexInterval));
          end = std::min(end, limit);
        }
        PP_RETURN_IF_ERROR(seg.win.load(seg.fd.get(), seg.path, pos, end - pos));
        file_ends = seg.win.end() < end;
        reload = false;
      }
      const uint64_t win_end = seg.win.end();
      std::string_view data(seg.win.at(pos), win_end - pos);
      size_t at = 0;
      while (seq < to && seq < next_base) {
        RecordView rec;
        DecodeResult d = decode_record(data.substr(at), &rec, kMaxRecordBody, seq);
        if (d == DecodeResult::truncated) {
          if (file_ends) return cut_short();
          if (win_end >= limit)
            return stop_with(
                Status(Code::corrupt_record, seg.path + ": record cut short at byte " + std::to_string(pos)));
          if (at == 0) {
            // (Nothing of this window was handed to the sink: it holds no view into it.)
            // One record larger than the window: read exactly what it needs.
            uint64_t need = kRecordHeaderSize + (data.size() >= 12 ? get_u32(data.data() + 8) : 0);
            if (pos + need > limit)
              return stop_with(
                  Status(Code::corrupt_record, seg.path + ": record cut short at byte " + std::to_string(pos)));
            PP_RETURN_IF_ERROR(seg.win.load(seg.fd.get(), seg.path, pos, need));
            if (seg.win.end() < pos + need) return cut_short();
            data = std::string_view(seg.win.at(pos), need);
            continue;
          }
          reload = true;
          break;  // the next window starts at pos
        }
        if (d == DecodeResult::corrupt || (expect != UINT64_MAX && rec.seq != expect))
          return stop_with(Status(Code::corrupt_record,
                                  seg.path + ": bad record at byte " + std::to_string(pos) +
                                      (d == DecodeResult::corrupt ? " (checksum mismatch)" : " (out of order)")));
        at += rec.size;
        pos += rec.size;
        expect = rec.seq + 1;
        if (rec.seq < seq) continue;  // before the start, after an index entry
        if (rec.seq != seq)
          return stop_with(Status(Code::corrupt_record, seg.path + ": sequence " + std::to_string(seq) +
                                                            " missing at byte " + std::to_string(pos - rec.size)));
        ++seq;
        seg.hint_seq = seq;
        seg.hint_off = pos;
        if (!sink.put(LogView{LogId{rec.ts, rec.seq}, rec.body})) return stop_with({});
      }
      if (!sink.flush()) return {};  // before the window is read over
    }
  }
  // Only the segment the scan ended in stays open (an idle reader holds one segment), with
  // its window and index: the next scan (the next chunk of an export, the next claim)
  // mostly starts there. Closing it too cost a chunked export of an old segment an open,
  // its index blocks read again and a fresh window faulted in, per chunk.
  release_segments(last);
  return {};
}

Status TopicReader::scan(uint64_t from, uint64_t to, const std::function<bool(const LogView&)>& fn) {
  struct EachLog {
    const std::function<bool(const LogView&)>& fn;
    bool put(const LogView& v) { return fn(v); }
    bool flush() { return true; }
  } sink{fn};
  return scan_with(from, to, sink);
}

Status TopicReader::scan_batches(uint64_t from, uint64_t to, const std::function<bool(std::span<const LogView>)>& fn) {
  struct Batches {
    const std::function<bool(std::span<const LogView>)>& fn;
    std::vector<LogView>& views;
    bool put(const LogView& v) {
      views.push_back(v);
      return true;
    }
    bool flush() {
      if (views.empty()) return true;
      bool go = fn(views);
      views.clear();
      return go;
    }
  } sink{fn, batch_};  // scan_with flushes before it returns: batch_ is left empty
  return scan_with(from, to, sink);
}

Status TopicReader::scan_reverse(uint64_t from, uint64_t to, const std::function<bool(const LogView&)>& fn) {
  from = std::max(from, head_->start);
  to = std::min(to, head_->end);
  // Walk back one index interval at a time: read it forward, hand it out backwards.
  std::string block;
  std::vector<std::pair<LogId, std::pair<size_t, size_t>>> items;
  while (to > from) {
    auto sg = segment_for(to - 1);
    if (!sg.ok()) return sg.status();
    auto off = offset_for(**sg, to - 1);
    if (!off.ok()) return off.status();
    // The first sequence of that interval: the record at the offset.
    uint64_t lo = (*sg)->base;
    if (*off != kSegmentHeaderSize) {
      char hdr[kRecordHeaderSize];
      auto n = posix::pread_full((*sg)->fd.get(), hdr, sizeof hdr, *off, (*sg)->path);
      if (!n.ok()) return n.status();
      if (*n != sizeof hdr) return Status(Code::corrupt_record, (*sg)->path + ": index points past the end");
      lo = get_u64(hdr + 16);
    }
    lo = std::max(lo, from);
    if (lo >= to) return Status(Code::corrupt_record, (*sg)->path + ": index out of order");
    block.clear();
    items.clear();
    PP_RETURN_IF_ERROR(scan(lo, to, [&](const LogView& v) {
      items.push_back({v.id, {block.size(), v.body.size()}});
      block.append(v.body);
      return true;
    }));
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
      if (!fn(LogView{it->first, std::string_view(block).substr(it->second.first, it->second.second)})) return {};
    }
    to = lo;
  }
  return {};
}

Result<uint64_t> TopicReader::seq_at_or_after(uint64_t ts, bool strict) {
  auto before = [&](uint64_t t) { return strict ? t <= ts : t < ts; };  // "t comes before the answer"
  if (head_->end <= head_->start) return head_->end;
  PP_RETURN_IF_ERROR(load_segments());
  // The last segment whose first log comes before the answer.
  Segment* pick = nullptr;
  size_t lo = 0, hi = segs_.size();
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    auto sg = segment_for(segs_[mid]->base);
    if (!sg.ok()) return sg.status();
    char hdr[kRecordHeaderSize];
    auto n = posix::pread_full((*sg)->fd.get(), hdr, sizeof hdr, kSegmentHeaderSize, (*sg)->path);
    if (!n.ok()) return n.status();
    if (*n < sizeof hdr) {  // an empty segment (nothing committed into it yet)
      hi = mid;
      continue;
    }
    if (before(get_u64(hdr + 24))) {
      pick = segs_[mid].get();
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (!pick) return head_->start;
  // Within it: the last index entry before the answer, then scan.
  PP_RETURN_IF_ERROR(read_index(*pick));
  uint64_t from = pick->base;
  size_t a = 0, b = pick->entries();
  while (a < b) {
    size_t mid = a + (b - a) / 2;
    auto e = pick->entry(mid);
    if (!e || e->seq >= head_->end) {
      b = mid;
      continue;
    }
    if (before(e->ts)) {
      from = e->seq;
      a = mid + 1;
    } else {
      b = mid;
    }
  }
  uint64_t answer = head_->end;
  bool first = true, misled = false;
  PP_RETURN_IF_ERROR(scan(from, head_->end, [&](const LogView& v) {
    if (first && !before(v.id.ts) && v.id.seq > std::max(pick->base, head_->start)) misled = true;
    first = false;
    if (misled || before(v.id.ts)) return misled ? false : true;
    answer = v.id.seq;
    return false;
  }));
  if (misled) {
    // The index entry said its log comes before the answer, the log says otherwise: the
    // entry lies (damaged, yet with a valid checksum). Scan the segment from its start.
    answer = head_->end;
    PP_RETURN_IF_ERROR(scan(pick->base, head_->end, [&](const LogView& v) {
      if (before(v.id.ts)) return true;
      answer = v.id.seq;
      return false;
    }));
  }
  return std::max(answer, head_->start);
}

Result<uint64_t> TopicReader::ts_of(uint64_t seq) {
  uint64_t ts = 0;
  bool got = false;
  PP_RETURN_IF_ERROR(scan(seq, seq + 1, [&](const LogView& v) {
    ts = v.id.ts;
    got = true;
    return false;
  }));
  if (!got) return Status(Code::sequence_not_found, "sequence " + std::to_string(seq) + " is not held");
  return ts;
}

}  // namespace pipeproc
