// docketd as an operator runs it: the service manager's notifications, a
// graceful stop, file permissions, and a control socket that a silent
// client or a flood of connections cannot block.

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/stat.h>

#include <set>

#include "store/store.h"
#include "tests/support/daemon.h"
#include "tests/support/sync_gate.h"

namespace docket::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// The service manager's end of $NOTIFY_SOCKET: a datagram socket.
class NotifyListener {
 public:
  explicit NotifyListener(fs::path path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.string().size() + 1);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {  // NOLINT
      throw std::runtime_error("cannot bind " + path_.string() + ": " + std::strerror(errno));
    }
  }
  ~NotifyListener() { ::close(fd_); }
  NotifyListener(const NotifyListener&) = delete;
  NotifyListener& operator=(const NotifyListener&) = delete;

  // The next datagram, or nullopt after `limit`.
  std::optional<std::string> next(std::chrono::milliseconds limit = kPatience) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) <= 0) return std::nullopt;
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }

  // Datagrams up to and including the first that contains `what`; the last
  // one is empty when it never came.
  std::vector<std::string> until(const std::string& what, std::chrono::milliseconds limit = kPatience) {
    std::vector<std::string> got;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      auto m = next(left);
      if (!m) break;
      got.push_back(*m);
      if (contains(*m, what)) return got;
    }
    got.emplace_back();
    return got;
  }

 private:
  fs::path path_;
  int fd_ = -1;
};

TEST(Operations, TellsSystemdReadyOnlyWhenTheSocketAnswersThenPingsAndSaysStopping) {
  Sandbox box;
  NotifyListener systemd(box.dir() / "notify");
  std::unique_ptr<Daemon> d;
  {
    ScopedEnv env({{"NOTIFY_SOCKET", (box.dir() / "notify").string()}, {"WATCHDOG_USEC", "200000"}});
    ::unsetenv("WATCHDOG_PID");
    d = box.daemon("2026-03-02T08:00");
  }
  auto ready = systemd.until("READY=1");
  ASSERT_FALSE(ready.back().empty()) << "no READY=1; log:\n" << d->log();
  // READY=1 means the socket already answers: no retry loop here.
  {
    LineClient c(box.socket());
    ASSERT_TRUE(c.connected()) << "READY=1 came before the socket accepted: " << c.error();
    json reply = call(c, "status");
    ASSERT_FALSE(reply.is_null()) << c.error();
    EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
  }
  EXPECT_TRUE(contains(ready.back(), "STATUS=0 open reviews")) << ready.back();
  for (const auto& m : ready) EXPECT_FALSE(contains(m, "WATCHDOG=1")) << "a watchdog ping before READY=1";

  // The watchdog is fed from the event loop, at half the interval asked for.
  auto first = systemd.until("WATCHDOG=1");
  ASSERT_FALSE(first.back().empty()) << d->log();
  auto second = systemd.until("WATCHDOG=1");
  ASSERT_FALSE(second.back().empty()) << d->log();

  d->signal(SIGTERM);
  auto stopping = systemd.until("STOPPING=1");
  EXPECT_FALSE(stopping.back().empty()) << "no STOPPING=1 on SIGTERM; log:\n" << d->log();
  EXPECT_TRUE(exited_zero(d->wait_exit(), d->log()));
}

TEST(Operations, WithoutSystemdLogsGoToStderrAndNothingIsSent) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  EXPECT_TRUE(contains(d->log(), "info daemon.ready socket=")) << d->log();
  EXPECT_TRUE(contains(d->log(), "daemon.stopped signal=15")) << d->log();
  EXPECT_FALSE(contains(d->log(), "daemon.watchdog")) << d->log();
}

// Under systemd stderr is the journal ($JOURNAL_STREAM names its device and
// inode): the log then goes to journald as structured entries, not as text.
TEST(Operations, UnderSystemdLogsGoToTheJournalNotToStderr) {
  Sandbox box;
  const fs::path log = box.dir() / "docketd-1.log";  // the first daemon's stderr
  std::ofstream(log).flush();
  struct stat st {};
  ASSERT_EQ(::stat(log.c_str(), &st), 0);
  std::unique_ptr<Daemon> d;
  {
    ScopedEnv env({{"JOURNAL_STREAM", std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)}});
    d = box.daemon("2026-03-02T08:00");
  }
  ASSERT_TRUE(d->wait_ready());
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  EXPECT_FALSE(contains(d->log(), "daemon.ready")) << d->log();
  EXPECT_FALSE(contains(d->log(), "daemon.stopped")) << d->log();
}

// SIGTERM while a client has commands in flight: every command answered "ok"
// is in the database, the others were told docketd is stopping (or never
// read), the stop is audited last, and the database is closed cleanly (its
// write-ahead log checkpointed and removed), exit 0.
TEST(Operations, SigtermFinishesCommandsInFlightAndClosesTheDatabaseCleanly) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  LineClient c(box.socket());
  ASSERT_TRUE(c.connected());
  constexpr int kRequests = 400;
  std::string burst;
  for (int i = 0; i < kRequests; ++i) {
    burst += json{{"id", i},
                  {"command", "start"},
                  {"args", {{"workflow", "rapid-review"}, {"ref", "RR-T-" + std::to_string(i)}, {"on", "2026-03-02"}}}}
                 .dump() +
             "\n";
  }
  ASSERT_TRUE(c.send_all(burst));
  auto first = c.read_line();
  ASSERT_TRUE(first) << c.error() << "\n" << d->log();
  d->signal(SIGTERM);

  std::set<std::string> acknowledged;
  int stopping = 0, replies = 1;
  auto take = [&](const std::string& line) {
    json j = json::parse(line);
    if (j.value("ok", false)) {
      acknowledged.insert("RR-T-" + std::to_string(j["id"].get<int>()));
    } else {
      EXPECT_TRUE(contains(j.value("error", ""), "stopping")) << line;
      ++stopping;
    }
  };
  take(*first);
  while (auto line = c.read_line()) {
    take(*line);
    ++replies;
  }
  EXPECT_TRUE(exited_zero(d->wait_exit(), d->log()));
  EXPECT_LE(replies, kRequests);
  EXPECT_FALSE(fs::exists(box.db().string() + "-wal")) << "the database was not closed cleanly";

  store::Store st(box.db(), "virtual");
  std::set<std::string> stored;
  for (const auto& r : st.reviews()) stored.insert(r.ref);
  for (const auto& ref : acknowledged) EXPECT_TRUE(stored.count(ref)) << ref << " was acknowledged but is not stored";
  auto trail = st.audit();
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back().kind, "daemon.stopped") << "the stop is the last thing audited";
  EXPECT_TRUE(contains(trail.back().details, "\"signal\":15")) << trail.back().details;
}

TEST(Operations, DatabaseIs0600AndTheSocket0660ForTheDocketGroup) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  auto mode = [](const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st;
  };
  EXPECT_EQ(mode(box.db()).st_mode & 0777, 0600u);
  EXPECT_EQ(mode(box.db().string() + "-wal").st_mode & 0777, 0600u);
  const auto sock = mode(box.socket());
  EXPECT_TRUE(S_ISSOCK(sock.st_mode));
  EXPECT_EQ(sock.st_mode & 0777, 0660u);
  if (const group* g = ::getgrnam("docket")) {
    EXPECT_EQ(sock.st_gid, g->gr_gid) << "the socket belongs to group docket";
  }
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

TEST(Operations, AnExistingDatabaseReadableByOthersIsNarrowedTo0600) {
  Sandbox box;
  {
    store::Store st(box.db(), "virtual");
  }
  ::chmod(box.db().c_str(), 0644);
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  struct stat st {};
  ASSERT_EQ(::stat(box.db().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(contains(d->log(), "store.permissions")) << d->log();
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

// A client that connects and never sends, or sends half a line and stops,
// holds up no one: another is answered while both are still connected.
TEST(Operations, SilentClientsDoNotBlockOthers) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00", {"--idle-timeout", "86400"});
  ASSERT_TRUE(d->wait_ready());
  LineClient silent(box.socket());
  LineClient half(box.socket());
  ASSERT_TRUE(silent.connected() && half.connected());
  ASSERT_TRUE(half.send_all(R"({"id":1,"command":"sta)"));

  LineClient other(box.socket());
  json reply = call(other, "status");
  ASSERT_FALSE(reply.is_null()) << other.error();
  EXPECT_TRUE(reply.value("ok", false)) << reply.dump();
  EXPECT_FALSE(silent.closed_by_peer(0ms)) << "answered only once a silent client went";
  EXPECT_FALSE(half.closed_by_peer(0ms)) << "answered only once a half-sent request went";
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

// ... and after the idle timeout they are closed.
TEST(Operations, SilentClientsAreClosedAfterTheIdleTimeout) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00", {"--idle-timeout", "1"});
  ASSERT_TRUE(d->wait_ready());
  LineClient silent(box.socket());
  LineClient half(box.socket());
  ASSERT_TRUE(silent.connected() && half.connected());
  ASSERT_TRUE(half.send_all(R"({"id":1,"command":"sta)"));
  EXPECT_TRUE(silent.closed_by_peer(kPatience)) << "a client that sends nothing is closed";
  EXPECT_TRUE(half.closed_by_peer(kPatience)) << "a client that stops mid-line is closed";
  ASSERT_TRUE(d->running());
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

// A client waiting for its answer is not idle: a command whose batch is
// still being made durable when the idle timeout passes is still answered
// (with the batch written on another thread, the timeout once fired between
// a long clock advance and its reply). The syncs are held on a latch until
// docketd has let the idle timeout pass for the waiting client.
TEST(Operations, AClientWaitingForALongCommandIsNotClosedAsIdle) {
  Sandbox box;
  SyncGate gate(box.dir() / "sync-gate");
  std::unique_ptr<Daemon> d;
  {
    ScopedEnv env(gate.env());
    d = box.daemon("2026-03-02T08:00", {"--idle-timeout", "1"});
  }
  ASSERT_TRUE(d->wait_ready());
  LineClient c(box.socket());
  ASSERT_TRUE(c.connected()) << c.error();
  gate.close();
  json start{{"id", 1}, {"command", "start"}, {"args", {{"workflow", "rapid-review"}, {"ref", "RR-IDLE"}}}};
  ASSERT_TRUE(c.send_line(start.dump()));
  const bool kept = eventually([&] { return contains(d->log(), "connection.idle_kept waiting=1"); });
  gate.open();
  ASSERT_TRUE(kept) << "the idle timeout never passed for the waiting client; log:\n" << d->log();
  auto line = c.read_line();
  ASSERT_TRUE(line) << "no answer after the idle timeout: " << c.error() << "\n" << d->log();
  EXPECT_TRUE(json::parse(*line).value("ok", false)) << *line;
  json again = call(c, "status", {{"ref", "RR-IDLE"}}, 2);
  EXPECT_TRUE(replied_ok(again)) << "the connection was closed after its answer: " << c.error();
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

// More connections than docketd takes (512): those over the limit are closed
// rather than left hanging, a client already connected is answered
// throughout, and as the flood goes away new clients are served again.
// (That silent connections time out is SilentClientsAreClosedAndDoNotBlockOthers.)
TEST(Operations, AFloodOfConnectionsDoesNotBlockOthers) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00", {"--idle-timeout", "60"});
  ASSERT_TRUE(d->wait_ready());
  LineClient steady(box.socket());
  ASSERT_TRUE(steady.connected());
  ASSERT_FALSE(call(steady, "status").is_null());

  constexpr int kFlood = 700;
  std::vector<std::unique_ptr<LineClient>> flood;
  for (int i = 0; i < kFlood; ++i) {
    flood.push_back(std::make_unique<LineClient>(box.socket()));
    if (i % 100 == 99) {
      json reply = call(steady, "status", json::object(), i);
      ASSERT_FALSE(reply.is_null()) << "no answer during the flood after " << i + 1 << " connections: "
                                    << steady.error();
    }
  }
  json reply = call(steady, "status", json::object(), "after");
  ASSERT_FALSE(reply.is_null()) << steady.error();
  // Those past the limit (the last to connect) are closed once docketd has
  // accepted them, long before the minute's idle timeout.
  int closed = 0;
  for (int i = kFlood - 1; i >= 0 && closed < kFlood - 511; --i) {
    if (!flood[static_cast<std::size_t>(i)]->closed_by_peer(kPatience)) break;
    ++closed;
  }
  EXPECT_GE(closed, kFlood - 511) << "connections past the limit should be closed, not left hanging";

  // As the flood's clients go away, a newcomer is served.
  for (int i = 0; i < 100; ++i) flood[static_cast<std::size_t>(i)]->close();
  int attempt = 0;
  const bool served = eventually([&] {
    LineClient late(box.socket());
    return late.connected() && !call(late, "status", json::object(), ++attempt).is_null();
  });
  EXPECT_TRUE(served) << "no new client was served after the flood";
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

}  // namespace
}  // namespace docket::testing
