// The deadline lifecycle: which events each state accepts, where they lead,
// and why the others are refused.

#include <gtest/gtest.h>

#include <map>
#include <thread>
#include <utility>
#include <vector>

#include "workflows/deadline_machine.h"

namespace docket::workflows {
namespace {

constexpr DeadlineState kStates[] = {DeadlineState::pending, DeadlineState::due_soon,
                                     DeadlineState::overdue, DeadlineState::escalated,
                                     DeadlineState::met,     DeadlineState::waived,
                                     DeadlineState::suspended};
constexpr DeadlineEvent kEvents[] = {DeadlineEvent::remind,  DeadlineEvent::fall_overdue,
                                     DeadlineEvent::escalate, DeadlineEvent::meet,
                                     DeadlineEvent::waive,   DeadlineEvent::suspend,
                                     DeadlineEvent::resume,  DeadlineEvent::extend};

// The documented lifecycle, written out here rather than asked of the code:
// every (state, event) pair not listed is refused.
const std::map<std::pair<DeadlineState, DeadlineEvent>, DeadlineState>& allowed() {
  using S = DeadlineState;
  using E = DeadlineEvent;
  static const std::map<std::pair<S, E>, S> table = {
      {{S::pending, E::remind}, S::due_soon},
      {{S::pending, E::fall_overdue}, S::overdue},
      {{S::pending, E::meet}, S::met},
      {{S::pending, E::waive}, S::waived},
      {{S::pending, E::suspend}, S::suspended},
      {{S::pending, E::extend}, S::pending},

      {{S::due_soon, E::remind}, S::due_soon},
      {{S::due_soon, E::fall_overdue}, S::overdue},
      {{S::due_soon, E::meet}, S::met},
      {{S::due_soon, E::waive}, S::waived},
      {{S::due_soon, E::suspend}, S::suspended},
      {{S::due_soon, E::extend}, S::pending},

      {{S::overdue, E::escalate}, S::escalated},
      {{S::overdue, E::meet}, S::met},
      {{S::overdue, E::waive}, S::waived},
      {{S::overdue, E::suspend}, S::suspended},
      {{S::overdue, E::extend}, S::pending},

      {{S::escalated, E::escalate}, S::escalated},
      {{S::escalated, E::meet}, S::met},
      {{S::escalated, E::waive}, S::waived},
      {{S::escalated, E::suspend}, S::suspended},
      {{S::escalated, E::extend}, S::pending},

      {{S::suspended, E::resume}, S::pending},
      {{S::suspended, E::meet}, S::met},
      {{S::suspended, E::waive}, S::waived},
      {{S::suspended, E::extend}, S::suspended},
  };
  return table;
}

std::string pair_name(DeadlineState s, DeadlineEvent e) {
  return to_string(e) + " on " + to_string(s);
}

TEST(DeadlineMachine, EveryAllowedTransitionReachesTheDocumentedState) {
  EXPECT_EQ(allowed().size(), 26u);
  for (const auto& [pair, to] : allowed()) {
    auto [from, event] = pair;
    auto t = deadline_transition(from, event);
    EXPECT_TRUE(t.ok) << pair_name(from, event) << ": " << t.error;
    EXPECT_EQ(t.to, to) << pair_name(from, event) << " went to " << to_string(t.to);
    EXPECT_TRUE(t.error.empty()) << pair_name(from, event) << ": " << t.error;
  }
}

TEST(DeadlineMachine, EveryOtherPairIsRefusedWithAReasonAndStaysPut) {
  int refused = 0;
  for (auto from : kStates) {
    for (auto event : kEvents) {
      if (allowed().count({from, event})) continue;
      ++refused;
      auto t = deadline_transition(from, event);
      EXPECT_FALSE(t.ok) << pair_name(from, event) << " was accepted";
      EXPECT_EQ(t.to, from) << pair_name(from, event);
      EXPECT_FALSE(t.error.empty()) << pair_name(from, event);
      EXPECT_EQ(t.error.rfind("the deadline ", 0), 0u) << pair_name(from, event) << ": " << t.error;
    }
  }
  EXPECT_EQ(refused, 7 * 8 - 26);
}

TEST(DeadlineMachine, FinishedDeadlinesSayHowTheyFinished) {
  EXPECT_EQ(deadline_transition(DeadlineState::met, DeadlineEvent::waive).error,
            "the deadline is already met; it cannot be waived");
  EXPECT_EQ(deadline_transition(DeadlineState::met, DeadlineEvent::meet).error,
            "the deadline is already met; it cannot be met again");
  EXPECT_EQ(deadline_transition(DeadlineState::waived, DeadlineEvent::meet).error,
            "the deadline was waived; it cannot be met");
  EXPECT_EQ(deadline_transition(DeadlineState::waived, DeadlineEvent::extend).error,
            "the deadline was waived; it cannot be extended");
}

TEST(DeadlineMachine, RefusalsOfOpenDeadlinesSayWhy) {
  EXPECT_EQ(deadline_transition(DeadlineState::overdue, DeadlineEvent::remind).error,
            "the deadline is overdue; a reminder no longer applies");
  EXPECT_EQ(deadline_transition(DeadlineState::pending, DeadlineEvent::escalate).error,
            "the deadline is not overdue; it cannot be escalated");
  EXPECT_EQ(deadline_transition(DeadlineState::pending, DeadlineEvent::resume).error,
            "the deadline is not suspended; it cannot be resumed");
  EXPECT_EQ(deadline_transition(DeadlineState::overdue, DeadlineEvent::fall_overdue).error,
            "the deadline is already overdue; it cannot fall overdue again");
  EXPECT_EQ(deadline_transition(DeadlineState::suspended, DeadlineEvent::suspend).error,
            "the deadline is already suspended; it cannot be suspended again");
}

TEST(DeadlineMachine, MetAndWaivedAreFinal) {
  for (auto s : kStates) {
    bool expected = s == DeadlineState::met || s == DeadlineState::waived;
    EXPECT_EQ(is_final(s), expected) << to_string(s);
  }
}

TEST(DeadlineMachine, FinalStatesAcceptNothingAndOthersSomething) {
  for (auto from : kStates) {
    int accepted = 0;
    for (auto event : kEvents) accepted += deadline_transition(from, event).ok ? 1 : 0;
    if (is_final(from)) {
      EXPECT_EQ(accepted, 0) << to_string(from);
    } else {
      EXPECT_GT(accepted, 0) << to_string(from);
    }
  }
}

// DeadlineState is an enum class over int, so a stray value can arrive from
// stored data; it is refused, not mistaken for a real state.
TEST(DeadlineMachine, AValueOutsideTheEnumsIsRefused) {
  auto bad_state = deadline_transition(static_cast<DeadlineState>(42), DeadlineEvent::meet);
  EXPECT_FALSE(bad_state.ok);
  EXPECT_EQ(bad_state.to, static_cast<DeadlineState>(42));
  EXPECT_EQ(bad_state.error, "unknown deadline state 42");
  auto bad_event = deadline_transition(DeadlineState::pending, static_cast<DeadlineEvent>(42));
  EXPECT_FALSE(bad_event.ok);
  EXPECT_EQ(bad_event.to, DeadlineState::pending);
  EXPECT_EQ(bad_event.error, "unknown deadline event 42");
}

TEST(DeadlineMachine, StateNamesRoundTrip) {
  EXPECT_EQ(to_string(DeadlineState::pending), "pending");
  EXPECT_EQ(to_string(DeadlineState::due_soon), "due soon");
  EXPECT_EQ(to_string(DeadlineState::overdue), "overdue");
  EXPECT_EQ(to_string(DeadlineState::escalated), "escalated");
  EXPECT_EQ(to_string(DeadlineState::met), "met");
  EXPECT_EQ(to_string(DeadlineState::waived), "waived");
  EXPECT_EQ(to_string(DeadlineState::suspended), "suspended");
  for (auto s : kStates) EXPECT_EQ(parse_deadline_state(to_string(s)), s) << to_string(s);
}

TEST(DeadlineMachine, ParseAcceptsDueSoonWithAnUnderscore) {
  EXPECT_EQ(parse_deadline_state("due_soon"), DeadlineState::due_soon);
}

TEST(DeadlineMachine, ParseRejectsOtherSpellings) {
  for (const char* s : {"", "Pending", "due-soon", "due  soon", "duesoon", " met", "waive", "escalated 2"}) {
    EXPECT_EQ(parse_deadline_state(s), std::nullopt) << "'" << s << "'";
  }
}

TEST(DeadlineMachine, EventNames) {
  EXPECT_EQ(to_string(DeadlineEvent::remind), "remind");
  EXPECT_EQ(to_string(DeadlineEvent::fall_overdue), "fall overdue");
  EXPECT_EQ(to_string(DeadlineEvent::escalate), "escalate");
  EXPECT_EQ(to_string(DeadlineEvent::meet), "meet");
  EXPECT_EQ(to_string(DeadlineEvent::waive), "waive");
  EXPECT_EQ(to_string(DeadlineEvent::suspend), "suspend");
  EXPECT_EQ(to_string(DeadlineEvent::resume), "resume");
  EXPECT_EQ(to_string(DeadlineEvent::extend), "extend");
}

// The transition function keeps no state between calls, so threads may share it.
TEST(DeadlineMachine, ConcurrentCallersGetTheSameAnswers) {
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (std::size_t i = 0; i < mismatches.size(); ++i) {
    threads.emplace_back([&mismatches, i] {
      for (int round = 0; round < 2000; ++round) {
        for (auto from : kStates) {
          for (auto event : kEvents) {
            auto it = allowed().find({from, event});
            auto t = deadline_transition(from, event);
            bool expected_ok = it != allowed().end();
            auto expected_to = expected_ok ? it->second : from;
            if (t.ok != expected_ok || t.to != expected_to) ++mismatches[i];
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int m : mismatches) EXPECT_EQ(m, 0);
}

}  // namespace
}  // namespace docket::workflows
