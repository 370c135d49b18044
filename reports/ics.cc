#include "reports/ics.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include <libical/ical.h>
#include <nlohmann/json.hpp>

namespace docket::reports {

namespace {

struct Event {
  workflows::Day day;
  std::string uid, summary, description, category;
};

icaltimetype ical_day(workflows::Day d) {
  date::year_month_day ymd{d};
  icaltimetype t = icaltime_null_date();
  t.year = static_cast<int>(ymd.year());
  t.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  t.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  t.is_date = 1;
  return t;
}

bool holds(const workflows::Config& config, const std::string& person, const std::string& role) {
  const auto* p = config.directory.person(person);
  return p != nullptr && std::find(p->roles.begin(), p->roles.end(), role) != p->roles.end();
}

std::string role_title(const workflows::Config& config, const std::string& role) {
  const auto* r = config.directory.role(role);
  return r != nullptr && !r->title.empty() ? r->title : role;
}

// When an open deadline is due, in words: "Tuesday 3 March 2026 by 17:00",
// and " It is overdue." when it is.
struct DueText {
  std::string when;
  std::string late;
};

// A meeting's milestone, or nothing when the person does not own it.
std::optional<Event> milestone_event(const store::DeadlineRow& row, const DueText& due, Event e,
                                     const workflows::Config& config, const IcsOptions& o) {
  const store::DeadlineRecord& d = row.deadline;
  const auto cycle = config.cycles.find(row.workflow);
  const workflows::Stage* s = cycle != config.cycles.end() ? cycle->second.milestone(d.stage) : nullptr;
  if (!o.person.empty() && (s == nullptr || !holds(config, o.person, s->owner))) return std::nullopt;
  const std::string body = cycle != config.cycles.end() ? cycle->second.body : row.workflow;
  const std::string meeting_day = d.ref.substr(d.ref.find('/') + 1);
  const auto md = workflows::parse_day(meeting_day);
  e.summary = body + ", meeting " + (md ? workflows::short_date(*md) : meeting_day) + ": " +
              (s != nullptr && !s->title.empty() ? s->title : d.stage);
  e.description = "Meeting " + d.ref + ", milestone " + d.stage + ", due " + due.when + "." +
                  (s != nullptr && !s->owner.empty() ? " Owner: " + role_title(config, s->owner) + "." : "") + due.late;
  return e;
}

// A review's stage, or nothing when the person does not own it (a role of
// the review's own, by its assignments; else a role they hold).
std::optional<Event> stage_event(const store::DeadlineRow& row, const DueText& due, Event e,
                                 const workflows::Config& config, const IcsOptions& o) {
  const store::DeadlineRecord& d = row.deadline;
  const auto def = config.reviews.find(row.workflow);
  const workflows::Stage* s = def != config.reviews.end() ? def->second.stage(d.stage) : nullptr;
  if (!o.person.empty()) {
    if (s == nullptr || s->owner.empty()) return std::nullopt;
    const auto& per_review = def->second.review_roles;
    if (std::find(per_review.begin(), per_review.end(), s->owner) != per_review.end()) {
      auto assigned = nlohmann::json::parse(row.assignments, nullptr, false);
      if (!assigned.is_object() || assigned.value(s->owner, std::string()) != o.person) return std::nullopt;
    } else if (!holds(config, o.person, s->owner)) {
      return std::nullopt;
    }
  }
  const std::string workflow_title = def != config.reviews.end() ? def->second.title : row.workflow;
  e.summary = d.ref + ": " + (s != nullptr && !s->title.empty() ? s->title : d.stage);
  e.description = workflow_title + ". Stage " + d.stage + ", due " + due.when + " (" +
                  (s != nullptr ? workflows::to_string(s->limit) : std::string("unknown")) + " limit)." +
                  (s != nullptr && !s->owner.empty() ? " Owner: " + role_title(config, s->owner) + "." : "") + due.late;
  return e;
}

// An open deadline with a date to show, filtered by the options.
std::optional<Event> deadline_event(const store::DeadlineRow& row, const workflows::Config& config,
                                    const IcsOptions& o) {
  const store::DeadlineRecord& d = row.deadline;
  if (d.state == "suspended" || row.owner_state == "paused") return std::nullopt;  // the clock is stopped: no date
  if (!o.workflow.empty() && row.workflow != o.workflow) return std::nullopt;
  const auto due = workflows::parse_day(d.due);
  if (!due) return std::nullopt;
  Event e;
  e.day = *due;
  e.uid = d.ref + "/" + d.stage + "@docket";
  e.category = row.workflow;
  const DueText text{workflows::long_date(*due) + (d.due_at.empty() ? "" : " by " + d.due_at.substr(11)),
                     *due < o.today ? " It is overdue." : ""};
  return row.meeting ? milestone_event(row, text, std::move(e), config, o)
                     : stage_event(row, text, std::move(e), config, o);
}

// A meeting still to come, for its members, chair and secretariat.
std::optional<Event> meeting_event(const store::MeetingRecord& m, const workflows::Config& config,
                                   const IcsOptions& o) {
  if (m.state != "scheduled" && m.state != "papers due" && m.state != "papers published") return std::nullopt;
  if (!o.workflow.empty() && m.cycle != o.workflow) return std::nullopt;
  const auto cycle = config.cycles.find(m.cycle);
  if (!o.person.empty()) {
    if (cycle == config.cycles.end()) return std::nullopt;
    const auto& c = cycle->second;
    if (!holds(config, o.person, c.members) && !holds(config, o.person, c.chair) &&
        !holds(config, o.person, c.secretariat)) {
      return std::nullopt;
    }
  }
  const auto day = workflows::parse_day(m.date);
  if (!day) return std::nullopt;
  const std::string body = cycle != config.cycles.end() ? cycle->second.body : m.cycle;
  Event e;
  e.day = *day;
  e.uid = m.id + "@docket";
  e.category = m.cycle;
  e.summary = "Meeting: " + body;
  e.description = "Meeting " + m.id + " of the " + body + ", " + workflows::long_date(*day) + "." +
                  (m.date != m.planned ? " Moved from " + m.planned + "." : "");
  return e;
}

// The events as one VCALENDAR, each an all-day, transparent VEVENT.
std::string calendar_text(const std::vector<Event>& events, std::int64_t stamp_s) {
  std::unique_ptr<icalcomponent, decltype(&icalcomponent_free)> cal(icalcomponent_new_vcalendar(), icalcomponent_free);
  icalcomponent_add_property(cal.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(cal.get(), icalproperty_new_prodid("-//docket//docket export ics//EN"));
  icalcomponent_add_property(cal.get(), icalproperty_new_calscale("GREGORIAN"));
  icalcomponent_add_property(cal.get(), icalproperty_new_method(ICAL_METHOD_PUBLISH));
  icalproperty* name = icalproperty_new_x("docket deadlines and meetings");
  icalproperty_set_x_name(name, "X-WR-CALNAME");
  icalcomponent_add_property(cal.get(), name);
  const icaltimetype stamp =
      icaltime_from_timet_with_zone(static_cast<time_t>(stamp_s), 0, icaltimezone_get_utc_timezone());
  for (const auto& e : events) {
    icalcomponent* ev = icalcomponent_new_vevent();
    icalcomponent_add_property(ev, icalproperty_new_uid(e.uid.c_str()));
    icalcomponent_add_property(ev, icalproperty_new_dtstamp(stamp));
    icalcomponent_add_property(ev, icalproperty_new_dtstart(ical_day(e.day)));
    icalcomponent_add_property(ev, icalproperty_new_dtend(ical_day(e.day + date::days{1})));
    icalcomponent_add_property(ev, icalproperty_new_summary(e.summary.c_str()));
    icalcomponent_add_property(ev, icalproperty_new_description(e.description.c_str()));
    icalcomponent_add_property(ev, icalproperty_new_categories(e.category.c_str()));
    icalcomponent_add_property(ev, icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT));
    icalcomponent_add_component(cal.get(), ev);
  }
  char* text = icalcomponent_as_ical_string_r(cal.get());
  std::string out = text != nullptr ? std::string(text) : std::string();
  icalmemory_free_buffer(text);
  return out;
}

}  // namespace

IcsExport export_ics(store::Reader& reader, const workflows::Config& config, const IcsOptions& o) {
  std::vector<Event> events;
  reader.for_each_open([&](const store::DeadlineRow& row) {
    if (auto e = deadline_event(row, config, o)) events.push_back(std::move(*e));
  });
  for (const auto& m : reader.meetings_between(workflows::iso(o.today), "9999-12-31")) {
    if (auto e = meeting_event(m, config, o)) events.push_back(std::move(*e));
  }
  std::sort(events.begin(), events.end(),
            [](const Event& a, const Event& b) { return std::tie(a.day, a.uid) < std::tie(b.day, b.uid); });
  return IcsExport{calendar_text(events, o.stamp), events.size()};
}

}  // namespace docket::reports
