// What every pp-* tool shares: store selection (-L/-N/env), the error line and exit code
// of a Status, buffered output that ends quietly on a closed pipe, and CLI11 set-up.
#pragma once

#include <CLI/CLI.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "pipeproc/jsonl.h"
#include "pipeproc/status.h"
#include "pipeproc/store.h"

namespace pptool {

using pipeproc::Status;

// The tool's name for messages, e.g. "pp-commit".
const std::string& tool_name();

struct StoreArgs {
  std::string location;
  std::string name_space;
  std::string connect;
  std::string tls_key, tls_cert, tls_ca;
  int connect_timeout = 1000;
};

// Sets up app: name, description, --version, and the store options.
void setup(CLI::App& app, const char* argv0, StoreArgs& store);
// Parses argv; on --help/--version prints and exits 0; on a usage error exits 2.
void parse(CLI::App& app, int argc, char** argv);

// The store directory the options and environment select.
std::string store_dir(const StoreArgs& a);
// Opens the selected store (exits with the contract's code on failure).
std::unique_ptr<pipeproc::Store> open_store(const StoreArgs& a, pipeproc::Store::Mode mode);

// Logs to commit in one batch, with the bytes their entries point into.
struct Inputs {
  std::vector<pipeproc::Entry> entries;
  std::deque<std::string> arena;
};
// Bodies given as arguments, into entries: each trimmed of blanks at both ends, at most
// max_body bytes, and passed to check, which fills in its entry. Exits with the contract's
// error, naming the argument, at the first bad one, before anything is written.
using BodyCheck = std::function<Status(std::string_view, pipeproc::Entry*)>;
void collect_arg_bodies(std::vector<std::string>& args, size_t max_body, const BodyCheck& check, Inputs& out);
// All of stdin as JSON lines, into entries: check turns each batch of lines into entries up
// to its first bad line (returning how many are good, with the error in *err). Returns that
// error, or a read error, with the entries of the lines before it in out.
using LinesCheck = std::function<size_t(std::span<const pipeproc::Line>, std::vector<pipeproc::Entry>&, Status*)>;
Status collect_stdin_lines(size_t max_body, const LinesCheck& check, Inputs& out);

// Prints "pp-TOOL: error: CODE: message" and exits with the code's exit status.
[[noreturn]] void fail(const Status& st);
// As fail, but ends the process at once (std::_Exit, no static destructors): for a
// process whose other threads may still be running. Flush stdout first.
[[noreturn]] void fail_now(const Status& st);
[[noreturn]] void usage_error(std::string_view message);
// Exits on error.
inline void check(const Status& st) {
  if (!st.ok()) fail(st);
}

// Bodies given as arguments: everything CLI11 left over (as a vector option it would split
// "[1,2]" in two); -- ends options. Exits 2 on an unknown option.
std::vector<std::string> remaining_bodies(CLI::App& app);

// s as a JSON string (quoted, escaped).
std::string json_quote(std::string_view s);

// The directory of the running executable (for tools that run helpers beside them).
std::string self_dir();

// Runs before the tool ends on a closed stdout (pp-live removes its proc there).
void on_broken_pipe(void (*hook)());

// Buffered stdout. A closed pipe (EPIPE) ends the tool with exit 0, as `| head` expects.
class Output {
 public:
  explicit Output(size_t cap = 1 << 18) { buf_.reserve(cap); }
  ~Output() { flush(); }
  void put(std::string_view s) {
    if (s.size() >= buf_.capacity() / 2) {
      // Large: written straight from where it is, not copied into the buffer first.
      flush();
      write_all(s);
      return;
    }
    buf_.append(s);
    if (buf_.size() >= buf_.capacity() / 2) flush();
  }
  void put(char c) { buf_.push_back(c); }
  std::string& raw() { return buf_; }
  void maybe_flush() {
    if (buf_.size() >= (1 << 17)) flush();
  }
  void flush() {
    write_all(buf_);
    buf_.clear();
  }

 private:
  static void write_all(std::string_view s);  // to stdout; EPIPE ends the tool quietly
  std::string buf_;
};

// How logs are printed: --format log|body|id.
enum class Format { log, body, id };
Format parse_format(const std::string& f);
void add_format_option(CLI::App& app, std::string& format);
void print_log(Output& out, pipeproc::IdFormatter& ids, Format f, pipeproc::LogId id, std::string_view body);

// A progress line on stderr for long work, only when stderr is a terminal (and not with
// --quiet): count, bytes and rate, redrawn at most five times a second, erased at the end.
class Progress {
 public:
  Progress(const char* what, bool quiet);
  ~Progress() { done(); }
  void update(uint64_t count, uint64_t bytes);
  void done();

 private:
  const char* what_;
  bool on_;
  bool shown_ = false;
  uint64_t start_ms_, last_ms_;
};

// True when PIPEPROC_SYNC=0 asks commits to skip fsync.
bool env_no_sync();

}  // namespace pptool
