#pragma once
// Days, local times and financial years, with the formats docket prints.
//
// A `Day` is a civil date (no time zone); a `LocalTime` is a wall-clock time
// on the calendar's time zone (Europe/London for England and Wales). Instants
// in UTC belong to the daemon and store; definitions and plans work in days.
// to_utc() is the one place a wall-clock time becomes an instant.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <date/date.h>
#include <date/tz.h>

namespace docket::workflows {

using Day = date::sys_days;
using LocalTime = date::local_time<std::chrono::minutes>;

// Strict ISO 8601 calendar date, YYYY-MM-DD; nullopt when malformed or not a
// real date (2026-02-29).
std::optional<Day> parse_day(std::string_view text);
// YYYY-MM-DD or YYYY-MM-DDTHH:MM (also with a space instead of T).
std::optional<LocalTime> parse_local_time(std::string_view text);

// The instant a wall-clock time on `zone` names. Every part of docket reads
// local times by this one rule:
//  - a time in the hour skipped when the clocks go forward (01:30 on the last
//    Sunday of March in London) is the moment they jumped (01:00 UTC);
//  - a time in the hour that happens twice when they go back (01:30 on the
//    last Sunday of October) is the earlier of the two (00:30 UTC, still
//    summer time).
std::chrono::sys_seconds to_utc(const date::time_zone* zone, date::local_seconds t);

std::string iso(Day d);                  // 2026-03-23
std::string iso(LocalTime t);            // 2026-03-23T14:30
std::string iso_utc(std::chrono::sys_seconds t);  // 2026-03-23T13:30:00Z
std::string short_date(Day d);           // Mon 2 Mar 2026
std::string long_date(Day d);            // Monday 23 March 2026
std::string weekday_name(Day d);         // Monday

// 1 April to 31 March. Labelled "2026/27".
struct FinancialYear {
  int first_year = 0;

  Day first_day() const;
  Day last_day() const;
  std::string label() const;
  bool contains(Day d) const { return d >= first_day() && d <= last_day(); }

  static FinancialYear containing(Day d);
  // "2026/27" (also "2026/2027" and "2026-27"); the second year must follow the first.
  static std::optional<FinancialYear> parse(std::string_view text);
};

}  // namespace docket::workflows
