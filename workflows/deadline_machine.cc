// The deadline lifecycle as a Boost.MSM machine: functor front-end, classic
// back-end. Everything Boost.MSM stays in this file; deadline_machine.h shows
// only the transition function.
//
// deadline_transition() builds a machine on the stack, restores it to the
// state the deadline is in (an initial pseudo-state, Restoring, has one row per
// real state on a Restore event), sends the event and reads where it went. The
// machine has no message queue and no per-call heap allocation, and no state
// is shared between calls, so any number of threads may call it.

#include "workflows/msm_config.h"  // first: the Boost.MPL limits

#include "workflows/deadline_machine.h"

#include <string_view>

#include "workflows/msm_support.h"

namespace docket::workflows {
namespace {

namespace msm = boost::msm;
namespace msmf = boost::msm::front;
namespace mpl = boost::mpl;

// Events: one per DeadlineEvent, and Restore, which puts a new machine into
// the state a deadline is in.
struct Remind {
  static constexpr std::string_view name = "remind";
};
struct FallOverdue {
  static constexpr std::string_view name = "fall overdue";
};
struct Escalate {
  static constexpr std::string_view name = "escalate";
};
struct Meet {
  static constexpr std::string_view name = "meet";
};
struct Waive {
  static constexpr std::string_view name = "waive";
};
struct Suspend {
  static constexpr std::string_view name = "suspend";
};
struct Resume {
  static constexpr std::string_view name = "resume";
};
struct Extend {
  static constexpr std::string_view name = "extend";
};
using Restore = msm_support::Restore<DeadlineState>;

template <DeadlineState S>
using Is = msm_support::Is<S>;
using msm_support::IsRestoredState;

struct DeadlineMachineDef : msm_support::LifecycleDef<DeadlineMachineDef, DeadlineState> {
  using Pending = Is<DeadlineState::pending>;
  using DueSoon = Is<DeadlineState::due_soon>;
  using Overdue = Is<DeadlineState::overdue>;
  using Escalated = Is<DeadlineState::escalated>;
  using Met = Is<DeadlineState::met>;        // final: no row leaves it
  using Waived = Is<DeadlineState::waived>;  // final: no row leaves it
  using Suspended = Is<DeadlineState::suspended>;

  using none = msmf::none;
  template <class Start, class Event, class Next, class Action, class Guard>
  using Row = msmf::Row<Start, Event, Next, Action, Guard>;

  // Everything not listed is refused (see no_transition). 33 rows: see
  // msm_config.h for the limit.
  struct transition_table
      : mpl::vector<
            //  Start      Event        Next       Action  Guard
            Row<Restoring, Restore,     Pending,   none,   IsRestoredState>,
            Row<Restoring, Restore,     DueSoon,   none,   IsRestoredState>,
            Row<Restoring, Restore,     Overdue,   none,   IsRestoredState>,
            Row<Restoring, Restore,     Escalated, none,   IsRestoredState>,
            Row<Restoring, Restore,     Met,       none,   IsRestoredState>,
            Row<Restoring, Restore,     Waived,    none,   IsRestoredState>,
            Row<Restoring, Restore,     Suspended, none,   IsRestoredState>,
            //  ---------------------------------------------------------
            Row<Pending,   Remind,      DueSoon,   none,   none>,
            Row<Pending,   FallOverdue, Overdue,   none,   none>,
            Row<Pending,   Meet,        Met,       none,   none>,
            Row<Pending,   Waive,       Waived,    none,   none>,
            Row<Pending,   Suspend,     Suspended, none,   none>,
            Row<Pending,   Extend,      Pending,   none,   none>,
            //  ---------------------------------------------------------
            Row<DueSoon,   Remind,      DueSoon,   none,   none>,
            Row<DueSoon,   FallOverdue, Overdue,   none,   none>,
            Row<DueSoon,   Meet,        Met,       none,   none>,
            Row<DueSoon,   Waive,       Waived,    none,   none>,
            Row<DueSoon,   Suspend,     Suspended, none,   none>,
            Row<DueSoon,   Extend,      Pending,   none,   none>,
            //  ---------------------------------------------------------
            Row<Overdue,   Escalate,    Escalated, none,   none>,
            Row<Overdue,   Meet,        Met,       none,   none>,
            Row<Overdue,   Waive,       Waived,    none,   none>,
            Row<Overdue,   Suspend,     Suspended, none,   none>,
            Row<Overdue,   Extend,      Pending,   none,   none>,
            //  ---------------------------------------------------------
            Row<Escalated, Escalate,    Escalated, none,   none>,
            Row<Escalated, Meet,        Met,       none,   none>,
            Row<Escalated, Waive,       Waived,    none,   none>,
            Row<Escalated, Suspend,     Suspended, none,   none>,
            Row<Escalated, Extend,      Pending,   none,   none>,
            //  ---------------------------------------------------------
            Row<Suspended, Resume,      Pending,   none,   none>,
            Row<Suspended, Meet,        Met,       none,   none>,
            Row<Suspended, Waive,       Waived,    none,   none>,
            Row<Suspended, Extend,      Suspended, none,   none>
            > {};
};

using DeadlineMachine = msm::back::state_machine<DeadlineMachineDef>;

// Sends `e` to the machine; false if `e` is no DeadlineEvent at all.
bool send(DeadlineMachine& machine, DeadlineEvent e) {
  switch (e) {
    case DeadlineEvent::remind: machine.process_event(Remind{}); return true;
    case DeadlineEvent::fall_overdue: machine.process_event(FallOverdue{}); return true;
    case DeadlineEvent::escalate: machine.process_event(Escalate{}); return true;
    case DeadlineEvent::meet: machine.process_event(Meet{}); return true;
    case DeadlineEvent::waive: machine.process_event(Waive{}); return true;
    case DeadlineEvent::suspend: machine.process_event(Suspend{}); return true;
    case DeadlineEvent::resume: machine.process_event(Resume{}); return true;
    case DeadlineEvent::extend: machine.process_event(Extend{}); return true;
  }
  return false;
}

// The second half of a refusal: what cannot happen to the deadline.
std::string_view cannot(DeadlineEvent e) {
  switch (e) {
    case DeadlineEvent::remind: return "a reminder no longer applies";
    case DeadlineEvent::fall_overdue: return "it cannot fall overdue";
    case DeadlineEvent::escalate: return "it cannot be escalated";
    case DeadlineEvent::meet: return "it cannot be met";
    case DeadlineEvent::waive: return "it cannot be waived";
    case DeadlineEvent::suspend: return "it cannot be suspended";
    case DeadlineEvent::resume: return "it cannot be resumed";
    case DeadlineEvent::extend: return "it cannot be extended";
  }
  return "it cannot change";
}

std::string join(std::string_view state_part, std::string_view event_part) {
  std::string s;
  s.reserve(state_part.size() + 2 + event_part.size());
  s.append(state_part).append("; ").append(event_part);
  return s;
}

// Why the machine refused `e` in state `from`, for an administrator:
// "the deadline is <what it is>; <what cannot happen>".
std::string refusal(DeadlineState from, DeadlineEvent e) {
  using enum DeadlineEvent;
  switch (from) {
    case DeadlineState::met:
      return join("the deadline is already met", e == meet ? "it cannot be met again" : cannot(e));
    case DeadlineState::waived:
      return join("the deadline was waived", e == waive ? "it cannot be waived again" : cannot(e));
    case DeadlineState::suspended:
      if (e == suspend) return "the deadline is already suspended; it cannot be suspended again";
      if (e == remind) return "the deadline is suspended; no reminder applies until it is resumed";
      if (e == fall_overdue) return "the deadline is suspended; it cannot fall overdue until it is resumed";
      if (e == escalate) return "the deadline is suspended; it cannot be escalated until it is resumed";
      break;
    case DeadlineState::overdue:
    case DeadlineState::escalated:
      if (e == fall_overdue) {
        return from == DeadlineState::overdue
                   ? "the deadline is already overdue; it cannot fall overdue again"
                   : "the deadline is already overdue and escalated; it cannot fall overdue again";
      }
      break;
    case DeadlineState::pending:
    case DeadlineState::due_soon:
      if (e == escalate) return "the deadline is not overdue; it cannot be escalated";
      break;
  }
  if (e == resume && from != DeadlineState::suspended) {
    return "the deadline is not suspended; it cannot be resumed";
  }
  return join("the deadline is " + to_string(from), cannot(e));  // e.g. "is overdue; a reminder ..."
}

}  // namespace

DeadlineTransition deadline_transition(DeadlineState from, DeadlineEvent event) {
  DeadlineMachine machine;
  if (!msm_support::restore(machine, from)) {
    return {false, from, "unknown deadline state " + std::to_string(static_cast<int>(from))};
  }
  if (!send(machine, event)) {
    return {false, from, "unknown deadline event " + std::to_string(static_cast<int>(event))};
  }
  if (!machine.refused_event_.empty()) return {false, from, refusal(from, event)};
  return {true, machine.state_, {}};
}

bool is_final(DeadlineState s) {
  return s == DeadlineState::met || s == DeadlineState::waived;
}

std::string to_string(DeadlineState s) {
  switch (s) {
    case DeadlineState::pending: return "pending";
    case DeadlineState::due_soon: return "due soon";
    case DeadlineState::overdue: return "overdue";
    case DeadlineState::escalated: return "escalated";
    case DeadlineState::met: return "met";
    case DeadlineState::waived: return "waived";
    case DeadlineState::suspended: return "suspended";
  }
  return "unknown";
}

std::string to_string(DeadlineEvent e) {
  switch (e) {
    case DeadlineEvent::remind: return "remind";
    case DeadlineEvent::fall_overdue: return "fall overdue";
    case DeadlineEvent::escalate: return "escalate";
    case DeadlineEvent::meet: return "meet";
    case DeadlineEvent::waive: return "waive";
    case DeadlineEvent::suspend: return "suspend";
    case DeadlineEvent::resume: return "resume";
    case DeadlineEvent::extend: return "extend";
  }
  return "unknown";
}

std::optional<DeadlineState> parse_deadline_state(std::string_view s) {
  if (s == "due_soon") return DeadlineState::due_soon;  // the identifier spelling
  for (auto state : {DeadlineState::pending, DeadlineState::due_soon, DeadlineState::overdue,
                     DeadlineState::escalated, DeadlineState::met, DeadlineState::waived,
                     DeadlineState::suspended}) {
    if (s == to_string(state)) return state;
  }
  return std::nullopt;
}

}  // namespace docket::workflows
