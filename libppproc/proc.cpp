// Procs: claim, ack, ackCommit, reclaim and their management, each one store transaction.
//
// A proc's position is its acked range: the next claim starts after it (or, before any ack,
// where its offset says). A claim is open while lastClaimedRange differs from
// lastAckedRange; until it is acked or reclaimed (by hand, or automatically once older than
// the reclaim timeout) the proc claims nothing new. A reclaim returns lastClaimedRange to
// the claim before it, so the same logs are claimed again.
#include <algorithm>

#include "pipeproc/proc.h"
#include "pipeproc/range.h"

namespace pipeproc {

namespace {

constexpr uint8_t kProcKind = 1;  // state record kind; stored on disk: never renumber

Status no_proc(std::string_view name) {
  return Status(Code::invalid_proc, "no proc named '" + std::string(name) + "'");
}

Result<ProcState> load(const Txn& t, std::string_view name) {
  auto v = t.get(kProcKind, name);
  if (!v) return no_proc(name);
  return decode_proc(*v);
}

void save(Txn& t, const ProcState& p) { t.put(kProcKind, p.name, encode_proc(p)); }

// The first sequence this proc has not acked: after its acked range, or where its
// offset puts a fresh proc. Never before the topic's first held log.
Result<uint64_t> next_unacked(const ProcState& p, TopicReader* r) {
  uint64_t start = 0;
  if (p.acked) {
    start = p.acked->last.seq + 1;
  } else if (p.offset == ">") {
    start = 0;
  } else if (p.offset == "$>") {
    start = p.start_seq;
  } else {
    auto b = parse_bound(p.offset);
    if (!b.ok()) return b.status();
    switch (b->kind) {
      case Bound::Kind::sequence:
      case Bound::Kind::id:
        start = b->seq + 1;  // the logs after it
        break;
      case Bound::Kind::timestamp: {  // the logs at or after it
        if (!r) return uint64_t{0};
        auto s = r->seq_at_or_after(b->ts, false);
        if (!s.ok()) return s.status();
        start = *s;
        break;
      }
    }
  }
  return r ? std::max(start, r->start()) : start;
}

TopicReader* reader_or_null(Store& s, std::string_view topic) {
  auto r = s.topic_reader(topic);
  return r.ok() ? *r : nullptr;
}

Status read_logs(TopicReader& r, uint64_t from, uint64_t to, std::vector<ClaimedLog>& out) {
  return r.scan(from, to, [&](const LogView& v) {
    out.push_back(ClaimedLog{v.id, std::string(v.body)});
    return true;
  });
}

// A reclaim of the open claim, with the max-reclaims strategy.
Status reclaim(Txn& t, ProcState& p, uint64_t now) {
  p.reclaims += 1;
  bool reached = p.max_reclaims >= 0 && p.reclaims >= p.max_reclaims;
  if (reached && p.on_max == OnMaxReclaims::dead_letter) {
    // The poison claim goes to the dead-letter topic and is acked, in this one commit.
    TopicReader* r = reader_or_null(t.store(), p.topic);
    if (!r) return Status(Code::invalid_topic, "no topic named '" + p.topic + "'");
    std::vector<ClaimedLog> logs;
    PP_RETURN_IF_ERROR(read_logs(*r, p.claimed->first.seq, p.claimed->last.seq + 1, logs));
    for (const ClaimedLog& l : logs) {
      std::string body = "{\"id\":\"" + format_id(l.id) + "\",\"topic\":\"" + p.topic + "\",\"proc\":\"" + p.name +
                         "\",\"reclaims\":" + std::to_string(p.reclaims) + ",\"body\":" + l.body + "}";
      t.add_owned(p.dead_letter, std::move(body));
    }
    p.acked = p.claimed;
    p.last_acked_at = now;
    p.reclaims = 0;
    t.require_sync();  // a commit that adds logs is durable (CONTRACT.md, Durability)
    return {};
  }
  p.claimed = p.previous;
  if (reached && p.on_max == OnMaxReclaims::disable) p.disabled = true;
  return {};
}

}  // namespace

Status check_proc_settings(const ProcOptions& o) {
  if (o.offset != ">" && o.offset != "$>") {
    auto b = parse_bound(o.offset);
    if (!b.ok()) return b.status();
  }
  if (o.count && *o.count < 1) return Status(Code::usage, "count must be at least 1");
  if (o.max_reclaims < -1) return Status(Code::usage, "max reclaims must be -1 (no limit) or more");
  if (o.reclaim_timeout < -1) return Status(Code::usage, "reclaim timeout must be -1 (never) or more");
  return {};
}

namespace {
// The claim step of proc_claim, inside a transaction. A proc that reached its max reclaims
// and became disabled on the way sets *disabled_now (its state is saved, nothing claimed).
Status claim_in(Txn& t, std::string_view topic, std::string_view name, const ProcOptions& opts, ClaimResult& result,
                bool* disabled_now) {
  TopicReader* r = reader_or_null(t.store(), topic);
  const uint64_t now = now_ms();
  ProcState p;
  bool changed = false;
  if (auto cur = t.get(kProcKind, name)) {
    auto d = decode_proc(*cur);
    if (!d.ok()) return d.status();
    p = std::move(d).value();
    if (p.topic != topic)
      return Status(Code::proc_name_not_unique,
                    "proc '" + std::string(name) + "' already reads topic '" + p.topic + "'");
    if (opts.count && *opts.count != p.count) {
      p.count = *opts.count;
      changed = true;
    }
  } else {
    if (opts.must_exist) return no_proc(name);
    p.name = name;
    p.topic = topic;
    p.offset = opts.offset;
    p.start_seq = r ? r->end() : 0;
    p.created_at = now;
    p.count = opts.count.value_or(1);
    p.max_reclaims = opts.max_reclaims;
    p.reclaim_timeout = opts.reclaim_timeout;
    p.on_max = opts.on_max;
    if (p.on_max == OnMaxReclaims::dead_letter) {
      p.dead_letter = opts.dead_letter.empty() ? p.name + ".dead" : opts.dead_letter;
      PP_RETURN_IF_ERROR(check_name(p.dead_letter));
    }
    changed = true;
  }
  if (p.disabled) return Status(Code::proc_is_disabled, "proc '" + p.name + "' is disabled");
  if (p.open_claim()) {
    if (p.reclaim_timeout < 0 || now < p.last_claimed_at + static_cast<uint64_t>(p.reclaim_timeout)) {
      result.blocked_until = p.reclaim_timeout < 0 ? 0 : p.last_claimed_at + static_cast<uint64_t>(p.reclaim_timeout);
      if (changed) save(t, p);
      return {};
    }
    PP_RETURN_IF_ERROR(reclaim(t, p, now));  // the claim timed out
    changed = true;
    if (p.disabled) {
      *disabled_now = true;
      save(t, p);
      return {};
    }
  }
  if (r) {
    auto from = next_unacked(p, r);
    if (!from.ok()) return from.status();
    uint64_t to = std::min(r->end(), *from + static_cast<uint64_t>(p.count));
    if (*from < to) {
      PP_RETURN_IF_ERROR(read_logs(*r, *from, to, result.logs));
      if (!result.logs.empty()) {
        p.previous = p.claimed;
        p.claimed = LogRange{result.logs.front().id, result.logs.back().id};
        p.last_claimed_at = now;
        changed = true;
      }
    }
  }
  if (changed) save(t, p);
  return {};
}

Result<LogRange> ack_in(Txn& t, std::string_view name) {
  auto p = load(t, name);
  if (!p.ok()) return p.status();
  if (!p->open_claim()) return Status(Code::nothing_to_ack, "proc '" + std::string(name) + "' has no open claim");
  p->acked = p->claimed;
  p->last_acked_at = now_ms();
  p->reclaims = 0;
  save(t, *p);
  return *p->acked;
}

// ackCommit inside a transaction: the ack, and the entries as logs of the same commit.
Result<LogRange> ack_commit_in(Txn& t, std::string_view name, std::span<const Entry> entries) {
  auto acked = ack_in(t, name);
  if (!acked.ok()) return acked.status();
  for (const Entry& e : entries) t.add(e.topic, e.body);
  return acked;
}
}  // namespace

Result<ClaimResult> proc_claim(Store& store, std::string_view topic, std::string_view name, const ProcOptions& opts) {
  PP_RETURN_IF_ERROR(check_name(topic));
  PP_RETURN_IF_ERROR(check_name(name, "proc"));
  PP_RETURN_IF_ERROR(check_proc_settings(opts));
  ClaimResult result;
  bool disabled_now = false;
  Status st = store.transact(false, [&](Txn& t) { return claim_in(t, topic, name, opts, result, &disabled_now); });
  if (!st.ok()) return st;
  if (disabled_now)
    return Status(Code::proc_is_disabled, "proc '" + std::string(name) + "' reached its max reclaims and is disabled");
  return result;
}

Result<AckClaimResult> proc_ack_claim(Store& store, std::string_view topic, std::string_view name,
                                      const ProcOptions& opts, std::span<const Entry> entries, bool sync,
                                      std::vector<LogId>* ids) {
  PP_RETURN_IF_ERROR(check_name(topic));
  PP_RETURN_IF_ERROR(check_name(name, "proc"));
  PP_RETURN_IF_ERROR(check_proc_settings(opts));
  AckClaimResult out;
  Status st = store.transact(
      sync,
      [&](Txn& t) -> Status {
        auto acked = ack_commit_in(t, name, entries);
        if (!acked.ok()) return acked.status();
        out.acked = *acked;
        bool disabled_now = false;  // cannot happen: the ack just closed the claim
        Status claimed = claim_in(t, topic, name, opts, out.next, &disabled_now);
        // A disabled proc may still ack its open claim; it just claims nothing more.
        if (claimed.code() == Code::proc_is_disabled) return Status{};
        return claimed;
      },
      ids);
  if (!st.ok()) return st;
  return out;
}

Result<LogRange> proc_ack(Store& store, std::string_view name) {
  return proc_ack_commit(store, name, {}, false, nullptr);  // an ack without logs: no fsync
}

Result<LogRange> proc_ack_commit(Store& store, std::string_view name, std::span<const Entry> entries, bool sync,
                                 std::vector<LogId>* ids) {
  LogRange out;
  Status st = store.transact(
      sync,
      [&](Txn& t) -> Status {
        auto r = ack_commit_in(t, name, entries);
        if (!r.ok()) return r.status();
        out = *r;
        return {};
      },
      ids);
  if (!st.ok()) return st;
  return out;
}

namespace {
// Loads a proc, changes it, saves it; returns the new state.
Result<ProcState> update(Store& store, std::string_view name, const std::function<Status(Txn&, ProcState&)>& fn) {
  ProcState out;
  Status st = store.transact(false, [&](Txn& t) -> Status {
    auto p = load(t, name);
    if (!p.ok()) return p.status();
    PP_RETURN_IF_ERROR(fn(t, *p));
    save(t, *p);
    out = std::move(*p);
    return {};
  });
  if (!st.ok()) return st;
  return out;
}
}  // namespace

Result<ProcState> proc_reclaim(Store& store, std::string_view name) {
  return update(store, name, [&](Txn& t, ProcState& p) -> Status {
    if (!p.open_claim()) return Status(Code::nothing_to_reclaim, "proc '" + p.name + "' has no open claim");
    return reclaim(t, p, now_ms());
  });
}

Result<ProcState> proc_disable(Store& store, std::string_view name) {
  return update(store, name, [&](Txn&, ProcState& p) -> Status {
    if (p.disabled) return Status(Code::proc_already_disabled, "proc '" + p.name + "' is already disabled");
    p.disabled = true;
    return {};
  });
}

Result<ProcState> proc_resume(Store& store, std::string_view name) {
  return update(store, name, [&](Txn&, ProcState& p) -> Status {
    if (!p.disabled) return Status(Code::proc_already_active, "proc '" + p.name + "' is already active");
    p.disabled = false;
    p.reclaims = 0;
    return {};
  });
}

Result<ProcState> proc_destroy(Store& store, std::string_view name) {
  ProcState out;
  Status st = store.transact(false, [&](Txn& t) -> Status {
    auto p = load(t, name);
    if (!p.ok()) return p.status();
    t.del(kProcKind, name);
    out = std::move(*p);
    return {};
  });
  if (!st.ok()) return st;
  return out;
}

Result<ProcState> proc_inspect(Store& store, std::string_view name) {
  if (!store.exists()) return no_proc(name);
  ProcState out;
  Status st = store.transact(false, [&](Txn& t) -> Status {
    auto p = load(t, name);
    if (!p.ok()) return p.status();
    out = std::move(*p);
    return {};
  });
  if (!st.ok()) return st;
  return out;
}

Result<std::vector<ProcState>> proc_list(Store& store, std::string_view topic) {
  std::vector<ProcState> out;
  if (!store.exists()) return out;
  Status st = store.transact(false, [&](Txn& t) -> Status {
    for (auto& [key, value] : t.list(kProcKind)) {
      auto p = decode_proc(value);
      if (!p.ok()) return p.status();
      if (topic.empty() || p->topic == topic) out.push_back(std::move(*p));
    }
    return {};
  });
  if (!st.ok()) return st;
  std::sort(out.begin(), out.end(), [](const ProcState& a, const ProcState& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.name < b.name;
  });
  return out;
}

uint64_t proc_lag(Store& store, const ProcState& p) {
  TopicReader* r = reader_or_null(store, p.topic);
  if (!r) return 0;
  auto from = next_unacked(p, r);
  if (!from.ok()) return 0;
  return r->end() > *from ? r->end() - *from : 0;
}

bool proc_caught_up(Store& store, const ProcState& p) { return !p.open_claim() && proc_lag(store, p) == 0; }

}  // namespace pipeproc
