// The meeting lifecycle: which events each state accepts, where they lead,
// and why the others are refused.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "workflows/meeting_machine.h"

namespace docket::workflows {
namespace {

constexpr MeetingState kStates[] = {MeetingState::scheduled,        MeetingState::papers_due,
                                    MeetingState::papers_published, MeetingState::held,
                                    MeetingState::notes_drafted,    MeetingState::amendment_window,
                                    MeetingState::notes_stand,      MeetingState::presented};
constexpr MeetingEvent kEvents[] = {MeetingEvent::papers_near, MeetingEvent::publish_papers,
                                    MeetingEvent::hold,        MeetingEvent::draft_notes,
                                    MeetingEvent::amend,       MeetingEvent::stand,
                                    MeetingEvent::present,     MeetingEvent::move};

// The documented lifecycle, written out here rather than asked of the code:
// every (state, event) pair not listed is refused.
const std::map<std::pair<MeetingState, MeetingEvent>, MeetingState>& allowed() {
  using S = MeetingState;
  using E = MeetingEvent;
  static const std::map<std::pair<S, E>, S> table = {
      {{S::scheduled, E::papers_near}, S::papers_due},
      {{S::scheduled, E::publish_papers}, S::papers_published},
      {{S::scheduled, E::hold}, S::held},
      {{S::scheduled, E::move}, S::scheduled},

      {{S::papers_due, E::papers_near}, S::papers_due},
      {{S::papers_due, E::publish_papers}, S::papers_published},
      {{S::papers_due, E::hold}, S::held},
      {{S::papers_due, E::move}, S::scheduled},

      {{S::papers_published, E::hold}, S::held},
      {{S::papers_published, E::move}, S::papers_published},  // papers out stay out

      {{S::held, E::draft_notes}, S::notes_drafted},

      {{S::notes_drafted, E::amend}, S::amendment_window},
      {{S::notes_drafted, E::stand}, S::notes_stand},

      {{S::amendment_window, E::amend}, S::amendment_window},
      {{S::amendment_window, E::stand}, S::notes_stand},

      {{S::notes_stand, E::present}, S::presented},
  };
  return table;
}

// What a business manager reads for every refused pair, written out here.
const std::map<std::pair<MeetingState, MeetingEvent>, std::string>& refusals() {
  using S = MeetingState;
  using E = MeetingEvent;
  static const std::string kNotHeldNotes = "the meeting has not been held yet; its notes come after it";
  static const std::string kNoDraftToAmend = "there are no draft notes to amend yet";
  static const std::string kNoDraft = "there are no draft notes yet";
  static const std::string kNotStanding = "the notes do not stand yet; they cannot be presented";
  static const std::string kHeldDeadline = "the meeting has been held; the papers deadline no longer applies";
  static const std::string kHeldPapers = "the meeting has been held; its papers can no longer be published";
  static const std::string kAlreadyHeld = "the meeting has already been held";
  static const std::string kHeldMove = "the meeting has been held; it cannot be moved";
  static const std::string kPresented = "the notes have already been presented";
  static const std::map<std::pair<S, E>, std::string> table = {
      {{S::scheduled, E::draft_notes}, kNotHeldNotes},
      {{S::scheduled, E::amend}, kNoDraftToAmend},
      {{S::scheduled, E::stand}, kNoDraft},
      {{S::scheduled, E::present}, kNotStanding},

      {{S::papers_due, E::draft_notes}, kNotHeldNotes},
      {{S::papers_due, E::amend}, kNoDraftToAmend},
      {{S::papers_due, E::stand}, kNoDraft},
      {{S::papers_due, E::present}, kNotStanding},

      {{S::papers_published, E::papers_near},
       "the papers are already published; the papers deadline no longer applies"},
      {{S::papers_published, E::publish_papers}, "the papers are already published"},
      {{S::papers_published, E::draft_notes}, kNotHeldNotes},
      {{S::papers_published, E::amend}, kNoDraftToAmend},
      {{S::papers_published, E::stand}, kNoDraft},
      {{S::papers_published, E::present}, kNotStanding},

      {{S::held, E::papers_near}, kHeldDeadline},
      {{S::held, E::publish_papers}, kHeldPapers},
      {{S::held, E::hold}, kAlreadyHeld},
      {{S::held, E::amend}, kNoDraftToAmend},
      {{S::held, E::stand}, kNoDraft},
      {{S::held, E::present}, kNotStanding},
      {{S::held, E::move}, kHeldMove},

      {{S::notes_drafted, E::papers_near}, kHeldDeadline},
      {{S::notes_drafted, E::publish_papers}, kHeldPapers},
      {{S::notes_drafted, E::hold}, kAlreadyHeld},
      {{S::notes_drafted, E::draft_notes}, "the notes have already been drafted"},
      {{S::notes_drafted, E::present}, kNotStanding},
      {{S::notes_drafted, E::move}, kHeldMove},

      {{S::amendment_window, E::papers_near}, kHeldDeadline},
      {{S::amendment_window, E::publish_papers}, kHeldPapers},
      {{S::amendment_window, E::hold}, kAlreadyHeld},
      {{S::amendment_window, E::draft_notes},
       "the notes have already been drafted; they are open for amendment"},
      {{S::amendment_window, E::present}, kNotStanding},
      {{S::amendment_window, E::move}, kHeldMove},

      {{S::notes_stand, E::papers_near}, kHeldDeadline},
      {{S::notes_stand, E::publish_papers}, kHeldPapers},
      {{S::notes_stand, E::hold}, kAlreadyHeld},
      {{S::notes_stand, E::draft_notes},
       "the notes already stand as the record; they cannot be drafted again"},
      {{S::notes_stand, E::amend}, "the notes already stand as the record; they can no longer be amended"},
      {{S::notes_stand, E::stand}, "the notes already stand as the record"},
      {{S::notes_stand, E::move}, kHeldMove},

      {{S::presented, E::papers_near}, kPresented},
      {{S::presented, E::publish_papers}, kPresented},
      {{S::presented, E::hold}, kPresented},
      {{S::presented, E::draft_notes}, kPresented},
      {{S::presented, E::amend}, kPresented},
      {{S::presented, E::stand}, kPresented},
      {{S::presented, E::present}, kPresented},
      {{S::presented, E::move}, kPresented},
  };
  return table;
}

std::string pair_name(MeetingState s, MeetingEvent e) {
  return to_string(e) + " on " + to_string(s);
}

TEST(MeetingMachine, TheExpectedTablesCoverEveryPairOnce) {
  EXPECT_EQ(allowed().size(), 16u);
  EXPECT_EQ(refusals().size(), 8u * 8u - 16u);
  for (auto from : kStates) {
    for (auto event : kEvents) {
      EXPECT_NE(allowed().count({from, event}), refusals().count({from, event})) << pair_name(from, event);
    }
  }
}

TEST(MeetingMachine, EveryAllowedTransitionReachesTheDocumentedState) {
  for (const auto& [pair, to] : allowed()) {
    auto [from, event] = pair;
    auto t = meeting_transition(from, event);
    EXPECT_TRUE(t.ok) << pair_name(from, event) << ": " << t.error;
    EXPECT_EQ(t.to, to) << pair_name(from, event) << " went to " << to_string(t.to);
    EXPECT_TRUE(t.error.empty()) << pair_name(from, event) << ": " << t.error;
  }
}

TEST(MeetingMachine, EveryOtherPairIsRefusedWithItsReasonAndStaysPut) {
  int refused = 0;
  for (auto from : kStates) {
    for (auto event : kEvents) {
      if (allowed().count({from, event})) continue;
      ++refused;
      auto t = meeting_transition(from, event);
      EXPECT_FALSE(t.ok) << pair_name(from, event) << " was accepted";
      EXPECT_EQ(t.to, from) << pair_name(from, event);
      auto it = refusals().find({from, event});
      ASSERT_NE(it, refusals().end()) << pair_name(from, event);
      EXPECT_EQ(t.error, it->second) << pair_name(from, event);
    }
  }
  EXPECT_EQ(refused, 8 * 8 - 16);
}

// The texts named when the lifecycle was specified, spelled out once more.
TEST(MeetingMachine, RefusalsSayWhyInPlainWords) {
  using S = MeetingState;
  using E = MeetingEvent;
  EXPECT_EQ(meeting_transition(S::held, E::hold).error, "the meeting has already been held");
  EXPECT_EQ(meeting_transition(S::scheduled, E::draft_notes).error,
            "the meeting has not been held yet; its notes come after it");
  EXPECT_EQ(meeting_transition(S::held, E::move).error, "the meeting has been held; it cannot be moved");
  EXPECT_EQ(meeting_transition(S::notes_drafted, E::publish_papers).error,
            "the meeting has been held; its papers can no longer be published");
  EXPECT_EQ(meeting_transition(S::papers_published, E::publish_papers).error,
            "the papers are already published");
  EXPECT_EQ(meeting_transition(S::held, E::amend).error, "there are no draft notes to amend yet");
  EXPECT_EQ(meeting_transition(S::notes_stand, E::amend).error,
            "the notes already stand as the record; they can no longer be amended");
  EXPECT_EQ(meeting_transition(S::papers_due, E::stand).error, "there are no draft notes yet");
  EXPECT_EQ(meeting_transition(S::amendment_window, E::present).error,
            "the notes do not stand yet; they cannot be presented");
  EXPECT_EQ(meeting_transition(S::presented, E::present).error, "the notes have already been presented");
  EXPECT_EQ(meeting_transition(S::held, E::papers_near).error,
            "the meeting has been held; the papers deadline no longer applies");
}

TEST(MeetingMachine, MovingKeepsPublishedPapersPublished) {
  EXPECT_EQ(meeting_transition(MeetingState::papers_published, MeetingEvent::move).to,
            MeetingState::papers_published);
  EXPECT_EQ(meeting_transition(MeetingState::papers_due, MeetingEvent::move).to, MeetingState::scheduled);
}

// A whole meeting, one event at a time, as docket would apply them.
TEST(MeetingMachine, AMeetingRunsItsCourse) {
  using E = MeetingEvent;
  MeetingState s = MeetingState::scheduled;
  for (auto [event, expected] : std::vector<std::pair<E, MeetingState>>{
           {E::papers_near, MeetingState::papers_due},
           {E::papers_near, MeetingState::papers_due},
           {E::move, MeetingState::scheduled},
           {E::publish_papers, MeetingState::papers_published},
           {E::move, MeetingState::papers_published},
           {E::hold, MeetingState::held},
           {E::draft_notes, MeetingState::notes_drafted},
           {E::amend, MeetingState::amendment_window},
           {E::amend, MeetingState::amendment_window},
           {E::stand, MeetingState::notes_stand},
           {E::present, MeetingState::presented},
       }) {
    auto t = meeting_transition(s, event);
    ASSERT_TRUE(t.ok) << pair_name(s, event) << ": " << t.error;
    EXPECT_EQ(t.to, expected) << pair_name(s, event);
    s = t.to;
  }
}

TEST(MeetingMachine, OnlyPresentedIsFinal) {
  for (auto from : kStates) {
    int accepted = 0;
    for (auto event : kEvents) accepted += meeting_transition(from, event).ok ? 1 : 0;
    if (from == MeetingState::presented) {
      EXPECT_EQ(accepted, 0) << to_string(from);
    } else {
      EXPECT_GT(accepted, 0) << to_string(from);
    }
  }
}

// MeetingState is an enum class over int, so a stray value can arrive from
// stored data; it is refused, not mistaken for a real state.
TEST(MeetingMachine, AValueOutsideTheEnumsIsRefused) {
  auto bad_state = meeting_transition(static_cast<MeetingState>(42), MeetingEvent::hold);
  EXPECT_FALSE(bad_state.ok);
  EXPECT_EQ(bad_state.to, static_cast<MeetingState>(42));
  EXPECT_EQ(bad_state.error, "unknown meeting state 42");
  auto bad_event = meeting_transition(MeetingState::scheduled, static_cast<MeetingEvent>(42));
  EXPECT_FALSE(bad_event.ok);
  EXPECT_EQ(bad_event.to, MeetingState::scheduled);
  EXPECT_EQ(bad_event.error, "unknown meeting event 42");
  EXPECT_EQ(to_string(static_cast<MeetingState>(42)), "unknown");
  EXPECT_EQ(to_string(static_cast<MeetingEvent>(42)), "unknown");
}

TEST(MeetingMachine, StateNamesRoundTrip) {
  EXPECT_EQ(to_string(MeetingState::scheduled), "scheduled");
  EXPECT_EQ(to_string(MeetingState::papers_due), "papers due");
  EXPECT_EQ(to_string(MeetingState::papers_published), "papers published");
  EXPECT_EQ(to_string(MeetingState::held), "held");
  EXPECT_EQ(to_string(MeetingState::notes_drafted), "notes drafted");
  EXPECT_EQ(to_string(MeetingState::amendment_window), "amendment window");
  EXPECT_EQ(to_string(MeetingState::notes_stand), "notes stand");
  EXPECT_EQ(to_string(MeetingState::presented), "presented");
  for (auto s : kStates) EXPECT_EQ(parse_meeting_state(to_string(s)), s) << to_string(s);
}

TEST(MeetingMachine, ParseAcceptsTheUnderscoreSpellings) {
  EXPECT_EQ(parse_meeting_state("papers_due"), MeetingState::papers_due);
  EXPECT_EQ(parse_meeting_state("papers_published"), MeetingState::papers_published);
  EXPECT_EQ(parse_meeting_state("notes_drafted"), MeetingState::notes_drafted);
  EXPECT_EQ(parse_meeting_state("amendment_window"), MeetingState::amendment_window);
  EXPECT_EQ(parse_meeting_state("notes_stand"), MeetingState::notes_stand);
}

TEST(MeetingMachine, ParseRejectsOtherSpellings) {
  for (const char* s : {"", "Scheduled", "papers-due", "papers  due", "papersdue", " held", "held ",
                        "present", "notes_stand ", "Papers_Due", "notes standing", "amendment"}) {
    EXPECT_EQ(parse_meeting_state(s), std::nullopt) << "'" << s << "'";
  }
}

TEST(MeetingMachine, EventNames) {
  EXPECT_EQ(to_string(MeetingEvent::papers_near), "papers near");
  EXPECT_EQ(to_string(MeetingEvent::publish_papers), "publish papers");
  EXPECT_EQ(to_string(MeetingEvent::hold), "hold");
  EXPECT_EQ(to_string(MeetingEvent::draft_notes), "draft notes");
  EXPECT_EQ(to_string(MeetingEvent::amend), "amend");
  EXPECT_EQ(to_string(MeetingEvent::stand), "stand");
  EXPECT_EQ(to_string(MeetingEvent::present), "present");
  EXPECT_EQ(to_string(MeetingEvent::move), "move");
}

// The transition function keeps no state between calls, so threads may share it.
TEST(MeetingMachine, ConcurrentCallersGetTheSameAnswers) {
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (std::size_t i = 0; i < mismatches.size(); ++i) {
    threads.emplace_back([&mismatches, i] {
      for (int round = 0; round < 2000; ++round) {
        for (auto from : kStates) {
          for (auto event : kEvents) {
            auto it = allowed().find({from, event});
            auto t = meeting_transition(from, event);
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
