// `docket validate` and `docket plan` as an administrator runs them: exit
// codes, the one-line errors for bad arguments, the table and the JSON.

#include <gtest/gtest.h>

#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "daemon/build_info.h"
#include "daemon/command_table.h"
#include "tests/support/process.h"
#include "tests/support/run_cli.h"
#include "tests/support/temp_config.h"

namespace docket::cli {
namespace {

using Run = testing::CliRun;
using testing::docket;

const std::string kConfig = testing::shipped_config().string();

std::size_t lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

TEST(Validate, ShippedConfigurationPassesWithASummary) {
  auto r = docket({"validate", "--config", kConfig});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(r.out), 2u);
  EXPECT_NE(r.out.find("is valid: 9 review types, 11 meeting cycles, 1 calendar"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("notifications: 2 channels hook (webhook) mail (email, default)"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(Validate, BrokenConfigurationListsEveryErrorAndExitsOne) {
  testing::TempConfig tmp;
  tmp.write("workflows/bad.toml", "kind = \"review\"\nid = \"bad\"\ntitle = \"x\"\nstartevent = \"y\"\n[[stage]]\nid = \"a\"\n"
                                  "due = \"5 working days after strat\"\n");
  auto r = docket({"validate", "--config", tmp.dir().string()});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  const std::string prefix = tmp.dir().string() + "/workflows/bad.toml:";
  EXPECT_NE(r.err.find(prefix + "4:1: unknown key 'startevent' in the review definition, did you mean 'start_event'?"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(prefix + "7:29: unknown stage 'strat'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(": 2 errors; nothing was loaded"), std::string::npos) << r.err;
}

// D8: without a channel, people's notices once went silently to the log.
TEST(Validate, AConfigurationWithNoChannelForPeoplesNoticesIsAnError) {
  testing::TempConfig tmp;
  const std::string text = testing::slurp(tmp.dir() / "docketd.toml");
  tmp.write("docketd.toml", text.substr(0, text.find("# --- Notifications")));
  auto r = docket({"validate", "--config", tmp.dir().string()});
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.err.find("docketd.toml: there is no channel for people's notices"), std::string::npos) << r.err;
  // Only logging them is a choice written down.
  tmp.append("docketd.toml", testing::TempConfig::kLogChannels);
  auto ok = docket({"validate", "--config", tmp.dir().string()});
  EXPECT_EQ(ok.code, 0) << ok.err;
  // An empty docketd.toml is no configuration.
  tmp.write("docketd.toml", "");
  auto empty = docket({"validate", "--config", tmp.dir().string()});
  EXPECT_EQ(empty.code, 1);
  EXPECT_NE(empty.err.find("docketd.toml:1:1: there is no [daemon] table"), std::string::npos) << empty.err;
}

TEST(Validate, ConfigFromTheEnvironment) {
  ::setenv("DOCKET_CONFIG", kConfig.c_str(), 1);
  auto r = docket({"validate"});
  ::unsetenv("DOCKET_CONFIG");
  EXPECT_EQ(r.code, 0) << r.err;
}

TEST(Plan, RapidReviewJsonMatchesTheDocumentedShape) {
  auto r = docket({"plan", "rapid-review", "--start", "2026-03-02", "--json", "--config", kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["workflow"], "rapid-review");
  EXPECT_EQ(j["start"], "2026-03-02");
  ASSERT_EQ(j["stages"].size(), 3u);
  EXPECT_EQ(j["stages"][0]["id"], "notify-panel");
  EXPECT_EQ(j["stages"][0]["due"], "2026-03-09");
  EXPECT_EQ(j["stages"][1]["id"], "rapid-review");
  EXPECT_EQ(j["stages"][1]["due"], "2026-03-23");
  EXPECT_EQ(j["stages"][1]["reminders"], (nlohmann::json{"2026-03-16", "2026-03-19"}));
  EXPECT_EQ(j["stages"][1]["escalations"][0]["at"], "2026-03-24");
  EXPECT_EQ(j["stages"][1]["escalations"][0]["to"], (nlohmann::json{"rlt-children-chair"}));
  EXPECT_EQ(j["stages"][1]["escalations"][2]["repeat"], "5 working days");
  EXPECT_EQ(j["stages"][2]["due"], "2026-04-08");
  EXPECT_EQ(j["stages"][2]["limit"], "soft");
}

TEST(Plan, TableExplainsEveryDate) {
  auto r = docket({"plan", "lcspr", "--start", "2026-03-02", "--config", kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("started Monday 2 March 2026"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("due        Fri 2026-08-21   7 working days before publish (due Wed 2 Sep 2026); skipped "
                       "Summer bank holiday (Mon 31 Aug 2026)"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("source: Working Together to Safeguard Children 2023"), std::string::npos);
}

TEST(Plan, MeetingCycleOverAPeriod) {
  auto r = docket({"plan", "executive", "--from", "2026-04-01", "--to", "2027-03-31", "--json", "--config", kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["meetings"].size(), 4u);
  EXPECT_EQ(j["meetings"][0]["date"], "2026-06-09");
  EXPECT_EQ(j["meetings"][0]["milestones"][0]["id"], "papers");
  EXPECT_EQ(j["meetings"][0]["milestones"][0]["due"], "2026-06-02");
  auto fy = docket({"plan", "executive", "--financial-year", "2026/27", "--json", "--config", kConfig});
  EXPECT_EQ(nlohmann::json::parse(fy.out)["meetings"], j["meetings"]);
}

TEST(Plan, ClockHoursTakeATime) {
  auto r = docket({"plan", "child-death", "--start", "2026-03-27T10:00", "--json", "--config", kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["start"], "2026-03-27T10:00");
  EXPECT_EQ(j["stages"][0]["due"], "2026-03-29");
  EXPECT_EQ(j["stages"][0]["due_at"], "2026-03-29T11:00");
}

TEST(Plan, AllPlansEveryWorkflow) {
  auto r = docket({"plan", "--all", "--start", "2026-03-02", "--financial-year", "2026/27", "--config", kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* id : {"rapid-review:", "lcspr:", "sar:", "dhr:", "child-death:", "learning-briefing:",
                         "yearly-report:", "executive:", "partnership:", "rlt-children:", "rlt-adults:", "cpsg:",
                         "neglect:", "domestic-abuse:", "exploitation-children:", "exploitation-adults:", "channel:",
                         "dalp-board:"}) {
    EXPECT_NE(r.out.find(std::string("\n") + id), std::string::npos) << id;
  }
}

// Every bad argument: one line on stderr, exit code 2, nothing on stdout.
struct BadArgs {
  std::vector<std::string> args;
  std::string message;
};

void PrintTo(const BadArgs& b, std::ostream* os) {
  for (const auto& a : b.args) *os << a << ' ';
}

class PlanBadArguments : public ::testing::TestWithParam<BadArgs> {};

TEST_P(PlanBadArguments, OneClearLineAndExitTwo) {
  auto args = GetParam().args;
  args.insert(args.begin(), {"--config", kConfig});
  auto r = docket(args);
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.err, "docket: " + GetParam().message + "\n");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PlanBadArguments,
    ::testing::Values(
        BadArgs{{"plan", "rapid-reveiw", "--start", "2026-03-02"},
                "unknown workflow 'rapid-reveiw', did you mean 'rapid-review'?; known: case-file-audit, child-death, "
                "dhr, dispute, lcspr, learning-briefing, rapid-review, sar, yearly-report, channel, cpsg, dalp-board, "
                "domestic-abuse, executive, exploitation-adults, exploitation-children, neglect, partnership, "
                "rlt-adults or rlt-children"},
        BadArgs{{"plan", "rapid-review", "--start", "2026-02-30"},
                "--start must be YYYY-MM-DD or YYYY-MM-DDTHH:MM, found '2026-02-30'"},
        BadArgs{{"plan", "rapid-review"}, "rapid-review is a review type: give the day it starts with --start YYYY-MM-DD"},
        BadArgs{{"plan", "rapid-review", "--start", "2026-03-02", "--date", "decison=2026-03-01"},
                "rapid-review has no date 'decison'; it takes no dates"},
        BadArgs{{"plan", "rapid-review", "--start", "2026-03-02", "--from", "2026-04-01"},
                "rapid-review is a review type: plan it with --start DATE (--from, --to and --financial-year are for "
                "meeting cycles)"},
        BadArgs{{"plan", "executive", "--start", "2026-03-02"},
                "executive is a meeting cycle: plan it with --from DATE --to DATE or --financial-year YYYY/YY "
                "(--start and --date are for reviews)"},
        BadArgs{{"plan", "executive", "--financial-year", "2026/28"},
                "--financial-year must look like 2026/27, found '2026/28'"},
        BadArgs{{"plan", "executive", "--from", "2026-06-01", "--to", "2026-05-01"},
                "--to 2026-05-01 is before --from 2026-06-01"},
        BadArgs{{"plan"}, "plan needs a workflow id (e.g. docket plan rapid-review --start 2026-03-02) or --all"},
        BadArgs{{"plan", "executive", "--all"}, "give a workflow or --all, not both"},
        BadArgs{{"plan", "rapid-review", "--start"}, "--start: 1 required DATE missing (try 'docket --help')"},
        BadArgs{{"plan", "rapid-review", "--strat", "2026-03-02"},
                "The following arguments were not expected: 2026-03-02 --strat (try 'docket --help')"},
        BadArgs{{"valdate"}, "unknown command 'valdate', did you mean 'validate'? (try 'docket --help')"}));

TEST(Cli, NoCommandIsAUsageError) {
  auto r = docket({});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(lines(r.err), 1u);
}

TEST(Cli, HelpExitsZero) {
  auto r = docket({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("validate"), std::string::npos);
  EXPECT_NE(r.out.find("plan"), std::string::npos);
}

// Every command in docketd's table is on the command line at its words, with
// its help and every argument, so a new entry needs no CLI code of its own.
TEST(DaemonCommands, EveryCommandInTheTableHasItsCommandLineAndHelp) {
  for (const auto& c : daemon::command_table().commands()) {
    std::vector<std::string> args = c.words;
    args.push_back("--help");
    auto r = docket(args);
    EXPECT_EQ(r.code, 0) << c.spoken() << ": " << r.err;
    EXPECT_NE(r.out.find(c.help), std::string::npos) << c.spoken() << ":\n" << r.out;
    for (const auto& a : c.args) {
      const std::string shown = a.form == daemon::Arg::Form::option ? a.option_name() : a.name;
      EXPECT_NE(r.out.find(a.form == daemon::Arg::Form::keyword ? "action" : shown), std::string::npos)
          << c.spoken() << " lacks " << shown << ":\n" << r.out;
    }
  }
}

TEST(Cli, VersionNamesTheBuild) {
  auto r = docket({"--version"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "docket " + std::string(kVersion) + " (commit " + kCommit + ")\n");
}

TEST(DaemonCommands, UsageErrorsNeverReachTheDaemon) {
  auto r = docket({"--socket", "/nonexistent/docketd.sock", "start", "rapid-review"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "docket: --ref is required (try 'docket --help')\n");
  r = docket({"--socket", "/nonexistent/docketd.sock", "clock", "forward", "3d"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "docket: clock takes 'advance AMOUNT', e.g. docket clock advance 3d\n");
  r = docket({"--socket", "/nonexistent/docketd.sock", "start", "rapid-review", "--ref", "RR-1", "--assign", "lead"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "docket: --assign must be NAME=VALUE, found 'lead'\n");
  r = docket({"--socket", "/nonexistent/docketd.sock", "pause", "RR-1"});
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, "docket: --reason is required (try 'docket --help')\n");
}

TEST(DaemonCommands, AnUnreachableDaemonIsOneClearLine) {
  auto r = docket({"--socket", "/nonexistent/docketd.sock", "status"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(lines(r.err), 1u);
  EXPECT_NE(r.err.find("cannot reach docketd on /nonexistent/docketd.sock"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("systemctl start docketd"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("make run"), std::string::npos) << r.err;
  ::setenv("DOCKET_SOCKET", "/nonexistent/env.sock", 1);
  r = docket({"overdue"});
  ::unsetenv("DOCKET_SOCKET");
  EXPECT_NE(r.err.find("/nonexistent/env.sock"), std::string::npos) << r.err;
}

// On a server the socket is mode 0660, group docket: someone outside the
// group is told that, and how to be let in, not that docketd may be down.
TEST(DaemonCommands, ASocketThisAccountMayNotUseSaysWhichGroupMay) {
  char tmpl[] = "/tmp/docket-perm-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl, sock = dir / "d.sock";
  ::chmod(dir.c_str(), 0755);
  int fd = docket::testing::bind_unix(sock);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(::listen(fd, 4), 0);
  ::chmod(sock.c_str(), 0660);
  struct stat st {};
  ASSERT_EQ(::stat(sock.c_str(), &st), 0);
  const group* g = ::getgrgid(st.st_gid);
  const std::string group_name = g != nullptr ? g->gr_name : std::to_string(st.st_gid);

  // A child that is neither the socket's owner nor in its group (root would
  // pass any permission check, so it becomes nobody).
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    if (::geteuid() == 0) {
      const gid_t none[] = {65534};
      if (::setgroups(1, none) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(10);
    } else if (::chmod(sock.c_str(), 0) != 0) {
      ::_exit(10);
    }
    auto run = docket({"--socket", sock.string(), "status"});
    const std::string text = std::to_string(run.code) + "\n" + run.err;
    if (::write(pipefd[1], text.data(), text.size()) < 0) ::_exit(11);
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string got;
  char buf[4096];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(fd);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(got.starts_with("1\n")) << got;
  EXPECT_EQ(lines(got), 2u) << got;
  EXPECT_NE(got.find("Permission denied"), std::string::npos) << got;
  EXPECT_NE(got.find("only members of the group " + group_name + " may use it"), std::string::npos) << got;
  EXPECT_NE(got.find("usermod -aG " + group_name + " "), std::string::npos) << got;
  EXPECT_EQ(got.find("is it running"), std::string::npos) << got;
}

// The real executable, as a user runs it from the checkout.
TEST(Executable, ValidateAndPlanFromBuildBin) {
  const std::string bin = std::string(DOCKET_BINARY_DIR) + "/bin/docket";
  auto run = [&](const std::string& args) {
    std::string cmd = "cd '" + testing::source_dir().string() + "' && '" + bin + "' " + args + " 2>&1";
    std::array<char, 4096> buf{};
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
    int status = ::pclose(p);
    return std::pair{WEXITSTATUS(status), out};
  };
  auto [code, out] = run("validate");
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("config is valid"), std::string::npos) << out;
  auto [pcode, pout] = run("plan rapid-review --start 2026-03-02 --json");
  ASSERT_EQ(pcode, 0) << pout;
  EXPECT_EQ(nlohmann::json::parse(pout)["stages"][1]["due"], "2026-03-23");
  auto [bcode, bout] = run("plan rapid-review --start tomorrow");
  EXPECT_EQ(bcode, 2);
  EXPECT_EQ(bout, "docket: --start must be YYYY-MM-DD or YYYY-MM-DDTHH:MM, found 'tomorrow'\n");
}

}  // namespace
}  // namespace docket::cli
