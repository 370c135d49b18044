#include "workflows/date_math.h"

#include <cstdint>
#include <set>

#include <cassert>

namespace docket::workflows {

namespace {

// The weekdays in (from, to] that are bank holidays; a day two holidays
// share is one day off.
std::set<Day> weekday_holidays(const Calendar& cal, Day from, Day to) {
  std::set<Day> off;
  for (int y = static_cast<int>(date::year_month_day{from}.year());
       y <= static_cast<int>(date::year_month_day{to}.year()); ++y) {
    for (const auto& h : cal.holidays_in(y)) {
      if (h.day > from && h.day <= to && !cal.is_weekend(h.day)) off.insert(h.day);
    }
  }
  return off;
}

}  // namespace

Shifted shift(const Calendar& cal, Day from, Duration d, Direction dir) {
  using date::days;
  assert(d.unit != Unit::hours);
  const int sign = dir == Direction::after ? 1 : -1;
  Shifted out{from, {}, false};
  switch (d.unit) {
    case Unit::calendar_days:
      out.day = from + days{sign * d.count};
      break;
    case Unit::weeks:
      out.day = from + days{sign * 7 * d.count};
      break;
    case Unit::months: {
      date::year_month_day ymd{from};
      date::year_month ym = date::year_month{ymd.year(), ymd.month()} + date::months{sign * d.count};
      date::day last = date::year_month_day_last{ym.year(), date::month_day_last{ym.month()}}.day();
      date::day day = ymd.day() > last ? last : ymd.day();
      out.clamped = day != ymd.day();
      out.day = Day{ym / day};
      break;
    }
    case Unit::working_days: {
      Day cur = from;
      int counted = 0;
      // A long count (the hundredth repeat of a weekly escalation, decades
      // into a rehearsal) jumps whole weeks: a week holds as many working
      // days as it has weekdays, less its holidays, so the jump never passes
      // the day sought, and the rest is counted day by day as before.
      int worked_per_week = 0;
      for (int i = 0; i < 7; ++i) worked_per_week += cal.is_weekend(from + days{i}) ? 0 : 1;
      while (worked_per_week > 0 && d.count - counted > 2 * worked_per_week) {
        const int weeks = (d.count - counted) / worked_per_week - 1;
        const Day next = cur + days{sign * 7 * weeks};
        // The days passed: (cur, next] forward, [next, cur) backward.
        const Day lo = sign > 0 ? cur : next - days{1}, hi = sign > 0 ? next : cur - days{1};
        const std::set<Day> off = weekday_holidays(cal, lo, hi);
        counted += weeks * worked_per_week - static_cast<int>(off.size());
        if (sign > 0) {
          for (Day day : off) out.skipped.push_back(cal.holiday(day));
        } else {
          for (auto it = off.rbegin(); it != off.rend(); ++it) out.skipped.push_back(cal.holiday(*it));
        }
        cur = next;
      }
      // Bounded: a calendar with no working days is refused by the loader,
      // and no real count needs more than a few years.
      for (int steps = 0; counted < d.count && steps < 100000; ++steps) {
        cur += days{sign};
        if (cal.is_working_day(cur)) {
          ++counted;
        } else if (const Holiday* h = cal.holiday(cur); h != nullptr && !cal.is_weekend(cur)) {
          out.skipped.push_back(h);
        }
      }
      out.day = cur;
      break;
    }
    case Unit::hours:
      break;
  }
  return out;
}

LocalTime shift_hours(const Calendar& cal, LocalTime from, int hours, Direction dir) {
  // `from` is read as to_utc() reads every local time (dates.h).
  const date::time_zone* tz = cal.zone();
  auto instant = date::floor<std::chrono::minutes>(to_utc(tz, from));
  instant += std::chrono::hours{dir == Direction::after ? hours : -hours};
  return date::floor<std::chrono::minutes>(tz->to_local(instant));
}

Day roll(const Calendar& cal, Day d, Roll r) {
  if (r == Roll::none) return d;
  const date::days step{r == Roll::next_working_day ? 1 : -1};
  for (int i = 0; i < 3660 && !cal.is_working_day(d); ++i) d += step;
  return d;
}

// Counted by weeks and by each year's holidays rather than day by day: a
// deadline may lie thousands of years out (an extension to 9999-12-31, a
// count of 100000 months), and `docket status` counts the days left on the
// daemon's one thread.
namespace {
constexpr long kDayByDaySpan = 62;
}  // namespace

int working_days_between(const Calendar& cal, Day from, Day to) {
  if (to < from) return -working_days_between(cal, to, from);
  const auto span = (to - from).count();  // the days in (from, to]
  if (span <= kDayByDaySpan) {
    // Short spans (a reminder's "working days left") day by day: each day is
    // one table load, cheaper than gathering the years' holidays.
    int n = 0;
    for (Day cur = from; cur != to;) {
      cur += date::days{1};
      if (cal.is_working_day(cur)) ++n;
    }
    return n;
  }
  int worked_per_week = 0;
  for (int i = 1; i <= 7; ++i) worked_per_week += cal.is_weekend(from + date::days{i}) ? 0 : 1;
  const auto weeks = span / 7;
  std::int64_t n = static_cast<std::int64_t>(weeks) * worked_per_week;
  for (Day cur = from + date::days{weeks * 7}; cur != to;) {
    cur += date::days{1};
    if (!cal.is_weekend(cur)) ++n;
  }
  n -= static_cast<std::int64_t>(weekday_holidays(cal, from, to).size());
  return static_cast<int>(n);
}

}  // namespace docket::workflows
