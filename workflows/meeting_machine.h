#pragma once
// The lifecycle of one meeting of a body (DOMAIN.md, "Meeting cycles"):
// scheduled; papers due (the papers deadline is near); papers published;
// held; notes drafted (draft action notes circulated); amendment window (a
// member asked for an amendment); notes stand (the record); presented (at
// the next meeting of the body it reports to).
//
// A Boost.MSM machine in meeting_machine.cc. meeting_transition() is a pure
// transition function, like the review and deadline machines': it answers
// the next state or why the event is refused, and does nothing else (its
// table has no actions; the engine records the steps and moves the
// milestones). An event no state accepts is refused with a reason and the
// state is unchanged; the caller fails the command with it, or (for an event
// that only sometimes applies, such as notes standing when their window
// closes) says why it lets it pass.

#include <optional>
#include <string>
#include <string_view>

namespace docket::workflows {

enum class MeetingState {
  scheduled,
  papers_due,
  papers_published,
  held,
  notes_drafted,
  amendment_window,
  notes_stand,
  presented,
};

enum class MeetingEvent {
  papers_near,     // the papers deadline is near (its first reminder went out)
  publish_papers,  // `docket meeting papers`
  hold,            // `docket meeting held`
  draft_notes,     // `docket meeting notes`
  amend,           // `docket meeting amend`: a member asks for an amendment
  stand,           // `docket meeting approve`, or the amendment window closed
  present,         // presented at the next meeting of the body it reports to
  move,            // `docket meeting move` to another date
};

struct MeetingTransition {
  bool ok = false;
  MeetingState to = MeetingState::scheduled;
  std::string error;  // when refused, e.g. "the meeting has not been held yet; its notes come after it"
};

MeetingTransition meeting_transition(MeetingState from, MeetingEvent event);

std::string to_string(MeetingState s);  // "scheduled", "papers due", "papers published", ...
std::string to_string(MeetingEvent e);  // "papers near", "publish papers", ...
std::optional<MeetingState> parse_meeting_state(std::string_view s);

}  // namespace docket::workflows
