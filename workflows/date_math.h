#pragma once
// Deadline arithmetic on a working-day calendar (DOMAIN.md, "Counting days").
//
// "Within N working days of E": the day of E is day 0 and the deadline is the
// end of the Nth working day after it. Calendar days, weeks and months count
// the same way; months keep the day of the month, clamped to the month's last
// day (31 August + 6 months = the end of February). A calendar-day deadline
// that lands on a non-working day stays put unless the definition asks to roll.
// Clock hours count real elapsed time on the calendar's time zone, so 48 hours
// across the change to summer time is still 48 hours.

#include <vector>

#include "workflows/calendar.h"
#include "workflows/duration.h"

namespace docket::workflows {

struct Shifted {
  Day day;
  std::vector<const Holiday*> skipped;  // weekday bank holidays passed over while counting working days
  bool clamped = false;                 // month arithmetic clamped to the end of the month
};

// Moves `from` by a duration in days, weeks, months or working days.
// Precondition: d.unit != Unit::hours (use shift_hours).
Shifted shift(const Calendar& cal, Day from, Duration d, Direction dir);

// Moves a wall-clock time by clock hours on the calendar's time zone.
LocalTime shift_hours(const Calendar& cal, LocalTime from, int hours, Direction dir);

enum class Roll { none, next_working_day, previous_working_day };

// `d` itself when it is a working day or roll is none; else the nearest
// working day in the roll's direction.
Day roll(const Calendar& cal, Day d, Roll r);

// Working days strictly after `from` up to and including `to` (negative when
// `to` is earlier).
int working_days_between(const Calendar& cal, Day from, Day to);

}  // namespace docket::workflows
