#include "store/backup.h"

#include <fcntl.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <date/date.h>

#include "store/audit_query.h"
#include "store/reader.h"
#include "store/store.h"

namespace docket::store {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail_errno(const std::string& what, const fs::path& p) {
  throw StoreError(what + " " + p.string() + ": " + std::strerror(errno));
}

void fsync_path(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) fail_errno("cannot open", p);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) fail_errno("cannot sync", p);
}

void sync_directory_of(const fs::path& p) {
  fsync_path(p.has_parent_path() ? p.parent_path() : fs::path("."), O_RDONLY | O_DIRECTORY);
}

// The newest audit record of an open connection.
std::pair<std::int64_t, std::string> audit_head(Connection& db) {
  auto s = db.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  if (!s.step()) return {0, ""};
  return {s.integer(0), s.text(1)};
}

int user_version(Connection& db) {
  auto s = db.prepare("PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

void remove_if_present(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

fs::path with_suffix(const fs::path& p, const std::string& suffix) {
  return p.parent_path() / (p.filename().string() + suffix);
}

// A restore onto a server where docketd has never run (disaster recovery):
// the state directory is made as systemd's StateDirectory= would make it,
// 0700 and, when run as root, owned by the `docket` service user if there is
// one, so the file restored into it is the service's too.
void make_state_directory(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw StoreError("cannot create " + dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) fail_errno("cannot set the mode of", dir);
  if (::geteuid() != 0) return;
  if (const passwd* service = ::getpwnam("docket")) {
    if (::chown(dir.c_str(), service->pw_uid, service->pw_gid) != 0) fail_errno("cannot give to docket:", dir);
  }
}

}  // namespace

BackupSummary backup_database(const fs::path& from, const fs::path& to) {
  Reader source(from, Schema::any);  // read-only; refuses a file with no docket schema
  const fs::path staged = with_suffix(to, ".partial-" + std::to_string(::getpid()));
  remove_if_present(staged);
  {
    int fd = ::open(staged.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno("cannot create", staged);
    ::close(fd);
  }
  BackupSummary summary;
  try {
    {
      Connection copy(staged, Connection::Mode::read_write);
      sqlite3_backup* b = sqlite3_backup_init(copy.raw(), "main", source.db().raw(), "main");
      if (b == nullptr) throw StoreError("cannot start the backup: " + std::string(sqlite3_errmsg(copy.raw())));
      // All pages in one step: one read transaction, so one snapshot.
      int rc = sqlite3_backup_step(b, -1);
      for (int tries = 0; (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && tries < 100; ++tries) {
        sqlite3_sleep(50);
        rc = sqlite3_backup_step(b, -1);
      }
      const int finish = sqlite3_backup_finish(b);
      if (rc != SQLITE_DONE || finish != SQLITE_OK) {
        throw StoreError("the backup failed: " + std::string(sqlite3_errmsg(copy.raw())));
      }
      // One self-contained file: no write-ahead log beside it.
      copy.exec("PRAGMA journal_mode=DELETE");
      summary.schema_version = user_version(copy);
      std::tie(summary.audit_records, summary.head_hash) = audit_head(copy);
    }
    fsync_path(staged, O_RDONLY);
    if (::rename(staged.c_str(), to.c_str()) != 0) fail_errno("cannot rename the backup to", to);
    sync_directory_of(to);
  } catch (...) {
    remove_if_present(staged);
    throw;
  }
  summary.bytes = fs::file_size(to);
  return summary;
}

DatabaseCheck check_database(const fs::path& file, const AuditKey* key) {
  DatabaseCheck check;
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    check.problem = file.string() + " is not a regular file";
    return check;
  }
  try {
    // A newer schema is refused here; an older one docketd upgrades after the restore.
    Reader r(file, Schema::any);
    check.schema_version = r.schema_version();
    {
      auto s = r.db().prepare("PRAGMA integrity_check");
      std::string first;
      int problems = 0;
      while (s.step()) {
        if (problems++ == 0) first = s.text(0);
      }
      if (first != "ok") {
        check.problem = "SQLite's integrity check fails: " + first +
                        (problems > 1 ? " (and " + std::to_string(problems - 1) + " more)" : "");
        return check;
      }
    }
    ChainOptions options;
    options.key = key;
    auto chain = verify_chain(r, options);
    check.audit_records = chain.head_seq;
    check.head_hash = chain.head_hash;
    check.keyed_from = chain.keyed_from;
    check.unchecked = chain.unchecked;
    if (chain.broken) {
      check.problem = "its audit trail is broken at record " + std::to_string(chain.broken->seq) + ": " +
                      chain.broken->what;
    }
  } catch (const StoreError& e) {
    check.problem = std::string("it cannot be read as a docket database: ") + e.what();
  }
  return check;
}

std::optional<fs::path> replace_database(const fs::path& from, const fs::path& target) {
  struct stat old {};
  const bool had_target = ::stat(target.c_str(), &old) == 0;
  const fs::path parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
  if (!had_target && ::stat(parent.c_str(), &old) != 0) {
    if (errno != ENOENT) fail_errno("cannot read", parent);
    make_state_directory(parent);
    if (::stat(parent.c_str(), &old) != 0) fail_errno("cannot read", parent);
  }

  const fs::path staged = with_suffix(target, ".restoring");
  backup_database(from, staged);
  // The service account must own what it is to write; a restore run as root
  // would otherwise leave a file docketd cannot open.
  if (::geteuid() == 0 && ::chown(staged.c_str(), old.st_uid, old.st_gid) != 0) {
    remove_if_present(staged);
    fail_errno("cannot give the restored file its owner:", staged);
  }

  std::optional<fs::path> kept;
  if (had_target) {
    // Everything committed goes into the main file first, so that the file
    // kept and the file that stays in place until the rename are complete.
    bool checkpointed = false;
    try {
      Connection current(target, Connection::Mode::read_write);
      auto s = current.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
      checkpointed = s.step() && s.integer(0) == 0;
    } catch (const StoreError&) {
      checkpointed = false;  // unreadable: it is kept as it is, log and all
    }
    const auto now = date::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    kept = with_suffix(target, ".before-restore-" + date::format("%Y%m%dT%H%M%SZ", now));
    if (::link(target.c_str(), kept->c_str()) != 0) {
      remove_if_present(staged);
      fail_errno("cannot keep the current database as", *kept);
    }
    for (const char* side : {"-wal", "-shm"}) {
      const fs::path p = with_suffix(target, side);
      if (!fs::exists(p)) continue;
      if (checkpointed) {
        remove_if_present(p);
      } else if (::rename(p.c_str(), with_suffix(*kept, side).c_str()) != 0) {
        fail_errno("cannot move aside", p);
      }
    }
  }
  if (::rename(staged.c_str(), target.c_str()) != 0) fail_errno("cannot move the restored database to", target);
  sync_directory_of(target);
  return kept;
}

}  // namespace docket::store
