// The webhook channel against a real HTTP(S) server on loopback.

#include <gtest/gtest.h>

#include "notifiers/signing.h"
#include "tests/notifiers/peers.h"

namespace docket::notifiers {
namespace {

using namespace std::chrono;
using testing::load_channel;
using testing::PythonPeer;
using testing::TempDir;

const auto sent_at = sys_days(2026y / March / 2d) + 9h + 30s;

Message message() {
  Message m;
  m.idempotency_key = "escalation:RR-2026-014:rapid-review:1";
  m.to = {"", ""};
  m.subject = "RR-2026-014 \"overdue\" \xE2\x80\x94 escalation";
  m.text = "Line one\nLine two with a \\ backslash\ttab";
  m.json = R"({"event":"escalation","reference":"RR-2026-014","rung":1})";
  m.created_at = sys_days(2026y / March / 2d) + 9h;
  m.fields = {{"reference", "RR-2026-014"}, {"stage", "rapid-review"}, {"due_date", "5 March 2026"},
              {"days_left", "-2"},          {"role", "chair"},          {"link", "https://d.example.org/RR-2026-014"}};
  return m;
}

class Webhook : public ::testing::Test {
 protected:
  TempDir dir;
  void SetUp() override { std::ofstream(dir.path() / "hook-secret") << "whsec-test-0123456789\n"; }

  std::unique_ptr<Notifier> hook(const std::string& url, const std::string& extra = "") {
    std::string toml = "[channels.hook]\ntype = \"webhook\"\nurl = \"" + url +
                       "\"\nsecret_file = \"hook-secret\"\nconnect_timeout = 2\n";
    if (extra.find("timeout =") == std::string::npos) toml += "timeout = 5\n";
    auto loaded = load_channel(toml + extra, dir.path());
    for (const auto& e : loaded.errors) ADD_FAILURE() << e;
    if (!loaded.channel) throw std::runtime_error("channel did not load");
    Services services;
    services.wall_clock = [] { return sent_at; };
    return loaded.channel->create(services);
  }
  static std::string at(const PythonPeer& p, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(p.port()) + path;
  }
};

TEST_F(Webhook, PostsTheJsonSignedWithTheSecret) {
  PythonPeer http("http_server.py", {});
  Delivery d = hook(at(http, "/hook"))->deliver(message());
  ASSERT_EQ(d.outcome, Outcome::delivered) << d.detail << "\n" << http.log();
  ASSERT_EQ(http.count(), 1u);
  const auto r = http.record(1);
  const auto& h = r["headers"];
  const std::string body = http.raw(1, ".body");
  EXPECT_EQ(r["path"], "/hook");
  EXPECT_EQ(body, *message().json);
  EXPECT_EQ(h["content-type"], "application/json");
  EXPECT_EQ(h["idempotency-key"], "escalation:RR-2026-014:rapid-review:1");
  const std::string ts = std::to_string(duration_cast<seconds>(sent_at.time_since_epoch()).count());
  EXPECT_EQ(h["x-docket-timestamp"], ts);
  // The receiver's check, done independently of webhook_signature().
  EXPECT_EQ(h["x-docket-signature"], "sha256=" + hmac_sha256_hex("whsec-test-0123456789", ts + "." + body));
  EXPECT_NE(h["x-docket-signature"], "sha256=" + hmac_sha256_hex("another-secret", ts + "." + body));
  EXPECT_EQ(d.detail.find("/hook"), std::string::npos) << "the path may hold a token: " << d.detail;
}

TEST_F(Webhook, StatusCodesDecideTheOutcome) {
  PythonPeer http("http_server.py", {});
  struct Case {
    int status;
    Outcome outcome;
  };
  for (Case c : {Case{200, Outcome::delivered}, Case{202, Outcome::delivered}, Case{204, Outcome::delivered},
                 Case{503, Outcome::temporary}, Case{500, Outcome::temporary}, Case{429, Outcome::temporary},
                 Case{408, Outcome::temporary}, Case{400, Outcome::permanent}, Case{404, Outcome::permanent},
                 Case{410, Outcome::permanent}, Case{301, Outcome::permanent}}) {
    auto one = hook(at(http, "/status/" + std::to_string(c.status)));
    Delivery d = one->deliver(message());
    EXPECT_EQ(d.outcome, c.outcome) << c.status << ": " << d.detail;
    EXPECT_NE(d.detail.find("HTTP " + std::to_string(c.status)), std::string::npos) << d.detail;
    if (c.status == 503 || c.status == 429) {
      EXPECT_EQ(d.retry_after, seconds(7)) << "the receiver's Retry-After is passed on";
    }
  }
  EXPECT_EQ(http.count(), 11u);
}

// Retry-After may also be an HTTP-date (RFC 9110): an hour ahead here.
TEST_F(Webhook, ARetryAfterDateIsReadToo) {
  PythonPeer http("http_server.py", {});
  Delivery d = hook(at(http, "/status/503?date"))->deliver(message());
  EXPECT_EQ(d.outcome, Outcome::temporary) << d.detail;
  ASSERT_TRUE(d.retry_after) << "the date was not read";
  EXPECT_GT(*d.retry_after, seconds(3000));
  EXPECT_LE(*d.retry_after, seconds(3601));
}

TEST_F(Webhook, ReceiverDownOrSlowIsTemporary) {
  testing::ClosedPort closed;
  Delivery down = hook("http://127.0.0.1:" + std::to_string(closed.port()) + "/")->deliver(message());
  EXPECT_EQ(down.outcome, Outcome::temporary) << down.detail;
  EXPECT_NE(down.detail.find("onnect"), std::string::npos) << down.detail;

  // A receiver that never answers: only the timeout ends the attempt.
  PythonPeer http("http_server.py", {});
  Delivery slow = hook(at(http, "/hang"), "timeout = 0.5\n")->deliver(message());
  EXPECT_EQ(slow.outcome, Outcome::temporary) << slow.detail;
  EXPECT_NE(slow.detail.find("imed out"), std::string::npos) << slow.detail;
}

TEST_F(Webhook, TeamsOrSlackShapeFromATemplateIsValidJson) {
  PythonPeer http("http_server.py", {});
  auto n = hook(at(http, "/teams"),
                "template = '''{\"text\": \"**{reference}** {subject}\\n\\n{body}\", \"link\": \"{link}\"}'''\n");
  Delivery d = n->deliver(message());
  ASSERT_EQ(d.outcome, Outcome::delivered) << d.detail;
  const std::string body = http.raw(1, ".body");
  auto doc = nlohmann::json::parse(body);  // throws, failing the test, if not JSON
  const Message m = message();
  EXPECT_EQ(doc["text"], "**RR-2026-014** " + m.subject + "\n\n" + m.text);
  EXPECT_EQ(doc["link"], "https://d.example.org/RR-2026-014");
  EXPECT_EQ(doc.size(), 2u);
}

TEST_F(Webhook, WithoutJsonOrTemplateAGenericDocumentIsSent) {
  PythonPeer http("http_server.py", {});
  Message m = message();
  m.json.reset();
  ASSERT_TRUE(hook(at(http, "/"))->deliver(m).ok());
  auto doc = nlohmann::json::parse(http.raw(1, ".body"));
  EXPECT_EQ(doc["idempotency_key"], m.idempotency_key);
  EXPECT_EQ(doc["subject"], m.subject);
  EXPECT_EQ(doc["fields"]["reference"], "RR-2026-014");
}

TEST_F(Webhook, Https) {
  auto cert = testing::make_certificate(dir.path());
  PythonPeer https("http_server.py", {"--cert", cert.cert.string(), "--key", cert.key.string()});
  const std::string url = "https://127.0.0.1:" + std::to_string(https.port()) + "/hook";
  Delivery trusted = hook(url, "ca_file = \"" + cert.cert.string() + "\"\n")->deliver(message());
  ASSERT_EQ(trusted.outcome, Outcome::delivered) << trusted.detail << "\n" << https.log();
  EXPECT_EQ(https.count(), 1u);
  Delivery untrusted = hook(url)->deliver(message());
  EXPECT_EQ(untrusted.outcome, Outcome::temporary) << untrusted.detail;
  EXPECT_EQ(https.count(), 1u) << "nothing sent to a receiver whose certificate is not trusted";
}

TEST_F(Webhook, UrlFromAFileStaysOutOfDetails) {
  PythonPeer http("http_server.py", {});
  std::ofstream(dir.path() / "hook-url") << at(http, "/status/400?token=T0P-SECRET") << "\n";
  auto loaded = load_channel("[channels.hook]\ntype = \"webhook\"\nurl_file = \"hook-url\"\n", dir.path());
  ASSERT_TRUE(loaded.channel) << (loaded.errors.empty() ? "" : loaded.errors[0]);
  Delivery d = loaded.channel->create()->deliver(message());
  EXPECT_EQ(d.outcome, Outcome::permanent) << d.detail;
  EXPECT_EQ(d.detail.find("T0P-SECRET"), std::string::npos) << d.detail;
  ASSERT_EQ(http.count(), 1u);
  EXPECT_FALSE(http.record(1)["headers"].contains("x-docket-signature")) << "no secret_file, no signature";
}

}  // namespace
}  // namespace docket::notifiers
