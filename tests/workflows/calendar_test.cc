// The England and Wales calendar as shipped: every published bank holiday is
// a non-working day, the rules reproduce every date that is not a one-off, and
// later years come from the rules.

#include <gtest/gtest.h>

#include <set>

#include "tests/support/temp_config.h"
#include "workflows/config.h"

namespace docket::workflows {
namespace {

// The UK government's published list for England and Wales, typed in again
// here (not read from the TOML) so that the test checks the data file.
const std::vector<std::string> kPublished = {
    "2018-01-01", "2018-03-30", "2018-04-02", "2018-05-07", "2018-05-28", "2018-08-27", "2018-12-25", "2018-12-26",
    "2019-01-01", "2019-04-19", "2019-04-22", "2019-05-06", "2019-05-27", "2019-08-26", "2019-12-25", "2019-12-26",
    "2020-01-01", "2020-04-10", "2020-04-13", "2020-05-08", "2020-05-25", "2020-08-31", "2020-12-25", "2020-12-28",
    "2021-01-01", "2021-04-02", "2021-04-05", "2021-05-03", "2021-05-31", "2021-08-30", "2021-12-27", "2021-12-28",
    "2022-01-03", "2022-04-15", "2022-04-18", "2022-05-02", "2022-06-02", "2022-06-03", "2022-08-29", "2022-09-19",
    "2022-12-26", "2022-12-27",
    "2023-01-02", "2023-04-07", "2023-04-10", "2023-05-01", "2023-05-08", "2023-05-29", "2023-08-28", "2023-12-25",
    "2023-12-26",
    "2024-01-01", "2024-03-29", "2024-04-01", "2024-05-06", "2024-05-27", "2024-08-26", "2024-12-25", "2024-12-26",
    "2025-01-01", "2025-04-18", "2025-04-21", "2025-05-05", "2025-05-26", "2025-08-25", "2025-12-25", "2025-12-26",
    "2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31", "2026-12-25", "2026-12-28",
    "2027-01-01", "2027-03-26", "2027-03-29", "2027-05-03", "2027-05-31", "2027-08-30", "2027-12-27", "2027-12-28",
};
// Moved or extra days that no rule produces.
const std::set<std::string> kOneOff = {"2020-05-08", "2022-06-02", "2022-06-03", "2022-09-19", "2023-05-08"};

Day d(const char* s) { return *parse_day(s); }

class ShippedCalendar : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto result = load_config(testing::shipped_config());
    ASSERT_TRUE(result.config) << "the shipped configuration does not load";
    config_ = result.config;
  }
  static const Calendar& cal() { return config_->calendar("england-and-wales"); }
  static inline std::shared_ptr<const Config> config_;
};

TEST_F(ShippedCalendar, EveryPublishedHolidayIsANonWorkingDay) {
  for (const auto& s : kPublished) {
    EXPECT_FALSE(cal().is_working_day(*parse_day(s))) << s;
    EXPECT_NE(cal().holiday(*parse_day(s)), nullptr) << s;
  }
}

TEST_F(ShippedCalendar, PublishedYearsHoldExactlyThePublishedList) {
  for (int year = 2018; year <= 2027; ++year) {
    std::set<std::string> expected;
    for (const auto& s : kPublished) {
      if (s.starts_with(std::to_string(year))) expected.insert(s);
    }
    std::set<std::string> actual;
    for (const auto& h : cal().holidays_in(year)) actual.insert(iso(h.day));
    EXPECT_EQ(actual, expected) << year;
  }
}

TEST_F(ShippedCalendar, RulesReproduceEveryPublishedDateThatIsNotAOneOff) {
  for (int year = 2018; year <= 2027; ++year) {
    std::set<std::string> by_rule;
    for (const auto& h : cal().rule_holidays(year)) by_rule.insert(iso(h.day));
    for (const auto& s : kPublished) {
      if (!s.starts_with(std::to_string(year)) || kOneOff.count(s) > 0) continue;
      EXPECT_EQ(by_rule.count(s), 1u) << s << " is published but the rules do not produce it";
    }
  }
}

TEST_F(ShippedCalendar, PublishedDataWinsOverTheRulesForTheSameYear) {
  // 2020: the early May holiday moved to Friday 8 May (VE Day); the rule's
  // Monday 4 May was an ordinary working day.
  EXPECT_TRUE(cal().is_working_day(d("2020-05-04")));
  EXPECT_FALSE(cal().is_working_day(d("2020-05-08")));
  // 2022: the spring holiday moved to Thursday 2 June; Monday 30 May was worked.
  EXPECT_TRUE(cal().is_working_day(d("2022-05-30")));
  EXPECT_TRUE(cal().holiday(d("2022-06-02"))->one_off);
}

TEST_F(ShippedCalendar, OneOffDaysAreMarkedInTheData) {
  for (const auto& s : kOneOff) {
    const Holiday* h = cal().holiday(*parse_day(s));
    ASSERT_NE(h, nullptr) << s;
    EXPECT_TRUE(h->one_off) << s;
  }
}

TEST_F(ShippedCalendar, LaterYearsComeFromTheRules) {
  // 2028: Saturday 1 January gives Monday 3 January; Easter Sunday is 16 April.
  auto names = [&](int year) {
    std::vector<std::string> out;
    for (const auto& h : cal().holidays_in(year)) out.push_back(iso(h.day));
    return out;
  };
  EXPECT_EQ(names(2028), (std::vector<std::string>{"2028-01-03", "2028-04-14", "2028-04-17", "2028-05-01",
                                                   "2028-05-29", "2028-08-28", "2028-12-25", "2028-12-26"}));
  // 2032: Christmas Day on a Saturday, Boxing Day on a Sunday: Monday 27 and Tuesday 28.
  auto y2032 = names(2032);
  EXPECT_NE(std::find(y2032.begin(), y2032.end(), "2032-12-27"), y2032.end());
  EXPECT_NE(std::find(y2032.begin(), y2032.end(), "2032-12-28"), y2032.end());
  // 2033: Christmas Day on a Sunday: Boxing Day Monday 26, substitute Tuesday 27.
  auto y2033 = names(2033);
  EXPECT_NE(std::find(y2033.begin(), y2033.end(), "2033-12-26"), y2033.end());
  EXPECT_NE(std::find(y2033.begin(), y2033.end(), "2033-12-27"), y2033.end());
  EXPECT_EQ(std::find(y2033.begin(), y2033.end(), "2033-12-25"), y2033.end());
  // Far in the future, inside and beyond the precomputed years, the calendar still answers.
  EXPECT_EQ(cal().holidays_in(2150).size(), 8u);
  EXPECT_EQ(cal().holidays_in(2400).size(), 8u);
  EXPECT_NE(cal().holiday(d("2401-12-25")), nullptr);  // a Tuesday
}

TEST_F(ShippedCalendar, SubstituteDaysAreNamed) {
  EXPECT_EQ(cal().holiday(d("2028-01-03"))->name, "New Year’s Day (substitute day)");
  EXPECT_TRUE(cal().holiday(d("2028-01-03"))->substitute);
}

TEST(Easter, KnownDates) {
  EXPECT_EQ(iso(easter_sunday(2024)), "2024-03-31");
  EXPECT_EQ(iso(easter_sunday(2026)), "2026-04-05");
  EXPECT_EQ(iso(easter_sunday(2038)), "2038-04-25");  // the latest possible
  EXPECT_EQ(iso(easter_sunday(2285)), "2285-03-22");  // the earliest possible
  EXPECT_EQ(iso(easter_sunday(2000)), "2000-04-23");
}

TEST(FinancialYears, ParseAndContain) {
  auto fy = FinancialYear::parse("2026/27");
  ASSERT_TRUE(fy);
  EXPECT_EQ(iso(fy->first_day()), "2026-04-01");
  EXPECT_EQ(iso(fy->last_day()), "2027-03-31");
  EXPECT_EQ(fy->label(), "2026/27");
  EXPECT_EQ(FinancialYear::parse("2026/2027")->first_year, 2026);
  EXPECT_EQ(FinancialYear::parse("1999/00")->label(), "1999/00");
  EXPECT_FALSE(FinancialYear::parse("2026/28"));
  EXPECT_FALSE(FinancialYear::parse("2026"));
  EXPECT_FALSE(FinancialYear::parse("26/27"));
  EXPECT_EQ(FinancialYear::containing(d("2027-03-31")).first_year, 2026);
  EXPECT_EQ(FinancialYear::containing(d("2027-04-01")).first_year, 2027);
  EXPECT_EQ(FinancialYear::containing(d("2026-01-15")).first_year, 2025);
}

TEST(Dates, StrictParsing) {
  EXPECT_TRUE(parse_day("2028-02-29"));
  EXPECT_FALSE(parse_day("2026-02-29"));
  EXPECT_FALSE(parse_day("2026-13-01"));
  EXPECT_FALSE(parse_day("2026-3-2"));
  EXPECT_FALSE(parse_day("02/03/2026"));
  EXPECT_FALSE(parse_day("2026-03-02x"));
  EXPECT_EQ(iso(*parse_local_time("2026-03-02T14:30")), "2026-03-02T14:30");
  EXPECT_EQ(iso(*parse_local_time("2026-03-02 09:05")), "2026-03-02T09:05");
  EXPECT_FALSE(parse_local_time("2026-03-02T24:00"));
  EXPECT_FALSE(parse_local_time("2026-03-02T9:00"));
  EXPECT_EQ(short_date(d("2026-03-02")), "Mon 2 Mar 2026");
  EXPECT_EQ(long_date(d("2026-03-02")), "Monday 2 March 2026");
}

}  // namespace
}  // namespace docket::workflows
