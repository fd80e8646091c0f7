// Names and ids.
#include <charconv>
#include <cstring>

#include "pipeproc/types.h"

namespace pipeproc {

void append_id(std::string& out, LogId id) {
  char buf[48];
  auto r = std::to_chars(buf, buf + 24, id.ts);
  *r.ptr++ = '-';
  r = std::to_chars(r.ptr, buf + sizeof buf, id.seq);
  out.append(buf, r.ptr);
}

void IdFormatter::append(std::string& out, LogId id) {
  char buf[kMaxLen];
  out.append(buf, static_cast<size_t>(write(buf, id) - buf));
}

char* IdFormatter::write_any(char* out, LogId id) {
  if (!have_ts_ || id.ts != ts_) {
    auto r = std::to_chars(prefix_, prefix_ + 20, id.ts);
    *r.ptr++ = '-';
    prefix_len_ = static_cast<size_t>(r.ptr - prefix_);
    ts_ = id.ts;
    have_ts_ = true;
    ndigits_ = 0;
  }
  // out has room for kMaxLen bytes: fixed-size copies are a few moves, not calls.
  std::memcpy(out, prefix_, kPrefixCopy);
  char* d = out + prefix_len_;
  if (ndigits_ != 0 && id.seq == seq_ + 1) {
    // Add one to the decimal digits: trailing 9s become 0s, the digit before them goes up.
    uint64_t w = digits_;
    int i = static_cast<int>(ndigits_) - 1;
    while (i >= 0 && ((w >> (8 * i)) & 0xff) == '9') {
      w -= uint64_t{9} << (8 * i);
      --i;
    }
    if (i >= 0) {
      w += uint64_t{1} << (8 * i);
    } else if (ndigits_ < 8) {  // all 9s: a 1 in front of the zeros
      w = (w << 8) | '1';
      ++ndigits_;
    } else {
      ndigits_ = 0;  // a ninth digit: convert it below
    }
    if (ndigits_ != 0) {
      digits_ = w;
      seq_ = id.seq;
      std::memcpy(d, &w, 8);
      return d + ndigits_;
    }
  }
  char* end = std::to_chars(d, out + kMaxLen, id.seq).ptr;
  seq_ = id.seq;
  ndigits_ = end - d <= 8 ? static_cast<unsigned>(end - d) : 0;
  digits_ = 0;
  std::memcpy(&digits_, d, ndigits_);
  return end;
}

void IdFormatter::append_lines(std::string& out, std::span<const LogId> ids) {
  char buf[16384];
  char* p = buf;
  for (const LogId& id : ids) {
    if (p + kMaxLen + 1 > buf + sizeof buf) {
      out.append(buf, p);
      p = buf;
    }
    p = write(p, id);
    *p++ = '\n';
  }
  out.append(buf, p);
}

void append_json_string(std::string& o, std::string_view s) {
  o.push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o.push_back('\\');
      o.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      static const char hex[] = "0123456789abcdef";
      o += "\\u00";
      o.push_back(hex[(c >> 4) & 0xf]);
      o.push_back(hex[c & 0xf]);
    } else {
      o.push_back(c);
    }
  }
  o.push_back('"');
}

std::string format_id(LogId id) {
  std::string s;
  append_id(s, id);
  return s;
}

Status check_name(std::string_view name, std::string_view what) {
  auto bad = [&](std::string_view why) {
    std::string shown(name.substr(0, 64));
    return Status(Code::invalid_name, std::string(what) + " name '" + shown +
                                          (name.size() > 64 ? "...'" : "'") + " " + std::string(why));
  };
  if (name.empty()) return Status(Code::invalid_name, std::string(what) + " name is empty");
  if (name.size() > 200) return bad("is longer than 200 bytes");
  if (name == "." || name == "..") return bad("is reserved");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return bad("may hold only A-Z a-z 0-9 . _ -");
  }
  return {};
}

}  // namespace pipeproc
