// The write-ahead log is copied back into the database file by a background
// thread, and between two writes only when the log reaches its limit.

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <thread>

#include "store/store.h"

namespace docket::store {
namespace {

class CheckpointerTest : public ::testing::Test {
 protected:
  CheckpointerTest() {
    dir_ = std::filesystem::temp_directory_path() / ("docket-ckpt-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~CheckpointerTest() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path db() const { return dir_ / "docket.db"; }

  // A batch of audit records big enough to take some pages of the log.
  static Batch records(int n, int from) {
    Batch b;
    for (int i = 0; i < n; ++i) {
      AuditEntry& e = b.audit.emplace_back();
      e.at = from + i;
      e.actor = "system";
      e.kind = "test.record";
      e.ref = "RR-" + std::to_string(from + i);
      e.details = "{\"pad\":\"" + std::string(400, 'x') + "\"}";
    }
    return b;
  }

  static std::int64_t count(const std::filesystem::path& path) {
    Connection c(path, Connection::Mode::read_only);
    auto s = c.prepare("SELECT count(*) FROM audit");
    s.step();
    return s.integer(0);
  }

  std::filesystem::path dir_;
};

TEST_F(CheckpointerTest, TheBackgroundThreadCopiesTheLogIntoTheDatabaseFile) {
  Store s(db(), "system", WalSettings{.checkpoint_frames = 10, .limit_frames = 1'000'000});
  const auto before = std::filesystem::file_size(db());
  for (int i = 0; i < 20; ++i) s.commit(records(50, i * 50));
  ASSERT_GT(s.checkpointer().requests(), 0);
  s.checkpointer().wait_idle();
  // Only a checkpoint writes the records' pages into the database file.
  EXPECT_GT(std::filesystem::file_size(db()), before);
  EXPECT_GT(s.checkpointer().runs(), 0);
  EXPECT_EQ(s.limit_checkpoints(), 0) << "the writer never had to checkpoint itself";
  EXPECT_EQ(count(db()), 1000);
}

TEST_F(CheckpointerTest, BelowTheThresholdNothingIsCopied) {
  Store s(db(), "system", WalSettings{.checkpoint_frames = 1'000'000, .limit_frames = 1'000'000});
  const auto before = std::filesystem::file_size(db());
  for (int i = 0; i < 5; ++i) s.commit(records(50, i * 50));
  EXPECT_EQ(s.checkpointer().requests(), 0) << "the background thread was never asked";
  s.checkpointer().wait_idle();
  EXPECT_EQ(s.checkpointer().runs(), 0);
  EXPECT_EQ(std::filesystem::file_size(db()), before);
  EXPECT_GT(s.wal_frames(), 0);
  EXPECT_EQ(count(db()), 250) << "committed records are read from the log";
}

TEST_F(CheckpointerTest, AtItsLimitTheWriterCheckpointsAndTheLogStartsAgain) {
  // No background runs at all: only the limit keeps the log short.
  Store s(db(), "system", WalSettings{.checkpoint_frames = 1'000'000, .limit_frames = 40});
  int longest = 0;
  for (int i = 0; i < 30; ++i) {
    s.commit(records(20, i * 20));
    longest = std::max(longest, s.wal_frames());
  }
  EXPECT_GT(s.limit_checkpoints(), 0);
  EXPECT_EQ(s.checkpointer().runs(), 0);
  // The log is reused from its start after a checkpoint, so it never holds
  // more than the limit and one more commit.
  EXPECT_LT(longest, 40 + 20);
  EXPECT_EQ(count(db()), 600);
}

// docketd writes on one thread while its loop reads on another, and the loop
// begins a new snapshot as soon as a write lands: a reader is always in the
// log. Restarting the log between two writes still keeps it short (without
// it the log grew by every write, to gigabytes in a clock jump).
TEST_F(CheckpointerTest, ALogAlwaysReadFromIsStillRestartedBetweenWrites) {
  Store s(db(), "system", WalSettings{.checkpoint_frames = 10, .limit_frames = 40});
  int longest = 0;
  for (int i = 0; i < 30; ++i) {
    Batch b = records(20, i * 20);
    std::thread writer([&] { s.write(b); });
    // Reads while the write is under way, from the snapshot before it.
    EXPECT_EQ(s.open_refs(10).size(), 0u);
    EXPECT_FALSE(s.review_with_deadlines("RR-1").has_value());
    writer.join();
    s.end_reads();
    if (s.log_full()) s.restart_log();
    EXPECT_FALSE(s.review_with_deadlines("RR-1").has_value());  // and a snapshot after it, held into the next write
    longest = std::max(longest, s.wal_frames());
  }
  EXPECT_GT(s.limit_checkpoints(), 0);
  // A restart waits for a background run only past twice the limit.
  EXPECT_LT(longest, 2 * 40 + 20);
  EXPECT_EQ(count(db()), 600);
}

TEST_F(CheckpointerTest, EveryCommitSurvivesReopeningWhileCheckpointsRun) {
  {
    Store s(db(), "system", WalSettings{.checkpoint_frames = 5, .limit_frames = 60});
    for (int i = 0; i < 40; ++i) s.commit(records(25, i * 25));
  }
  Store again(db(), "system");
  EXPECT_EQ(count(db()), 1000);
  // The chain continues where it stopped: the next record links to the last.
  again.commit(records(1, 1000));
  auto all = again.audit();
  ASSERT_EQ(all.size(), 1001u);
  for (std::size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(all[i].prev_hash, all[i - 1].hash);
    EXPECT_EQ(audit_hash(all[i]), all[i].hash);
  }
}

}  // namespace
}  // namespace docket::store
