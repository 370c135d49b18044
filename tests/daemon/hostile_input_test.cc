// docketd against callers and operators who get things wrong, or mean harm:
// requests built to crash it, clients that never read, dates and advances
// that would keep it busy for hours, a socket path that names something
// else, a second daemon on the same database, files it cannot write. Each
// answer is a clear error; nothing crashes, stalls or is lost.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fstream>

#include "store/store.h"
#include "tests/support/daemon.h"

namespace docket::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// The error of a reply, or why there was none.
std::string error_of(const json& reply) {
  if (!reply.is_object()) return "no reply";
  return reply.value("ok", true) ? "ok" : reply.value("error", "");
}

// D1: one line of 25,000 nested arrays crashed docketd (recursion in
// copying and writing the JSON) before it looked at who sent it.
TEST(HostileInput, DeeplyNestedJsonIsRefusedAndDocketdLives) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  LineClient c(box.socket());
  const std::string deep = "{\"id\":" + std::string(25000, '[') + std::string(25000, ']') + ",\"command\":\"clock\"}";
  ASSERT_TRUE(c.send_line(deep));
  auto line = c.read_line();
  ASSERT_TRUE(line) << c.error() << "\n" << d->log();
  json reply = json::parse(*line);
  EXPECT_FALSE(reply.value("ok", true));
  EXPECT_TRUE(contains(reply.value("error", ""), "nested more than 16 levels")) << *line;
  EXPECT_TRUE(reply["id"].is_null());
  // Sixteen levels are fine (the error is about the argument, not the nesting).
  json at_limit = json::parse("{\"id\":2,\"command\":\"status\",\"args\":{\"ref\":" + std::string(14, '[') + "1" +
                              std::string(14, ']') + "}}");
  json r = call(c, "status", at_limit["args"], 2);
  EXPECT_TRUE(contains(error_of(r), "'ref' must be a string")) << r.dump();
  EXPECT_TRUE(replied_ok(call(c, "status", json::object(), 3)));
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

TEST(HostileInput, ANulByteAfterTheJsonIsRefused) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  LineClient c(box.socket());
  ASSERT_TRUE(c.send_all(std::string("{\"id\":1,\"command\":\"status\"}\0\n", 29)));
  auto line = c.read_line();
  ASSERT_TRUE(line) << c.error();
  EXPECT_TRUE(contains(*line, "NUL byte")) << *line;
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

// D2: a client that pipelines requests and never reads its replies once
// took docketd from 23 MiB to 1.8 GiB, and kept others waiting. docketd
// stops reading from it once its replies back up; others are answered.
TEST(HostileInput, AClientThatNeverReadsItsRepliesCostsOnlyItself) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  for (int i = 0; i < 20; ++i) {
    LineClient c(box.socket());
    ASSERT_TRUE(replied_ok(call(c, "start", rapid_review_start("RR-BIG-" + std::to_string(i)))));
  }

  // The greedy client's writes block once docketd stops reading it; a
  // thread sends for it until then, and is released by closing the socket.
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, box.socket().c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);  // NOLINT: the sockets API
  std::atomic<std::size_t> pushed{0};
  std::thread greedy([&] {
    const std::string request = R"({"id":1,"command":"status"})" "\n";
    std::string burst;
    for (int i = 0; i < 1000; ++i) burst += request;
    for (int i = 0; i < 100000; ++i) {  // 2.7 GB at most: far past any bound
      const ssize_t n = ::send(fd, burst.data(), burst.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      pushed += static_cast<std::size_t>(n);
    }
  });
  const bool paused = eventually([&] { return contains(d->log(), "connection.paused"); });
  // Meanwhile another client is served.
  LineClient other(box.socket());
  json r = call(other, "status", {{"ref", "RR-BIG-3"}});
  // What docketd took from the greedy client: the socket's buffers, and
  // what it read before its replies backed up (some 10,000 requests). It
  // once took everything sent, at 2 GB and growing.
  const std::size_t taken = pushed.load();
  ::shutdown(fd, SHUT_RDWR);
  greedy.join();
  ::close(fd);
  ASSERT_TRUE(paused) << "docketd kept reading a client that read nothing; " << pushed.load() << " bytes taken";
  EXPECT_TRUE(replied_ok(r)) << r.dump();
  EXPECT_LT(taken, 32u * 1024 * 1024) << "bytes of requests taken from a client that reads nothing";
  ASSERT_TRUE(d->wait_ready());
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

// D9: a client that sends its command and half-closes is still answered.
TEST(HostileInput, AClientThatHalfClosesAfterItsCommandIsAnswered) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  LineClient c(box.socket());
  // The last request has no newline: the end of the stream ends it.
  ASSERT_TRUE(c.send_all(json{{"id", 1}, {"command", "start"}, {"args", rapid_review_start("RR-HALF-1")}}.dump() + "\n" +
                         json{{"id", 2}, {"command", "start"}, {"args", rapid_review_start("RR-HALF-2")}}.dump()));
  c.shutdown_write();
  auto first = c.read_line();
  auto second = c.read_line();
  ASSERT_TRUE(first && second) << c.error() << "\n" << d->log();
  EXPECT_TRUE(json::parse(*first).value("ok", false)) << *first;
  EXPECT_TRUE(json::parse(*second).value("ok", false)) << *second;
  EXPECT_TRUE(c.closed_by_peer(kPatience)) << "closed once everything was answered";
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  store::Store st(box.db(), "virtual");
  EXPECT_EQ(st.reviews().size(), 2u);
}

// D3: a start in year 0 made docketd count two thousand years of working
// days with its loop blocked; an advance of a century ran for 20 minutes
// deaf to SIGTERM. Dates and advances have bounds, and an advance goes a
// chunk at a time.
TEST(HostileInput, DatesAndAdvancesBeyondTheCalendarAreRefused) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  LineClient c(box.socket());
  EXPECT_TRUE(contains(error_of(call(c, "start", {{"workflow", "lcspr"}, {"ref", "L-0"}, {"on", "0000-01-01"}})),
                       "is before 2018-01-01, where the england-and-wales calendar"));
  EXPECT_TRUE(contains(error_of(call(c, "start", rapid_review_start("RR-F", "2026-03-03"))), "cannot start in the future"));
  EXPECT_TRUE(contains(error_of(call(c, "clock", {{"advance", "36600d"}})), "up to 3660 days at a time"));
  EXPECT_TRUE(contains(error_of(call(c, "clock", {{"advance", "9999999999w"}})), "up to 3660 days at a time"));
  ASSERT_TRUE(replied_ok(call(c, "start", rapid_review_start("RR-X"))));
  EXPECT_TRUE(contains(error_of(call(c, "extend", {{"ref", "RR-X"},
                                                    {"stage", "rapid-review"},
                                                    {"to", "9999-12-31"},
                                                    {"reason", "test"}})),
                       "more than ten years ahead"));
  // 2^63 once wrapped to 0.
  json r = json::parse(R"({"days": 9223372036854775808})");
  EXPECT_TRUE(contains(error_of(call(c, "upcoming", r)), "from 0 to 3660"));
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

TEST(HostileInput, ALongAdvanceServesOthersAndStopsOnSigtermWhereItStands) {
  Sandbox box;
  // Chunks of 500 events: the advance below takes about a hundred, so the
  // stop lands mid-way however fast the machine.
  auto d = box.daemon("2026-03-02T08:00", {"--fire-chunk", "500"});
  ASSERT_TRUE(d->wait_ready());
  {
    LineClient c(box.socket());
    std::string burst;
    for (int i = 0; i < 50; ++i) {
      burst += json{{"id", i}, {"command", "start"}, {"args", {{"workflow", "rapid-review"}, {"ref", "R-" + std::to_string(i)}}}}
                   .dump() +
               "\n";
    }
    ASSERT_TRUE(c.send_all(burst));
    for (int i = 0; i < 50; ++i) {
      auto line = c.read_line();
      ASSERT_TRUE(line && json::parse(*line).value("ok", false)) << (line ? *line : c.error());
    }
  }
  // Ten years of 50 Rapid Reviews' repeated escalations: some 55,000
  // events. A chunk runs between two turns of the loop, and the SIGTERM is
  // heard at the next.
  LineClient advancing(box.socket());
  ASSERT_TRUE(advancing.send_line(json{{"id", "ten years"}, {"command", "clock"}, {"args", {{"advance", "3650d"}}}}.dump()));
  ASSERT_TRUE(eventually([&] { return contains(d->log(), "clock.advancing"); })) << d->log();
  LineClient other(box.socket());
  json now = call(other, "clock");
  ASSERT_TRUE(replied_ok(now)) << now.dump();
  EXPECT_LT(now["result"]["now"].get<std::string>(), "2036-") << "answered in the middle of the advance";
  d->signal(SIGTERM);
  auto line = advancing.read_line();
  ASSERT_TRUE(line) << advancing.error() << "\n" << d->log();
  json stopped = json::parse(*line);
  EXPECT_FALSE(stopped.value("ok", true)) << *line;
  EXPECT_TRUE(contains(stopped.value("error", ""), "docketd is stopping: the clock stopped at")) << *line;
  EXPECT_TRUE(exited_zero(d->wait_exit(), d->log()));

  // A restart with the same --virtual-clock resumes where it stopped.
  store::Store st(box.db(), "virtual");
  auto stored = st.meta("virtual_now");
  ASSERT_TRUE(stored);
  auto again = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(again->wait_ready());
  LineClient c(box.socket());
  json resumed = call(c, "clock");
  ASSERT_TRUE(replied_ok(resumed)) << resumed.dump();
  EXPECT_GT(resumed["result"]["now"].get<std::string>(), "2026-03-02T08:00:00Z");
  EXPECT_TRUE(contains(again->log(), "clock.resumed")) << again->log();
  ASSERT_TRUE(exited_zero(again->terminate(), again->log()));
}

TEST(HostileInput, ReferencesAndTitlesKeepToTheirAlphabet) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  LineClient c(box.socket());
  for (const std::string& ref : std::vector<std::string>{"..", "/", "../../etc/passwd", "-RR", "RR.", "a/b", std::string(41, 'A'), ""}) {
    EXPECT_TRUE(contains(error_of(call(c, "start", rapid_review_start(ref))), "is not a valid reference")) << ref;
  }
  auto titled = [&](const std::string& title) {
    json args = rapid_review_start("RR-T");
    args["title"] = title;
    return error_of(call(c, "start", args));
  };
  EXPECT_TRUE(contains(titled(std::string("a\0b", 3)), "control character"));
  EXPECT_TRUE(contains(titled("two\nlines"), "control character"));
  EXPECT_TRUE(contains(titled("\x1b[31mred"), "control character"));
  EXPECT_TRUE(contains(titled(std::string(121, 'x')), "longer than 120 characters"));
  // 120 characters of two bytes each are within the limit.
  std::string accents;
  for (int i = 0; i < 120; ++i) accents += "\xc3\xa9";
  EXPECT_EQ(titled(accents), "ok");
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

// D4: pointed at the database, docketd deleted it to make its socket.
TEST(HostileInput, DocketdRemovesOnlyAStaleSocketAtItsSocketPath) {
  Sandbox box;
  {
    store::Store st(box.db(), "virtual");
  }
  const auto size = fs::file_size(box.db());
  std::vector<std::string> argv{kDocketd.string(), "--config", shipped_config().string(), "--db", box.db().string(),
                                "--socket", box.db().string(), "--virtual-clock", "2026-03-02T08:00"};
  auto r = run_command(argv, box.dir());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, box.db().string() + " exists and is not a socket")) << r.err;
  ASSERT_TRUE(fs::exists(box.db()));
  EXPECT_EQ(fs::file_size(box.db()), size);

  // A socket file left by a daemon that died is taken over.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, box.socket().c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);  // NOLINT: the sockets API
    ::close(fd);
  }
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

// D6: a second daemon on the database once started, and the first died on
// a UNIQUE constraint with a command unanswered.
TEST(HostileInput, ASecondDaemonOnTheSameDatabaseIsRefused) {
  Sandbox box;
  auto first = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(first->wait_ready());
  const fs::path other_socket = box.dir() / "other.sock";
  auto r = run_command({kDocketd.string(), "--config", shipped_config().string(), "--db", box.db().string(), "--socket",
                        other_socket.string(), "--virtual-clock", "2026-03-02T08:00"},
                       box.dir());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "another docketd (pid " + std::to_string(first->pid()) + ", socket " +
                                  box.socket().string() + ") is using " + box.db().string()))
      << r.err;
  EXPECT_FALSE(fs::exists(other_socket));
  LineClient c(box.socket());
  EXPECT_TRUE(replied_ok(call(c, "start", rapid_review_start("RR-STILL"))));
  ASSERT_TRUE(exited_zero(first->terminate(), first->log()));
}

// D10: errors name the file or path at fault, not a library's source line.
TEST(HostileInput, AFailedStartNamesTheFileItCouldNotUse) {
  Sandbox box;
  {
    store::Store st(box.db(), "virtual");
  }
  // A leftover -shm docketd may not write. As root, the check is made as
  // an unprivileged user would meet it.
  const fs::path shm = box.db().string() + "-shm";
  std::ofstream(shm) << "";
  ::chmod(shm.c_str(), 0400);
  std::vector<std::string> argv{kDocketd.string(), "--config", shipped_config().string(), "--db", box.db().string(),
                                "--socket", box.socket().string(), "--virtual-clock", "2026-03-02T08:00"};
  if (::geteuid() == 0) {
    ::chmod(box.dir().c_str(), 0777);
    ::chown(box.db().c_str(), 65534, 65534);
    ::chown(shm.c_str(), 65534, 65534);
    argv.insert(argv.begin(), {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  }
  auto r = run_command(argv, box.dir());
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "cannot write " + shm.string() + " (mode 0400")) << r.err;

  // A socket path that cannot be made names that path.
  std::ofstream(box.dir() / "a-file") << "";
  const fs::path bad = box.dir() / "a-file" / "docketd.sock";
  auto b = run_command({kDocketd.string(), "--config", shipped_config().string(), "--db",
                        (box.dir() / "other.db").string(), "--socket", bad.string(), "--virtual-clock",
                        "2026-03-02T08:00"},
                       box.dir());
  EXPECT_EQ(b.code, 1) << b.out << b.err;
  EXPECT_TRUE(contains(b.err, "the control socket " + bad.string())) << b.err;
  EXPECT_FALSE(contains(b.err, ".hpp")) << b.err;
}

}  // namespace
}  // namespace docket::testing
