// The review commands: start, complete, pause, resume, extend, waive and
// cancel (who may run them is the command table's), and the stage-owner rule
// the table's `complete` applies. Each checks everything before it changes
// anything, so a refusal leaves memory and the batch as they were.

#include "daemon/engine.h"

#include <algorithm>

#include "daemon/input_rules.h"
#include "daemon/json_text.h"
#include "daemon/review_text.h"

namespace docket::daemon {

using namespace docket::workflows;
using nlohmann::json;

namespace {

bool has_clock_hours(const ReviewDefinition& def) {
  return std::any_of(def.stages.begin(), def.stages.end(),
                     [](const Stage& s) { return s.due.offset.unit == Unit::hours; });
}

// The same objects as JSON text (json_text.h); std::map orders the keys as
// nlohmann does.
std::string json_text(const std::map<std::string, std::string>& m) {
  JsonObject j;
  for (const auto& [k, v] : m) j.add(k, v);
  return j.done();
}

std::string json_text(const std::map<std::string, Day>& m) {
  JsonObject j;
  for (const auto& [k, v] : m) j.add(k, iso(v));
  return j.done();
}

// Why one of `r`'s open deadlines (other than those in state `skip`)
// refuses `e`, if one does: a review-wide command checks every deadline
// before it changes any, so a refused event is an error, never ignored.
std::optional<std::string> refusal(const Review& r, DeadlineEvent e,
                                   std::optional<DeadlineState> skip = std::nullopt) {
  for (const auto& d : r.deadlines) {
    if (is_final(d.state) || d.state == skip) continue;
    auto t = deadline_transition(d.state, e);
    if (!t.ok) return "stage '" + d.stage->id + "' of " + r.ref + ": " + t.error;
  }
  return std::nullopt;
}

}  // namespace

std::optional<Engine::StageOwner> Engine::stage_owner(const Caller& who, const std::string& ref,
                                                    const std::string& stage) {
  const Review* r = find(ref);
  const Stage* s = r == nullptr ? nullptr : r->definition->stage(stage);
  if (s == nullptr) return std::nullopt;
  auto assigned = r->assignments.find(s->owner);
  const bool is_caller = !s->owner.empty() && ((assigned != r->assignments.end() && assigned->second == who.person) ||
                                               who.holds(s->owner));
  return StageOwner{s->owner, is_caller};
}

// --- commands --------------------------------------------------------------

Result Engine::start(const Caller& who, const StartArgs& a, store::Batch& batch) {
  auto def_it = config_->reviews.find(a.workflow);
  if (def_it == config_->reviews.end()) {
    if (config_->cycles.count(a.workflow) > 0) {
      return Result::fail("'" + a.workflow + "' is a meeting cycle; meetings are created from its schedule, not started");
    }
    std::vector<std::string> ids;
    for (const auto& [id, d] : config_->reviews) ids.push_back(id);
    return Result::fail(unknown("review type", a.workflow, ids));
  }
  const ReviewDefinition& def = def_it->second;
  const Calendar& cal = config_->calendar_of(def);
  if (auto bad = a.follow_on ? follow_on_ref_problem(a.ref) : ref_problem(a.ref)) return Result::fail(*bad);
  if (const Review* existing = cache_.exists(a.ref) ? find(a.ref) : nullptr) {
    return Result::fail("a review with reference " + a.ref + " already exists (" + existing->workflow + ", started " +
                        start_text(*existing) + ")");
  }
  if (auto bad = text_problem(a.title, kMaxTitle, "the title")) return Result::fail(*bad);
  Review r;
  r.ref = a.ref;
  r.workflow = def.id;
  r.version = def.version;
  r.title = a.title;
  r.config = config_;
  r.definition = &def;
  r.created_at = clock_.now().time_since_epoch().count();
  auto local_now = date::floor<std::chrono::minutes>(cal.zone()->to_local(clock_.now()));
  if (a.on.empty()) {
    r.start_has_time = has_clock_hours(def);
    r.start = r.start_has_time ? local_now : LocalTime{date::floor<date::days>(local_now).time_since_epoch()};
  } else {
    auto t = parse_local_time(a.on);
    if (!t) return Result::fail("--on must be YYYY-MM-DD or YYYY-MM-DDTHH:MM, found '" + a.on + "'");
    if (*t > local_now) return Result::fail("a review cannot start in the future (" + a.on + ")");
    const Day day{date::floor<date::days>(*t).time_since_epoch()};
    if (auto bad = day_problem(cal, day, today(cal), "the start")) return Result::fail(*bad);
    r.start = *t;
    r.start_has_time = a.on.size() > 10;
  }
  for (const auto& [role, person] : a.assign) {
    if (std::find(def.review_roles.begin(), def.review_roles.end(), role) == def.review_roles.end()) {
      return Result::fail(def.review_roles.empty() ? def.id + " assigns no roles per review"
                                                   : unknown("role to assign", role, def.review_roles));
    }
    if (config_->directory.person(person) == nullptr) {
      return Result::fail(unknown("person", person, config_->directory.person_ids()) + " in --assign " + role + "=" +
                          person);
    }
    r.assignments[role] = person;
  }
  for (const auto& [name, value] : a.dates) {
    std::vector<std::string> names;
    for (const auto& d : def.dates) names.push_back(d.name);
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      return Result::fail(names.empty() ? def.id + " takes no dates" : unknown("date", name, names));
    }
    auto day = parse_day(value);
    if (!day) return Result::fail("--date " + name + " must be YYYY-MM-DD, found '" + value + "'");
    if (auto bad = day_problem(cal, *day, today(cal), "--date " + name)) return Result::fail(*bad);
    r.dates[name] = *day;
  }
  for (const auto& d : def.dates) {
    if (r.dates.count(d.name) == 0) {
      return Result::fail(def.id + " needs --date " + d.name + "=YYYY-MM-DD (" + d.description + ")");
    }
  }
  Review& stored = cache_.add(std::move(r));
  JsonObject details;
  details.add_raw("assign", json_text(stored.assignments))
      .add("clock", clock_.mode())
      .add_raw("dates", json_text(stored.dates));
  if (!a.on.empty()) details.add("on", a.on);
  details.add("start", start_text(stored)).add("title", stored.title).add("version", def.version).add("workflow", def.id);
  record_text(batch, who.person, "review.started", stored.ref, "", details.done(), stored.version);
  save(batch, stored);
  refresh(stored, batch, who.person);
  Result started{true, "", json::object(), daemon::review_text(stored, today(cal))};
  started.text_shows = stored.ref;
  return started;
}

Result Engine::complete(const Caller& who, const std::string& ref, const std::string& stage_id,
                        const std::string& outcome, const std::string& on, store::Batch& batch) {
  Review* r = find(ref);
  if (r == nullptr) return Result::fail("no review with reference " + ref);
  const Stage* s = r->definition->stage(stage_id);
  if (s == nullptr) {
    std::vector<std::string> ids;
    for (const auto& st : r->definition->stages) ids.push_back(st.id);
    return Result::fail(unknown("stage", stage_id, ids) + " of " + ref + " (" + r->workflow + ")");
  }
  if (r->state == ReviewState::closed || r->state == ReviewState::cancelled) {
    return Result::fail("review " + ref + " is " + to_string(r->state) + "; its stages cannot be completed");
  }
  Deadline* d = r->deadline(stage_id);
  if (d == nullptr) {
    return Result::fail("stage '" + stage_id + "' of " + ref + " has not opened yet: it opens when " + s->opens_after +
                        " is completed" + (s->opens_on_outcome.empty() ? "" : " with outcome '" + s->opens_on_outcome + "'"));
  }
  if (!s->outcomes.empty() && outcome.empty()) {
    std::vector<std::string> ids;
    for (const auto& o : s->outcomes) ids.push_back(o.id);
    return Result::fail("stage '" + stage_id + "' needs --outcome, one of: " + one_of(ids));
  }
  const Outcome* chosen = nullptr;
  if (!outcome.empty()) {
    std::vector<std::string> ids;
    for (const auto& o : s->outcomes) ids.push_back(o.id);
    if (ids.empty()) return Result::fail("stage '" + stage_id + "' has no outcomes; drop --outcome");
    chosen = s->outcome(outcome);
    if (chosen == nullptr) return Result::fail(unknown("outcome", outcome, ids) + " for stage '" + stage_id + "'");
  }
  const Calendar& cal = calendar_of(*r);
  Day day = today(cal);
  if (!on.empty()) {
    auto parsed = parse_day(on);
    if (!parsed) return Result::fail("--on must be YYYY-MM-DD, found '" + on + "'");
    if (*parsed > day) return Result::fail("--on " + on + " is in the future");
    if (*parsed < d->opened_on) {
      return Result::fail("--on " + on + " is before the stage opened (" + iso(d->opened_on) + ")");
    }
    day = *parsed;
  }
  auto t = deadline_transition(d->state, DeadlineEvent::meet);
  if (!t.ok) return Result::fail("stage '" + stage_id + "' of " + ref + ": " + t.error);
  unschedule(*r, *d);
  d->state = t.to;
  d->completed_on = day;
  d->outcome = outcome;
  const int late_by = working_days_between(cal, d->due, day);
  json details{{"on", iso(day)}, {"due", iso(d->due)}, {"working_days_late", std::max(0, late_by)}};
  if (chosen != nullptr) details["outcome"] = chosen->id;
  audit(batch, who.person, "stage.completed", *r, stage_id, details);
  save(batch, *r, *d);
  refresh(*r, batch, who.person);
  json data = review_json(*r);
  if (chosen != nullptr && !chosen->start_workflow.empty()) start_follow_on(who, *r, stage_id, *chosen, day, data, batch);
  return {true, "", data};
}

void Engine::start_follow_on(const Caller& who, Review& r, const std::string& stage_id, const Outcome& chosen, Day day,
                             json& data, store::Batch& batch) {
  StartArgs child;
  child.workflow = chosen.start_workflow;
  child.ref = r.ref + "/" + chosen.start_workflow;
  child.on = iso(day);
  child.title = r.title;
  child.follow_on = true;
  if (auto child_def = config_->reviews.find(chosen.start_workflow); child_def != config_->reviews.end()) {
    for (const auto& role : child_def->second.review_roles) {
      if (r.assignments.count(role) > 0) child.assign[role] = r.assignments.at(role);
    }
  }
  Caller system{"system", {"administrator"}};
  Result started = start(system, child, batch);
  if (started.ok) {
    Review* c = find(child.ref);
    c->parent_ref = r.ref;
    save(batch, *c);
    data["started"] = child.ref;
  } else {
    audit(batch, who.person, "review.not_started", r, stage_id, {{"workflow", child.workflow}, {"reason", started.error}});
    data["not_started"] = started.error;
  }
}

Result Engine::pause(const Caller& who, const std::string& ref, const std::string& reason, store::Batch& batch) {
  Review* r = find(ref);
  if (r == nullptr) return Result::fail("no review with reference " + ref);
  if (!r->definition->pausable) {
    return Result::fail(r->workflow + " reviews cannot be paused (no pausable = true in " + r->definition->file + ")");
  }
  if (reason.empty()) return Result::fail("a pause needs --reason");
  if (auto bad = text_problem(reason, kMaxReason, "the reason")) return Result::fail(*bad);
  auto t = review_transition(r->state, ReviewEvent::pause);
  if (!t.ok) return Result::fail("review " + ref + ": " + t.error);
  // Every open deadline of an open review accepts the suspension; one that
  // does not (a row written by hand) is refused before anything changes.
  if (auto refused = refusal(*r, DeadlineEvent::suspend)) return Result::fail(*refused);
  r->state = t.to;
  r->paused_on = today(calendar_of(*r));
  for (auto& d : r->deadlines) {
    if (is_final(d.state)) continue;
    d.state = deadline_transition(d.state, DeadlineEvent::suspend).to;
    unschedule(*r, d);
    d.next_fire = Instant{};
    save(batch, *r, d);
  }
  audit(batch, who.person, "review.paused", *r, "", {{"reason", reason}});
  // Tell whoever the definition names (e.g. the national Panel for an LCSPR).
  if (!r->definition->pause_notify.empty() && !r->deadlines.empty()) {
    // Keyed by the day, so each pause is told once however often it is retried.
    const int day_index = static_cast<int>(r->paused_on->time_since_epoch().count());
    notify(*r, r->deadlines.front(), "paused", day_index, 0, r->definition->pause_notify, clock_.now(), clock_.now(),
           batch);
  }
  save(batch, *r);
  return {true, "", review_json(*r)};
}

Result Engine::resume(const Caller& who, const std::string& ref, store::Batch& batch) {
  Review* r = find(ref);
  if (r == nullptr) return Result::fail("no review with reference " + ref);
  auto t = review_transition(r->state, ReviewEvent::resume);
  if (!t.ok) return Result::fail("review " + ref + ": " + t.error);
  // A stage that opened during the pause (its opener completed meanwhile) is
  // pending, never suspended: it has nothing to resume.
  if (auto refused = refusal(*r, DeadlineEvent::resume, DeadlineState::pending)) return Result::fail(*refused);
  const Calendar& cal = calendar_of(*r);
  const Day today_ = today(cal);
  const Day paused_on = r->paused_on.value_or(today_);
  // The clock resumes with the days already run: each deadline keeps the time
  // it had left when the pause began, counted in its own unit. Deadlines that
  // count from another open deadline follow it.
  for (auto& d : r->deadlines) {
    if (is_final(d.state)) continue;
    const Anchor& a = d.stage->due.anchor;
    bool follows_open = a.kind == AnchorKind::item_due && r->deadline(a.name) != nullptr &&
                        !is_final(r->deadline(a.name)->state);
    if (!follows_open) {
      Day moved;
      if (d.stage->due.offset.unit == Unit::working_days) {
        int left = working_days_between(cal, paused_on, d.due);
        moved = shift(cal, today_, Duration{std::abs(left), Unit::working_days},
                      left >= 0 ? Direction::after : Direction::before)
                    .day;
      } else {
        moved = d.due + (today_ - paused_on);
      }
      d.fixed_due = moved;
      if (d.due_at) d.due_at = *d.due_at + (today_ - paused_on);
    }
    if (d.state != DeadlineState::pending) d.state = deadline_transition(d.state, DeadlineEvent::resume).to;
  }
  r->state = t.to;
  r->paused_on.reset();
  audit(batch, who.person, "review.resumed", *r, "",
        {{"paused_on", iso(paused_on)}, {"days_paused", (today_ - paused_on).count()}});
  save(batch, *r);
  refresh(*r, batch, who.person);
  // Notices already past before the pause are not sent again.
  for (auto& d : r->deadlines) {
    if (is_final(d.state)) continue;
    Instant overdue_at = d.due_at ? instant_of(cal, *d.due_at)
                                  : instant_of(cal, LocalTime{(d.due + date::days{1}).time_since_epoch()});
    if (overdue_at > clock_.now()) {
      d.rungs_sent = 0;
      d.repeats_sent = 0;
    }
    schedule(*r, d);
    save(batch, *r, d);
  }
  return {true, "", review_json(*r)};
}

Result Engine::extend(const Caller& who, const std::string& ref, const std::string& stage_id, const std::string& to,
                      const std::string& reason, store::Batch& batch) {
  Review* r = find(ref);
  if (r == nullptr) return Result::fail("no review with reference " + ref);
  if (!r->definition->extendable) {
    return Result::fail(r->workflow + " deadlines cannot be extended (no extendable = true in " + r->definition->file + ")");
  }
  if (reason.empty()) return Result::fail("an extension needs --reason");
  if (auto bad = text_problem(reason, kMaxReason, "the reason")) return Result::fail(*bad);
  if (r->state == ReviewState::paused) {
    // The pause already stops the clock; a date set now would be moved again on resume.
    return Result::fail("review " + ref + " is paused, so its clock is stopped; resume it before extending a deadline");
  }
  Deadline* d = r->deadline(stage_id);
  if (d == nullptr) {
    return Result::fail(r->definition->stage(stage_id) == nullptr ? "review " + ref + " has no stage '" + stage_id + "'"
                                                                   : "stage '" + stage_id + "' of " + ref + " has not opened yet");
  }
  auto day = parse_day(to);
  if (!day) return Result::fail("--to must be YYYY-MM-DD, found '" + to + "'");
  if (*day <= d->due) return Result::fail("--to " + to + " is not later than the current due date " + iso(d->due));
  if (auto bad = day_problem(calendar_of(*r), *day, today(calendar_of(*r)), "--to")) return Result::fail(*bad);
  auto t = deadline_transition(d->state, DeadlineEvent::extend);
  if (!t.ok) return Result::fail("stage '" + stage_id + "' of " + ref + ": " + t.error);
  const Day from = d->due;
  d->state = t.to;
  d->fixed_due = *day;
  d->due_at.reset();
  d->extended = true;
  d->rungs_sent = 0;
  d->repeats_sent = 0;
  d->reminders_sent = 0;
  audit(batch, who.person, "deadline.extended", *r, stage_id, {{"from", iso(from)}, {"to", iso(*day)}, {"reason", reason}});
  refresh(*r, batch, who.person);
  // Reminders whose time has already passed on the new timeline are not sent.
  const Calendar& cal = calendar_of(*r);
  const auto plan = plan_of(*r);
  if (const PlannedItem* item = item_for(*plan, stage_id)) {
    int passed = 0;
    for (const auto& n : item->reminders) {
      Instant at = n.at ? instant_of(cal, *n.at) : at_notify_time(cal, n.day);
      if (at <= clock_.now()) ++passed;
    }
    d->reminders_sent = passed;
  }
  schedule(*r, *d);
  save(batch, *r, *d);
  return {true, "", review_json(*r)};
}

Result Engine::waive(const Caller& who, const std::string& ref, const std::string& stage_id, const std::string& reason,
                     store::Batch& batch) {
  Review* r = find(ref);
  if (r == nullptr) return Result::fail("no review with reference " + ref);
  if (reason.empty()) return Result::fail("a waiver needs --reason");
  if (auto bad = text_problem(reason, kMaxReason, "the reason")) return Result::fail(*bad);
  if (r->state == ReviewState::closed || r->state == ReviewState::cancelled) {
    return Result::fail("review " + ref + " is " + to_string(r->state) + "; its stages cannot be waived");
  }
  Deadline* d = r->deadline(stage_id);
  if (d == nullptr) {
    return Result::fail(r->definition->stage(stage_id) == nullptr ? "review " + ref + " has no stage '" + stage_id + "'"
                                                                   : "stage '" + stage_id + "' of " + ref + " has not opened yet");
  }
  auto t = deadline_transition(d->state, DeadlineEvent::waive);
  if (!t.ok) return Result::fail("stage '" + stage_id + "' of " + ref + ": " + t.error);
  unschedule(*r, *d);
  d->state = t.to;
  d->completed_on = today(calendar_of(*r));
  audit(batch, who.person, "stage.waived", *r, stage_id, {{"reason", reason}});
  save(batch, *r, *d);
  refresh(*r, batch, who.person);
  return {true, "", review_json(*r)};
}

Result Engine::cancel(const Caller& who, const std::string& ref, const std::string& reason, store::Batch& batch) {
  Review* r = find(ref);
  if (r == nullptr) return Result::fail("no review with reference " + ref);
  if (reason.empty()) return Result::fail("a cancellation needs --reason");
  if (auto bad = text_problem(reason, kMaxReason, "the reason")) return Result::fail(*bad);
  auto t = review_transition(r->state, ReviewEvent::cancel);
  if (!t.ok) return Result::fail("review " + ref + ": " + t.error);
  // Every state but met and waived accepts a waiver (deadline_machine.cc);
  // checked all the same, before anything changes.
  if (auto refused = refusal(*r, DeadlineEvent::waive)) return Result::fail(*refused);
  r->state = t.to;
  for (auto& d : r->deadlines) {
    if (is_final(d.state)) continue;
    unschedule(*r, d);
    d.next_fire = Instant{};
    d.state = deadline_transition(d.state, DeadlineEvent::waive).to;
    save(batch, *r, d);
  }
  audit(batch, who.person, "review.cancelled", *r, "", {{"reason", reason}});
  save(batch, *r);
  return {true, "", review_json(*r)};
}

}  // namespace docket::daemon
