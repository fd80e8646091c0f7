// Small helpers for the library tests: scratch directories and file surgery.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "pipeproc/store.h"

namespace testutil {

// A directory removed at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/pipeproc-test.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& s) const { return path + "/" + s; }
};

inline std::string read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
inline void write_file(const std::string& p, const std::string& data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << data;
}
inline uint64_t file_size(const std::string& p) { return std::filesystem::file_size(p); }
inline void truncate_to(const std::string& p, uint64_t n) { REQUIRE(::truncate(p.c_str(), static_cast<off_t>(n)) == 0); }
inline void flip_byte(const std::string& p, uint64_t at) {
  std::string d = read_file(p);
  REQUIRE(at < d.size());
  d[at] = static_cast<char>(d[at] ^ 0x40);
  write_file(p, d);
}

// Fixed "now" for commits (the store clock reads PIPEPROC_NOW_MS).
struct FixedClock {
  explicit FixedClock(uint64_t ms) { set(ms); }
  void set(uint64_t ms) { ::setenv("PIPEPROC_NOW_MS", std::to_string(ms).c_str(), 1); }
  ~FixedClock() { ::unsetenv("PIPEPROC_NOW_MS"); }
};

inline std::unique_ptr<pipeproc::Store> open_store(const std::string& dir, pipeproc::StoreOptions o = {}) {
  auto s = pipeproc::Store::open(dir, pipeproc::Store::Mode::write, o);
  REQUIRE(s.ok());
  return std::move(s).value();
}

// Every (seq, body) a topic holds, oldest first; the status of the scan in *st.
inline std::vector<std::pair<uint64_t, std::string>> all_logs(pipeproc::Store& s, const std::string& topic,
                                                              pipeproc::Status* st = nullptr) {
  std::vector<std::pair<uint64_t, std::string>> out;
  auto r = s.reader(topic);
  if (!r.ok()) {
    if (st) *st = r.status();
    return out;
  }
  pipeproc::Status scan = (*r)->scan(0, UINT64_MAX, [&](const pipeproc::LogView& v) {
    out.emplace_back(v.id.seq, std::string(v.body));
    return true;
  });
  if (st) *st = scan;
  return out;
}

// A scan callback that records the sequences it is handed, in seen.
inline auto collect_seqs(std::vector<uint64_t>& seen) {
  return [&seen](const pipeproc::LogView& v) {
    seen.push_back(v.id.seq);
    return true;
  };
}

}  // namespace testutil
