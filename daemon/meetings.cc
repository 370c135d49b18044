// Meetings: each body's meetings for the current and next financial year,
// their milestones (papers, draft notes, notes stand, presented), their
// timing and firing, and how they are stored and listed. Milestones are
// timed and fired by the same code as review stages (firing.cc); the
// commands that record a meeting's steps, and the meeting list, are in
// meeting_commands.cc.

#include <algorithm>
#include <cassert>
#include <set>

#include "daemon/engine.h"
#include "daemon/notice.h"
#include "daemon/owner.h"
#include "daemon/input_rules.h"

namespace docket::daemon {

using namespace docket::workflows;
using nlohmann::json;

Deadline* Meeting::milestone_marking(const std::string& step) {
  for (auto& d : milestones) {
    if (d.stage->marks == step) return &d;
  }
  return nullptr;
}

std::vector<PlannedItem> Engine::plan_of(const Meeting& m) const {
  std::map<std::string, Day> completed;
  for (const auto& d : m.milestones) {
    if (d.completed_on) completed[d.stage->id] = *d.completed_on;
  }
  return plan_meeting(*m.config, *m.cycle, m.date, completed);
}

void Engine::schedule(Meeting& m, Deadline& d) {
  if (m.state == MeetingState::presented) {
    index(m.id, d, Instant{});
    return;
  }
  auto items = plan_of(m);
  auto it = std::find_if(items.begin(), items.end(), [&](const PlannedItem& i) { return i.stage == d.stage; });
  index(m.id, d, it == items.end() ? Instant{} : next_fire_of(d, *it, m.config->calendar_of(*m.cycle)));
}

// Recomputes milestone dates (a move, or draft notes published early) and
// adds milestones whose date has become known (the next meeting of the body
// the notes go to). Notices already past on the new dates are not sent.
void Engine::refresh(Meeting& m) {
  const Calendar& cal = m.config->calendar_of(*m.cycle);
  const Instant now = clock_.now();
  for (const auto& item : plan_of(m)) {
    if (!item.due) continue;
    auto d = std::find_if(m.milestones.begin(), m.milestones.end(), [&](const Deadline& x) { return x.stage == item.stage; });
    if (d == m.milestones.end()) {
      Deadline fresh;
      fresh.stage = item.stage;
      fresh.opened_on = std::min(m.date, today(cal));
      auto pos = std::find_if(m.milestones.begin(), m.milestones.end(), [&](const Deadline& x) { return x.stage > item.stage; });
      d = m.milestones.insert(pos, fresh);
    } else if (is_final(d->state) || (d->due == *item.due && d->due_at == item.due_at)) {
      continue;
    }
    d->due = *item.due;
    d->due_at = item.due_at;
    // Skip what is already past on the new date, without a flood of notices.
    d->reminders_sent = static_cast<int>(std::count_if(item.reminders.begin(), item.reminders.end(),
                                                       [&](const PlannedNotice& n) { return when(cal, n) <= now; }));
    d->rungs_sent = static_cast<int>(std::count_if(item.escalations.begin(), item.escalations.end(),
                                                   [&](const PlannedNotice& n) { return when(cal, n) <= now; }));
    d->repeats_sent = 0;
    d->state = overdue_at(cal, *d) <= now ? (d->rungs_sent > 0 ? DeadlineState::escalated : DeadlineState::overdue)
                                          : DeadlineState::pending;
  }
  for (auto& d : m.milestones) schedule(m, d);
}

void Engine::ensure_meetings(store::Batch& batch) {
  const Calendar& cal = config_->calendar(config_->daemon.calendar);
  const FinancialYear fy = FinancialYear::containing(today(cal));
  if (fy.first_year == meetings_ensured_for_) return;
  meetings_ensured_for_ = fy.first_year;
  const Day from = fy.first_day();
  const Day to = FinancialYear{fy.first_year + 1}.last_day();
  for (const auto& [body, cycle] : config_->cycles) {
    for (const auto& [day, why] : meeting_dates(*config_, cycle, from, to)) {
      const std::string id = meeting_key(body, day);
      if (meetings_.count(id) > 0) continue;
      Meeting m;
      m.id = id;
      m.config = config_;
      m.cycle = &cycle;
      m.version = cycle.version;
      m.planned = day;
      m.date = day;
      auto [it, inserted] = meetings_.emplace(id, std::move(m));
      refresh(it->second);
      audit(batch, "system", "meeting.scheduled", it->second, "", {{"date", iso(day)}, {"why", why}});
      save(batch, it->second);
      for (const auto& d : it->second.milestones) save_milestone(batch, it->second, d);
    }
  }
  // Meetings of bodies now scheduled differently keep their ids; chains such as
  // "presented at the next meeting of" may now resolve.
  for (auto& [id, m] : meetings_) {
    if (m.milestones.size() < m.cycle->milestones.size()) {
      refresh(m);
      for (const auto& d : m.milestones) save_milestone(batch, m, d);
    }
  }
}

void Engine::load_meetings(const std::vector<store::MeetingRecord>& meetings,
                           const std::vector<store::DeadlineRecord>& deadlines,
                           const std::vector<store::ChairRecord>& chairs) {
  for (const auto& rec : meetings) {
    auto cycle = config_->cycles.find(rec.cycle);
    if (cycle == config_->cycles.end()) continue;
    Meeting m;
    m.id = rec.id;
    m.config = config_;
    m.cycle = &cycle->second;
    m.version = rec.version;
    m.planned = *parse_day(rec.planned);
    m.date = *parse_day(rec.date);
    m.state = parse_meeting_state(rec.state).value_or(MeetingState::scheduled);
    m.attended = json::parse(rec.attended).get<std::vector<std::string>>();
    m.quorate = rec.quorate;
    m.amendments = json::parse(rec.amendments).get<std::vector<std::string>>();
    m.moved_reason = rec.moved_reason;
    meetings_.emplace(m.id, std::move(m));
  }
  for (const auto& rec : deadlines) {
    auto it = meetings_.find(rec.ref);
    if (it == meetings_.end()) continue;
    const Stage* stage = it->second.cycle->milestone(rec.stage);
    if (stage == nullptr) continue;
    Deadline d = from_record(rec, stage);
    it->second.milestones.push_back(d);
  }
  for (auto& [id, m] : meetings_) {
    std::sort(m.milestones.begin(), m.milestones.end(), [](const Deadline& a, const Deadline& b) { return a.stage < b.stage; });
    for (auto& d : m.milestones) schedule(m, d);
  }
  for (const auto& c : chairs) chairs_[{c.body, c.year}] = c;
}

// --- firing ------------------------------------------------------------------

void Engine::fire(Meeting& m, Deadline& d, Instant now, store::Batch& batch) {
  const Calendar& cal = m.config->calendar_of(*m.cycle);
  if (d.stage->owner.empty()) {
    // A milestone nobody owns happens by itself when its day passes: the
    // amendment window closes and the notes stand. If the meeting is not
    // there yet (no draft notes), it waits for them; they re-plan it.
    if (overdue_at(cal, d) <= now) {
      bool happens = d.stage->marks != "notes-stand";
      if (!happens) {
        // Refused until the notes are drafted: the milestone waits for them.
        auto t = meeting_transition(m.state, MeetingEvent::stand);
        if (t.ok) {
          m.state = t.to;
          happens = true;
          audit(batch, "system", "meeting.notes_stand", m, d.stage->id, {{"automatic", true}});
        }
      }
      if (happens) {
        auto t = deadline_transition(d.state, DeadlineEvent::meet);
        assert(t.ok && "a milestone that still fires is open, and open deadlines accept meet");
        d.state = t.to;
        d.completed_on = d.due;
        audit(batch, "system", "milestone.met", m, d.stage->id, {{"on", iso(d.due)}, {"automatic", true}});
      }
    }
    index(m.id, d, Instant{});
    save_milestone(batch, m, d);
    save(batch, m);
    return;
  }
  auto items = plan_of(m);
  auto item = std::find_if(items.begin(), items.end(), [&](const PlannedItem& i) { return i.stage == d.stage; });
  if (item == items.end()) return;
  const int reminded_before = d.reminders_sent;
  Emit emit{[&](const std::string& kind, int index_, int repeat, const std::vector<std::string>& roles, Instant at) {
              notify(m, &d, kind, index_, repeat, roles, at, now, batch);
            },
            [&](const std::string& kind, std::string details) {
              audit(batch, "system", kind, m, d.stage->id, json::parse(details));
            }};
  fire_deadline(d, *item, cal, now, emit);
  if (d.stage->marks == "papers-published" && reminded_before == 0 && d.reminders_sent > 0) {
    // Only a meeting still scheduled becomes "papers due"; later ones are past it.
    auto t = meeting_transition(m.state, MeetingEvent::papers_near);
    if (t.ok) {
      m.state = t.to;
      audit(batch, "system", "meeting.papers_due", m, d.stage->id, {{"due", iso(d.due)}});
    }
  }
  schedule(m, d);
  save_milestone(batch, m, d);
  save(batch, m);
}

void Engine::notify(const Meeting& m, const Deadline* d, const std::string& kind, int index_, int repeat,
                    const std::vector<std::string>& roles, Instant at, Instant now, store::Batch& batch) {
  Notice n;
  n.kind = kind;
  n.about = OwnerKind::meeting;
  n.ref = m.id;
  n.meeting = m.date;
  n.type = m.cycle->id;
  n.type_title = m.cycle->body;
  if (d != nullptr) {
    n.item = d->stage->id;
    n.item_title = d->stage->title;
    n.due = d->due;
  }
  n.late = now - at > kLateAfter;
  if (kind == "escalation") n.rung = index_ + 1;
  n.repeat = repeat;
  const std::string key = m.id + ":" + (d != nullptr ? d->stage->id : std::string("meeting")) + ":" + kind + ":" +
                          std::to_string(index_ + 1) + (repeat > 0 ? "." + std::to_string(repeat) : std::string{}) +
                          ":" + iso(m.date) + ":";
  std::set<std::string> addressed;
  for (const auto& role : roles) {
    n.role = role;
    std::vector<std::string> people;
    for (const auto* p : config_->directory.holders(role)) people.push_back(p->id);
    queue(n, key, people, addressed, now, batch);
  }
}

// --- persistence ---------------------------------------------------------------

void Engine::audit(store::Batch& b, const std::string& actor, const std::string& kind, const Meeting& m,
                   const std::string& milestone, json details) const {
  details["meeting"] = iso(m.date);
  record(b, actor, kind, m.id, milestone, details, m.version);
}

void Engine::save(store::Batch& b, const Meeting& m) const {
  store::MeetingRecord rec{m.id,
                           m.cycle->id,
                           m.version,
                           iso(m.planned),
                           iso(m.date),
                           to_string(m.state),
                           json(m.attended).dump(),
                           m.quorate,
                           json(m.amendments).dump(),
                           m.moved_reason};
  b.meetings.push_back(std::move(rec));  // the last save of a row in a batch wins
}

void Engine::save_milestone(store::Batch& b, const Meeting& m, const Deadline& d) const {
  b.deadlines.push_back(to_record(m.id, d));  // the last save of a row in a batch wins
}

}  // namespace docket::daemon
