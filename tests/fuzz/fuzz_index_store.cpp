// Fuzzes the readers' use of sparse indexes: a small store is built once; each input
// replaces the .idx file of one of its segments, and every read is checked against the
// logs committed. An index is derived data (docs/format.md, "Sparse indexes"): whatever
// it holds, TopicReader::scan, scan_reverse, ts_of and seq_at_or_after must give what
// they give with the true index, or fail with corrupt_record -- never other logs, other
// ids or another answer, and never crash.
//
// Input: byte 0 picks the segment; byte 1 bit 0 picks the form of the rest:
//  0 (raw): the rest is the index file, byte for byte.
//  1 (built): byte 2 picks the header (0 good, 1 another base, 2 no file, 3 cut short,
//    4 good then the rest raw); then 8-byte entries [record u8][flags u8][dseq i16]
//    [dts i16][doff i16]: the index entry of the segment's record number `record`, its
//    seq, ts and offset moved by the deltas flags 1, 2, 4 select, with a valid checksum
//    unless flag 8 (so the fuzzer can tell lies the checksum does not catch). Bytes left
//    over are appended raw.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "pipeproc/store.h"
#include "record.h"
#include "segment.h"

using namespace pipeproc;
using namespace pipeproc::format;

namespace {

struct Rec {
  uint64_t seq, ts, off;
};

struct Seg {
  uint64_t base;
  std::string idx_path;
  std::string pristine;  // the index as the writer left it
  std::vector<Rec> recs;
  uint64_t ts_hi = UINT64_MAX;  // past this, lookups by timestamp pick a later segment
};

struct Fixture {
  fuzzutil::TempDir dir;
  std::vector<fuzzutil::Log> logs;  // held, oldest first
  uint64_t start = 0, end = 0;
  std::vector<Seg> segs;
  std::unique_ptr<Store> store;
  std::vector<uint64_t> query_ts;

  Fixture() {
    logs = fuzzutil::build_index_fixture(dir.path);
    start = logs.front().seq;
    end = logs.back().seq + 1;
    auto s = Store::open(dir.path, Store::Mode::read);
    fuzzutil::require_ok(s.status(), "open store");
    store = std::move(s).value();
    std::string tdir = store->topic_dir("t");
    auto bases = list_segments(tdir);
    fuzzutil::require_ok(bases.status(), "list segments");
    for (uint64_t b : *bases) {
      Seg g{b, tdir + "/" + segment_file_name(b, ".idx"), {}, {}};
      g.pristine = fuzzutil::read_file(g.idx_path);
      std::string data = fuzzutil::read_file(tdir + "/" + segment_file_name(b, ".log"));
      for (size_t at = kSegmentHeaderSize; at < data.size();) {
        RecordView r;
        if (decode_record(std::string_view(data).substr(at), &r, kDefaultMaxBody) != DecodeResult::ok) {
          std::fprintf(stderr, "fuzz setup: segment %llu does not decode\n", static_cast<unsigned long long>(b));
          std::abort();
        }
        g.recs.push_back({r.seq, r.ts, at});
        at += r.size;
      }
      segs.push_back(std::move(g));
    }
    for (size_t i = 0; i + 1 < segs.size(); ++i)
      if (!segs[i + 1].recs.empty()) segs[i].ts_hi = segs[i + 1].recs.front().ts + 1;
    if (segs.size() < 3) {
      std::fprintf(stderr, "fuzz setup: want several segments, got %zu\n", segs.size());
      std::abort();
    }
    std::set<uint64_t> ts{0, 1, UINT64_MAX};
    for (auto& l : logs) {
      ts.insert(l.ts - 1);
      ts.insert(l.ts);
      ts.insert(l.ts + 1);
    }
    query_ts.assign(ts.begin(), ts.end());
    check_reads("the true index");  // the fixture and the store agree
  }

  // The first held sequence whose timestamp is >= ts (strict: >), by walking the logs.
  uint64_t want_at_or_after(uint64_t ts, bool strict) const {
    for (auto& l : logs)
      if (strict ? l.ts > ts : l.ts >= ts) return l.seq;
    return end;
  }

  const fuzzutil::Log& log(uint64_t seq) const { return logs[seq - start]; }

  void check_log(const LogView& v, uint64_t want_seq, const char* what) const {
    FUZZ_CHECK(want_seq >= start && want_seq < end, "%s: sequence %llu handed out, topic holds [%llu, %llu)", what,
               static_cast<unsigned long long>(v.id.seq), static_cast<unsigned long long>(start),
               static_cast<unsigned long long>(end));
    const fuzzutil::Log& l = log(want_seq);
    FUZZ_CHECK(v.id.seq == l.seq && v.id.ts == l.ts && v.body == l.body,
               "%s: wrong data: got %llu-%llu where %llu-%llu is due", what, static_cast<unsigned long long>(v.id.ts),
               static_cast<unsigned long long>(v.id.seq), static_cast<unsigned long long>(l.ts),
               static_cast<unsigned long long>(l.seq));
  }

  static void check_failure(const Status& st, const char* what) {
    FUZZ_CHECK(st.code() == Code::corrupt_record, "%s: %s: %s", what, std::string(code_name(st.code())).c_str(),
               st.message().c_str());
  }

  // scan [from, to): the logs in order, all of them unless it fails with corrupt_record.
  void check_scan(TopicReader& r, uint64_t from, uint64_t to, const char* what) const {
    uint64_t lo = std::max(from, start), hi = std::min(to, end);
    uint64_t next = lo;
    Status st = r.scan(from, to, [&](const LogView& v) {
      check_log(v, next, what);
      ++next;
      return true;
    });
    if (!st.ok()) return check_failure(st, what);
    FUZZ_CHECK(next == std::max(lo, hi), "%s: scan [%llu, %llu) stopped at %llu without an error", what,
               static_cast<unsigned long long>(from), static_cast<unsigned long long>(to),
               static_cast<unsigned long long>(next));
  }

  // Every read of the topic; with focus, only the lookups that can involve that segment's
  // index (its sequences and timestamps and their neighbours), plus the whole-topic scans.
  void check_reads(const char* what, const Seg* focus = nullptr) {
    uint64_t seq_lo = start, seq_hi = end, ts_lo = 0, ts_hi = UINT64_MAX;
    if (focus && !focus->recs.empty()) {
      seq_lo = std::max(start, focus->recs.front().seq) - 1;
      seq_hi = std::min(end, focus->recs.back().seq + 2);
      ts_lo = focus->recs.front().ts - 2;
      ts_hi = focus->ts_hi;
    }
    auto rd = store->reader("t");
    fuzzutil::require_ok(rd.status(), "reader");
    TopicReader& r = **rd;
    FUZZ_CHECK(r.start() == start && r.end() == end, "%s: head moved", what);

    // Lookups by timestamp first, while the index is fresh in the reader.
    for (uint64_t ts : query_ts)
      for (bool strict : {false, true}) {
        if ((ts < ts_lo || ts > ts_hi) && ts != 0 && ts != UINT64_MAX) continue;
        auto got = r.seq_at_or_after(ts, strict);
        if (!got.ok()) {
          check_failure(got.status(), what);
          continue;
        }
        uint64_t want = want_at_or_after(ts, strict);
        FUZZ_CHECK(*got == want, "%s: wrong answer: seq_at_or_after(%llu, %s) = %llu, the logs say %llu", what,
                   static_cast<unsigned long long>(ts), strict ? "strict" : "not strict",
                   static_cast<unsigned long long>(*got), static_cast<unsigned long long>(want));
      }

    check_scan(r, 0, UINT64_MAX, what);
    for (uint64_t seq = std::max(seq_lo, start); seq < seq_hi; ++seq) {
      check_scan(r, seq, seq + 1, what);
      auto ts = r.ts_of(seq);
      if (ts.ok()) {
        FUZZ_CHECK(*ts == log(seq).ts, "%s: wrong data: ts_of(%llu) = %llu, not %llu", what,
                   static_cast<unsigned long long>(seq), static_cast<unsigned long long>(*ts),
                   static_cast<unsigned long long>(log(seq).ts));
      } else {
        check_failure(ts.status(), what);
      }
    }
    for (uint64_t from = seq_lo; from < seq_hi; from += 7) check_scan(r, from, from + 11, what);

    uint64_t next = end;
    Status st = r.scan_reverse(0, UINT64_MAX, [&](const LogView& v) {
      FUZZ_CHECK(next > start, "%s: scan_reverse past the start", what);
      check_log(v, --next, what);
      return true;
    });
    if (!st.ok()) {
      check_failure(st, what);
    } else {
      FUZZ_CHECK(next == start, "%s: scan_reverse stopped at %llu without an error", what,
                 static_cast<unsigned long long>(next));
    }
  }
};

std::string build_index(const Seg& g, fuzzutil::Bytes& b, bool* no_file) {
  std::string idx;
  char buf[32];
  uint8_t header = b.u8() % 5;
  switch (header) {
    case 1:
      encode_file_header(buf, kIndexMagic, kIndexVersion, g.base + 1);
      idx.append(buf, 32);
      break;
    case 2:
      *no_file = true;
      return idx;
    case 3:
      encode_file_header(buf, kIndexMagic, kIndexVersion, g.base);
      idx.append(buf, 16);
      break;
    default:
      encode_file_header(buf, kIndexMagic, kIndexVersion, g.base);
      idx.append(buf, 32);
      break;
  }
  if (header == 4) {
    idx.append(b.rest());
    return idx;
  }
  while (b.left() >= 8) {
    const Rec& r = g.recs[b.u8() % g.recs.size()];
    uint8_t flags = b.u8();
    int16_t dseq = static_cast<int16_t>(b.u16()), dts = static_cast<int16_t>(b.u16()),
            doff = static_cast<int16_t>(b.u16());
    IndexEntry e{r.seq, r.ts, r.off};
    if (flags & 1) e.seq += static_cast<uint64_t>(static_cast<int64_t>(dseq));
    if (flags & 2) e.ts += static_cast<uint64_t>(static_cast<int64_t>(dts));
    if (flags & 4) e.offset += static_cast<uint64_t>(static_cast<int64_t>(doff));
    encode_index_entry(buf, e);
    if (flags & 8) buf[24] = static_cast<char>(buf[24] ^ 1);
    idx.append(buf, 32);
  }
  idx.append(b.rest());
  return idx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;  // built once per process, removed at exit
  Fixture* fx = &fixture;
  fuzzutil::Bytes b{data, size};
  Seg& g = fx->segs[b.u8() % fx->segs.size()];
  bool built = b.u8() & 1;
  bool no_file = false;
  std::string idx = built ? build_index(g, b, &no_file) : std::string(b.rest());
  if (no_file) {
    ::unlink(g.idx_path.c_str());
  } else {
    fuzzutil::write_file(g.idx_path, idx);
  }
  fx->check_reads("with a fuzzed index", &g);
  fuzzutil::write_file(g.idx_path, g.pristine);
  return 0;
}
