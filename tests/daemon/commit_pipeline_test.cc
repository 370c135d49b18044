// The commit pipeline on its own: a real store and engine, no socket. The
// test stands in for the transport (an Asker that writes down its replies)
// and for delivery (a pump that writes down what it is told), and holds the
// store's syncs on a latch, so that "not before its sync" is seen for as
// long as the test likes rather than hoped for.

#include "daemon/commit_pipeline.h"

#include <gtest/gtest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/systemd.h"
#include "store/sqlite.h"
#include "tests/support/daemon.h"
#include "tests/support/process.h"
#include "tests/support/rehearsal.h"

namespace {

// A latch on this process's fdatasync, which Store::sync_log() calls for
// every sync the Committer makes. While it is closed each sync waits at it;
// open, it is the system call.
struct SyncLatch {
  std::mutex mu;
  std::condition_variable cv;
  bool closed = false;
  int waiting = 0;  // syncs at the latch
  int done = 0;     // syncs finished
};

SyncLatch& latch() {
  static SyncLatch l;
  return l;
}

}  // namespace

extern "C" int fdatasync(int fd) {
  SyncLatch& l = latch();
  {
    std::unique_lock lock(l.mu);
    ++l.waiting;
    l.cv.notify_all();
    l.cv.wait(lock, [&] { return !l.closed; });
    --l.waiting;
  }
  const int rc = static_cast<int>(::syscall(SYS_fdatasync, fd));
  std::lock_guard lock(l.mu);
  ++l.done;
  return rc;
}

namespace docket::daemon {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::london;
using testing::Rehearsal;

// Closes the latch for the test's scope (opening it again however the test ends).
class HeldSyncs {
 public:
  HeldSyncs() { set(true); }
  ~HeldSyncs() { open(); }
  HeldSyncs(const HeldSyncs&) = delete;
  HeldSyncs& operator=(const HeldSyncs&) = delete;
  void open() { set(false); }
  static bool one_waiting() {
    std::lock_guard lock(latch().mu);
    return latch().waiting > 0;
  }

 private:
  static void set(bool closed) {
    std::lock_guard lock(latch().mu);
    latch().closed = closed;
    latch().cv.notify_all();
  }
};

int syncs_done() {
  std::lock_guard lock(latch().mu);
  return latch().done;
}

// What the stand-ins saw, in the order they saw it.
using Events = std::vector<std::string>;

// A client of the pipeline: the manager, writing down each reply as
// "reply ID ok|refused" with the syncs finished when it came.
class Client : public Asker {
 public:
  explicit Client(Events& events) : events_(events) {}
  const Caller& caller() const override { return Rehearsal::kManager; }
  void answer(std::string line) override {
    const json reply = json::parse(line);
    events_.push_back("reply " + reply["id"].get<std::string>() + (reply["ok"].get<bool>() ? " ok" : " refused"));
    syncs_at_reply.push_back(syncs_done());
  }
  std::vector<int> syncs_at_reply;

 private:
  Events& events_;
};

class Pump : public DeliveryPump {
 public:
  explicit Pump(Events& events) : events_(events) {}
  void take(store::Batch&) override {}
  void launched() override { events_.push_back("launched"); }
  void committed() override { events_.push_back("committed"); }

 private:
  Events& events_;
};

// The pipeline on a scratch database, with the shipped configuration on a
// rehearsal clock (so no timer of its own is armed), as docketd starts it.
struct Rig {
  explicit Rig(const std::filesystem::path& db)
      : clock(london("2026-03-02T09:00")),
        store(db, "virtual", store::WalSettings{.sync_in_write = false}),
        engine(testing::shipped_config_loaded(), clock, &store) {
    store::Batch boot;
    boot.definitions = Engine::definitions_of(engine.config(), clock.now().time_since_epoch().count());
    store.commit(boot);
    engine.committed();
    pipeline = std::make_unique<CommitPipeline>(io, engine, store, Services{engine, clock, &clock, {}, {}, {}});
  }

  void submit(std::shared_ptr<Client> from, const std::string& id, const std::string& command, json args) {
    pipeline->submit(std::move(from), Request{id, command, std::move(args)});
  }

  // Runs the loop until `done` holds; false after a minute without.
  template <class Done>
  bool run_until(Done done) {
    const auto until = std::chrono::steady_clock::now() + 60s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      io.run_one_for(5ms);
    }
    return true;
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy{io.get_executor()};
  VirtualClock clock;
  store::Store store;
  Engine engine;
  std::unique_ptr<CommitPipeline> pipeline;
};

// The order the reviews' review.started records were committed in.
std::vector<std::string> started_in_order(store::Store& st) {
  std::vector<std::string> refs;
  st.end_reads();
  for (const auto& r : st.audit()) {
    if (r.kind == "review.started") refs.push_back(r.ref);
  }
  return refs;
}

// A started pipeline, with delivery and one client standing by.
class CommitPipelineTest : public ::testing::Test {
 protected:
  CommitPipelineTest() {
    rig.pipeline->attach(pump);
    rig.pipeline->start();
  }

  testing::TempDir dir;
  Rig rig{dir.path() / "p.db"};
  Events events;
  Pump pump{events};
  std::shared_ptr<Client> client = std::make_shared<Client>(events);
};

// Commands that arrive together share one batch and one sync, and are
// answered in the order they came.
TEST_F(CommitPipelineTest, CommandsThatArriveTogetherShareOneBatch) {
  rig.submit(client, "a", "start", testing::rapid_review_start("RR-1"));
  rig.submit(client, "b", "start", testing::rapid_review_start("RR-2"));
  rig.submit(client, "c", "status", {{"ref", "RR-1"}});
  ASSERT_TRUE(rig.run_until([&] { return client->syncs_at_reply.size() >= 3; }));
  EXPECT_EQ(events, (Events{"launched", "committed", "reply a ok", "reply b ok", "reply c ok"}));
  EXPECT_EQ(started_in_order(rig.store), (std::vector<std::string>{"RR-1", "RR-2"}));
  EXPECT_TRUE(rig.run_until([&] { return rig.pipeline->idle(); }));
}

// While one batch is synced the next is written; each reply still waits for
// its own batch's sync, and delivery hears of each batch on disk, in order,
// before its replies go.
TEST_F(CommitPipelineTest, BatchesCommitInOrderAndEachReplyWaitsForItsSync) {
  HeldSyncs held;
  const int before = syncs_done();
  rig.submit(client, "a", "start", testing::rapid_review_start("RR-1"));
  ASSERT_TRUE(rig.run_until(HeldSyncs::one_waiting)) << "the first batch was never synced";
  rig.submit(client, "b", "start", testing::rapid_review_start("RR-2"));
  ASSERT_TRUE(rig.run_until([&] { return events.size() >= 2; }));
  EXPECT_EQ(events, (Events{"launched", "launched"})) << "answered before its sync";
  held.open();
  ASSERT_TRUE(rig.run_until([&] { return client->syncs_at_reply.size() >= 2; }));
  EXPECT_EQ(events, (Events{"launched", "launched", "committed", "reply a ok", "committed", "reply b ok"}));
  EXPECT_GE(client->syncs_at_reply[0], before + 1);
  EXPECT_GE(client->syncs_at_reply[1], before + 2) << "the second batch was answered on the first's sync";
  EXPECT_EQ(started_in_order(rig.store), (std::vector<std::string>{"RR-1", "RR-2"}));
}

// A read changes nothing, but what it shows may come from a batch not yet
// on disk: it is answered after that batch's sync, in its turn. A refused
// write is on the audit trail, committed like any other.
TEST_F(CommitPipelineTest, ReadsAndRefusalsWaitForWhatCameBefore) {
  HeldSyncs held;
  rig.submit(client, "a", "start", testing::rapid_review_start("RR-1"));
  ASSERT_TRUE(rig.run_until(HeldSyncs::one_waiting));
  rig.submit(client, "b", "status", {{"ref", "RR-1"}});
  ASSERT_TRUE(rig.run_until([&] { return events.size() >= 2; }));
  rig.submit(client, "c", "start", testing::rapid_review_start("RR-1"));  // started already
  ASSERT_TRUE(rig.run_until([&] { return events.size() >= 3; }));
  EXPECT_EQ(events, (Events{"launched", "launched", "launched"})) << "answered before its sync";
  held.open();
  ASSERT_TRUE(rig.run_until([&] { return client->syncs_at_reply.size() >= 3; }));
  EXPECT_EQ(events, (Events{"launched", "launched", "launched", "committed", "reply a ok", "committed", "reply b ok",
                            "committed", "reply c refused"}));
  rig.store.end_reads();
  const auto trail = rig.store.audit("RR-1");
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back().kind, "command.refused");
  EXPECT_EQ(trail.back().actor, Rehearsal::kManager.person);
}

// A batch that cannot be written leaves memory ahead of the database: the
// process stops with 70, before answering, and a restart recovers from what
// was committed.
TEST(CommitPipelineDeathTest, AFailedCommitStopsTheProcess) {
  testing::TempDir dir;
  const auto db = dir.path() / "p.db";
  EXPECT_EXIT(
      {
        install_logging();  // stderr, as docketd's
        Rig rig(db);
        {
          store::Connection raw(db, store::Connection::Mode::read_write);
          raw.exec("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'boom'); END");
        }
        rig.pipeline->start();
        Events events;
        auto client = std::make_shared<Client>(events);
        rig.submit(client, "a", "start", testing::rapid_review_start("RR-1"));
        rig.run_until([&] { return !events.empty(); });
        std::_Exit(events.empty() ? 3 : 4);  // not stopped: 3, or answered: 4
      },
      ::testing::ExitedWithCode(70), "store.commit_failed error=\"[^\"]*boom");
}

}  // namespace
}  // namespace docket::daemon
