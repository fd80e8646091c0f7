// pp: runs pp-TOOL ARGS... (like git), looking next to itself first, then on PATH.
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#ifndef PIPEPROC_VERSION
#define PIPEPROC_VERSION "0.0.0"
#endif

namespace {
std::string self_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string p(buf, static_cast<size_t>(n));
  return p.substr(0, p.rfind('/'));
}

std::vector<std::string> tools() {
  std::vector<std::string> out;
  // Only the tools installed beside pp: other programs named pp-* on PATH (LLVM's
  // pp-trace, say) are not ours.
  std::string dirs = self_dir();
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t colon = dirs.find(':', pos);
    std::string d = dirs.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    if (DIR* dir = d.empty() ? nullptr : ::opendir(d.c_str())) {
      while (dirent* e = ::readdir(dir)) {
        std::string n = e->d_name;
        if (n.rfind("pp-", 0) == 0 && n.find('.') == std::string::npos &&
            ::access((d + "/" + n).c_str(), X_OK) == 0 && std::find(out.begin(), out.end(), n.substr(3)) == out.end())
          out.push_back(n.substr(3));
      }
      ::closedir(dir);
    }
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

int help(FILE* f) {
  std::fputs("usage: pp TOOL [ARGS...]   runs pp-TOOL ARGS...\n"
             "       pp help [TOOL]       this list, or TOOL's --help\n"
             "       pp --version         the version\n\ntools:\n", f);
  for (auto& t : tools()) std::fprintf(f, "  %s\n", t.c_str());
  std::fputs("\n'pp TOOL --help' (or man pp-TOOL) tells more; man pipeproc(7) explains the concepts.\n", f);
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    help(stderr);
    return 2;
  }
  std::string cmd = argv[1];
  if (cmd == "help" || cmd == "-h" || cmd == "--help") {
    if (argc > 2 && cmd == "help") {
      std::string t = std::string("pp-") + argv[2];
      char* args[] = {t.data(), const_cast<char*>("--help"), nullptr};
      std::string local = self_dir() + "/" + t;
      ::execv(local.c_str(), args);
      ::execvp(t.c_str(), args);
      std::fprintf(stderr, "pp: error: usage: '%s' is not a pp tool (see 'pp help')\n", argv[2]);
      return 2;
    }
    return help(stdout);
  }
  if (cmd == "--version" || cmd == "version") {
    std::printf("pp (pipeproc) %s\n", PIPEPROC_VERSION);
    return 0;
  }
  if (cmd.empty() || cmd[0] == '-' || cmd.find('/') != std::string::npos) {
    std::fprintf(stderr, "pp: error: usage: unknown option '%s' (see 'pp help')\n", cmd.c_str());
    return 2;
  }
  std::string t = "pp-" + cmd;
  std::vector<char*> args;
  args.push_back(t.data());
  for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  std::string local = self_dir() + "/" + t;
  if (::access(local.c_str(), X_OK) == 0) ::execv(local.c_str(), args.data());
  ::execvp(t.c_str(), args.data());
  std::fprintf(stderr, "pp: error: usage: '%s' is not a pp tool (see 'pp help')\n", cmd.c_str());
  return 2;
}
