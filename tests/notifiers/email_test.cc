// The email channel against a real SMTP server (aiosmtpd) on loopback; what
// arrives is read by Python's email package with policy=email.policy.strict.

#include <gtest/gtest.h>

#include <cstdlib>

#include "notifiers/mail_format.h"
#include "notifiers/signing.h"
#include "tests/notifiers/peers.h"

namespace docket::notifiers {
namespace {

using namespace std::chrono;
using testing::Certificate;
using testing::eventually;
using testing::load_channel;
using testing::PythonPeer;
using testing::TempDir;

const std::string subject_text = "R\xC3\xA9view \xE2\x80\x94 due 5 March";  // "Réview — due 5 March"
const std::string body_text =
    "Dear Ren\xC3\xA9,\n"
    "\n"
    "The rapid review RR-2026-014 is due on 5 March 2026 (\xC2\xA3 0 = nothing owed).\n"
    ".a line that starts with a dot\n"
    ".\n"
    "A long line that goes on and on well past the seventy-six characters quoted-printable allows per line.\n"
    "trailing space \n"
    "https://docket.example.org/reviews/RR-2026-014\n";

Message message(std::string key = "reminder:RR-2026-014:rapid-review:0") {
  Message m;
  m.idempotency_key = std::move(key);
  m.to = {"rene@council.example.org", "Ren\xC3\xA9 Dupr\xC3\xA9"};
  m.subject = subject_text;
  m.text = body_text;
  m.created_at = sys_days(2026y / March / 2d) + 9h;
  m.fields = {{"reference", "RR-2026-014"}, {"stage", "rapid-review"}, {"due_date", "5 March 2026"},
              {"days_left", "3"},           {"role", "lead-reviewer"},  {"link", "https://d.example.org/RR-2026-014"}};
  return m;
}

// An email channel to 127.0.0.1:port; `extra` adds or overrides settings.
std::unique_ptr<Notifier> email_to(int port, const std::string& extra, const std::filesystem::path& dir = ".") {
  std::string toml = "[channels.mail]\ntype = \"email\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) +
                     "\nfrom = \"docket@partnership.example.org\"\nfrom_name = \"Docket\"\nconnect_timeout = 2\n";
  if (extra.find("timeout =") == std::string::npos) toml += "timeout = 5\n";
  auto loaded = load_channel(toml + extra, dir);
  for (const auto& e : loaded.errors) ADD_FAILURE() << e;
  if (!loaded.channel) throw std::runtime_error("channel did not load");
  return loaded.channel->create();
}

std::string problems(const nlohmann::json& record) {
  std::string out;
  for (const auto& p : record["problems"]) out += p.get<std::string>() + "\n";
  return out;
}

TEST(Email, DeliversAWellFormedUtf8Message) {
  PythonPeer smtp("smtp_server.py", {"--tls", "none"});
  auto notifier = email_to(smtp.port(), "tls = \"none\"\n");
  const Message m = message();
  Delivery d = notifier->deliver(m);
  ASSERT_EQ(d.outcome, Outcome::delivered) << d.detail << "\n" << smtp.log();
  EXPECT_NE(d.detail.find("250"), std::string::npos) << d.detail;
  ASSERT_EQ(smtp.count(), 1u);
  auto r = smtp.record(1);
  EXPECT_EQ(problems(r), "") << smtp.raw(1, ".eml");
  EXPECT_EQ(r["mail_from"], "docket@partnership.example.org");
  EXPECT_EQ(r["rcpt_tos"], nlohmann::json::array({"rene@council.example.org"}));
  const auto& p = r["parsed"];
  EXPECT_EQ(p["from_addresses"], nlohmann::json::array({"docket@partnership.example.org"}));
  EXPECT_EQ(p["from_names"], nlohmann::json::array({"Docket"}));
  EXPECT_EQ(p["to_addresses"], nlohmann::json::array({"rene@council.example.org"}));
  EXPECT_EQ(p["to_names"], nlohmann::json::array({"Ren\xC3\xA9 Dupr\xC3\xA9"}));
  EXPECT_EQ(p["headers"]["subject"], subject_text);
  EXPECT_EQ(p["date_iso"], "2026-03-02T09:00:00+00:00");
  EXPECT_EQ(p["headers"]["date"], "Mon, 02 Mar 2026 09:00:00 +0000");
  EXPECT_EQ(p["headers"]["message-id"],
            "<" + sha256_hex(m.idempotency_key).substr(0, 32) + "@docket.partnership.example.org>");
  EXPECT_EQ(p["headers"]["auto-submitted"], "auto-generated");
  EXPECT_EQ(p["headers"]["mime-version"], "1.0");
  EXPECT_EQ(p["content_type"], "text/plain");
  EXPECT_EQ(p["charset"], "utf-8");
  EXPECT_EQ(p["cte"], "quoted-printable");
  EXPECT_EQ(p["body"], body_text) << "lines starting with '.' survive SMTP (curl dot-stuffs them)";
  const std::string raw = smtp.raw(1, ".eml");
  EXPECT_EQ(raw.find("\r\n..a line"), std::string::npos) << "the server removed the stuffing";
}

TEST(Email, TemplatesFromTheChannelRenderFromTheMessageFields) {
  PythonPeer smtp("smtp_server.py", {});
  auto notifier = email_to(smtp.port(), "tls = \"none\"\nsubject = \"[{reference}] {stage} due {due_date}\"\n"
                                        "body = \"\"\"\nTo the {role}: {days_left} working days left.\n{link}\n\"\"\"\n");
  Delivery d = notifier->deliver(message());
  ASSERT_EQ(d.outcome, Outcome::delivered) << d.detail;
  ASSERT_TRUE(eventually([&] { return smtp.count() == 1; }));
  const auto p = smtp.record(1)["parsed"];
  EXPECT_EQ(p["headers"]["subject"], "[RR-2026-014] rapid-review due 5 March 2026");
  EXPECT_EQ(p["body"], "To the lead-reviewer: 3 working days left.\nhttps://d.example.org/RR-2026-014\n");
}

TEST(Email, TheSameKeyGivesTheSameMessageIdOnARetry) {
  PythonPeer smtp("smtp_server.py", {});
  auto notifier = email_to(smtp.port(), "tls = \"none\"\n");
  ASSERT_TRUE(notifier->deliver(message("k-1")).ok());
  ASSERT_TRUE(notifier->deliver(message("k-1")).ok());
  ASSERT_TRUE(notifier->deliver(message("k-2")).ok());
  ASSERT_EQ(smtp.count(), 3u);
  auto id = [&](int n) { return smtp.record(n)["parsed"]["headers"]["message-id"].get<std::string>(); };
  EXPECT_EQ(id(1), id(2));
  EXPECT_NE(id(1), id(3));
}

TEST(Email, ServerDownIsTemporary) {
  testing::ClosedPort closed;
  auto notifier = email_to(closed.port(), "tls = \"none\"\n");
  Delivery d = notifier->deliver(message());
  EXPECT_EQ(d.outcome, Outcome::temporary) << d.detail;
  EXPECT_NE(d.detail.find("127.0.0.1"), std::string::npos) << d.detail;
  EXPECT_NE(d.detail.find("onnect"), std::string::npos) << d.detail;
}

TEST(Email, ASilentServerTimesOutAsTemporary) {
  testing::SilentListener wedged;
  auto notifier = email_to(wedged.port(), "tls = \"none\"\ntimeout = 1\n");
  // It accepts and never speaks: only the timeout ends the attempt.
  Delivery d = notifier->deliver(message());
  EXPECT_EQ(d.outcome, Outcome::temporary) << d.detail;
  EXPECT_NE(d.detail.find("imeout"), std::string::npos) << d.detail;
}

TEST(Email, A5xxRecipientRefusalIsPermanentA4xxTemporary) {
  PythonPeer smtp("smtp_server.py", {"--reject", "gone@example.org=550", "--reject", "full@example.org=452"});
  auto notifier = email_to(smtp.port(), "tls = \"none\"\n");
  Message m = message();
  m.to.address = "gone@example.org";
  Delivery gone = notifier->deliver(m);
  EXPECT_EQ(gone.outcome, Outcome::permanent) << gone.detail;
  EXPECT_NE(gone.detail.find("550 5.1.1 <gone@example.org>: rejected by the test"), std::string::npos)
      << "the server's own words, not the QUIT that followed: " << gone.detail;
  m.to.address = "full@example.org";
  Delivery full = notifier->deliver(m);
  EXPECT_EQ(full.outcome, Outcome::temporary) << full.detail;
  EXPECT_NE(full.detail.find("452"), std::string::npos) << full.detail;
  EXPECT_EQ(smtp.count(), 0u);
}

TEST(Email, AMalformedRecipientIsPermanentWithoutConnecting) {
  testing::ClosedPort closed;
  auto notifier = email_to(closed.port(), "tls = \"none\"\n");
  Message m = message();
  m.to.address = "rene@example.org>\r\nRCPT TO:<everyone@example.org";
  EXPECT_EQ(notifier->deliver(m).outcome, Outcome::permanent);
}

class EmailTls : public ::testing::Test {
 protected:
  TempDir dir;
  Certificate cert = testing::make_certificate(dir.path());
  std::vector<std::string> tls_args(const std::string& mode) {
    return {"--tls", mode, "--cert", cert.cert.string(), "--key", cert.key.string()};
  }
  std::string trust() const { return "ca_file = \"" + cert.cert.string() + "\"\n"; }
};

TEST_F(EmailTls, StartTls) {
  PythonPeer smtp("smtp_server.py", tls_args("starttls"));
  auto notifier = email_to(smtp.port(), "tls = \"starttls\"\n" + trust());
  Delivery d = notifier->deliver(message());
  ASSERT_EQ(d.outcome, Outcome::delivered) << d.detail << "\n" << smtp.log();
  ASSERT_EQ(smtp.count(), 1u);
  EXPECT_EQ(smtp.record(1)["tls"], true);
  EXPECT_EQ(problems(smtp.record(1)), "");
}

TEST_F(EmailTls, ImplicitTls) {
  PythonPeer smtp("smtp_server.py", tls_args("implicit"));
  auto notifier = email_to(smtp.port(), "tls = \"implicit\"\n" + trust());
  Delivery d = notifier->deliver(message());
  ASSERT_EQ(d.outcome, Outcome::delivered) << d.detail << "\n" << smtp.log();
  ASSERT_EQ(smtp.count(), 1u);
  EXPECT_EQ(smtp.record(1)["parsed"]["headers"]["subject"], subject_text);
}

TEST_F(EmailTls, TlsIsRequiredByDefaultSoAPlainServerGetsNothing) {
  PythonPeer smtp("smtp_server.py", {"--tls", "none"});
  auto notifier = email_to(smtp.port(), trust());  // no tls key: starttls required
  Delivery d = notifier->deliver(message());
  EXPECT_NE(d.outcome, Outcome::delivered) << d.detail;
  EXPECT_EQ(smtp.count(), 0u) << "no silent downgrade to plain text";
}

TEST_F(EmailTls, AnUntrustedCertificateIsRefused) {
  PythonPeer smtp("smtp_server.py", tls_args("starttls"));
  auto notifier = email_to(smtp.port(), "tls = \"starttls\"\n");  // no ca_file: the system's trust store
  Delivery d = notifier->deliver(message());
  EXPECT_EQ(d.outcome, Outcome::temporary) << d.detail;
  EXPECT_EQ(smtp.count(), 0u);
}

TEST_F(EmailTls, AuthWithThePasswordFromAFileOrTheEnvironment) {
  PythonPeer smtp("smtp_server.py", [&] {
    auto a = tls_args("starttls");
    a.insert(a.end(), {"--user", "docket", "--password", "corr3ct horse"});
    return a;
  }());
  std::ofstream(dir.path() / "smtp-password") << "corr3ct horse\n";
  auto from_file = email_to(smtp.port(), "username = \"docket\"\npassword_file = \"smtp-password\"\n" + trust(),
                            dir.path());
  Delivery d = from_file->deliver(message());
  ASSERT_EQ(d.outcome, Outcome::delivered) << d.detail << "\n" << smtp.log();
  ASSERT_EQ(smtp.count(), 1u);
  EXPECT_EQ(smtp.record(1)["authenticated"], true);

  ::setenv("DOCKET_TEST_SMTP_PASSWORD", "corr3ct horse", 1);
  auto from_env = email_to(smtp.port(), "username = \"docket\"\npassword_env = \"DOCKET_TEST_SMTP_PASSWORD\"\n" + trust());
  EXPECT_TRUE(from_env->deliver(message()).ok());

  ::setenv("DOCKET_TEST_SMTP_PASSWORD", "wrong", 1);
  auto wrong = email_to(smtp.port(), "username = \"docket\"\npassword_env = \"DOCKET_TEST_SMTP_PASSWORD\"\n" + trust());
  Delivery refused = wrong->deliver(message());
  EXPECT_EQ(refused.outcome, Outcome::permanent) << refused.detail;
  EXPECT_NE(refused.detail.find("535"), std::string::npos) << refused.detail;
  EXPECT_EQ(refused.detail.find("wrong"), std::string::npos) << "never the password: " << refused.detail;
  EXPECT_EQ(smtp.count(), 2u);
  ::unsetenv("DOCKET_TEST_SMTP_PASSWORD");
}

}  // namespace
}  // namespace docket::notifiers
