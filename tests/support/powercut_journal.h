#pragma once
// The journal of the power-cut recorder (tests/support/powercut_shim.cc), and
// the record the power-cut test appends to it itself (a mark).
//
// The shim, loaded into docketd with LD_PRELOAD, appends one record per
// change to a file in the watched directory: what was written where, each
// truncation, each file created, opened, removed or renamed, and the start
// and the end of each fsync or fdatasync. A change to a file's contents is
// journalled as it starts (with its bytes) and again when it returns (with
// how much it wrote), so a change that returned before a sync began has its
// result before that sync's start in the journal, and is on disk once the
// sync has ended; a change with no result was under way when docketd died.
// tests/support/powercut_disk.h reads it back and builds the disk a power cut
// could have left.
//
// This header is shared by the shim (plain C++, no library) and the reader.
// A record is a Record header and `length` bytes of payload, appended with
// one write(2) of an O_APPEND file: records of the test and of docketd never
// interleave, and a SIGKILL at worst leaves the last record short (its
// checksum then fails, and the reader stops there).

#include <cstdint>

namespace docket::testing::powercut {

inline constexpr std::uint32_t kRecordMagic = 0x54554350;  // "PCUT"

enum class RecordType : std::uint32_t {
  create = 1,        // file, payload: its name in the directory; it did not exist
  open = 2,          // file, payload: its name; it existed before recording began
  write = 3,         // file, flags: the change's number, offset; payload: the bytes to write
  truncate = 4,      // file, flags: the change's number, offset: the new size
  extend = 5,        // file, flags: the change's number, offset: the size at least (fallocate)
  done = 6,          // file, flags: a change's number; offset: bytes written, or 1 for a resize; 0: it failed
  sync_begin = 7,    // file (or kDirectory, kAllFiles), offset: the sync's number
  sync_end = 8,      // offset: the sync's number; flags: kSyncFailed if it failed
  unlink = 9,        // payload: the name removed
  rename = 10,       // payload: old name, '\0', new name
  unsupported = 11,  // payload: what the recorder saw but cannot model
  mark = 12,         // written by the test: payload, a label
};

// `file` of a sync_begin for the directory itself, and for sync()/syncfs().
inline constexpr std::uint32_t kDirectory = 0xfffffffe;
inline constexpr std::uint32_t kAllFiles = 0xffffffff;
// `flags` of a sync_end whose call failed: it made nothing durable.
inline constexpr std::uint32_t kSyncFailed = 1;

struct Record {
  std::uint32_t magic;
  std::uint32_t type;  // RecordType
  std::uint32_t file;  // the recorder's number for the file, from 1
  std::uint32_t flags;
  std::uint64_t offset;
  std::uint32_t length;    // payload bytes that follow
  std::uint32_t checksum;  // of the header (with this 0) and the payload
};
static_assert(sizeof(Record) == 32, "the journal's header is 32 bytes on every build");

// FNV-1a, 32 bits: cheap enough for every byte docketd writes.
inline std::uint32_t checksum_add(std::uint32_t h, const void* data, std::uint64_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::uint64_t i = 0; i < n; ++i) h = (h ^ p[i]) * 16777619u;
  return h;
}
inline constexpr std::uint32_t kChecksumSeed = 2166136261u;

}  // namespace docket::testing::powercut
