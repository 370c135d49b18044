#pragma once
// Durations and deadline expressions, as administrators write them in TOML.
//
//   duration  := COUNT UNIT            "15 working days", "6 months", "48 hours"
//   UNIT      := hour(s) | day(s) | calendar day(s) | working day(s) | week(s) | month(s)
//   due       := duration (after|before) anchor      "7 working days before publish"
//              | next meeting of CYCLE after anchor  (meeting cycles only)
//   anchor    := start | meeting | date.NAME | ID | ID.due | ID.completed
//
// Parsing is pure text work; what the names refer to is checked by the loader.
// Errors carry the byte offset of the offending word so the loader can point
// at the exact column in the TOML file.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace docket::workflows {

enum class Unit { hours, calendar_days, working_days, weeks, months };

struct Duration {
  std::int32_t count = 0;
  Unit unit = Unit::calendar_days;
  friend bool operator==(const Duration&, const Duration&) = default;
};

enum class Direction { after, before };

enum class AnchorKind {
  start,         // the day the review started
  meeting,       // the meeting a milestone belongs to
  supplied_date, // a date given when the review starts (`date.NAME`)
  item_due,      // another stage's or milestone's due date (`ID` or `ID.due`)
  item_completed // the day another stage or milestone was completed (`ID.completed`)
};

struct Anchor {
  AnchorKind kind = AnchorKind::start;
  std::string name;  // stage, milestone or date name; empty for start and meeting
  std::size_t offset = 0;  // where the anchor starts in the source text
  friend bool operator==(const Anchor&, const Anchor&) = default;
};

struct DueRule {
  Duration offset;            // zero for `next meeting of`
  Direction direction = Direction::after;
  Anchor anchor;
  std::string next_meeting_of;  // non-empty: the first meeting of this cycle after the anchor
  std::size_t next_meeting_offset = 0;
};

struct ParseError {
  std::size_t offset = 0;  // byte offset into the parsed text
  std::string message;
};

template <class T>
using Parsed = std::variant<T, ParseError>;

Parsed<Duration> parse_duration(std::string_view text);
Parsed<DueRule> parse_due(std::string_view text);

// "15 working days", "1 month", "48 hours".
std::string to_string(const Duration& d);
// "15 working days after start", "7 working days before publish".
std::string to_string(const DueRule& r);
std::string to_string(const Anchor& a);

// A rough length in days, used only to check that reminders and escalation
// rungs are listed in order.
double approximate_days(const Duration& d);

}  // namespace docket::workflows
