// RRULE expansion for meeting cycles. Expansions are remembered per rule and
// DTSTART and read on from where they stopped, so asking for windows in any
// order must give what one walk from DTSTART gives.

#include <gtest/gtest.h>

#include <vector>

#include "workflows/recurrence.h"

namespace docket::workflows {
namespace {

Day d(const char* s) { return *parse_day(s); }

// Every occurrence in [from, to], asked one year at a time in the order given.
std::vector<Day> by_years(const std::string& rule, Day dtstart, const std::vector<int>& years) {
  std::vector<Day> out;
  for (int y : years) {
    const Day from{date::year{y} / date::January / 1};
    const Day to{date::year{y} / date::December / 31};
    for (Day day : expand_rrule(rule, dtstart, from, to)) out.push_back(day);
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Recurrence, WindowsInAnyOrderGiveWhatOneWalkFromDtstartGives) {
  // An INTERVAL counts from DTSTART, so the phase must survive any order.
  const std::string rule = "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU";
  const Day start = d("2026-04-14");
  // A rule and start no other test uses, so this walk is the first.
  const auto whole = expand_rrule(rule, start, d("2026-01-01"), d("2075-12-31"));
  ASSERT_EQ(whole.size(), 299u);  // April to December 2026, then six a year for 49 years
  EXPECT_EQ(whole.front(), d("2026-04-14"));
  EXPECT_EQ(whole[1], d("2026-06-09"));
  std::vector<int> forward, backward, scattered;
  for (int y = 2026; y <= 2075; ++y) forward.push_back(y);
  for (int y = 2075; y >= 2026; --y) backward.push_back(y);
  for (int y = 0; y < 50; ++y) scattered.push_back(2026 + (y * 37) % 50);
  EXPECT_EQ(by_years(rule, start, forward), whole);
  EXPECT_EQ(by_years(rule, start, backward), whole);
  EXPECT_EQ(by_years(rule, start, scattered), whole);
}

TEST(Recurrence, AFarWindowAskedFirstThenNearOnesStillMatch) {
  const std::string rule = "FREQ=WEEKLY;INTERVAL=3;BYDAY=TH";
  const Day start = d("2027-01-07");
  const auto far = expand_rrule(rule, start, d("2090-01-01"), d("2090-12-31"));
  ASSERT_FALSE(far.empty());
  const auto first_year = expand_rrule(rule, start, d("2027-01-01"), d("2027-12-31"));
  ASSERT_EQ(first_year.size(), 18u);  // every third Thursday from 7 January: 52 weeks / 3, rounded up
  EXPECT_EQ(first_year[0], d("2027-01-07"));
  EXPECT_EQ(first_year[1], d("2027-01-28"));
  // 63 years of 52 or 53 weeks later, still on the three-week phase.
  for (Day day : far) EXPECT_EQ((day - start).count() % 21, 0) << iso(day);
  EXPECT_TRUE(expand_rrule(rule, start, d("2026-01-01"), d("2026-12-31")).empty()) << "before DTSTART";
}

// Handed a DTSTART whose time of day was -1 (icaltime_null_date), libical
// gave the shipped DALP board's rule (every other month from April, first
// Wednesday) as 1 April twice, 6 May and 3 June 2026, and drifted to odd
// months; and a WEEKLY rule with BYDAY gave its DTSTART for ever.
TEST(Recurrence, EveryOtherMonthKeepsItsPhaseFromDtstartAndEachDayComesOnce) {
  EXPECT_EQ(expand_rrule("FREQ=MONTHLY;INTERVAL=2;BYDAY=1WE", d("2026-04-01"), d("2026-01-01"), d("2027-06-30")),
            (std::vector<Day>{d("2026-04-01"), d("2026-06-03"), d("2026-08-05"), d("2026-10-07"), d("2026-12-02"),
                              d("2027-02-03"), d("2027-04-07"), d("2027-06-02")}));
  for (Day day : expand_rrule("FREQ=MONTHLY;INTERVAL=2;BYDAY=1WE", d("2026-04-01"), d("2026-01-01"), d("2060-12-31"))) {
    const auto month = static_cast<unsigned>(date::year_month_day{day}.month());
    EXPECT_EQ(month % 2, 0u) << iso(day) << ": April, June, ... only";
    EXPECT_LE(static_cast<unsigned>(date::year_month_day{day}.day()), 7u) << iso(day);
  }
  EXPECT_EQ(expand_rrule("FREQ=MONTHLY;BYDAY=1WE", d("2026-04-01"), d("2026-04-01"), d("2026-06-30")),
            (std::vector<Day>{d("2026-04-01"), d("2026-05-06"), d("2026-06-03")}));
  // COUNT counts the occurrences the interval keeps.
  EXPECT_EQ(expand_rrule("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;COUNT=5", d("2026-03-02"), d("2026-01-01"),
                         d("2026-12-31")),
            (std::vector<Day>{d("2026-03-02"), d("2026-03-06"), d("2026-03-16"), d("2026-03-20"), d("2026-03-30")}));
}

TEST(Recurrence, ARuleThatEndsStopsAndAnEmptyWindowIsEmpty) {
  const std::string rule = "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=1;COUNT=3";
  const Day start = d("2026-03-01");
  EXPECT_EQ(expand_rrule(rule, start, d("2026-01-01"), d("2040-12-31")),
            (std::vector<Day>{d("2026-03-01"), d("2027-03-01"), d("2028-03-01")}));
  EXPECT_TRUE(expand_rrule(rule, start, d("2029-01-01"), d("2099-12-31")).empty());
  EXPECT_TRUE(expand_rrule(rule, start, d("2027-03-02"), d("2028-02-28")).empty());
}

}  // namespace
}  // namespace docket::workflows
