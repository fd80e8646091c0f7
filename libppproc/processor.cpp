// Processors run as child processes; see processor.h.
#include "pipeproc/processor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pipeproc/jsonl.h"

extern char** environ;

namespace pipeproc {

Result<pid_t> spawn_shell(const std::string& cmd, const std::vector<std::pair<std::string, std::string>>& env,
                          int in_fd, int out_fd, int err_fd) {
  // The environment is built before fork: after it, a child of a threaded process may not
  // allocate.
  std::vector<std::string> vars;
  for (auto& [k, v] : env) vars.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (std::string& v : vars) envp.push_back(v.data());
  for (char** e = environ; *e; ++e) {
    std::string_view name(*e, std::strcspn(*e, "="));
    bool replaced = false;
    for (auto& [k, v] : env) replaced = replaced || name == k;
    if (!replaced) envp.push_back(*e);
  }
  envp.push_back(nullptr);
  const char* argv[] = {"sh", "-c", cmd.c_str(), nullptr};
  pid_t pid = ::fork();
  if (pid < 0) return errno_status(errno, "fork");
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    if (err_fd >= 0) ::dup2(err_fd, 2);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
    ::_exit(127);
  }
  return pid;
}

Result<ExecResult> run_exec(const std::string& cmd, const std::string& input,
                            const std::vector<std::pair<std::string, std::string>>& env, int64_t timeout_ms) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC))
    return errno_status(errno, "pipe");
  auto spawned = spawn_shell(cmd, env, in[0], out[1], err[1]);
  if (!spawned.ok()) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) ::close(fd);
    return spawned.status();
  }
  const pid_t pid = *spawned;
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ExecResult r;
  size_t written = 0;
  int to_child = in[1];
  if (input.empty()) {
    ::close(to_child);
    to_child = -1;
  } else {
    ::fcntl(to_child, F_SETFL, O_NONBLOCK);
  }
  const int64_t start = static_cast<int64_t>(now_ms());
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    pollfd fds[3];
    int n = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out_open) { fds[n] = {out[0], POLLIN, 0}; out_i = n++; }
    if (err_open) { fds[n] = {err[0], POLLIN, 0}; err_i = n++; }
    if (to_child >= 0) { fds[n] = {to_child, POLLOUT, 0}; in_i = n++; }
    int wait_ms = -1;
    if (timeout_ms >= 0) {
      int64_t left = timeout_ms - (static_cast<int64_t>(now_ms()) - start);
      if (left <= 0) {
        r.timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(std::min<int64_t>(left, 1000));
    }
    int pr = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (pr < 0 && errno != EINTR) break;
    if (pr <= 0) continue;
    if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t w = ::write(to_child, input.data() + written, input.size() - written);
      if (w > 0) written += static_cast<size_t>(w);
      if (w < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // it stopped reading
      if (written >= input.size()) {
        ::close(to_child);
        to_child = -1;
      }
    }
    if (out_i >= 0 && (fds[out_i].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t k = ::read(out[0], buf, sizeof buf);
      if (k > 0) r.out.append(buf, static_cast<size_t>(k));
      else if (k == 0 || errno != EINTR) out_open = false;
    }
    if (err_i >= 0 && (fds[err_i].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t k = ::read(err[0], buf, sizeof buf);
      if (k > 0) {
        r.err_tail.append(buf, static_cast<size_t>(k));
        if (r.err_tail.size() > 400) r.err_tail.erase(0, r.err_tail.size() - 400);
      } else if (k == 0 || errno != EINTR) {
        err_open = false;
      }
    }
  }
  if (to_child >= 0) ::close(to_child);
  ::close(out[0]);
  ::close(err[0]);
  if (r.timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  r.exit_code = WIFEXITED(status) && !r.timed_out ? WEXITSTATUS(status) : -1;
  return r;
}

std::string claim_input(const std::vector<ClaimedLog>& logs) {
  std::string in;
  for (const ClaimedLog& l : logs) {
    in += "{\"id\":\"" + format_id(l.id) + "\",\"body\":";
    in += l.body;
    in += "}\n";
  }
  return in;
}

Result<std::optional<LogRange>> process_claim(Store& store, const ProcState& proc, const std::vector<ClaimedLog>& logs,
                                              const std::string& cmd, const std::vector<std::string>& to,
                                              const std::vector<std::pair<std::string, std::string>>& env,
                                              std::string* why) {
  auto res = run_exec(cmd, claim_input(logs), env, proc.reclaim_timeout);
  if (!res.ok()) return res.status();
  auto reclaim = [&](std::string reason) -> Result<std::optional<LogRange>> {
    *why = std::move(reason);
    auto r = proc_reclaim(store, proc.name);
    if (!r.ok() && r.status().code() != Code::nothing_to_reclaim) return r.status();
    return std::optional<LogRange>{};
  };
  if (res->timed_out)
    return reclaim("the processor ran past the reclaim timeout of " + std::to_string(proc.reclaim_timeout) + " ms");
  if (res->exit_code != 0)
    return reclaim("the processor exited with " + std::to_string(res->exit_code) +
                   (res->err_tail.empty() ? "" : ": " + res->err_tail));
  // Its output: JSON lines, each a body for every --to topic.
  std::vector<std::string> bodies;
  JsonValidator json;
  size_t pos = 0;
  uint64_t line = 0;
  while (pos < res->out.size()) {
    size_t nl = res->out.find('\n', pos);
    std::string_view l(res->out.data() + pos, (nl == std::string::npos ? res->out.size() : nl) - pos);
    pos = nl == std::string::npos ? res->out.size() : nl + 1;
    ++line;
    while (!l.empty() && std::strchr(" \t\r", l.back())) l.remove_suffix(1);
    while (!l.empty() && std::strchr(" \t\r", l.front())) l.remove_prefix(1);
    if (l.empty()) continue;
    Status st = json.validate_one(l);
    if (!st.ok()) return reclaim("output line " + std::to_string(line) + " is not JSON: " + st.message());
    bodies.emplace_back(l);
  }
  std::vector<Entry> entries;
  for (const std::string& t : to)
    for (const std::string& b : bodies) entries.push_back(Entry{t, b});
  auto acked = proc_ack_commit(store, proc.name, entries, true, nullptr);
  if (!acked.ok()) {
    if (acked.status().code() == Code::nothing_to_ack) return reclaim("the claim was reclaimed meanwhile");
    return acked.status();
  }
  return std::optional<LogRange>{*acked};
}

}  // namespace pipeproc
