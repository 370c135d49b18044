// The command table: registration refuses a duplicate, and every command's
// arguments and roles are checked from its entry before its handler runs, for
// every command in the table (a new entry is covered without a new test).

#include <gtest/gtest.h>

#include "daemon/build_info.h"
#include "daemon/commands.h"
#include "tests/support/temp_config.h"

// Entries name only the fields they set (designated initializers); GCC 12
// warns of the others, which keep their defaults by design.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace docket::daemon {
namespace {

using nlohmann::json;

const Caller kManager{"a-morgan", {"business-manager", "administrator"}};
const Caller kNobody{"h-ahmed", {"partnership-member"}};

std::shared_ptr<const workflows::Config> shipped() {
  static auto config = workflows::load_config(testing::shipped_config()).config;
  return config;
}

Command named(const std::string& name, std::vector<std::string> words) {
  return Command{.name = name,
                 .words = std::move(words),
                 .help = "a test command",
                 .run = [](const Command&, Services&, const Caller&, const Args&, bool, store::Batch&) {
                   return Result{};
                 }};
}

TEST(CommandTable, RegistrationRefusesADuplicateNameOrCommandLine) {
  CommandTable t;
  t.add(named("meeting-papers", {"meeting", "papers"}));
  EXPECT_THROW(t.add(named("meeting-papers", {"meeting", "publish"})), std::logic_error);
  EXPECT_THROW(t.add(named("papers", {"meeting", "papers"})), std::logic_error);
  Command no_handler = named("held", {"meeting", "held"});
  no_handler.run = nullptr;
  EXPECT_THROW(t.add(std::move(no_handler)), std::logic_error);
  EXPECT_EQ(t.names(), std::vector<std::string>{"meeting-papers"});
}

class EveryCommand : public ::testing::Test {
 protected:
  EveryCommand() : clock_(Instant{std::chrono::seconds{1772438400}}), engine_(shipped(), clock_) {}  // 2026-03-02 08:00 UTC
  Result run(const Caller& who, const std::string& command, json args) {
    return command_table().dispatch(services_, who, Request{1, command, std::move(args)}, batch_);
  }
  // Arguments that pass the table's checks for `c` (the engine may still refuse them).
  static json valid_args(const Command& c) {
    json args = json::object();
    for (const auto& a : c.args) {
      if (!a.required) continue;
      switch (a.type) {
        case Arg::Type::integer: args[a.name] = a.min; break;
        case Arg::Type::pairs: args[a.name] = json::object(); break;
        case Arg::Type::list: args[a.name] = json::array({"a-morgan"}); break;
        default: args[a.name] = "RR-1"; break;
      }
    }
    return args;
  }

  VirtualClock clock_;
  Engine engine_;
  Services services_{engine_, clock_, &clock_, {}, {}, {}};
  store::Batch batch_;
};

TEST_F(EveryCommand, AnUnknownArgumentIsRefusedFromTheTable) {
  for (const auto& c : command_table().commands()) {
    json args = valid_args(c);
    args["nonsense"] = "x";
    Result r = run(kManager, c.name, args);
    EXPECT_FALSE(r.ok) << c.name;
    EXPECT_EQ(r.error.rfind(c.spoken() + ": unknown argument 'nonsense'", 0), 0u) << c.name << ": " << r.error;
  }
  EXPECT_TRUE(batch_.empty());
}

TEST_F(EveryCommand, AMissingOrMistypedArgumentIsRefusedFromTheTable) {
  for (const auto& c : command_table().commands()) {
    for (const auto& a : c.args) {
      json args = valid_args(c);
      if (a.required) {
        args.erase(a.name);
        EXPECT_EQ(run(kManager, c.name, args).error, c.spoken() + ": missing argument '" + a.name + "'") << c.name;
      }
      args[a.name] = json::array({json::object()});  // the wrong type for every kind of argument
      Result r = run(kManager, c.name, args);
      EXPECT_FALSE(r.ok) << c.name << " " << a.name;
      EXPECT_NE(r.error.find("'" + a.name + "'"), std::string::npos) << r.error;
    }
  }
  EXPECT_TRUE(batch_.empty());
}

TEST_F(EveryCommand, ACallerWithoutTheRolesIsRefusedFromTheTable) {
  int checked = 0;
  for (const auto& c : command_table().commands()) {
    if (c.access.anyone() || c.access.rule != Access::Rule::none) continue;
    ASSERT_FALSE(c.access.by_role(kNobody)) << c.name;
    Result r = run(kNobody, c.name, valid_args(c));
    EXPECT_EQ(r.error, c.access.refused()) << c.name;
    EXPECT_EQ(r.error.rfind("you may not " + c.access.refusal + "; that needs ", 0), 0u) << r.error;
    ++checked;
  }
  EXPECT_GE(checked, 8);  // start, pause, resume, extend, waive, cancel, reload, outbox retry, chair appoint
  EXPECT_TRUE(batch_.empty());
}

TEST_F(EveryCommand, IntegersOutsideTheirRangeAreRefused) {
  EXPECT_EQ(run(kManager, "upcoming", {{"days", 3661}}).error, "upcoming: 'days' must be a whole number from 0 to 3660");
  EXPECT_FALSE(run(kManager, "upcoming", {{"days", -1}}).ok);
  EXPECT_FALSE(run(kManager, "upcoming", {{"days", 9223372036854775808ULL}}).ok);  // 2^63 does not wrap to 0
  EXPECT_TRUE(run(kManager, "upcoming", {{"days", 3660}}).ok);
  EXPECT_FALSE(run(kManager, "outbox-retry", {{"id", 0}}).ok);
}

TEST_F(EveryCommand, AnyoneMayReadTheClockButOnlyManagersAdvanceIt) {
  EXPECT_TRUE(run(kNobody, "clock", json::object()).ok);
  Result r = run(kNobody, "clock", {{"advance", "1d"}});
  EXPECT_EQ(r.error, "you may not advance the clock; that needs one of the roles administrator or business-manager");
  EXPECT_TRUE(run(kManager, "clock", {{"advance", "1d"}}).ok);
}

TEST_F(EveryCommand, VersionNamesThisBuild) {
  Result r = run(kNobody, "version", json::object());
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.data["version"], kVersion);
  EXPECT_EQ(r.data["commit"], kCommit);
  EXPECT_NE(std::string(kCommit), "");
}

}  // namespace
}  // namespace docket::daemon
