// The dispatcher on its own: a real store, the log channel, and the test
// standing in for the server (it commits what take() gives, when it likes).

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <cstdint>
#include <fstream>
#include <iterator>

#include "daemon/clock.h"
#include "daemon/delivery_settings.h"
#include "daemon/dispatcher.h"
#include "store/store.h"
#include "tests/notifiers/peers.h"
#include "tests/support/temp_config.h"

namespace docket::daemon {
namespace {

using namespace std::chrono_literals;

store::Batch escalations(int n, const std::string& person) {
  store::Batch backlog;
  for (int i = 0; i < n; ++i) {
    store::OutboxMessage m;
    m.key = "backlog-" + std::to_string(i);
    m.created_at = 1'780'000'000;
    m.kind = "escalation";
    m.ref = "RR-" + std::to_string(i);
    m.stage = "rapid-review";
    m.person = person;
    m.role = "business-manager";
    m.payload = R"({"due":"2026-06-05","stage_title":"Rapid review"})";
    backlog.outbox.push_back(m);
  }
  return backlog;
}

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
  store.commit(escalations(kBacklog, "a-morgan"));

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

// The shipped setup: mail for most, a webhook for one receiving system. The
// mail server is down (nothing listens: each attempt fails at once) with a
// backlog for mail alone. Each row is tried about once per read: the free
// slots of the idle webhook channel once sent every read through a thousand
// rows for the full mail channel, four at a time, after each failed attempt;
// the event loop did nothing else, and a stop waited seconds for it.
TEST(Dispatcher, AFullChannelWithABacklogIsNotReadOverAndOverForAnIdleOne) {
  testing::TempConfig cfg;
  const std::string port = std::to_string(notifiers::testing::unused_port());
  cfg.write("docketd.toml", [&] {
    std::ifstream in(cfg.dir() / "docketd.toml", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = text.find("port = 2525");
    EXPECT_NE(at, std::string::npos) << "the shipped mail channel";
    return at == std::string::npos ? text : text.replace(at, 11, "port = " + port);
  }());
  auto loaded = load_setup(cfg.dir());
  ASSERT_TRUE(loaded.setup.config) << "the configuration loads";
  store::Store store(cfg.dir() / "docket.db", "virtual");
  constexpr int kBacklog = 2000;
  store.commit(escalations(kBacklog, "a-morgan"));

  boost::asio::io_context io;
  VirtualClock clock(Instant{std::chrono::seconds{1'780'000'000}});
  Dispatcher dispatcher(io, store, clock, loaded.setup);
  int commit_requests = 0;
  dispatcher.on_results([&] { ++commit_requests; });
  dispatcher.start();
  // As the server does, commit what the attempts settled when asked; but
  // as a writer busy with other batches would, only after some requests.
  auto tried = [&] { return static_cast<int>(store.outbox_ready(INT64_MAX, INT64_MAX, kBacklog, {}).size()); };
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  int untried = kBacklog;
  int commits = 0;
  while (untried > 0 && std::chrono::steady_clock::now() < deadline) {
    io.run_for(5ms);
    if (commit_requests >= 50 || (commit_requests > 0 && dispatcher.in_flight() == 0)) {
      store::Batch b;
      dispatcher.take(b);
      store.commit(b);
      dispatcher.committed();
      commit_requests = 0;
      ++commits;
      untried = static_cast<int>(store.outbox_ready(1, INT64_MAX, kBacklog, {}).size());
    }
  }
  dispatcher.stop(1s);
  ASSERT_EQ(untried, 0) << "every message is tried once (and waits 30 s for its retry)";
  EXPECT_EQ(tried(), kBacklog) << "none is lost";
  // Each row about once by the reads that follow finished attempts; the
  // reads from the start (after a commit, or when a retry falls due) pass
  // the busy rows and a page of rows waiting for mail. (Was 29 a row.)
  EXPECT_LE(dispatcher.rows_read(), 5 * kBacklog)
      << "rows read to try " << kBacklog << " with " << commits << " commits";
}

}  // namespace
}  // namespace docket::daemon
