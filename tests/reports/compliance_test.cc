// Report figures against rehearsals whose answers are counted by hand: the
// March 2026 Rapid Reviews of tests/support/rehearsal.h for compliance, and a
// quarter of meetings for the meetings report.

#include <gtest/gtest.h>

#include "reports/compliance.h"
#include "reports/meetings_report.h"
#include "reports/time_text.h"
#include "store/audit_query.h"
#include "tests/support/process.h"
#include "tests/support/rehearsal.h"

namespace docket::reports {
namespace {

using workflows::Day;
Day day(const char* s) { return *workflows::parse_day(s); }

class ComplianceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir;
    testing::Rehearsal r(db(), "2026-03-02T08:00");
    testing::march_reviews(r);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::filesystem::path db() { return dir_->path() / "docket.db"; }

  std::vector<StageCompliance> figures(const char* from, const char* to, const char* today) {
    store::Reader reader(db());
    return compliance(reader, *testing::shipped_config_loaded(), Period{day(from), day(to), "the period"}, day(today));
  }
  static const StageCompliance& row(const std::vector<StageCompliance>& rows, const std::string& stage) {
    for (const auto& r : rows) {
      if (r.stage == stage) return r;
    }
    static StageCompliance none;
    ADD_FAILURE() << "no row for " << stage;
    return none;
  }

  static testing::TempDir* dir_;
};
testing::TempDir* ComplianceTest::dir_ = nullptr;

TEST_F(ComplianceTest, MarchCountedByHand) {
  auto rows = figures("2026-03-01", "2026-03-31", "2026-04-02");
  ASSERT_EQ(rows.size(), 2u) << "panel-response and E's rapid-review fall due in April";

  // notify-panel: A on time; B 2 and D 5 working days late; C waived; G
  // waived (cancelled); E open past its due date.
  const auto& notify = row(rows, "notify-panel");
  EXPECT_EQ(notify.workflow, "rapid-review");
  EXPECT_EQ(notify.limit, "statutory");
  EXPECT_EQ(notify.fell_due, 6);
  EXPECT_EQ(notify.on_time, 1);
  EXPECT_EQ(notify.late, 2);
  EXPECT_EQ(notify.overdue, 1);
  EXPECT_EQ(notify.open, 0);
  EXPECT_EQ(notify.waived, 2);
  EXPECT_EQ(notify.extended, 0);
  EXPECT_EQ(notify.days_late, (std::vector<int>{2, 5}));
  EXPECT_EQ(notify.median_days_late(), 3.5);
  EXPECT_EQ(notify.worst_days_late(), 5);
  EXPECT_EQ(notify.within_limit, 1);
  EXPECT_DOUBLE_EQ(*notify.within_limit_percent(), 25.0);  // 1 of A, B, D, E

  // rapid-review: A 2 late; B extended and met on the new date, but after
  // the limit; C overdue; D 1 late; G waived.
  const auto& rapid = row(rows, "rapid-review");
  EXPECT_EQ(rapid.fell_due, 5);
  EXPECT_EQ(rapid.on_time, 1);
  EXPECT_EQ(rapid.late, 2);
  EXPECT_EQ(rapid.overdue, 1);
  EXPECT_EQ(rapid.open, 0);
  EXPECT_EQ(rapid.waived, 1);
  EXPECT_EQ(rapid.extended, 1);
  EXPECT_EQ(rapid.days_late, (std::vector<int>{1, 2}));
  EXPECT_EQ(rapid.median_days_late(), 1.5);
  EXPECT_EQ(rapid.worst_days_late(), 2);
  EXPECT_EQ(rapid.within_limit, 0);
  EXPECT_DOUBLE_EQ(*rapid.within_limit_percent(), 0.0);

  // The table's total: 11 fell due; 1 within the limit of 8 met or overdue.
  auto table = compliance_table(rows, Period{day("2026-03-01"), day("2026-03-31"), "the period"}, day("2026-04-02"));
  auto j = to_json(table);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[2]["workflow"], "all");
  EXPECT_EQ(j[2]["fell_due"], 11);
  EXPECT_EQ(j[2]["met_on_time"], 2);
  EXPECT_EQ(j[2]["met_late"], 4);
  EXPECT_EQ(j[2]["overdue"], 2);
  EXPECT_EQ(j[2]["waived"], 3);
  EXPECT_EQ(j[2]["median_working_days_late"], 2);  // of 1, 2, 2, 5
  EXPECT_EQ(j[2]["worst_working_days_late"], 5);
  EXPECT_EQ(j[2]["within_limit_percent"], 12.5);
  EXPECT_EQ(j[0]["median_working_days_late"], 3.5);
  EXPECT_NE(table.title.find("days late are working days"), std::string::npos) << table.title;
}

TEST_F(ComplianceTest, AprilIsStillOpen) {
  auto rows = figures("2026-04-01", "2026-04-30", "2026-04-02");
  // panel-response of A (10 Apr), B (14 Apr), D (15 Apr): soft, not yet due;
  // E's rapid-review (15 Apr): not yet due.
  const auto& panel = row(rows, "panel-response");
  EXPECT_EQ(panel.limit, "soft");
  EXPECT_EQ(panel.fell_due, 3);
  EXPECT_EQ(panel.open, 3);
  EXPECT_EQ(panel.within_limit_percent(), std::nullopt);
  const auto& rapid = row(rows, "rapid-review");
  EXPECT_EQ(rapid.fell_due, 1);
  EXPECT_EQ(rapid.open, 1);
  EXPECT_EQ(rapid.within_limit_percent(), std::nullopt) << "nothing met or overdue yet";
  // Seen from a later day, the same rows are overdue; a soft limit still has no percentage.
  auto later = figures("2026-04-01", "2026-04-30", "2026-05-01");
  EXPECT_EQ(row(later, "panel-response").overdue, 3);
  EXPECT_EQ(row(later, "panel-response").within_limit_percent(), std::nullopt);
  EXPECT_DOUBLE_EQ(*row(later, "rapid-review").within_limit_percent(), 0.0);
}

TEST_F(ComplianceTest, TheDatabaseKnowsItsOwnDay) {
  store::Reader reader(db());
  EXPECT_EQ(database_today(reader, date::locate_zone("Europe/London")), day("2026-04-02"))
      << "a rehearsal counts from its virtual clock";
}

TEST_F(ComplianceTest, AuditFiltersUseTheirIndexes) {
  store::Reader reader(db());
  store::AuditFilter f;
  f.kind = "stage.completed";
  auto page = store::query_audit(reader, f);
  ASSERT_EQ(page.records.size(), 6u);  // A twice, B twice, D twice
  EXPECT_EQ(page.records.front().ref, "RR-A") << "oldest first";
  EXPECT_EQ(page.records.back().ref, "RR-D");
  ASSERT_FALSE(page.plan.empty());
  EXPECT_NE(page.plan[0].find("audit_kind"), std::string::npos) << page.plan[0];

  f.limit = 4;
  page = store::query_audit(reader, f);
  EXPECT_EQ(page.records.size(), 4u);
  EXPECT_TRUE(page.more);
  EXPECT_EQ(page.records.back().ref, "RR-D") << "the newest four";

  store::AuditFilter by_ref;
  by_ref.ref = "RR-B";
  by_ref.stage = "rapid-review";
  by_ref.kind = "deadline.extended";
  page = store::query_audit(reader, by_ref);
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_EQ(page.records[0].actor, "a-morgan");

  store::AuditFilter window;
  window.since = testing::london("2026-03-25T00:00").time_since_epoch().count();
  window.until = testing::london("2026-03-26T00:00").time_since_epoch().count();
  window.actor = "a-morgan";
  page = store::query_audit(reader, window);
  ASSERT_FALSE(page.records.empty());
  for (const auto& r : page.records) EXPECT_EQ(r.ref, "RR-A") << r.kind;

  store::AuditFilter wf;
  wf.workflow = "rapid-review";
  wf.limit = 100000;
  page = store::query_audit(reader, wf);
  EXPECT_FALSE(page.more);
  std::set<std::string> refs;
  for (const auto& r : page.records) refs.insert(r.ref);
  EXPECT_EQ(refs, (std::set<std::string>{"RR-A", "RR-B", "RR-C", "RR-D", "RR-E", "RR-G"}));
  wf.workflow = "executive";
  page = store::query_audit(reader, wf);
  ASSERT_FALSE(page.records.empty());
  for (const auto& r : page.records) EXPECT_TRUE(r.ref.starts_with("@executive/")) << r.ref;
}

// A quarter of meetings, counted by hand. The Executive meets on the second
// Tuesday of June (9 Jun 2026): papers due Tue 2 Jun, met Mon 1 Jun; held
// with police, ICB and council (a deputy) and the independent chair
// present, so quorate; draft notes due Tue 16 Jun, out Thu 18 Jun (late).
// Its other three meetings of 2026/27 are to come. The Channel panel meets
// on the second Wednesday monthly: 8 Apr and 13 May pass unrecorded; 10 Jun
// is held (council and police) with notes out on Fri 12 Jun (on time). Its
// papers for 8 Apr (due 1 Apr), 13 May (6 May) and 10 Jun (3 Jun) were never
// recorded; its 8 Jul papers are due on 1 Jul, today, so not yet counted.
TEST(MeetingsReport, AQuarterCountedByHand) {
  testing::TempDir dir;
  const auto db = dir.path() / "docket.db";
  {
    testing::Rehearsal r(db, "2026-03-30T08:00");
    const auto& m = testing::Rehearsal::kManager;
    r.advance_to("2026-06-01T10:00");
    r.run("papers", [&](daemon::Engine& e, store::Batch& b) { return e.meeting_papers(m, "executive", "2026-06-09", b); });
    r.advance_to("2026-06-09T16:00");
    r.run("held", [&](daemon::Engine& e, store::Batch& b) {
      return e.meeting_held(m, "executive", "2026-06-09", {"m-clarke", "p-singh", "k-davies", "j-okafor"}, b);
    });
    r.advance_to("2026-06-10T16:00");
    r.run("channel held",
          [&](daemon::Engine& e, store::Batch& b) { return e.meeting_held(m, "channel", "2026-06-10", {"k-davies", "d-evans"}, b); });
    r.advance_to("2026-06-12T10:00");
    r.run("channel notes", [&](daemon::Engine& e, store::Batch& b) { return e.meeting_notes(m, "channel", "2026-06-10", b); });
    r.advance_to("2026-06-18T10:00");
    r.run("notes", [&](daemon::Engine& e, store::Batch& b) { return e.meeting_notes(m, "executive", "2026-06-09", b); });
    r.advance_to("2026-07-01T10:00");
  }
  store::Reader reader(db);
  const auto& config = *testing::shipped_config_loaded();
  auto report = meetings_report(reader, config, Period{day("2026-04-01"), day("2027-03-31"), "financial year 2026/27"},
                                database_today(reader, date::locate_zone("Europe/London")));
  auto rows = to_json(report.summary);
  auto find = [&](const nlohmann::json& list, const std::string& body) {
    for (const auto& r : list) {
      if (r["body"] == body) return r;
    }
    ADD_FAILURE() << "no row for " << body;
    return nlohmann::json();
  };
  auto exec = find(rows, "executive");
  EXPECT_EQ(exec["planned"], 4);
  EXPECT_EQ(exec["held"], 1);
  EXPECT_EQ(exec["not_held"], 0);
  EXPECT_EQ(exec["to_come"], 3);
  EXPECT_EQ(exec["quorate"], 1);
  EXPECT_EQ(exec["inquorate"], 0);
  EXPECT_EQ(exec["papers_due"], 1);
  EXPECT_EQ(exec["papers_on_time"], 1);
  EXPECT_EQ(exec["notes_due"], 1);
  EXPECT_EQ(exec["notes_on_time"], 0);

  auto channel = find(rows, "channel");
  EXPECT_EQ(channel["planned"], 12);
  EXPECT_EQ(channel["held"], 1);
  EXPECT_EQ(channel["not_held"], 2);
  EXPECT_EQ(channel["to_come"], 9);
  EXPECT_TRUE(channel["quorate"].is_null()) << "the Channel panel has no quorum rule";
  EXPECT_EQ(channel["papers_due"], 3);
  EXPECT_EQ(channel["papers_on_time"], 0);
  EXPECT_EQ(channel["notes_due"], 3) << "15 Apr and 20 May never recorded; 17 Jun met";
  EXPECT_EQ(channel["notes_on_time"], 1);

  auto attendance = to_json(report.attendance);
  auto ea = find(attendance, "executive");
  EXPECT_EQ(ea["held"], 1);
  EXPECT_EQ(ea["council"], 1) << "k-davies deputises for r-hughes, both council";
  EXPECT_EQ(ea["icb"], 1);
  EXPECT_EQ(ea["police"], 1);
  EXPECT_EQ(ea["independent"], 1);
  auto ca = find(attendance, "channel");
  EXPECT_EQ(ca["council"], 1);
  EXPECT_EQ(ca["police"], 1);
  EXPECT_EQ(ca["icb"], 0);
  // The CSV table carries both side by side.
  auto combined = to_json(report.combined);
  EXPECT_EQ(find(combined, "executive")["attended_police"], 1);
  EXPECT_EQ(find(combined, "executive")["papers_on_time"], 1);
}

}  // namespace
}  // namespace docket::reports
