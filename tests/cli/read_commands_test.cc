// `docket audit`, `docket report` and `docket export` as a manager runs them:
// on a database the engine and the real store wrote, with no daemon running;
// exit codes, the CSV a spreadsheet gets, and the real executable's verdict
// on a tampered file.

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "tests/support/run_cli.h"
#include "tests/support/process.h"
#include "tests/support/rehearsal.h"

namespace docket::cli {
namespace {

using Run = testing::CliRun;
using testing::docket;

const std::string kConfig = testing::shipped_config().string();
const std::string kBom = "\xEF\xBB\xBF";

class ReadCommands : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir;
    testing::Rehearsal r(dir_->path() / "docket.db", "2026-03-02T08:00");
    testing::march_reviews(r);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string db() { return (dir_->path() / "docket.db").string(); }

  static testing::TempDir* dir_;
};
testing::TempDir* ReadCommands::dir_ = nullptr;

TEST_F(ReadCommands, ComplianceCsvOpensInASpreadsheet) {
  auto r = docket({"report", "compliance", "--financial-year", "2025/26", "--format", "csv", "--db", db(), "--config", kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, 3), kBom);
  EXPECT_EQ(r.out.substr(3),
            "workflow,stage,limit,fell_due,met_on_time,met_late,overdue,open,waived,extended,median_working_days_late,"
            "worst_working_days_late,within_limit_percent\r\n"
            "rapid-review,notify-panel,statutory,6,1,2,1,0,2,0,3.5,5,25.0\r\n"
            "rapid-review,rapid-review,statutory,5,1,2,1,0,1,1,1.5,2,0.0\r\n"
            "all,,,11,2,4,2,0,3,1,2,5,12.5\r\n");
}

TEST_F(ReadCommands, ComplianceTableSaysWhatItCounts) {
  auto r = docket({"report", "compliance", "--db", db(), "--config", kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  // The default period is the financial year of the database's own day (2 Apr 2026).
  EXPECT_NE(r.out.find("financial year 2026/27 (Wed 1 Apr 2026 to Wed 31 Mar 2027), as of Thu 2 Apr 2026; days late "
                       "are working days"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("rapid-review  panel-response  soft"), std::string::npos) << r.out;
  auto j = docket({"report", "compliance", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json", "--db", db(),
                   "--config", kConfig});
  ASSERT_EQ(j.code, 0) << j.err;
  auto parsed = nlohmann::json::parse(j.out);
  EXPECT_EQ(parsed["period"]["from"], "2026-03-01");
  EXPECT_EQ(parsed["rows"][0]["fell_due"], 6);
}

TEST_F(ReadCommands, AuditFiltersAndFormats) {
  auto r = docket({"audit", "--ref", "RR-B", "--kind", "deadline.extended", "--format", "json", "--db", db(), "--config",
                   kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["records"].size(), 1u);
  EXPECT_EQ(j["records"][0]["details"]["to"], "2026-03-31");
  EXPECT_EQ(j["records"][0]["local"], "2026-03-20T10:00:00+00:00");
  EXPECT_EQ(j["more"], false);

  auto csv = docket({"audit", "--workflow", "rapid-review", "--actor", "a-morgan", "--kind", "stage.completed", "--format",
                     "csv", "--db", db(), "--config", kConfig});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_EQ(csv.out.substr(0, 3), kBom);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 7) << "a header and six records";
  EXPECT_NE(csv.out.find("\r\n6"), std::string::npos);

  // 25 March holds two records: A's completion and the stage it opened.
  auto day = docket({"audit", "--since", "2026-03-25", "--until", "2026-03-25", "--db", db(), "--config", kConfig});
  ASSERT_EQ(day.code, 0) << day.err;
  EXPECT_EQ(std::count(day.out.begin(), day.out.end(), '\n'), 3) << day.out;
  auto limited = docket({"audit", "--since", "2026-03-25", "--until", "2026-03-25", "--limit", "1", "--verbose", "--db",
                         db(), "--config", kConfig});
  ASSERT_EQ(limited.code, 0) << limited.err;
  EXPECT_NE(limited.out.find("deadline.opened"), std::string::npos) << limited.out;
  EXPECT_EQ(limited.out.find("stage.completed"), std::string::npos) << "the newest one only: " << limited.out;
  EXPECT_NE(limited.out.find("more records match: these are the newest 1"), std::string::npos) << limited.out;
  EXPECT_NE(limited.err.find("query: "), std::string::npos) << limited.err;
  EXPECT_NE(limited.err.find("plan: "), std::string::npos) << limited.err;
}

TEST_F(ReadCommands, AuditShowTellsTheStory) {
  auto r = docket({"audit", "show", "RR-A", "--db", db(), "--config", kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("RR-A: Rapid Review of a serious child safeguarding incident"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("when (Europe/London)"), std::string::npos) << r.out;
  const auto started = r.out.find("Review started: rapid-review");
  ASSERT_NE(started, std::string::npos) << r.out;
  const std::string line = r.out.substr(r.out.rfind('\n', started) + 1, started - r.out.rfind('\n', started) - 1);
  EXPECT_EQ(line, "Mon 2 Mar 2026 10:00   Alex Morgan (a-morgan)  ") << "local time, then who";
  EXPECT_NE(r.out.find("completed on Wed 25 Mar 2026, 2 working days after it was due (Mon 23 Mar 2026); outcome: "
                       "national-review"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Reminder 1 for 'Notify the national Child Safeguarding Practice Review Panel'"), std::string::npos)
      << r.out;
  auto none = docket({"audit", "show", "RR-NOPE", "--db", db(), "--config", kConfig});
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.err.find("nothing is recorded for 'RR-NOPE'"), std::string::npos) << none.err;
}

TEST_F(ReadCommands, MeetingsCsvCarriesAttendance) {
  auto r = docket({"report", "meetings", "--financial-year", "2026/27", "--format", "csv", "--db", db(), "--config", kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(kBom + "body,name,planned,held,not_held,to_come,quorate,inquorate,papers_due,papers_on_time,"
                                "notes_due,notes_on_time,attended_council,attended_icb,attended_police\r\n",
                        0),
            0u)
      << r.out;
  EXPECT_NE(r.out.find("\r\nexecutive,Safeguarding Partnership Executive,4,0,0,4,0,0,0,0,0,0,0,0,0\r\n"),
            std::string::npos)
      << r.out;
}

TEST_F(ReadCommands, ExportIcsToAFile) {
  const auto file = dir_->path() / "k-davies.ics";
  auto r = docket({"export", "ics", "--person", "k-davies", "--workflow", "rapid-review", "--output", file.string(), "--db",
                   db(), "--config", kConfig});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "wrote 5 events to " + file.string() + "\n");
  const std::string text = testing::slurp(file);
  EXPECT_EQ(text.rfind("BEGIN:VCALENDAR\r\n", 0), 0u);
  EXPECT_NE(text.find("UID:RR-C/rapid-review@docket\r\n"), std::string::npos);
}

TEST_F(ReadCommands, WrongInputIsOneLineAndExitTwo) {
  auto check = [&](std::vector<std::string> args, const std::string& message) {
    args.push_back("--config");
    args.push_back(kConfig);
    auto r = docket(args);
    EXPECT_EQ(r.code, 2) << args[0] << " " << args[1];
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
  };
  check({"audit", "--format", "xml", "--db", db()}, "--format must be table, json or csv, found 'xml'");
  check({"audit", "--since", "yesterday", "--db", db()}, "--since must be YYYY-MM-DD or YYYY-MM-DDTHH:MM");
  check({"audit", "--workflow", "rapid-reveiw", "--db", db()}, "unknown workflow 'rapid-reveiw', did you mean 'rapid-review'?");
  check({"audit", "verify", "--db", (dir_->path() / "none.db").string()}, "cannot open database");
  check({"audit", "verify", "--expect-head", "12", "--db", db()}, "--expect-head must be SEQ:HASH");
  check({"report", "compliance", "--financial-year", "2026", "--db", db()}, "--financial-year must look like 2026/27");
  check({"report", "compliance", "--financial-year", "2026/27", "--from", "2026-04-01", "--db", db()},
        "give --financial-year or --from/--to, not both");
  check({"export", "ics", "--person", "k-davis", "--db", db()}, "unknown person 'k-davis' in --person");
  check({"overdue", "--by", "team"}, "--by: team not in {role}");
}

TEST_F(ReadCommands, TheDatabaseComesFromDocketdToml) {
  testing::TempConfig tmp;
  tmp.write("docketd.toml", "[daemon]\ndatabase = \"" + db() + "\"\nsocket = \"x.sock\"\n");
  auto r = docket({"audit", "verify", "--config", tmp.dir().string()});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("audit trail intact"), std::string::npos) << r.out;
}

// The real executable on a copy of the file, as an inspector would run it.
TEST(AuditVerifyExecutable, ExitsZeroIntactAndOneWhenTampered) {
  testing::TempDir dir;
  const auto db = dir.path() / "docket.db";
  {
    store::Store s(db, "system");
    for (int i = 0; i < 3; ++i) {
      store::Batch b;
      store::AuditEntry e;
      e.at = 1772445600 + i;
      e.actor = "a-morgan";
      e.kind = "review.started";
      e.ref = "RR-" + std::to_string(i);
      b.audit.push_back(e);
      s.commit(b);
    }
  }
  const auto copy = dir.path() / "copy.db";
  std::filesystem::copy_file(db, copy);
  const std::string bin = std::string(DOCKET_BINARY_DIR) + "/bin/docket";
  auto ok = testing::run_command({bin, "audit", "verify", "--db", copy.string()}, dir.path());
  EXPECT_EQ(ok.code, 0) << ok.how << ok.err;
  EXPECT_NE(ok.out.find("audit trail intact: 3 records, 1 to 3"), std::string::npos) << ok.out;
  {
    store::Connection c(copy, store::Connection::Mode::read_write);
    c.exec("DROP TRIGGER audit_no_update");
    c.exec("UPDATE audit SET ref = 'RR-9' WHERE seq = 2");
  }
  auto bad = testing::run_command({bin, "audit", "verify", "--db", copy.string()}, dir.path());
  EXPECT_EQ(bad.code, 1) << bad.how << bad.err;
  EXPECT_EQ(bad.out.substr(0, bad.out.find('\n')),
            "audit trail BROKEN at record 2: record 2 was edited: its contents no longer match its hash");
  EXPECT_NE(bad.out.find("record 1 is intact"), std::string::npos) << bad.out;
  auto original = testing::run_command({bin, "audit", "verify", "--db", db.string()}, dir.path());
  EXPECT_EQ(original.code, 0) << "the original is untouched";
}

// With docketd running on the same file: `overdue --by role` asks the
// daemon, `audit` reads the database beside it; after SIGTERM the audit is
// read again with the daemon stopped.
TEST(WithDocketdRunning, OverdueByRoleAndTheAuditAlongside) {
  using namespace std::chrono_literals;
  testing::TempDir dir;
  const auto db = (dir.path() / "docket.db").string();
  const auto sock = (dir.path() / "docketd.sock").string();
  const std::string bin = std::string(DOCKET_BINARY_DIR) + "/bin/";
  testing::Process daemon({bin + "docketd", "--config", kConfig, "--db", db, "--socket", sock, "--virtual-clock",
                           "2026-03-02T08:00"},
                          dir.path() / "docketd.log", dir.path() / "docketd.log");
  bool ready = false;
  for (auto until = std::chrono::steady_clock::now() + testing::kPatience; !ready && std::chrono::steady_clock::now() < until;) {
    testing::LineClient probe(sock);
    ready = probe.connected() && probe.send_line(R"({"id":1,"command":"clock"})") && probe.read_line().has_value();
    if (!ready) std::this_thread::sleep_for(20ms);
  }
  ASSERT_TRUE(ready) << testing::slurp(dir.path() / "docketd.log");
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {bin + "docket", "--socket", sock, "--config", kConfig});
    return testing::run_command(args, dir.path());
  };
  for (const auto& [ref, lead] : {std::pair{"RR-1", "k-davies"}, std::pair{"RR-2", "h-ahmed"}}) {
    auto r = run({"start", "rapid-review", "--ref", ref, "--on", "2026-03-02", "--assign", std::string("lead-reviewer=") + lead});
    ASSERT_EQ(r.code, 0) << r.err;
  }
  ASSERT_EQ(run({"clock", "advance", "30d"}).code, 0);
  auto by_role = run({"overdue", "--by", "role"});
  ASSERT_EQ(by_role.code, 0) << by_role.err;
  EXPECT_EQ(by_role.out.find("la-safeguarding-lead: 2 overdue\n"), 0u) << by_role.out;
  EXPECT_NE(by_role.out.find("\nlead-reviewer: 2 overdue\n"), std::string::npos) << by_role.out;
  EXPECT_NE(by_role.out.find("lead-reviewer (h-ahmed)"), std::string::npos) << by_role.out;

  auto live = run({"audit", "verify", "--db", db});
  EXPECT_EQ(live.code, 0) << live.out << live.err;
  auto started = run({"audit", "--kind", "review.started", "--format", "json", "--db", db});
  ASSERT_EQ(started.code, 0) << started.err;
  EXPECT_EQ(nlohmann::json::parse(started.out)["records"].size(), 2u);

  daemon.signal(SIGTERM);
  auto st = daemon.wait(testing::kPatience);
  ASSERT_TRUE(st && WIFEXITED(*st)) << testing::describe_status(st);
  auto stopped = run({"audit", "--kind", "daemon.stopped", "--format", "json", "--db", db});
  ASSERT_EQ(stopped.code, 0) << stopped.err;
  EXPECT_EQ(nlohmann::json::parse(stopped.out)["records"].size(), 1u);
  EXPECT_EQ(run({"audit", "verify", "--db", db}).code, 0);
}

}  // namespace
}  // namespace docket::cli
