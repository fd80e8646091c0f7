// On-disk format constants and layouts. The one description of the format is
// docs/format.md; tests/unit/format_test.cpp pins these values to golden bytes.
// All integers are little-endian. Values marked "stored on disk" must never be renumbered.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pipeproc::format {

// ---- segment files: topics/<name>/<base:020>.log ----------------------------------
inline constexpr uint64_t kSegmentMagic = 0x31474553'50505050ULL;  // "PPPPSEG1"
inline constexpr uint32_t kSegmentVersion = 1;
inline constexpr size_t kSegmentHeaderSize = 32;  // magic, version, 0, base_seq, xxh3 of [0,24)

// A record: 32-byte header, then the body.
//   u64 checksum   XXH3_64 over bytes [8, 32 + body_len)
//   u32 body_len
//   u32 kind       stored on disk: never renumber
//   u64 seq
//   u64 timestamp  ms since the epoch
inline constexpr size_t kRecordHeaderSize = 32;
enum class RecordKind : uint32_t { log = 1 };  // stored on disk: never renumber

// ---- sparse index files: topics/<name>/<base:020>.idx -----------------------------
inline constexpr uint64_t kIndexMagic = 0x31584449'50505050ULL;  // "PPPPIDX1"
inline constexpr uint32_t kIndexVersion = 1;
inline constexpr size_t kIndexHeaderSize = 32;  // magic, version, 0, base_seq, xxh3 of [0,24)
inline constexpr size_t kIndexEntrySize = 32;   // seq, timestamp, offset, xxh3 of [0,24)
inline constexpr uint64_t kIndexInterval = 4096;  // bytes of records between entries

// ---- the journal: journal -------------------------------------------------------------
inline constexpr uint64_t kJournalMagic = 0x314c4e4a'50505050ULL;  // "PPPPJNL1"
inline constexpr uint32_t kJournalVersion = 1;
inline constexpr size_t kJournalHeaderSize = 32;  // magic, version, 0, generation, xxh3 of [0,24)
// A journal record: u64 checksum (XXH3_64 over [8, 16 + len)), u32 len, u32 flags, payload.
inline constexpr size_t kJournalRecordHeaderSize = 16;
inline constexpr uint32_t kJournalFlagSnapshot = 1;  // stored on disk: the full state follows
inline constexpr uint32_t kJournalFlagSynced = 2;    // stored on disk: all data before it is on disk
                                                     // (or carried by a topic_data op of the journal)

// Journal payload: a sequence of ops, each a u8 tag then its fields.
enum class Op : uint8_t {  // stored on disk: never renumber
  topic_create = 1,        // u32 id, u8 name_len, name
  topic_head = 2,          // u32 id, u64 end_seq, u64 seg_base, u64 seg_end, u64 last_ts
  topic_start = 3,         // u32 id, u64 start_seq
  clock = 4,               // u64 last_ts (store-wide, ids never go back)
  blob_put = 5,            // u8 kind, u16 key_len, key, u32 val_len, val (procs and more)
  blob_del = 6,            // u8 kind, u16 key_len, key
  topic_data = 7,          // u32 id, u64 seg_base, u64 offset, u32 len, the segment bytes written there
};

// A durable commit whose new records take at most this many bytes, all appended to
// segments that already exist on disk, carries them in its journal record (topic_data)
// instead of fdatasyncing the segments: one fsync, of the journal, makes it durable.
inline constexpr size_t kCarryBytes = 32u << 10;

inline constexpr uint64_t kDefaultSegmentBytes = 64ull << 20;
inline constexpr uint64_t kJournalRotateBytes = 64ull << 20;
// The journal file grows in steps of kJournalGrowBytes (reserved, zero-filled) and writers
// copy records into a shared mapping of its first kJournalMapBytes: no system call per
// commit. A record past the mapping is written with pwrite.
inline constexpr uint64_t kJournalGrowBytes = 1ull << 20;
inline constexpr uint64_t kJournalMapBytes = kJournalRotateBytes + (16ull << 20);
inline constexpr size_t kDefaultMaxBody = 16u << 20;
inline constexpr size_t kMaxRecordBody = 1u << 30;  // what readers accept; writers' limit is lower
inline constexpr size_t kMaxNameLen = 200;

}  // namespace pipeproc::format
