// The gathering VFS (store/wal_vfs.h): a commit's log frames go to the file
// in a few writes, and every commit is wholly in the file when it returns,
// whatever the size of the transaction and whether one before it rolled back.

#include "store/wal_vfs.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "store/sqlite.h"
#include "tests/support/process.h"

namespace docket::store {
namespace {

std::int64_t count(Connection& c, const std::string& sql) {
  auto s = c.prepare(sql);
  s.step();
  return s.integer(0);
}

// The database and its log as a crash would leave them: copied while the
// writer still holds them open, so nothing is checkpointed or closed.
std::filesystem::path crash_copy(const std::filesystem::path& db, const std::filesystem::path& dir) {
  const auto copy = dir / "crashed.db";
  std::filesystem::copy_file(db, copy);
  std::filesystem::copy_file(db.string() + "-wal", copy.string() + "-wal");
  return copy;
}

class WalVfs : public ::testing::Test {
 protected:
  WalVfs() : db_(dir_.path() / "w.db"), writer_(db_, Connection::Mode::read_write) {
    writer_.exec("PRAGMA journal_mode=WAL");
    writer_.exec("PRAGMA synchronous=NORMAL");
    writer_.exec("PRAGMA wal_autocheckpoint=0");  // the log keeps every commit
    writer_.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  }

  // Inserts `rows` rows of about 300 bytes in one transaction.
  void insert(int rows, bool commit = true) {
    writer_.exec("BEGIN");
    auto s = writer_.prepare("INSERT INTO t (body) VALUES (?1)");
    for (int i = 0; i < rows; ++i) {
      s.bind(1, std::string(300, static_cast<char>('a' + i % 26)));
      s.run();
    }
    writer_.exec(commit ? "COMMIT" : "ROLLBACK");
  }

  testing::TempDir dir_;
  std::filesystem::path db_;
  Connection writer_;
};

// It reads SQLite's internals, so it is used only with a SQLite it was
// tested with; this suite runs on one (Debian 12's).
TEST(WalVfsGate, OnlyTheSqliteVersionsItWasTestedWithUseIt) {
  EXPECT_TRUE(gathering_vfs_tested_with(3040001));
  EXPECT_FALSE(gathering_vfs_tested_with(3040000));
  EXPECT_FALSE(gathering_vfs_tested_with(3045000));
  ASSERT_TRUE(gathering_vfs_tested_with(sqlite3_libversion_number()))
      << "SQLite " << sqlite3_libversion() << ": run the store and power-cut tests, then add it to kTested";
  EXPECT_NE(gathering_vfs(), nullptr);
  EXPECT_FALSE(gathering_vfs_unavailable());
}

TEST_F(WalVfs, ACommitsFramesGoInAFewWritesAndAreInTheFileWhenItReturns) {
  ASSERT_NE(gathering_vfs(), nullptr);
  const WalWriteCounts before = wal_write_counts();
  insert(2000);  // about 150 pages: 300 frame writes asked for
  const WalWriteCounts after = wal_write_counts();
  EXPECT_GE(after.asked - before.asked, 300);
  EXPECT_LE(after.written - before.written, 10) << "asked " << after.asked - before.asked;
  // Another connection (the system's VFS) reads the commit at once...
  Connection reader(db_, Connection::Mode::read_only);
  EXPECT_EQ(count(reader, "SELECT count(*) FROM t"), 2000);
  // ...and the log alone, as a crash leaves it, holds it.
  Connection recovered(crash_copy(db_, dir_.path()), Connection::Mode::read_write);
  EXPECT_EQ(count(recovered, "SELECT count(*) FROM t"), 2000);
}

// A transaction larger than the buffer and the page cache spills frames
// before its commit and overwrites some of them in place (SQLite then
// rewrites their checksums); one rolled back leaves frames that the next
// commit writes over. Each commit is whole after a crash, and the database
// sound.
TEST_F(WalVfs, LargeSpilledAndRolledBackTransactionsRecoverWhole) {
  writer_.exec("PRAGMA cache_size=50");
  insert(30000);  // some 9 MB: more than the buffer holds
  insert(5000, false);
  insert(3000);
  writer_.exec("BEGIN");
  writer_.exec("UPDATE t SET body = body || 'x' WHERE id % 7 = 0");
  writer_.exec("UPDATE t SET body = body || 'y' WHERE id % 5 = 0");
  writer_.exec("COMMIT");
  Connection recovered(crash_copy(db_, dir_.path()), Connection::Mode::read_write);
  EXPECT_EQ(count(recovered, "SELECT count(*) FROM t"), 33000);
  EXPECT_EQ(count(recovered, "SELECT count(*) FROM t WHERE length(body) = 302"), 33000 / 35);
  auto check = recovered.prepare("PRAGMA integrity_check");
  ASSERT_TRUE(check.step());
  EXPECT_EQ(check.text(0), "ok");
}

}  // namespace
}  // namespace docket::store
