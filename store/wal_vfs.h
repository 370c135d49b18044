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
#include <optional>
#include <string>

namespace docket::store {

// The VFS's name for sqlite3_open_v2, registered on first use; null (the
// system VFS) when the SQLite in use is not one it was tested with.
const char* gathering_vfs();

// The VFS reads SQLite's internals: a frame header's bytes 4 to 7, and the
// largest write the unix VFS makes (128 KiB less one byte). It is used only
// with the SQLite versions it was tested with (sqlite3_libversion_number).
bool gathering_vfs_tested_with(int sqlite_version);
// Why the gathering VFS is not in use, if it is not: for a log line.
std::optional<std::string> gathering_vfs_unavailable();

// System calls that wrote the log, and writes SQLite asked for (for tests
// and the benchmark): the first is a small fraction of the second.
struct WalWriteCounts {
  std::int64_t asked = 0;
  std::int64_t written = 0;
};
WalWriteCounts wal_write_counts();

}  // namespace docket::store
