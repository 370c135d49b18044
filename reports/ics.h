#pragma once
// `docket export ics`: open deadlines and coming meetings as an RFC 5545
// iCalendar file (built with libical), so staff can subscribe in Outlook.
//
// Every event is an all-day event (DTSTART;VALUE=DATE on the due day) with a
// UID that stays the same from one export to the next ("RR-2026-014/
// rapid-review@docket", "@executive/2026-06-09@docket"), so a calendar that
// refreshes the feed updates an event rather than adding another. Events
// carry no personal data: the SUMMARY is the reference and the stage's title
// (or the body and the milestone), the DESCRIPTION the review type, the
// limit and the owning role. Names, e-mail addresses and review titles
// (which could hold a name) are never written.

#include <cstdint>
#include <string>

#include "store/reader.h"
#include "workflows/config.h"

namespace docket::reports {

struct IcsOptions {
  std::string person;    // only what this person owns: a per-review role assigned to them, or a role they hold
  std::string workflow;  // only this review type or meeting cycle
  workflows::Day today{};  // meetings before this day are left out
  std::int64_t stamp = 0;  // DTSTAMP, unix seconds
};

struct IcsExport {
  std::string text;  // the VCALENDAR, CRLF line ends, folded as RFC 5545 requires
  std::size_t events = 0;
};

IcsExport export_ics(store::Reader& reader, const workflows::Config& config, const IcsOptions& options);

}  // namespace docket::reports
