// Delivery end to end: the real docketd on the shipped configuration, its
// channels pointed at real peers on loopback (aiosmtpd and Python's
// http.server), on a rehearsal clock. The mails and posts the peers receive
// are checked against the people and dates the workflow gives, and the audit
// trail against the attempts made.
//
// Deadlines are reached with `docket clock advance`, never by waiting, and
// so are retries: in a rehearsal they follow the rehearsal's time, and a
// retry waits up to a minute (first_retry_seconds = 60), so that it goes
// once the test advances the clock past it.

#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "store/store.h"
#include "tests/notifiers/peers.h"
#include "tests/support/daemon.h"

namespace docket::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using notifiers::testing::eventually;
using notifiers::testing::PythonPeer;
using namespace std::chrono_literals;

std::string replace(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("'" + from + "' is not in the shipped configuration");
  return text.replace(at, from.size(), to);
}

// The shipped configuration with mail to `smtp_port` and the webhook to
// `hook_url`, retrying within a minute of rehearsal time.
void point_at(const TempConfig& cfg, int smtp_port, const std::string& hook_url) {
  std::string t = slurp(cfg.dir() / "docketd.toml");
  t = replace(t, "port = 2525", "port = " + std::to_string(smtp_port));
  t = replace(t, "url = \"http://127.0.0.1:8085/hook\"", "url = \"" + hook_url + "\"");
  t = replace(t, "first_retry_seconds = 30", "first_retry_seconds = 60");
  t = replace(t, "max_retry_seconds = 3600", "max_retry_seconds = 60");
  cfg.write("docketd.toml", t);
}

// Adds a line to a person's entry in directory.toml.
void set_person(const TempConfig& cfg, const std::string& person, const std::string& line) {
  std::string t = slurp(cfg.dir() / "directory.toml");
  t = replace(t, "[people." + person + "]\n", "[people." + person + "]\n" + line + "\n");
  cfg.write("directory.toml", t);
}

std::vector<json> mails(const PythonPeer& smtp) {
  std::vector<json> out;
  for (std::size_t i = 1; i <= smtp.count(); ++i) out.push_back(smtp.record(static_cast<int>(i)));
  return out;
}

std::string header(const json& mail, const std::string& name) {
  return mail["parsed"]["headers"].value(name, std::string{});
}

::testing::AssertionResult ok(const RunResult& r) {
  if (r.code == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "exit " << r.code << ": " << r.err << r.out;
}

std::vector<store::AuditRecord> audit_of_kind(const fs::path& db, const std::string& kind) {
  store::Store st(db, "virtual");
  std::vector<store::AuditRecord> out;
  for (auto& a : st.audit()) {
    if (a.kind == kind) out.push_back(std::move(a));
  }
  return out;
}

TEST(Delivery, ARehearsedRapidReviewMailsEachReminderAndEscalationToTheRightPersonOnce) {
  PythonPeer smtp("smtp_server.py", {});
  PythonPeer hook("http_server.py", {});
  TempConfig cfg;
  point_at(cfg, smtp.port(), "http://127.0.0.1:" + std::to_string(hook.port()) + "/hook");
  Sandbox box(cfg.dir());
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  ASSERT_TRUE(ok(box.docket({"start", "rapid-review", "--ref", "RR-2026-014", "--on", "2026-03-02", "--assign",
                             "lead-reviewer=c-jones"})));
  // The Panel is told in time; the Rapid Review itself runs late.
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "4d"})));
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "2h"})));  // Fri 6 March, 10:00
  ASSERT_TRUE(ok(box.docket({"complete", "RR-2026-014", "notify-panel", "--on", "2026-03-06"})));
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "25d"})));  // Tue 31 March, 10:00

  // Reminders go to the stage's owner two (and five) working days before;
  // escalations climb the ladder after the due date, each person once.
  const std::multiset<std::string> expected{
      "kim.davies@example.org Reminder: RR-2026-014 Notify the national Child Safeguarding Practice Review Panel "
      "is due Monday 9 March 2026",
      "chris.jones@example.org Reminder: RR-2026-014 Complete the Rapid Review; send it and the decision on a local "
      "review to the Panel is due Monday 23 March 2026",
      "chris.jones@example.org Reminder: RR-2026-014 Complete the Rapid Review; send it and the decision on a local "
      "review to the Panel is due Monday 23 March 2026",
      "kim.davies@example.org Overdue: RR-2026-014 Complete the Rapid Review; send it and the decision on a local "
      "review to the Panel was due Monday 23 March 2026",
      "alex.morgan@example.org Overdue: RR-2026-014 Complete the Rapid Review; send it and the decision on a local "
      "review to the Panel was due Monday 23 March 2026",
      "morgan.clarke@example.org Overdue: RR-2026-014 Complete the Rapid Review; send it and the decision on a "
      "local review to the Panel was due Monday 23 March 2026",
      "jo.okafor@example.org Overdue: RR-2026-014 Complete the Rapid Review; send it and the decision on a local "
      "review to the Panel was due Monday 23 March 2026",
      "rhian.hughes@example.org Overdue: RR-2026-014 Complete the Rapid Review; send it and the decision on a local "
      "review to the Panel was due Monday 23 March 2026",
      "priya.singh@example.org Overdue: RR-2026-014 Complete the Rapid Review; send it and the decision on a local "
      "review to the Panel was due Monday 23 March 2026",
  };
  // Delivered when nothing is left in the outbox.
  ASSERT_TRUE(box.outbox_empties(*d));
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));

  std::multiset<std::string> got;
  std::set<std::string> message_ids;
  std::size_t meeting_mails = 0;  // the partnership's meetings run on the same clock
  for (const auto& m : mails(smtp)) {
    if (header(m, "subject").find("RR-2026-014") == std::string::npos) {
      EXPECT_NE(header(m, "subject").find(" meeting on "), std::string::npos) << header(m, "subject");
      EXPECT_TRUE(message_ids.insert(header(m, "message-id")).second) << "a Message-ID twice: " << m.dump(2);
      ++meeting_mails;
      continue;
    }
    EXPECT_EQ(m["problems"], json::array()) << m.dump(2);
    ASSERT_EQ(m["rcpt_tos"].size(), 1u);
    const std::string to = m["rcpt_tos"][0];
    const std::string subject = header(m, "subject");
    got.insert(to + " " + subject);
    EXPECT_TRUE(message_ids.insert(header(m, "message-id")).second) << "a Message-ID twice: " << m.dump(2);
    EXPECT_EQ(header(m, "auto-submitted"), "auto-generated");
    const std::string body = m["parsed"]["body"];
    EXPECT_NE(body.find("https://docket.example.org/reviews/RR-2026-014"), std::string::npos) << body;
    if (subject.starts_with("Overdue")) {
      EXPECT_NE(body.find("working day(s) overdue"), std::string::npos) << body;
      EXPECT_NE(body.find("escalation step"), std::string::npos) << body;
    }
  }
  EXPECT_EQ(got, expected);

  // Every row is delivered, each after one attempt, and audited.
  store::Store st(box.db(), "virtual");
  auto rows = st.outbox("");
  EXPECT_EQ(rows.size(), expected.size() + meeting_mails);
  for (const auto& r : rows) {
    EXPECT_EQ(r.state, "delivered") << r.key;
    EXPECT_EQ(r.channel, "mail") << r.key;
    EXPECT_EQ(r.attempts, 1) << r.key;
  }
  std::size_t delivered = 0;
  for (const auto& a : st.audit()) {
    if (a.kind != "notification.attempt") continue;
    EXPECT_EQ(json::parse(a.details)["outcome"], "delivered") << a.details;
    ++delivered;
  }
  EXPECT_EQ(delivered, rows.size());

  // A restart at the same moment sends nothing again.
  {
    auto again = box.daemon("2026-03-31T10:00");
    ASSERT_TRUE(again->wait_ready());
    ASSERT_TRUE(exited_zero(again->terminate(), again->log()));
  }
  EXPECT_EQ(smtp.count(), rows.size());
  EXPECT_EQ(hook.count(), 0u) << "nobody in this review prefers the webhook";
}

TEST(Delivery, MailWaitsWhileTheServerIsDownAndGoesOnceAfterARestart) {
  PythonPeer smtp("smtp_server.py", {"--down"});  // its port refuses connections until it comes up
  TempConfig cfg;
  point_at(cfg, smtp.port(), "http://127.0.0.1:9/hook");
  Sandbox box(cfg.dir());
  auto attempts = [&](int n) {
    return eventually([&] {
      json rows = box.outbox();
      return rows.is_array() && rows.size() == 1 && rows[0]["attempts"].get<int>() >= n;
    });
  };
  {
    auto d = box.daemon("2026-03-02T08:00");
    ASSERT_TRUE(d->wait_ready());
    ASSERT_TRUE(ok(box.docket({"start", "rapid-review", "--ref", "RR-7", "--on", "2026-03-02", "--assign",
                               "lead-reviewer=c-jones"})));
    ASSERT_TRUE(ok(box.docket({"clock", "advance", "3d"})));
    ASSERT_TRUE(ok(box.docket({"clock", "advance", "2h"})));  // Thu 5 March 10:00: the Panel reminder is due
    // Nobody listens: the message waits, with its failures on record.
    ASSERT_TRUE(attempts(1)) << box.outbox().dump(2) << "\n" << d->log();
    ASSERT_TRUE(ok(box.docket({"clock", "advance", "2m"})));  // past its retry
    ASSERT_TRUE(attempts(2)) << box.outbox().dump(2) << "\n" << d->log();
    json row = box.outbox()[0];
    EXPECT_EQ(row["state"], "pending");
    EXPECT_EQ(row["person"], "k-davies");
    EXPECT_NE(row["last_error"].get<std::string>(), "");
    ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  }
  // The mail server comes back; so does docketd, which delivers what waited
  // once its retry falls due.
  smtp.come_up();
  {
    auto d = box.daemon("2026-03-05T10:00");
    ASSERT_TRUE(d->wait_ready());
    ASSERT_TRUE(ok(box.docket({"clock", "advance", "2m"})));
    ASSERT_TRUE(eventually([&] { return smtp.count() >= 1; })) << d->log();
    ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  }
  ASSERT_EQ(smtp.count(), 1u) << "delivered once";
  json mail = smtp.record(1);
  EXPECT_EQ(mail["rcpt_tos"][0], "kim.davies@example.org");
  EXPECT_NE(header(mail, "subject").find("RR-7"), std::string::npos);

  store::Store st(box.db(), "virtual");
  auto rows = st.outbox("");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].state, "delivered");
  ASSERT_GE(rows[0].attempts, 3);
  // The trail holds the first failure and how it ended, not every retry.
  auto records = audit_of_kind(box.db(), "notification.attempt");
  ASSERT_EQ(records.size(), 2u);
  json first = json::parse(records[0].details), last = json::parse(records[1].details);
  EXPECT_EQ(first["outcome"], "temporary") << first;
  EXPECT_EQ(first["attempt"], 1) << first;
  EXPECT_EQ(last["outcome"], "delivered") << last;
  EXPECT_EQ(last["attempt"], rows[0].attempts) << last;
  EXPECT_EQ(last["attempts"], rows[0].attempts) << last;
  EXPECT_NE(last["last_error"].get<std::string>(), "") << last;
}

std::string hmac_hex(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    static const char* digits = "0123456789abcdef";
    hex += digits[mac[i] >> 4];
    hex += digits[mac[i] & 15];
  }
  return hex;
}

TEST(Delivery, WebhooksAreSignedRetriedOn503AndDeadLetteredOn400UntilRetried) {
  PythonPeer smtp("smtp_server.py", {});
  PythonPeer hook("http_server.py", {});
  TempConfig cfg;
  const std::string base = "http://127.0.0.1:" + std::to_string(hook.port());
  point_at(cfg, smtp.port(), base + "/flaky/2");
  cfg.write("hook-secret", "s3cret-for-the-test\n");
  cfg.append("docketd.toml", "\n[channels.refusing]\ntype = \"webhook\"\nurl = \"" + base + "/status/400\"\n");
  std::string t = slurp(cfg.dir() / "docketd.toml");
  cfg.write("docketd.toml", replace(t, "# secret_file = \"webhook-secret\"", "secret_file = \"hook-secret\""));
  set_person(cfg, "k-davies", "prefers = \"hook\"");
  set_person(cfg, "c-jones", "prefers = \"refusing\"");
  Sandbox box(cfg.dir());
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready()) << d->log();
  ASSERT_TRUE(ok(box.docket({"start", "rapid-review", "--ref", "RR-9", "--on", "2026-03-02", "--assign",
                             "lead-reviewer=c-jones"})));
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "3d"})));
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "2h"})));  // Thu 5 March: the Panel reminder to k-davies
  // Each 503 is retried once the clock has passed its retry.
  for (std::size_t posts = 1; posts <= 3; ++posts) {
    ASSERT_TRUE(eventually([&] { return hook.count() >= posts; })) << d->log();
    if (posts < 3) {
      ASSERT_TRUE(ok(box.docket({"clock", "advance", "2m"})));
    }
  }
  ASSERT_TRUE(ok(box.docket({"complete", "RR-9", "notify-panel", "--on", "2026-03-05"})));  // no escalations

  // Two 503s, then success: three posts of one message, each signed.
  std::set<std::string> keys;
  for (int i = 1; i <= 3; ++i) {
    json rec = hook.record(i);
    const std::string body = hook.raw(i, ".body");
    const json& h = rec["headers"];
    EXPECT_EQ(rec["path"], "/flaky/2");
    keys.insert(h.value("idempotency-key", ""));
    const std::string ts = h.value("x-docket-timestamp", "");
    EXPECT_EQ(h.value("x-docket-signature", ""), "sha256=" + hmac_hex("s3cret-for-the-test", ts + "." + body));
    json doc = json::parse(body);
    EXPECT_EQ(doc["event"], "reminder");
    EXPECT_EQ(doc["reference"], "RR-9");
    EXPECT_EQ(doc["stage"], "notify-panel");
    EXPECT_EQ(doc["due"], "2026-03-09");
  }
  EXPECT_EQ(keys.size(), 1u) << "every retry carries the same Idempotency-Key";

  // c-jones's first reminder (Mon 16 March) goes to a receiver that says 400.
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "11d"})));
  ASSERT_TRUE(eventually(
      [&] {
        json dead = box.outbox(true);
        return dead.is_array() && dead.size() == 1;
      }))
      << box.outbox(true).dump(2) << d->log();
  json dead = box.outbox(true)[0];
  EXPECT_EQ(dead["person"], "c-jones");
  EXPECT_EQ(dead["attempts"], 1) << "a 400 is not retried";
  EXPECT_NE(dead["last_error"].get<std::string>().find("400"), std::string::npos) << dead.dump();

  // An operator sends it again: one more attempt, dead again.
  const std::string id = std::to_string(dead["id"].get<std::int64_t>());
  auto retried = box.docket({"outbox", "retry", id});
  ASSERT_TRUE(ok(retried));
  EXPECT_NE(retried.out.find("queued again"), std::string::npos) << retried.out;
  ASSERT_TRUE(eventually(
      [&] {
        json rows = box.outbox(true);
        return rows.is_array() && rows.size() == 1 && rows[0]["attempts"] == 2;
      }))
      << box.outbox(true).dump(2);
  auto refused = box.docket({"outbox", "retry", "999999"});
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("no message 999999"), std::string::npos) << refused.err;
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));

  // The audit trail holds each attempt, the dead letters and the retry.
  std::vector<std::string> outcomes;
  for (const auto& a : audit_of_kind(box.db(), "notification.attempt")) {
    json j = json::parse(a.details);
    outcomes.push_back(j["channel"].get<std::string>() + ":" + j["outcome"].get<std::string>());
  }
  // The first failure and the end of each message's delivery; the
  // operator's retry starts its delivery again.
  EXPECT_EQ(outcomes, (std::vector<std::string>{"hook:temporary", "hook:delivered", "refusing:permanent",
                                                "refusing:permanent"}));
  EXPECT_EQ(audit_of_kind(box.db(), "notification.dead").size(), 2u);
  auto retries = audit_of_kind(box.db(), "notification.retried");
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0].actor, "a-morgan") << "root is a-morgan in the shipped directory";

  // The review's story tells the deliveries too.
  auto story = box.docket({"audit", "show", "RR-9", "--db", box.db().string(), "--config", cfg.dir().string()});
  ASSERT_TRUE(ok(story));
  EXPECT_NE(story.out.find("Delivery failed, will retry: reminder to k-davies through hook"), std::string::npos)
      << story.out;
  EXPECT_NE(story.out.find("Delivered: reminder to k-davies through hook"), std::string::npos) << story.out;
  EXPECT_NE(story.out.find("Gave up delivering RR-9:rapid-review:reminder:1:c-jones"), std::string::npos)
      << story.out;
}

std::vector<json> mails_to(const PythonPeer& smtp, const std::string& address) {
  std::vector<json> out;
  for (auto& m : mails(smtp)) {
    if (m["rcpt_tos"][0] == address) out.push_back(std::move(m));
  }
  return out;
}

bool has_subject(const PythonPeer& smtp, const std::string& part) {
  for (const auto& m : mails(smtp)) {
    if (header(m, "subject").find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(Delivery, QuietHoursHoldRemindersTillMorningWhileEscalationsGoAtOnce) {
  PythonPeer smtp("smtp_server.py", {});
  TempConfig cfg;
  point_at(cfg, smtp.port(), "http://127.0.0.1:9/hook");
  Sandbox box(cfg.dir());
  {
    auto d = box.daemon("2026-03-02T08:00");
    ASSERT_TRUE(d->wait_ready());
    ASSERT_TRUE(ok(box.docket({"start", "rapid-review", "--ref", "RR-Q", "--on", "2026-03-02", "--assign",
                               "lead-reviewer=c-jones"})));
    ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  }
  // Back at 3 a.m. on Wednesday 11 March: the Panel reminder (Thu 5) and the
  // first escalation (Tue 10) fell due during the outage.
  auto d = box.daemon("2026-03-11T03:00");
  ASSERT_TRUE(d->wait_ready());
  ASSERT_TRUE(eventually([&] { return has_subject(smtp, "Overdue: RR-Q Notify"); })) << d->log();
  json held;
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& row : box.outbox()) {
          if (row["ref"] == "RR-Q" && row["kind"] == "reminder" && row["held_until"].is_string()) held = row;
        }
        return held.is_object();
      }))
      << box.outbox().dump(2);
  EXPECT_EQ(held["held_until"], "2026-03-11 08:00");
  EXPECT_EQ(held["attempts"], 0);
  EXPECT_FALSE(has_subject(smtp, "Reminder: RR-Q")) << "a reminder does not wake anyone at 3 a.m.";

  ASSERT_TRUE(ok(box.docket({"clock", "advance", "5h"})));  // 08:00: working hours
  ASSERT_TRUE(eventually([&] { return has_subject(smtp, "Reminder: RR-Q Notify"); })) << d->log();
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  auto kim = mails_to(smtp, "kim.davies@example.org");
  ASSERT_EQ(kim.size(), 2u);
  EXPECT_NE(header(kim[0], "subject").find("Overdue"), std::string::npos) << "the escalation went first";
  EXPECT_NE(header(kim[1], "subject").find("Reminder"), std::string::npos);
}

TEST(Delivery, ADigestGathersAPersonsRemindersIntoOneMessageAWorkingDay) {
  PythonPeer smtp("smtp_server.py", {});
  TempConfig cfg;
  point_at(cfg, smtp.port(), "http://127.0.0.1:9/hook");
  set_person(cfg, "c-jones", "digest = true");
  Sandbox box(cfg.dir());
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  ASSERT_TRUE(ok(box.docket({"start", "rapid-review", "--ref", "RR-D", "--on", "2026-03-02", "--assign",
                             "lead-reviewer=c-jones"})));
  ASSERT_TRUE(ok(box.docket({"complete", "RR-D", "notify-panel", "--on", "2026-03-02"})));
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "14d"})));  // Mon 16 March 08:00
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "2h"})));   // 10:00: the first reminder waits for a digest
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& row : box.outbox()) {
          if (row["ref"] == "RR-D" && row["state"] == "digest") return true;
        }
        return false;
      }))
      << box.outbox().dump(2);
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "1d"})));  // Tue 17 March 10:00: its digest goes
  ASSERT_TRUE(eventually([&] { return !mails_to(smtp, "chris.jones@example.org").empty(); })) << d->log();
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "2d"})));  // Thu 19: the second reminder ...
  ASSERT_TRUE(ok(box.docket({"clock", "advance", "1d"})));  // ... in Friday's digest
  ASSERT_TRUE(eventually([&] { return mails_to(smtp, "chris.jones@example.org").size() >= 2; })) << d->log();
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));

  auto chris = mails_to(smtp, "chris.jones@example.org");
  ASSERT_EQ(chris.size(), 2u) << "only digests, never the reminders one by one";
  EXPECT_EQ(header(chris[0], "subject"), "docket: 1 item(s) for Tuesday 17 March 2026");
  EXPECT_EQ(header(chris[1], "subject"), "docket: 1 item(s) for Friday 20 March 2026");
  for (const auto& m : chris) {
    const std::string body = m["parsed"]["body"];
    EXPECT_NE(body.find("- RR-D Complete the Rapid Review; send it and the decision on a local review to the Panel: "
                        "due Monday 23 March 2026"),
              std::string::npos)
        << body;
  }
  store::Store st(box.db(), "virtual");
  int digested = 0;
  for (const auto& row : st.outbox("")) {
    if (row.person == "c-jones" && row.kind == "reminder") {
      EXPECT_EQ(row.state, "digested") << row.key;
      ++digested;
    }
  }
  EXPECT_EQ(digested, 2);
}

}  // namespace
}  // namespace docket::testing
