// pptool::Thread: runs its task, moves, and leaves the new thread free to run on every CPU
// its starter could (it is narrowed only to begin elsewhere).
#include <sched.h>

#include <atomic>
#include <memory>

#include <doctest/doctest.h>

#include "thread.h"

namespace {
cpu_set_t affinity() {
  cpu_set_t s;
  CPU_ZERO(&s);
  REQUIRE(::pthread_getaffinity_np(::pthread_self(), sizeof s, &s) == 0);
  return s;
}
}  // namespace

TEST_CASE("AThreadRunsAMoveOnlyTaskAndIsJoinedOnce") {
  auto value = std::make_unique<int>(41);
  std::atomic<int> seen{0};
  pptool::Thread t([v = std::move(value), &seen] { seen = *v + 1; });
  CHECK(t.joinable());
  pptool::Thread moved(std::move(t));
  CHECK(!t.joinable());
  moved.join();
  CHECK(!moved.joinable());
  CHECK(seen == 42);
  CHECK_THROWS(moved.join());
}

TEST_CASE("ANewThreadEndsUpWithItsStartersCpus") {
  const cpu_set_t mine = affinity();
  cpu_set_t theirs;
  CPU_ZERO(&theirs);
  pptool::Thread t([&] { theirs = affinity(); });
  t.join();
  CHECK(CPU_EQUAL(&mine, &theirs));

  // Limited to one CPU there is nowhere else to begin: the thread starts there all the same.
  if (CPU_COUNT(&mine) > 1) {
    int cpu = 0;
    while (!CPU_ISSET(cpu, &mine)) ++cpu;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    REQUIRE(::pthread_setaffinity_np(::pthread_self(), sizeof one, &one) == 0);
    bool ran = false;
    cpu_set_t got;
    CPU_ZERO(&got);
    pptool::Thread u([&] {
      ran = true;
      got = affinity();
    });
    u.join();
    REQUIRE(::pthread_setaffinity_np(::pthread_self(), sizeof mine, &mine) == 0);
    CHECK(ran);
    CHECK(CPU_EQUAL(&one, &got));
  }
}
