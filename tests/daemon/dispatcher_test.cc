// The dispatcher on its own: a real store, the log channel, and the test
// standing in for the server (it commits what take() gives, when it likes).

#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>

#include "daemon/clock.h"
#include "daemon/delivery_settings.h"
#include "daemon/dispatcher.h"
#include "store/store.h"
#include "tests/notifiers/peers.h"
#include "tests/support/temp_config.h"

namespace docket::daemon {
namespace {

using namespace std::chrono_literals;

// Runs the dispatcher as the server would, committing what it settled when
// asked; but as a writer busy with other batches would, only once `every`
// requests have gathered, or when 50 ms bring no new one (long enough that a
// loaded machine's pauses do not commit early: the commits, and the reads
// from the start after each, stay about the same however slowly the test
// runs). Stops when `done`
// holds after a commit, or after a bounded time. Returns the commits.
int run_committing(boost::asio::io_context& io, Dispatcher& dispatcher, store::Store& store, int every,
                   const std::function<bool()>& done) {
  int requests = 0;
  dispatcher.on_results([&] { ++requests; });
  dispatcher.start();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  int commits = 0;
  int quiet = 0;  // 5 ms turns in a row that brought no new request
  while (std::chrono::steady_clock::now() < deadline) {
    const int before = requests;
    io.run_for(5ms);
    quiet = requests == before ? quiet + 1 : 0;
    if (requests >= every || (requests > 0 && quiet >= 10)) {
      store::Batch b;
      dispatcher.take(b);
      dispatcher.launched();
      store.commit(b);
      dispatcher.committed();
      requests = 0;
      ++commits;
      if (done()) break;
    }
  }
  dispatcher.stop(1s);
  return commits;
}

// The `i`th message of a test's backlog.
store::OutboxMessage message(int i, const char* kind = "escalation", const char* person = "a-morgan") {
  store::OutboxMessage m;
  m.key = "backlog-" + std::to_string(i);
  m.created_at = 1'780'000'000;
  m.kind = kind;
  m.ref = "RR-" + std::to_string(i);
  m.stage = "rapid-review";
  m.person = person;
  m.role = "business-manager";
  m.payload = R"({"due":"2026-06-05","stage_title":"Rapid review"})";
  return m;
}

// A dispatcher at a fixed time on a scratch store that holds a
// backlog of `n` escalations for a-morgan (who has no channel of her own).
struct Backlog {
  Backlog(const testing::TempConfig& cfg, int n)
      : loaded(load_setup(cfg.dir())),
        store(cfg.dir() / "docket.db", "virtual"),
        clock(Instant{std::chrono::seconds{1'780'000'000}}) {
    store::Batch backlog;
    for (int i = 0; i < n; ++i) backlog.outbox.push_back(message(i));
    store.commit(backlog);
    // The wall clock (which times retries) stands still too: a retry never
    // falls due meanwhile, however slowly a loaded machine runs the test.
    const auto wall = std::chrono::system_clock::time_point{std::chrono::seconds{1'780'000'000}};
    if (loaded.setup.config) dispatcher.emplace(io, store, clock, loaded.setup, [wall] { return wall; });
  }
  int delivered() { return static_cast<int>(store.outbox("delivered").size()); }

  SetupResult loaded;
  store::Store store;
  boost::asio::io_context io;
  VirtualClock clock;
  std::optional<Dispatcher> dispatcher;  // once the configuration loads
};

// A backlog, as after a long stop, goes out with each ready row read about
// once. Attempts finish faster than the writer commits (the log channel
// delivers at once), so hundreds of rows are busy between two commits; the
// dispatcher used to read all of them again after every finished attempt,
// which made a million-message backlog quadratic.
TEST(Dispatcher, ABacklogIsReadAboutOnceARowHoweverManyAreBusyBetweenCommits) {
  testing::TempConfig cfg;
  cfg.log_delivery();
  constexpr int kBacklog = 3000;
  Backlog b(cfg, kBacklog);
  ASSERT_TRUE(b.dispatcher) << "the shipped configuration loads";
  // Commit only every 200 requests for one, as a writer busy with a clock
  // jump would; stop once everything is delivered.
  const int commits = run_committing(b.io, *b.dispatcher, b.store, 200, [&] { return b.delivered() == kBacklog; });
  ASSERT_EQ(b.delivered(), kBacklog) << "after " << commits << " commits";
  EXPECT_LE(b.dispatcher->rows_read(), 3 * kBacklog) << "rows read to deliver " << kBacklog;
}

// The shipped setup: mail for most, a webhook for one receiving system. The
// mail server is down (nothing listens: each attempt fails at once) with a
// backlog for mail alone. Each row is tried about once per read: the free
// slots of the idle webhook channel once sent every read through a thousand
// rows for the full mail channel, four at a time, after each failed attempt;
// the event loop did nothing else, and a stop waited seconds for it.
TEST(Dispatcher, AFullChannelWithABacklogIsNotReadOverAndOverForAnIdleOne) {
  testing::TempConfig cfg;
  notifiers::testing::ClosedPort down;  // the mail server: nothing listens
  const std::string port = std::to_string(down.port());
  cfg.write("docketd.toml", [&] {
    std::ifstream in(cfg.dir() / "docketd.toml", std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto at = text.find("port = 2525");
    EXPECT_NE(at, std::string::npos) << "the shipped mail channel";
    return at == std::string::npos ? text : text.replace(at, 11, "port = " + port);
  }());
  constexpr int kBacklog = 2000;
  Backlog b(cfg, kBacklog);
  ASSERT_TRUE(b.dispatcher) << "the configuration loads";
  auto untried = [&] { return static_cast<int>(b.store.outbox_ready(1, INT64_MAX, kBacklog, {}).size()); };
  auto tried = [&] { return static_cast<int>(b.store.outbox_ready(INT64_MAX, INT64_MAX, kBacklog, {}).size()); };
  const int commits = run_committing(b.io, *b.dispatcher, b.store, 50, [&] { return untried() == 0; });
  ASSERT_EQ(untried(), 0) << "every message is tried once (and waits 30 s for its retry)";
  EXPECT_EQ(tried(), kBacklog) << "none is lost";
  // Each row about once by the reads that follow finished attempts; the
  // reads from the start (after a commit) pass the busy rows and a page of
  // rows waiting for mail. How many rows are busy at each read depends on
  // how the attempts' threads ran: about 2 reads a row on an idle machine,
  // up to 5 with eight such tests on two cores. (Was 29 a row.)
  EXPECT_LE(b.dispatcher->rows_read(), 8 * kBacklog)
      << "rows read to try " << kBacklog << " with " << commits << " commits";
}

// D5: with the mail server wedged and thousands of messages for it never
// tried, a message for the webhook (the national Panel's receiving system)
// waited behind all of them. Each channel has a queue of its own.
TEST(Dispatcher, AMailBacklogDoesNotHoldUpTheWebhook) {
  testing::TempConfig cfg;
  notifiers::testing::SilentListener down;  // every mail attempt hangs: the mail channel stays full
  notifiers::testing::PythonPeer receiver("http_server.py", {});
  std::string text = testing::slurp(cfg.dir() / "docketd.toml");
  text.replace(text.find("port = 2525"), 11, "port = " + std::to_string(down.port()));
  const std::string hook = "url = \"http://127.0.0.1:8085/hook\"";
  text.replace(text.find(hook), hook.size(), "url = \"http://127.0.0.1:" + std::to_string(receiver.port()) + "/\"");
  cfg.write("docketd.toml", text);
  std::string people = testing::slurp(cfg.dir() / "directory.toml");
  people.replace(people.find("[people.k-davies]\n"), 18, "[people.k-davies]\nprefers = \"hook\"\n");
  cfg.write("directory.toml", people);

  constexpr int kBacklog = 2000;
  Backlog b(cfg, 0);
  ASSERT_TRUE(b.dispatcher) << "the configuration loads";
  store::Batch backlog;
  // Escalations, not held for working hours as reminders are; the last for
  // the webhook.
  for (int i = 0; i <= kBacklog; ++i) {
    backlog.outbox.push_back(message(i, "escalation", i < kBacklog ? "a-morgan" : "k-davies"));
  }
  b.dispatcher->route(backlog);  // as the server does with each batch
  b.store.commit(backlog);
  auto untried_mail = [&] {
    int n = 0;
    for (const auto& m : b.store.outbox("pending")) n += m.route == "mail" && m.attempts == 0;
    return n;
  };
  int untried_when_delivered = -1;
  run_committing(b.io, *b.dispatcher, b.store, 50, [&] {
    if (receiver.count() == 0) return false;
    untried_when_delivered = untried_mail();
    return true;
  });
  ASSERT_EQ(receiver.count(), 1u) << "the webhook's message was not delivered";
  EXPECT_GE(untried_when_delivered, kBacklog - 4) << "it waited for the mail backlog";
}

// Escalations go before reminders in a channel's queue.
TEST(Dispatcher, AnEscalationGoesBeforeTheRemindersAheadOfIt) {
  testing::TempConfig cfg;
  cfg.log_delivery();
  cfg.append("docketd.toml", "in_flight = 1\n");  // one attempt at a time, in queue order
  Backlog b(cfg, 0);
  ASSERT_TRUE(b.dispatcher);
  store::Batch batch;
  for (int i = 0; i < 300; ++i) batch.outbox.push_back(message(i, i < 299 ? "reminder" : "escalation"));
  b.dispatcher->route(batch);
  b.store.commit(batch);
  run_committing(b.io, *b.dispatcher, b.store, 1, [&] { return b.delivered() > 0; });
  auto delivered = b.store.outbox("delivered");
  ASSERT_FALSE(delivered.empty());
  // One at a time: the escalation, last in, went first, or would be last.
  bool escalation = false;
  for (const auto& m : delivered) escalation |= m.kind == "escalation";
  EXPECT_TRUE(escalation) << delivered.size() << " delivered before it";
  EXPECT_LT(delivered.size(), 300u);
}

}  // namespace
}  // namespace docket::daemon
