#include "daemon/review_cache.h"

#include "daemon/log.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "daemon/owner.h"

namespace docket::daemon {

using namespace docket::workflows;
using nlohmann::json;

void ReviewCache::reload(std::shared_ptr<const Config> config) {
  config_ = std::move(config);
  pinned_.clear();  // read against the new configuration when next needed
}

Review* ReviewCache::find(const std::string& ref) {
  auto it = reviews_.find(ref);
  if (it != reviews_.end()) return &it->second;
  if (store_ == nullptr || owner_kind(ref) != OwnerKind::review) return nullptr;
  auto stored = store_->review_with_deadlines(ref);
  if (!stored) return nullptr;
  return load(stored->review, stored->deadlines);
}

bool ReviewCache::exists(const std::string& ref) const {
  // A new reference is the usual case: the store's index answers that alone,
  // without reading a row.
  return reviews_.count(ref) > 0 || (store_ != nullptr && store_->has_review(ref));
}

Review& ReviewCache::add(Review r) {
  auto [it, inserted] = reviews_.emplace(r.ref, std::move(r));
  changed(it->second);
  return it->second;
}

const ReviewDefinition* ReviewCache::definition_for(const store::ReviewRecord& rec, Review& r) {
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
        log::engine().warn("recover.definition_unfit workflow={} version={} runs_on={} error=\"{}\"", rec.workflow,
                     rec.version, current->version, format(diags.sorted().front()));
      }
    } else if (current != nullptr) {
      log::engine().warn("recover.definition_missing workflow={} version={} runs_on={}", rec.workflow, rec.version,
                   current->version);
    }
    pin = pinned_.emplace(rec.version, std::move(loaded)).first;
  }
  if (pin->second) {
    r.pinned = pin->second;
    return r.pinned.get();
  }
  return current;
}

Review* ReviewCache::load(const store::ReviewRecord& rec, const std::vector<store::DeadlineRecord>& rows) {
  Review r;
  r.config = config_;
  r.definition = definition_for(rec, r);
  if (r.definition == nullptr) {
    log::engine().warn("recover.workflow_undefined ref={} workflow={} (the review is left as it is)", rec.ref, rec.workflow);
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
  ++reads_;
  r.deadlines.reserve(rows.size());
  for (const auto& row : rows) {
    const Stage* stage = r.definition->stage(row.stage);
    if (stage == nullptr) {
      log::engine().warn("recover.stage_undefined ref={} stage={} (skipped)", rec.ref, row.stage);
      continue;
    }
    Deadline d = from_record(row, stage);
    // The stored next_fire is what scheduling computed when the row was
    // saved; trusting it keeps loading free of planning. If the configuration
    // has moved the time since (notify_at), the early wake-up finds nothing
    // due and re-plans then. The event is in the timer index already if its
    // cursor has passed it, and the index reads it from the store when it
    // gets there.
    if (row.next_fire != 0 && r.state == ReviewState::open) d.next_fire = Instant{std::chrono::seconds{row.next_fire}};
    r.deadlines.push_back(d);
  }
  // A definition's stages live in one vector, so address order is definition order.
  std::sort(r.deadlines.begin(), r.deadlines.end(), [](const Deadline& x, const Deadline& y) { return x.stage < y.stage; });
  return &reviews_.emplace(r.ref, std::move(r)).first->second;
}

void ReviewCache::committed(TimerIndex& timers) {
  committed_through_ = generation_++;
  evict(timers);
}

void ReviewCache::committed(std::uint64_t sealed, TimerIndex& timers) {
  committed_through_ = std::max(committed_through_, sealed);
  evict(timers);
}

void ReviewCache::evict(TimerIndex& timers) {
  if (store_ == nullptr || reviews_.size() <= limit_) return;
  for (auto it = reviews_.begin(); it != reviews_.end() && reviews_.size() > limit_ / 2;) {
    if (uncommitted(it->second)) {
      ++it;
      continue;
    }
    for (const auto& d : it->second.deadlines) timers.forget(it->first, d);
    it = reviews_.erase(it);
  }
}

std::vector<Review*> ReviewCache::among(const std::vector<std::string>& stored) {
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

}  // namespace docket::daemon
