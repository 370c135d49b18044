// The duration and deadline grammar administrators write.

#include <gtest/gtest.h>

#include "workflows/duration.h"

namespace docket::workflows {
namespace {

Duration dur(std::string_view s) {
  auto p = parse_duration(s);
  if (auto* e = std::get_if<ParseError>(&p)) ADD_FAILURE() << s << ": " << e->message;
  return std::get<Duration>(p);
}

ParseError dur_error(std::string_view s) {
  auto p = parse_duration(s);
  if (!std::holds_alternative<ParseError>(p)) ADD_FAILURE() << s << " parsed";
  return std::get<ParseError>(p);
}

DueRule due(std::string_view s) {
  auto p = parse_due(s);
  if (auto* e = std::get_if<ParseError>(&p)) ADD_FAILURE() << s << ": " << e->message;
  return std::get<DueRule>(p);
}

ParseError due_error(std::string_view s) {
  auto p = parse_due(s);
  if (!std::holds_alternative<ParseError>(p)) ADD_FAILURE() << s << " parsed";
  return std::get<ParseError>(p);
}

TEST(Durations, EveryUnitSingularAndPlural) {
  EXPECT_EQ(dur("15 working days"), (Duration{15, Unit::working_days}));
  EXPECT_EQ(dur("1 working day"), (Duration{1, Unit::working_days}));
  EXPECT_EQ(dur("7 days"), (Duration{7, Unit::calendar_days}));
  EXPECT_EQ(dur("7 calendar days"), (Duration{7, Unit::calendar_days}));
  EXPECT_EQ(dur("1 day"), (Duration{1, Unit::calendar_days}));
  EXPECT_EQ(dur("3 weeks"), (Duration{3, Unit::weeks}));
  EXPECT_EQ(dur("6 months"), (Duration{6, Unit::months}));
  EXPECT_EQ(dur("1 month"), (Duration{1, Unit::months}));
  EXPECT_EQ(dur("48 hours"), (Duration{48, Unit::hours}));
  EXPECT_EQ(dur("  2   working   days "), (Duration{2, Unit::working_days}));
}

TEST(Durations, ErrorsPointAtTheOffendingWord) {
  auto e = dur_error("15 wrking days");
  EXPECT_EQ(e.offset, 3u);
  EXPECT_EQ(e.message, "unknown unit 'wrking', expected hours, days, calendar days, working days, weeks or months");
  EXPECT_EQ(dur_error("fifteen days").offset, 0u);
  EXPECT_EQ(dur_error("-3 days").offset, 0u);
  EXPECT_EQ(dur_error("15").message,
            "expected a unit after 15: hours, days, calendar days, working days, weeks or months");
  EXPECT_EQ(dur_error("2 working").message, "expected 'working days'");
  EXPECT_EQ(dur_error("2 days before").offset, 7u);
  EXPECT_EQ(dur_error("").message, "expected a duration such as '15 working days'");
  EXPECT_EQ(dur_error("1000000 days").message, "the count 1000000 is too large");
}

TEST(DueRules, AnchorsOfEveryKind) {
  auto r = due("15 working days after start");
  EXPECT_EQ(r.offset, (Duration{15, Unit::working_days}));
  EXPECT_EQ(r.direction, Direction::after);
  EXPECT_EQ(r.anchor.kind, AnchorKind::start);

  r = due("7 working days before publish");
  EXPECT_EQ(r.direction, Direction::before);
  EXPECT_EQ(r.anchor.kind, AnchorKind::item_due);
  EXPECT_EQ(r.anchor.name, "publish");
  EXPECT_EQ(r.anchor.offset, 22u);

  EXPECT_EQ(due("7 days before publish.due").anchor.kind, AnchorKind::item_due);
  r = due("10 working days after rapid-review.completed");
  EXPECT_EQ(r.anchor.kind, AnchorKind::item_completed);
  EXPECT_EQ(r.anchor.name, "rapid-review");
  r = due("1 month after date.decision");
  EXPECT_EQ(r.anchor.kind, AnchorKind::supplied_date);
  EXPECT_EQ(r.anchor.name, "decision");
  EXPECT_EQ(due("7 days before meeting").anchor.kind, AnchorKind::meeting);

  r = due("next meeting of executive after notes-stand");
  EXPECT_EQ(r.next_meeting_of, "executive");
  EXPECT_EQ(r.anchor.name, "notes-stand");
}

TEST(DueRules, Errors) {
  EXPECT_EQ(due_error("15 working days").message,
            "expected 'after' or 'before' and what the deadline counts from, e.g. '15 working days after start'");
  auto e = due_error("15 working days since start");
  EXPECT_EQ(e.offset, 16u);
  EXPECT_EQ(e.message, "expected 'after' or 'before', found 'since'");
  e = due_error("5 days after publish.done");
  EXPECT_EQ(e.offset, 21u);
  EXPECT_EQ(e.message, "expected '.due' or '.completed' after 'publish', found '.done'");
  EXPECT_EQ(due_error("5 days after Publish").offset, 13u);
  EXPECT_EQ(due_error("5 days after start now").message, "unexpected 'now' after the end of the rule");
  EXPECT_EQ(due_error("next meeting executive after x").message, "expected 'next meeting of CYCLE after ANCHOR'");
  EXPECT_EQ(due_error("5 days after date.").message, "expected a date name after 'date.', e.g. date.decision");
}

TEST(DueRules, PrintBackAsWritten) {
  for (const char* s : {"15 working days after start", "7 working days before publish", "1 month after date.decision",
                        "10 working days after rapid-review.completed", "48 hours after start",
                        "next meeting of executive after notes-stand", "1 week before meeting"}) {
    EXPECT_EQ(to_string(due(s)), s);
  }
}

}  // namespace
}  // namespace docket::workflows
