#pragma once
// A VFS that is the system's own but writes the write-ahead log a commit at
// a time. SQLite writes each frame of the log with two system calls (its
// 24-byte header, then the page), several hundred for a commit of docketd's;
// on a virtual machine each costs more than the copy it makes. Here the
// frames of a transaction gather in a buffer and go in one write, at the
// latest when the commit frame is written, so a commit is wholly in the file
// before SQLite marks it committed in the wal-index (no reader or
// checkpointer can see a frame that is still buffered), and before docketd
// syncs the log. Every other call on the log (read, sync, truncate, size,
// file controls, close) writes what is buffered first; every other file
// is the system VFS's own, untouched.

#include <cstdint>

namespace docket::store {

// The VFS's name for sqlite3_open_v2, registered on first use.
const char* gathering_vfs();

// System calls that wrote the log, and writes SQLite asked for (for tests
// and the benchmark): the first is a small fraction of the second.
struct WalWriteCounts {
  std::int64_t asked = 0;
  std::int64_t written = 0;
};
WalWriteCounts wal_write_counts();

}  // namespace docket::store
