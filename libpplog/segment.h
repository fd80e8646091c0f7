// Segment and index file helpers shared by the writer, recovery, readers and pp-check.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pipeproc/status.h"
#include "record.h"

namespace pipeproc {

// "<base:020><ext>", e.g. 00000000000000000042.log
std::string segment_file_name(uint64_t base, std::string_view ext);
// The base of a segment file name with that extension, or nullopt.
std::optional<uint64_t> parse_segment_name(std::string_view file, std::string_view ext);
// Sorted bases of the topic's segment files.
Result<std::vector<uint64_t>> list_segments(const std::string& topic_dir);

// Creates an empty segment (header only) and its empty index; fsyncs the directory if sync.
Status create_segment(const std::string& topic_dir, uint64_t base, bool sync);

// Walks the records of a segment file in [from, to) bytes, checking checksums and that
// sequences run on from first_seq. fn may be null. Returns the offset reached and the next
// sequence; stops early at the first bad or torn record (reported in *problem).
struct ScanResult {
  uint64_t offset = 0;
  uint64_t next_seq = 0;
  format::DecodeResult stop = format::DecodeResult::ok;  // why it stopped before `to`
  std::string problem;
};
Result<ScanResult> scan_segment(int fd, const std::string& path, uint64_t from, uint64_t to, uint64_t first_seq,
                                size_t max_body,
                                const std::function<void(const format::RecordView&, uint64_t off)>& fn);

// Rewrites a segment's index from its records in [header, seg_end).
Status rebuild_index(int seg_fd, const std::string& seg_path, const std::string& idx_path, uint64_t base,
                     uint64_t seg_end, size_t max_body, uint64_t* count, uint64_t* last_off);

}  // namespace pipeproc
