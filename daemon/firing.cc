// Scheduling and firing: when a deadline's next notice falls, and sending
// what is due. Review stages and meeting milestones share fire_deadline();
// the events wait in the timer index (timer_index.h).

#include "daemon/engine.h"

#include <algorithm>
#include <set>

#include "daemon/json_text.h"
#include "daemon/notice.h"
#include "daemon/owner.h"

namespace docket::daemon {

using namespace docket::workflows;

void Engine::unschedule(const Review& r, Deadline& d) { index(r.ref, d, Instant{}); }

Instant Engine::when(const Calendar& cal, const PlannedNotice& n) const {
  return n.at ? instant_of(cal, *n.at) : at_notify_time(cal, n.day);
}

Instant Engine::overdue_at(const Calendar& cal, const Deadline& d) const {
  return d.due_at ? instant_of(cal, *d.due_at) : instant_of(cal, LocalTime{(d.due + date::days{1}).time_since_epoch()});
}

Instant Engine::repeat_at(const Calendar& cal, const PlannedNotice& last, int k) const {
  Duration every = *last.repeat;
  every.count *= k;
  if (last.at) return instant_of(cal, shift_hours(cal, *last.at, every.count, Direction::after));
  return at_notify_time(cal, roll(cal, shift(cal, last.day, every, Direction::after).day, Roll::next_working_day));
}

Instant Engine::next_fire_of(const Deadline& d, const PlannedItem& item, const Calendar& cal) const {
  if (is_final(d.state) || d.state == DeadlineState::suspended) return Instant{};
  Instant next = Instant::max();
  if (d.state == DeadlineState::pending || d.state == DeadlineState::due_soon) {
    if (static_cast<std::size_t>(d.reminders_sent) < item.reminders.size()) {
      next = std::min(next, when(cal, item.reminders[static_cast<std::size_t>(d.reminders_sent)]));
    }
    next = std::min(next, overdue_at(cal, d));
  } else if (static_cast<std::size_t>(d.rungs_sent) < item.escalations.size()) {
    next = std::min(next, when(cal, item.escalations[static_cast<std::size_t>(d.rungs_sent)]));
  } else if (!item.escalations.empty() && item.escalations.back().repeat) {
    next = std::min(next, repeat_at(cal, item.escalations.back(), d.repeats_sent + 1));
  }
  return next == Instant::max() ? Instant{} : next;
}

void Engine::schedule(Review& r, Deadline& d) { schedule(r, d, *plan_of(r)); }

void Engine::schedule(Review& r, Deadline& d, const ReviewPlan& plan) {
  if (r.state != ReviewState::open) {
    index(r.ref, d, Instant{});
    return;
  }
  const PlannedItem* item = item_for(plan, d.stage->id);
  index(r.ref, d, item == nullptr ? Instant{} : next_fire_of(d, *item, calendar_of(r)));
}

std::optional<Instant> Engine::next_fire() {
  const store::TimerKey* k = timers_.earliest();
  if (k == nullptr) return std::nullopt;
  return Instant{std::chrono::seconds{k->at}};
}

// --- notifications ---------------------------------------------------------

std::vector<std::string> Engine::recipients(const Review& r, const std::string& role, std::string& note) const {
  std::vector<std::string> people;
  const Role* def = config_->directory.role(role);
  if (def != nullptr && def->per_review) {
    auto it = r.assignments.find(role);
    if (it != r.assignments.end()) {
      people.push_back(it->second);
    } else {
      // Nobody assigned: the business manager hears instead, so nothing is lost.
      for (const auto* p : config_->directory.holders("business-manager")) people.push_back(p->id);
      note = "role " + role + " is not assigned on this review";
    }
  } else {
    for (const auto* p : config_->directory.holders(role)) people.push_back(p->id);
  }
  return people;
}

void Engine::notify(const Review& r, const Deadline& d, const std::string& kind, int index, int repeat,
                    const std::vector<std::string>& roles, Instant due_instant, Instant now, store::Batch& batch) {
  const Calendar& cal = calendar_of(r);
  Notice n{.kind = kind,
           .about = OwnerKind::review,
           .ref = r.ref,
           .meeting = std::nullopt,
           .type = r.workflow,
           .type_title = r.definition->title,
           .item = d.stage->id,
           .item_title = d.stage->title,
           .due = d.due,
           .due_at = d.due_at,
           .role = {},
           .late = now - due_instant > kLateAfter,
           .rung = kind == "escalation" ? index + 1 : 0,
           .repeat = repeat,
           .note = {},
           .working_days_left = std::nullopt};
  n.working_days_left = n.days_left(cal, today(cal));
  // The same notice (after an extension, for its new due day) is queued once.
  const std::string key = r.ref + ":" + d.stage->id + ":" + kind + ":" + std::to_string(index + 1) +
                          (repeat > 0 ? "." + std::to_string(repeat) : std::string{}) + ":" +
                          (d.extended || d.fixed_due ? iso(d.due) + ":" : std::string{});
  std::set<std::string> addressed;  // a person holding two of the roles hears once
  for (const auto& role : roles) {
    n.role = role;
    n.note.clear();
    queue(n, key, recipients(r, role, n.note), addressed, now, batch);
  }
}

void Engine::queue(const Notice& n, const std::string& key, const std::vector<std::string>& people,
                   std::set<std::string>& addressed, Instant now, store::Batch& batch) const {
  std::string payload;  // the same for everyone told as this role
  for (const auto& person : people) {
    if (!addressed.insert(person).second) continue;
    if (payload.empty()) payload = notice_payload(n);
    store::OutboxMessage m;
    m.key = key + person;
    m.created_at = now.time_since_epoch().count();
    m.kind = n.kind;
    m.ref = n.ref;
    m.stage = n.item;
    m.person = person;
    m.role = n.role;
    m.payload = payload;
    m.late = n.late;
    batch.outbox.push_back(std::move(m));
  }
}

void Engine::fire_deadline(Deadline& d, const PlannedItem& item, const Calendar& cal, Instant now, const Emit& emit) {
  auto step = [&](DeadlineEvent e) {
    auto t = deadline_transition(d.state, e);
    if (t.ok) d.state = t.to;
    return t.ok;
  };
  auto late = [&](Instant at) { return now - at > kLateAfter; };
  if (d.state == DeadlineState::pending || d.state == DeadlineState::due_soon) {
    // Of several reminders due together (after an outage) only the latest goes.
    int latest = -1;
    for (auto i = static_cast<std::size_t>(d.reminders_sent); i < item.reminders.size(); ++i) {
      if (when(cal, item.reminders[i]) <= now) latest = static_cast<int>(i);
    }
    if (latest >= 0) {
      const auto& n = item.reminders[static_cast<std::size_t>(latest)];
      Instant at = when(cal, n);
      step(DeadlineEvent::remind);
      emit.notify("reminder", latest, 0, n.to, at);
      emit.audit("deadline.reminder", JsonObject{}
                                          .add("before", n.why)
                                          .add("late", late(at))
                                          .add("reminder", latest + 1)
                                          .add("skipped", latest - d.reminders_sent)
                                          .add("to", n.to)
                                          .done());
      d.reminders_sent = latest + 1;
    }
    if (overdue_at(cal, d) <= now && step(DeadlineEvent::fall_overdue)) {
      emit.audit("deadline.overdue", JsonObject{}.add("due", iso(d.due)).done());
    }
  }
  if (d.state == DeadlineState::overdue || d.state == DeadlineState::escalated) {
    // Every rung passed goes out, each once.
    while (static_cast<std::size_t>(d.rungs_sent) < item.escalations.size()) {
      const auto& n = item.escalations[static_cast<std::size_t>(d.rungs_sent)];
      Instant at = when(cal, n);
      if (at > now) break;
      step(DeadlineEvent::escalate);
      emit.notify("escalation", d.rungs_sent, 0, n.to, at);
      emit.audit("deadline.escalated", JsonObject{}
                                           .add("after", n.why)
                                           .add("late", late(at))
                                           .add("rung", d.rungs_sent + 1)
                                           .add("to", n.to)
                                           .done());
      ++d.rungs_sent;
    }
    // Repeats of the last rung that fell due together go out once.
    if (!item.escalations.empty() && static_cast<std::size_t>(d.rungs_sent) == item.escalations.size() &&
        item.escalations.back().repeat) {
      const PlannedNotice& last = item.escalations.back();
      int passed = d.repeats_sent;
      Instant first_at{};
      for (int k = d.repeats_sent + 1; k < d.repeats_sent + 1000; ++k) {
        Instant at = repeat_at(cal, last, k);
        if (at > now) break;
        if (passed == d.repeats_sent) first_at = at;
        passed = k;
      }
      if (passed > d.repeats_sent) {
        step(DeadlineEvent::escalate);
        emit.notify("escalation", d.rungs_sent - 1, passed, last.to, first_at);
        emit.audit("deadline.escalated", JsonObject{}
                                             .add("late", late(first_at))
                                             .add("repeat", passed)
                                             .add("rung", d.rungs_sent)
                                             .add("to", last.to)
                                             .done());
        d.repeats_sent = passed;
      }
    }
  }
}

void Engine::fire(Review& r, Deadline& d, Instant now, store::Batch& batch) {
  const auto plan = plan_of(r);
  const PlannedItem* item = item_for(*plan, d.stage->id);
  if (item == nullptr) return;
  Emit emit{[&](const std::string& kind, int index, int repeat, const std::vector<std::string>& roles, Instant at) {
              notify(r, d, kind, index, repeat, roles, at, now, batch);
            },
            [&](const std::string& kind, std::string details) {
              record_text(batch, "system", kind, r.ref, d.stage->id, std::move(details), r.version);
            }};
  fire_deadline(d, *item, calendar_of(r), now, emit);
  schedule(r, d, *plan);
  // Firing moves nothing but the timing columns. A review's events fire one
  // after another (fire_through), so a row fired twice in this batch is
  // among the review's last saves: it is written once, as it ends.
  cache_.changed(r);
  store::DeadlineRecord rec = to_record(r.ref, d);
  rec.timing_only = true;
  for (auto it = batch.deadlines.rbegin(); it != batch.deadlines.rend() && it->ref == r.ref; ++it) {
    if (it->stage != rec.stage) continue;
    rec.timing_only = it->timing_only;  // a row saved whole is written whole
    *it = std::move(rec);
    return;
  }
  batch.deadlines.push_back(std::move(rec));
}

bool Engine::fire_through(Instant target, VirtualClock& clock, store::Batch& batch, std::size_t limit) {
  const auto target_s = target.time_since_epoch().count();
  const Instant floor = clock.now();  // an event due before now fires now, late
  Instant ensured{};
  for (std::size_t fired = 0;;) {
    const store::TimerKey* earliest = timers_.earliest();
    if (earliest == nullptr || earliest->at > target_s) return false;
    const store::TimerKey k = *earliest;
    const Instant at = std::max(floor, Instant{std::chrono::seconds{k.at}});
    clock.set(at);  // every event before this one has fired
    if (fired >= limit) return true;
    if (at != ensured) ensure_meetings(batch);  // a no-op unless the financial year has turned
    ensured = at;
    timers_.pop_earliest();
    if (owner_kind(k.ref) == OwnerKind::meeting) {
      if (fire_meeting(k, at, batch)) ++fired;
      continue;
    }
    Review* r = find(k.ref);
    if (r == nullptr) continue;
    Deadline* d = r->deadline(k.stage);
    if (d == nullptr || d->next_fire != Instant{std::chrono::seconds{k.at}}) continue;  // moved since it was read
    // This review's events up to the target, in the order of their timer
    // keys: by time, then stage.
    for (;;) {
      Deadline* next = nullptr;
      for (auto& x : r->deadlines) {
        if (x.next_fire == Instant{} || x.next_fire > target) continue;
        if (next == nullptr || x.next_fire < next->next_fire ||
            (x.next_fire == next->next_fire && x.stage->id < next->stage->id)) {
          next = &x;
        }
      }
      if (next == nullptr) break;
      const Instant when = std::max(floor, next->next_fire);
      clock.set(when);
      fire(*r, *next, when, batch);
      ++fired;
    }
  }
}

bool Engine::fire_meeting(const store::TimerKey& k, Instant now, store::Batch& batch) {
  auto m = meetings_.find(k.ref);
  if (m == meetings_.end()) return false;
  const Instant at{std::chrono::seconds{k.at}};
  auto d = std::find_if(m->second.milestones.begin(), m->second.milestones.end(),
                        [&](const Deadline& x) { return x.stage->id == k.stage; });
  if (d == m->second.milestones.end() || d->next_fire != at) return false;
  fire(m->second, *d, now, batch);
  return true;
}

bool Engine::fire_due(Instant now, store::Batch& batch, std::size_t limit) {
  ensure_meetings(batch);  // a no-op unless the financial year has turned
  for (std::size_t fired = 0;; ++fired) {
    const store::TimerKey* earliest = timers_.earliest();
    if (earliest == nullptr || earliest->at > now.time_since_epoch().count()) return false;
    if (fired == limit) return true;
    const store::TimerKey k = *earliest;
    timers_.pop_earliest();
    // Each deadline fires with everything due by `now`, so its next event
    // (indexed again by fire) is later than now.
    const Instant at{std::chrono::seconds{k.at}};
    if (owner_kind(k.ref) == OwnerKind::meeting) {
      fire_meeting(k, now, batch);
      continue;
    }
    Review* r = find(k.ref);
    if (r == nullptr) continue;
    Deadline* d = r->deadline(k.stage);
    if (d != nullptr && d->next_fire == at) fire(*r, *d, now, batch);
  }
}

}  // namespace docket::daemon
