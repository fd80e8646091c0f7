// How long a new thread takes to first run while the thread that started it stays busy:
// std::thread against pptool::Thread (which begins on another CPU than its starter's).
//
// usage: thread_start [ROUNDS]   (default 20)
//
// Per round: sleep 5 ms (the other CPU goes idle), take t0, start the thread, spin 3 ms
// on this one, join. The thread takes t1 as its first act; the round's time is t1 - t0.
// Prints one line of key=value pairs (microseconds):
//   thread_start n=N std_median_us= std_max_us= pp_median_us= pp_max_us= cpus=K
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "thread.h"

namespace {
using Clock = std::chrono::steady_clock;

double us_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

template <class Start>
std::vector<double> rounds(int n, Start start) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    ::usleep(5000);
    Clock::time_point t1;
    Clock::time_point t0 = Clock::now();
    auto t = start([&t1] { t1 = Clock::now(); });
    while (us_between(t0, Clock::now()) < 3000) {
    }
    t.join();
    out.push_back(us_between(t0, t1));
  }
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20;
  if (n < 1) {
    std::fprintf(stderr, "usage: thread_start [ROUNDS]\n");
    return 2;
  }
  auto std_times = rounds(n, [](auto f) { return std::thread(f); });
  auto pp_times = rounds(n, [](auto f) { return pptool::Thread(f); });
  cpu_set_t cpus;
  int ncpu = ::sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? CPU_COUNT(&cpus) : 0;
  std::printf("thread_start n=%d std_median_us=%.0f std_max_us=%.0f pp_median_us=%.0f pp_max_us=%.0f cpus=%d\n", n,
              std_times[std_times.size() / 2], std_times.back(), pp_times[pp_times.size() / 2], pp_times.back(), ncpu);
  return 0;
}
