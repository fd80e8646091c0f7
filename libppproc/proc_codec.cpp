// ProcState's stored form (a state record of kind 1 in the journal, docs/format.md) and
// its JSON form (CONTRACT.md "Output").
#include <cstring>

#include "pipeproc/proc.h"

namespace pipeproc {

namespace {
constexpr uint8_t kProcVersion = 1;  // stored on disk: bump on any change below

struct Writer {
  std::string out;
  void u8(uint8_t v) { out.push_back(static_cast<char>(v)); }
  void u64(uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }
  void str(std::string_view s) {
    u64(s.size());
    out.append(s);
  }
  void range(const std::optional<LogRange>& r) {
    u8(r ? 1 : 0);
    if (r) {
      u64(r->first.ts);
      u64(r->first.seq);
      u64(r->last.ts);
      u64(r->last.seq);
    }
  }
};

struct Reader {
  std::string_view in;
  bool bad = false;
  const char* take(size_t n) {
    if (bad || in.size() < n) {
      bad = true;
      return nullptr;
    }
    const char* p = in.data();
    in.remove_prefix(n);
    return p;
  }
  uint8_t u8() {
    auto p = take(1);
    return p ? static_cast<uint8_t>(*p) : 0;
  }
  uint64_t u64() {
    uint64_t v = 0;
    if (auto p = take(8)) std::memcpy(&v, p, 8);
    return v;
  }
  std::string str() {
    uint64_t n = u64();
    if (n > 1024) {
      bad = true;
      return {};
    }
    auto p = take(n);
    return p ? std::string(p, n) : std::string();
  }
  std::optional<LogRange> range() {
    if (!u8()) return std::nullopt;
    LogRange r;
    r.first.ts = u64();
    r.first.seq = u64();
    r.last.ts = u64();
    r.last.seq = u64();
    return r;
  }
};

}  // namespace

std::string range_text(const std::optional<LogRange>& r) {
  if (!r) return "";
  return format_id(r->first) + ".." + format_id(r->last);
}

std::string ack_text(const LogRange& r) {
  if (r.first == r.last) return format_id(r.first);
  return format_id(r.first) + ".." + format_id(r.last);
}

std::string encode_proc(const ProcState& p) {
  Writer w;
  w.u8(kProcVersion);
  w.str(p.name);
  w.str(p.topic);
  w.u8(p.disabled ? 1 : 0);
  w.str(p.offset);
  w.u64(p.start_seq);
  w.u64(p.created_at);
  w.u64(p.last_claimed_at);
  w.u64(p.last_acked_at);
  w.range(p.claimed);
  w.range(p.previous);
  w.range(p.acked);
  w.u64(static_cast<uint64_t>(p.reclaims));
  w.u64(static_cast<uint64_t>(p.max_reclaims));
  w.u64(static_cast<uint64_t>(p.reclaim_timeout));
  w.u8(static_cast<uint8_t>(p.on_max));
  w.str(p.dead_letter);
  w.u64(static_cast<uint64_t>(p.count));
  return std::move(w.out);
}

Result<ProcState> decode_proc(std::string_view bytes) {
  Reader r{bytes};
  ProcState p;
  if (r.u8() != kProcVersion) return Status(Code::corrupt_record, "proc state of an unknown version");
  p.name = r.str();
  p.topic = r.str();
  p.disabled = r.u8() != 0;
  p.offset = r.str();
  p.start_seq = r.u64();
  p.created_at = r.u64();
  p.last_claimed_at = r.u64();
  p.last_acked_at = r.u64();
  p.claimed = r.range();
  p.previous = r.range();
  p.acked = r.range();
  p.reclaims = static_cast<int64_t>(r.u64());
  p.max_reclaims = static_cast<int64_t>(r.u64());
  p.reclaim_timeout = static_cast<int64_t>(r.u64());
  p.on_max = static_cast<OnMaxReclaims>(r.u8());
  p.dead_letter = r.str();
  p.count = static_cast<int64_t>(r.u64());
  if (r.bad || p.on_max > OnMaxReclaims::dead_letter) return Status(Code::corrupt_record, "proc state cut short");
  return p;
}

std::string proc_json(const ProcState& p, uint64_t lag) {
  std::string o = "{\"name\":";
  append_json_string(o, p.name);
  o += ",\"topic\":";
  append_json_string(o, p.topic);
  o += ",\"status\":";
  o += p.disabled ? "\"disabled\"" : "\"active\"";
  o += ",\"offset\":";
  append_json_string(o, p.offset);
  o += ",\"createdAt\":" + std::to_string(p.created_at);
  o += ",\"lastClaimedAt\":" + std::to_string(p.last_claimed_at);
  o += ",\"lastAckedAt\":" + std::to_string(p.last_acked_at);
  o += ",\"lastClaimedRange\":\"" + range_text(p.claimed) + "\"";
  o += ",\"previousClaimedRange\":\"" + range_text(p.previous) + "\"";
  o += ",\"lastAckedRange\":\"" + range_text(p.acked) + "\"";
  o += ",\"reclaims\":" + std::to_string(p.reclaims);
  o += ",\"maxReclaims\":" + std::to_string(p.max_reclaims);
  o += ",\"reclaimTimeout\":" + std::to_string(p.reclaim_timeout);
  o += ",\"onMaxReclaimsReached\":";
  o += p.on_max == OnMaxReclaims::disable ? "\"disable\"" : p.on_max == OnMaxReclaims::cont ? "\"continue\"" : "\"dead-letter\"";
  o += ",\"lag\":" + std::to_string(lag);
  o += ",\"deadLetter\":";
  append_json_string(o, p.on_max == OnMaxReclaims::dead_letter ? p.dead_letter : "");
  o += ",\"count\":" + std::to_string(p.count);
  o += "}";
  return o;
}

}  // namespace pipeproc
