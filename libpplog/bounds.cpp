// Range bound parsing and resolution; see range.h.
//
// Logs are ordered by (timestamp, sequence), which within a topic is the same as by
// sequence. A bound picks a position in that order:
//   start, inclusive: the first log >= bound     start, exclusive: the first log > bound
//   end, inclusive:   the last log <= bound      end, exclusive:   the last log < bound
#include <algorithm>
#include <charconv>

#include "pipeproc/range.h"
#include "pipeproc/store.h"

namespace pipeproc {

namespace {
bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

Status bad_bound(std::string_view text) {
  return Status(Code::invalid_range_offset,
                "'" + std::string(text) + "' is not a range bound (an id TS-SEQ, a timestamp TS or a sequence :N)");
}
}  // namespace

Result<Bound> parse_bound(std::string_view text) {
  Bound b;
  if (!text.empty() && text[0] == ':') {
    b.kind = Bound::Kind::sequence;
    if (!parse_u64(text.substr(1), &b.seq)) return bad_bound(text);
    return b;
  }
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    b.kind = Bound::Kind::timestamp;
    if (!parse_u64(text, &b.ts)) return bad_bound(text);
    return b;
  }
  b.kind = Bound::Kind::id;
  if (!parse_u64(text.substr(0, dash), &b.ts) || !parse_u64(text.substr(dash + 1), &b.seq)) return bad_bound(text);
  return b;
}

namespace {
// The first sequence whose (ts, seq) is >= the bound (strict: > the bound).
Result<uint64_t> first_from(TopicReader& r, const Bound& b, bool strict) {
  switch (b.kind) {
    case Bound::Kind::sequence:
      if (b.seq < r.start() || b.seq >= r.end())
        return Status(Code::sequence_not_found,
                      "topic '" + r.name() + "' holds no sequence " + std::to_string(b.seq));
      return strict ? b.seq + 1 : b.seq;  // b.seq < end: no overflow
    case Bound::Kind::timestamp:
      return r.seq_at_or_after(b.ts, strict);
    case Bound::Kind::id: {
      // Logs with ts == b.ts occupy [lb, ub); among them the bound splits at seq.
      auto lb = r.seq_at_or_after(b.ts, false);
      if (!lb.ok()) return lb;
      auto ub = r.seq_at_or_after(b.ts, true);
      if (!ub.ok()) return ub;
      // The first log after (ts, UINT64_MAX) is the first with a later timestamp.
      uint64_t s = strict ? (b.seq == UINT64_MAX ? UINT64_MAX : b.seq + 1) : b.seq;
      return std::clamp(s, *lb, std::max(*lb, *ub));
    }
  }
  return r.end();
}
}  // namespace

Result<SeqRange> resolve_range(TopicReader& r, const RangeSpec& spec) {
  // The oldest and newest bounds, whatever the direction.
  const std::optional<Bound>& low = spec.reverse ? spec.end : spec.start;
  const std::optional<Bound>& high = spec.reverse ? spec.start : spec.end;
  SeqRange out{r.start(), r.end()};
  if (low) {
    auto f = first_from(r, *low, spec.exclusive);
    if (!f.ok()) return f.status();
    out.from = *f;
  }
  if (high) {
    // One past the last log <= bound is the first log > bound (exclusive: >= bound).
    auto t = first_from(r, *high, !spec.exclusive);
    if (!t.ok()) return t.status();
    out.to = *t;
  }
  if (out.to < out.from) out.to = out.from;
  return out;
}

}  // namespace pipeproc
