#include "daemon/engine.h"

#include "daemon/input_rules.h"
#include "daemon/json_text.h"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

namespace docket::daemon {

using namespace docket::workflows;
using nlohmann::json;

namespace {

constexpr std::chrono::minutes kLateAfter{5};
// Distinct plans kept (see Engine::plan_of); a few MiB at most.
constexpr std::size_t kSharedPlans = 4096;

store::TimerKey timer_key(Instant at, const std::string& owner, const std::string& stage) {
  return {at.time_since_epoch().count(), owner, stage};
}

// Commands and the roles that may run them; "*" is anyone in the directory.
// `complete` is also open to whoever holds the stage's owner role.
const std::map<std::string, std::vector<std::string>> kPermissions = {
    {"start", {"administrator", "business-manager", "partnership-team", "la-safeguarding-lead", "sab-business-unit",
               "csp-chair", "cdop-coordinator"}},
    {"complete", {"administrator", "business-manager", "partnership-team"}},
    {"pause", {"administrator", "business-manager", "executive-chair", "independent-chair"}},
    {"resume", {"administrator", "business-manager", "executive-chair", "independent-chair"}},
    {"cancel", {"administrator", "business-manager", "executive-chair", "independent-chair"}},
    {"extend", {"business-manager", "executive-chair", "independent-chair", "rlt-children-chair", "rlt-adults-chair",
                "csp-chair", "sar-panel-chair"}},
    {"waive", {"administrator", "business-manager"}},
};

bool has_clock_hours(const ReviewDefinition& def) {
  return std::any_of(def.stages.begin(), def.stages.end(),
                     [](const Stage& s) { return s.due.offset.unit == Unit::hours; });
}

std::string start_text(const Review& r) {
  return r.start_has_time ? iso(r.start) : iso(Day{date::floor<date::days>(r.start).time_since_epoch()});
}

Day start_day(const Review& r) { return Day{date::floor<date::days>(r.start).time_since_epoch()}; }

json to_json(const std::map<std::string, std::string>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

json to_json(const std::map<std::string, Day>& m) {
  json j = json::object();
  for (const auto& [k, v] : m) j[k] = iso(v);
  return j;
}

// The same objects as JSON text (json_text.h); std::map orders the keys as
// nlohmann does.
std::string json_text(const std::map<std::string, std::string>& m,
                      JsonObject::Utf8 utf8 = JsonObject::Utf8::strict) {
  JsonObject j(utf8);
  for (const auto& [k, v] : m) j.add(k, v);
  return j.done();
}

std::string json_text(const std::map<std::string, Day>& m, JsonObject::Utf8 utf8 = JsonObject::Utf8::strict) {
  JsonObject j(utf8);
  for (const auto& [k, v] : m) j.add(k, iso(v));
  return j.done();
}

// A planned notice and the instant it goes out.
struct Notice {
  Instant at;
  PlannedNotice planned;
};

struct Timeline {
  std::vector<Notice> reminders;
  std::vector<Notice> rungs;
  Instant overdue_at{};
};

}  // namespace

bool Caller::holds(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Deadline* Review::deadline(const std::string& stage_id) {
  auto it = std::find_if(deadlines.begin(), deadlines.end(), [&](const Deadline& d) { return d.stage->id == stage_id; });
  return it == deadlines.end() ? nullptr : &*it;
}

Engine::Engine(std::shared_ptr<const Config> config, const Clock& clock, store::Store* store)
    : config_(std::move(config)), clock_(clock), store_(store) {
  drained_ = store_ == nullptr;
}

Review* Engine::find(const std::string& ref) {
  auto it = reviews_.find(ref);
  if (it != reviews_.end()) return &it->second;
  if (store_ == nullptr || ref.starts_with('@')) return nullptr;
  auto stored = store_->review_with_deadlines(ref);
  if (!stored) return nullptr;
  return load_review(stored->review, stored->deadlines);
}

Day Engine::today(const Calendar& cal) const {
  auto local = cal.zone()->to_local(clock_.now());
  return Day{date::floor<date::days>(local).time_since_epoch()};
}

Instant Engine::instant_of(const Calendar& cal, LocalTime t) const {
  const date::time_zone* tz = cal.zone();
  auto info = tz->get_info(t);
  if (info.result == date::local_info::nonexistent) return date::floor<std::chrono::seconds>(info.first.end);
  return date::floor<std::chrono::seconds>(tz->to_sys(t, date::choose::earliest));
}

Instant Engine::at_notify_time(const Calendar& cal, Day d) const {
  return instant_of(cal, LocalTime{d.time_since_epoch()} + config_->daemon.notify_at);
}

// --- recovery --------------------------------------------------------------

const ReviewDefinition* Engine::definition_for(const store::ReviewRecord& rec, Review& r) {
  auto def = config_->reviews.find(rec.workflow);
  const ReviewDefinition* current = def == config_->reviews.end() ? nullptr : &def->second;
  if (current != nullptr && current->version == rec.version) return current;
  // The file has changed since this review started: keep it on its own
  // version, read once from the stored text.
  auto pin = pinned_.find(rec.version);
  if (pin == pinned_.end()) {
    std::shared_ptr<const ReviewDefinition> loaded;
    auto text = store_ != nullptr ? store_->definition(rec.version) : std::nullopt;
    if (text) {
      Diagnostics diags;
      auto old = read_review_text(*config_, text->file, text->text, diags);
      if (old) {
        old->version = rec.version;
        old->text = text->text;
        loaded = std::make_shared<const ReviewDefinition>(std::move(*old));
      } else if (current != nullptr) {
        spdlog::warn("recover definition version {} of {} no longer fits the configuration ({}); its reviews run on "
                     "the current version {}",
                     rec.version, rec.workflow, format(diags.sorted().front()), current->version);
      }
    } else if (current != nullptr) {
      spdlog::warn("recover definition version {} of {} is not stored; its reviews run on the current version {}",
                   rec.version, rec.workflow, current->version);
    }
    pin = pinned_.emplace(rec.version, std::move(loaded)).first;
  }
  if (pin->second) {
    r.pinned = pin->second;
    return r.pinned.get();
  }
  return current;
}

Review* Engine::load_review(const store::ReviewRecord& rec, const std::vector<store::DeadlineRecord>& rows) {
  Review r;
  r.config = config_;
  r.definition = definition_for(rec, r);
  if (r.definition == nullptr) {
    spdlog::warn("recover review {}: workflow '{}' is no longer defined; left as it is", rec.ref, rec.workflow);
    return nullptr;
  }
  r.ref = rec.ref;
  r.workflow = rec.workflow;
  r.version = r.definition->version;
  r.title = rec.title;
  r.parent_ref = rec.parent_ref;
  r.state = parse_review_state(rec.state).value_or(ReviewState::open);
  r.start = *parse_local_time(rec.start);
  r.start_has_time = rec.start.size() > 10;
  if (rec.assignments != "{}") {
    const json assignments = json::parse(rec.assignments);
    for (const auto& [k, v] : assignments.items()) r.assignments[k] = v.get<std::string>();
  }
  if (rec.dates != "{}") {
    const json dates = json::parse(rec.dates);
    for (const auto& [k, v] : dates.items()) r.dates[k] = *parse_day(v.get<std::string>());
  }
  if (!rec.paused_on.empty()) r.paused_on = parse_day(rec.paused_on);
  r.created_at = rec.created_at;
  ++reviews_read_;
  r.deadlines.reserve(rows.size());
  for (const auto& row : rows) {
    const Stage* stage = r.definition->stage(row.stage);
    if (stage == nullptr) {
      spdlog::warn("recover review {}: stage '{}' is no longer defined; skipped", rec.ref, row.stage);
      continue;
    }
    Deadline d = from_record(row, stage);
    // The stored next_fire is what schedule() computed when the row was saved;
    // trusting it keeps loading free of planning. If the configuration has
    // moved the time since (notify_at), the early wake-up finds nothing due
    // and re-plans then. The event is in timed_ already if the cursor has
    // passed it, and top_up() reads it from the store when it gets there.
    if (row.next_fire != 0 && r.state == ReviewState::open) d.next_fire = Instant{std::chrono::seconds{row.next_fire}};
    r.deadlines.push_back(d);
  }
  // A definition's stages live in one vector, so address order is definition order.
  std::sort(r.deadlines.begin(), r.deadlines.end(), [](const Deadline& x, const Deadline& y) { return x.stage < y.stage; });
  return &reviews_.emplace(r.ref, std::move(r)).first->second;
}

void Engine::committed() {
  committed_through_ = generation_++;
  evict();
}

void Engine::committed(std::uint64_t sealed) {
  committed_through_ = std::max(committed_through_, sealed);
  evict();
}

void Engine::evict() {
  if (store_ == nullptr || reviews_.size() <= limits_.cached_reviews) return;
  for (auto it = reviews_.begin(); it != reviews_.end() && reviews_.size() > limits_.cached_reviews / 2;) {
    if (uncommitted(it->second)) {
      ++it;
      continue;
    }
    // Events up to the cursor stay: the store is not read again below it.
    for (const auto& d : it->second.deadlines) {
      if (d.next_fire == Instant{}) continue;
      auto k = timer_key(d.next_fire, it->first, d.stage->id);
      if (cursor_ < k && timed_.erase(k) > 0) drained_ = false;  // the store holds it now
    }
    it = reviews_.erase(it);
  }
}

void Engine::top_up() {
  while (!drained_ && (timed_.empty() || cursor_ < *timed_.begin())) {
    auto rows = store_->timers_after(cursor_, limits_.timer_chunk);
    if (!rows.empty()) cursor_ = rows.back();
    for (auto& k : rows) {
      // Meetings have every timed event in memory. A review changed since the
      // last commit may have moved this one: fire_due() skips an event its
      // deadline no longer has.
      if (!k.ref.starts_with('@')) timed_.insert(std::move(k));
    }
    // Everything stored is in memory now; what reviews change later is in
    // memory too, until evict() lets it go.
    drained_ = rows.size() < static_cast<std::size_t>(limits_.timer_chunk);
  }
}

json Engine::reload(std::shared_ptr<const Config> config) {
  json changed = json::array();
  for (const auto& [id, def] : config->reviews) {
    auto old = config_->reviews.find(id);
    if (old == config_->reviews.end()) {
      changed.push_back({{"workflow", id}, {"to", def.version}});
    } else if (old->second.version != def.version) {
      changed.push_back({{"workflow", id}, {"from", old->second.version}, {"to", def.version}});
    }
  }
  for (const auto& [id, def] : config_->reviews) {
    if (config->reviews.count(id) == 0) changed.push_back({{"workflow", id}, {"from", def.version}, {"removed", true}});
  }
  std::int64_t kept = 0;
  auto on_earlier = [&](const std::string& workflow, const std::string& version) {
    auto now = config->reviews.find(workflow);
    return now == config->reviews.end() || now->second.version != version;
  };
  if (store_ != nullptr) {
    for (const auto& [workflow, version, count] : store_->running_versions()) {
      if (on_earlier(workflow, version)) kept += count;
    }
  } else {
    for (const auto& [ref, r] : reviews_) {
      if ((r.state == ReviewState::open || r.state == ReviewState::paused) && on_earlier(r.workflow, r.version)) ++kept;
    }
  }
  config_ = std::move(config);
  pinned_.clear();  // read against the new configuration when next needed
  plans_.clear();   // and let the plans of earlier configurations go
  meetings_ensured_for_ = 0;  // new or changed cycles get their meetings at the next ensure
  return {{"config", config_->hash}, {"changed", changed}, {"reviews_on_earlier_versions", kept}};
}

std::vector<store::DefinitionText> Engine::definitions_of(const Config& config, std::int64_t now) {
  std::vector<store::DefinitionText> out;
  for (const auto& [id, def] : config.reviews) out.push_back({def.version, id, def.file, def.text, now});
  return out;
}

// --- plans and timelines ---------------------------------------------------

std::shared_ptr<const ReviewPlan> Engine::plan_of(const Review& r) {
  // The key: the definition and configuration by address (SharedPlan keeps
  // both alive), then every input plan_review reads.
  std::string key;
  auto put = [&key](const auto& v) { key.append(reinterpret_cast<const char*>(&v), sizeof v); };
  auto put_text = [&key, &put](const std::string& t) {
    put(t.size());
    key += t;
  };
  put(r.definition);
  put(r.config.get());
  put(r.start.time_since_epoch().count());
  put(r.start_has_time);
  for (const auto& [name, day] : r.dates) {
    put_text(name);
    put(day.time_since_epoch().count());
  }
  key += '|';
  for (const auto& d : r.deadlines) {
    if (!d.completed_on && !d.fixed_due) continue;
    put(d.stage);
    put(d.completed_on ? d.completed_on->time_since_epoch().count() : -1);
    put(d.fixed_due ? d.fixed_due->time_since_epoch().count() : -1);
    put(d.completed_on.has_value());
    put(d.fixed_due.has_value());
  }
  if (auto it = plans_.find(key); it != plans_.end()) return it->second.plan;
  PlanInputs in;
  in.start = r.start;
  in.start_has_time = r.start_has_time;
  in.dates = r.dates;
  for (const auto& d : r.deadlines) {
    if (d.completed_on) in.completed[d.stage->id] = *d.completed_on;
    if (d.fixed_due) in.fixed_due[d.stage->id] = *d.fixed_due;
  }
  auto plan = std::make_shared<const ReviewPlan>(plan_review(*r.config, *r.definition, in));
  if (plans_.size() >= kSharedPlans) plans_.clear();
  plans_.emplace(std::move(key), SharedPlan{r.config, r.pinned, plan});
  return plan;
}

namespace {

const PlannedItem* item_for(const ReviewPlan& plan, const std::string& stage) {
  for (const auto& i : plan.stages) {
    if (i.stage->id == stage) return &i;
  }
  return nullptr;
}

}  // namespace

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

void Engine::index(const std::string& owner, Deadline& d, Instant next) {
  if (d.next_fire != Instant{}) timed_.erase(timer_key(d.next_fire, owner, d.stage->id));
  d.next_fire = next;
  if (next != Instant{}) timed_.insert(timer_key(next, owner, d.stage->id));
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
  top_up();
  if (timed_.empty()) return std::nullopt;
  return Instant{std::chrono::seconds{timed_.begin()->at}};
}

void Engine::refresh(Review& r, store::Batch& batch, const std::string& actor) {
  // The plan depends on the start, the dates, and what is completed or
  // fixed; opening stages and moving their due dates changes none of that, so
  // one plan serves the whole refresh.
  const auto shared = plan_of(r);
  const ReviewPlan& plan = *shared;
  // Opening one stage can open another (a chain of completions), so repeat
  // until nothing new opens; a definition has finitely many stages.
  for (std::size_t round = 0; round <= r.definition->stages.size(); ++round) {
    bool opened = false;
    for (const auto& s : r.definition->stages) {
      const PlannedItem* item = item_for(plan, s.id);
      Deadline* d = r.deadline(s.id);
      if (d == nullptr) {
        bool opens = s.opens_after.empty();
        std::optional<Day> opened_on = start_day(r);
        if (!opens) {
          Deadline* opener = r.deadline(s.opens_after);
          if (opener != nullptr && opener->completed_on &&
              (s.opens_on_outcome.empty() || opener->outcome == s.opens_on_outcome)) {
            opens = true;
            opened_on = opener->completed_on;
          }
        }
        if (!opens || item == nullptr || !item->due) continue;
        Deadline fresh;
        fresh.stage = &s;
        fresh.due = *item->due;
        fresh.due_at = item->due_at;
        fresh.opened_on = *opened_on;
        auto pos = std::find_if(r.deadlines.begin(), r.deadlines.end(),
                                [&](const Deadline& x) { return x.stage > &s; });
        r.deadlines.insert(pos, fresh);
        opened = true;
        record_text(batch, actor, "deadline.opened", r.ref, s.id,
                    JsonObject{}
                        .add("due", item->due_at ? iso(*item->due_at) : iso(*item->due))
                        .add("why", item->why)
                        .done(),
                    r.version);
        continue;
      }
      if (is_final(d->state) || item == nullptr || !item->due) continue;
      if (d->due != *item->due || d->due_at != item->due_at) {
        record_text(batch, actor, "deadline.rescheduled", r.ref, s.id,
                    JsonObject{}.add("from", iso(d->due)).add("to", iso(*item->due)).add("why", item->why).done(),
                    r.version);
        d->due = *item->due;
        d->due_at = item->due_at;
      }
    }
    if (!opened) break;
  }
  for (auto& d : r.deadlines) {
    schedule(r, d, plan);
    save(batch, r, d);
  }
  maybe_close(r, batch, actor);
}

void Engine::maybe_close(Review& r, store::Batch& batch, const std::string& actor) {
  if (r.state != ReviewState::open || r.deadlines.empty()) return;
  if (!std::all_of(r.deadlines.begin(), r.deadlines.end(), [](const Deadline& d) { return is_final(d.state); })) {
    return;
  }
  auto t = review_transition(r.state, ReviewEvent::close);
  if (!t.ok) return;
  r.state = t.to;
  audit(batch, actor, "review.closed", r, "", json::object());
  save(batch, r);
}

// --- notifications ---------------------------------------------------------

void Engine::notify(const Review& r, const Deadline& d, const std::string& kind, int index, int repeat,
                    const std::vector<std::string>& roles, Instant due_instant, Instant now, store::Batch& batch) {
  const Calendar& cal = calendar_of(r);
  const bool late = now - due_instant > kLateAfter;
  const int working_days_left = working_days_between(cal, today(cal), d.due);
  std::set<std::string> addressed;  // a person holding two of the roles hears once
  for (const auto& role : roles) {
    std::vector<std::string> people;
    std::string note;
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
    for (const auto& person : people) {
      if (!addressed.insert(person).second) continue;
      // Keys in nlohmann's (sorted) order: the text is what payload.dump() gave.
      JsonObject payload;
      payload.add("due", iso(d.due));
      if (d.due_at) payload.add("due_at", iso(*d.due_at));
      payload.add("kind", kind).add("late", late);
      if (!note.empty()) payload.add("note", note);
      payload.add("ref", r.ref);
      if (repeat > 0) payload.add("repeat", repeat);
      payload.add("role", role);
      if (kind == "escalation") payload.add("rung", index + 1);
      payload.add("stage", d.stage->id)
          .add("stage_title", d.stage->title)
          .add("workflow", r.workflow)
          .add("workflow_title", r.definition->title)
          .add("working_days_left", working_days_left);
      store::OutboxMessage m;
      m.key = r.ref + ":" + d.stage->id + ":" + kind + ":" + std::to_string(index + 1) +
              (repeat > 0 ? "." + std::to_string(repeat) : std::string{}) + ":" +
              (d.extended || d.fixed_due ? iso(d.due) + ":" : std::string{}) + person;
      m.created_at = now.time_since_epoch().count();
      m.kind = kind;
      m.ref = r.ref;
      m.stage = d.stage->id;
      m.person = person;
      m.role = role;
      m.payload = payload.done();
      m.late = late;
      batch.outbox.push_back(std::move(m));
    }
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
  r.changed_in = generation_;
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
    top_up();
    if (timed_.empty() || timed_.begin()->at > target_s) return false;
    const store::TimerKey k = *timed_.begin();
    const Instant at = std::max(floor, Instant{std::chrono::seconds{k.at}});
    clock.set(at);  // every event before this one has fired
    if (fired >= limit) return true;
    if (at != ensured) ensure_meetings(batch);  // a no-op unless the financial year has turned
    ensured = at;
    timed_.erase(timed_.begin());
    if (k.ref.starts_with('@')) {
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
    top_up();
    if (timed_.empty() || timed_.begin()->at > now.time_since_epoch().count()) return false;
    if (fired == limit) return true;
    const store::TimerKey k = *timed_.begin();
    timed_.erase(timed_.begin());
    // Each deadline fires with everything due by `now`, so its next event
    // (indexed again by fire) is later than now.
    const Instant at{std::chrono::seconds{k.at}};
    if (k.ref.starts_with('@')) {
      fire_meeting(k, now, batch);
      continue;
    }
    Review* r = find(k.ref);
    if (r == nullptr) continue;
    Deadline* d = r->deadline(k.stage);
    if (d != nullptr && d->next_fire == at) fire(*r, *d, now, batch);
  }
}

// --- audit and persistence -------------------------------------------------

void Engine::record(store::Batch& b, const std::string& actor, const std::string& kind, const std::string& ref,
                    const std::string& stage, const json& details, const std::string& version) const {
  record_text(b, actor, kind, ref, stage, details.dump(), version);
}

void Engine::record_text(store::Batch& b, const std::string& actor, const std::string& kind, const std::string& ref,
                         const std::string& stage, std::string details, const std::string& version) const {
  store::AuditEntry& e = b.audit.emplace_back();
  e.at = clock_.now().time_since_epoch().count();
  e.actor = actor;
  e.kind = kind;
  e.ref = ref;
  e.stage = stage;
  e.details = std::move(details);
  e.version = version;
}

void Engine::audit(store::Batch& b, const std::string& actor, const std::string& kind, const Review& r,
                   const std::string& stage, json details) const {
  record(b, actor, kind, r.ref, stage, details, r.version);
}

void Engine::save(store::Batch& b, Review& r) {
  r.changed_in = generation_;
  store::ReviewRecord rec;
  rec.ref = r.ref;
  rec.workflow = r.workflow;
  rec.version = r.version;
  rec.title = r.title;
  rec.state = to_string(r.state);
  rec.start = start_text(r);
  rec.assignments = to_json(r.assignments).dump();
  rec.dates = to_json(r.dates).dump();
  rec.paused_on = r.paused_on ? iso(*r.paused_on) : "";
  rec.parent_ref = r.parent_ref;
  rec.created_at = r.created_at;
  // Rows are written in order with INSERT OR REPLACE, so a review saved twice
  // in one batch keeps its last state; no search here (batches can be large).
  b.reviews.push_back(std::move(rec));
}

store::DeadlineRecord to_record(const std::string& owner, const Deadline& d) {
  store::DeadlineRecord rec;
  rec.ref = owner;
  rec.stage = d.stage->id;
  rec.state = to_string(d.state);
  rec.due = iso(d.due);
  rec.due_at = d.due_at ? iso(*d.due_at) : "";
  rec.fixed_due = d.fixed_due ? iso(*d.fixed_due) : "";
  rec.opened_on = iso(d.opened_on);
  rec.reminders_sent = d.reminders_sent;
  rec.rungs_sent = d.rungs_sent;
  rec.repeats_sent = d.repeats_sent;
  rec.completed_on = d.completed_on ? iso(*d.completed_on) : "";
  rec.outcome = d.outcome;
  rec.extended = d.extended;
  rec.next_fire = d.next_fire.time_since_epoch().count();
  return rec;
}

Deadline from_record(const store::DeadlineRecord& rec, const Stage* stage) {
  Deadline d;
  d.stage = stage;
  d.state = parse_deadline_state(rec.state).value_or(DeadlineState::pending);
  d.due = *parse_day(rec.due);
  if (!rec.due_at.empty()) d.due_at = parse_local_time(rec.due_at);
  if (!rec.fixed_due.empty()) d.fixed_due = parse_day(rec.fixed_due);
  d.opened_on = *parse_day(rec.opened_on);
  d.reminders_sent = rec.reminders_sent;
  d.rungs_sent = rec.rungs_sent;
  d.repeats_sent = rec.repeats_sent;
  if (!rec.completed_on.empty()) d.completed_on = parse_day(rec.completed_on);
  d.outcome = rec.outcome;
  d.extended = rec.extended;
  return d;  // next_fire is set by scheduling, not copied
}

void Engine::save(store::Batch& b, Review& r, const Deadline& d) {
  r.changed_in = generation_;
  b.deadlines.push_back(to_record(r.ref, d));  // the last save of a row in a batch wins
}

bool Engine::may(const Caller& who, const std::string& command, const Review* r, const Stage* s) const {
  if (auto it = kPermissions.find(command); it != kPermissions.end()) {
    for (const auto& role : it->second) {
      if (who.holds(role)) return true;
    }
  }
  if (command == "complete" && r != nullptr && s != nullptr && !s->owner.empty()) {
    auto assigned = r->assignments.find(s->owner);
    if (assigned != r->assignments.end() && assigned->second == who.person) return true;
    if (who.holds(s->owner)) return true;
  }
  return false;
}

namespace {
std::string permitted(const std::string& command) {
  auto it = kPermissions.find(command);
  return it == kPermissions.end() ? std::string{} : one_of(it->second);
}
}  // namespace

// --- commands --------------------------------------------------------------

Result Engine::start(const Caller& who, const StartArgs& a, store::Batch& batch) {
  if (!may(who, "start", nullptr, nullptr)) {
    return Result::fail("you may not start reviews; that needs one of the roles " + permitted("start"));
  }
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
  // A new reference is the usual case: the store's index answers that alone,
  // without reading a row.
  const bool taken = reviews_.count(a.ref) > 0 || (store_ != nullptr && store_->has_review(a.ref));
  if (const Review* existing = taken ? find(a.ref) : nullptr) {
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
  auto [it, inserted] = reviews_.emplace(r.ref, std::move(r));
  Review& stored = it->second;
  JsonObject details;
  details.add_raw("assign", json_text(stored.assignments))
      .add("clock", clock_.mode())
      .add_raw("dates", json_text(stored.dates));
  if (!a.on.empty()) details.add("on", a.on);
  details.add("start", start_text(stored)).add("title", stored.title).add("version", def.version).add("workflow", def.id);
  record_text(batch, who.person, "review.started", stored.ref, "", details.done(), stored.version);
  save(batch, stored);
  refresh(stored, batch, who.person);
  return {true, "", json::object(), review_text(stored)};
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
  if (!may(who, "complete", r, s)) {
    return Result::fail("you may not complete stage '" + stage_id + "' of " + ref + "; that needs its owner (" +
                        (s->owner.empty() ? "none" : s->owner) + ") or one of the roles " + permitted("complete"));
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
  if (chosen != nullptr && !chosen->start_workflow.empty()) {
    StartArgs child;
    child.workflow = chosen->start_workflow;
    child.ref = ref + "/" + chosen->start_workflow;
    child.on = iso(day);
    child.title = r->title;
    child.follow_on = true;
    if (auto child_def = config_->reviews.find(chosen->start_workflow); child_def != config_->reviews.end()) {
      for (const auto& role : child_def->second.review_roles) {
        if (r->assignments.count(role) > 0) child.assign[role] = r->assignments.at(role);
      }
    }
    Caller system{"system", {"administrator"}};
    Result started = start(system, child, batch);
    if (started.ok) {
      Review* c = find(child.ref);
      c->parent_ref = ref;
      save(batch, *c);
      data["started"] = child.ref;
    } else {
      audit(batch, who.person, "review.not_started", *r, stage_id,
            {{"workflow", child.workflow}, {"reason", started.error}});
      data["not_started"] = started.error;
    }
  }
  return {true, "", data};
}

Result Engine::pause(const Caller& who, const std::string& ref, const std::string& reason, store::Batch& batch) {
  Review* r = find(ref);
  if (r == nullptr) return Result::fail("no review with reference " + ref);
  if (!may(who, "pause", r, nullptr)) return Result::fail("you may not pause reviews; that needs one of the roles " + permitted("pause"));
  if (!r->definition->pausable) {
    return Result::fail(r->workflow + " reviews cannot be paused (no pausable = true in " + r->definition->file + ")");
  }
  if (reason.empty()) return Result::fail("a pause needs --reason");
  if (auto bad = text_problem(reason, kMaxReason, "the reason")) return Result::fail(*bad);
  auto t = review_transition(r->state, ReviewEvent::pause);
  if (!t.ok) return Result::fail("review " + ref + ": " + t.error);
  r->state = t.to;
  r->paused_on = today(calendar_of(*r));
  for (auto& d : r->deadlines) {
    if (is_final(d.state)) continue;
    auto dt = deadline_transition(d.state, DeadlineEvent::suspend);
    if (dt.ok) d.state = dt.to;
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
  if (!may(who, "resume", r, nullptr)) return Result::fail("you may not resume reviews; that needs one of the roles " + permitted("resume"));
  auto t = review_transition(r->state, ReviewEvent::resume);
  if (!t.ok) return Result::fail("review " + ref + ": " + t.error);
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
    auto dt = deadline_transition(d.state, DeadlineEvent::resume);
    if (dt.ok) d.state = dt.to;
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
  if (!may(who, "extend", r, nullptr)) return Result::fail("you may not extend deadlines; that needs one of the roles " + permitted("extend"));
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
  if (!may(who, "waive", r, nullptr)) return Result::fail("you may not waive stages; that needs one of the roles " + permitted("waive"));
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
  if (!may(who, "cancel", r, nullptr)) return Result::fail("you may not cancel reviews; that needs one of the roles " + permitted("cancel"));
  if (reason.empty()) return Result::fail("a cancellation needs --reason");
  if (auto bad = text_problem(reason, kMaxReason, "the reason")) return Result::fail(*bad);
  auto t = review_transition(r->state, ReviewEvent::cancel);
  if (!t.ok) return Result::fail("review " + ref + ": " + t.error);
  r->state = t.to;
  for (auto& d : r->deadlines) {
    if (is_final(d.state)) continue;
    unschedule(*r, d);
    d.next_fire = Instant{};
    auto dt = deadline_transition(d.state, DeadlineEvent::waive);
    if (dt.ok) d.state = dt.to;
    save(batch, *r, d);
  }
  audit(batch, who.person, "review.cancelled", *r, "", {{"reason", reason}});
  save(batch, *r);
  return {true, "", review_json(*r)};
}

// --- queries ---------------------------------------------------------------

// Built by emplacing into the object's map: an initializer list of pairs is
// copied value by value, and every command that changes a review answers
// with it.
json Engine::deadline_json(const Review& r, const Deadline& d) const {
  const Calendar& cal = calendar_of(r);
  json j(json::value_t::object);
  auto& o = j.get_ref<json::object_t&>();
  o.emplace("stage", d.stage->id);
  o.emplace("title", d.stage->title);
  o.emplace("state", to_string(d.state));
  o.emplace("due", iso(d.due));
  o.emplace("opened_on", iso(d.opened_on));
  o.emplace("limit", to_string(d.stage->limit));
  o.emplace("owner", d.stage->owner);
  if (d.due_at) o.emplace("due_at", iso(*d.due_at));
  if (d.completed_on) o.emplace("completed_on", iso(*d.completed_on));
  if (!d.outcome.empty()) o.emplace("outcome", d.outcome);
  if (d.extended) o.emplace("extended", true);
  if (d.rungs_sent > 0) o.emplace("rung", d.rungs_sent);
  if (!is_final(d.state)) o.emplace("working_days_left", working_days_between(cal, today(cal), d.due));
  if (d.next_fire != Instant{}) o.emplace("next_notice", iso_utc(d.next_fire));
  if (!d.stage->owner.empty()) {
    auto it = r.assignments.find(d.stage->owner);
    if (it != r.assignments.end()) o.emplace("owner_person", it->second);
  }
  return j;
}

json Engine::review_json(const Review& r) const {
  json stages(json::value_t::array);
  auto& list = stages.get_ref<json::array_t&>();
  list.reserve(r.deadlines.size());
  for (const auto& d : r.deadlines) list.push_back(deadline_json(r, d));
  json j(json::value_t::object);
  auto& o = j.get_ref<json::object_t&>();
  o.emplace("ref", r.ref);
  o.emplace("workflow", r.workflow);
  o.emplace("version", r.version);
  o.emplace("title", r.title);
  o.emplace("state", to_string(r.state));
  o.emplace("start", start_text(r));
  o.emplace("assignments", to_json(r.assignments));
  o.emplace("stages", std::move(stages));
  if (!r.dates.empty()) o.emplace("dates", to_json(r.dates));
  if (r.paused_on) o.emplace("paused_on", iso(*r.paused_on));
  if (!r.parent_ref.empty()) o.emplace("parent", r.parent_ref);
  return j;
}

std::string Engine::review_text(const std::string& ref) {
  const Review* r = find(ref);
  return r == nullptr ? std::string{} : review_text(*r);
}

std::string Engine::review_text(const Review& r) const {
  constexpr auto replace = JsonObject::Utf8::replace;
  const Calendar& cal = calendar_of(r);
  std::string stages = "[";
  for (const auto& d : r.deadlines) {
    if (stages.size() > 1) stages += ',';
    JsonObject o(replace);
    if (d.completed_on) o.add("completed_on", iso(*d.completed_on));
    o.add("due", iso(d.due));
    if (d.due_at) o.add("due_at", iso(*d.due_at));
    if (d.extended) o.add("extended", true);
    o.add("limit", to_string(d.stage->limit));
    if (d.next_fire != Instant{}) o.add("next_notice", iso_utc(d.next_fire));
    o.add("opened_on", iso(d.opened_on));
    if (!d.outcome.empty()) o.add("outcome", d.outcome);
    o.add("owner", d.stage->owner);
    if (!d.stage->owner.empty()) {
      auto it = r.assignments.find(d.stage->owner);
      if (it != r.assignments.end()) o.add("owner_person", it->second);
    }
    if (d.rungs_sent > 0) o.add("rung", d.rungs_sent);
    o.add("stage", d.stage->id).add("state", to_string(d.state)).add("title", d.stage->title);
    if (!is_final(d.state)) o.add("working_days_left", working_days_between(cal, today(cal), d.due));
    stages += o.done();
  }
  stages += ']';
  JsonObject o(replace);
  o.add_raw("assignments", json_text(r.assignments, replace));
  if (!r.dates.empty()) o.add_raw("dates", json_text(r.dates, replace));
  if (!r.parent_ref.empty()) o.add("parent", r.parent_ref);
  if (r.paused_on) o.add("paused_on", iso(*r.paused_on));
  o.add("ref", r.ref).add_raw("stages", stages).add("start", start_text(r)).add("state", to_string(r.state));
  o.add("title", r.title).add("version", r.version).add("workflow", r.workflow);
  return o.done();
}

std::vector<Review*> Engine::reviews_among(const std::vector<std::string>& stored) {
  // The store answers for what is committed; reviews changed since are
  // looked at in memory too.
  std::set<std::string> refs(stored.begin(), stored.end());
  for (const auto& [ref, r] : reviews_) {
    if (store_ == nullptr || uncommitted(r)) refs.insert(ref);
  }
  std::vector<Review*> out;
  for (const auto& ref : refs) {
    if (Review* r = find(ref)) out.push_back(r);
  }
  return out;
}

Result Engine::status(const std::string& ref) {
  if (!ref.empty()) {
    const Review* r = find(ref);
    if (r == nullptr) return Result::fail("no review with reference " + ref);
    return {true, "", review_json(*r)};
  }
  auto stored = store_ != nullptr ? store_->open_refs(kStatusLimit + 1) : std::vector<std::string>{};
  json list = json::array();
  std::int64_t open = 0;
  for (const Review* r : reviews_among(stored)) {
    if (r->state != ReviewState::open && r->state != ReviewState::paused) continue;
    if (++open <= kStatusLimit) list.push_back(review_json(*r));
  }
  if (open <= kStatusLimit) return {true, "", {{"reviews", list}}};
  // The store was asked for one more than the limit; count the rest there.
  const std::int64_t total = store_ != nullptr ? std::max(open, store_->open_count()) : open;
  return {true, "", {{"reviews", list}, {"more", total - kStatusLimit}}};
}

Result Engine::overdue() {
  json list = json::array();
  for (const Review* r : reviews_among(store_ != nullptr ? store_->overdue_refs() : std::vector<std::string>{})) {
    const Calendar& cal = calendar_of(*r);
    for (const auto& d : r->deadlines) {
      if (d.state != DeadlineState::overdue && d.state != DeadlineState::escalated) continue;
      json j = deadline_json(*r, d);
      j["ref"] = r->ref;
      j["workflow"] = r->workflow;
      j["working_days_overdue"] = working_days_between(cal, d.due, today(cal));
      list.push_back(j);
    }
  }
  return {true, "", {{"overdue", list}}};
}

Result Engine::upcoming(int days) {
  std::vector<std::string> stored;
  if (store_ != nullptr) {
    // Calendars may differ by a day at most in what "today" is; the filter
    // below is exact.
    const Day t = today(config_->calendar(config_->daemon.calendar));
    stored = store_->refs_due_between(iso(t - date::days{1}), iso(t + date::days{days + 1}));
  }
  json list = json::array();
  for (const Review* r : reviews_among(stored)) {
    if (r->state != ReviewState::open) continue;
    const Calendar& cal = calendar_of(*r);
    const Day t = today(cal);
    for (const auto& d : r->deadlines) {
      if (is_final(d.state) || d.due < t || d.due > t + date::days{days}) continue;
      json j = deadline_json(*r, d);
      j["ref"] = r->ref;
      j["workflow"] = r->workflow;
      list.push_back(j);
    }
  }
  std::sort(list.begin(), list.end(), [](const json& a, const json& b) { return a["due"] < b["due"]; });
  return {true, "", {{"upcoming", list}, {"days", days}}};
}

std::size_t Engine::review_count() {
  if (store_ != nullptr) return static_cast<std::size_t>(store_->open_count());
  return static_cast<std::size_t>(std::count_if(reviews_.begin(), reviews_.end(), [](const auto& e) {
    return e.second.state == ReviewState::open || e.second.state == ReviewState::paused;
  }));
}

}  // namespace docket::daemon
