#pragma once
// RFC 5545 recurrence rules for meeting cycles, through libical.

#include <optional>
#include <string>
#include <vector>

#include "workflows/dates.h"

namespace docket::workflows {

// nullopt when `rrule` is valid; otherwise what libical objected to.
std::optional<std::string> check_rrule(const std::string& rrule);

// Occurrences of `rrule` starting at `dtstart` that fall in [from, to].
std::vector<Day> expand_rrule(const std::string& rrule, Day dtstart, Day from, Day to);

}  // namespace docket::workflows
