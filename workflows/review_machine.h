#pragma once
// The lifecycle of one review instance: open, paused, closed, cancelled.
//
// The shape of the lifecycle is a Boost.MSM state machine (review_machine.cc,
// the only file that pays its compile cost); what a review contains is data.
//
// review_transition() is a pure transition function: given the state a
// review is in and an event, it answers the next state or why the event is
// refused, and does nothing else. Its table has no actions; the effects
// (timers, audit records, notices) are the caller's, after it has read the
// answer. Millions of reviews cost one enum each, not one machine each.
// A refused event (ok == false) is never to be dropped: the caller fails the
// command with `error`, or asserts why its state cannot be refused.

#include <optional>
#include <string>
#include <string_view>

namespace docket::workflows {

enum class ReviewState { open, paused, closed, cancelled };
enum class ReviewEvent { pause, resume, close, cancel };

struct ReviewTransition {
  bool ok = false;
  ReviewState to = ReviewState::open;
  std::string error;  // when refused, e.g. "the review is closed; it cannot be paused"
};

ReviewTransition review_transition(ReviewState from, ReviewEvent event);

std::string to_string(ReviewState s);
std::string to_string(ReviewEvent e);
std::optional<ReviewState> parse_review_state(std::string_view s);

}  // namespace docket::workflows
