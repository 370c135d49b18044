#pragma once
// The lifecycle of one review instance: open, paused, closed, cancelled.
//
// The shape of the lifecycle is a Boost.MSM state machine (review_machine.cc,
// the only file that pays its compile cost); what a review contains is data.
// The machine is applied as a transition function: given the state a review
// is in and an event, it answers the next state or why the event is refused,
// so millions of reviews cost one enum each, not one machine each.

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
