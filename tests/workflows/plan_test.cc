// Plans of every shipped workflow on start days that cross bank holidays,
// month ends and the clock change. Every expected date was counted by hand on
// the England and Wales calendar; the comments show the counting.

#include <gtest/gtest.h>

#include "tests/support/temp_config.h"
#include "workflows/plan.h"

namespace docket::workflows {
namespace {

class Plans : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto result = load_config(testing::shipped_config());
    ASSERT_TRUE(result.config);
    config_ = result.config;
  }

  static ReviewPlan review(const std::string& id, const char* start, std::map<std::string, Day> dates = {}) {
    PlanInputs in;
    in.start = *parse_local_time(start);
    in.start_has_time = std::string(start).size() > 10;
    in.dates = std::move(dates);
    return plan_review(*config_, config_->reviews.at(id), in);
  }

  static const PlannedItem& stage(const ReviewPlan& p, const std::string& id) {
    for (const auto& s : p.stages) {
      if (s.stage->id == id) return s;
    }
    throw std::runtime_error("no stage " + id);
  }

  static std::string due(const ReviewPlan& p, const std::string& id) {
    const auto& s = stage(p, id);
    return s.due ? iso(*s.due) : "unknown";
  }

  static std::vector<std::string> days(const std::vector<PlannedNotice>& notices) {
    std::vector<std::string> out;
    for (const auto& n : notices) out.push_back(n.at ? iso(*n.at) : iso(n.day));
    return out;
  }

  static inline std::shared_ptr<const Config> config_;
};

TEST_F(Plans, RapidReviewFromTheDomainExample) {
  auto p = review("rapid-review", "2026-03-02");
  EXPECT_EQ(due(p, "notify-panel"), "2026-03-09");
  EXPECT_EQ(due(p, "rapid-review"), "2026-03-23");
  EXPECT_EQ(days(stage(p, "rapid-review").reminders), (std::vector<std::string>{"2026-03-16", "2026-03-19"}));
  EXPECT_EQ(days(stage(p, "rapid-review").escalations),
            (std::vector<std::string>{"2026-03-24", "2026-03-26", "2026-03-30"}));
  EXPECT_EQ(stage(p, "rapid-review").escalations[0].to, (std::vector<std::string>{"rlt-children-chair"}));
  EXPECT_EQ(stage(p, "rapid-review").escalations[2].repeat, (Duration{5, Unit::working_days}));
  EXPECT_EQ(stage(p, "rapid-review").reminders[0].to, (std::vector<std::string>{"lead-reviewer"}));
  // The Panel's response: 10 working days after the review is sent (assumed
  // on its due day, Monday 23 March), skipping Good Friday and Easter Monday.
  EXPECT_EQ(due(p, "panel-response"), "2026-04-08");
  EXPECT_NE(stage(p, "panel-response").why.find("skipped Good Friday (Fri 3 Apr 2026) and Easter Monday (Mon 6 Apr 2026)"),
            std::string::npos)
      << stage(p, "panel-response").why;
  EXPECT_TRUE(stage(p, "panel-response").escalations.empty());
}

TEST_F(Plans, RapidReviewAcrossChristmas) {
  // Monday 14 December 2026: 15 working days skip Christmas (Fri 25), the
  // Boxing Day substitute (Mon 28) and New Year's Day (Fri 1 January 2027).
  auto p = review("rapid-review", "2026-12-14");
  EXPECT_EQ(due(p, "notify-panel"), "2026-12-21");
  EXPECT_EQ(due(p, "rapid-review"), "2027-01-07");
  // 5 working days before Thursday 7 January is Wednesday 30 December.
  EXPECT_EQ(days(stage(p, "rapid-review").reminders), (std::vector<std::string>{"2026-12-30", "2027-01-05"}));
}

TEST_F(Plans, RapidReviewStartingOnGoodFriday) {
  auto p = review("rapid-review", "2026-04-03");
  // Easter Monday is skipped: 7, 8, 9, 10, 13 April.
  EXPECT_EQ(due(p, "notify-panel"), "2026-04-13");
}

TEST_F(Plans, LcsprPublishClampsToFebruaryAndSendsSevenWorkingDaysBefore) {
  // Commissioned on the summer bank holiday 2026: 6 months is 31 February,
  // so the last day of February 2027, a Sunday (calendar-day limits stay put).
  auto p = review("lcspr", "2026-08-31");
  EXPECT_EQ(due(p, "publish"), "2027-02-28");
  EXPECT_NE(stage(p, "publish").why.find("last day of the month"), std::string::npos);
  EXPECT_NE(stage(p, "publish").why.find("not a working day"), std::string::npos);
  // 7 working days before Sunday 28 February: 26, 25, 24, 23, 22, 19, 18.
  EXPECT_EQ(due(p, "send-to-panel"), "2027-02-18");
  // In a leap year the clamp lands on the 29th.
  EXPECT_EQ(due(review("lcspr", "2027-08-31"), "publish"), "2028-02-29");
}

TEST_F(Plans, LcsprSendToPanelSkipsTheSummerBankHoliday) {
  auto p = review("lcspr", "2026-03-02");
  EXPECT_EQ(due(p, "publish"), "2026-09-02");
  // 1 Sep, (31 Aug bank holiday), 28, 27, 26, 25, 24, 21 August.
  EXPECT_EQ(due(p, "send-to-panel"), "2026-08-21");
}

TEST_F(Plans, ChildDeathCountsClockHoursAcrossTheClockChange) {
  // Friday 27 March 2026 10:00 GMT; clocks go forward on Sunday 29 March.
  auto p = review("child-death", "2026-03-27T10:00");
  const auto& s = stage(p, "notify-cdop");
  ASSERT_TRUE(s.due_at);
  EXPECT_EQ(iso(*s.due_at), "2026-03-29T11:00");
  EXPECT_EQ(days(s.reminders), (std::vector<std::string>{"2026-03-28T10:00", "2026-03-29T07:00"}));
  EXPECT_EQ(days(s.escalations), (std::vector<std::string>{"2026-03-29T12:00", "2026-03-30T11:00"}));
  EXPECT_EQ(due(p, "cdop-review"), "2026-09-27");
}

TEST_F(Plans, SarOverChristmasAndOnAWeekend) {
  auto p = review("sar", "2026-12-24");
  // 29, 30, 31 December, (1 January), 4, 5 January.
  EXPECT_EQ(due(p, "acknowledge"), "2027-01-05");
  EXPECT_EQ(due(p, "decide"), "2027-01-24");  // a Sunday: a calendar limit stays put
  EXPECT_EQ(days(stage(p, "decide").reminders), (std::vector<std::string>{"2027-01-18", "2027-01-21"}));
  EXPECT_EQ(due(p, "complete"), "2027-07-24");
  EXPECT_EQ(stage(p, "complete").opens, "opens only if decide has outcome 'commission'");
}

TEST_F(Plans, DhrClampsAndChains) {
  auto p = review("dhr", "2026-01-31");
  EXPECT_EQ(due(p, "decide"), "2026-02-28");
  EXPECT_EQ(due(p, "overview-report"), "2026-08-28");
  EXPECT_EQ(due(p, "publish"), "2026-11-28");
  EXPECT_EQ(stage(p, "publish").stage->limit, Limit::soft);
}

TEST_F(Plans, DisputeClimbsTheLadderAcrossMayBankHolidays) {
  auto p = review("dispute", "2026-05-01");
  EXPECT_EQ(due(p, "agencies-meet"), "2026-05-18");       // skips Mon 4 May
  EXPECT_EQ(due(p, "executive"), "2026-06-16");           // skips Mon 25 May
  EXPECT_EQ(due(p, "statutory-partners"), "2026-06-30");
}

TEST_F(Plans, YearlyReportLearningBriefingAndAudit) {
  auto y = review("yearly-report", "2026-06-30");
  EXPECT_EQ(due(y, "publish"), "2027-06-30");
  EXPECT_EQ(due(y, "send"), "2027-07-07");
  EXPECT_EQ(due(review("learning-briefing", "2026-01-31"), "publish"), "2026-02-28");
  auto a = review("case-file-audit", "2026-10-31");
  EXPECT_EQ(due(a, "audit"), "2026-12-31");
  EXPECT_EQ(due(a, "report"), "2027-01-31");
}

TEST_F(Plans, RealCompletionDaysReplaceTheAssumption) {
  PlanInputs in;
  in.start = *parse_local_time("2026-03-02");
  in.completed["rapid-review"] = *parse_day("2026-03-13");
  auto p = plan_review(*config_, config_->reviews.at("rapid-review"), in);
  EXPECT_EQ(due(p, "panel-response"), "2026-03-27");
}

TEST_F(Plans, RemindersBeforeTheStartAreNotSent) {
  // notify-panel is due 5 working days after start; a 2 working day reminder
  // fits, but none can come before the start itself.
  auto p = review("rapid-review", "2026-03-02");
  for (const auto& s : p.stages) {
    for (const auto& r : s.reminders) EXPECT_GE(r.day, *parse_day("2026-03-02")) << s.stage->id;
  }
}

TEST_F(Plans, ExecutiveMeetingsForTheFinancialYear) {
  const auto& exec = config_->cycles.at("executive");
  auto p = plan_cycle(*config_, exec, *parse_day("2026-04-01"), *parse_day("2027-03-31"));
  std::vector<std::string> dates;
  for (const auto& m : p.meetings) dates.push_back(iso(m.date));
  EXPECT_EQ(dates, (std::vector<std::string>{"2026-06-09", "2026-09-08", "2026-12-08", "2027-03-09"}));
  const auto& june = p.meetings[0];
  ASSERT_EQ(june.milestones.size(), 4u);
  EXPECT_EQ(iso(*june.milestones[0].due), "2026-06-02");  // papers 7 days before
  EXPECT_EQ(iso(*june.milestones[1].due), "2026-06-16");  // draft notes 7 days after
  EXPECT_EQ(iso(*june.milestones[2].due), "2026-06-23");  // notes stand after 7 days for amendments
  // Presented at the next wider Partnership: the third Wednesday of July.
  EXPECT_EQ(iso(*june.milestones[3].due), "2026-07-15");
}

TEST_F(Plans, SequencedCyclesFollowTheExecutive) {
  auto p = plan_cycle(*config_, config_->cycles.at("rlt-children"), *parse_day("2026-04-01"), *parse_day("2027-03-31"));
  std::vector<std::string> dates;
  for (const auto& m : p.meetings) dates.push_back(iso(m.date));
  EXPECT_EQ(dates, (std::vector<std::string>{"2026-05-19", "2026-08-18", "2026-11-17", "2027-02-16"}));
  // Its notes go to the next Executive.
  EXPECT_EQ(iso(*p.meetings[0].milestones[3].due), "2026-06-09");
}

TEST_F(Plans, EveryShippedCyclePlansAYear) {
  for (const auto& [id, c] : config_->cycles) {
    auto p = plan_cycle(*config_, c, *parse_day("2026-04-01"), *parse_day("2027-03-31"));
    EXPECT_FALSE(p.meetings.empty()) << id;
    for (const auto& m : p.meetings) {
      EXPECT_TRUE(config_->calendar_of(c).is_working_day(m.date)) << id << " meets on " << iso(m.date);
      for (const auto& ms : m.milestones) EXPECT_TRUE(ms.due.has_value()) << id << " " << ms.stage->id;
    }
  }
  EXPECT_EQ(plan_cycle(*config_, config_->cycles.at("channel"), *parse_day("2026-04-01"), *parse_day("2027-03-31"))
                .meetings.size(),
            12u);
  EXPECT_EQ(plan_cycle(*config_, config_->cycles.at("partnership"), *parse_day("2026-04-01"), *parse_day("2027-03-31"))
                .meetings.size(),
            2u);
}

TEST(CyclePlans, MeetingsOnBankHolidaysMoveAndPapersRollBack) {
  testing::TempConfig tmp;
  tmp.write("workflows/christmas-panel.toml", R"(
kind = "meeting-cycle"
id = "christmas-panel"
body = "A panel that would meet on Christmas Day"
chair = "executive-chair"
secretariat = "partnership-team"
[schedule]
rrule = "FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=25"
from = 2026-01-01
[[milestone]]
id = "papers"
owner = "partnership-team"
due = "7 days before meeting"
roll = "previous working day"
)");
  tmp.write("workflows/easter-panel.toml", R"(
kind = "meeting-cycle"
id = "easter-panel"
body = "A panel meeting the Monday after Easter Monday"
chair = "executive-chair"
secretariat = "partnership-team"
[schedule]
dates = [2026-04-13]
[[milestone]]
id = "papers"
owner = "partnership-team"
due = "7 days before meeting"
roll = "previous working day"
)");
  auto result = load_config(tmp.dir());
  ASSERT_TRUE(result.config) << (result.diagnostics.empty() ? "" : format(result.diagnostics.sorted()[0]));
  const Config& c = *result.config;
  auto xmas = plan_cycle(c, c.cycles.at("christmas-panel"), *parse_day("2026-01-01"), *parse_day("2026-12-31"));
  ASSERT_EQ(xmas.meetings.size(), 1u);
  // Friday 25 and Monday 28 (the Boxing Day substitute) are holidays.
  EXPECT_EQ(iso(xmas.meetings[0].date), "2026-12-29");
  EXPECT_NE(xmas.meetings[0].why.find("moved from Fri 25 Dec 2026 (Christmas Day)"), std::string::npos);
  auto easter = plan_cycle(c, c.cycles.at("easter-panel"), *parse_day("2026-01-01"), *parse_day("2026-12-31"));
  ASSERT_EQ(easter.meetings.size(), 1u);
  // 7 days before Monday 13 April is Easter Monday; the papers go on Thursday 2 April.
  EXPECT_EQ(iso(*easter.meetings[0].milestones[0].due), "2026-04-02");
}

TEST_F(Plans, MissingSuppliedDateIsAClearError) {
  testing::TempConfig tmp;
  tmp.write("workflows/with-date.toml", R"(
kind = "review"
id = "with-date"
title = "Counted from a supplied date"
[dates]
decision = "the day the partners decided"
[[stage]]
id = "act"
owner = "business-manager"
due = "1 month after date.decision"
)");
  auto result = load_config(tmp.dir());
  ASSERT_TRUE(result.config);
  PlanInputs in;
  in.start = *parse_local_time("2026-03-02");
  const auto& def = result.config->reviews.at("with-date");
  try {
    plan_review(*result.config, def, in);
    FAIL() << "expected a PlanError";
  } catch (const PlanError& e) {
    EXPECT_STREQ(e.what(), "the deadline of stage 'act' counts from date.decision: give it with --date "
                           "decision=YYYY-MM-DD");
  }
  in.dates["decision"] = *parse_day("2026-01-31");
  auto p = plan_review(*result.config, def, in);
  EXPECT_EQ(iso(*p.stages[0].due), "2026-02-28");
}

}  // namespace
}  // namespace docket::workflows
