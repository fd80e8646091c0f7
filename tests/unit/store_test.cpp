// The store: commits, lookups by sequence and timestamp at every boundary, recovery from
// torn tails at every byte, and corruption reported instead of wrong data.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "format.h"
#include "helpers.h"
#include "pipeproc/range.h"
#include "posix.h"
#include "record.h"

using namespace pipeproc;
using namespace testutil;

namespace {
std::string body_of(uint64_t i) { return "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(i % 97, 'x') + "\"}"; }

// Commits n logs to topic, one commit per log, with timestamps 1000 + i/3 (three per ms).
void fill(Store& s, const std::string& topic, uint64_t n, FixedClock& clock) {
  for (uint64_t i = 0; i < n; ++i) {
    clock.set(1000 + i / 3);
    std::string b = body_of(i);
    Entry e{topic, b};
    REQUIRE(s.commit({&e, 1}, false, nullptr).ok());
  }
}
}  // namespace

TEST_CASE("LookupsBySequenceAndTimestampAtEveryBoundary") {
  TempDir dir;
  FixedClock clock(1000);
  StoreOptions o;
  o.segment_bytes = 2048;  // many segments, several index entries each
  auto s = open_store(dir.path, o);
  const uint64_t n = 600;
  fill(*s, "t", n, clock);
  REQUIRE(std::filesystem::exists(dir / "topics/t/00000000000000000000.log"));
  auto segs = std::distance(std::filesystem::directory_iterator(dir / "topics/t"), {});
  CHECK(segs > 20);
  auto r = s->reader("t");
  REQUIRE(r.ok());
  TopicReader& rd = **r;
  CHECK(rd.end() == n);
  for (uint64_t seq = 0; seq < n; ++seq) {
    std::vector<std::pair<uint64_t, std::string>> got;
    REQUIRE(rd.scan(seq, seq + 1, [&](const LogView& v) {
                got.emplace_back(v.id.seq, std::string(v.body));
                return true;
              }).ok());
    REQUIRE(got.size() == 1);
    CHECK(got[0].first == seq);
    CHECK(got[0].second == body_of(seq));
  }
  // Timestamp lookups against brute force: first seq with ts >= T (strict: > T).
  for (uint64_t t = 990; t <= 1000 + n / 3 + 2; ++t) {
    uint64_t want_ge = n, want_gt = n;
    for (uint64_t i = n; i-- > 0;) {
      if (1000 + i / 3 >= t) want_ge = i;
      if (1000 + i / 3 > t) want_gt = i;
    }
    auto ge = rd.seq_at_or_after(t, false);
    auto gt = rd.seq_at_or_after(t, true);
    REQUIRE(ge.ok());
    REQUIRE(gt.ok());
    CHECK_MESSAGE(*ge == want_ge, "ts ", t);
    CHECK_MESSAGE(*gt == want_gt, "ts ", t);
  }
  // Reverse scans hand out every log once, newest first.
  uint64_t expect = n;
  REQUIRE(rd.scan_reverse(0, n, [&](const LogView& v) {
              CHECK(v.id.seq == --expect);
              return true;
            }).ok());
  CHECK(expect == 0);
}

TEST_CASE("RangeBoundsResolveAsTheContractSays") {
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  fill(*s, "t", 9, clock);  // ts 1000 x3, 1001 x3, 1002 x3
  auto r = s->reader("t");
  REQUIRE(r.ok());
  auto range = [&](const char* a, const char* b, bool x, bool rev) {
    RangeSpec sp;
    if (a) sp.start = *parse_bound(a);
    if (b) sp.end = *parse_bound(b);
    sp.exclusive = x;
    sp.reverse = rev;
    auto res = resolve_range(**r, sp);
    REQUIRE(res.ok());
    return std::pair{res->from, res->to};
  };
  CHECK(range(":3", ":5", false, false) == std::pair<uint64_t, uint64_t>{3, 6});
  CHECK(range(":3", ":5", true, false) == std::pair<uint64_t, uint64_t>{4, 5});
  CHECK(range("1001", nullptr, false, false) == std::pair<uint64_t, uint64_t>{3, 9});
  CHECK(range("1001", nullptr, true, false) == std::pair<uint64_t, uint64_t>{6, 9});
  CHECK(range(nullptr, "1001", false, false) == std::pair<uint64_t, uint64_t>{0, 6});
  CHECK(range(nullptr, "1001", true, false) == std::pair<uint64_t, uint64_t>{0, 3});
  CHECK(range("1001-4", "1002-7", false, false) == std::pair<uint64_t, uint64_t>{4, 8});
  CHECK(range(":5", ":3", false, true) == std::pair<uint64_t, uint64_t>{3, 6});
  CHECK(range(":5", ":3", false, false).second <= range(":5", ":3", false, false).first);
  RangeSpec missing;
  missing.start = *parse_bound(":99");
  CHECK(resolve_range(**r, missing).status().code() == Code::sequence_not_found);
  CHECK(parse_bound("12-").status().code() == Code::invalid_range_offset);
  CHECK(parse_bound(":x").status().code() == Code::invalid_range_offset);
  CHECK(parse_bound("").status().code() == Code::invalid_range_offset);
}

TEST_CASE("TornSegmentTailAtEveryByteIsCutOnRecovery") {
  // A writer killed after writing part of its records, before its journal record: every
  // prefix of the last record's bytes must vanish and the next commit reuse its sequence.
  TempDir master;
  FixedClock clock(5000);
  {
    auto s = open_store(master.path);
    fill(*s, "t", 5, clock);
  }
  const std::string seg = "topics/t/00000000000000000000.log";
  const uint64_t committed = file_size(master / seg);
  std::string extra;
  format::append_record(extra, 5, 6000, R"({"torn":true})");
  for (size_t cut = 1; cut <= extra.size(); ++cut) {
    TempDir dir;
    std::filesystem::copy(master.path, dir.path, std::filesystem::copy_options::recursive);
    {
      std::ofstream f(dir / seg, std::ios::binary | std::ios::app);
      f.write(extra.data(), static_cast<std::streamsize>(cut));
    }
    std::filesystem::remove(dir / "control");  // the dead writer's cache is gone too
    auto s = open_store(dir.path);
    Status st;
    auto logs = all_logs(*s, "t", &st);
    REQUIRE(st.ok());
    CHECK(logs.size() == 5);
    std::string b = R"({"after":1})";
    Entry e{"t", b};
    std::vector<LogId> ids;
    REQUIRE(s->commit({&e, 1}, false, &ids).ok());
    CHECK(ids[0].seq == 5);
    CHECK(file_size(dir / seg) == committed + format::kRecordHeaderSize + b.size());
    CHECK(all_logs(*s, "t").back().second == b);
  }
}

namespace {
// Where the journal's records end (the reserved tail after them is zeros).
uint64_t journal_end(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), {});
  uint64_t pos = format::kJournalHeaderSize;
  while (pos + format::kJournalRecordHeaderSize <= data.size()) {
    uint32_t len = format::get_u32(data.data() + pos + 8);
    if (len == 0 && format::get_u64(data.data() + pos) == 0) break;
    pos += format::kJournalRecordHeaderSize + len;
  }
  return pos;
}
}  // namespace

TEST_CASE("TornJournalTailAtEveryByteDropsOnlyThatCommit") {
  TempDir master;
  FixedClock clock(5000);
  uint64_t before = 0, after = 0;
  {
    auto s = open_store(master.path);
    fill(*s, "t", 3, clock);
    before = journal_end(master / "journal");
    std::string b = R"({"last":1})";
    Entry e[2] = {{"t", b}, {"u", b}};  // a batch over two topics
    REQUIRE(s->commit(e, false, nullptr).ok());
    after = journal_end(master / "journal");
  }
  CHECK(file_size(master / "journal") > after);  // space reserved past the last record
  // A write cut short leaves the file ending at the cut (pwrite) or zeros after it (a copy
  // into the mapping of the reserved space).
  for (bool zeroed : {false, true}) {
    CAPTURE(zeroed);
    for (uint64_t cut = before; cut <= after; ++cut) {
      CAPTURE(cut);
      TempDir dir;
      std::filesystem::copy(master.path, dir.path, std::filesystem::copy_options::recursive);
      bool torn = cut < after;
      if (zeroed) {
        std::fstream f(dir / "journal", std::ios::in | std::ios::out | std::ios::binary);
        std::string was(after - cut, '\0');
        f.seekg(static_cast<std::streamoff>(cut));
        f.read(was.data(), static_cast<std::streamsize>(was.size()));
        torn = was.find_first_not_of('\0') != std::string::npos;  // zeros over zeros change nothing
        f.seekp(static_cast<std::streamoff>(cut));
        std::string zeros(after - cut, '\0');
        f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
      } else {
        truncate_to(dir / "journal", cut);
      }
      std::filesystem::remove(dir / "control");
      auto s = open_store(dir.path);
      auto t = all_logs(*s, "t");
      Status ust;
      auto u = all_logs(*s, "u", &ust);
      if (torn) {  // the batch is gone from both topics, never half there
        CHECK(t.size() == 3);
        CHECK(ust.code() == Code::invalid_topic);
      } else {
        CHECK(t.size() == 4);
        CHECK(u.size() == 1);
      }
      CHECK(file_size(dir / "journal") == (torn ? before : after));
    }
  }
}

TEST_CASE("AJournalCutByHandIsGrownAgainBeforeRecordsAreCopiedIntoIt") {
  // The control block remembers how long the journal file is; a file cut shorter behind
  // its back (here: at its last record, the reserved zeros gone) must not take copies
  // past its end, where they would fault or be lost.
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  fill(*s, "t", 3, clock);
  truncate_to(dir / "journal", journal_end(dir / "journal"));
  auto s2 = open_store(dir.path);
  const std::string big(1000, 'v');
  for (int i = 0; i < 12; ++i)  // past several page boundaries
    REQUIRE(s2->transact(false, [&](Txn& t) {
               t.put(3, "k" + std::to_string(i), big);
               return Status{};
             }).ok());
  s.reset();
  s2.reset();
  std::filesystem::remove(dir / "control");
  auto s3 = open_store(dir.path);
  CHECK(all_logs(*s3, "t").size() == 3);
  REQUIRE(s3->transact(false, [&](Txn& t) {
             for (int i = 0; i < 12; ++i) CHECK(t.get(3, "k" + std::to_string(i)) == std::optional<std::string>(big));
             return Status{};
           }).ok());
}

TEST_CASE("WhereTheJournalIsNotMappedItIsWrittenRecordByRecord") {
  // On file systems that copy on write the journal is not mapped (a store to the mapping
  // on a full disk would be SIGBUS); PIPEPROC_TEST_JOURNAL_PWRITE takes that path here.
  // Its file then ends at its last record, with no zeros reserved after it.
  TempDir dir;
  FixedClock clock(1000);
  ::setenv("PIPEPROC_TEST_JOURNAL_PWRITE", "1", 1);
  {
    auto s = open_store(dir.path);
    fill(*s, "t", 5, clock);
    REQUIRE(s->transact(false, [&](Txn& t) {
               t.put(3, "k", "v");
               return Status{};
             }).ok());
  }
  ::unsetenv("PIPEPROC_TEST_JOURNAL_PWRITE");
  CHECK(std::filesystem::file_size(dir / "journal") == journal_end(dir / "journal"));
  std::filesystem::remove(dir / "control");
  auto s2 = open_store(dir.path);
  CHECK(all_logs(*s2, "t").size() == 5);
  fill(*s2, "t", 2, clock);  // and a mapped writer goes on after it
  std::filesystem::remove(dir / "control");
  auto s3 = open_store(dir.path);
  CHECK(all_logs(*s3, "t").size() == 7);
  REQUIRE(s3->transact(false, [&](Txn& t) {
             CHECK(t.get(3, "k") == std::optional<std::string>("v"));
             return Status{};
           }).ok());
}

TEST_CASE("ChecksumMismatchIsCorruptRecordNotWrongData") {
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  fill(*s, "t", 10, clock);
  const std::string seg = dir / "topics/t/00000000000000000000.log";
  std::string data = read_file(seg);
  auto at = data.find("\"i\":4");
  REQUIRE(at != std::string::npos);
  flip_byte(seg, at + 2);
  Status st;
  auto logs = all_logs(*s, "t", &st);
  CHECK(st.code() == Code::corrupt_record);
  CHECK(logs.size() == 4);  // the logs before the damage, nothing wrong after them
  std::vector<std::string> report;
  auto problems = s->check(false, false, [&](std::string_view p) { report.emplace_back(p); });
  REQUIRE(problems.ok());
  CHECK(*problems >= 1);
  REQUIRE(!report.empty());
  CHECK(report[0].find("00000000000000000000.log") != std::string::npos);
  // A read that starts after the damaged log steps over it (from the index entry before
  // it) without handing it out, so it is not refused; the damaged log itself still is.
  auto r = s->reader("t");
  REQUIRE(r.ok());
  std::vector<uint64_t> seen;
  auto collect = collect_seqs(seen);
  CHECK((*r)->scan(5, 10, collect).ok());
  CHECK(seen == std::vector<uint64_t>{5, 6, 7, 8, 9});
  CHECK((*r)->scan(4, 5, collect).code() == Code::corrupt_record);
}

TEST_CASE("ASegmentCutUnderAReaderIsCorruptRecordNotACrash") {
  // Readers copy records out of the file: a segment shorter than the committed head (cut by
  // hand, or a disk that lost its tail) is an error to report, not a fault in a mapping.
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  fill(*s, "t", 200, clock);
  auto r = s->reader("t");
  REQUIRE(r.ok());
  std::vector<uint64_t> seen;
  auto collect = collect_seqs(seen);
  REQUIRE((*r)->scan(0, 10, collect).ok());
  const std::string seg = dir / "topics/t/00000000000000000000.log";
  truncate_to(seg, read_file(seg).size() / 2);
  seen.clear();
  Status st = (*r)->scan(0, 200, collect);
  CHECK(st.code() == Code::corrupt_record);
  CHECK(st.message().find("00000000000000000000.log") != std::string::npos);
  REQUIRE(!seen.empty());
  CHECK(seen.size() < 200);
  for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == i);  // what came out is right
}

TEST_CASE("ACommitOfManyLargeBodiesWritesThemAllInOrder") {
  // Large bodies go to pwritev from where they are, two pieces per record: 1500 records
  // are more pieces than one pwritev takes (IOV_MAX), so the write goes on in a second.
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  std::vector<std::string> bodies;
  std::vector<Entry> e;
  for (int i = 0; i < 1500; ++i) bodies.push_back("{\"i\":" + std::to_string(i) + ",\"p\":\"" + std::string(2000 + i % 7, 'q') + "\"}");
  for (auto& b : bodies) e.push_back(Entry{"t", b});
  REQUIRE(s->commit(e, false, nullptr).ok());
  Status st;
  auto logs = all_logs(*s, "t", &st);
  REQUIRE(st.ok());
  REQUIRE(logs.size() == bodies.size());
  for (size_t i = 0; i < logs.size(); ++i) CHECK(logs[i].second == bodies[i]);
  auto problems = s->check(false, false, [](std::string_view) {});
  REQUIRE(problems.ok());
  CHECK(*problems == 0);
}

TEST_CASE("DeletedControlBlockIsRebuiltWithTheSameState") {
  TempDir dir;
  FixedClock clock(1000);
  {
    auto s = open_store(dir.path);
    fill(*s, "a", 20, clock);
    fill(*s, "b", 3, clock);
  }
  std::filesystem::remove(dir / "control");
  auto s = open_store(dir.path);
  CHECK(all_logs(*s, "a").size() == 20);
  CHECK(all_logs(*s, "b").size() == 3);
  auto topics = s->topics();
  REQUIRE(topics.size() == 2);
  CHECK(topics[0].name == "a");
  CHECK(topics[0].last_ts == 1000 + 19 / 3);
}

namespace {
std::vector<std::string> g_synced;
void record_sync(const std::string& path) { g_synced.push_back(std::filesystem::weakly_canonical(path)); }
// The segment files of a topic, in order.
std::vector<std::string> segment_logs(const std::filesystem::path& tdir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(tdir))
    if (e.path().extension() == ".log") out.push_back(std::filesystem::weakly_canonical(e.path()));
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("NoSyncCommitsRollSegmentsWithoutFsyncAndTheNextDurableCommitSyncsThemAll") {
  TempDir dir;
  FixedClock clock(1000);
  StoreOptions o;
  o.segment_bytes = 2048;
  auto s = open_store(dir.path, o);
  g_synced.clear();
  posix::sync_observer = record_sync;
  fill(*s, "t", 200, clock);  // --no-sync commits over many segments
  auto segs = segment_logs(dir / "topics/t");
  CHECK(segs.size() > 5);
  for (const auto& f : g_synced) CHECK_MESSAGE(f.find("/t/") == std::string::npos, f);
  std::string b = "{}";
  Entry e{"u", b};
  REQUIRE(s->commit({&e, 1}, true, nullptr).ok());  // durable, to another topic
  for (const auto& seg : segs)
    CHECK_MESSAGE(std::count(g_synced.begin(), g_synced.end(), seg) == 1, seg);
  g_synced.clear();
  REQUIRE(s->commit({&e, 1}, true, nullptr).ok());  // nothing of t left to sync
  for (const auto& seg : segs) CHECK(std::count(g_synced.begin(), g_synced.end(), seg) == 0);
  fill(*s, "t", 100, clock);
  g_synced.clear();
  REQUIRE(s->sync().ok());  // only the segments written since
  auto now = segment_logs(dir / "topics/t");
  for (const auto& seg : now) {
    bool old = std::find(segs.begin(), segs.end(), seg) != segs.end() && seg != segs.back();
    CHECK_MESSAGE(std::count(g_synced.begin(), g_synced.end(), seg) == (old ? 0 : 1), seg);
  }
  posix::sync_observer = nullptr;
}

TEST_CASE("AFlushTakenFromTheStoreSyncsOnAnotherThreadWhatWasCommittedBeforeIt") {
  TempDir dir;
  FixedClock clock(1000);
  StoreOptions o;
  o.segment_bytes = 2048;
  auto s = open_store(dir.path, o);
  std::string b = "{}";
  Entry small{"c", b};
  REQUIRE(s->commit({&small, 1}, true, nullptr).ok());  // a new topic: its segment is synced
  REQUIRE(s->commit({&small, 1}, true, nullptr).ok());  // carried by the journal
  fill(*s, "t", 200, clock);                             // --no-sync commits over many segments
  auto segs = segment_logs(dir / "topics/t");
  REQUIRE(segs.size() > 5);
  g_synced.clear();
  posix::sync_observer = record_sync;
  auto f = s->flush_later();
  REQUIRE(f.ok());
  CHECK(g_synced.empty());     // taking it syncs nothing
  fill(*s, "t", 50, clock);    // the store commits on meanwhile
  Status st;
  std::thread th([&] { st = f->run(); });
  th.join();
  REQUIRE(st.ok());
  CHECK(g_synced.back() == std::filesystem::weakly_canonical(dir / "journal"));
  for (const auto& seg : segs) CHECK_MESSAGE(std::count(g_synced.begin(), g_synced.end(), seg) == 1, seg);
  for (const auto& p : g_synced) CHECK_MESSAGE(p.find("/c/") == std::string::npos, p);  // the journal holds it
  // The topic stays marked unsynced: the sync() that ends a stream flushes it again, up to
  // the segment written since.
  g_synced.clear();
  REQUIRE(s->sync().ok());
  auto now = segment_logs(dir / "topics/t");
  CHECK(std::count(g_synced.begin(), g_synced.end(), segs.front()) == 1);
  CHECK(std::count(g_synced.begin(), g_synced.end(), now.back()) == 1);
  posix::sync_observer = nullptr;
}

TEST_CASE("AWriterKilledHoldingTheLockDoesNotWedgeTheStore") {
  TempDir dir;
  FixedClock clock(1000);
  {
    auto s = open_store(dir.path);
    fill(*s, "t", 5, clock);
  }
  for (int round = 0; round < 2; ++round) {
    // The child dies inside a transaction, holding the writer lock: killed, then exiting.
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto s = Store::open(dir.path, Store::Mode::write);
      if (!s.ok()) ::_exit(3);
      Status st = (*s)->transact(false, [&](Txn&) -> Status {
        if (round == 0) ::raise(SIGKILL);
        ::_exit(5);
      });
      (void)st;
      ::_exit(4);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    if (round == 0) {
      REQUIRE(WIFSIGNALED(status));
      CHECK(WTERMSIG(status) == SIGKILL);
    } else {
      REQUIRE(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 5);
    }
  }
  // The lock was released by the kernel: commits go on, nothing lost.
  auto s = open_store(dir.path);
  fill(*s, "t", 1, clock);
  CHECK(all_logs(*s, "t").size() == 6);
}

TEST_CASE("JournalRotationKeepsEveryTopicAndStateRecord") {
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  fill(*s, "t", 5, clock);
  REQUIRE(s->transact(false, [](Txn& t) {
             t.put(1, "k", "v");
             return Status{};
           }).ok());
  // Grow the journal past the rotation size with state-only commits.
  std::string big(900, 'z');
  const uint64_t rounds = format::kJournalRotateBytes / 900 + 10;  // records of ~940 bytes
  for (uint64_t i = 0; i < rounds; ++i)
    REQUIRE(s->transact(false, [&](Txn& t) {
               t.put(2, "grow", big);
               return Status{};
             }).ok());
  CHECK(file_size(dir / "journal") < format::kJournalRotateBytes);
  std::filesystem::remove(dir / "control");
  auto s2 = open_store(dir.path);
  CHECK(all_logs(*s2, "t").size() == 5);
  REQUIRE(s2->transact(false, [](Txn& t) {
               CHECK(t.get(1, "k") == std::optional<std::string>("v"));
               CHECK(t.get(2, "grow")->size() == 900);
               return Status{};
             }).ok());
}

TEST_CASE("FileHeadersMatchTheFormatDocument") {
  // docs/format.md: magic, u32 version, u32 0, u64 value, xxh3 of the first 24 bytes.
  char h[32];
  format::encode_file_header(h, format::kSegmentMagic, format::kSegmentVersion, 42);
  CHECK(std::string(h, 8) == "PPPPSEG1");
  CHECK(format::get_u32(h + 8) == 1);
  CHECK(format::get_u64(h + 16) == 42);
  CHECK(format::decode_file_header(h, format::kSegmentMagic, format::kSegmentVersion) == 42u);
  h[3] ^= 1;
  CHECK(!format::decode_file_header(h, format::kSegmentMagic, format::kSegmentVersion));
  std::string rec;
  format::append_record(rec, 7, 1000, "{}");
  // checksum | len=2 | kind=1 | seq=7 | ts=1000 | body
  CHECK(rec.size() == 34);
  CHECK(format::get_u32(rec.data() + 8) == 2);
  CHECK(format::get_u32(rec.data() + 12) == 1);
  CHECK(format::get_u64(rec.data() + 16) == 7);
  CHECK(format::get_u64(rec.data() + 24) == 1000);
  CHECK(rec.substr(32) == "{}");
  CHECK(std::string(reinterpret_cast<const char*>(&format::kJournalMagic), 8) == "PPPPJNL1");
  CHECK(std::string(reinterpret_cast<const char*>(&format::kIndexMagic), 8) == "PPPPIDX1");
}

TEST_CASE("AReaderGoingOnWhereItStoppedSeesLogsThatReplacedCutOnes") {
  // A reader keeps where its last scan stopped (the next log's offset). When a repair cuts
  // the topic there and new logs of other sizes take those sequences, that position points
  // into the middle of a record: it must not be trusted.
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  std::vector<std::string> big, small;
  for (int i = 0; i < 40; ++i) big.push_back("{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(50, 'p') + "\"}");
  for (int i = 0; i < 40; ++i) small.push_back("{\"j\":" + std::to_string(i) + "}");
  std::vector<Entry> e;
  for (auto& b : big) e.push_back(Entry{"t", b});
  REQUIRE(s->commit(e, false, nullptr).ok());
  auto r = s->reader("t");
  REQUIRE(r.ok());
  auto read_one = [&](uint64_t seq) {
    std::string got;
    (*r)->refresh();
    REQUIRE((*r)->scan(seq, seq + 1, [&](const LogView& v) {
                   got = std::string(v.body);
                   return true;
                 }).ok());
    return got;
  };
  for (uint64_t seq = 0; seq < 12; ++seq) CHECK(read_one(seq) == big[seq]);  // stops before 12
  // Damage log 5; a repair with --cut keeps 0..4 and saves the rest to lost+found.
  const std::string seg = dir / "topics/t/00000000000000000000.log";
  flip_byte(seg, format::kSegmentHeaderSize + 5 * (format::kRecordHeaderSize + big[0].size()) + 40);
  auto fixed = s->check(true, true, [](std::string_view) {});
  REQUIRE(fixed.ok());
  CHECK(*fixed > 0);
  e.clear();
  for (size_t i = 5; i < small.size(); ++i) e.push_back(Entry{"t", small[i]});
  REQUIRE(s->commit(e, false, nullptr).ok());
  CHECK(read_one(12) == small[12]);
  CHECK(read_one(13) == small[13]);
  CHECK(read_one(4) == big[4]);
}

TEST_CASE("StaleIndexEntriesAreNotTrusted") {
  // An index whose entries point at other records (written for data that recovery cut and
  // writers then replaced with logs of other sizes) must not change what readers return.
  TempDir dir;
  FixedClock clock(1000);
  StoreOptions o;
  auto s = open_store(dir.path, o);
  std::vector<std::string> small, big;
  for (int i = 0; i < 400; ++i) small.push_back("{\"i\":" + std::to_string(i) + "}");
  for (int i = 0; i < 400; ++i) big.push_back("{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(50, 'p') + "\"}");
  std::vector<Entry> e;
  for (auto& b : big) e.push_back(Entry{"t", b});
  REQUIRE(s->commit(e, false, nullptr).ok());
  const std::string idx = dir / "topics/t/00000000000000000000.idx";
  std::string stale = read_file(idx);
  s.reset();
  // Start over with small bodies, then put the big bodies' index back in place.
  TempDir dir2;
  auto s2 = open_store(dir2.path, o);
  e.clear();
  for (auto& b : small) e.push_back(Entry{"t", b});
  REQUIRE(s2->commit(e, false, nullptr).ok());
  write_file(dir2 / "topics/t/00000000000000000000.idx", stale);
  auto r = s2->reader("t");
  REQUIRE(r.ok());
  for (uint64_t seq : {0u, 17u, 150u, 399u}) {
    std::string got;
    REQUIRE((*r)->scan(seq, seq + 1, [&](const LogView& v) {
                   got = std::string(v.body);
                   return true;
                 }).ok());
    CHECK(got == small[seq]);
  }
}

namespace {
// The bytes of the files a power loss would keep: the segment of topic t cut back to n
// bytes; the control block goes (as in another boot).
void lose_unsynced_tail(const TempDir& dir, const std::string& topic, uint64_t n) {
  truncate_to(dir / ("topics/" + topic + "/00000000000000000000.log"), n);
  std::filesystem::remove(dir / "control");
}
}  // namespace

TEST_CASE("ASmallDurableCommitFsyncsOnlyTheJournalThatCarriesItsRecords") {
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  std::string b = "{\"a\":1}";
  Entry e{"t", b};
  REQUIRE(s->commit({&e, 1}, true, nullptr).ok());  // a new topic: its segment is synced
  const std::string seg = std::filesystem::weakly_canonical(dir / "topics/t/00000000000000000000.log");
  const std::string journal = std::filesystem::weakly_canonical(dir / "journal");
  g_synced.clear();
  posix::sync_observer = record_sync;
  REQUIRE(s->commit({&e, 1}, true, nullptr).ok());
  CHECK(g_synced == std::vector<std::string>{journal});
  // Past kCarryBytes the segment is synced, carried bytes before it with it.
  std::string big(format::kCarryBytes, 'x');
  big = "\"" + big + "\"";
  Entry large{"t", big};
  g_synced.clear();
  REQUIRE(s->commit({&large, 1}, true, nullptr).ok());
  CHECK(std::count(g_synced.begin(), g_synced.end(), seg) == 1);
  CHECK(g_synced.back() == journal);
  // After a --no-sync commit the topic's unsynced bytes are not all carried: synced again.
  REQUIRE(s->commit({&e, 1}, false, nullptr).ok());
  g_synced.clear();
  REQUIRE(s->commit({&e, 1}, true, nullptr).ok());
  CHECK(std::count(g_synced.begin(), g_synced.end(), seg) == 1);
  posix::sync_observer = nullptr;
}

TEST_CASE("CarriedRecordsThatNeverReachedTheSegmentAreWrittenBackAfterAReboot") {
  TempDir dir;
  FixedClock clock(1000);
  std::vector<std::string> bodies;
  uint64_t synced_size = 0;
  {
    auto s = open_store(dir.path);
    std::string first = "{\"first\":true}";
    Entry e0{"t", first};
    Entry u0{"u", first};
    REQUIRE(s->commit({&e0, 1}, true, nullptr).ok());
    REQUIRE(s->commit({&u0, 1}, true, nullptr).ok());
    bodies.push_back(first);
    synced_size = file_size(dir / "topics/t/00000000000000000000.log");
    for (int i = 0; i < 6; ++i) {
      clock.set(1001 + i);
      bodies.push_back(body_of(static_cast<uint64_t>(i) * 13));
      std::vector<Entry> batch{Entry{"t", bodies.back()}};
      if (i % 2) batch.push_back(Entry{"u", bodies.back()});  // across two topics
      REQUIRE(s->commit(batch, true, nullptr).ok());
    }
  }
  // A power loss took what the page cache held of t's segment; u's is whole.
  lose_unsynced_tail(dir, "t", synced_size);
  auto s = open_store(dir.path);
  Status st;
  auto logs = all_logs(*s, "t", &st);
  CHECK(st.ok());
  REQUIRE(logs.size() == bodies.size());
  for (size_t i = 0; i < logs.size(); ++i) CHECK(logs[i].second == bodies[i]);
  CHECK(all_logs(*s, "u").size() == 4);
  auto problems = s->check(false, false, [](std::string_view line) { MESSAGE(std::string(line)); });
  REQUIRE(problems.ok());
  CHECK(*problems == 0);
}

TEST_CASE("RotationSyncsCarriedSegmentsBeforeTheJournalCarryingThemGoes") {
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  std::string b = "{}";
  Entry e{"t", b};
  REQUIRE(s->commit({&e, 1}, true, nullptr).ok());
  REQUIRE(s->commit({&e, 1}, true, nullptr).ok());  // carried
  const std::string seg = std::filesystem::weakly_canonical(dir / "topics/t/00000000000000000000.log");
  g_synced.clear();
  posix::sync_observer = record_sync;
  std::string big(900, 'z');
  const uint64_t rounds = format::kJournalRotateBytes / 900 + 10;
  for (uint64_t i = 0; i < rounds; ++i)
    REQUIRE(s->transact(false, [&](Txn& t) {
               t.put(2, "grow", big);
               return Status{};
             }).ok());
  posix::sync_observer = nullptr;
  CHECK(file_size(dir / "journal") < format::kJournalRotateBytes);
  CHECK(std::count(g_synced.begin(), g_synced.end(), seg) == 1);
}

TEST_CASE("AfterARepairCutNoCarriedBytesComeBackOverTheLogsThatReplacedThem") {
  TempDir dir;
  FixedClock clock(1000);
  const std::string seg = dir / "topics/t/00000000000000000000.log";
  std::string first = "{\"first\":\"" + std::string(40, 'f') + "\"}";
  std::string old_body = "{\"old\":\"" + std::string(40, 'o') + "\"}";
  std::string new_body = "{\"new\":\"" + std::string(40, 'n') + "\"}";
  {
    auto s = open_store(dir.path);
    Entry e0{"t", first};
    Entry e1{"t", old_body};
    REQUIRE(s->commit({&e0, 1}, true, nullptr).ok());  // log 0: a new topic, not carried
    REQUIRE(s->commit({&e1, 1}, true, nullptr).ok());  // log 1: carried
    // Log 0 damaged on disk: a repair with --cut cuts the topic before it (log 1 goes to
    // lost+found), though the journal still carries log 1.
    flip_byte(seg, format::kSegmentHeaderSize + format::kRecordHeaderSize + 5);
    auto fixed = s->check(true, true, [](std::string_view) {});
    REQUIRE(fixed.ok());
    CHECK(*fixed > 0);
    CHECK(all_logs(*s, "t").empty());
    // Logs 0 and 1 again, of the same sizes, other bytes; not carried (--no-sync, a sync).
    std::vector<Entry> again{Entry{"t", first}, Entry{"t", new_body}};
    REQUIRE(s->commit(again, false, nullptr).ok());
    REQUIRE(s->sync().ok());
  }
  std::filesystem::remove(dir / "control");  // another boot: carried bytes are written back
  auto s = open_store(dir.path);
  auto logs = all_logs(*s, "t");
  REQUIRE(logs.size() == 2);
  CHECK(logs[1].second == new_body);
}

TEST_CASE("AScanInBatchesHandsOutWhatAScanDoesAndTheLogsBeforeAnError") {
  // Bodies of 0-4 KiB over small segments: batches end at windows (256 KiB), at records
  // crossing them and at segment ends; a record larger than a window is read on its own.
  TempDir dir;
  FixedClock clock(1000);
  StoreOptions o;
  o.segment_bytes = 1u << 20;
  auto s = open_store(dir.path, o);
  std::vector<std::string> bodies;
  for (uint64_t i = 0; i < 3000; ++i) bodies.push_back("\"" + std::string((i * 37) % 4096, 'a' + i % 26) + "\"");
  bodies[1500] = "\"" + std::string(300u << 10, 'z') + "\"";  // larger than a window
  std::vector<Entry> entries;
  for (const auto& b : bodies) entries.push_back({"t", b});
  REQUIRE(s->commit(entries, false, nullptr).ok());
  auto want = all_logs(*s, "t");
  REQUIRE(want.size() == bodies.size());

  auto r = s->reader("t");
  REQUIRE(r.ok());
  auto batched = [&](uint64_t from, uint64_t to, size_t stop_after_batches, Status* st) {
    std::vector<std::pair<uint64_t, std::string>> got;
    size_t calls = 0;
    *st = (*r)->scan_batches(from, to, [&](std::span<const LogView> batch) {
      CHECK(!batch.empty());
      for (const LogView& v : batch) got.emplace_back(v.id.seq, std::string(v.body));
      return ++calls < stop_after_batches;
    });
    return got;
  };
  Status st;
  CHECK(batched(0, UINT64_MAX, SIZE_MAX, &st) == want);
  CHECK(st.ok());
  auto part = batched(777, 2222, SIZE_MAX, &st);
  CHECK(st.ok());
  CHECK(part == std::vector<std::pair<uint64_t, std::string>>(want.begin() + 777, want.begin() + 2222));
  // Stopping after one batch: a prefix, and more than one log of it.
  auto first = batched(0, UINT64_MAX, 1, &st);
  CHECK(st.ok());
  CHECK(first.size() > 1);
  CHECK(first.size() < want.size());
  CHECK(first == std::vector<std::pair<uint64_t, std::string>>(want.begin(), want.begin() + first.size()));

  // A damaged log in the middle of a window: every log before it comes out, then the error.
  const std::string seg = dir / "topics/t/00000000000000000000.log";
  std::string data = read_file(seg);
  auto at = data.find(bodies[40]);
  REQUIRE(at != std::string::npos);
  flip_byte(seg, at + 3);
  auto r2 = s->reader("t");
  REQUIRE(r2.ok());
  std::vector<uint64_t> seen;
  st = (*r2)->scan_batches(0, UINT64_MAX, [&](std::span<const LogView> batch) {
    for (const LogView& v : batch) seen.push_back(v.id.seq);
    return true;
  });
  CHECK(st.code() == Code::corrupt_record);
  REQUIRE(seen.size() == 40);
  for (uint64_t i = 0; i < 40; ++i) CHECK(seen[i] == i);
}
