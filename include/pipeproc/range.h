// Range bounds (CONTRACT.md "Names, ids, ranges"): parsing and resolving to sequences.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "pipeproc/status.h"

namespace pipeproc {

class TopicReader;

struct Bound {
  enum class Kind { id, timestamp, sequence } kind = Kind::sequence;
  uint64_t ts = 0;
  uint64_t seq = 0;
};

// "1518951480106-3", "1518951480106" or ":3"; anything else is invalid_range_offset.
Result<Bound> parse_bound(std::string_view text);

struct RangeSpec {
  std::optional<Bound> start, end;
  bool exclusive = false;
  bool reverse = false;  // then start is the newest bound (start >= end)
};

// Resolves a range to the half-open sequence interval [from, to) it covers (empty when
// from >= to). A :N bound the topic does not hold is sequence_not_found.
struct SeqRange {
  uint64_t from = 0, to = 0;
};
Result<SeqRange> resolve_range(TopicReader& reader, const RangeSpec& spec);

}  // namespace pipeproc
