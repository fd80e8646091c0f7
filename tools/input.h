// Input shared by the tools that commit logs (pp-commit, pp-ack --commit): bodies or
// envelopes, from arguments or JSON lines on stdin, validated before anything is written.
#pragma once

#include <deque>
#include <span>
#include <string>
#include <vector>

#include "common.h"
#include "pipeproc/jsonl.h"

namespace pptool {

using pipeproc::Entry;
using pipeproc::Line;
using pipeproc::check_name;
using pipeproc::JsonValidator;

// Turns lines into entries (bodies or envelopes) up to the first bad one, appended to
// out. Returns how many lines are good; *err says what is wrong with the next.
class EntryBuilder {
 public:
  explicit EntryBuilder(std::string topic) : topic_(std::move(topic)) {}

  size_t build(std::span<const Line> lines, std::vector<Entry>& out, Status* err) {
    if (!topic_.empty()) {
      size_t ok = json_.validate(lines, err);
      for (size_t i = 0; i < ok; ++i) out.push_back(Entry{topic_, lines[i].text});
      return ok;
    }
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string_view topic, body;
      Status st = json_.envelope(lines[i].text, &topic, &body);
      if (st.ok()) st = check_name(topic);
      if (!st.ok()) {
        *err = Status(st.code(), "line " + std::to_string(lines[i].number) + ": " + st.message());
        return i;
      }
      out.push_back(Entry{intern(topic), body});
    }
    return lines.size();
  }

  Status check_one(std::string_view text, Entry* e) {
    if (!topic_.empty()) {
      PP_RETURN_IF_ERROR(json_.validate_one(text));
      *e = Entry{topic_, text};
      return {};
    }
    std::string_view topic, body;
    PP_RETURN_IF_ERROR(json_.envelope(text, &topic, &body));
    PP_RETURN_IF_ERROR(check_name(topic));
    *e = Entry{intern(topic), body};
    return {};
  }

 private:
  // Topic names from envelopes point into the parser: keep one stable copy of each.
  std::string_view intern(std::string_view t) {
    for (auto& s : topics_)
      if (s == t) return s;
    return topics_.emplace_back(t);
  }
  std::string topic_;
  JsonValidator json_;
  std::deque<std::string> topics_;
};


// Every input as one batch: the arguments if any, else all of stdin. Exits with the
// contract's error (naming the argument or line) on the first bad one; nothing is written.
void collect_inputs(EntryBuilder& builder, std::vector<std::string>& args, size_t max_body, Inputs& out);

// A note on stderr when stdin is a terminal, so an interactive user is not left waiting.
void note_terminal_input();


}  // namespace pptool
