// The review queries: status, overdue and upcoming, answered from the store
// for what is committed and from memory for what changed since.

#include "daemon/engine.h"

#include <algorithm>

#include "daemon/review_text.h"
#include "workflows/date_math.h"

namespace docket::daemon {

using namespace docket::workflows;
using nlohmann::json;

std::string Engine::review_text(const std::string& ref) {
  const Review* r = find(ref);
  return r == nullptr ? std::string{} : daemon::review_text(*r, today(r->calendar()));
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
  for (const Review* r : cache_.among(stored)) {
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
  for (const Review* r : cache_.among(store_ != nullptr ? store_->overdue_refs() : std::vector<std::string>{})) {
    const Calendar& cal = calendar_of(*r);
    for (const auto& d : r->deadlines) {
      if (d.state != DeadlineState::overdue && d.state != DeadlineState::escalated) continue;
      json j = deadline_json(*r, d, today(cal));
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
  for (const Review* r : cache_.among(stored)) {
    if (r->state != ReviewState::open) continue;
    const Calendar& cal = calendar_of(*r);
    const Day t = today(cal);
    for (const auto& d : r->deadlines) {
      if (is_final(d.state) || d.due < t || d.due > t + date::days{days}) continue;
      json j = deadline_json(*r, d, today(cal));
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
  return static_cast<std::size_t>(std::count_if(cache_.in_memory().begin(), cache_.in_memory().end(), [](const auto& e) {
    return e.second.state == ReviewState::open || e.second.state == ReviewState::paused;
  }));
}

}  // namespace docket::daemon
