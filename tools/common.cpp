// Shared tool code; see common.h.
#include "common.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cctype>
#include <cstring>

#ifndef PIPEPROC_VERSION
#define PIPEPROC_VERSION "0.0.0"
#endif

namespace pptool {

namespace {
std::string g_name = "pp";
void (*g_broken_pipe_hook)() = nullptr;
}  // namespace

void on_broken_pipe(void (*hook)()) { g_broken_pipe_hook = hook; }

const std::string& tool_name() { return g_name; }

void setup(CLI::App& app, const char* argv0, StoreArgs& a) {
  std::string n = argv0 ? argv0 : "pp";
  if (auto slash = n.rfind('/'); slash != std::string::npos) n = n.substr(slash + 1);
  g_name = n;
  app.name(n);
  ::signal(SIGPIPE, SIG_IGN);
  ::signal(SIGXFSZ, SIG_IGN);  // a file size limit is a write error (no_space), not a death
  app.set_version_flag("--version", std::string(n) + " (pipeproc) " + PIPEPROC_VERSION);
  app.option_defaults()->group("Store");
  app.add_option("-L,--location", a.location, "store directory (created on first write)")
      ->envname("PIPEPROC_LOCATION")
      ->group("Store");
  app.add_option("-N,--namespace", a.name_space, "without a location: $PIPEPROC_HOME/NAME (default: default)")
      ->envname("PIPEPROC_NAMESPACE")
      ->group("Store");
  app.add_option("--connect", a.connect, "talk to a node: tcp://HOST:PORT or ipc:///path (needs a node)")
      ->envname("PIPEPROC_CONNECT")
      ->group("Store");
  app.add_option("--connect-timeout", a.connect_timeout, "connect timeout in ms (default 1000)")
      ->envname("PIPEPROC_CONNECT_TIMEOUT")
      ->group("Store");
  app.add_option("--tls-key", a.tls_key, "client key for a TLS node")->envname("PIPEPROC_TLS_KEY")->group("Store");
  app.add_option("--tls-cert", a.tls_cert, "client certificate for a TLS node")
      ->envname("PIPEPROC_TLS_CERT")
      ->group("Store");
  app.add_option("--tls-ca", a.tls_ca, "CA that signed the node's certificate")
      ->envname("PIPEPROC_TLS_CA")
      ->group("Store");
  app.option_defaults()->group("Options");
}

void parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), stdout);
    std::exit(0);
  } catch (const CLI::CallForVersion&) {
    std::puts(app.version().c_str());
    std::exit(0);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    usage_error(msg);
  }
}

std::string store_dir(const StoreArgs& a) {
  if (!a.location.empty()) return a.location;
  std::string home;
  if (const char* h = std::getenv("PIPEPROC_HOME"); h && *h) {
    home = h;
  } else if (const char* x = std::getenv("XDG_STATE_HOME"); x && *x) {
    home = std::string(x) + "/pipeproc";
  } else {
    const char* hd = std::getenv("HOME");
    home = std::string(hd && *hd ? hd : ".") + "/.local/state/pipeproc";
  }
  std::string ns = a.name_space.empty() ? "default" : a.name_space;
  check(pipeproc::check_name(ns, "namespace"));
  return home + "/" + ns;
}

std::unique_ptr<pipeproc::Store> open_store(const StoreArgs& a, pipeproc::Store::Mode mode) {
  bool tls = !a.tls_key.empty() || !a.tls_cert.empty() || !a.tls_ca.empty();
  if (tls && a.connect.rfind("tcp://", 0) != 0) usage_error("--tls-key/--tls-cert/--tls-ca need --connect tcp://HOST:PORT");
  if (!a.connect.empty()) {
    fail(Status(pipeproc::Code::connection_failed,
                "cannot reach a node at '" + a.connect + "': this build has no remote client yet; use -L/--location"));
  }
  auto s = pipeproc::Store::open(store_dir(a), mode);
  if (!s.ok()) fail(s.status());
  return std::move(s).value();
}

namespace {
void report(const Status& st) {
  std::fflush(stdout);
  std::string line = g_name + ": error: " + std::string(pipeproc::code_name(st.code())) + ": " + st.message() + "\n";
  (void)!::write(2, line.data(), line.size());
}
}  // namespace

void fail(const Status& st) {
  report(st);
  std::exit(pipeproc::code_exit(st.code()));
}

void fail_now(const Status& st) {
  report(st);
  std::_Exit(pipeproc::code_exit(st.code()));
}

void usage_error(std::string_view message) {
  std::string line = g_name + ": error: usage: " + std::string(message) + " (see '" + g_name + " --help')\n";
  (void)!::write(2, line.data(), line.size());
  std::exit(2);
}

void Output::write_all(std::string_view s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(1, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) {
        if (g_broken_pipe_hook) g_broken_pipe_hook();
        std::_Exit(0);
      }
      std::string line = g_name + ": error: io_error: write output: " + std::strerror(errno) + "\n";
      (void)!::write(2, line.data(), line.size());
      std::_Exit(74);
    }
    off += static_cast<size_t>(n);
  }
}

Format parse_format(const std::string& f) {
  return f == "body" ? Format::body : f == "id" ? Format::id : Format::log;
}

void add_format_option(CLI::App& app, std::string& format) {
  app.add_option("--format", format, "print logs as log (default), body or id")
      ->check(CLI::IsMember({"log", "body", "id"}));
}

void print_log(Output& out, pipeproc::IdFormatter& ids, Format f, pipeproc::LogId id, std::string_view body) {
  using namespace std::string_view_literals;
  std::string& b = out.raw();
  switch (f) {
    case Format::log:
      b.append(R"({"id":")"sv);
      ids.append(b, id);
      b.append(R"(","body":)"sv);
      b.append(body);
      b.append("}\n"sv);
      break;
    case Format::body:
      b.append(body);
      b.push_back('\n');
      break;
    case Format::id:
      ids.append(b, id);
      b.push_back('\n');
      break;
  }
  out.maybe_flush();
}

Progress::Progress(const char* what, bool quiet) : what_(what), on_(!quiet && ::isatty(2)) {
  start_ms_ = last_ms_ = pipeproc::now_ms();
}

void Progress::update(uint64_t count, uint64_t bytes) {
  if (!on_) return;
  uint64_t now = pipeproc::now_ms();
  if (now - last_ms_ < 200) return;
  last_ms_ = now;
  double secs = static_cast<double>(now - start_ms_) / 1000.0;
  char line[160];
  int n = std::snprintf(line, sizeof line, "\r%s: %llu %s, %.1f MB, %.0f/s   ", g_name.c_str(),
                        static_cast<unsigned long long>(count), what_, static_cast<double>(bytes) / 1e6,
                        secs > 0 ? static_cast<double>(count) / secs : 0.0);
  if (n > 0) (void)!::write(2, line, static_cast<size_t>(std::min<int>(n, sizeof line - 1)));
  shown_ = true;
}

void Progress::done() {
  if (!shown_) return;
  const char clear[] = "\r\033[K";
  // NO_COLOR asks for no escape sequences: overwrite with spaces instead.
  if (std::getenv("NO_COLOR")) {
    std::string blank = "\r" + std::string(79, ' ') + "\r";
    (void)!::write(2, blank.data(), blank.size());
  } else {
    (void)!::write(2, clear, sizeof clear - 1);
  }
  shown_ = false;
}

std::vector<std::string> remaining_bodies(CLI::App& app) {
  std::vector<std::string> bodies;
  bool after_dashes = false;
  for (std::string& r : app.remaining()) {
    if (!after_dashes && r == "--") {
      after_dashes = true;
      continue;
    }
    if (!after_dashes && r.size() > 1 && r[0] == '-' && !std::isdigit(static_cast<unsigned char>(r[1])))
      usage_error("unknown option '" + r + "'");
    bodies.push_back(std::move(r));
  }
  return bodies;
}

std::string json_quote(std::string_view s) {
  std::string o;
  pipeproc::append_json_string(o, s);
  return o;
}

void collect_arg_bodies(std::vector<std::string>& args, size_t max_body, const BodyCheck& check, Inputs& out) {
  out.entries.resize(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    std::string& b = out.arena.emplace_back(std::move(args[i]));
    while (!b.empty() && std::isspace(static_cast<unsigned char>(b.back()))) b.pop_back();
    size_t lead = 0;
    while (lead < b.size() && std::isspace(static_cast<unsigned char>(b[lead]))) ++lead;
    b.erase(0, lead);
    if (b.size() > max_body)
      fail(Status(pipeproc::Code::record_too_large, "argument " + std::to_string(i + 1) + ": body of " +
                                                        std::to_string(b.size()) + " bytes is over the limit of " +
                                                        std::to_string(max_body)));
    Status st = check(b, &out.entries[i]);
    if (!st.ok()) fail(Status(st.code(), "argument " + std::to_string(i + 1) + ": " + st.message()));
  }
}

Status collect_stdin_lines(size_t max_body, const LinesCheck& check, Inputs& out) {
  pipeproc::LineReader reader(0, max_body);
  std::vector<pipeproc::Line> lines;
  std::vector<pipeproc::Entry> batch;
  for (;;) {
    auto more = reader.next(lines);
    if (!more.ok()) return more.status();
    if (!*more) return {};
    Status err;
    batch.clear();
    size_t ok = check(lines, batch, &err);
    for (const pipeproc::Entry& e : batch)  // copied: the reader reuses its buffer
      out.entries.push_back(pipeproc::Entry{e.topic, out.arena.emplace_back(e.body)});
    if (ok < lines.size()) return err;
  }
}

std::string self_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.rfind('/'));
}

bool env_no_sync() {
  const char* v = std::getenv("PIPEPROC_SYNC");
  return v && (std::strcmp(v, "0") == 0 || std::strcmp(v, "false") == 0 || std::strcmp(v, "no") == 0);
}

}  // namespace pptool
