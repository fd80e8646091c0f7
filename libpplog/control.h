// The control block: a file (store/control) mapped shared by every process using the store.
// It caches what the journal and segments say — each topic's published head and the
// store clock — and carries the futex word that wakes waiters. It is never the source of
// truth: a missing, old or foreign control block (another boot, another version) or one a
// writer died while changing (dirty) is rebuilt from the files under the writer lock.
//
// Concurrency: writers change it only while holding the store's writer lock. Readers take
// no lock: a topic head is published through two seqlocked slots, so a reader always finds
// one complete head even if a writer dies half-way through publishing the other.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <string_view>

namespace pipeproc {

inline constexpr uint64_t kControlMagic = 0x314c5443'50505050ULL;  // "PPPPCTL1"
inline constexpr uint32_t kControlVersion = 4;
inline constexpr uint32_t kMaxTopics = 4096;
inline constexpr uint32_t kMaxBlobs = 8192;
inline constexpr size_t kMaxBlobKey = 208;
inline constexpr size_t kMaxBlobValue = 1024;

// What a reader needs to read a topic: [start, end) are the sequences it holds.
struct TopicHead {
  uint64_t start = 0;     // first sequence still held (GC moves it forward)
  uint64_t end = 0;       // one past the last committed sequence
  uint64_t seg_base = 0;  // first sequence of the segment being written
  uint64_t seg_end = 0;   // committed bytes of that segment (header included)
  uint64_t last_ts = 0;   // timestamp of the last committed log
  friend bool operator==(const TopicHead&, const TopicHead&) = default;
};

struct HeadSlot {
  std::atomic<uint64_t> version;  // odd while being written
  std::atomic<uint64_t> start, end, seg_base, seg_end, last_ts;
};

struct TopicSlot {
  char name[208];
  std::atomic<uint32_t> name_len;  // published last: 0 means the slot is not in use
  uint32_t id;
  std::atomic<uint32_t> cur;       // which of heads[] is current
  uint32_t pad0;
  HeadSlot heads[2];
  // Writer-only (read and written under the writer lock; derived, rebuilt on recovery):
  uint64_t unsynced;      // 0: all synced; else 1 + base of the oldest segment written without fdatasync
  uint64_t idx_count;     // valid entries in the current segment's index
  uint64_t idx_last_off;  // byte offset of the record of the last index entry
  uint64_t carried;       // 1: every unsynced byte is in the current segment and carried by
                          // topic_data ops of the current journal (format.h, kCarryBytes)
  char pad1[512 - 208 - 16 - 2 * 48 - 32];
};
static_assert(sizeof(TopicSlot) == 512);

struct ControlHeader {
  uint64_t magic;
  uint32_t version;
  uint32_t max_topics;
  char boot_id[48];
  std::atomic<uint32_t> initialized;  // 1 once built from the files
  std::atomic<uint32_t> dirty;        // 1 while a writer changes files or this block
  std::atomic<uint32_t> futex;        // bumped after every publish; waiters sleep on it
  std::atomic<uint32_t> topic_count;  // slots [0, topic_count) are in use
  std::atomic<uint64_t> journal_gen;  // generation of the current journal file
  std::atomic<uint64_t> journal_end;  // bytes of the journal applied here
  std::atomic<uint64_t> journal_size; // bytes the journal file is known to hold (zeros past the end)
  std::atomic<uint64_t> last_ts;      // the store clock: ids never go back
  std::atomic<uint64_t> txid;         // commits applied
  uint32_t blob_count;                // blob slots [0, blob_count) may be in use
  std::atomic<uint32_t> waiters;      // processes sleeping on futex: wakes are skipped at 0
  char pad[4096 - 8 - 4 - 4 - 48 - 16 - 40 - 8];
};
static_assert(sizeof(ControlHeader) == 4096);

// A small keyed value committed with the logs (proc state, systemProc definitions...).
// Read and written only under the writer lock.
struct BlobSlot {
  uint32_t kind;  // 0: free
  uint16_t key_len;
  uint16_t pad0;
  uint32_t val_len;
  uint32_t pad1;
  char key[kMaxBlobKey];
  char val[kMaxBlobValue];
  char pad2[1280 - 16 - kMaxBlobKey - kMaxBlobValue];
};
static_assert(sizeof(BlobSlot) == 1280);

struct Control {
  ControlHeader h;
  TopicSlot topics[kMaxTopics];
  BlobSlot blobs[kMaxBlobs];
};
inline constexpr size_t kControlSize = sizeof(Control);

// Readers: a consistent snapshot of a topic's head, without locks.
TopicHead read_head(const TopicSlot& slot);
// Writers (under the lock): publish a new head.
void publish_head(TopicSlot& slot, const TopicHead& head);
// The LOCK file's content: the writers' mutex. Robust and process-shared: when its holder
// dies the kernel releases it (the next locker gets EOWNERDEAD), as it would a flock, but
// an uncontended lock and unlock cost no system call. Built for each boot under a flock
// of the same file (a mutex left locked by a process of another boot means nothing).
inline constexpr uint64_t kLockMagic = 0x314b434c'50505050ULL;  // "PPPPLCK1"
inline constexpr size_t kLockFileSize = 4096;
struct LockBlock {
  uint64_t magic;
  char boot_id[48];
  std::atomic<uint32_t> ready;  // 1 once the mutex is built for the boot named above
  uint32_t pad0;
  pthread_mutex_t mutex;
};
static_assert(sizeof(LockBlock) <= kLockFileSize);

// Current head as the writer sees it (under the lock).
TopicHead writer_head(const TopicSlot& slot);

std::string_view slot_name(const TopicSlot& slot);
// Slot index of a topic, or -1. Lock-free.
int find_topic(const Control& c, std::string_view name);

// Blob slots (under the writer lock): the slot holding (kind, key), or -1.
int find_blob(const Control& c, uint8_t kind, std::string_view key);

// The current boot's id (/proc/sys/kernel/random/boot_id), to spot a reboot.
std::string_view boot_id();

// Futex helpers on the control block's futex word (shared mapping: not FUTEX_PRIVATE).
void wake_all(Control& c);
// Sleeps until the word differs from seen or timeout_ms passes (-1: forever).
void wait_change(Control& c, uint32_t seen, int timeout_ms);

}  // namespace pipeproc
