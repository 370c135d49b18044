// The Committer writes batches on one thread and syncs the log on another.

#include "daemon/committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "store/sqlite.h"
#include "tests/support/process.h"

namespace docket::daemon {
namespace {

store::Batch batch_of(const std::string& key) {
  store::Batch b;
  store::OutboxMessage& m = b.outbox.emplace_back();
  m.key = key;
  m.kind = "reminder";
  m.person = "k-davies";
  m.payload = "{}";
  return b;
}

// Writes are numbered in the order they start; each is durable, and its
// messages ready, once a sync after it has finished. Syncs may cover several.
TEST(Committer, NumbersWritesAndSyncsEachAfterItReturns) {
  testing::TempDir dir;
  store::Store st(dir.path() / "c.db", "system", store::WalSettings{.sync_in_write = false});
  std::atomic<int> written{0}, synced{0};
  const store::Batch first = batch_of("a"), second = batch_of("b"), third = batch_of("c");  // outlive the writes
  {
    Committer c(st, [&] { ++written; }, [&] { ++synced; });
    EXPECT_FALSE(c.writing());
    EXPECT_EQ(c.start(first), 1u);
    c.wait_written();
    EXPECT_EQ(c.written(), 1u);
    EXPECT_FALSE(c.writing());
    // The next write starts whether or not the first is synced yet.
    EXPECT_EQ(c.start(second), 2u);
    c.wait_written();
    c.wait_synced();
    EXPECT_EQ(c.synced(), 2u);
    EXPECT_EQ(st.durable_outbox_id(), 2);
    EXPECT_FALSE(c.error());
    // Stopping syncs what was written last.
    EXPECT_EQ(c.start(third), 3u);
  }
  // The callbacks run after the counts move (and after the waits return), so
  // they are counted once both threads have stopped.
  EXPECT_EQ(written.load(), 3);
  EXPECT_GE(synced.load(), 1);
  EXPECT_LE(synced.load(), 3);
  EXPECT_EQ(st.durable_outbox_id(), 3) << "the committer stopped before syncing its last write";
  st.end_reads();
  EXPECT_EQ(st.outbox_ready(1'000, 50, 10).size(), 3u);
}

// A write that fails is reported, counted neither written nor synced, and
// nothing after it is synced: the caller must stop.
TEST(Committer, AFailedWriteIsReportedAndNeverCountedSynced) {
  testing::TempDir dir;
  store::Store st(dir.path() / "c.db", "system", store::WalSettings{.sync_in_write = false});
  {
    store::Connection raw(dir.path() / "c.db", store::Connection::Mode::read_write);
    raw.exec("CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'boom'); END");
  }
  const store::Batch refused = batch_of("a");
  Committer c(st, [] {}, [] {});
  c.start(refused);
  c.wait_written();
  c.wait_synced();  // returns on the failure
  ASSERT_TRUE(c.error());
  EXPECT_NE(c.error()->find("boom"), std::string::npos) << *c.error();
  EXPECT_EQ(c.written(), 0u);
  EXPECT_EQ(c.synced(), 0u);
  EXPECT_EQ(st.durable_outbox_id(), 0);
}

}  // namespace
}  // namespace docket::daemon
