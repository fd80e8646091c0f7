// SystemProc registry: a state record of kind 2 per systemProc (its JSON form), plus its
// procs (kind 1), changed together in one store transaction.
#include "pipeproc/systemproc.h"

#include <simdjson.h>

#include <algorithm>

#include "pipeproc/range.h"

namespace pipeproc {

namespace {
constexpr uint8_t kProcKind = 1;        // stored on disk: never renumber
constexpr uint8_t kSystemProcKind = 2;  // stored on disk: never renumber


void json_list(std::string& o, const std::vector<std::string>& v) {
  o.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) o.push_back(',');
    append_json_string(o, v[i]);
  }
  o.push_back(']');
}

std::string on_max_word(OnMaxReclaims m) {
  return m == OnMaxReclaims::cont ? "continue" : m == OnMaxReclaims::dead_letter ? "dead-letter" : "disable";
}

// The stored form: the printed object plus the proc settings.
std::string encode(const SystemProc& sp) {
  std::string o = systemproc_json(sp);
  o.pop_back();
  o += ",\"offset\":";
  append_json_string(o, sp.opts.offset);
  o += ",\"count\":" + std::to_string(sp.opts.count.value_or(1));
  o += ",\"maxReclaims\":" + std::to_string(sp.opts.max_reclaims);
  o += ",\"reclaimTimeout\":" + std::to_string(sp.opts.reclaim_timeout);
  o += ",\"onMaxReclaimsReached\":\"" + on_max_word(sp.opts.on_max) + "\"}";
  return o;
}

Result<SystemProc> decode(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(text.data(), text.size(), true).get(obj)) return Status(Code::corrupt_record, "bad systemProc record");
  SystemProc sp;
  auto str = [&](const char* k, std::string& out) {
    std::string_view v;
    if (!obj[k].get(v)) out = std::string(v);
  };
  auto list = [&](const char* k, std::vector<std::string>& out) {
    simdjson::dom::array a;
    if (obj[k].get(a)) return;
    for (auto e : a) {
      std::string_view v;
      if (!e.get(v)) out.emplace_back(v);
    }
  };
  str("name", sp.name);
  list("from", sp.from);
  list("to", sp.to);
  list("procs", sp.procs);
  std::string cmd;
  str("exec", cmd);
  if (cmd.empty()) {
    str("stream", cmd);
    sp.stream = true;
  }
  sp.cmd = cmd;
  str("offset", sp.opts.offset);
  int64_t n = 0;
  if (!obj["count"].get(n)) sp.opts.count = n;
  if (!obj["maxReclaims"].get(n)) sp.opts.max_reclaims = n;
  if (!obj["reclaimTimeout"].get(n)) sp.opts.reclaim_timeout = n;
  std::string m;
  str("onMaxReclaimsReached", m);
  sp.opts.on_max = m == "continue" ? OnMaxReclaims::cont : m == "dead-letter" ? OnMaxReclaims::dead_letter
                                                                               : OnMaxReclaims::disable;
  return sp;
}
}  // namespace

std::string systemproc_proc_name(const SystemProc& sp, const std::string& topic) {
  return sp.from.size() == 1 ? sp.name : sp.name + "__" + topic;
}

std::string systemproc_json(const SystemProc& sp) {
  std::string o = "{\"name\":";
  append_json_string(o, sp.name);
  o += ",\"from\":";
  json_list(o, sp.from);
  o += ",\"to\":";
  json_list(o, sp.to);
  o += sp.stream ? ",\"stream\":" : ",\"exec\":";
  append_json_string(o, sp.cmd);
  o += ",\"procs\":";
  json_list(o, sp.procs);
  o += "}";
  return o;
}

Result<SystemProc> systemproc_add(Store& store, SystemProc sp) {
  PP_RETURN_IF_ERROR(check_name(sp.name, "systemProc"));
  if (sp.from.empty()) return Status(Code::usage, "a systemProc needs at least one --from topic");
  if (sp.cmd.empty()) return Status(Code::usage, "a systemProc needs --exec CMD or --stream CMD");
  for (auto& t : sp.from) PP_RETURN_IF_ERROR(check_name(t));
  for (auto& t : sp.to) PP_RETURN_IF_ERROR(check_name(t));
  PP_RETURN_IF_ERROR(check_proc_settings(sp.opts));
  sp.procs.clear();
  for (auto& t : sp.from) {
    sp.procs.push_back(systemproc_proc_name(sp, t));
    PP_RETURN_IF_ERROR(check_name(sp.procs.back(), "proc"));
  }
  std::string value = encode(sp);
  if (value.size() > 1024) return Status(Code::usage, "the systemProc definition is longer than 1024 bytes");
  SystemProc result = sp;
  Status st = store.transact(false, [&](Txn& t) -> Status {
    if (auto cur = t.get(kSystemProcKind, sp.name)) {
      auto old = decode(*cur);
      if (!old.ok()) return old.status();
      auto a = old->from, b = sp.from;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      if (a != b)
        return Status(Code::proc_name_not_unique, "systemProc '" + sp.name + "' already reads other topics");
      result = std::move(*old);  // the same: a no-op
      return {};
    }
    for (size_t i = 0; i < sp.from.size(); ++i) {
      if (auto p = t.get(kProcKind, sp.procs[i])) {
        auto ps = decode_proc(*p);
        if (!ps.ok()) return ps.status();
        if (ps->topic != sp.from[i])
          return Status(Code::proc_name_not_unique, "proc '" + sp.procs[i] + "' already reads topic '" + ps->topic + "'");
        continue;
      }
      ProcState p;
      p.name = sp.procs[i];
      p.topic = sp.from[i];
      p.offset = sp.opts.offset;
      auto r = store.topic_reader(p.topic);
      p.start_seq = r.ok() ? (*r)->end() : 0;
      p.created_at = now_ms();
      p.count = sp.opts.count.value_or(1);
      p.max_reclaims = sp.opts.max_reclaims;
      p.reclaim_timeout = sp.opts.reclaim_timeout;
      p.on_max = sp.opts.on_max;
      if (p.on_max == OnMaxReclaims::dead_letter) p.dead_letter = p.name + ".dead";
      t.put(kProcKind, p.name, encode_proc(p));
    }
    t.put(kSystemProcKind, sp.name, value);
    return {};
  });
  if (!st.ok()) return st;
  return result;
}

Result<std::vector<SystemProc>> systemproc_list(Store& store) {
  std::vector<SystemProc> out;
  if (!store.exists()) return out;
  Status st = store.transact(false, [&](Txn& t) -> Status {
    for (auto& [k, v] : t.list(kSystemProcKind)) {
      auto sp = decode(v);
      if (!sp.ok()) return sp.status();
      out.push_back(std::move(*sp));
    }
    return {};
  });
  if (!st.ok()) return st;
  std::sort(out.begin(), out.end(), [](const SystemProc& a, const SystemProc& b) { return a.name < b.name; });
  return out;
}

Result<SystemProc> systemproc_remove(Store& store, const std::string& name) {
  SystemProc out;
  if (!store.exists()) return Status(Code::invalid_proc, "no systemProc named '" + name + "'");
  Status st = store.transact(false, [&](Txn& t) -> Status {
    auto cur = t.get(kSystemProcKind, name);
    if (!cur) return Status(Code::invalid_proc, "no systemProc named '" + name + "'");
    auto sp = decode(*cur);
    if (!sp.ok()) return sp.status();
    for (auto& p : sp->procs) t.del(kProcKind, p);
    t.del(kSystemProcKind, name);
    out = std::move(*sp);
    return {};
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace pipeproc
