#include "reports/timeline.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "store/audit_query.h"

namespace docket::reports {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return {};
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return {};
  return v.dump();
}

std::string day_text(const std::string& iso_day) {
  auto d = workflows::parse_day(iso_day);
  return d ? workflows::short_date(*d) : iso_day;
}

std::string list_text(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

std::string role_text(const std::string& role, const workflows::Config* config) {
  if (config != nullptr) {
    if (const auto* r = config->directory.role(role); r != nullptr && !r->title.empty()) return r->title;
  }
  return role;
}

std::string roles_text(const json& roles, const workflows::Config* config) {
  std::vector<std::string> out;
  if (roles.is_array()) {
    for (const auto& r : roles) {
      if (r.is_string()) out.push_back(role_text(r.get<std::string>(), config));
    }
  }
  return out.empty() ? std::string("the owner") : list_text(out);
}

std::string people_text(const json& people, const workflows::Config* config) {
  std::vector<std::string> out;
  if (people.is_array()) {
    for (const auto& p : people) {
      if (p.is_string()) out.push_back(actor_text(p.get<std::string>(), config));
    }
  }
  return list_text(out);
}

std::string agencies_text(const json& agencies, const workflows::Config* config) {
  std::vector<std::string> out;
  if (agencies.is_array()) {
    for (const auto& a : agencies) {
      if (!a.is_string()) continue;
      const auto* ag = config != nullptr ? config->directory.agency(a.get<std::string>()) : nullptr;
      out.push_back(ag != nullptr ? ag->name : a.get<std::string>());
    }
  }
  return list_text(out);
}

std::string stage_text(const std::string& stage, const std::string& workflow, const workflows::Config* config) {
  if (stage.empty()) return {};
  if (config != nullptr) {
    const workflows::Stage* s = nullptr;
    if (auto r = config->reviews.find(workflow); r != config->reviews.end()) s = r->second.stage(stage);
    if (auto c = config->cycles.find(workflow); c != config->cycles.end()) s = c->second.milestone(stage);
    if (s != nullptr && !s->title.empty()) return "'" + s->title + "' (" + stage + ")";
  }
  return "stage " + stage;
}

std::string late_note(const json& d) {
  return d.is_object() && d.value("late", false) ? " (late: docketd was not running when it fell due)" : "";
}

}  // namespace

std::string actor_text(const std::string& actor, const workflows::Config* config) {
  if (actor == "system") return "docketd";
  if (config != nullptr) {
    if (const auto* p = config->directory.person(actor); p != nullptr && !p->name.empty()) {
      return p->name + " (" + actor + ")";
    }
  }
  return actor;
}

const std::string& WorkflowOf::operator()(const std::string& ref) {
  auto it = cache_.find(ref);
  if (it != cache_.end()) return it->second;
  std::string workflow;
  if (ref.starts_with("@")) {
    workflow = ref.substr(1, ref.find('/') == std::string::npos ? std::string::npos : ref.find('/') - 1);
  } else if (!ref.empty()) {
    if (auto r = reader_.review(ref)) workflow = r->workflow;
  }
  if (cache_.size() > 100000) cache_.clear();
  return cache_.emplace(ref, std::move(workflow)).first->second;
}

namespace {

// A review's records: its start, stages, deadlines, pauses and end.
std::optional<std::string> review_text(const std::string& k, const json& d, const std::string& stage,
                                       const workflows::Config* config) {
  if (k == "review.started") {
    std::string s = "Review started: " + str(d, "workflow") + " (definition version " + str(d, "version") + "), day 0 " +
                    day_text(str(d, "start"));
    if (d.contains("assign") && d["assign"].is_object() && !d["assign"].empty()) {
      std::vector<std::string> roles;
      for (const auto& [role, person] : d["assign"].items()) {
        roles.push_back(role_text(role, config) + ": " + actor_text(person.is_string() ? person.get<std::string>() : "", config));
      }
      s += "; " + list_text(roles);
    }
    return s;
  }
  if (k == "deadline.opened") return stage + " opened, due " + day_text(str(d, "due")) + " (" + str(d, "why") + ")";
  if (k == "deadline.rescheduled") {
    return stage + ": due date moved from " + day_text(str(d, "from")) + " to " + day_text(str(d, "to")) + " (" +
           str(d, "why") + ")";
  }
  if (k == "deadline.reminder") {
    return "Reminder " + str(d, "reminder") + " for " + stage + " sent to " + roles_text(d.value("to", json()), config) +
           (d.contains("before") ? " (" + str(d, "before") + ")" : std::string()) + late_note(d);
  }
  if (k == "deadline.overdue") return stage + " is overdue: it was due " + day_text(str(d, "due")) + " and is not done";
  if (k == "deadline.escalated") {
    std::string s = d.contains("repeat") ? "Escalation repeated (rung " + str(d, "rung") + ", time " + str(d, "repeat") + ")"
                                         : "Escalated (rung " + str(d, "rung") + ")";
    s += " for " + stage + " to " + roles_text(d.value("to", json()), config);
    if (d.contains("after")) s += " (" + str(d, "after") + ")";
    return s + late_note(d);
  }
  if (k == "stage.completed" || k == "milestone.met") {
    std::string s = stage + (k == "milestone.met" ? " met on " : " completed on ") + day_text(str(d, "on"));
    if (d.contains("due")) {
      const int late = d.value("working_days_late", 0);
      s += late > 0 ? ", " + std::to_string(late) + " working day" + (late == 1 ? "" : "s") + " after it was due (" +
                          day_text(str(d, "due")) + ")"
                    : ", on time (due " + day_text(str(d, "due")) + ")";
    }
    if (d.contains("outcome")) s += "; outcome: " + str(d, "outcome");
    if (d.value("automatic", false)) s += " (automatically)";
    return s;
  }
  if (k == "stage.waived") return stage + " waived: " + str(d, "reason");
  if (k == "deadline.extended") {
    return stage + " extended from " + day_text(str(d, "from")) + " to " + day_text(str(d, "to")) + ": " + str(d, "reason");
  }
  if (k == "review.paused") return "Review paused, the clock stopped: " + str(d, "reason");
  if (k == "review.resumed") {
    return "Review resumed after " + str(d, "days_paused") + " days paused (since " + day_text(str(d, "paused_on")) +
           "); the clock runs on";
  }
  if (k == "review.closed") return "Review closed: every stage is met or waived";
  if (k == "review.cancelled") return "Review cancelled: " + str(d, "reason");
  if (k == "review.not_started") {
    return "The follow-on review " + str(d, "workflow") + " could not be started: " + str(d, "reason");
  }
  return std::nullopt;
}

// A meeting's records, and a body's chair.
std::optional<std::string> meeting_text(const std::string& k, const json& d, const workflows::Config* config) {
  if (k == "meeting.scheduled") return "Meeting scheduled for " + day_text(str(d, "date")) + " (" + str(d, "why") + ")";
  if (k == "meeting.papers_due") return "Papers for the meeting are due " + day_text(str(d, "due"));
  if (k == "meeting.publish_papers") return "Papers published";
  if (k == "meeting.hold") {
    std::string s = "Meeting held; present: " + people_text(d.value("attended", json()), config);
    if (d.contains("quorate")) s += d.value("quorate", false) ? "; quorate" : "; NOT quorate";
    return s;
  }
  if (k == "meeting.inquorate") {
    return "The meeting was not quorate: no one for " + agencies_text(d.value("not_represented", json()), config) +
           "; the chair was told";
  }
  if (k == "meeting.draft_notes") return "Draft action notes published";
  if (k == "meeting.amend") return "Amendment to the notes asked for by " + actor_text(str(d, "by"), config);
  if (k == "meeting.stand" || k == "meeting.notes_stand") {
    return std::string("The notes stand as the record") + (d.value("automatic", false) ? " (the amendment window closed)" : "");
  }
  if (k == "meeting.present") return "Notes presented at " + str(d, "at");
  if (k == "meeting.move") {
    return "Meeting moved to " + day_text(str(d, "to")) + (d.contains("reason") ? ": " + str(d, "reason") : "");
  }
  if (k == "chair.appointed") {
    return "Chair for " + str(d, "year") + " appointed: " + actor_text(str(d, "person"), config) + " (" +
           agencies_text(json::array({str(d, "agency")}), config) + ")";
  }
  return std::nullopt;
}

// docketd's own records: starts, reloads, deliveries, refusals, the clock.
std::optional<std::string> system_text(const store::AuditRecord& r, const json& d, const workflows::Config* config) {
  const std::string& k = r.kind;
  if (k == "daemon.started") return "docketd started (" + str(d, "clock") + " clock, configuration " + str(d, "config").substr(0, 12) + ")";
  if (k == "daemon.stopped") return "docketd stopped";
  if (k == "config.reloaded") {
    return "Configuration reloaded: " + str(d, "config").substr(0, 12) + " (was " + str(d, "previous").substr(0, 12) + ")";
  }
  if (k == "notification.delivered") {  // before schema 6: one record per batch
    return "Notifications delivered through " + str(d, "channel") + ": " + str(d, "count");
  }
  if (k == "notification.attempt") {
    const std::string outcome = str(d, "outcome");
    std::string s = str(d, "kind") + " to " + str(d, "person") + " through " + str(d, "channel");
    if (outcome == "delivered") {
      if (d.contains("attempts")) s += " at attempt " + str(d, "attempts") + " (last failure: " + str(d, "last_error") + ")";
      return "Delivered: " + s;
    }
    s = (outcome == "temporary" ? "Delivery failed, will retry: " : "Delivery refused: ") + s + " (" +
        str(d, "detail") + ")";
    return s;
  }
  if (k == "notification.dead") {
    return "Gave up delivering " + str(d, "key") + " after " + str(d, "attempts") + " attempt(s): " + str(d, "reason");
  }
  if (k == "notification.retried") return "Dead letter " + str(d, "key") + " queued again";
  if (k == "command.refused") {
    return "Refused: " + str(d, "command") + " by " + actor_text(r.actor, config) + " (" + str(d, "error") + ")";
  }
  if (k == "clock.advanced") return "Rehearsal clock moved from " + str(d, "from") + " to " + str(d, "to");
  return std::nullopt;
}

}  // namespace

std::string describe(const store::AuditRecord& r, const std::string& workflow, const workflows::Config* config) {
  const json d = json::parse(r.details, nullptr, false);
  const std::string stage = stage_text(r.stage, workflow, config);
  const std::string& k = r.kind;
  if (auto text = review_text(k, d, stage, config)) return *text;
  if (auto text = meeting_text(k, d, config)) return *text;
  if (auto text = system_text(r, d, config)) return *text;
  std::string s = k;
  if (!r.stage.empty()) s += " " + stage;
  if (d.is_object() && !d.empty()) s += " " + r.details;
  return s;
}

Story story_of(store::Reader& reader, const std::string& ref, const workflows::Config* config) {
  Story story;
  story.records = store::audit_of(reader, ref);
  if (auto r = reader.review(ref)) {
    std::string title = r->workflow;
    if (config != nullptr) {
      if (auto def = config->reviews.find(r->workflow); def != config->reviews.end()) title = def->second.title;
    }
    story.heading.push_back(ref + ": " + title + " (" + r->workflow + ", definition version " + r->version + ")");
    std::string line = "now " + r->state + ", started " + r->start;
    if (!r->paused_on.empty()) line += ", paused since " + day_text(r->paused_on);
    if (!r->parent_ref.empty()) line += ", started by the outcome of " + r->parent_ref;
    story.heading.push_back(line);
    for (const auto& child : reader.reviews_started_by(ref)) {
      story.related.push_back(child.ref + " (" + child.workflow + ", now " + child.state + "): docket audit show " +
                              child.ref);
    }
  } else if (auto m = reader.meeting(ref)) {
    std::string body = m->cycle;
    if (config != nullptr) {
      if (auto c = config->cycles.find(m->cycle); c != config->cycles.end()) body = c->second.body;
    }
    story.heading.push_back(ref + ": meeting of the " + body + " on " + day_text(m->date));
    story.heading.push_back("now " + m->state + (m->date != m->planned ? ", moved from " + day_text(m->planned) : ""));
  }
  return story;
}

}  // namespace docket::reports
