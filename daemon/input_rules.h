#pragma once
// What docketd accepts from people, in one place: a review's reference, a
// short free text (a title, a reason) and how far back or ahead a date may
// lie. Each check returns what is wrong, in words that say how to fix it,
// or nothing when the input is fine.

#include <optional>
#include <string>
#include <string_view>

#include "workflows/calendar.h"

namespace docket::daemon {

// A reference: 1 to kMaxRefLength ASCII letters, digits, '-', '_' and '.',
// beginning and ending with a letter or digit, no two dots together. It
// names files, URLs and mail subjects, so nothing else gets in
// ("RR-2026-014", "SAR.2026.3").
inline constexpr std::size_t kMaxRefLength = 40;
std::optional<std::string> ref_problem(std::string_view ref);
// A follow-on review's reference, which docket makes: its parent's, then
// "/" and the follow-on's workflow id, for each generation
// ("RR-2026-014/lcspr").
std::optional<std::string> follow_on_ref_problem(std::string_view ref);

// Free text (`what` names it, e.g. "the title"): valid UTF-8 of at most
// `max_chars` characters (not bytes), with no control characters: no NUL,
// line breaks, tabs or terminal escape sequences that would reach a mail
// header, a log line or an inspector's terminal.
inline constexpr std::size_t kMaxTitle = 120;
inline constexpr std::size_t kMaxReason = 500;
std::optional<std::string> text_problem(std::string_view text, std::size_t max_chars, std::string_view what);

// Dates a command may name. Not before the calendar's first year (the
// arithmetic before it is unfounded, and a start in year 0 made docketd
// count two thousand years of working days), and not more than
// kDaysAhead after today.
inline constexpr int kDaysAhead = 3653;  // ten years
std::optional<std::string> day_problem(const workflows::Calendar& cal, workflows::Day day, workflows::Day today,
                                       std::string_view what);

}  // namespace docket::daemon
