#pragma once
// `docket report compliance`: for each review type and stage, how many fell
// due in a period and how they went. The performance dataset the Executive
// reviews each quarter.
//
// A stage "fell due" in the period when its due date (after any extension)
// lies in it. Of those:
//   met on time   completed on or before the due date
//   met late      completed after it; "days late" are working days on the
//                 review type's calendar from the due date to completion
//   overdue       still open and the due date has passed ("today" is the
//                 database's own day: a rehearsal's virtual clock, else today)
//   open          still open and not yet due, or its review is paused
//   waived        waived, or its review was cancelled
//   extended      (of all the above) moved later with `docket extend`
// Within the limit: met no later than the due date before any extension;
// the percentage is of those met or overdue (waived and open ones are not
// counted). A stage with a soft limit (reminders only) has no percentage.
// Meeting milestones are not here: `docket report meetings` covers them.

#include <optional>
#include <string>
#include <vector>

#include "reports/table.h"
#include "store/reader.h"
#include "workflows/config.h"

namespace docket::reports {

struct Period {
  workflows::Day from{};
  workflows::Day to{};
  std::string label;  // "financial year 2026/27", or "1 Apr 2026 to 30 Jun 2026"
};

struct StageCompliance {
  std::string workflow;
  std::string stage;
  std::string limit;  // statutory | local | soft | unknown (the stage is no longer defined)
  int fell_due = 0;
  int on_time = 0;
  int late = 0;
  int overdue = 0;
  int open = 0;
  int waived = 0;
  int extended = 0;
  int within_limit = 0;
  std::vector<int> days_late;  // of those met late, ascending

  std::optional<double> median_days_late() const;
  std::optional<int> worst_days_late() const;
  // Within the limit as a percentage of those met or overdue; nullopt when
  // none were, or the limit is soft.
  std::optional<double> within_limit_percent() const;
};

// In definition order per workflow, workflows by id.
std::vector<StageCompliance> compliance(store::Reader& reader, const workflows::Config& config, const Period& period,
                                        workflows::Day today);

// The rows as a table, with a total row over every stage that has a limit.
Table compliance_table(const std::vector<StageCompliance>& rows, const Period& period, workflows::Day today);

}  // namespace docket::reports
