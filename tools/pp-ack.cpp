// pp-ack: acknowledge a proc's open claim; with --commit, ack and commit logs atomically.
#include <unistd.h>

#include <cerrno>

#include "common.h"
#ifdef PP_ACK_COMMIT
#include "input.h"
#endif
#include "pipeproc/proc.h"

using namespace pipeproc;

int main(int argc, char** argv) {
  pptool::StoreArgs store_args;
  std::string name, topic;
  bool commit = false, no_sync = false, quiet = false;
  size_t max_body = 16u << 20;
  CLI::App app("Acknowledge the open claim of proc NAME: prints the acked id, or FIRST..LAST.\n"
               "With --commit, also commit bodies (arguments, else JSON lines on stdin) in the same\n"
               "atomic commit: either both happen or neither.");
  pptool::setup(app, argv[0], store_args);
  app.add_option("NAME", name, "proc name")->required();
  app.add_flag("--commit", commit, "ackCommit: ack and commit BODY... (or stdin) atomically");
  auto* topic_opt = app.add_option("-t,--topic", topic, "with --commit: topic of the bodies (else: envelopes)");
  app.add_flag("--no-sync", no_sync, "with --commit: do not fsync");
  app.add_flag("-q,--quiet", quiet, "print nothing");
  app.add_option("--max-body", max_body, "largest body in bytes (default 16777216)");
  app.allow_extras();
  app.footer("Arguments:\n  BODY...  with --commit: JSON bodies (envelopes without -t)\n");
  pptool::parse(app, argc, argv);
  if (max_body == 0 || max_body > (1u << 30)) pptool::usage_error("--max-body takes 1 to 1073741824 bytes");
  std::vector<std::string> bodies = pptool::remaining_bodies(app);
  if (!commit && (!bodies.empty() || topic_opt->count() > 0)) pptool::usage_error("bodies and -t go with --commit");
  pptool::check(check_name(name, "proc"));
  if (topic_opt->count() > 0) pptool::check(check_name(topic));

  pptool::Output out;
#ifndef PP_ACK_COMMIT
  if (commit) {
    // ackCommit parses JSON: it runs in a helper so that a plain ack loads no JSON library
    // (a plain ack starts several times faster, which shell loops feel).
    std::string helper = pptool::self_dir() + "/../libexec/pipeproc/pp-ack-commit";
    argv[0] = const_cast<char*>("pp-ack");
    ::execv(helper.c_str(), argv);
    pptool::fail(errno_status(errno, "run " + helper));
  }
#endif
  if (!commit) {
    auto store = pptool::open_store(store_args, Store::Mode::read);
    if (!store->exists()) pptool::fail(Status(Code::invalid_proc, "no proc named '" + name + "'"));
    auto r = proc_ack(*store, name);
    if (!r.ok()) pptool::fail(r.status());
    if (!quiet) out.put(ack_text(*r) + "\n");
    return 0;
  }
#ifdef PP_ACK_COMMIT
  pptool::EntryBuilder builder(topic_opt->count() > 0 ? topic : std::string());
  pptool::Inputs in;
  pptool::collect_inputs(builder, bodies, max_body, in);
  auto store = pptool::open_store(store_args, Store::Mode::write);
  std::vector<LogId> ids;
  auto r = proc_ack_commit(*store, name, in.entries, !no_sync && !pptool::env_no_sync(), &ids);
  if (!r.ok()) pptool::fail(r.status());
  if (quiet) return 0;
  out.put(ack_text(*r) + "\n");
  IdFormatter f;
  f.append_lines(out.raw(), ids);
#endif
  return 0;
}
