// Segment and index file helpers; see segment.h.
#include "segment.h"

#include <fcntl.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "posix.h"

namespace pipeproc {

using namespace format;

std::string segment_file_name(uint64_t base, std::string_view ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(base));
  return std::string(buf) + std::string(ext);
}

std::optional<uint64_t> parse_segment_name(std::string_view file, std::string_view ext) {
  if (file.size() != 20 + ext.size() || file.substr(20) != ext) return std::nullopt;
  uint64_t v = 0;
  auto r = std::from_chars(file.data(), file.data() + 20, v);
  if (r.ec != std::errc() || r.ptr != file.data() + 20) return std::nullopt;
  return v;
}

Result<std::vector<uint64_t>> list_segments(const std::string& topic_dir) {
  auto names = posix::list_dir(topic_dir);
  if (!names.ok()) return names.status();
  std::vector<uint64_t> out;
  for (auto& n : *names)
    if (auto b = parse_segment_name(n, ".log")) out.push_back(*b);
  std::sort(out.begin(), out.end());
  return out;
}

Status create_segment(const std::string& topic_dir, uint64_t base, bool sync) {
  PP_RETURN_IF_ERROR(posix::make_dirs(topic_dir));
  char hdr[32];
  for (auto [ext, magic, version] : {std::tuple{".log", kSegmentMagic, kSegmentVersion},
                                     std::tuple{".idx", kIndexMagic, kIndexVersion}}) {
    std::string path = topic_dir + "/" + segment_file_name(base, ext);
    auto f = posix::open_file(path, O_RDWR | O_CREAT | O_TRUNC);
    if (!f.ok()) return f.status();
    encode_file_header(hdr, magic, version, base);
    PP_RETURN_IF_ERROR(posix::pwrite_all(f->get(), hdr, sizeof hdr, 0, path));
    if (sync && std::string_view(ext) == ".log") PP_RETURN_IF_ERROR(posix::sync_data(f->get(), path));
  }
  if (sync) {
    PP_RETURN_IF_ERROR(posix::sync_dir(topic_dir));
    PP_RETURN_IF_ERROR(posix::sync_dir(topic_dir.substr(0, topic_dir.rfind('/'))));
  }
  return {};
}

Result<ScanResult> scan_segment(int fd, const std::string& path, uint64_t from, uint64_t to, uint64_t first_seq,
                                size_t max_body, const std::function<void(const RecordView&, uint64_t off)>& fn) {
  ScanResult r;
  r.offset = from;
  r.next_seq = first_seq;
  std::string buf;
  const size_t chunk = 1 << 20;
  uint64_t buf_off = from;  // file offset of buf[0]
  size_t pos = 0;
  while (r.offset < to) {
    RecordView rec;
    std::string_view avail(buf.data() + pos, buf.size() - pos);
    if (avail.size() > to - r.offset) avail = avail.substr(0, to - r.offset);
    DecodeResult d = decode_record(avail, &rec, max_body);
    if (d == DecodeResult::truncated) {
      uint64_t have_end = buf_off + buf.size();
      if (have_end >= to) {
        r.stop = DecodeResult::truncated;
        r.problem = path + ": record cut short at byte " + std::to_string(r.offset);
        return r;
      }
      // Refill: keep the partial record, read more.
      buf.erase(0, pos);
      buf_off += pos;
      pos = 0;
      size_t want = std::max(chunk, kRecordHeaderSize + (buf.size() >= 12 ? get_u32(buf.data() + 8) : 0));
      want = std::min<uint64_t>(want, to - (buf_off + buf.size()));
      size_t old = buf.size();
      buf.resize(old + want);
      auto n = posix::pread_full(fd, buf.data() + old, want, buf_off + old, path);
      if (!n.ok()) return n.status();
      buf.resize(old + *n);
      if (*n == 0) {
        r.stop = DecodeResult::truncated;
        r.problem = path + ": file ends at byte " + std::to_string(buf_off + old) + ", before byte " + std::to_string(to);
        return r;
      }
      continue;
    }
    if (d == DecodeResult::corrupt || rec.seq != r.next_seq) {
      r.stop = DecodeResult::corrupt;
      r.problem = path + ": bad record at byte " + std::to_string(r.offset) +
                  (d == DecodeResult::corrupt ? " (checksum or header)" : " (sequence out of order)");
      return r;
    }
    if (fn) fn(rec, r.offset);
    pos += rec.size;
    r.offset += rec.size;
    ++r.next_seq;
  }
  return r;
}

Status rebuild_index(int seg_fd, const std::string& seg_path, const std::string& idx_path, uint64_t base,
                     uint64_t seg_end, size_t max_body, uint64_t* count, uint64_t* last_off) {
  std::string out(kIndexHeaderSize, '\0');
  encode_file_header(out.data(), kIndexMagic, kIndexVersion, base);
  uint64_t n = 0, last = 0;
  auto r = scan_segment(seg_fd, seg_path, kSegmentHeaderSize, seg_end, base, max_body,
                        [&](const RecordView& rec, uint64_t off) {
                          if (n == 0 || off - last >= kIndexInterval) {
                            char e[kIndexEntrySize];
                            encode_index_entry(e, IndexEntry{rec.seq, rec.ts, off});
                            out.append(e, sizeof e);
                            ++n;
                            last = off;
                          }
                        });
  if (!r.ok()) return r.status();
  if (r->stop != DecodeResult::ok) return Status(Code::corrupt_record, r->problem);
  auto f = posix::open_file(idx_path, O_RDWR | O_CREAT | O_TRUNC);
  if (!f.ok()) return f.status();
  PP_RETURN_IF_ERROR(posix::pwrite_all(f->get(), out.data(), out.size(), 0, idx_path));
  if (count) *count = n;
  if (last_off) *last_off = last;
  return {};
}

}  // namespace pipeproc
