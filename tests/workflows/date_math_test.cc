// Deadline arithmetic (DOMAIN.md, "Counting days") around Christmas, Easter,
// month ends and leap years, forwards and backwards.

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "tests/support/temp_config.h"
#include "workflows/config.h"
#include "workflows/date_math.h"

namespace docket::workflows {
namespace {

Day d(const char* s) { return *parse_day(s); }

class DateMath : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto result = load_config(testing::shipped_config());
    ASSERT_TRUE(result.config);
    config_ = result.config;
  }
  static const Calendar& cal() { return config_->calendar("england-and-wales"); }
  static std::string after(const char* from, int n, Unit u) {
    return iso(shift(cal(), d(from), Duration{n, u}, Direction::after).day);
  }
  static std::string before(const char* from, int n, Unit u) {
    return iso(shift(cal(), d(from), Duration{n, u}, Direction::before).day);
  }
  static inline std::shared_ptr<const Config> config_;
};

// Dates and times are written with fixed-width, zero-padded fields.
TEST(IsoText, DaysTimesAndInstantsArePaddedToTheirWidths) {
  EXPECT_EQ(iso(Day{date::year{2026} / 3 / 2}), "2026-03-02");
  EXPECT_EQ(iso(Day{date::year{987} / 12 / 31}), "0987-12-31");
  EXPECT_EQ(iso(Day{date::year{12026} / 1 / 1}), "12026-01-01") << "beyond four digits, as date::format writes it";
  EXPECT_EQ(iso(LocalTime{date::local_days{date::year{2026} / 3 / 2}} + std::chrono::minutes{5}), "2026-03-02T00:05");
  EXPECT_EQ(iso(LocalTime{date::local_days{date::year{2026} / 3 / 2}} + std::chrono::minutes{23 * 60 + 59}),
            "2026-03-02T23:59");
  EXPECT_EQ(iso_utc(date::sys_days{date::year{2026} / 6 / 1} + std::chrono::seconds{9 * 3600 + 7 * 60 + 3}),
            "2026-06-01T09:07:03Z");
}

// A long working-day count jumps whole weeks; it must land on the day, and
// pass over the holidays, that counting day by day does, either way.
TEST_F(DateMath, ALongWorkingDayCountLandsWhereCountingDayByDayDoes) {
  auto by_day = [](Day from, int count, int sign, std::vector<Day>& skipped) {
    Day cur = from;
    for (int counted = 0; counted < count;) {
      cur += date::days{sign};
      if (cal().is_working_day(cur)) ++counted;
      else if (!cal().is_weekend(cur)) skipped.push_back(cur);
    }
    return cur;
  };
  std::mt19937 rng(20261122);
  std::uniform_int_distribution<int> day_of(0, 365 * 40), count_of(1, 4000);
  const Day base = d("2020-01-01");
  for (int i = 0; i < 400; ++i) {
    const Day from = base + date::days{day_of(rng)};
    const int count = i < 40 ? 1 + i : count_of(rng);  // the short counts too
    for (auto dir : {Direction::after, Direction::before}) {
      std::vector<Day> want_skipped;
      const Day want = by_day(from, count, dir == Direction::after ? 1 : -1, want_skipped);
      const Shifted got = shift(cal(), from, Duration{count, Unit::working_days}, dir);
      ASSERT_EQ(iso(got.day), iso(want)) << count << " working days " << (dir == Direction::after ? "after " : "before ")
                                         << iso(from);
      std::vector<Day> got_skipped;
      for (const Holiday* h : got.skipped) got_skipped.push_back(h->day);
      ASSERT_EQ(got_skipped, want_skipped) << count << " from " << iso(from);
    }
  }
  // A century of working days takes a handful of jumps, not 25,000 steps.
  std::vector<Day> passed;
  EXPECT_EQ(after("2026-03-02", 25000, Unit::working_days), iso(by_day(d("2026-03-02"), 25000, 1, passed)));
}

TEST_F(DateMath, TheDomainExample) {
  // A serious incident known on Monday 2 March 2026: 15 working days -> Monday 23 March.
  EXPECT_EQ(after("2026-03-02", 15, Unit::working_days), "2026-03-23");
}

TEST_F(DateMath, WorkingDaysSkipWeekendsAndBankHolidays) {
  EXPECT_EQ(after("2026-03-06", 1, Unit::working_days), "2026-03-09");  // Friday -> Monday
  EXPECT_EQ(after("2026-03-07", 1, Unit::working_days), "2026-03-09");  // Saturday start -> Monday
  EXPECT_EQ(after("2026-03-02", 0, Unit::working_days), "2026-03-02");
  // Easter 2026: Good Friday 3 April and Easter Monday 6 April.
  EXPECT_EQ(after("2026-04-02", 1, Unit::working_days), "2026-04-07");
  auto s = shift(cal(), d("2026-03-23"), Duration{10, Unit::working_days}, Direction::after);
  EXPECT_EQ(iso(s.day), "2026-04-08");
  ASSERT_EQ(s.skipped.size(), 2u);
  EXPECT_EQ(s.skipped[0]->name, "Good Friday");
  EXPECT_EQ(s.skipped[1]->name, "Easter Monday");
}

TEST_F(DateMath, WorkingDaysAcrossChristmasAndNewYear) {
  // 2026: Christmas Friday 25, Boxing Day substitute Monday 28, New Year Friday 1 January 2027.
  EXPECT_EQ(after("2026-12-24", 1, Unit::working_days), "2026-12-29");
  EXPECT_EQ(after("2026-12-14", 15, Unit::working_days), "2027-01-07");
  auto s = shift(cal(), d("2026-12-14"), Duration{15, Unit::working_days}, Direction::after);
  EXPECT_EQ(s.skipped.size(), 3u);
  EXPECT_EQ(before("2027-01-04", 1, Unit::working_days), "2026-12-31");
  EXPECT_EQ(before("2026-12-29", 1, Unit::working_days), "2026-12-24");
}

TEST_F(DateMath, BackwardWorkingDays) {
  // 7 working days before Wednesday 2 September 2026, across the summer bank holiday (31 August).
  EXPECT_EQ(before("2026-09-02", 7, Unit::working_days), "2026-08-21");
  // Before a Sunday: the Friday is the first working day counted.
  EXPECT_EQ(before("2027-02-28", 7, Unit::working_days), "2027-02-18");
  // Working days before and after are inverse on working days.
  for (const char* day : {"2026-04-07", "2026-12-29", "2027-01-04", "2026-06-01"}) {
    EXPECT_EQ(iso(shift(cal(), shift(cal(), d(day), {9, Unit::working_days}, Direction::after).day,
                        {9, Unit::working_days}, Direction::before)
                      .day),
              day);
  }
}

TEST_F(DateMath, MonthsClampToTheMonthEnd) {
  EXPECT_EQ(after("2026-08-31", 6, Unit::months), "2027-02-28");
  EXPECT_EQ(after("2027-08-31", 6, Unit::months), "2028-02-29");  // leap year
  EXPECT_EQ(after("2026-01-31", 1, Unit::months), "2026-02-28");
  EXPECT_EQ(after("2026-03-02", 6, Unit::months), "2026-09-02");
  EXPECT_EQ(after("2026-10-31", 2, Unit::months), "2026-12-31");
  EXPECT_EQ(after("2026-06-30", 12, Unit::months), "2027-06-30");
  EXPECT_EQ(before("2026-03-31", 1, Unit::months), "2026-02-28");
  EXPECT_EQ(before("2028-05-31", 3, Unit::months), "2028-02-29");
  EXPECT_TRUE(shift(cal(), d("2026-08-31"), {6, Unit::months}, Direction::after).clamped);
  EXPECT_FALSE(shift(cal(), d("2026-03-02"), {6, Unit::months}, Direction::after).clamped);
}

TEST_F(DateMath, CalendarDaysAndWeeksIgnoreHolidays) {
  EXPECT_EQ(after("2026-12-18", 7, Unit::calendar_days), "2026-12-25");
  EXPECT_EQ(before("2026-04-13", 7, Unit::calendar_days), "2026-04-06");
  EXPECT_EQ(after("2028-02-22", 1, Unit::weeks), "2028-02-29");
  EXPECT_EQ(before("2026-06-09", 3, Unit::weeks), "2026-05-19");
}

TEST_F(DateMath, RollToAWorkingDay) {
  EXPECT_EQ(iso(roll(cal(), d("2026-12-25"), Roll::next_working_day)), "2026-12-29");
  EXPECT_EQ(iso(roll(cal(), d("2026-04-06"), Roll::previous_working_day)), "2026-04-02");
  EXPECT_EQ(iso(roll(cal(), d("2026-12-25"), Roll::none)), "2026-12-25");
  EXPECT_EQ(iso(roll(cal(), d("2026-03-02"), Roll::next_working_day)), "2026-03-02");
}

TEST_F(DateMath, ClockHoursCountRealTimeAcrossTheClockChange) {
  // British Summer Time starts at 01:00 GMT on Sunday 29 March 2026.
  auto t = *parse_local_time("2026-03-27T10:00");
  EXPECT_EQ(iso(shift_hours(cal(), t, 48, Direction::after)), "2026-03-29T11:00");
  // It ends at 01:00 GMT on Sunday 25 October 2026.
  EXPECT_EQ(iso(shift_hours(cal(), *parse_local_time("2026-10-24T10:00"), 48, Direction::after)),
            "2026-10-26T09:00");
  // Without a change, 48 hours is two days to the minute, across midnight.
  EXPECT_EQ(iso(shift_hours(cal(), *parse_local_time("2026-06-01T23:30"), 48, Direction::after)),
            "2026-06-03T23:30");
  EXPECT_EQ(iso(shift_hours(cal(), *parse_local_time("2026-03-29T11:00"), 48, Direction::before)),
            "2026-03-27T10:00");
}

TEST_F(DateMath, WorkingDaysBetween) {
  EXPECT_EQ(working_days_between(cal(), d("2026-03-02"), d("2026-03-23")), 15);
  EXPECT_EQ(working_days_between(cal(), d("2026-03-23"), d("2026-04-08")), 10);
  EXPECT_EQ(working_days_between(cal(), d("2026-03-23"), d("2026-03-02")), -15);
  EXPECT_EQ(working_days_between(cal(), d("2026-03-02"), d("2026-03-02")), 0);
}

// Found by fuzz/fuzz_duration: counting day by day, `docket status` on a
// deadline extended to 9999-12-31 (or due "100000 months after start") held
// docketd's one thread for seconds, recomputing each far year's holidays for
// every day. Counted by weeks and holidays, the answer is the same.
TEST_F(DateMath, WorkingDaysBetweenAgreesWithCountingDayByDay) {
  auto by_day = [](Day from, Day to) {
    int n = 0;
    for (Day cur = from; cur < to;) {
      cur += date::days{1};
      if (cal().is_working_day(cur)) ++n;
    }
    return n;
  };
  const Day base = d("2025-12-20");
  for (int a = 0; a < 400; a += 7) {
    for (int len = 0; len < 800; len += 13) {
      const Day from = base + date::days{a}, to = from + date::days{len};
      ASSERT_EQ(working_days_between(cal(), from, to), by_day(from, to)) << iso(from) << " to " << iso(to);
      ASSERT_EQ(working_days_between(cal(), to, from), -by_day(from, to)) << iso(to) << " to " << iso(from);
    }
  }
  // Across the end of the cached years (2200) into years counted by rule.
  EXPECT_EQ(working_days_between(cal(), d("2199-06-01"), d("2201-06-01")), by_day(d("2199-06-01"), d("2201-06-01")));
}

TEST_F(DateMath, WorkingDaysToTheYear9999AreCounted) {
  const int n = working_days_between(cal(), d("2026-03-02"), d("9999-12-31"));
  // About 252 working days a year for 7,974 years.
  EXPECT_GT(n, 7974 * 250);
  EXPECT_LT(n, 7974 * 254);
  EXPECT_EQ(working_days_between(cal(), d("9999-12-31"), d("2026-03-02")), -n);
}

}  // namespace
}  // namespace docket::workflows
