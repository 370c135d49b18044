// The log channel: one line in the daemon's log, always delivered.

#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "tests/notifiers/peers.h"

namespace docket::notifiers {
namespace {

TEST(LogChannel, WritesOneLineWithTheKeyAndFields) {
  auto loaded = testing::load_channel("[channels.journal]\ntype = \"log\"\n");
  ASSERT_TRUE(loaded.channel);
  std::ostringstream out;
  auto logger = std::make_shared<spdlog::logger>("notifiers-test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  logger->set_pattern("%v");
  Services services;
  services.logger = logger;
  Message m;
  m.idempotency_key = "reminder:RR-2026-014:rapid-review:0";
  m.fields = {{"kind", "reminder"}, {"ref", "RR-2026-014"}, {"stage", "rapid-review"}, {"title", "two words"}};
  Delivery d = loaded.channel->create(services)->deliver(m);
  EXPECT_EQ(d.outcome, Outcome::delivered);
  EXPECT_EQ(out.str(), "notify.delivered channel=journal key=reminder:RR-2026-014:rapid-review:0 kind=reminder "
                       "ref=RR-2026-014 stage=rapid-review title=\"two words\"\n");
}

TEST(LogChannel, TakesNoSettings) {
  auto loaded = testing::load_channel("[channels.journal]\ntype = \"log\"\nlevel = \"info\"\n");
  EXPECT_FALSE(loaded.channel);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_NE(loaded.errors[0].find("docketd.toml:3:1: unknown key 'level'"), std::string::npos) << loaded.errors[0];
}

}  // namespace
}  // namespace docket::notifiers
