#pragma once
// The timeline of one review, or of a meeting cycle over a period: every
// deadline, reminder and escalation with its date and why.
//
// This is the one place deadlines are computed: `docket plan` prints it, the
// loader uses it to find deadlines that would fall before the start, and the
// daemon will use it to schedule. A stage counted from another stage's
// completion is computed from the real completion day when it is known, and
// otherwise on the assumption that the other stage is completed on its due
// day (the plan says so).

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "workflows/config.h"

namespace docket::workflows {

struct PlannedNotice {
  Day day;
  std::optional<LocalTime> at;      // for deadlines counted in clock hours
  std::string why;                  // "2 working days before the deadline"
  std::vector<std::string> to;      // roles
  std::optional<Duration> repeat;   // escalations told again at this interval until met
};

struct PlannedItem {
  const Stage* stage = nullptr;
  std::optional<Day> due;           // unknown when it depends on something not scheduled
  std::optional<LocalTime> due_at;  // clock-hour deadlines only
  std::string why;                  // "15 working days after start (Mon 2 Mar 2026); skipped ..."
  std::string opens;                // "opens when the review starts"
  std::vector<PlannedNotice> reminders;
  std::vector<PlannedNotice> escalations;
  std::vector<std::string> notes;   // assumptions and reminders that cannot be sent
};

struct PlanInputs {
  LocalTime start{};
  bool start_has_time = false;              // false: counted from 00:00 for clock hours
  std::map<std::string, Day> dates;         // supplied dates (`--date NAME=DAY`)
  std::map<std::string, Day> completed;     // stages already completed (or waived)
  std::map<std::string, Day> fixed_due;     // due dates set by an extension or a pause
};

struct ReviewPlan {
  const ReviewDefinition* definition = nullptr;
  PlanInputs inputs;
  std::vector<PlannedItem> stages;  // in definition order
};

struct PlannedMeeting {
  Day date;
  std::string why;  // how the date was found ("RRULE ...; moved from ...")
  std::vector<PlannedItem> milestones;
};

struct CyclePlan {
  const MeetingCycle* cycle = nullptr;
  Day from;
  Day to;
  std::vector<PlannedMeeting> meetings;
};

// Bad input to a plan (a supplied date missing), worded for the user.
class PlanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws PlanError when a date the definition needs was not supplied.
ReviewPlan plan_review(const Config& config, const ReviewDefinition& def, const PlanInputs& inputs);

// Meetings in [from, to] with the reason for each date.
std::vector<std::pair<Day, std::string>> meeting_dates(const Config& config, const MeetingCycle& cycle, Day from,
                                                       Day to);
CyclePlan plan_cycle(const Config& config, const MeetingCycle& cycle, Day from, Day to);

// The milestones of one meeting on `date`, counting from real completion days
// where they are known (draft notes published early move when the notes stand).
std::vector<PlannedItem> plan_meeting(const Config& config, const MeetingCycle& cycle, Day date,
                                      const std::map<std::string, Day>& completed);

// Records an error for every stage that would fall due before its review
// starts, for any start day over two years (supplied dates aside).
void check_dates_before_start(const Config& config, Diagnostics& diags);

// "Good Friday (Fri 3 Apr 2026) and Easter Monday (Mon 6 Apr 2026)".
std::string describe_holidays(const std::vector<const Holiday*>& holidays);

}  // namespace docket::workflows
