// Channel settings are checked when the configuration loads: every problem
// reported at file:line:col with a way to fix it, nothing left for 3 a.m.

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/notifiers/peers.h"

namespace docket::notifiers {
namespace {

using testing::load_channel;
using testing::TempDir;

std::string all(const std::vector<std::string>& errors) {
  std::string out;
  for (const auto& e : errors) out += e + "\n";
  return out;
}

TEST(Settings, ValidChannelsLoad) {
  TempDir dir;
  std::ofstream(dir.path() / "smtp-password") << "s3cret\n";
  std::ofstream(dir.path() / "hook-secret") << "hook-key\n";
  auto email = load_channel(R"(
[channels.staff-mail]
type = "email"
host = "smtp.example.org"
port = 587
tls = "starttls"
from = "docket@example.org"
from_name = "Safeguarding Partnership"
username = "docket"
password_file = "smtp-password"
connect_timeout = 5
timeout = 30.5
subject = "{reference}: {stage} due {due_date}"
body = """
{role}: {stage} of {reference} is due {due_date}.
{link}
"""
)",
                            dir.path());
  EXPECT_TRUE(email.errors.empty()) << all(email.errors);
  ASSERT_TRUE(email.channel);
  EXPECT_EQ(email.channel->name(), "staff-mail");
  EXPECT_EQ(email.channel->type(), "email");

  auto hook = load_channel(R"(
[channels.teams]
type = "webhook"
url = "https://hooks.example.org/docket"
secret_file = "hook-secret"
template = '{"text": "{subject}"}'
)",
                           dir.path());
  EXPECT_TRUE(hook.errors.empty()) << all(hook.errors);
  auto log = load_channel("[channels.journal]\ntype = \"log\"\n");
  EXPECT_TRUE(log.errors.empty()) << all(log.errors);
  EXPECT_TRUE(log.channel);
}

TEST(Settings, MissingHostAndFromAreReportedAtTheTable) {
  auto r = load_channel("[channels.mail]\ntype = \"email\"\nport = 2525\n");
  EXPECT_FALSE(r.channel);
  ASSERT_EQ(r.errors.size(), 2u) << all(r.errors);
  EXPECT_EQ(r.errors[0], "docketd.toml:1:1: channel 'mail' has no 'from', e.g. from = \"docket@example.org\"");
  EXPECT_EQ(r.errors[1], "docketd.toml:1:1: channel 'mail' has no 'host', e.g. host = \"smtp.example.org\"");
}

TEST(Settings, BadTlsValueSuggestsTheNearestMode) {
  auto r = load_channel(R"([channels.mail]
type = "email"
host = "smtp.example.org"
from = "docket@example.org"
tls = "startls"
)");
  ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
  EXPECT_EQ(r.errors[0],
            "docketd.toml:5:7: unknown tls mode 'startls', did you mean 'starttls'? "
            "(expected one of: starttls, implicit or none)");
}

TEST(Settings, PasswordInTheConfigIsRefusedWithTheWayToFixIt) {
  auto r = load_channel(R"([channels.mail]
type = "email"
host = "smtp.example.org"
from = "docket@example.org"
username = "docket"
password = "hunter2"
)");
  EXPECT_FALSE(r.channel);
  const std::string text = all(r.errors);
  EXPECT_NE(text.find("docketd.toml:6:12: 'password' is not allowed here"), std::string::npos) << text;
  EXPECT_NE(text.find("password_file"), std::string::npos) << text;
  EXPECT_NE(text.find("password_env"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << "the password itself is never repeated";
}

TEST(Settings, WebhookSecretInTheConfigIsRefused) {
  auto r = load_channel("[channels.hook]\ntype = \"webhook\"\nurl = \"https://h.example.org/x\"\nsecret = \"k\"\n");
  ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
  EXPECT_NE(r.errors[0].find("docketd.toml:4:10: 'secret' is not allowed here"), std::string::npos) << r.errors[0];
  EXPECT_NE(r.errors[0].find("secret_file"), std::string::npos);
}

TEST(Settings, UnknownKeyGetsADidYouMean) {
  auto r = load_channel(R"([channels.mail]
type = "email"
host = "127.0.0.1"
tls = "none"
from = "docket@example.org"
connect_timout = 5
)");
  ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
  EXPECT_EQ(r.errors[0], "docketd.toml:6:1: unknown key 'connect_timout' in channel 'mail', did you mean "
                         "'connect_timeout'?");
}

TEST(Settings, UnknownPlaceholderIsReportedWhereItIsWritten) {
  auto r = load_channel(R"([channels.mail]
type = "email"
host = "127.0.0.1"
tls = "none"
from = "docket@example.org"
subject = "{reference}: {stgae} due"
body = """
Due {due_date}.
See {lnk}
"""
)");
  ASSERT_EQ(r.errors.size(), 2u) << all(r.errors);
  EXPECT_EQ(r.errors[0].rfind("docketd.toml:6:25: unknown placeholder '{stgae}', did you mean '{stage}'?", 0), 0u)
      << r.errors[0];
  EXPECT_EQ(r.errors[1].rfind("docketd.toml:9:5: unknown placeholder '{lnk}', did you mean '{link}'?", 0), 0u)
      << r.errors[1];
}

TEST(Settings, UnknownTypeGetsADidYouMean) {
  auto r = load_channel("[channels.mail]\ntype = \"e-mail\"\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "docketd.toml:2:8: unknown channel type 'e-mail', did you mean 'email'? "
                         "(expected one of: email, log or webhook)");
  auto none = load_channel("[channels.mail]\nhost = \"x\"\n");
  ASSERT_EQ(none.errors.size(), 1u);
  EXPECT_NE(none.errors[0].find("channel 'mail' has no 'type'"), std::string::npos);
}

TEST(Settings, PlainSmtpOnlyToALoopbackRelay) {
  auto r = load_channel(R"([channels.mail]
type = "email"
host = "smtp.example.org"
tls = "none"
from = "docket@example.org"
)");
  ASSERT_EQ(r.errors.size(), 1u) << all(r.errors);
  EXPECT_NE(r.errors[0].find("docketd.toml:4:7: tls = \"none\" is only for a relay on this machine"), std::string::npos)
      << r.errors[0];
  for (const char* host : {"127.0.0.1", "localhost", "::1"}) {
    auto ok = load_channel(std::string("[channels.mail]\ntype = \"email\"\nhost = \"") + host +
                           "\"\ntls = \"none\"\nfrom = \"docket@example.org\"\n");
    EXPECT_TRUE(ok.errors.empty()) << host << ": " << all(ok.errors);
  }
}

TEST(Settings, CredentialsMustBeComplete) {
  TempDir dir;
  std::ofstream(dir.path() / "pw") << "\n";
  const std::string head = "[channels.mail]\ntype = \"email\"\nhost = \"smtp.example.org\"\nfrom = \"d@example.org\"\n";
  auto no_password = load_channel(head + "username = \"docket\"\n");
  ASSERT_EQ(no_password.errors.size(), 1u);
  EXPECT_NE(no_password.errors[0].find("'username' needs a password"), std::string::npos);

  auto both = load_channel(head + "username = \"d\"\npassword_file = \"pw\"\npassword_env = \"PW\"\n", dir.path());
  EXPECT_NE(all(both.errors).find("either 'password_file' or 'password_env'"), std::string::npos) << all(both.errors);

  auto empty_file = load_channel(head + "username = \"d\"\npassword_file = \"pw\"\n", dir.path());
  EXPECT_NE(all(empty_file.errors).find("first line is empty"), std::string::npos) << all(empty_file.errors);

  auto missing_file = load_channel(head + "username = \"d\"\npassword_file = \"nope\"\n", dir.path());
  EXPECT_NE(all(missing_file.errors).find("docketd.toml:6:17: 'password_file' names '"), std::string::npos)
      << all(missing_file.errors);

  ::unsetenv("DOCKET_TEST_UNSET_PASSWORD");
  auto unset_env = load_channel(head + "username = \"d\"\npassword_env = \"DOCKET_TEST_UNSET_PASSWORD\"\n");
  EXPECT_NE(all(unset_env.errors).find("'DOCKET_TEST_UNSET_PASSWORD', which is not set"), std::string::npos)
      << all(unset_env.errors);

  auto no_user = load_channel(head + "password_file = \"pw\"\n", dir.path());
  EXPECT_NE(all(no_user.errors).find("without 'username'"), std::string::npos) << all(no_user.errors);

  auto clear = load_channel("[channels.mail]\ntype = \"email\"\nhost = \"127.0.0.1\"\ntls = \"none\"\n"
                            "from = \"d@example.org\"\nusername = \"d\"\npassword_env = \"PATH\"\n");
  EXPECT_NE(all(clear.errors).find("would send the password in clear"), std::string::npos) << all(clear.errors);
}

TEST(Settings, EveryProblemInATableIsReportedAtOnce) {
  auto r = load_channel(R"([channels.mail]
type = "email"
host = "smtp.example.org"
port = 70000
from = "not an address"
timeout = -1
tls = 3
)");
  EXPECT_EQ(r.errors.size(), 4u) << all(r.errors);
}

TEST(Settings, WebhookUrlRules) {
  auto plain = load_channel("[channels.h]\ntype = \"webhook\"\nurl = \"http://hooks.example.org/x\"\n");
  ASSERT_EQ(plain.errors.size(), 1u);
  EXPECT_NE(plain.errors[0].find("docketd.toml:3:7: 'url' uses plain http:// to 'hooks.example.org'"),
            std::string::npos)
      << plain.errors[0];
  auto loopback = load_channel("[channels.h]\ntype = \"webhook\"\nurl = \"http://127.0.0.1:8085/hook\"\n");
  EXPECT_TRUE(loopback.errors.empty()) << all(loopback.errors);
  auto ftp = load_channel("[channels.h]\ntype = \"webhook\"\nurl = \"ftp://example.org/x\"\n");
  EXPECT_EQ(ftp.errors.size(), 1u);
  auto missing = load_channel("[channels.h]\ntype = \"webhook\"\n");
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(missing.errors[0].find("channel 'h' has no 'url'"), std::string::npos);
  auto userinfo = load_channel("[channels.h]\ntype = \"webhook\"\nurl = \"https://u:tok@h.example.org/x\"\n");
  ASSERT_EQ(userinfo.errors.size(), 1u);
  EXPECT_EQ(userinfo.errors[0].find("tok"), std::string::npos) << "a URL's secrets are not repeated";
}

TEST(Settings, WebhookTemplateMustMakeJson) {
  auto outside = load_channel(
      "[channels.h]\ntype = \"webhook\"\nurl = \"https://h.example.org/\"\ntemplate = '{\"text\": {subject}}'\n");
  ASSERT_EQ(outside.errors.size(), 1u) << all(outside.errors);
  EXPECT_NE(outside.errors[0].find("docketd.toml:4:12: 'template' does not make a JSON document"), std::string::npos)
      << outside.errors[0];
  auto typo = load_channel(
      "[channels.h]\ntype = \"webhook\"\nurl = \"https://h.example.org/\"\ntemplate = '{\"text\": \"{subjetc}\"}'\n");
  ASSERT_EQ(typo.errors.size(), 1u) << all(typo.errors);
  EXPECT_EQ(typo.errors[0].rfind("docketd.toml:4:23: unknown placeholder '{subjetc}', did you mean '{subject}'?", 0),
            0u)
      << typo.errors[0];
}

TEST(Settings, TheRegistryRefusesADuplicateType) {
  Registry r;
  register_builtin_notifiers(r);
  EXPECT_EQ(r.types(), (std::vector<std::string>{"email", "log", "webhook"}));
  EXPECT_THROW(register_builtin_notifiers(r), std::invalid_argument);
}

}  // namespace
}  // namespace docket::notifiers
