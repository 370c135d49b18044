#pragma once
// What administrators define in TOML: review types and meeting cycles.
//
// A review type is a list of stages. Each stage's deadline is a DueRule
// counted from the review's start, another stage's due date or completion, or
// a date supplied when the review starts; it has reminders before, an
// escalation ladder after, and may have outcomes that open further stages or
// start another review (a Rapid Review's outcome may commission an LCSPR).
// A meeting cycle is a body's meeting dates plus milestones counted from each
// meeting (papers 7 days before, draft notes 7 days after, ...). Milestones
// use the same Stage type, anchored on `meeting`.
//
// Everything here is immutable once loaded; the loader has checked every name.

#include <optional>
#include <string>
#include <vector>

#include "workflows/date_math.h"
#include "workflows/diagnostics.h"
#include "workflows/duration.h"

namespace docket::workflows {

struct Reminder {
  Duration before;
  std::vector<std::string> to;  // roles; empty means the stage's owner
};

struct EscalationRung {
  Duration after;                  // how long overdue
  std::vector<std::string> to;     // roles told
  std::optional<Duration> repeat;  // told again at this interval until met
};

struct Outcome {
  std::string id;
  std::string title;
  std::string start_workflow;  // a review type started when this outcome is recorded
};

// How firm a time limit is, for reports: set in statute or guidance, set
// locally, or no fixed limit at all (reminders only, never escalated).
enum class Limit { statutory, local, soft };

struct Stage {
  std::string id;
  std::string title;
  std::string owner;  // role reminded before the deadline
  DueRule due;
  std::string due_text;  // as written, for "why"
  SourcePos due_anchor_where;  // where the anchor is written inside the due rule
  Roll roll = Roll::none;
  Limit limit = Limit::statutory;
  std::vector<Reminder> reminders;  // nearest the deadline last
  std::vector<EscalationRung> escalations;
  std::vector<Outcome> outcomes;
  // The stage opens when `opens_after` is completed (with `opens_on_outcome`
  // when set); when `opens_after` is empty it opens when the review starts.
  std::string opens_after;
  std::string opens_on_outcome;
  // Meeting milestones only: the step of the meeting this milestone is met by
  // ("papers-published", "notes-drafted", "notes-stand" or "presented").
  std::string marks;
  SourcePos where;      // the [[stage]] header
  SourcePos due_where;  // the due rule's value

  const Outcome* outcome(const std::string& id) const;
};

struct SuppliedDate {
  std::string name;
  std::string description;
};

struct ReviewDefinition {
  std::string id;
  std::string title;
  std::string source;    // the guidance or local document the clocks come from
  std::string file;      // relative to the configuration directory
  std::string version;   // first 12 hex digits of the file's SHA-256
  std::string text;      // the file as loaded, kept so a running review can stay on this version
  std::string calendar;
  std::string start_event;  // what day 0 is, e.g. "the local authority becomes aware"
  bool pausable = false;
  bool extendable = false;
  std::vector<std::string> pause_notify;  // roles told when the clock is paused
  std::vector<std::string> review_roles;  // assigned to each review when it starts
  std::vector<SuppliedDate> dates;
  std::vector<Stage> stages;

  const Stage* stage(const std::string& id) const;
};

struct MeetingSchedule {
  std::vector<Day> dates;           // explicit dates, or
  std::string rrule;                // an RFC 5545 RRULE from `rrule_start`, or
  Day rrule_start{};
  std::string sequenced_with;       // a fixed distance from each meeting of another cycle
  Duration sequenced_offset;
  Direction sequenced_direction = Direction::before;
  SourcePos sequenced_where;
  Roll on_non_working_day = Roll::next_working_day;
};

struct MeetingCycle {
  std::string id;
  std::string body;
  std::string source;
  std::string file;
  std::string version;
  std::string calendar;
  std::string chair;        // role
  std::string secretariat;  // role
  std::string members;      // role held by the body's members
  std::string reports_to;   // cycle whose next meeting receives the approved notes
  std::vector<std::string> quorum;  // agencies that must each be present
  std::string chair_term;           // "financial-year" or empty
  bool chair_same_partner_twice = true;
  MeetingSchedule schedule;
  std::vector<Stage> milestones;

  const Stage* milestone(const std::string& id) const;
};

std::string to_string(Limit l);
std::string to_string(Roll r);

}  // namespace docket::workflows
