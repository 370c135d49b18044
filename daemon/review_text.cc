#include "daemon/review_text.h"

#include "daemon/json_text.h"
#include "workflows/date_math.h"

namespace docket::daemon {

using namespace docket::workflows;

namespace {

constexpr auto kReplace = JsonObject::Utf8::replace;

std::string text_of(const std::map<std::string, std::string>& m) {
  JsonObject j(kReplace);
  for (const auto& [k, v] : m) j.add(k, v);
  return j.done();
}

std::string text_of(const std::map<std::string, Day>& m) {
  JsonObject j(kReplace);
  for (const auto& [k, v] : m) j.add(k, iso(v));
  return j.done();
}

}  // namespace

std::string deadline_text(const Review& r, const Deadline& d, Day today) {
  JsonObject o(kReplace);
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
  if (!is_final(d.state)) o.add("working_days_left", working_days_between(r.calendar(), today, d.due));
  return o.done();
}

std::string review_text(const Review& r, Day today) {
  std::string stages = "[";
  for (const auto& d : r.deadlines) {
    if (stages.size() > 1) stages += ',';
    stages += deadline_text(r, d, today);
  }
  stages += ']';
  JsonObject o(kReplace);
  o.add_raw("assignments", text_of(r.assignments));
  if (!r.dates.empty()) o.add_raw("dates", text_of(r.dates));
  if (!r.parent_ref.empty()) o.add("parent", r.parent_ref);
  if (r.paused_on) o.add("paused_on", iso(*r.paused_on));
  o.add("ref", r.ref).add_raw("stages", stages).add("start", start_text(r)).add("state", to_string(r.state));
  o.add("title", r.title).add("version", r.version).add("workflow", r.workflow);
  return o.done();
}

nlohmann::json review_json(const Review& r, Day today) { return nlohmann::json::parse(review_text(r, today)); }

nlohmann::json deadline_json(const Review& r, const Deadline& d, Day today) {
  return nlohmann::json::parse(deadline_text(r, d, today));
}

}  // namespace docket::daemon
