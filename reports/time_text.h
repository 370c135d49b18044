#pragma once
// Instants (UTC seconds, as the store keeps them) shown as local times, and
// the day a report counts from.

#include <cstdint>
#include <string>

#include <date/tz.h>

#include "store/reader.h"
#include "workflows/dates.h"

namespace docket::reports {

std::string local_minute(std::int64_t unix_seconds, const date::time_zone* zone);  // 2026-03-02 09:30
std::string local_iso(std::int64_t unix_seconds, const date::time_zone* zone);     // 2026-03-02T09:30:00+00:00
std::string utc_iso(std::int64_t unix_seconds);                                    // 2026-03-02T09:30:00Z
workflows::Day local_day(std::int64_t unix_seconds, const date::time_zone* zone);

// "Today" for a report: the day of the database's own clock when it was last
// run on a virtual clock (a rehearsal), else today's date on `zone`.
workflows::Day database_today(store::Reader& reader, const date::time_zone* zone);

}  // namespace docket::reports
