// The collector; see gc.h.
#include "pipeproc/gc.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "pipeproc/proc.h"

namespace pipeproc {

namespace {
std::string seg_path(const std::string& dir, uint64_t base, const char* ext) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(base));
  return dir + "/" + buf + ext;
}

uint64_t size_of(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

// Segment bases of a topic directory, sorted.
std::vector<uint64_t> bases_of(const std::string& dir) {
  std::vector<uint64_t> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n.size() == 24 && n.compare(20, 4, ".log") == 0 &&
          n.find_first_not_of("0123456789") == 20)
        out.push_back(std::stoull(n.substr(0, 20)));
    }
    ::closedir(d);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Segments wholly before start (never the last one): (base, bytes) of each.
std::vector<std::pair<uint64_t, uint64_t>> dead_segments(const std::string& dir, uint64_t start) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  auto bases = bases_of(dir);
  for (size_t i = 0; i + 1 < bases.size(); ++i) {
    if (bases[i + 1] > start) break;
    out.emplace_back(bases[i], size_of(seg_path(dir, bases[i], ".log")) + size_of(seg_path(dir, bases[i], ".idx")));
  }
  return out;
}
}  // namespace

Result<std::vector<GcTopicResult>> gc_collect(Store& store, const GcOptions& opts,
                                              const std::function<void(uint64_t, uint64_t)>& progress) {
  uint64_t freed = 0;
  std::vector<GcTopicResult> out;
  if (!store.exists()) return out;
  auto procs = proc_list(store);
  if (!procs.ok()) return procs.status();
  const uint64_t now = now_ms();
  const uint64_t cutoff = now > opts.min_prune_time ? now - opts.min_prune_time : 0;

  // Decide every topic's new start from one consistent view, then commit them together.
  std::map<std::string, uint64_t> starts, old_starts;
  Status st = store.transact(false, [&](Txn& t) -> Status {
    for (const TopicInfo& info : store.topics()) {
      auto r = store.topic_reader(info.name);
      if (!r.ok()) return r.status();
      TopicReader& rd = **r;
      auto by_age = rd.seq_at_or_after(cutoff, false);  // the first log not older than the cutoff
      if (!by_age.ok()) return by_age.status();
      uint64_t start = *by_age;
      for (const ProcState& p : *procs) {
        if (p.topic != info.name || p.disabled) continue;
        start = std::min(start, p.previous ? p.previous->first.seq : rd.start());
      }
      start = std::max(start, rd.start());
      starts[info.name] = start;
      old_starts[info.name] = rd.start();
      if (start > rd.start() && !opts.dry_run) t.set_start(info.name, start);
    }
    return {};
  });
  if (!st.ok()) return st;

  for (const TopicInfo& before : store.topics()) {
    auto r = store.topic_reader(before.name);
    if (!r.ok()) return r.status();
    TopicReader& rd = **r;
    GcTopicResult res;
    res.topic = before.name;
    uint64_t start = starts.count(before.name) ? starts[before.name] : rd.start();
    uint64_t old = old_starts.count(before.name) ? old_starts[before.name] : rd.start();
    res.collected = start > old ? start - old : 0;
    if (start < rd.end()) {
      auto ts = rd.ts_of(start);
      if (ts.ok()) res.first = format_id(LogId{*ts, start});
    }
    // Whole segments behind the start go; readers that opened them keep reading.
    std::string dir = store.topic_dir(before.name);
    for (auto [base, bytes] : dead_segments(dir, opts.dry_run ? start : rd.start())) {
      res.bytes_freed += bytes;
      if (opts.dry_run) continue;
      for (const char* ext : {".log", ".idx"}) {
        std::string path = seg_path(dir, base, ext);
        if (opts.release_later) {
          int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
          if (fd >= 0) opts.release_later->push_back(fd);
        }
        ::unlink(path.c_str());
      }
    }
    if (opts.dry_run && start == rd.end() && start > rd.start()) {
      // The last segment would roll over and go too.
      auto bases = bases_of(dir);
      if (!bases.empty())
        res.bytes_freed += size_of(seg_path(dir, bases.back(), ".log")) + size_of(seg_path(dir, bases.back(), ".idx"));
    }
    freed += res.bytes_freed;
    out.push_back(std::move(res));
    if (progress) progress(out.size(), freed);
  }
  return out;
}

}  // namespace pipeproc
