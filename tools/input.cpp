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
  // Topics come from the builder, which keeps them stable.
  Status st = collect_stdin_lines(
      max_body, [&](std::span<const Line> lines, std::vector<Entry>& batch, Status* err) {
        return builder.build(lines, batch, err);
      },
      out);
  if (!st.ok()) fail(st);
}

void note_terminal_input() {
  if (::isatty(0)) {
    std::string note = tool_name() + ": reading JSON lines from the terminal (end with Ctrl-D)\n";
    (void)!::write(2, note.data(), note.size());
  }
}

}  // namespace pptool
