// The Committer writes batches on one thread and syncs the log on another.

#include "daemon/committer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

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

// docketd posts both notices to its one loop, and answers a batch's commands
// when it learns the batch is synced: a notice of the sync that came before
// the notice of the write left the replies waiting for some later sync (a
// client waiting for its reply before sending more waited for ever). The
// writer here is slow to tell, as a preempted thread is: it tells only once
// the syncer has either told a sync (the fault) or seen the write and gone
// back to wait for its notice.
TEST(Committer, AWritesSyncIsToldOnlyAfterItsWrite) {
  testing::TempDir dir;
  store::Store st(dir.path() / "c.db", "system", store::WalSettings{.sync_in_write = false});
  std::mutex mu;
  std::condition_variable cv;
  int writes_told = 0, syncs_told = 0;
  std::vector<int> writes_told_at_sync;
  const store::Batch first = batch_of("a"), second = batch_of("b");
  Committer* committer = nullptr;
  {
    Committer c(
        st,
        [&] {
          std::unique_lock l(mu);
          const std::uint64_t write = static_cast<std::uint64_t>(writes_told) + 1;
          // Polled (the syncer's wait is on the committer's own lock), and
          // bounded should neither ever happen.
          const auto until = std::chrono::steady_clock::now() + testing::kPatience;
          while (syncs_told <= writes_told && committer->sync_waited_at() < write &&
                 std::chrono::steady_clock::now() < until) {
            cv.wait_for(l, std::chrono::milliseconds(1));
          }
          ++writes_told;
          cv.notify_all();
        },
        [&] {
          std::lock_guard l(mu);
          ++syncs_told;
          writes_told_at_sync.push_back(writes_told);
          cv.notify_all();
        });
    committer = &c;
    c.start(first);
    c.wait_written();
    c.wait_synced();
    {
      std::unique_lock l(mu);
      cv.wait(l, [&] { return writes_told == 1; });
    }
    c.start(second);
  }
  ASSERT_EQ(writes_told, 2);
  ASSERT_FALSE(writes_told_at_sync.empty());
  EXPECT_GE(writes_told_at_sync.front(), 1) << "the first sync was told before its write";
  EXPECT_GE(writes_told_at_sync.back(), 2) << "the last sync was told before its write";
  EXPECT_EQ(st.durable_outbox_id(), 2);
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
