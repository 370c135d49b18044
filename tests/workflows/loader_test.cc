// Loading the shipped configuration, and loader behaviour the corpus of
// broken files does not show on its own.

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_config.h"
#include "workflows/config.h"

namespace docket::workflows {
namespace {

TEST(Loader, ShippedConfigurationIsValid) {
  auto result = load_config(testing::shipped_config());
  for (const auto& d : result.diagnostics.sorted()) ADD_FAILURE() << format(d);
  ASSERT_TRUE(result.config);
  const Config& c = *result.config;
  for (const char* id : {"rapid-review", "lcspr", "sar", "dhr", "child-death", "learning-briefing", "yearly-report"}) {
    EXPECT_EQ(c.reviews.count(id), 1u) << id;
  }
  for (const char* id : {"executive", "partnership", "rlt-children", "rlt-adults", "cpsg", "neglect", "domestic-abuse",
                         "exploitation-children", "exploitation-adults", "channel", "dalp-board"}) {
    EXPECT_EQ(c.cycles.count(id), 1u) << id;
  }
  const auto& rr = c.reviews.at("rapid-review");
  ASSERT_EQ(rr.stages.size(), 3u);
  EXPECT_EQ(rr.stages[0].id, "notify-panel");
  EXPECT_EQ(rr.stages[1].id, "rapid-review");
  EXPECT_EQ(rr.stages[2].id, "panel-response");
  const auto& lcspr = c.reviews.at("lcspr");
  EXPECT_EQ(lcspr.stage("publish")->due_text, "6 months after start");
  EXPECT_EQ(lcspr.stage("send-to-panel")->due_text, "7 working days before publish");
  EXPECT_TRUE(lcspr.pausable);
  EXPECT_EQ(c.cycles.at("executive").quorum, (std::vector<std::string>{"council", "icb", "police"}));
  EXPECT_EQ(c.directory.person_by_unix_user("root")->id, "a-morgan");
}

TEST(Loader, EveryShippedDefinitionCitesItsSource) {
  for (const auto& entry : std::filesystem::directory_iterator(testing::shipped_config() / "workflows")) {
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.find("# Source:"), std::string::npos) << entry.path().filename();
  }
}

TEST(Loader, StageCountedFromACompletionOpensAfterIt) {
  auto result = load_config(testing::shipped_config());
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->reviews.at("rapid-review").stage("panel-response")->opens_after, "rapid-review");
  EXPECT_EQ(result.config->reviews.at("rapid-review").stage("rapid-review")->opens_after, "");
}

TEST(Loader, HashAndVersionsFollowTheContent) {
  testing::TempConfig a;
  auto first = load_config(a.dir());
  ASSERT_TRUE(first.config);
  auto again = load_config(a.dir());
  EXPECT_EQ(first.config->hash, again.config->hash);
  EXPECT_EQ(first.config->hash.size(), 64u);
  std::string v = first.config->reviews.at("lcspr").version;
  EXPECT_EQ(v.size(), 12u);

  std::ifstream in(a.dir() / "workflows/lcspr.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  a.write("workflows/lcspr.toml", text + "\n# an edit\n");
  auto edited = load_config(a.dir());
  ASSERT_TRUE(edited.config);
  EXPECT_NE(edited.config->hash, first.config->hash);
  EXPECT_NE(edited.config->reviews.at("lcspr").version, v);
  EXPECT_EQ(edited.config->reviews.at("sar").version, first.config->reviews.at("sar").version);
}

TEST(Loader, PathsResolveAgainstTheConfigurationDirectory) {
  testing::TempConfig a;
  auto result = load_config(a.dir());
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->daemon.database, (a.dir() / "../var/docket.db").lexically_normal());
  EXPECT_EQ(result.config->daemon.notify_at, std::chrono::minutes{9 * 60});
}

TEST(Loader, AuditSettingsHaveDefaultsAndAreChecked) {
  testing::TempConfig a;
  auto shipped = load_config(a.dir());
  ASSERT_TRUE(shipped.config);
  const AuditSettings& d = shipped.config->daemon.audit;
  EXPECT_TRUE(d.key_file.empty()) << "beside the database unless given";
  EXPECT_TRUE(d.head_file.empty());
  EXPECT_TRUE(d.recipient.empty());
  EXPECT_EQ(d.publish_every, std::chrono::minutes{60});
  EXPECT_EQ(d.publish_records, 10000);
  EXPECT_EQ(d.notice_every, std::chrono::hours{24});

  const std::string daemon = "[daemon]\ndatabase = \"../var/docket.db\"\nsocket = \"../var/docketd.sock\"\n";
  a.write("docketd.toml", daemon + "[audit]\nkey_file = \"keys/audit.key\"\nrecipient = \"j-okafor\"\n"
                                   "publish_minutes = 5\nnotice_hours = 0\n");
  auto set = load_config(a.dir());
  ASSERT_TRUE(set.config);
  EXPECT_EQ(set.config->daemon.audit.key_file, (a.dir() / "keys/audit.key").lexically_normal());
  EXPECT_EQ(set.config->daemon.audit.recipient, "j-okafor");
  EXPECT_EQ(set.config->daemon.audit.publish_every, std::chrono::minutes{5});
  EXPECT_EQ(set.config->daemon.audit.notice_every, std::chrono::hours{0});

  a.write("docketd.toml", "[audit]\nrecipient = \"j-okafr\"\npublish_minutes = 0\nkey_file = \"k\"\n"
                          "credential = \"audit.key\"\nkeyfile = \"x\"\n");
  auto bad = load_config(a.dir());
  EXPECT_FALSE(bad.config);
  std::string all;
  for (const auto& e : bad.diagnostics.sorted()) all += format(e) + "\n";
  EXPECT_NE(all.find("docketd.toml:2:13: [audit] recipient: unknown person 'j-okafr', did you mean 'j-okafor'?"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("'publish_minutes' must be a whole number from 1 to 1440, found 0"), std::string::npos) << all;
  EXPECT_NE(all.find("give the audit key as 'key_file' or as 'credential', not both"), std::string::npos) << all;
  EXPECT_NE(all.find("keyfile"), std::string::npos) << "unknown keys are named: " << all;
}

TEST(Loader, MissingDirectoryIsReported) {
  auto result = load_config("/nonexistent/docket-config");
  EXPECT_FALSE(result.config);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_NE(result.diagnostics.sorted()[0].message.find("is not a configuration directory"), std::string::npos);
}

TEST(Loader, EveryErrorIsReportedAtOnceAcrossFiles) {
  testing::TempConfig a;
  a.write("workflows/one.toml", "kind = \"review\"\nid = \"one\"\ntitle = \"x\"\n[[stage]]\nid = \"a\"\ndue = \"5 wrking days after start\"\n");
  a.write("workflows/two.toml", "kind = \"review\"\nid = \"two\"\ntitle = \"x\"\n[[stage]]\nid = \"a\"\ndue = \"5 days after nowhere\"\nowner = \"nobody-role\"\n");
  auto result = load_config(a.dir());
  EXPECT_FALSE(result.config);
  auto list = result.diagnostics.sorted();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(format(list[0]), "workflows/one.toml:6:10: unknown unit 'wrking', expected hours, days, calendar days, "
                             "working days, weeks or months");
  EXPECT_EQ(list[1].where.file, "workflows/two.toml");
  EXPECT_EQ(list[2].where.file, "workflows/two.toml");
}

}  // namespace
}  // namespace docket::workflows
