// Writes the seed corpus of every fuzz target: fuzz_make_seeds <corpus dir>. The binary
// seeds need checksums, so they are made with the library's encoders; the text seeds are
// here too so that one program says what every seed is. Deterministic.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "journal.h"
#include "record.h"
#include "segment.h"

using namespace pipeproc;
using namespace pipeproc::format;

namespace {

std::string root;

void seed(const std::string& target, const std::string& name, std::string_view bytes) {
  std::filesystem::create_directories(root + "/" + target);
  fuzzutil::write_file(root + "/" + target + "/" + name, bytes);
}

std::string header(uint64_t magic, uint32_t version, uint64_t value) {
  char b[32];
  encode_file_header(b, magic, version, value);
  return std::string(b, 32);
}

std::string entry(uint64_t seq, uint64_t ts, uint64_t off) {
  char b[32];
  encode_index_entry(b, IndexEntry{seq, ts, off});
  return std::string(b, 32);
}

// fuzz_jsonl: max_line byte, window byte, flags byte, then the stream.
std::string jsonl(uint8_t max_line, uint8_t window, uint8_t flags, std::string_view text) {
  return std::string{static_cast<char>(max_line), static_cast<char>(window), static_cast<char>(flags)} +
         std::string(text);
}

// fuzz_index_store, built form: one entry (record number, flags, deltas).
std::string built_entry(uint8_t rec, uint8_t flags, int16_t dseq, int16_t dts, int16_t doff) {
  std::string s{static_cast<char>(rec), static_cast<char>(flags)};
  for (int16_t v : {dseq, dts, doff}) {
    s.push_back(static_cast<char>(v & 0xff));
    s.push_back(static_cast<char>((v >> 8) & 0xff));
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_seeds <corpus dir>\n");
    return 2;
  }
  root = argv[1];

  // ---- fuzz_record ----
  std::string r;
  append_record(r, 7, 1000, "{}");
  seed("fuzz_record", "one-record", r);
  append_record(r, 8, 1000, R"({"a":[1,2,3],"b":"x"})");
  seed("fuzz_record", "two-records", r);
  seed("fuzz_record", "torn-tail", r.substr(0, r.size() - 5));
  std::string bad = r;
  bad[20] = static_cast<char>(bad[20] ^ 1);
  seed("fuzz_record", "checksum-mismatch", bad);
  std::string empty;
  append_record(empty, 0, 0, "");
  seed("fuzz_record", "empty-body", empty);
  std::string big;
  append_record(big, UINT64_MAX, UINT64_MAX, std::string(300, 'z'));
  seed("fuzz_record", "max-ids-long-body", big);

  // ---- fuzz_index ----
  seed("fuzz_index", "index-file",
       header(kIndexMagic, kIndexVersion, 42) + entry(42, 1000, 32) + entry(60, 1005, 4200));
  seed("fuzz_index", "segment-header", header(kSegmentMagic, kSegmentVersion, 0));
  seed("fuzz_index", "journal-header", header(kJournalMagic, kJournalVersion, 3));
  seed("fuzz_index", "bad-entry", header(kIndexMagic, kIndexVersion, 0) + entry(0, 1, 32).replace(24, 1, "\x55"));

  // ---- fuzz_journal_ops ----
  std::string ops;
  op_topic_create(ops, 0, "events");
  op_topic_head(ops, 0, 10, 0, 4096, 1000);
  op_topic_start(ops, 0, 3);
  op_clock(ops, 1000);
  op_blob_put(ops, 1, "resize", std::string("\x01state", 6));
  op_blob_del(ops, 1, "old");
  op_topic_data(ops, 0, 0, 4096, std::string("\x22\x00\x00\x00\x01\x00\x00\x00{}", 10));
  seed("fuzz_journal_ops", "every-op", ops);
  std::string one;
  op_topic_create(one, 7, "t");
  seed("fuzz_journal_ops", "topic-create", one);
  seed("fuzz_journal_ops", "cut-short", ops.substr(0, ops.size() - 2));
  seed("fuzz_journal_ops", "unknown-op", one + "\x09");
  std::string blob;
  op_blob_put(blob, 2, "", "");
  seed("fuzz_journal_ops", "empty-blob", blob);

  // ---- fuzz_jsonl ----
  seed("fuzz_jsonl", "values",
       jsonl(32, 1, 0, "{\"a\":1}\n[1,2]\n\"x\"\n  \n{\"topic\":\"t\",\"body\":{\"k\":[1,2]}}\n"));
  seed("fuzz_jsonl", "huge-numbers",
       jsonl(40, 3, 1,
             "{\"topic\":\"t\",\"body\":123456789012345678901234567890}\n[1e400]\n-0.5e-3\n{\"topic\":\"t\",\"body\":"
             "1e999}\n"));
  seed("fuzz_jsonl", "invalid", jsonl(40, 2, 0, "{\"a\":}\n{\"a\":1} {\"b\":2}\nnul\n\"unterminated\n[01]\n"));
  seed("fuzz_jsonl", "too-long", jsonl(2, 0, 0, "[1]\n[1,2,3,4,5,6]\n[2]\n"));
  seed("fuzz_jsonl", "crlf-no-final-newline",
       jsonl(60, 5, 3, "{\"x\":\"\\u00e9\"}\r\n\r\n  [true,false,null]  \r\n{\"topic\":\"a\\\"b\",\"body\":\"s\"}"));
  seed("fuzz_jsonl", "envelopes",
       jsonl(100, 20, 0,
             "{\"body\":1,\"topic\":\"t\"}\n{\"topic\":1,\"body\":2}\n{\"topic\":\"t\"}\n"
             "{\"topic\":\"t\",\"body\":[{\"body\":0}],\"x\":{\"topic\":\"u\"}}\n[{\"topic\":\"t\",\"body\":1}]\n"));
  seed("fuzz_jsonl", "big-window", jsonl(0x80, 0x80, 2, "1\n2\n3\n{\"topic\":\"t\",\"body\":null}\n"));

  // ---- fuzz_bound: line 1 start, line 2 end, line 3 flags ----
  seed("fuzz_bound", "timestamp", "100");
  seed("fuzz_bound", "sequence", ":3");
  seed("fuzz_bound", "ids", std::string("100-2\n300-4\n") + '\0');
  seed("fuzz_bound", "ts-and-seq-exclusive", "200\n:5\n\x01");
  seed("fuzz_bound", "reverse-exclusive", "300-5\n100-1\n\x03");
  seed("fuzz_bound", "u64-max", "18446744073709551615");
  seed("fuzz_bound", "collected-topic", "\n:0\n\x04");
  seed("fuzz_bound", "malformed", "1-2-3\n01-002\n-1");

  // ---- fuzz_index_store: the fixture's true indexes, raw, and built ones ----
  {
    fuzzutil::TempDir dir;
    fuzzutil::build_index_fixture(dir.path);
    auto bases = list_segments(dir.path + "/topics/t");
    fuzzutil::require_ok(bases.status(), "list segments");
    for (size_t i = 0; i < bases->size() && i < 3; ++i) {
      std::string idx = fuzzutil::read_file(dir.path + "/topics/t/" + segment_file_name((*bases)[i], ".idx"));
      seed("fuzz_index_store", "raw-true-index-" + std::to_string(i), std::string{static_cast<char>(i), 0} + idx);
    }
  }
  std::string b = std::string{1, 1, 0} + built_entry(0, 0, 0, 0, 0) + built_entry(5, 0, 0, 0, 0);
  seed("fuzz_index_store", "built-true-entries", b);
  seed("fuzz_index_store", "built-offset-moved", std::string{2, 1, 0} + built_entry(3, 4, 0, 0, 32));
  seed("fuzz_index_store", "built-seq-moved", std::string{1, 1, 0} + built_entry(2, 1, 2, 0, 0));
  seed("fuzz_index_store", "built-bad-checksum", std::string{0, 1, 0} + built_entry(1, 8, 0, 0, 0));
  seed("fuzz_index_store", "built-foreign-header", std::string{0, 1, 1} + built_entry(0, 0, 0, 0, 0));
  seed("fuzz_index_store", "built-no-file", std::string{1, 1, 2});

  // ---- regressions: inputs that found a bug (README.md says which) ----
  // An id bound with sequence 2^64-1 (inclusive end; exclusive start): seq + 1 wraps.
  seed("fuzz_bound", "regress-id-bound-max-seq-end", "\n100-18446744073709551615");
  seed("fuzz_bound", "regress-id-bound-max-seq-start-exclusive", "100-18446744073709551615\n\n\x01");
  // Segment 0's index: one entry, with a valid checksum, for record 4 with its timestamp
  // lowered by 30: seq_at_or_after(1002) answers 4 where the logs say 3.
  seed("fuzz_index_store", "regress-seq-at-or-after-trusts-index-ts",
       std::string{0, 1, 0} + built_entry(4, 2, 0, -30, 0));
  // Segment 2's index: an entry whose offset is below 0 (>= 2^63 as u64): the reader
  // preads there and fails with io_error (EINVAL) instead of ignoring the index.
  seed("fuzz_index_store", "regress-index-offset-over-2p63-is-io-error",
       std::string{2, 1, 0} + built_entry(3, 4, 0, 0, -32670));
  // An envelope whose body the DOM cannot hold: the topic comes back with its escapes.
  seed("fuzz_jsonl", "regress-envelope-topic-escapes-next-to-huge-number",
       jsonl(40, 3, 1, "{\"topic\":\"\\u0061\",\"body\":1e400}\n"));
  // A scalar then "{" ("3{", invalid), then a last line of the batch ending inside a UTF-8
  // sequence: simdjson's parse_many yields "3" with source() "3{", so validate() accepts it.
  seed("fuzz_jsonl", "regress-validate-accepts-scalar-then-brace", jsonl(0xff, 0xff, 0, "3{\n\xce"));
  return 0;
}
