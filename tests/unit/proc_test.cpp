// libppproc: the proc state codec and the claim/ack/reclaim rules through the library API.
#include "helpers.h"
#include "pipeproc/gc.h"
#include "pipeproc/proc.h"

using namespace pipeproc;
using namespace testutil;

namespace {
void commit_n(Store& s, const std::string& topic, int n) {
  std::vector<std::string> bodies;
  std::vector<Entry> e;
  for (int i = 0; i < n; ++i) bodies.push_back(std::to_string(i));
  for (auto& b : bodies) e.push_back(Entry{topic, b});
  REQUIRE(s.commit(e, false, nullptr).ok());
}
std::vector<uint64_t> claim(Store& s, const std::string& name, ProcOptions o = {}) {
  auto r = proc_claim(s, "t", name, o);
  REQUIRE(r.ok());
  std::vector<uint64_t> seqs;
  for (auto& l : r->logs) seqs.push_back(l.id.seq);
  return seqs;
}
}  // namespace

TEST_CASE("ProcStateRoundTripsThroughItsStoredForm") {
  ProcState p;
  p.name = "resize";
  p.topic = "images";
  p.offset = ":4";
  p.claimed = LogRange{{10, 5}, {10, 6}};
  p.acked = LogRange{{9, 3}, {9, 4}};
  p.reclaims = 2;
  p.max_reclaims = -1;
  p.on_max = OnMaxReclaims::dead_letter;
  p.dead_letter = "resize.dead";
  auto back = decode_proc(encode_proc(p));
  REQUIRE(back.ok());
  CHECK(back->name == "resize");
  CHECK(back->claimed == p.claimed);
  CHECK(back->acked == p.acked);
  CHECK(!back->previous);
  CHECK(back->max_reclaims == -1);
  CHECK(back->on_max == OnMaxReclaims::dead_letter);
  CHECK(back->open_claim());
  std::string cut = encode_proc(p);
  cut.pop_back();
  CHECK(decode_proc(cut).status().code() == Code::corrupt_record);
}

TEST_CASE("ClaimAckReclaimFollowTheSeedsRules") {
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  commit_n(*s, "t", 5);
  CHECK(claim(*s, "p") == std::vector<uint64_t>{0});
  CHECK(claim(*s, "p").empty());  // open claim: nothing new
  CHECK(proc_ack(*s, "p").ok());
  CHECK(proc_ack(*s, "p").status().code() == Code::nothing_to_ack);
  ProcOptions two;
  two.count = 2;
  CHECK(claim(*s, "p", two) == std::vector<uint64_t>{1, 2});
  auto rec = proc_reclaim(*s, "p");
  REQUIRE(rec.ok());
  CHECK(rec->claimed == rec->acked);  // back to the previous claim
  CHECK(rec->reclaims == 1);
  CHECK(claim(*s, "p") == std::vector<uint64_t>{1, 2});  // the same logs again; count stays 2
  CHECK(proc_reclaim(*s, "nobody").status().code() == Code::invalid_proc);
  CHECK(proc_claim(*s, "other", "p", {}).status().code() == Code::proc_name_not_unique);
}

TEST_CASE("ReclaimTimeoutReclaimsAnOpenClaimOnTheNextCall") {
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  commit_n(*s, "t", 3);
  ProcOptions o;
  o.reclaim_timeout = 500;
  CHECK(claim(*s, "p", o) == std::vector<uint64_t>{0});
  clock.set(1499);
  CHECK(claim(*s, "p", o).empty());
  clock.set(1500);
  CHECK(claim(*s, "p", o) == std::vector<uint64_t>{0});
  CHECK(proc_inspect(*s, "p")->reclaims == 1);
}

TEST_CASE("MaxReclaimsDisableOrDeadLetter") {
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  commit_n(*s, "t", 3);
  ProcOptions dis;
  dis.max_reclaims = 2;
  CHECK(claim(*s, "d", dis).size() == 1);
  REQUIRE(proc_reclaim(*s, "d").ok());
  CHECK(claim(*s, "d", dis).size() == 1);
  auto r2 = proc_reclaim(*s, "d");
  REQUIRE(r2.ok());
  CHECK(r2->disabled);
  CHECK(proc_claim(*s, "t", "d", dis).status().code() == Code::proc_is_disabled);

  ProcOptions dl;
  dl.max_reclaims = 2;
  dl.on_max = OnMaxReclaims::dead_letter;
  CHECK(claim(*s, "x", dl) == std::vector<uint64_t>{0});
  REQUIRE(proc_reclaim(*s, "x").ok());
  CHECK(claim(*s, "x", dl) == std::vector<uint64_t>{0});
  auto moved = proc_reclaim(*s, "x");
  REQUIRE(moved.ok());
  CHECK(!moved->open_claim());
  CHECK(claim(*s, "x", dl) == std::vector<uint64_t>{1});  // moved on
  auto dead = all_logs(*s, "x.dead");
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].second == R"({"id":"1000-0","topic":"t","proc":"x","reclaims":2,"body":0})");
}

TEST_CASE("AckCommitIsOneCommitOrNone") {
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  commit_n(*s, "t", 2);
  CHECK(claim(*s, "p").size() == 1);
  std::string bad = "x";
  std::string name = "bad/topic";
  Entry e{name, bad};
  CHECK(proc_ack_commit(*s, "p", {&e, 1}, false, nullptr).status().code() == Code::invalid_name);
  CHECK(proc_inspect(*s, "p")->open_claim());  // the ack did not happen either
  std::string good = R"({"ok":1})";
  Entry g{"out", good};
  std::vector<LogId> ids;
  REQUIRE(proc_ack_commit(*s, "p", {&g, 1}, false, &ids).ok());
  CHECK(ids.size() == 1);
  CHECK(!proc_inspect(*s, "p")->open_claim());
  CHECK(all_logs(*s, "out").size() == 1);
}

TEST_CASE("AckClaimAcksAndClaimsTheNextInOneCommit") {
  TempDir dir;
  FixedClock clock(1000);
  auto s = open_store(dir.path);
  commit_n(*s, "t", 3);
  ProcOptions o;
  CHECK(proc_ack_claim(*s, "t", "p", o).status().code() == Code::invalid_proc);  // nothing to ack yet
  CHECK(claim(*s, "p") == std::vector<uint64_t>{0});
  std::string body = R"({"done":0})";
  Entry e{"out", body};
  uint32_t before = s->change_counter();
  auto r = proc_ack_claim(*s, "t", "p", o, {&e, 1});
  REQUIRE(r.ok());
  CHECK(s->change_counter() == before + 1);  // one commit for the ack, the log and the claim
  CHECK(r->acked.last.seq == 0);
  REQUIRE(r->next.logs.size() == 1);
  CHECK(r->next.logs[0].id.seq == 1);
  CHECK(all_logs(*s, "out").size() == 1);
  auto st = proc_inspect(*s, "p");
  CHECK(st->open_claim());
  CHECK(st->claimed->first.seq == 1);
  CHECK(st->acked->last.seq == 0);
  // A wrong topic refuses the whole step: the claim stays open, nothing committed.
  CHECK(proc_ack_claim(*s, "other", "p", o, {&e, 1}).status().code() == Code::proc_name_not_unique);
  CHECK(proc_inspect(*s, "p")->open_claim());
  CHECK(all_logs(*s, "out").size() == 1);
  // A disabled proc keeps its ack and claims nothing more.
  REQUIRE(proc_disable(*s, "p").ok());
  r = proc_ack_claim(*s, "t", "p", o);
  REQUIRE(r.ok());
  CHECK(r->acked.last.seq == 1);
  CHECK(r->next.logs.empty());
  CHECK(!proc_inspect(*s, "p")->open_claim());
  // At the end of the topic the ack still lands, with nothing claimed.
  REQUIRE(proc_resume(*s, "p").ok());
  CHECK(claim(*s, "p") == std::vector<uint64_t>{2});
  r = proc_ack_claim(*s, "t", "p", o);
  REQUIRE(r.ok());
  CHECK(r->next.logs.empty());
  CHECK(!proc_inspect(*s, "p")->open_claim());
}

TEST_CASE("GcCanHandOverTheDeletedFilesForALaterRelease") {
  TempDir dir;
  FixedClock clock(1000);
  StoreOptions small;
  small.segment_bytes = 512;
  auto s = open_store(dir.path, small);
  for (int i = 0; i < 20; ++i) commit_n(*s, "t", 10);  // a segment rolls between batches
  auto segments = [&] {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir / "topics/t")) n += e.path().extension() == ".log";
    return n;
  };
  const size_t before = segments();
  REQUIRE(before > 4);
  clock.set(100000);
  std::vector<int> fds;
  GcOptions o;
  o.min_prune_time = 0;
  o.release_later = &fds;
  auto r = gc_collect(*s, o);
  REQUIRE(r.ok());
  // Every log went: the topic goes on in a fresh empty segment, the old ones are gone from
  // the directory at once, and each came back as one .log and one .idx descriptor.
  CHECK(segments() == 1);
  CHECK(fds.size() == 2 * before);
  for (int fd : fds) {
    struct stat st{};
    REQUIRE(::fstat(fd, &st) == 0);
    CHECK(st.st_nlink == 0);  // unlinked: closing it gives the space back
    ::close(fd);
  }
  CHECK(proc_list(*s).ok());
  CHECK(all_logs(*s, "t").empty());
}
