#pragma once
// The lifecycle of one deadline (a stage of a review, or a meeting milestone):
// pending, due soon (a reminder has gone), overdue, escalated (rung n; the
// rung number is data kept beside the state), met, waived, suspended (its
// review is paused).
//
// A Boost.MSM machine in deadline_machine.cc. deadline_transition() is a pure
// transition function, like the review machine's: it answers the next state
// or why the event is refused, and does nothing else (its table has no
// actions; the engine sends the notices and writes the records). An event no
// state accepts is refused with a reason, which the caller must not drop: it
// fails the command, or asserts why the state makes a refusal impossible.

#include <optional>
#include <string>
#include <string_view>

namespace docket::workflows {

enum class DeadlineState { pending, due_soon, overdue, escalated, met, waived, suspended };
enum class DeadlineEvent {
  remind,        // a reminder went out
  fall_overdue,  // the due day (or hour) passed unmet
  escalate,      // an escalation rung (or its repeat) went out
  meet,          // the stage was completed
  waive,         // the stage was waived
  suspend,       // the review was paused
  resume,        // the review was resumed
  extend,        // the deadline was moved later
};

struct DeadlineTransition {
  bool ok = false;
  DeadlineState to = DeadlineState::pending;
  std::string error;  // when refused, e.g. "the deadline is already met; it cannot be waived"
};

DeadlineTransition deadline_transition(DeadlineState from, DeadlineEvent event);

// Met and waived deadlines accept nothing more.
bool is_final(DeadlineState s);

std::string to_string(DeadlineState s);  // "pending", "due soon", "overdue", ...
std::string to_string(DeadlineEvent e);
std::optional<DeadlineState> parse_deadline_state(std::string_view s);

}  // namespace docket::workflows
