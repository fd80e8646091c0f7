// Fuzzes the journal op decoder (format::decode_ops) on arbitrary payloads.
// Properties: views stay inside the payload; the ops handed out re-encode (op_*) to
// exactly the bytes they came from, all of the payload when it decodes; a payload that
// fails is corrupt_record and its good ops are a prefix of it; a callback's error stops
// the walk and is returned as is.
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "journal.h"

using namespace pipeproc;
using namespace pipeproc::format;

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void encode(std::string& out, const OpView& v) {
  switch (v.op) {
    case Op::topic_create:
      op_topic_create(out, v.id, v.name);
      break;
    case Op::topic_head:
      op_topic_head(out, v.id, v.end, v.seg_base, v.seg_end, v.last_ts);
      break;
    case Op::topic_start:
      op_topic_start(out, v.id, v.start);
      break;
    case Op::clock:
      op_clock(out, v.ts);
      break;
    case Op::blob_put:
      op_blob_put(out, v.kind, v.name, v.value);
      break;
    case Op::blob_del:
      op_blob_del(out, v.kind, v.name);
      break;
    case Op::topic_data:
      op_topic_data(out, v.id, v.seg_base, v.offset, v.value);
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  std::string again;
  size_t ops = 0;
  Status st = decode_ops(payload, [&](const OpView& v) {
    FUZZ_CHECK(inside(v.name, payload) && inside(v.value, payload), "a view points outside the payload");
    uint8_t tag = static_cast<uint8_t>(v.op);
    FUZZ_CHECK(tag >= 1 && tag <= 7, "unknown op %u handed out", tag);
    encode(again, v);
    ++ops;
    return Status{};
  });
  FUZZ_CHECK(payload.substr(0, again.size()) == again, "ops re-encode to other bytes (%zu ops)", ops);
  if (st.ok()) {
    FUZZ_CHECK(again.size() == payload.size(), "decoded %zu of %zu bytes yet ok", again.size(), payload.size());
  } else {
    FUZZ_CHECK(st.code() == Code::corrupt_record, "error %s", std::string(code_name(st.code())).c_str());
    FUZZ_CHECK(again.size() < payload.size(), "failed after decoding everything");
  }

  // A callback that fails at op k: its status comes back, and no op after it is seen.
  if (ops > 0) {
    size_t k = size % ops, seen = 0;
    Status stop = decode_ops(payload, [&](const OpView&) {
      FUZZ_CHECK(seen <= k, "op after the callback failed");
      return seen++ == k ? Status(Code::timeout, "stop") : Status{};
    });
    FUZZ_CHECK(stop.code() == Code::timeout && seen == k + 1, "callback error lost: %s after %zu ops",
               std::string(code_name(stop.code())).c_str(), seen);
  }
  return 0;
}
