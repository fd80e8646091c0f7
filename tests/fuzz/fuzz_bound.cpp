// Fuzzes range bounds: parse_bound on arbitrary text, and resolve_range over a small
// fixed topic. Properties: parse_bound accepts exactly the grammar ":N", "TS", "TS-SEQ"
// (decimal, at most 20 digits, within u64) with the values written; an accepted bound
// formats back (format_id / IdFormatter agree) to text that parses to the same bound;
// resolve_range gives what a brute-force walk over the logs gives.
//
// Input: lines. Every line is checked on its own; line 1 is the start bound and line 2
// the end bound (empty: none), the first byte of line 3 holds flags (1 exclusive,
// 2 reverse, 4 the topic whose logs were all collected).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "pipeproc/range.h"
#include "pipeproc/store.h"
#include "pipeproc/types.h"

using namespace pipeproc;

namespace {

// The grammar, written out independently of bounds.cpp.
std::optional<uint64_t> ref_number(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  unsigned __int128 v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(v);
}

std::optional<Bound> ref_parse(std::string_view t) {
  Bound b;
  if (!t.empty() && t[0] == ':') {
    auto n = ref_number(t.substr(1));
    if (!n) return std::nullopt;
    b.kind = Bound::Kind::sequence;
    b.seq = *n;
    return b;
  }
  size_t dash = t.find('-');
  if (dash == std::string_view::npos) {
    auto n = ref_number(t);
    if (!n) return std::nullopt;
    b.kind = Bound::Kind::timestamp;
    b.ts = *n;
    return b;
  }
  auto ts = ref_number(t.substr(0, dash)), seq = ref_number(t.substr(dash + 1));
  if (!ts || !seq) return std::nullopt;
  b.kind = Bound::Kind::id;
  b.ts = *ts;
  b.seq = *seq;
  return b;
}

bool same(const Bound& a, const Bound& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Bound::Kind::sequence:
      return a.seq == b.seq;
    case Bound::Kind::timestamp:
      return a.ts == b.ts;
    case Bound::Kind::id:
      return a.ts == b.ts && a.seq == b.seq;
  }
  return false;
}

std::string format_bound(const Bound& b) {
  switch (b.kind) {
    case Bound::Kind::sequence:
      return ":" + std::to_string(b.seq);
    case Bound::Kind::timestamp:
      return std::to_string(b.ts);
    case Bound::Kind::id:
      return format_id(LogId{b.ts, b.seq});
  }
  return {};
}

std::optional<Bound> check_parse(std::string_view text) {
  auto got = parse_bound(text);
  auto want = ref_parse(text);
  std::string shown(text.substr(0, 60));
  FUZZ_CHECK(got.ok() == want.has_value(), "parse_bound('%s') is %s, the grammar says %s", shown.c_str(),
             got.ok() ? "accepted" : "refused", want ? "valid" : "invalid");
  if (!got.ok()) {
    FUZZ_CHECK(got.status().code() == Code::invalid_range_offset, "refused with %s",
               std::string(code_name(got.status().code())).c_str());
    return std::nullopt;
  }
  FUZZ_CHECK(same(*got, *want), "parse_bound('%s') gave other values", shown.c_str());
  std::string again = format_bound(*got);
  auto re = parse_bound(again);
  FUZZ_CHECK(re.ok() && same(*re, *got), "'%s' formats as '%s', which parses differently", shown.c_str(),
             again.c_str());
  if (got->kind == Bound::Kind::id) {
    // The incremental formatter agrees with format_id over a run of ids from here.
    IdFormatter f;
    std::string out, want_out;
    for (uint64_t i = 0; i < 12; ++i) {
      LogId id{got->ts, got->seq + i};
      f.append(out, id);
      append_id(want_out, id);
    }
    f.append(out, LogId{got->ts + 1, got->seq});
    append_id(want_out, LogId{got->ts + 1, got->seq});
    FUZZ_CHECK(out == want_out, "IdFormatter '%s' != '%s'", out.c_str(), want_out.c_str());
  }
  return *got;
}

struct Topic {
  std::string name;
  uint64_t start = 0, end = 0;
  std::vector<LogId> held;  // [start, end)
};

struct Fixture {
  fuzzutil::TempDir dir;
  std::unique_ptr<Store> store;
  Topic full, empty;
  Fixture() {
    auto s = Store::open(dir.path, Store::Mode::write);
    fuzzutil::require_ok(s.status(), "open store");
    store = std::move(s).value();
    // t: ts 100 x3, 200, 300 x2, 400; start moved to 1. e: two logs, both collected.
    const std::pair<uint64_t, int> batches[] = {{100, 3}, {200, 1}, {300, 2}, {400, 1}};
    for (auto [ts, n] : batches) {
      fuzzutil::set_clock(ts);
      std::vector<Entry> es(static_cast<size_t>(n), Entry{"t", "{}"});
      fuzzutil::require_ok(store->commit(es, false, nullptr), "commit");
    }
    std::vector<Entry> es(2, Entry{"e", "1"});
    fuzzutil::require_ok(store->commit(es, false, nullptr), "commit");
    fuzzutil::require_ok(store->transact(false,
                                         [](Txn& t) {
                                           t.set_start("t", 1);
                                           t.set_start("e", 2);
                                           return Status{};
                                         }),
                         "set start");
    ::unsetenv("PIPEPROC_NOW_MS");
    full = {"t", 1, 7, {{100, 1}, {100, 2}, {200, 3}, {300, 4}, {300, 5}, {400, 6}}};
    empty = {"e", 2, 2, {}};
    for (const Topic* t : {&full, &empty}) {  // the fixture is what the store holds
      auto r = store->reader(t->name);
      fuzzutil::require_ok(r.status(), "reader");
      std::vector<LogId> ids;
      fuzzutil::require_ok((*r)->scan(0, UINT64_MAX,
                                      [&](const LogView& v) {
                                        ids.push_back(v.id);
                                        return true;
                                      }),
                           "scan");
      if ((*r)->start() != t->start || (*r)->end() != t->end || ids != t->held) {
        std::fprintf(stderr, "fuzz setup: topic %s is not as expected\n", t->name.c_str());
        std::abort();
      }
    }
  }
};

// The first held sequence at or after b (strict: after), by walking the logs.
Result<uint64_t> ref_first(const Topic& t, const Bound& b, bool strict) {
  if (b.kind == Bound::Kind::sequence) {
    if (b.seq < t.start || b.seq >= t.end) return Status(Code::sequence_not_found, "");
    return strict ? b.seq + 1 : b.seq;
  }
  for (const LogId& l : t.held) {
    bool after;
    if (b.kind == Bound::Kind::timestamp) {
      after = strict ? l.ts > b.ts : l.ts >= b.ts;
    } else {
      bool gt = l.ts > b.ts || (l.ts == b.ts && l.seq > b.seq);
      bool eq = l.ts == b.ts && l.seq == b.seq;
      after = strict ? gt : (gt || eq);
    }
    if (after) return l.seq;
  }
  return t.end;
}

Result<SeqRange> ref_resolve(const Topic& t, const RangeSpec& spec) {
  const auto& low = spec.reverse ? spec.end : spec.start;
  const auto& high = spec.reverse ? spec.start : spec.end;
  SeqRange out{t.start, t.end};
  if (low) {
    auto f = ref_first(t, *low, spec.exclusive);
    if (!f.ok()) return f.status();
    out.from = *f;
  }
  if (high) {
    auto f = ref_first(t, *high, !spec.exclusive);
    if (!f.ok()) return f.status();
    out.to = *f;
  }
  if (out.to < out.from) out.to = out.from;
  return out;
}

std::string describe(const std::optional<Bound>& b) { return b ? format_bound(*b) : "-"; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;  // built once per process, removed at exit
  Fixture* fx = &fixture;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  check_parse(in);

  std::vector<std::string_view> lines;
  for (size_t at = 0; at <= in.size();) {
    size_t nl = in.find('\n', at);
    if (nl == std::string_view::npos) nl = in.size();
    lines.push_back(in.substr(at, nl - at));
    at = nl + 1;
  }
  RangeSpec spec;
  bool usable = true;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto b = check_parse(lines[i]);
    if (i < 2 && !lines[i].empty()) {
      if (!b) usable = false;
      (i == 0 ? spec.start : spec.end) = b;
    }
  }
  if (!usable) return 0;
  uint8_t flags = lines.size() > 2 && !lines[2].empty() ? static_cast<uint8_t>(lines[2][0]) : 0;
  spec.exclusive = flags & 1;
  spec.reverse = flags & 2;
  const Topic& topic = (flags & 4) ? fx->empty : fx->full;

  auto reader = fx->store->reader(topic.name);
  fuzzutil::require_ok(reader.status(), "reader");
  auto got = resolve_range(**reader, spec);
  auto want = ref_resolve(topic, spec);
  std::string what = "range " + describe(spec.start) + " " + describe(spec.end) + (spec.exclusive ? " exclusive" : "") +
                     (spec.reverse ? " reverse" : "") + " on " + topic.name;
  FUZZ_CHECK(got.ok() == want.ok(), "%s: %s, expected %s", what.c_str(),
             got.ok() ? "ok" : got.status().message().c_str(), want.ok() ? "ok" : "an error");
  if (!got.ok()) {
    FUZZ_CHECK(got.status().code() == want.status().code(), "%s: %s, expected %s", what.c_str(),
               std::string(code_name(got.status().code())).c_str(),
               std::string(code_name(want.status().code())).c_str());
    return 0;
  }
  // Empty ranges may be placed anywhere; non-empty ones must match exactly.
  bool got_empty = got->from >= got->to, want_empty = want->from >= want->to;
  FUZZ_CHECK(got_empty == want_empty && (got_empty || (got->from == want->from && got->to == want->to)),
             "%s: [%llu, %llu), expected [%llu, %llu)", what.c_str(), static_cast<unsigned long long>(got->from),
             static_cast<unsigned long long>(got->to), static_cast<unsigned long long>(want->from),
             static_cast<unsigned long long>(want->to));
  return 0;
}
