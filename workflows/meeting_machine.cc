// The meeting lifecycle as a Boost.MSM machine: functor front-end, classic
// back-end. Everything Boost.MSM stays in this file; meeting_machine.h shows
// only the transition function.
//
// meeting_transition() builds a machine on the stack, restores it to the state
// the meeting is in (an initial pseudo-state, Restoring, has one row per real
// state on a Restore event), sends the event and reads where it went. The
// machine has no message queue and no per-call heap allocation, and no state
// is shared between calls, so any number of threads may call it.

#include "workflows/msm_config.h"  // first: the Boost.MPL limits

#include "workflows/meeting_machine.h"

#include <string_view>

#include "workflows/msm_support.h"

namespace docket::workflows {
namespace {

namespace msm = boost::msm;
namespace msmf = boost::msm::front;
namespace mpl = boost::mpl;

// Events: one per MeetingEvent, and Restore, which puts a new machine into the
// state a meeting is in.
struct PapersNear {
  static constexpr std::string_view name = "papers near";
};
struct PublishPapers {
  static constexpr std::string_view name = "publish papers";
};
struct Hold {
  static constexpr std::string_view name = "hold";
};
struct DraftNotes {
  static constexpr std::string_view name = "draft notes";
};
struct Amend {
  static constexpr std::string_view name = "amend";
};
struct Stand {
  static constexpr std::string_view name = "stand";
};
struct Present {
  static constexpr std::string_view name = "present";
};
struct Move {
  static constexpr std::string_view name = "move";
};
using Restore = msm_support::Restore<MeetingState>;

template <MeetingState S>
using Is = msm_support::Is<S>;
using msm_support::IsRestoredState;

struct MeetingMachineDef : msm_support::LifecycleDef<MeetingMachineDef, MeetingState> {
  using Scheduled = Is<MeetingState::scheduled>;
  using PapersDue = Is<MeetingState::papers_due>;
  using PapersPublished = Is<MeetingState::papers_published>;
  using Held = Is<MeetingState::held>;
  using NotesDrafted = Is<MeetingState::notes_drafted>;
  using AmendmentWindow = Is<MeetingState::amendment_window>;
  using NotesStand = Is<MeetingState::notes_stand>;
  using Presented = Is<MeetingState::presented>;  // final: no row leaves it

  using none = msmf::none;
  template <class Start, class Event, class Next, class Action, class Guard>
  using Row = msmf::Row<Start, Event, Next, Action, Guard>;

  // Everything not listed is refused (see no_transition). 24 rows (16
  // transitions and 8 restoring rows): see msm_config.h for the limit.
  struct transition_table
      : mpl::vector<
            //  Start            Event          Next             Action  Guard
            Row<Restoring,       Restore,       Scheduled,       none,   IsRestoredState>,
            Row<Restoring,       Restore,       PapersDue,       none,   IsRestoredState>,
            Row<Restoring,       Restore,       PapersPublished, none,   IsRestoredState>,
            Row<Restoring,       Restore,       Held,            none,   IsRestoredState>,
            Row<Restoring,       Restore,       NotesDrafted,    none,   IsRestoredState>,
            Row<Restoring,       Restore,       AmendmentWindow, none,   IsRestoredState>,
            Row<Restoring,       Restore,       NotesStand,      none,   IsRestoredState>,
            Row<Restoring,       Restore,       Presented,       none,   IsRestoredState>,
            //  -----------------------------------------------------------------------
            Row<Scheduled,       PapersNear,    PapersDue,       none,   none>,
            Row<Scheduled,       PublishPapers, PapersPublished, none,   none>,
            Row<Scheduled,       Hold,          Held,            none,   none>,
            Row<Scheduled,       Move,          Scheduled,       none,   none>,
            //  -----------------------------------------------------------------------
            Row<PapersDue,       PapersNear,    PapersDue,       none,   none>,
            Row<PapersDue,       PublishPapers, PapersPublished, none,   none>,
            Row<PapersDue,       Hold,          Held,            none,   none>,
            Row<PapersDue,       Move,          Scheduled,       none,   none>,
            //  -----------------------------------------------------------------------
            Row<PapersPublished, Hold,          Held,            none,   none>,
            // Papers already out stay out when the date moves.
            Row<PapersPublished, Move,          PapersPublished, none,   none>,
            //  -----------------------------------------------------------------------
            Row<Held,            DraftNotes,    NotesDrafted,    none,   none>,
            //  -----------------------------------------------------------------------
            Row<NotesDrafted,    Amend,         AmendmentWindow, none,   none>,
            Row<NotesDrafted,    Stand,         NotesStand,      none,   none>,
            //  -----------------------------------------------------------------------
            Row<AmendmentWindow, Amend,         AmendmentWindow, none,   none>,
            Row<AmendmentWindow, Stand,         NotesStand,      none,   none>,
            //  -----------------------------------------------------------------------
            Row<NotesStand,      Present,       Presented,       none,   none>
            > {};
};

using MeetingMachine = msm::back::state_machine<MeetingMachineDef>;

// Sends `e` to the machine; false if `e` is no MeetingEvent at all.
bool send(MeetingMachine& machine, MeetingEvent e) {
  switch (e) {
    case MeetingEvent::papers_near: machine.process_event(PapersNear{}); return true;
    case MeetingEvent::publish_papers: machine.process_event(PublishPapers{}); return true;
    case MeetingEvent::hold: machine.process_event(Hold{}); return true;
    case MeetingEvent::draft_notes: machine.process_event(DraftNotes{}); return true;
    case MeetingEvent::amend: machine.process_event(Amend{}); return true;
    case MeetingEvent::stand: machine.process_event(Stand{}); return true;
    case MeetingEvent::present: machine.process_event(Present{}); return true;
    case MeetingEvent::move: machine.process_event(Move{}); return true;
  }
  return false;
}

// Whether the meeting has taken place: held, or any state of its notes.
bool has_been_held(MeetingState s) {
  switch (s) {
    case MeetingState::held:
    case MeetingState::notes_drafted:
    case MeetingState::amendment_window:
    case MeetingState::notes_stand:
    case MeetingState::presented:
      return true;
    case MeetingState::scheduled:
    case MeetingState::papers_due:
    case MeetingState::papers_published:
      return false;
  }
  return false;
}

// Why the machine refused `e` in state `from`, for a business manager. Only
// called for pairs the machine refused, so every branch below is a refusal.
std::string refusal(MeetingState from, MeetingEvent e) {
  using enum MeetingEvent;
  using S = MeetingState;
  if (from == S::presented) return "the notes have already been presented";  // final
  switch (e) {
    case papers_near:  // a timer event: late reminders are refused, not errors of the user
      if (from == S::papers_published) {
        return "the papers are already published; the papers deadline no longer applies";
      }
      return "the meeting has been held; the papers deadline no longer applies";
    case publish_papers:
      if (from == S::papers_published) return "the papers are already published";
      return "the meeting has been held; its papers can no longer be published";
    case hold:
      return "the meeting has already been held";
    case move:
      return "the meeting has been held; it cannot be moved";
    case draft_notes:
      if (!has_been_held(from)) return "the meeting has not been held yet; its notes come after it";
      if (from == S::amendment_window) {
        return "the notes have already been drafted; they are open for amendment";
      }
      if (from == S::notes_stand) {
        return "the notes already stand as the record; they cannot be drafted again";
      }
      return "the notes have already been drafted";
    case amend:
      if (from == S::notes_stand) {
        return "the notes already stand as the record; they can no longer be amended";
      }
      return "there are no draft notes to amend yet";
    case stand:
      if (from == S::notes_stand) return "the notes already stand as the record";
      return "there are no draft notes yet";
    case present:
      return "the notes do not stand yet; they cannot be presented";
  }
  return "the meeting cannot change";
}

}  // namespace

MeetingTransition meeting_transition(MeetingState from, MeetingEvent event) {
  MeetingMachine machine;
  if (!msm_support::restore(machine, from)) {
    return {false, from, "unknown meeting state " + std::to_string(static_cast<int>(from))};
  }
  if (!send(machine, event)) {
    return {false, from, "unknown meeting event " + std::to_string(static_cast<int>(event))};
  }
  if (!machine.refused_event_.empty()) return {false, from, refusal(from, event)};
  return {true, machine.state_, {}};
}

std::string to_string(MeetingState s) {
  switch (s) {
    case MeetingState::scheduled: return "scheduled";
    case MeetingState::papers_due: return "papers due";
    case MeetingState::papers_published: return "papers published";
    case MeetingState::held: return "held";
    case MeetingState::notes_drafted: return "notes drafted";
    case MeetingState::amendment_window: return "amendment window";
    case MeetingState::notes_stand: return "notes stand";
    case MeetingState::presented: return "presented";
  }
  return "unknown";
}

std::string to_string(MeetingEvent e) {
  switch (e) {
    case MeetingEvent::papers_near: return "papers near";
    case MeetingEvent::publish_papers: return "publish papers";
    case MeetingEvent::hold: return "hold";
    case MeetingEvent::draft_notes: return "draft notes";
    case MeetingEvent::amend: return "amend";
    case MeetingEvent::stand: return "stand";
    case MeetingEvent::present: return "present";
    case MeetingEvent::move: return "move";
  }
  return "unknown";
}

// Accepts the names to_string gives and the identifier spellings
// ("papers_due", "notes_stand", ...), nothing else.
std::optional<MeetingState> parse_meeting_state(std::string_view s) {
  static constexpr struct {
    std::string_view identifier;
    MeetingState state;
  } kIdentifiers[] = {
      {"papers_due", MeetingState::papers_due},
      {"papers_published", MeetingState::papers_published},
      {"notes_drafted", MeetingState::notes_drafted},
      {"amendment_window", MeetingState::amendment_window},
      {"notes_stand", MeetingState::notes_stand},
  };
  for (const auto& [identifier, state] : kIdentifiers) {
    if (s == identifier) return state;
  }
  for (auto state : {MeetingState::scheduled, MeetingState::papers_due, MeetingState::papers_published,
                     MeetingState::held, MeetingState::notes_drafted, MeetingState::amendment_window,
                     MeetingState::notes_stand, MeetingState::presented}) {
    if (s == to_string(state)) return state;
  }
  return std::nullopt;
}

}  // namespace docket::workflows
