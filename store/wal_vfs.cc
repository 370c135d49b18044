#include "store/wal_vfs.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <cstring>

namespace docket::store {
namespace {

constexpr const char* kName = "docket-gather";
constexpr int kFrameHeader = 24;
// Past this the buffer is written out mid-transaction: a large batch of
// docketd's (a clock advance's chunk) still goes in a few writes.
constexpr int kMaxBuffered = 4 << 20;

sqlite3_vfs* g_system = nullptr;
sqlite3_vfs g_vfs;
std::atomic<std::int64_t> g_asked{0}, g_written{0};

// A log file: this, then the system VFS's file for it.
struct LogFile {
  sqlite3_file base;
  sqlite3_file* system;
  unsigned char* buffer;
  sqlite3_int64 start;  // the file offset of buffer[0]
  int length;
  int capacity;
  bool commit_written;  // the last write was a commit frame's header
};

constexpr int kLogFileSize = (sizeof(LogFile) + 15) / 16 * 16;

LogFile* log_of(sqlite3_file* f) { return reinterpret_cast<LogFile*>(f); }
const sqlite3_io_methods& system_methods(LogFile* f) { return *f->system->pMethods; }

// The system VFS writes at most 128 KiB less one byte in one call (it masks
// the length), so the buffer goes in pieces of 124 KiB.
constexpr int kLargestWrite = 0x1ffff & ~0xfff;

int write_out(LogFile* f) {
  int rc = SQLITE_OK;
  for (int done = 0; done < f->length && rc == SQLITE_OK; done += kLargestWrite) {
    const int piece = f->length - done < kLargestWrite ? f->length - done : kLargestWrite;
    rc = system_methods(f).xWrite(f->system, f->buffer + done, piece, f->start + done);
    g_written.fetch_add(1, std::memory_order_relaxed);
  }
  f->length = 0;
  return rc;
}

int log_close(sqlite3_file* p) {
  LogFile* f = log_of(p);
  const int written = write_out(f);
  sqlite3_free(f->buffer);
  f->buffer = nullptr;
  const int closed = system_methods(f).xClose(f->system);
  return written != SQLITE_OK ? written : closed;
}

int log_read(sqlite3_file* p, void* out, int amount, sqlite3_int64 offset) {
  LogFile* f = log_of(p);
  if (int rc = write_out(f); rc != SQLITE_OK) return rc;
  return system_methods(f).xRead(f->system, out, amount, offset);
}

int log_write(sqlite3_file* p, const void* data, int amount, sqlite3_int64 offset) {
  LogFile* f = log_of(p);
  g_asked.fetch_add(1, std::memory_order_relaxed);
  // A frame's header holds at bytes 4 to 7 the database's size in pages for
  // a commit frame and zero for every other. The commit frame's header and
  // then its page end a transaction's frames: each goes out at once, so the
  // commit is wholly in the file before SQLite publishes it. (Rewriting the
  // checksums of frames overwritten in place ends on the commit frame's
  // header too.)
  const auto* bytes = static_cast<const unsigned char*>(data);
  const bool commit_header = amount == kFrameHeader && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
  const bool at_once = commit_header || f->commit_written;
  f->commit_written = commit_header;
  if (f->length > 0 && (offset != f->start + f->length || f->length + amount > kMaxBuffered)) {
    if (int rc = write_out(f); rc != SQLITE_OK) return rc;
  }
  if (f->length + amount > f->capacity) {
    const int wanted = f->length + amount > kMaxBuffered / 4 ? kMaxBuffered : kMaxBuffered / 4;
    void* grown = amount <= wanted ? sqlite3_realloc(f->buffer, wanted) : nullptr;
    if (grown == nullptr) {  // too large, or no memory: straight through
      if (int rc = write_out(f); rc != SQLITE_OK) return rc;
      g_written.fetch_add(1, std::memory_order_relaxed);
      return system_methods(f).xWrite(f->system, data, amount, offset);
    }
    f->buffer = static_cast<unsigned char*>(grown);
    f->capacity = wanted;
  }
  if (f->length == 0) f->start = offset;
  std::memcpy(f->buffer + f->length, data, static_cast<std::size_t>(amount));
  f->length += amount;
  return at_once ? write_out(f) : SQLITE_OK;
}

int log_truncate(sqlite3_file* p, sqlite3_int64 size) {
  LogFile* f = log_of(p);
  if (int rc = write_out(f); rc != SQLITE_OK) return rc;
  return system_methods(f).xTruncate(f->system, size);
}

int log_sync(sqlite3_file* p, int flags) {
  LogFile* f = log_of(p);
  if (int rc = write_out(f); rc != SQLITE_OK) return rc;
  return system_methods(f).xSync(f->system, flags);
}

int log_file_size(sqlite3_file* p, sqlite3_int64* size) {
  LogFile* f = log_of(p);
  if (int rc = write_out(f); rc != SQLITE_OK) return rc;
  return system_methods(f).xFileSize(f->system, size);
}

int log_lock(sqlite3_file* p, int level) { return system_methods(log_of(p)).xLock(log_of(p)->system, level); }
int log_unlock(sqlite3_file* p, int level) { return system_methods(log_of(p)).xUnlock(log_of(p)->system, level); }
int log_check_reserved(sqlite3_file* p, int* out) {
  return system_methods(log_of(p)).xCheckReservedLock(log_of(p)->system, out);
}

int log_file_control(sqlite3_file* p, int op, void* arg) {
  LogFile* f = log_of(p);
  if (int rc = write_out(f); rc != SQLITE_OK) return rc;
  return system_methods(f).xFileControl(f->system, op, arg);
}

int log_sector_size(sqlite3_file* p) { return system_methods(log_of(p)).xSectorSize(log_of(p)->system); }
int log_device(sqlite3_file* p) { return system_methods(log_of(p)).xDeviceCharacteristics(log_of(p)->system); }

// The log has no shared memory and no mapping of its own (both belong to
// the database file), so the version-2 and -3 methods are left out.
const sqlite3_io_methods kLogMethods = {
    1,          log_close,          log_read,        log_write,       log_truncate,  log_sync, log_file_size,
    log_lock,   log_unlock,         log_check_reserved, log_file_control, log_sector_size, log_device,
    nullptr,    nullptr,            nullptr,         nullptr,         nullptr,       nullptr,
};

int gather_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) == 0) return g_system->xOpen(g_system, name, file, flags, out_flags);
  LogFile* f = log_of(file);
  std::memset(f, 0, sizeof *f);
  f->system = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kLogFileSize);
  const int rc = g_system->xOpen(g_system, name, f->system, flags, out_flags);
  if (rc != SQLITE_OK) {
    if (f->system->pMethods != nullptr) f->system->pMethods->xClose(f->system);
    f->base.pMethods = nullptr;
    return rc;
  }
  f->base.pMethods = &kLogMethods;
  return SQLITE_OK;
}

}  // namespace

// Debian 12's SQLite. Another version is used through the system VFS until
// the gathering one has been tested with it (tests/store/wal_vfs_test.cc and
// the power-cut test), and its version added here.
constexpr int kTested[] = {3040001};

bool gathering_vfs_tested_with(int sqlite_version) {
  return std::find(std::begin(kTested), std::end(kTested), sqlite_version) != std::end(kTested);
}

std::optional<std::string> gathering_vfs_unavailable() {
  if (gathering_vfs() != nullptr) return std::nullopt;
  if (!gathering_vfs_tested_with(sqlite3_libversion_number())) {
    return std::string("SQLite ") + sqlite3_libversion() +
           " is not a version the log's gathering writer was tested with; using SQLite's own";
  }
  return std::string("the gathering log writer could not be registered; using SQLite's own");
}

const char* gathering_vfs() {
  static const bool registered = [] {
    if (!gathering_vfs_tested_with(sqlite3_libversion_number())) return false;
    g_system = sqlite3_vfs_find(nullptr);
    if (g_system == nullptr) return false;
    g_vfs = *g_system;  // every other method, and the system's own data, as they are
    g_vfs.pNext = nullptr;
    g_vfs.zName = kName;
    g_vfs.szOsFile = kLogFileSize + g_system->szOsFile;
    g_vfs.xOpen = gather_open;
    return sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK;
  }();
  return registered ? kName : nullptr;
}

WalWriteCounts wal_write_counts() {
  return {g_asked.load(std::memory_order_relaxed), g_written.load(std::memory_order_relaxed)};
}

}  // namespace docket::store
