#pragma once
// `docket report meetings`: for each body over a period (usually a financial
// year), its meetings planned and held, quorate or not, whether the papers
// and the draft notes went out on time, and which partner agencies attended.
//
//   planned     meetings whose date (after any move) lies in the period
//   held        recorded as held (`docket meeting held`)
//   not held    past and not recorded as held
//   to come     not yet held, today or later
//   quorate / inquorate   of those held, for bodies with a quorum rule
//   papers / notes        the milestones that `marks` papers-published and
//               notes-drafted: "due" counts those met or past due, "on time"
//               those met by their due date
// Attendance: for each agency, at how many of the body's held meetings
// someone from it was present (a deputy counts for their own agency).

#include <string>

#include "reports/compliance.h"
#include "reports/table.h"
#include "store/reader.h"
#include "workflows/config.h"

namespace docket::reports {

struct MeetingsReport {
  Table summary;     // one row per body
  Table attendance;  // one row per body, one column per agency
  Table combined;    // the two side by side, for CSV
};

MeetingsReport meetings_report(store::Reader& reader, const workflows::Config& config, const Period& period,
                               workflows::Day today);

}  // namespace docket::reports
