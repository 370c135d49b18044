#include "daemon/engine.h"

#include <algorithm>
#include <cassert>

#include "daemon/json_text.h"
#include "daemon/review_text.h"

namespace docket::daemon {

using namespace docket::workflows;
using nlohmann::json;

namespace {

// Distinct plans kept (see Engine::plan_of); a few MiB at most.
constexpr std::size_t kSharedPlans = 4096;

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

Day start_day(const Review& r) { return Day{date::floor<date::days>(r.start).time_since_epoch()}; }

}  // namespace

bool Caller::holds(const std::string& role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

Deadline* Review::deadline(const std::string& stage_id) {
  auto it = std::find_if(deadlines.begin(), deadlines.end(), [&](const Deadline& d) { return d.stage->id == stage_id; });
  return it == deadlines.end() ? nullptr : &*it;
}

std::string start_text(const Review& r) {
  return r.start_has_time ? iso(r.start) : iso(Day{date::floor<date::days>(r.start).time_since_epoch()});
}

Engine::Engine(std::shared_ptr<const Config> config, const Clock& clock, store::Store* store)
    : config_(config), clock_(clock), store_(store), cache_(std::move(config), store), timers_(store) {}

Day Engine::today(const Calendar& cal) const {
  auto local = cal.zone()->to_local(clock_.now());
  return Day{date::floor<date::days>(local).time_since_epoch()};
}

Instant Engine::instant_of(const Calendar& cal, LocalTime t) const {
  return workflows::to_utc(cal.zone(), t);
}

Instant Engine::at_notify_time(const Calendar& cal, Day d) const {
  return instant_of(cal, LocalTime{d.time_since_epoch()} + config_->daemon.notify_at);
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
    for (const auto& [ref, r] : cache_.in_memory()) {
      if ((r.state == ReviewState::open || r.state == ReviewState::paused) && on_earlier(r.workflow, r.version)) ++kept;
    }
  }
  config_ = std::move(config);
  cache_.reload(config_);
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

const PlannedItem* Engine::item_for(const ReviewPlan& plan, const std::string& stage) {
  for (const auto& i : plan.stages) {
    if (i.stage->id == stage) return &i;
  }
  return nullptr;
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
  assert(t.ok && "an open review accepts close");
  r.state = t.to;
  audit(batch, actor, "review.closed", r, "", json::object());
  save(batch, r);
}

// --- audit and persistence -------------------------------------------------

void Engine::record(store::Batch& b, const std::string& actor, const std::string& kind, const std::string& ref,
                    const std::string& stage, const json& details, const std::string& version) const {
  record_text(b, actor, kind, ref, stage, details.dump(), version);
}

void Engine::record_text(store::Batch& b, const std::string& actor, const std::string& kind, const std::string& ref,
                         const std::string& stage, std::string details, const std::string& version) const {
  b.audit.push_back(
      store::audit_entry(clock_.now(), actor, kind, std::move(details), {.ref = ref, .stage = stage, .version = version}));
}

void Engine::audit(store::Batch& b, const std::string& actor, const std::string& kind, const Review& r,
                   const std::string& stage, json details) const {
  record(b, actor, kind, r.ref, stage, details, r.version);
}

void Engine::save(store::Batch& b, Review& r) {
  cache_.changed(r);
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
  cache_.changed(r);
  b.deadlines.push_back(to_record(r.ref, d));  // the last save of a row in a batch wins
}

json Engine::review_json(const Review& r) const { return daemon::review_json(r, today(r.calendar())); }

}  // namespace docket::daemon
