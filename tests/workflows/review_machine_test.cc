// The review lifecycle: which events each state accepts, where they lead, and
// why the others are refused.

#include <gtest/gtest.h>

#include <map>
#include <utility>

#include "workflows/review_machine.h"

namespace docket::workflows {
namespace {

constexpr ReviewState kStates[] = {ReviewState::open, ReviewState::paused, ReviewState::closed,
                                   ReviewState::cancelled};
constexpr ReviewEvent kEvents[] = {ReviewEvent::pause, ReviewEvent::resume, ReviewEvent::close,
                                   ReviewEvent::cancel};

// The documented lifecycle, written out here rather than asked of the code:
// every (state, event) pair not listed is refused.
const std::map<std::pair<ReviewState, ReviewEvent>, ReviewState>& allowed() {
  using S = ReviewState;
  using E = ReviewEvent;
  static const std::map<std::pair<S, E>, S> table = {
      {{S::open, E::pause}, S::paused},      {{S::open, E::close}, S::closed},
      {{S::open, E::cancel}, S::cancelled},  {{S::paused, E::resume}, S::open},
      {{S::paused, E::cancel}, S::cancelled},
  };
  return table;
}

std::string pair_name(ReviewState s, ReviewEvent e) {
  return to_string(e) + " on " + to_string(s);
}

TEST(ReviewMachine, EveryAllowedTransitionReachesTheDocumentedState) {
  for (const auto& [pair, to] : allowed()) {
    auto [from, event] = pair;
    auto t = review_transition(from, event);
    EXPECT_TRUE(t.ok) << pair_name(from, event) << ": " << t.error;
    EXPECT_EQ(t.to, to) << pair_name(from, event) << " went to " << to_string(t.to);
    EXPECT_TRUE(t.error.empty()) << pair_name(from, event) << ": " << t.error;
  }
}

TEST(ReviewMachine, EveryOtherPairIsRefusedWithAReasonAndStaysPut) {
  int refused = 0;
  for (auto from : kStates) {
    for (auto event : kEvents) {
      if (allowed().count({from, event})) continue;
      ++refused;
      auto t = review_transition(from, event);
      EXPECT_FALSE(t.ok) << pair_name(from, event) << " was accepted";
      EXPECT_EQ(t.to, from) << pair_name(from, event);
      EXPECT_FALSE(t.error.empty()) << pair_name(from, event);
      EXPECT_NE(t.error.find("review"), std::string::npos) << t.error;
    }
  }
  EXPECT_EQ(refused, 16 - 5);
}

TEST(ReviewMachine, APausedReviewMustBeResumedBeforeItCanClose) {
  auto t = review_transition(ReviewState::paused, ReviewEvent::close);
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.to, ReviewState::paused);
  EXPECT_EQ(t.error, "a paused review must be resumed before it can close");
}

TEST(ReviewMachine, RefusalsSayTheStateAndWhatWasRefused) {
  EXPECT_EQ(review_transition(ReviewState::closed, ReviewEvent::pause).error,
            "the review is closed; it cannot be paused");
  EXPECT_EQ(review_transition(ReviewState::open, ReviewEvent::resume).error,
            "the review is not paused; it cannot be resumed");
  EXPECT_EQ(review_transition(ReviewState::cancelled, ReviewEvent::close).error,
            "the review is cancelled; it cannot be closed");
  EXPECT_EQ(review_transition(ReviewState::paused, ReviewEvent::pause).error,
            "the review is already paused; it cannot be paused again");
  EXPECT_EQ(review_transition(ReviewState::closed, ReviewEvent::close).error,
            "the review is already closed; it cannot be closed again");
}

TEST(ReviewMachine, ClosedAndCancelledReviewsAcceptNothing) {
  for (auto from : {ReviewState::closed, ReviewState::cancelled}) {
    for (auto event : kEvents) {
      auto t = review_transition(from, event);
      EXPECT_FALSE(t.ok) << pair_name(from, event);
      EXPECT_EQ(t.to, from) << pair_name(from, event);
    }
  }
}

TEST(ReviewMachine, ARoundTripThroughPauseComesBackOpen) {
  auto paused = review_transition(ReviewState::open, ReviewEvent::pause);
  ASSERT_TRUE(paused.ok);
  auto resumed = review_transition(paused.to, ReviewEvent::resume);
  ASSERT_TRUE(resumed.ok);
  auto closed = review_transition(resumed.to, ReviewEvent::close);
  ASSERT_TRUE(closed.ok);
  EXPECT_EQ(closed.to, ReviewState::closed);
}

// ReviewState is an enum class over int, so a stray value can arrive from
// stored data; it is refused, not mistaken for a real state.
TEST(ReviewMachine, AValueOutsideTheEnumsIsRefused) {
  auto bad_state = review_transition(static_cast<ReviewState>(42), ReviewEvent::close);
  EXPECT_FALSE(bad_state.ok);
  EXPECT_EQ(bad_state.to, static_cast<ReviewState>(42));
  EXPECT_EQ(bad_state.error, "unknown review state 42");
  auto bad_event = review_transition(ReviewState::open, static_cast<ReviewEvent>(42));
  EXPECT_FALSE(bad_event.ok);
  EXPECT_EQ(bad_event.to, ReviewState::open);
  EXPECT_EQ(bad_event.error, "unknown review event 42");
}

TEST(ReviewMachine, StateNamesRoundTrip) {
  EXPECT_EQ(to_string(ReviewState::open), "open");
  EXPECT_EQ(to_string(ReviewState::paused), "paused");
  EXPECT_EQ(to_string(ReviewState::closed), "closed");
  EXPECT_EQ(to_string(ReviewState::cancelled), "cancelled");
  for (auto s : kStates) EXPECT_EQ(parse_review_state(to_string(s)), s) << to_string(s);
}

TEST(ReviewMachine, ParseRejectsOtherSpellings) {
  for (const char* s : {"", "Open", "OPEN", " open", "open ", "canceled", "pause", "closing"}) {
    EXPECT_EQ(parse_review_state(s), std::nullopt) << "'" << s << "'";
  }
}

TEST(ReviewMachine, EventNames) {
  EXPECT_EQ(to_string(ReviewEvent::pause), "pause");
  EXPECT_EQ(to_string(ReviewEvent::resume), "resume");
  EXPECT_EQ(to_string(ReviewEvent::close), "close");
  EXPECT_EQ(to_string(ReviewEvent::cancel), "cancel");
}

}  // namespace
}  // namespace docket::workflows
