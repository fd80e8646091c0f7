// Journal op codec; see journal.h.
#include "journal.h"

#include "record.h"

namespace pipeproc::format {

namespace {
void put8(std::string& b, uint8_t v) { b.push_back(static_cast<char>(v)); }
void put16(std::string& b, uint16_t v) { b.append(reinterpret_cast<const char*>(&v), 2); }
void put32(std::string& b, uint32_t v) { b.append(reinterpret_cast<const char*>(&v), 4); }
void put64(std::string& b, uint64_t v) { b.append(reinterpret_cast<const char*>(&v), 8); }

struct Cursor {
  std::string_view s;
  size_t pos = 0;
  bool bad = false;
  const char* take(size_t n) {
    if (bad || s.size() - pos < n) {
      bad = true;
      return nullptr;
    }
    const char* p = s.data() + pos;
    pos += n;
    return p;
  }
  uint8_t u8() { auto p = take(1); return p ? static_cast<uint8_t>(*p) : 0; }
  uint16_t u16() { auto p = take(2); return p ? get_u16(p) : 0; }
  uint32_t u32() { auto p = take(4); return p ? get_u32(p) : 0; }
  uint64_t u64() { auto p = take(8); return p ? get_u64(p) : 0; }
  std::string_view bytes(size_t n) { auto p = take(n); return p ? std::string_view(p, n) : std::string_view(); }
};
}  // namespace

void op_topic_create(std::string& buf, uint32_t id, std::string_view name) {
  put8(buf, static_cast<uint8_t>(Op::topic_create));
  put32(buf, id);
  put8(buf, static_cast<uint8_t>(name.size()));
  buf.append(name);
}

void op_topic_head(std::string& buf, uint32_t id, uint64_t end, uint64_t seg_base, uint64_t seg_end,
                   uint64_t last_ts) {
  put8(buf, static_cast<uint8_t>(Op::topic_head));
  put32(buf, id);
  put64(buf, end);
  put64(buf, seg_base);
  put64(buf, seg_end);
  put64(buf, last_ts);
}

void op_topic_start(std::string& buf, uint32_t id, uint64_t start) {
  put8(buf, static_cast<uint8_t>(Op::topic_start));
  put32(buf, id);
  put64(buf, start);
}

void op_clock(std::string& buf, uint64_t ts) {
  put8(buf, static_cast<uint8_t>(Op::clock));
  put64(buf, ts);
}

void op_blob_put(std::string& buf, uint8_t kind, std::string_view key, std::string_view value) {
  put8(buf, static_cast<uint8_t>(Op::blob_put));
  put8(buf, kind);
  put16(buf, static_cast<uint16_t>(key.size()));
  buf.append(key);
  put32(buf, static_cast<uint32_t>(value.size()));
  buf.append(value);
}

void op_blob_del(std::string& buf, uint8_t kind, std::string_view key) {
  put8(buf, static_cast<uint8_t>(Op::blob_del));
  put8(buf, kind);
  put16(buf, static_cast<uint16_t>(key.size()));
  buf.append(key);
}

void op_topic_data(std::string& buf, uint32_t id, uint64_t seg_base, uint64_t offset, std::string_view bytes) {
  put8(buf, static_cast<uint8_t>(Op::topic_data));
  put32(buf, id);
  put64(buf, seg_base);
  put64(buf, offset);
  put32(buf, static_cast<uint32_t>(bytes.size()));
  buf.append(bytes);
}

Status decode_ops(std::string_view payload, const std::function<Status(const OpView&)>& fn) {
  Cursor c{payload};
  while (c.pos < payload.size()) {
    OpView v;
    v.op = static_cast<Op>(c.u8());
    switch (v.op) {
      case Op::topic_create:
        v.id = c.u32();
        v.name = c.bytes(c.u8());
        break;
      case Op::topic_head:
        v.id = c.u32();
        v.end = c.u64();
        v.seg_base = c.u64();
        v.seg_end = c.u64();
        v.last_ts = c.u64();
        break;
      case Op::topic_start:
        v.id = c.u32();
        v.start = c.u64();
        break;
      case Op::clock:
        v.ts = c.u64();
        break;
      case Op::blob_put:
        v.kind = c.u8();
        v.name = c.bytes(c.u16());
        v.value = c.bytes(c.u32());
        break;
      case Op::blob_del:
        v.kind = c.u8();
        v.name = c.bytes(c.u16());
        break;
      case Op::topic_data:
        v.id = c.u32();
        v.seg_base = c.u64();
        v.offset = c.u64();
        v.value = c.bytes(c.u32());
        break;
      default:
        return Status(Code::corrupt_record, "journal: unknown op " + std::to_string(static_cast<int>(v.op)));
    }
    if (c.bad) return Status(Code::corrupt_record, "journal: op cut short");
    PP_RETURN_IF_ERROR(fn(v));
  }
  return {};
}

}  // namespace pipeproc::format
