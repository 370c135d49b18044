#pragma once
// The disk after a power cut, rebuilt from the journal of the power-cut
// recorder (powercut_shim.cc, format in powercut_journal.h).
//
// The model: a sync (fsync or fdatasync of a file, or of the directory for
// its names) that has returned makes durable every change to that file that
// had returned before the sync began; a sync still running at the cut, or one
// that failed, makes nothing durable; a change still under way at the cut is
// not durable either, and may have been made in part. What is not durable may or may not have
// reached the disk, page by page: for each 4 KiB page that unsynced writes
// touched, the disk holds the page as it was durably (the writes dropped), as
// one of the writes left it (kept), or torn: some of its 512-byte sectors
// from that version and the others from the durable one. A file's size is its
// size after some number of its unsynced changes (none, some or all); names
// created, removed or renamed since the directory's last sync survive as a
// prefix of them in order (a journalling file system commits them in order).
// SQLite's shared-memory index (a name ending in -shm) is not written: it is
// rebuilt from the log after a reboot.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/powercut_journal.h"

namespace docket::testing::powercut {

struct JournalRecord {
  RecordType type;
  std::uint32_t file = 0;
  std::uint32_t flags = 0;
  std::uint64_t offset = 0;
  std::string_view payload;  // into the Journal's bytes
};

class Journal {
 public:
  // Reads a journal. A last record cut short (docketd killed while appending
  // it) is left out; a damaged record before the end throws
  // std::runtime_error, as does a journal that cannot be read.
  explicit Journal(const std::filesystem::path& path);
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const std::vector<JournalRecord>& records() const { return records_; }
  // Bytes of a last record cut short, left out.
  std::size_t torn_tail() const { return torn_tail_; }
  // What the recorder saw and the model does not cover (must be empty for
  // the disk to mean anything).
  std::vector<std::string> unsupported() const;
  // The index of the first mark with this label.
  std::optional<std::size_t> mark(std::string_view label) const;
  std::int64_t bytes_written() const;
  std::int64_t syncs() const;

 private:
  std::string bytes_;
  std::vector<JournalRecord> records_;
  std::size_t torn_tail_ = 0;
};

// Appends a record to a journal from the test's own process (an O_APPEND
// write, so it never splits a record of the recorder's): a mark, or (for
// the model's own tests) any record.
void append_record(const std::filesystem::path& journal, RecordType type, std::uint32_t file, std::uint32_t flags,
                   std::uint64_t offset, std::string_view payload);
inline void append_mark(const std::filesystem::path& journal, std::string_view label) {
  append_record(journal, RecordType::mark, 0, 0, 0, label);
}

struct DiskModel {
  // What became of the changes no completed sync covers.
  enum class Unsynced { random, dropped, kept };
  Unsynced unsynced = Unsynced::random;
  // Whether changes still under way at the cut count with the others (else
  // they never happened).
  bool in_flight = true;
  // A disk that lies: syncs that began after the first mark with this label
  // made nothing durable, though they returned. Empty: every sync is kept.
  std::string syncs_ignored_after_mark;

  // A power cut: every unsynced change dropped, kept or torn at random.
  static DiskModel power_cut() { return {}; }
  // Every unsynced change lost, or every change made (as the page cache
  // holds them when docketd is killed; with or without those under way).
  static DiskModel nothing_unsynced() { return {Unsynced::dropped, true, {}}; }
  static DiskModel everything(bool in_flight = true) { return {Unsynced::kept, in_flight, {}}; }
  // A drive that ignores the syncs begun after the mark, and loses all
  // that was not synced.
  static DiskModel lying_after(std::string mark) { return {Unsynced::dropped, true, std::move(mark)}; }
};

struct DiskStats {
  std::int64_t files = 0;          // files written out
  std::int64_t pages_dropped = 0;  // pages with unsynced writes, by what became of them
  std::int64_t pages_kept = 0;
  std::int64_t pages_torn = 0;
  std::int64_t names_pending = 0;  // name changes the directory's last sync did not cover
  std::int64_t names_kept = 0;     // of those, kept
  DiskStats& operator+=(const DiskStats& o);
};

// Writes into `out` (an empty directory) the files of the watched directory
// as a power cut at the end of the journal could have left them, starting
// from the files in `before` (what the directory held when recording began;
// an empty path for an empty directory). Throws std::runtime_error if the
// journal cannot be replayed (e.g. a file opened that was never there).
DiskStats write_disk(const Journal& journal, const std::filesystem::path& before, const std::filesystem::path& out,
                     const DiskModel& model, std::mt19937_64& rng);

}  // namespace docket::testing::powercut
