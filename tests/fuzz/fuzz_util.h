// Helpers shared by the libFuzzer targets: a failed property aborts with a message (so
// libFuzzer saves the input as a crash), scratch directories, and the small stores some
// targets fuzz against. Single-threaded, like the fuzzer driver.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "pipeproc/status.h"
#include "pipeproc/store.h"

// A property that must hold for every input: on failure, say which and abort().
#define FUZZ_CHECK(cond, ...)                                                                  \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "\nFUZZ_CHECK failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                       \
      std::fprintf(stderr, "\n");                                                              \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

namespace fuzzutil {

// Reads the input a field at a time; past the end every read is zero.
struct Bytes {
  const uint8_t* p;
  size_t n;
  size_t at = 0;
  uint8_t u8() { return at < n ? p[at++] : 0; }
  uint16_t u16() { return static_cast<uint16_t>(u8() | (u8() << 8)); }
  uint32_t u32() { return static_cast<uint32_t>(u16()) | (static_cast<uint32_t>(u16()) << 16); }
  uint64_t u64() { return static_cast<uint64_t>(u32()) | (static_cast<uint64_t>(u32()) << 32); }
  size_t left() const { return at < n ? n - at : 0; }
  std::string_view rest() {
    std::string_view s(reinterpret_cast<const char*>(p) + at, left());
    at = n;
    return s;
  }
  std::string_view take(size_t k) {
    k = std::min(k, left());
    std::string_view s(reinterpret_cast<const char*>(p) + at, k);
    at += k;
    return s;
  }
};

// A directory created at construction and removed at destruction.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/pipeproc-fuzz.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) {
      std::perror("mkdtemp");
      std::abort();
    }
    path = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

inline std::string read_file(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::string& p, std::string_view data) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!f) {
    std::fprintf(stderr, "cannot write %s\n", p.c_str());
    std::abort();
  }
}

inline void require_ok(const pipeproc::Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "fuzz setup: %s: %s: %s\n", what, std::string(pipeproc::code_name(st.code())).c_str(),
                 st.message().c_str());
    std::abort();
  }
}

// A commit clock fixed at ms (the store reads PIPEPROC_NOW_MS on every commit).
inline void set_clock(uint64_t ms) { ::setenv("PIPEPROC_NOW_MS", std::to_string(ms).c_str(), 1); }

// One log as the store should give it back.
struct Log {
  uint64_t seq = 0, ts = 0;
  std::string body;
};

// Fills dir with topic "t": `batches` commits of one to three JSON logs of 100-900 bytes
// at timestamps that repeat and jump, in segments of segment_bytes (so several segments,
// each with several index entries), then moves the start to `start`. Deterministic:
// the same arguments give the same bytes. Returns the logs held, oldest first.
inline std::vector<Log> build_topic(const std::string& dir, int batches, uint64_t segment_bytes, uint64_t start) {
  ::unsetenv("PIPEPROC_SEGMENT_BYTES");
  pipeproc::StoreOptions o;
  o.segment_bytes = segment_bytes;
  auto s = pipeproc::Store::open(dir, pipeproc::Store::Mode::write, o);
  require_ok(s.status(), "open store");
  std::vector<Log> logs;
  uint64_t ts = 1000;
  uint32_t rng = 12345;
  auto next = [&] {
    rng = rng * 1103515245u + 12345u;
    return (rng >> 16) & 0x7fff;
  };
  for (int b = 0; b < batches; ++b) {
    if (next() % 3 != 0) ts += 1 + next() % 20;  // one commit in three reuses the last timestamp
    set_clock(ts);
    std::vector<std::string> bodies;
    size_t n = 1 + next() % 3;
    for (size_t i = 0; i < n; ++i) {
      std::string body = "{\"n\":" + std::to_string(logs.size() + i) + ",\"pad\":\"";
      body.append(100 + next() % 800, static_cast<char>('a' + next() % 26));
      body += "\"}";
      bodies.push_back(std::move(body));
    }
    std::vector<pipeproc::Entry> entries;
    for (auto& body : bodies) entries.push_back({"t", body});
    std::vector<pipeproc::LogId> ids;
    require_ok((*s)->commit(entries, false, &ids), "commit");
    for (size_t i = 0; i < ids.size(); ++i) logs.push_back({ids[i].seq, ids[i].ts, bodies[i]});
  }
  if (start > 0) {
    require_ok((*s)->transact(false,
                              [&](pipeproc::Txn& t) {
                                t.set_start("t", start);
                                return pipeproc::Status{};
                              }),
               "set start");
    logs.erase(logs.begin(), logs.begin() + static_cast<std::ptrdiff_t>(start));
  }
  ::unsetenv("PIPEPROC_NOW_MS");
  return logs;
}

// The store fuzz_index_store reads (make_seeds builds the same one for its seeds):
// topic "t", 71 logs held (start 3) in four segments of 12 KiB with three index entries each.
inline std::vector<Log> build_index_fixture(const std::string& dir) { return build_topic(dir, 40, 12u << 10, 3); }

}  // namespace fuzzutil
