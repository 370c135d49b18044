// docketd end to end: the real daemon binary on a scratch database and socket,
// driven by the real `docket` client or by raw JSON lines on the socket, then
// (once the daemon has stopped) the database read back through docket::store.
//
// Time never passes on the wall clock here: deadlines are reached with
// --virtual-clock and `docket clock advance`, and every wait is a bounded poll.

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/build_info.h"
#include "store/store.h"
#include "tests/support/daemon.h"
#include "tests/support/process.h"
#include "tests/support/temp_config.h"

namespace docket::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

std::string stage_due(const json& review, const std::string& stage) {
  for (const auto& s : review.value("stages", json::array())) {
    if (s.value("stage", "") == stage) return s.value("due", "");
  }
  return "<no stage " + stage + ">";
}

// ---------------------------------------------------------------------------

TEST(DocketdIntegration, DoneMeans) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());

  auto r = box.docket({"start", "rapid-review", "--ref", "RR-2026-001", "--on", "2026-03-02"});
  ASSERT_EQ(r.code, 0) << r.how << "\n" << r.out << r.err;

  r = box.docket({"status", "RR-2026-001", "--json"});
  ASSERT_EQ(r.code, 0) << r.how << "\n" << r.err;
  json status = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(status.is_discarded()) << r.out;
  EXPECT_EQ(status.value("ref", ""), "RR-2026-001");
  EXPECT_EQ(stage_due(status, "notify-panel"), "2026-03-09") << status.dump(2);
  EXPECT_EQ(stage_due(status, "rapid-review"), "2026-03-23") << status.dump(2);

  r = box.docket({"clock", "advance", "30d"});
  ASSERT_EQ(r.code, 0) << r.how << "\n" << r.err;

  r = box.docket({"overdue", "--json"});
  ASSERT_EQ(r.code, 0) << r.how << "\n" << r.err;
  json overdue = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(overdue.is_discarded()) << r.out;
  std::set<std::string> stages;
  for (const auto& o : overdue.value("overdue", json::array())) {
    if (o.value("ref", "") == "RR-2026-001") stages.insert(o.value("stage", ""));
  }
  EXPECT_EQ(stages, (std::set<std::string>{"notify-panel", "rapid-review"})) << overdue.dump(2);

  EXPECT_TRUE(exited_zero(d->terminate(), d->log()));
}

TEST(DocketdIntegration, SigkillMidBurstLosesNoAcknowledgedCommand) {
  constexpr int kThreads = 8;
  constexpr int kAckTarget = 200;

  Sandbox box;
  auto d = box.daemon();  // system clock
  ASSERT_TRUE(d->wait_ready());

  // Each client sends starts one after another until the kill cuts it off:
  // however fast or slow the machine, the kill comes mid-burst.
  std::atomic<int> acked{0};
  std::vector<std::vector<std::string>> acks(kThreads);
  std::vector<std::string> ended(kThreads);
  std::vector<int> sent(kThreads, 0);
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      const auto ti = static_cast<std::size_t>(t);
      LineClient c(box.socket());
      if (!c.connected()) {
        ended[ti] = "connect: " + c.error();
        return;
      }
      for (int n = 0;; ++n) {
        const std::string ref = "K-" + std::to_string(t) + "-" + std::to_string(n);
        json req{{"id", n}, {"command", "start"}, {"args", {{"workflow", "rapid-review"}, {"ref", ref}, {"on", "2026-03-02"}}}};
        if (!c.send_line(req.dump())) {
          ended[ti] = "send: " + c.error();
          return;
        }
        ++sent[ti];
        auto line = c.read_line();
        if (!line) {
          ended[ti] = "read: " + c.error();
          return;
        }
        json reply = json::parse(*line, nullptr, false);
        if (reply.is_discarded() || reply.value("id", -1) != n || !reply.value("ok", false)) {
          ended[ti] = "unexpected reply: " + *line;
          return;
        }
        acks[ti].push_back(ref);
        ++acked;
      }
    });
  }
  // Kill once enough are acknowledged (a bounded poll for that event).
  const bool reached = eventually([&] { return acked.load() >= kAckTarget || !d->running(); });
  const int at_kill = acked.load();
  const int status = d->kill9();
  for (auto& th : clients) th.join();
  ASSERT_TRUE(reached) << "only " << at_kill << " starts acknowledged; log:\n" << d->log();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << describe_status(status);

  std::vector<std::string> all;
  for (const auto& v : acks) all.insert(all.end(), v.begin(), v.end());
  int total_sent = 0;
  for (int s : sent) total_sent += s;
  std::cout << "[ info     ] acknowledged before SIGKILL: " << all.size() << " (" << at_kill
            << " when the kill was sent), requests sent: " << total_sent << "\n";
  RecordProperty("acknowledged_before_sigkill", static_cast<int>(all.size()));
  ASSERT_GE(all.size(), static_cast<std::size_t>(kAckTarget)) << "log:\n" << d->log();
  for (int t = 0; t < kThreads; ++t) {
    // Every client must have been cut off by the kill, not refused.
    const auto& why = ended[static_cast<std::size_t>(t)];
    EXPECT_TRUE(why.starts_with("read: ") || why.starts_with("send: ")) << "client " << t << " ended: " << why;
  }

  // Restart on the same database and (stale) socket.
  auto d2 = box.daemon();
  ASSERT_TRUE(d2->wait_ready());
  {
    LineClient c(box.socket());
    ASSERT_TRUE(c.connected()) << c.error();
    std::vector<std::string> missing;
    for (const auto& ref : all) {
      json reply = call(c, "status", {{"ref", ref}});
      if (reply.is_null() || !reply.value("ok", false) || reply["result"].value("ref", "") != ref) {
        missing.push_back(ref + " -> " + (reply.is_null() ? c.error() : reply.dump()));
        if (reply.is_null()) break;
      }
    }
    EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged refs not found after restart, e.g. "
                                 << missing.front();
  }
  const std::string log2 = d2->log();
  EXPECT_TRUE(exited_zero(d2->terminate(), d2->log()));
  EXPECT_TRUE(contains(log2, "daemon.ready")) << log2;
  EXPECT_FALSE(contains(log2, "recover ")) << "recovery reported problems:\n" << log2;

  store::Store st(box.db(), "system");
  std::set<std::string> in_db;
  for (const auto& rev : st.reviews()) in_db.insert(rev.ref);
  std::map<std::string, int> started;
  int boots = 0;
  for (const auto& a : st.audit()) {
    if (a.kind == "review.started") ++started[a.ref];
    if (a.kind == "daemon.started") ++boots;
  }
  EXPECT_EQ(boots, 2);
  int lost = 0;
  for (const auto& ref : all) {
    if (in_db.count(ref) == 0 || started[ref] != 1) {
      if (++lost <= 5) ADD_FAILURE() << ref << ": in reviews=" << in_db.count(ref) << ", review.started records=" << started[ref];
    }
  }
  EXPECT_EQ(lost, 0);
  // Nothing the daemon never saw appears: every stored review is one a client sent.
  for (const auto& ref : in_db) EXPECT_TRUE(ref.starts_with("K-")) << ref;
  EXPECT_LE(in_db.size(), static_cast<std::size_t>(total_sent));
}

TEST(DocketdIntegration, ClockAdvanceRefusedOnSystemClock) {
  Sandbox box;
  auto d = box.daemon();
  ASSERT_TRUE(d->wait_ready());
  auto r = box.docket({"clock", "advance", "3d"});
  EXPECT_EQ(r.code, 1) << r.how << "\n" << r.out << r.err;
  EXPECT_TRUE(contains(r.err, "--virtual-clock")) << r.err;
  EXPECT_EQ(r.out, "");
  auto shown = box.docket({"clock", "--json"});
  EXPECT_EQ(shown.code, 0) << shown.err;
  EXPECT_TRUE(contains(shown.out, "\"system\"")) << shown.out;
  EXPECT_TRUE(exited_zero(d->terminate(), d->log()));
}

// `docket version` is one table entry and its handler: the daemon answers
// with the build it runs, the one `docket --version` names.
TEST(DocketdIntegration, VersionNamesTheDaemonsBuild) {
  Sandbox box;
  auto d = box.daemon();
  ASSERT_TRUE(d->wait_ready());
  auto r = box.docket({"version"});
  EXPECT_EQ(r.code, 0) << r.how << "\n" << r.err;
  const std::string build = std::string(kVersion) + " (commit " + kCommit + ")";
  EXPECT_EQ(r.out, "docketd " + build + "\n");
  EXPECT_EQ(box.docket({"--version"}).out, "docket " + build + "\n");
  EXPECT_TRUE(contains(d->log(), std::string("version=") + kVersion + " commit=" + kCommit)) << d->log();
  auto daemon_version = run_command({kDocketd.string(), "--version"}, box.dir());
  EXPECT_EQ(daemon_version.code, 0) << daemon_version.err;
  EXPECT_EQ(daemon_version.out, "docketd " + build + "\n");
  EXPECT_TRUE(exited_zero(d->terminate(), d->log()));
}

TEST(DocketdIntegration, UnknownCallerRefused) {
  TempConfig cfg;
  std::string dir_toml = slurp(cfg.dir() / "directory.toml");
  const std::string from = "unix_user = \"root\"";
  auto at = dir_toml.find(from);
  ASSERT_NE(at, std::string::npos);
  dir_toml.replace(at, from.size(), "unix_user = \"nobody-here\"");
  ASSERT_EQ(dir_toml.find(from), std::string::npos);
  cfg.write("directory.toml", dir_toml);

  Sandbox box(cfg.dir());
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());

  for (const auto& [command, args] : std::vector<std::pair<std::string, json>>{
           {"status", json::object()},
           {"start", {{"workflow", "rapid-review"}, {"ref", "RR-X"}, {"on", "2026-03-02"}}},
           {"clock", {{"advance", "3d"}}}}) {
    LineClient c(box.socket());
    ASSERT_TRUE(c.connected()) << c.error();
    json reply = call(c, command, args, command);
    ASSERT_FALSE(reply.is_null()) << command << ": " << c.error();
    EXPECT_EQ(reply.value("ok", true), false) << reply.dump();
    // Nothing a stranger sends is read, not even its id.
    EXPECT_TRUE(reply["id"].is_null()) << reply.dump();
    EXPECT_TRUE(contains(reply.value("error", ""), "directory.toml")) << reply.dump();
    EXPECT_TRUE(c.closed_by_peer(kPatience)) << "a refused caller's connection should be closed";
  }
  auto cli = box.docket({"status"});
  EXPECT_EQ(cli.code, 1) << cli.how << "\n" << cli.out << cli.err;
  EXPECT_TRUE(contains(cli.err, "directory.toml")) << cli.err;
  ASSERT_TRUE(d->running()) << d->log();
  ASSERT_TRUE(d->wait_ready()) << "the daemon stopped answering after refusals";

  EXPECT_TRUE(exited_zero(d->terminate(), d->log()));
  store::Store st(box.db(), "virtual");
  int refused = 0;
  for (const auto& a : st.audit()) {
    if (a.kind == "access.refused") {
      ++refused;
      EXPECT_TRUE(contains(a.details, "\"uid\":0")) << a.details;
    }
  }
  // Refusals are audited once a minute per account, so an unknown caller
  // cannot flood the trail: four refused connections in a second, one record.
  EXPECT_EQ(refused, 1) << "one access.refused per account per minute";
  EXPECT_TRUE(st.reviews().empty());
}

TEST(DocketdIntegration, RefusedCommandsThatWouldChangeSomethingAreAudited) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  ASSERT_EQ(box.docket({"start", "rapid-review", "--ref", "RR-1", "--on", "2026-03-02"}).code, 0);

  auto r = box.docket({"resume", "RR-1"});  // it is not paused
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  r = box.docket({"pause", "RR-NOPE", "--reason", "criminal proceedings"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  r = box.docket({"status", "RR-NOPE"});  // a refused read changes nothing: only logged
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  LineClient c(box.socket());
  ASSERT_TRUE(c.connected()) << c.error();
  json reply = call(c, "erase-everything", json::object(), "x");
  EXPECT_EQ(reply.value("ok", true), false) << reply.dump();

  auto shown = box.docket({"audit", "show", "RR-1", "--db", box.db().string()});
  ASSERT_EQ(shown.code, 0) << shown.out << shown.err;
  EXPECT_TRUE(contains(shown.out, "Refused: resume by")) << shown.out;
  EXPECT_TRUE(exited_zero(d->terminate(), d->log()));

  store::Store st(box.db(), "virtual");
  std::map<std::string, json> refused;  // command -> details
  for (const auto& a : st.audit()) {
    if (a.kind != "command.refused") continue;
    json details = json::parse(a.details);
    EXPECT_EQ(a.actor, "a-morgan") << "root is a-morgan in the shipped directory";
    EXPECT_FALSE(details.value("error", "").empty()) << a.details;
    if (details["command"] == "pause") {
      EXPECT_EQ(a.ref, "RR-NOPE");
      EXPECT_EQ(details["args"]["reason"], "criminal proceedings") << a.details;
    }
    if (details["command"] == "resume") {
      EXPECT_EQ(a.ref, "RR-1");
    }
    refused[details["command"].get<std::string>()] = details;
  }
  EXPECT_EQ(refused.size(), 3u) << "resume, pause and the unknown command; not the status read";
  EXPECT_EQ(refused.count("status"), 0u);
  EXPECT_EQ(refused.count("erase-everything"), 1u);
  auto verified = box.docket({"audit", "verify", "--db", box.db().string()});
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
}

TEST(DocketdIntegration, BadInputIsAnsweredAndChangesNothing) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());

  LineClient silent(box.socket());  // connects and never sends anything
  ASSERT_TRUE(silent.connected()) << silent.error();

  LineClient c(box.socket());
  ASSERT_TRUE(c.connected()) << c.error();
  auto raw = [&](const std::string& line) {
    if (!c.send_line(line)) return json(nullptr);
    auto got = c.read_line();
    return got ? json::parse(*got, nullptr, false) : json(nullptr);
  };

  json r = raw("this is not json {");
  ASSERT_FALSE(r.is_null()) << c.error();
  EXPECT_EQ(r.value("ok", true), false) << r.dump();
  EXPECT_TRUE(contains(r.value("error", ""), "not valid JSON")) << r.dump();

  r = raw("[1,2,3]");
  ASSERT_FALSE(r.is_null()) << c.error();
  EXPECT_EQ(r.value("ok", true), false) << r.dump();

  r = raw(R"({"id":7,"args":{}})");
  ASSERT_FALSE(r.is_null()) << c.error();
  EXPECT_EQ(r.value("ok", true), false) << r.dump();
  EXPECT_TRUE(contains(r.value("error", ""), "command")) << r.dump();

  r = call(c, "frobnicate", json::object(), 8);
  ASSERT_FALSE(r.is_null()) << c.error();
  EXPECT_EQ(r.value("ok", true), false) << r.dump();
  EXPECT_EQ(r["id"], 8);
  EXPECT_TRUE(contains(r.value("error", ""), "frobnicate")) << r.dump();

  const json start_args{{"workflow", "rapid-review"}, {"ref", "RR-DUP"}, {"on", "2026-03-02"}};
  r = call(c, "start", start_args, 9);
  ASSERT_FALSE(r.is_null()) << c.error();
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  r = call(c, "start", start_args, 10);
  ASSERT_FALSE(r.is_null()) << c.error();
  EXPECT_EQ(r.value("ok", true), false) << r.dump();
  EXPECT_TRUE(contains(r.value("error", ""), "already exists")) << r.dump();

  r = call(c, "status", {{"ref", "NO-SUCH-REF"}}, 11);
  ASSERT_FALSE(r.is_null()) << c.error();
  EXPECT_EQ(r.value("ok", true), false) << r.dump();
  EXPECT_TRUE(contains(r.value("error", ""), "NO-SUCH-REF")) << r.dump();

  // Over 64 KiB on one line: answered once, then the connection may close.
  {
    LineClient big(box.socket());
    ASSERT_TRUE(big.connected()) << big.error();
    json huge{{"id", 12}, {"command", "start"},
              {"args", {{"workflow", "rapid-review"}, {"ref", "RR-HUGE"}, {"title", std::string(70 * 1024, 'x')}}}};
    big.send_line(huge.dump());  // may fail part-way once the daemon hangs up; the answer is what matters
    auto line = big.read_line();
    ASSERT_TRUE(line) << big.error();
    json j = json::parse(*line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << *line;
    EXPECT_EQ(j.value("ok", true), false) << *line;
    EXPECT_TRUE(contains(j.value("error", ""), "larger than 65536 bytes")) << *line;
  }

  // The silent client still holds its connection and blocks no one.
  r = call(c, "status", json::object(), 13);
  ASSERT_FALSE(r.is_null()) << c.error();
  ASSERT_EQ(r.value("ok", false), true) << r.dump();
  ASSERT_EQ(r["result"]["reviews"].size(), 1u) << r.dump();
  EXPECT_EQ(r["result"]["reviews"][0].value("ref", ""), "RR-DUP");
  {
    LineClient third(box.socket());
    ASSERT_TRUE(third.connected()) << third.error();
    json t = call(third, "status", {{"ref", "RR-DUP"}}, 14);
    ASSERT_FALSE(t.is_null()) << third.error();
    EXPECT_EQ(t.value("ok", false), true) << t.dump();
  }
  EXPECT_FALSE(silent.closed_by_peer(0ms));

  EXPECT_TRUE(exited_zero(d->terminate(), d->log()));
  store::Store st(box.db(), "virtual");
  auto reviews = st.reviews();
  ASSERT_EQ(reviews.size(), 1u);
  EXPECT_EQ(reviews[0].ref, "RR-DUP");
  int started = 0;
  for (const auto& a : st.audit()) started += a.kind == "review.started" ? 1 : 0;
  EXPECT_EQ(started, 1);
}

TEST(DocketdIntegration, CatchUpAfterOutageIsLateAndCoalesced) {
  TempConfig cfg;
  cfg.log_delivery();  // delivered at once: this test is about what is sent, delivery_test about how
  Sandbox box(cfg.dir());
  {
    auto d = box.daemon("2026-03-02T08:00");
    ASSERT_TRUE(d->wait_ready());
    LineClient c(box.socket());
    json r = call(c, "start",
                  {{"workflow", "rapid-review"}, {"ref", "RR-1"}, {"on", "2026-03-02"}, {"assign", {{"lead-reviewer", "k-davies"}}}});
    ASSERT_FALSE(r.is_null()) << c.error();
    ASSERT_EQ(r.value("ok", false), true) << r.dump();
    ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  }
  {
    store::Store st(box.db(), "virtual");
    EXPECT_TRUE(st.outbox("").empty()) << "nothing was due on the first morning";
  }
  {
    auto d = box.daemon("2026-04-01T08:00");  // thirty days of outage
    ASSERT_TRUE(d->wait_ready());
    // Delivered before the stop: a stop leaves what is not yet under way
    // pending for the next start (delivery_test), which is not this test.
    ASSERT_TRUE(box.outbox_empties(*d));
    ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  }

  std::size_t rows_after_catch_up = 0;
  {
    store::Store st(box.db(), "virtual");
    auto outbox = st.outbox("");
    rows_after_catch_up = outbox.size();
    std::map<std::string, int> per_key;
    std::map<std::string, int> per_prefix;  // "kind:index" for stage rapid-review
    for (const auto& m : outbox) {
      ++per_key[m.key];
      if (m.ref != "RR-1" || m.stage != "rapid-review") continue;
      const std::string prefix = "RR-1:rapid-review:";
      ASSERT_TRUE(m.key.starts_with(prefix)) << m.key;
      const std::string rest = m.key.substr(prefix.size());  // e.g. reminder:2:k-davies
      per_prefix[rest.substr(0, rest.rfind(':'))]++;
      EXPECT_TRUE(m.late) << m.key << " fell due during the outage and must be marked late";
      EXPECT_EQ(m.state, "delivered") << m.key;
    }
    for (const auto& [key, n] : per_key) EXPECT_EQ(n, 1) << key;
    EXPECT_EQ(per_key.count("RR-1:rapid-review:reminder:2:k-davies"), 1u);
    EXPECT_EQ(per_prefix["reminder:2"], 1) << "exactly one reminder, the latest";
    EXPECT_EQ(per_prefix.count("reminder:1"), 0u) << "the earlier reminder is coalesced away";
    for (const char* rung : {"escalation:1", "escalation:2", "escalation:3"}) {
      EXPECT_GE(per_prefix[rung], 1) << rung << " missing";
    }
    std::string seen;
    for (const auto& [p, n] : per_prefix) seen += p + " x" + std::to_string(n) + "; ";
    EXPECT_EQ(per_prefix.size(), 4u) << seen;

    int boots = 0;
    for (const auto& a : st.audit()) boots += a.kind == "daemon.started" ? 1 : 0;
    EXPECT_EQ(boots, 2);
  }

  // A third start at the same virtual time sends nothing again.
  {
    auto d = box.daemon("2026-04-01T08:00");
    ASSERT_TRUE(d->wait_ready());
    ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  }
  store::Store st(box.db(), "virtual");
  EXPECT_EQ(st.outbox("").size(), rows_after_catch_up);
  EXPECT_TRUE(st.outbox("pending").empty());
}

TEST(DocketdIntegration, ReloadRefusesABrokenConfigurationAndSwapsInAGoodOne) {
  TempConfig cfg;
  const std::string original = slurp(cfg.dir() / "workflows/rapid-review.toml");
  Sandbox box(cfg.dir());
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  ASSERT_EQ(box.docket({"start", "rapid-review", "--ref", "RR-1", "--on", "2026-03-02"}).code, 0);

  // A mistake in the file: the reload is refused, says why, and changes nothing.
  cfg.write("workflows/rapid-review.toml", original + "\nbogus = 1\n");
  auto refused = box.docket({"reload"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_TRUE(contains(refused.err, "the running configuration is unchanged")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "workflows/rapid-review.toml:")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "unknown key 'bogus'")) << refused.err;
  EXPECT_TRUE(contains(d->log(), "config.reload_refused")) << d->log();
  ASSERT_EQ(box.docket({"start", "rapid-review", "--ref", "RR-2", "--on", "2026-03-02"}).code, 0);
  auto version_of = [&](const std::string& ref) {
    auto r = box.docket({"status", ref, "--json"});
    return json::parse(r.out).value("version", "");
  };
  const std::string v1 = version_of("RR-1");
  EXPECT_EQ(version_of("RR-2"), v1);

  // A good edit: running reviews keep their version, new ones take the new one.
  std::string twenty = original;
  twenty.replace(twenty.find("15 working days after start"), 27, "20 working days after start");
  cfg.write("workflows/rapid-review.toml", twenty);
  auto ok = box.docket({"reload"});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_TRUE(contains(ok.out, "rapid-review: version " + v1 + " -> ")) << ok.out;
  EXPECT_TRUE(contains(ok.out, "2 running reviews keep an earlier version")) << ok.out;
  ASSERT_EQ(box.docket({"start", "rapid-review", "--ref", "RR-3", "--on", "2026-03-02"}).code, 0);
  auto rr3 = json::parse(box.docket({"status", "RR-3", "--json"}).out);
  EXPECT_NE(rr3.value("version", ""), v1);
  EXPECT_EQ(stage_due(rr3, "rapid-review"), "2026-03-30");
  EXPECT_EQ(stage_due(json::parse(box.docket({"status", "RR-1", "--json"}).out), "rapid-review"), "2026-03-23");

  // SIGHUP reloads the same way.
  std::string twenty_five = original;
  twenty_five.replace(twenty_five.find("15 working days after start"), 27, "25 working days after start");
  cfg.write("workflows/rapid-review.toml", twenty_five);
  auto reloads = [&] {
    std::size_t n = 0;
    const std::string log = d->log();
    for (auto at = log.find("config.reloaded config="); at != std::string::npos;
         at = log.find("config.reloaded config=", at + 1)) {
      ++n;
    }
    return n;
  };
  const std::size_t before = reloads();
  d->signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return reloads() > before; })) << d->log();
  ASSERT_EQ(reloads(), before + 1) << d->log();
  EXPECT_TRUE(contains(d->log(), "signal=SIGHUP")) << d->log();
  ASSERT_EQ(box.docket({"start", "rapid-review", "--ref", "RR-4", "--on", "2026-03-02"}).code, 0);
  EXPECT_EQ(stage_due(json::parse(box.docket({"status", "RR-4", "--json"}).out), "rapid-review"), "2026-04-08");

  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  store::Store st(box.db(), "virtual");
  std::vector<std::string> actors;
  for (const auto& a : st.audit()) {
    if (a.kind == "config.reloaded") actors.push_back(a.actor);
  }
  EXPECT_EQ(actors, (std::vector<std::string>{"a-morgan", "system"}));
  EXPECT_TRUE(st.definition(v1)) << "the first version's text is kept for RR-1 and RR-2";
}

TEST(DocketdIntegration, MeetingListShowsTheYearsMeetingsWithTheirMilestones) {
  Sandbox box;
  auto d = box.daemon("2026-04-01T08:00");
  ASSERT_TRUE(d->wait_ready());
  auto r = box.docket({"meeting", "list", "executive", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto meetings = json::parse(r.out)["meetings"];
  ASSERT_EQ(meetings.size(), 8u) << "2026/27 and 2027/28";
  EXPECT_EQ(meetings[0]["date"], "2026-06-09");
  EXPECT_EQ(meetings[0]["milestones"].size(), 4u);
  auto table = box.docket({"meeting", "list", "executive"});
  EXPECT_TRUE(contains(table.out, "executive: Safeguarding Partnership Executive")) << table.out;
  EXPECT_TRUE(contains(table.out, "Tue 2026-06-09  scheduled")) << table.out;
  EXPECT_TRUE(contains(table.out, "papers        due Tue 2026-06-02")) << table.out;
  auto refused = box.docket({"chair", "appoint", "executive", "--person", "j-okafor", "--year", "2026/27"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_TRUE(contains(refused.err, "comes from a statutory partner")) << refused.err;
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  // Restarted, the daemon has the same meetings and schedules no more.
  auto again = box.daemon("2026-04-01T08:00");
  ASSERT_TRUE(again->wait_ready());
  auto r2 = box.docket({"meeting", "list", "executive", "--json"});
  EXPECT_EQ(json::parse(r2.out)["meetings"], meetings);
  ASSERT_TRUE(exited_zero(again->terminate(), again->log()));
}

// A SIGTERM as soon as the socket accepts is a clean stop (exit 0). This
// failed within ten attempts before docketd caught signals ahead of opening
// its socket.
TEST(DocketdIntegration, SigtermAsSoonAsTheSocketListensStopsCleanly) {
  // The race wants many tries; under AddressSanitizer a start takes a second
  // or more, and that pass is there for memory errors, so it tries fewer.
#ifdef __SANITIZE_ADDRESS__
  constexpr int kTries = 5;
#else
  constexpr int kTries = 20;
#endif
  for (int i = 0; i < kTries; ++i) {
    Sandbox box;
    auto d = box.daemon("2026-03-02T08:00");
    ASSERT_TRUE(d->wait_connectable());
    auto st = d->terminate();
    ASSERT_TRUE(exited_zero(st, d->log())) << "attempt " << i;
  }
}

}  // namespace
}  // namespace docket::testing
