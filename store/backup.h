#pragma once
// Backing up and restoring docketd's database file.
//
// A backup is read through a read-only connection with SQLite's online
// backup API, in one step, so it is one consistent snapshot (everything
// committed when it began, including what is still in the write-ahead log)
// and docketd keeps writing meanwhile: a WAL reader never blocks the writer.
// The copy is written beside its destination, synced and renamed into place,
// mode 0600, as a single self-contained file (rollback journal, no -wal).
//
// A restore trusts nothing it has not checked: check_database() runs
// SQLite's integrity_check, reads the schema version (older ones are
// migrated when docketd opens the file; newer ones are refused) and walks
// the audit chain (its keyed part with the audit key). replace_database()
// then swaps the file in, keeping the database it replaces beside it.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "store/audit_key.h"

namespace docket::store {

struct BackupSummary {
  int schema_version = 0;
  std::int64_t audit_records = 0;  // the newest record's sequence number
  std::string head_hash;           // its hash, for `docket audit verify --expect-head`
  std::uintmax_t bytes = 0;
};

// Copies the database `from` to `to` (replaced atomically if it exists).
// Throws StoreError with SQLite's reason.
BackupSummary backup_database(const std::filesystem::path& from, const std::filesystem::path& to);

struct DatabaseCheck {
  int schema_version = 0;
  std::int64_t audit_records = 0;
  std::string head_hash;
  std::int64_t keyed_from = 0;  // the trail's audit.keyed record; 0 if not keyed
  std::int64_t unchecked = 0;   // keyed records not checked: no key given, or not the trail's
  std::optional<std::string> problem;  // why the file must not be restored; nullopt when it is sound
};

// Checks a database file; never throws for a bad file (the reason is in
// `problem`). The keyed part of its audit trail is checked with `key`
// (store/audit_key.h); without it, only in order and linkage (`unchecked`).
DatabaseCheck check_database(const std::filesystem::path& file, const AuditKey* key = nullptr);

// Puts a copy of `from` (already checked) in place of `target`, which no
// process may have open. A current `target` is checkpointed and kept as
// `target.before-restore-YYYYMMDDTHHMMSSZ`, whose path is returned; the new
// file takes the old one's owner and group (the service account), mode 0600.
// With no `target` it takes its directory's; a missing directory (docketd
// never ran here) is made 0700 and, as root, given to the `docket` user.
// At every moment `target` is a complete database, the old or the new.
std::optional<std::filesystem::path> replace_database(const std::filesystem::path& from,
                                                      const std::filesystem::path& target);

}  // namespace docket::store
