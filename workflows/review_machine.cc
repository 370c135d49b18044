// The review lifecycle as a Boost.MSM machine: functor front-end, classic
// back-end. Everything Boost.MSM stays in this file; review_machine.h shows
// only the transition function.
//
// review_transition() builds a machine on the stack, restores it to the state
// the review is in (an initial pseudo-state, Restoring, has one row per real
// state on a Restore event), sends the event and reads where it went. The
// machine has no message queue and no per-call heap allocation, and no state
// is shared between calls, so any number of threads may call it.

#include "workflows/msm_config.h"  // first: the Boost.MPL limits

#include "workflows/review_machine.h"

#include <string_view>

#include "workflows/msm_support.h"

namespace docket::workflows {
namespace {

namespace msm = boost::msm;
namespace msmf = boost::msm::front;
namespace mpl = boost::mpl;

// Events: one per ReviewEvent, and Restore, which puts a new machine into the
// state a review is in.
struct Pause {
  static constexpr std::string_view name = "pause";
};
struct Resume {
  static constexpr std::string_view name = "resume";
};
struct Close {
  static constexpr std::string_view name = "close";
};
struct Cancel {
  static constexpr std::string_view name = "cancel";
};
using Restore = msm_support::Restore<ReviewState>;

template <ReviewState S>
using Is = msm_support::Is<S>;
using msm_support::IsRestoredState;

struct ReviewMachineDef : msm_support::LifecycleDef<ReviewMachineDef, ReviewState> {
  using Open = Is<ReviewState::open>;
  using Paused = Is<ReviewState::paused>;
  using Closed = Is<ReviewState::closed>;        // final: no row leaves it
  using Cancelled = Is<ReviewState::cancelled>;  // final: no row leaves it

  using none = msmf::none;
  template <class Start, class Event, class Next, class Action, class Guard>
  using Row = msmf::Row<Start, Event, Next, Action, Guard>;

  // Everything not listed is refused (see no_transition).
  struct transition_table
      : mpl::vector<
            //  Start      Event    Next       Action  Guard
            Row<Restoring, Restore, Open,      none,   IsRestoredState>,
            Row<Restoring, Restore, Paused,    none,   IsRestoredState>,
            Row<Restoring, Restore, Closed,    none,   IsRestoredState>,
            Row<Restoring, Restore, Cancelled, none,   IsRestoredState>,
            //  -----------------------------------------------------
            Row<Open,      Pause,   Paused,    none,   none>,
            Row<Open,      Close,   Closed,    none,   none>,
            Row<Open,      Cancel,  Cancelled, none,   none>,
            Row<Paused,    Resume,  Open,      none,   none>,
            Row<Paused,    Cancel,  Cancelled, none,   none>
            // Paused + Close is refused: a paused review is resumed first.
            > {};
};

using ReviewMachine = msm::back::state_machine<ReviewMachineDef>;

// Sends `e` to the machine; false if `e` is no ReviewEvent at all.
bool send(ReviewMachine& machine, ReviewEvent e) {
  switch (e) {
    case ReviewEvent::pause: machine.process_event(Pause{}); return true;
    case ReviewEvent::resume: machine.process_event(Resume{}); return true;
    case ReviewEvent::close: machine.process_event(Close{}); return true;
    case ReviewEvent::cancel: machine.process_event(Cancel{}); return true;
  }
  return false;
}

// "paused", "resumed", ...: what the event would make of the review.
std::string_view participle(ReviewEvent e) {
  switch (e) {
    case ReviewEvent::pause: return "paused";
    case ReviewEvent::resume: return "resumed";
    case ReviewEvent::close: return "closed";
    case ReviewEvent::cancel: return "cancelled";
  }
  return "changed";
}

// The state the event leads to, where it is allowed.
ReviewState target(ReviewEvent e) {
  switch (e) {
    case ReviewEvent::pause: return ReviewState::paused;
    case ReviewEvent::resume: return ReviewState::open;
    case ReviewEvent::close: return ReviewState::closed;
    case ReviewEvent::cancel: return ReviewState::cancelled;
  }
  return ReviewState::open;
}

// Why the machine refused `e` in state `from`, for an administrator.
std::string refusal(ReviewState from, ReviewEvent e) {
  if (from == ReviewState::paused && e == ReviewEvent::close) {
    return "a paused review must be resumed before it can close";
  }
  if (e == ReviewEvent::resume && from == ReviewState::open) {
    return "the review is not paused; it cannot be resumed";
  }
  if (from == target(e)) {  // e.g. pausing a paused review
    return "the review is already " + to_string(from) + "; it cannot be " + std::string(participle(e)) +
           " again";
  }
  return "the review is " + to_string(from) + "; it cannot be " + std::string(participle(e));
}

}  // namespace

ReviewTransition review_transition(ReviewState from, ReviewEvent event) {
  ReviewMachine machine;
  if (!msm_support::restore(machine, from)) {
    return {false, from, "unknown review state " + std::to_string(static_cast<int>(from))};
  }
  if (!send(machine, event)) {
    return {false, from, "unknown review event " + std::to_string(static_cast<int>(event))};
  }
  if (!machine.refused_event_.empty()) return {false, from, refusal(from, event)};
  return {true, machine.state_, {}};
}

std::string to_string(ReviewState s) {
  switch (s) {
    case ReviewState::open: return "open";
    case ReviewState::paused: return "paused";
    case ReviewState::closed: return "closed";
    case ReviewState::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string to_string(ReviewEvent e) {
  switch (e) {
    case ReviewEvent::pause: return "pause";
    case ReviewEvent::resume: return "resume";
    case ReviewEvent::close: return "close";
    case ReviewEvent::cancel: return "cancel";
  }
  return "unknown";
}

std::optional<ReviewState> parse_review_state(std::string_view s) {
  for (auto state : {ReviewState::open, ReviewState::paused, ReviewState::closed, ReviewState::cancelled}) {
    if (s == to_string(state)) return state;
  }
  return std::nullopt;
}

}  // namespace docket::workflows
