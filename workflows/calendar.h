#pragma once
// A working-day calendar: weekends, bank holidays and the time zone.
//
// Bank holidays come from two sources. Published dates (the UK government's
// list, one-off days included) are data; rules compute any year without
// published data, so the calendar never runs out. For a year with published
// data, the published list wins whole: the rules are not consulted, which is
// how one-off moves (the 2020 early May holiday on VE Day) stay correct.

#include <string>
#include <cstdint>
#include <vector>

#include <date/date.h>
#include <date/tz.h>

#include "workflows/dates.h"

namespace docket::workflows {

struct Holiday {
  Day day;
  std::string name;
  bool one_off = false;     // published only, never produced by a rule
  bool substitute = false;  // the weekday standing in for a holiday on a weekend
};

struct HolidayRule {
  enum class Kind { fixed, easter, nth_weekday };
  std::string name;
  Kind kind = Kind::fixed;
  unsigned month = 1;          // fixed, nth_weekday
  unsigned day = 1;            // fixed
  int easter_offset = 0;       // easter: days from Easter Sunday
  date::weekday weekday{};     // nth_weekday
  int nth = 1;                 // nth_weekday: 1..5, or -1 for the last
  bool substitute = false;     // on a weekend, the next free weekday is a holiday instead
};

// Easter Sunday in the Gregorian calendar.
Day easter_sunday(int year);

class Calendar {
 public:
  // Throws std::runtime_error when `timezone` is not in the tz database.
  Calendar(std::string id, std::string tz_name, std::vector<date::weekday> weekend,
           std::vector<Holiday> published, std::vector<HolidayRule> rules);

  const std::string& id() const { return id_; }
  const std::string& timezone_name() const { return timezone_; }
  const date::time_zone* zone() const { return zone_; }

  bool is_weekend(Day d) const;
  bool is_working_day(Day d) const { return !is_weekend(d) && holiday(d) == nullptr; }
  // The bank holiday on `d`, or nullptr.
  const Holiday* holiday(Day d) const;
  bool is_published_year(int year) const;
  // 1 January of the first year with published dates (of the first year the
  // calendar computes when it has none): no date before it is reckoned.
  Day first_day() const;
  // The bank holidays of `year` in date order (published, else by rule).
  std::vector<Holiday> holidays_in(int year) const;
  // What the rules alone give for `year`, ignoring published data.
  std::vector<Holiday> rule_holidays(int year) const;

 private:
  static constexpr int kFirstCachedYear = 1970;
  static constexpr int kLastCachedYear = 2200;

  std::string id_;
  std::string timezone_;
  const date::time_zone* zone_ = nullptr;
  unsigned weekend_mask_ = 0;  // bit n set: weekday n (Sunday = 0) is not worked
  std::vector<Holiday> published_;
  std::vector<HolidayRule> rules_;
  std::vector<int> published_years_;
  // The holidays of the cached years, and for each day of those years the
  // index of its holiday plus one (0: none). The planner asks for every day it
  // counts, so this is one load rather than a date conversion and a hash.
  std::vector<Holiday> cached_;
  std::vector<std::uint16_t> by_day_;
  int first_cached_day_ = 0;  // days since epoch of 1 January kFirstCachedYear
};

}  // namespace docket::workflows
