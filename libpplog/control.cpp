// Control block head publication and futex waits; see control.h.
#include "control.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

namespace pipeproc {

TopicHead read_head(const TopicSlot& slot) {
  for (;;) {
    const HeadSlot& h = slot.heads[slot.cur.load(std::memory_order_acquire) & 1];
    uint64_t v1 = h.version.load(std::memory_order_acquire);
    if (v1 & 1) continue;
    TopicHead out;
    out.start = h.start.load(std::memory_order_relaxed);
    out.end = h.end.load(std::memory_order_relaxed);
    out.seg_base = h.seg_base.load(std::memory_order_relaxed);
    out.seg_end = h.seg_end.load(std::memory_order_relaxed);
    out.last_ts = h.last_ts.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if (h.version.load(std::memory_order_relaxed) == v1) return out;
  }
}

TopicHead writer_head(const TopicSlot& slot) { return read_head(slot); }

void publish_head(TopicSlot& slot, const TopicHead& head) {
  uint32_t next = (slot.cur.load(std::memory_order_relaxed) + 1) & 1;
  HeadSlot& h = slot.heads[next];
  uint64_t v = h.version.load(std::memory_order_relaxed);
  if (v & 1) ++v;  // a writer died half-way through this slot: start from even
  h.version.store(v + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  h.start.store(head.start, std::memory_order_relaxed);
  h.end.store(head.end, std::memory_order_relaxed);
  h.seg_base.store(head.seg_base, std::memory_order_relaxed);
  h.seg_end.store(head.seg_end, std::memory_order_relaxed);
  h.last_ts.store(head.last_ts, std::memory_order_relaxed);
  h.version.store(v + 2, std::memory_order_release);
  slot.cur.store(next, std::memory_order_release);
}

std::string_view slot_name(const TopicSlot& slot) {
  return {slot.name, slot.name_len.load(std::memory_order_acquire)};
}

int find_topic(const Control& c, std::string_view name) {
  uint32_t n = c.h.topic_count.load(std::memory_order_acquire);
  if (n > kMaxTopics) n = kMaxTopics;
  for (uint32_t i = 0; i < n; ++i) {
    if (slot_name(c.topics[i]) == name) return static_cast<int>(i);
  }
  return -1;
}

int find_blob(const Control& c, uint8_t kind, std::string_view key) {
  for (uint32_t i = 0; i < c.h.blob_count && i < kMaxBlobs; ++i) {
    const BlobSlot& b = c.blobs[i];
    if (b.kind == kind && std::string_view(b.key, b.key_len) == key) return static_cast<int>(i);
  }
  return -1;
}

std::string_view boot_id() {
  static const std::string id = [] {
    std::string s;
    if (FILE* f = std::fopen("/proc/sys/kernel/random/boot_id", "r")) {
      char buf[64] = {};
      if (std::fgets(buf, sizeof buf, f)) s = buf;
      std::fclose(f);
    }
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (s.size() > 47) s.resize(47);
    return s;
  }();
  return id;
}

// The waiters count lets a commit skip the wake syscall when nobody sleeps. Both sides
// use sequentially consistent order: a waiter counts itself before the kernel compares
// the futex word, a writer bumps the word before it reads the count — so either the
// writer sees the waiter, or the waiter's compare sees the new word and does not sleep.
void wake_all(Control& c) {
  c.h.futex.fetch_add(1, std::memory_order_seq_cst);
  if (c.h.waiters.load(std::memory_order_seq_cst) == 0) return;
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&c.h.futex), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

void wait_change(Control& c, uint32_t seen, int timeout_ms) {
  if (c.h.futex.load(std::memory_order_acquire) != seen) return;
  timespec ts{};
  timespec* tp = nullptr;
  if (timeout_ms >= 0) {
    ts.tv_sec = timeout_ms / 1000;
    ts.tv_nsec = static_cast<long>(timeout_ms % 1000) * 1000000L;
    tp = &ts;
  }
  c.h.waiters.fetch_add(1, std::memory_order_seq_cst);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&c.h.futex), FUTEX_WAIT, seen, tp, nullptr, 0);
  c.h.waiters.fetch_sub(1, std::memory_order_seq_cst);
}

}  // namespace pipeproc
