// The dispatcher on its own: a real store, the log channel, and the test
// standing in for the server (it commits what take() gives, when it likes).

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "daemon/clock.h"
#include "daemon/delivery_settings.h"
#include "daemon/dispatcher.h"
#include "store/store.h"
#include "tests/support/temp_config.h"

namespace docket::daemon {
namespace {

using namespace std::chrono_literals;

// A backlog, as after a long stop, goes out with each ready row read about
// once. Attempts finish faster than the writer commits (the log channel
// delivers at once), so hundreds of rows are busy between two commits; the
// dispatcher used to read all of them again after every finished attempt,
// which made a million-message backlog quadratic.
TEST(Dispatcher, ABacklogIsReadAboutOnceARowHoweverManyAreBusyBetweenCommits) {
  testing::TempConfig cfg;
  cfg.log_delivery();
  auto loaded = load_setup(cfg.dir());
  ASSERT_TRUE(loaded.setup.config) << "the shipped configuration loads";
  store::Store store(cfg.dir() / "docket.db", "virtual");
  constexpr int kBacklog = 3000;
  store::Batch backlog;
  for (int i = 0; i < kBacklog; ++i) {
    store::OutboxMessage m;
    m.key = "backlog-" + std::to_string(i);
    m.created_at = 1'780'000'000;
    m.kind = "reminder";
    m.ref = "RR-" + std::to_string(i);
    m.stage = "rapid-review";
    m.person = "a-morgan";
    m.role = "business-manager";
    m.payload = R"({"due":"2026-06-05","stage_title":"Rapid review"})";
    backlog.outbox.push_back(m);
  }
  store.commit(backlog);

  boost::asio::io_context io;
  VirtualClock clock(Instant{std::chrono::seconds{1'780'000'000}});
  Dispatcher dispatcher(io, store, clock, loaded.setup);
  int commit_requests = 0;
  dispatcher.on_results([&] { ++commit_requests; });
  dispatcher.start();
  // Commit only every 200 requests for one, as a writer busy with a clock
  // jump would; stop once everything is delivered, or after a bounded time.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  auto delivered = [&] { return static_cast<int>(store.outbox("delivered").size()); };
  int commits = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    io.run_for(5ms);
    if (commit_requests >= 200 || (commit_requests > 0 && dispatcher.in_flight() > 0)) {
      store::Batch b;
      dispatcher.take(b);
      store.commit(b);
      dispatcher.committed();
      commit_requests = 0;
      ++commits;
      if (delivered() == kBacklog) break;
    }
  }
  dispatcher.stop(1s);
  ASSERT_EQ(delivered(), kBacklog) << "after " << commits << " commits";
  EXPECT_LE(dispatcher.rows_read(), 3 * kBacklog) << "rows read to deliver " << kBacklog;
}

}  // namespace
}  // namespace docket::daemon
