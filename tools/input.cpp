// Shared commit input; see input.h.
#include "input.h"

#include <unistd.h>

#include <cctype>

namespace pptool {

using namespace pipeproc;

void collect_inputs(EntryBuilder& builder, std::vector<std::string>& args, size_t max_body, Inputs& out) {
  if (!args.empty()) {
    out.entries.resize(args.size());
    for (size_t i = 0; i < args.size(); ++i) {
      std::string& b = out.arena.emplace_back(std::move(args[i]));
      while (!b.empty() && std::isspace(static_cast<unsigned char>(b.back()))) b.pop_back();
      size_t lead = 0;
      while (lead < b.size() && std::isspace(static_cast<unsigned char>(b[lead]))) ++lead;
      b.erase(0, lead);
      if (b.size() > max_body)
        fail(Status(Code::record_too_large, "argument " + std::to_string(i + 1) + ": body of " +
                                                std::to_string(b.size()) + " bytes is over the limit of " +
                                                std::to_string(max_body)));
      Status st = builder.check_one(b, &out.entries[i]);
      if (!st.ok()) fail(Status(st.code(), "argument " + std::to_string(i + 1) + ": " + st.message()));
    }
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
