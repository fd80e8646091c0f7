// Fuzzes JSON lines input: LineReader over a pipe (small max_line and window), then
// JsonValidator::validate, validate_one and envelope over the lines.
// Properties:
//  - LineReader hands out exactly the trimmed non-blank lines of the input with their
//    1-based numbers, in order; a line longer than max_line (trimmed) is record_too_large
//    after the lines before it, and nothing after it is handed out. (A line whose raw
//    length passes max_line + 4096 may also be refused: the reader's memory bound.)
//    Lines stay valid in the buffer swap_buffer hands back.
//  - validate() accepts a line exactly when validate_one() does.
//  - validate_one() does not depend on the size of numbers: "[line,1e400]" and
//    "[line,0]" are both valid or both not.
//  - envelope() is invalid_json exactly when validate_one() fails; an envelope accepted
//    gives the topic and body a DOM parser finds, the body being a piece of the line.
//
// Input: byte 0 picks max_line, byte 1 the window, byte 2 flags (1 swap_buffer after each
// batch, 2 call ready()); the rest is the stream.
#include <fcntl.h>
#include <simdjson.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "pipeproc/jsonl.h"

using namespace pipeproc;

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

struct RefLine {
  std::string_view text;  // trimmed
  uint64_t number;
  size_t raw_len;
};

// The input cut at '\n' (a last piece without one counts if not empty).
std::vector<RefLine> ref_lines(std::string_view in) {
  std::vector<RefLine> out;
  uint64_t no = 0;
  for (size_t at = 0; at < in.size();) {
    size_t nl = in.find('\n', at);
    size_t stop = nl == std::string_view::npos ? in.size() : nl;
    std::string_view piece = in.substr(at, stop - at);
    out.push_back({trim(piece), ++no, piece.size()});
    at = stop + 1;
  }
  return out;
}

// A pipe holding the whole input, its write end closed (or a memory file if the pipe
// cannot be made big enough).
int input_fd(std::string_view in) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) == 0) {
    if (::fcntl(p[1], F_SETPIPE_SZ, static_cast<int>(std::max<size_t>(in.size(), 4096))) >=
        static_cast<int>(in.size())) {
      size_t done = 0;
      while (done < in.size()) {
        ssize_t n = ::write(p[1], in.data() + done, in.size() - done);
        FUZZ_CHECK(n > 0, "write to pipe");
        done += static_cast<size_t>(n);
      }
      ::close(p[1]);
      return p[0];
    }
    ::close(p[0]);
    ::close(p[1]);
  }
  int fd = ::memfd_create("fuzz-jsonl", MFD_CLOEXEC);
  FUZZ_CHECK(fd >= 0, "memfd_create");
  FUZZ_CHECK(::write(fd, in.data(), in.size()) == static_cast<ssize_t>(in.size()), "write memfd");
  ::lseek(fd, 0, SEEK_SET);
  return fd;
}

struct Checker {
  JsonValidator v;
  simdjson::dom::parser ref;

  // DOM parse of a copy (any text); NUMBER_ERROR: a number the DOM cannot hold.
  simdjson::error_code dom(std::string_view text, simdjson::dom::element* e) {
    return ref.parse(text.data(), text.size(), true).get(*e);
  }

  void validate_batch(std::span<const Line> lines) {
    size_t pos = 0;
    while (pos < lines.size()) {
      Status err;
      size_t k = v.validate(lines.subspan(pos), &err);
      FUZZ_CHECK(k <= lines.size() - pos, "validate returned %zu of %zu", k, lines.size() - pos);
      for (size_t i = pos; i < pos + k; ++i) {
        Status one = v.validate_one(lines[i].text);
        FUZZ_CHECK(one.ok(), "line %llu: validate() accepted it, validate_one() says %s",
                   static_cast<unsigned long long>(lines[i].number), one.message().c_str());
      }
      if (pos + k < lines.size()) {
        const Line& bad = lines[pos + k];
        FUZZ_CHECK(err.code() == Code::invalid_json, "validate() error code %s",
                   std::string(code_name(err.code())).c_str());
        FUZZ_CHECK(err.message().rfind("line " + std::to_string(bad.number) + ":", 0) == 0,
                   "validate() error '%s' names another line than %llu", err.message().c_str(),
                   static_cast<unsigned long long>(bad.number));
        FUZZ_CHECK(!v.validate_one(bad.text).ok(), "line %llu: validate() refused it, validate_one() accepts it",
                   static_cast<unsigned long long>(bad.number));
      }
      pos += k + 1;
    }
  }

  void numbers_do_not_matter(std::string_view text) {
    bool huge = v.validate_one("[" + std::string(text) + ",1e400]").ok();
    bool small = v.validate_one("[" + std::string(text) + ",0]").ok();
    FUZZ_CHECK(huge == small, "'[line,1e400]' is %s but '[line,0]' is %s", huge ? "valid" : "invalid",
               small ? "valid" : "invalid");
  }

  void envelope(std::string_view text) {
    std::string_view topic_view, body;
    Status st = v.envelope(text, &topic_view, &body);
    std::string topic(st.ok() ? topic_view : std::string_view());  // points into the parser: copy now
    bool valid = v.validate_one(text).ok();
    if (!valid) {
      FUZZ_CHECK(st.code() == Code::invalid_json, "envelope() of invalid JSON is %s",
                 std::string(code_name(st.code())).c_str());
      return;
    }
    FUZZ_CHECK(st.ok() || st.code() == Code::invalid_envelope, "envelope() of valid JSON is %s",
               std::string(code_name(st.code())).c_str());
    simdjson::dom::element e;
    auto err = dom(text, &e);
    if (err == simdjson::SUCCESS) {
      // What a DOM parser finds: an object with a string "topic" and a "body".
      simdjson::dom::object obj;
      std::string_view want_topic;
      simdjson::dom::element want_body;
      bool shaped = !e.get(obj) && !obj["topic"].get(want_topic) && !obj["body"].get(want_body);
      if (!st.ok()) {
        // Refused although it has the shape: only if the body's text cannot be found
        // (the key written with escapes) -- not wrong data, but report it if it shows.
        FUZZ_CHECK(!shaped || raw_member(text, "body").empty(), "envelope refused: %s", st.message().c_str());
        return;
      }
      FUZZ_CHECK(shaped, "envelope accepted a line without a string topic and a body");
      FUZZ_CHECK(topic == want_topic, "topic '%s', the DOM says '%s'", topic.c_str(), std::string(want_topic).c_str());
      std::string want = simdjson::minify(want_body);
      FUZZ_CHECK(body.data() >= text.data() && body.data() + body.size() <= text.data() + text.size(),
                 "body is not a piece of the line");
      simdjson::dom::element got_body;
      FUZZ_CHECK(!dom(body, &got_body), "body text '%s' is not one JSON value", std::string(body).c_str());
      FUZZ_CHECK(simdjson::minify(got_body) == want, "body '%s', the DOM says '%s'", std::string(body).c_str(),
                 want.c_str());
      return;
    }
    // A number too big for the DOM: the same envelope with its body replaced by 0 must
    // give the same topic.
    FUZZ_CHECK(err == simdjson::NUMBER_ERROR, "validate_one accepts what the DOM refuses with %s",
               simdjson::error_message(err));
    if (!st.ok()) return;
    FUZZ_CHECK(!body.empty() && v.validate_one(body).ok(), "body text '%s' is not JSON", std::string(body).c_str());
    std::string small = "{\"topic\":" + std::string(raw_member(text, "topic")) + ",\"body\":0}";
    std::string_view t2, b2;
    Status st2 = v.envelope(small, &t2, &b2);
    FUZZ_CHECK(st2.ok() && t2 == topic, "topic '%s' next to a huge number, '%s' next to 0", topic.c_str(),
               st2.ok() ? std::string(t2).c_str() : st2.message().c_str());
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Checker* check = new Checker();
  fuzzutil::Bytes b{data, size};
  uint8_t b0 = b.u8(), b1 = b.u8(), flags = b.u8();
  size_t max_line = (b0 & 0x80) ? (1u << 20) : 1 + (b0 & 0x7f) * 2;
  size_t window = (b1 & 0x80) ? (64u << 10) : 1 + (b1 & 0x7f) * 8;
  std::string_view in = b.rest();

  std::vector<RefLine> want = ref_lines(in);
  int fd = input_fd(in);
  LineReader reader(fd, max_line, window);
  std::vector<Line> lines;
  std::vector<char> spare;
  size_t next_want = 0;       // index in want of the next line to come
  size_t delivered_upto = 0;  // index in want after the last line handed out
  Status error;
  for (int calls = 0;; ++calls) {
    FUZZ_CHECK(calls <= static_cast<int>(in.size()) + 2, "next() does not finish");
    if (flags & 2) FUZZ_CHECK(reader.ready(), "ready() is false on a closed input");
    auto r = reader.next(lines);
    if (!r.ok()) {
      error = r.status();
      FUZZ_CHECK(lines.empty(), "lines handed out with an error");
      break;
    }
    if (!*r) {
      FUZZ_CHECK(lines.empty(), "lines handed out at the end");
      break;
    }
    for (const Line& l : lines) {
      while (next_want < want.size() && want[next_want].text.empty()) ++next_want;
      FUZZ_CHECK(next_want < want.size(), "line %llu handed out past the end of the input",
                 static_cast<unsigned long long>(l.number));
      const RefLine& w = want[next_want++];
      delivered_upto = next_want;
      FUZZ_CHECK(w.text.size() <= max_line, "line %llu of %zu bytes handed out, max_line %zu",
                 static_cast<unsigned long long>(w.number), w.text.size(), max_line);
      FUZZ_CHECK(l.text == w.text && l.number == w.number, "line %llu '%.40s' handed out as %llu '%.40s'",
                 static_cast<unsigned long long>(w.number), std::string(w.text).c_str(),
                 static_cast<unsigned long long>(l.number), std::string(l.text).c_str());
    }
    check->validate_batch(lines);
    for (const Line& l : lines) {
      check->numbers_do_not_matter(l.text);
      check->envelope(l.text);
    }
    if (flags & 1) {
      std::vector<std::string> copies;
      for (const Line& l : lines) copies.emplace_back(l.text);
      reader.swap_buffer(spare);
      for (size_t i = 0; i < lines.size(); ++i)
        FUZZ_CHECK(lines[i].text == copies[i], "line %llu changed by swap_buffer",
                   static_cast<unsigned long long>(lines[i].number));
    }
  }
  ::close(fd);

  while (next_want < want.size() && want[next_want].text.empty()) ++next_want;
  if (error.ok()) {
    FUZZ_CHECK(next_want == want.size(), "input ended early: line %llu never handed out",
               static_cast<unsigned long long>(want[next_want].number));
    FUZZ_CHECK(reader.bytes_read() == in.size(), "bytes_read %llu of %zu",
               static_cast<unsigned long long>(reader.bytes_read()), in.size());
    return 0;
  }
  FUZZ_CHECK(error.code() == Code::record_too_large, "reader error %s: %s",
             std::string(code_name(error.code())).c_str(), error.message().c_str());
  // The line refused: named by the message, after the last line handed out with only
  // blank lines between, and long enough to refuse.
  const std::string& msg = error.message();
  unsigned long long no = 0;
  FUZZ_CHECK(msg.rfind("line ", 0) == 0 && std::sscanf(msg.c_str(), "line %llu:", &no) == 1,
             "record_too_large message '%s' names no line", msg.c_str());
  FUZZ_CHECK(no >= 1 && no <= want.size(), "record_too_large names line %llu of %zu", no, want.size());
  FUZZ_CHECK(no - 1 >= delivered_upto && no - 1 <= next_want,
             "line %llu refused, but the lines handed out end before line %zu and line %llu is due", no,
             delivered_upto + 1, static_cast<unsigned long long>(next_want < want.size() ? want[next_want].number : 0));
  const RefLine& w = want[no - 1];
  FUZZ_CHECK(w.text.size() > max_line || w.raw_len > max_line + 4096,
             "line %llu of %zu bytes (%zu raw) refused with max_line %zu: %s",
             static_cast<unsigned long long>(w.number), w.text.size(), w.raw_len, max_line, msg.c_str());
  return 0;
}
