// Journal payload ops (docs/format.md, "Journal"): encoding and decoding.
// A commit is one journal record holding a list of ops, applied all together.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "format.h"
#include "pipeproc/status.h"

namespace pipeproc::format {

struct OpView {
  Op op{};
  uint32_t id = 0;         // topic_create, topic_head, topic_start
  std::string_view name;   // topic_create; blob key
  uint64_t end = 0, seg_base = 0, seg_end = 0, last_ts = 0;  // topic_head
  uint64_t start = 0;      // topic_start
  uint64_t ts = 0;         // clock
  uint8_t kind = 0;        // blob_put, blob_del
  std::string_view value;  // blob_put; topic_data: the bytes
  uint64_t offset = 0;     // topic_data (with id and seg_base)
};

void op_topic_create(std::string& buf, uint32_t id, std::string_view name);
void op_topic_head(std::string& buf, uint32_t id, uint64_t end, uint64_t seg_base, uint64_t seg_end,
                   uint64_t last_ts);
void op_topic_start(std::string& buf, uint32_t id, uint64_t start);
void op_clock(std::string& buf, uint64_t ts);
void op_blob_put(std::string& buf, uint8_t kind, std::string_view key, std::string_view value);
void op_blob_del(std::string& buf, uint8_t kind, std::string_view key);
void op_topic_data(std::string& buf, uint32_t id, uint64_t seg_base, uint64_t offset, std::string_view bytes);

// Decodes every op of a payload; corrupt_record if it is malformed.
Status decode_ops(std::string_view payload, const std::function<Status(const OpView&)>& fn);

}  // namespace pipeproc::format
