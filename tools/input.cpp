// Shared commit input; see input.h.
#include "input.h"

#include <unistd.h>

namespace pptool {

using namespace pipeproc;

void collect_inputs(EntryBuilder& builder, std::vector<std::string>& args, size_t max_body, Inputs& out) {
  if (!args.empty()) {
    collect_arg_bodies(args, max_body, [&](std::string_view b, Entry* e) { return builder.check_one(b, e); }, out);
    return;
  }
  note_terminal_input();
  LineReader reader(0, max_body);
  std::vector<Line> lines;
  std::vector<Entry> batch;
  for (;;) {
    auto more = reader.next(lines);
    if (!more.ok()) fail(more.status());
    if (!*more) break;
    Status err;
    batch.clear();
    size_t ok = builder.build(lines, batch, &err);
    if (ok < lines.size()) fail(err);
    for (const Entry& e : batch) {
      // Copy: the reader reuses its buffer. Topics come from the builder (stable).
      out.arena.emplace_back(e.body);
      out.entries.push_back(Entry{e.topic, out.arena.back()});
    }
  }
}

void note_terminal_input() {
  if (::isatty(0)) {
    std::string note = tool_name() + ": reading JSON lines from the terminal (end with Ctrl-D)\n";
    (void)!::write(2, note.data(), note.size());
  }
}

}  // namespace pptool
