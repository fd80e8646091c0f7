// The node: worker slots running systemProcs, and the GC timer. Each thread has its own
// Store (a Store is used by one thread at a time); they coordinate only through the store.
#include "pipeproc/node.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "pipeproc/gc.h"
#include "pipeproc/jsonl.h"
#include "pipeproc/processor.h"
#include "pipeproc/systemproc.h"

namespace pipeproc {

Result<int> acquire_node_lock(const std::string& dir) {
  std::string path = dir + "/node.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status(errno, "open " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return Status(Code::node_already_running, "a node already runs for " + dir);
    return errno_status(err, "lock " + path);
  }
  return fd;
}

bool node_running(const std::string& dir, long* pid) {
  std::string path = dir + "/node.lock";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool running = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  if (running && pid) {
    *pid = 0;
    if (FILE* f = std::fopen((dir + "/node.pid").c_str(), "r")) {
      if (std::fscanf(f, "%ld", pid) != 1) *pid = 0;
      std::fclose(f);
    }
  }
  return running;
}

Status write_node_pid(const std::string& dir, long pid) {
  std::string tmp = dir + "/node.pid.new";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) return errno_status(errno, "open " + tmp);
  std::fprintf(f, "%ld\n", pid);
  std::fclose(f);
  if (::rename(tmp.c_str(), (dir + "/node.pid").c_str()) != 0) return errno_status(errno, "rename " + tmp);
  return {};
}

namespace {

// A --stream processor: started once, kept running; one line in, one line out per claim.
class StreamProcess {
 public:
  ~StreamProcess() { stop(); }
  bool running() const { return pid_ > 0; }
  Status start(const std::string& cmd, const std::vector<std::pair<std::string, std::string>>& env) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC)) return errno_status(errno, "pipe");
    auto spawned = spawn_shell(cmd, env, in[0], out[1], -1);
    if (!spawned.ok()) {
      for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
      return spawned.status();
    }
    pid_ = *spawned;
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
    claims_ = 0;
    buf_.clear();
    return {};
  }
  void stop() {
    if (pid_ <= 0) return;
    ::close(to_);
    ::close(from_);
    ::kill(-pid_, SIGTERM);
    int st;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      ::usleep(10000);
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  // Sends one line and reads one line back within timeout_ms; false if it died or hung.
  bool exchange(const std::string& line, int64_t timeout_ms, std::string* reply) {
    std::string msg = line + "\n";
    size_t off = 0;
    while (off < msg.size()) {
      ssize_t w = ::write(to_, msg.data() + off, msg.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      off += static_cast<size_t>(w);
    }
    const uint64_t start = now_ms();
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        *reply = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        ++claims_;
        return true;
      }
      int wait = -1;
      if (timeout_ms >= 0) {
        int64_t left = timeout_ms - static_cast<int64_t>(now_ms() - start);
        if (left <= 0) return false;
        wait = static_cast<int>(left);
      }
      pollfd p{from_, POLLIN, 0};
      int r = ::poll(&p, 1, wait);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      char tmp[65536];
      ssize_t n = ::read(from_, tmp, sizeof tmp);
      if (n <= 0) return false;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  int64_t claims() const { return claims_; }

 private:
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  std::string buf_;
  int64_t claims_ = 0;
};

// Settles a claim from a --stream processor's reply line.
Status settle_stream(Store& store, const SystemProc& sp, const std::string& proc, const std::string& reply, bool ok,
                     const std::function<void(const std::string&)>& log) {
  auto reclaim = [&](const std::string& why) {
    log("systemProc " + sp.name + ": claim of " + proc + " reclaimed: " + why);
    auto r = proc_reclaim(store, proc);
    if (!r.ok() && r.status().code() != Code::nothing_to_reclaim) return r.status();
    return Status{};
  };
  if (!ok) return reclaim("the processor died or did not answer in time");
  JsonValidator json;
  if (!json.validate_one(reply).ok()) return reclaim("its answer is not JSON");
  std::string_view err = raw_member(reply, "error");
  std::string_view val = raw_member(reply, "ok");
  if (!err.empty() || val.empty()) return reclaim(err.empty() ? "its answer has no \"ok\"" : std::string(err));
  std::vector<std::string> bodies;
  if (val.front() == '[') {
    // {"ok":[BODY,...]}: each element is a body.
    size_t i = 1;
    auto skip_ws = [&] {
      while (i < val.size() && std::strchr(" \t\r\n", val[i])) ++i;
    };
    skip_ws();
    while (i < val.size() && val[i] != ']') {
      std::string wrapped = "{\"v\":" + std::string(val.substr(i)) ;
      // Find the element's extent with the raw member scanner on a one-member object.
      std::string_view one = raw_member(std::string_view(wrapped), "v");
      if (one.empty()) return reclaim("its answer's list is malformed");
      bodies.emplace_back(one);
      i += one.size();
      skip_ws();
      if (i < val.size() && val[i] == ',') ++i;
      skip_ws();
    }
  } else if (val != "null") {
    bodies.emplace_back(val);
  }
  std::vector<Entry> entries;
  for (const auto& t : sp.to)
    for (const auto& b : bodies) entries.push_back(Entry{t, b});
  auto acked = proc_ack_commit(store, proc, entries, true, nullptr);
  if (!acked.ok() && acked.status().code() != Code::nothing_to_ack) return acked.status();
  return {};
}

// One worker slot: claims from every systemProc's procs in turn and processes the claims.
void slot_loop(const std::string& dir, const NodeOptions& opts, const std::atomic<bool>& stop,
               const std::function<void(const std::string&)>& log) {
  auto opened = Store::open(dir, Store::Mode::write);
  if (!opened.ok()) {
    log("worker: cannot open the store: " + opened.status().message());
    return;
  }
  Store& store = **opened;
  std::map<std::string, std::unique_ptr<StreamProcess>> streams;
  uint64_t next_list = 0;
  std::vector<SystemProc> sps;
  while (!stop.load()) {
    uint32_t seen = store.change_counter();
    if (now_ms() >= next_list) {
      auto l = systemproc_list(store);
      if (l.ok()) sps = std::move(*l);
      next_list = now_ms() + 500;
    }
    bool worked = false;
    uint64_t wake_at = now_ms() + 1000;
    for (const SystemProc& sp : sps) {
      for (size_t i = 0; i < sp.from.size() && !stop.load(); ++i) {
        const std::string& proc = sp.procs[i];
        ProcOptions only;
        only.must_exist = true;  // a systemProc removed meanwhile must not come back
        auto claim = proc_claim(store, sp.from[i], proc, only);
        if (!claim.ok()) continue;  // disabled, or removed meanwhile
        if (claim->logs.empty()) {
          if (claim->blocked_until) wake_at = std::min(wake_at, claim->blocked_until + 1);
          continue;
        }
        worked = true;
        std::vector<std::pair<std::string, std::string>> env = {
            {"PIPEPROC_PROC", proc}, {"PIPEPROC_TOPIC", sp.from[i]}, {"PIPEPROC_LOCATION", dir}};
        auto state = proc_inspect(store, proc);
        if (!state.ok()) continue;
        if (!sp.stream) {
          std::string why;
          auto done = process_claim(store, *state, claim->logs, sp.cmd, sp.to, env, &why);
          if (!done.ok()) log("systemProc " + sp.name + ": " + done.status().message());
          else if (!*done) log("systemProc " + sp.name + ": claim of " + proc + " reclaimed: " + why);
          continue;
        }
        auto& sproc = streams[proc];
        if (!sproc) sproc = std::make_unique<StreamProcess>();
        if (sproc->running() && opts.worker_restart_after > 0 && sproc->claims() >= opts.worker_restart_after)
          sproc->stop();
        if (!sproc->running()) {
          Status st = sproc->start(sp.cmd, env);
          if (!st.ok()) {
            log("systemProc " + sp.name + ": " + st.message());
            continue;
          }
        }
        std::string line;
        if (state->count <= 1) {
          line = claim_input(claim->logs);
          line.pop_back();
        } else {
          line = "[";
          std::string all = claim_input(claim->logs);
          for (char& c : all)
            if (c == '\n') c = ',';
          all.pop_back();
          line += all + "]";
        }
        std::string reply;
        bool ok = sproc->exchange(line, state->reclaim_timeout, &reply);
        if (!ok) sproc->stop();
        Status st = settle_stream(store, sp, proc, reply, ok, log);
        if (!st.ok()) log("systemProc " + sp.name + ": " + st.message());
      }
    }
    if (!worked && !stop.load()) {
      uint64_t now = now_ms();
      store.wait_change(seen, static_cast<int>(wake_at > now ? std::min<uint64_t>(wake_at - now, 1000) : 0));
    }
  }
}

void gc_loop(const std::string& dir, const NodeOptions& opts, const std::atomic<bool>& stop,
             const std::function<void(const std::string&)>& log) {
  auto opened = Store::open(dir, Store::Mode::write);
  if (!opened.ok()) return;
  uint64_t next = now_ms() + opts.gc_interval;
  while (!stop.load()) {
    if (now_ms() >= next) {
      GcOptions g;
      g.min_prune_time = opts.gc_min_prune_time;
      auto r = gc_collect(**opened, g);
      if (!r.ok()) log("gc: " + r.status().message());
      else
        for (auto& t : *r)
          if (t.collected) log("gc: " + t.topic + ": collected " + std::to_string(t.collected) + " logs");
      next = now_ms() + opts.gc_interval;
    }
    ::usleep(20000);
  }
}

}  // namespace

Status run_node(const std::string& dir, const NodeOptions& opts, const std::atomic<bool>& stop,
                const std::function<void(const std::string&)>& log) {
  std::vector<std::thread> threads;
  int slots = opts.workers * std::max(1, opts.worker_concurrency);
  for (int i = 0; i < slots; ++i) threads.emplace_back(slot_loop, dir, opts, std::cref(stop), log);
  if (opts.gc) threads.emplace_back(gc_loop, dir, opts, std::cref(stop), log);
  while (!stop.load()) ::usleep(20000);
  if (auto s = Store::open(dir, Store::Mode::write); s.ok()) (*s)->notify();  // wake sleeping slots
  for (auto& t : threads) t.join();
  return {};
}

}  // namespace pipeproc
