// `docket plan`: the timeline of a review started on a given day, or of a
// meeting cycle over a period, as a readable table or as JSON.

#include <algorithm>
#include <map>
#include <ostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "workflows/plan.h"

namespace docket::cli {
namespace {

using namespace docket::workflows;
using nlohmann::json;

// "Mon 2026-03-09", the column format: sortable and unambiguous.
std::string column_date(Day d) { return date::format("%a %F", d); }

std::string roles_text(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ", ") + r;
  return out;
}

std::string notice_when(const PlannedNotice& n) {
  return n.at ? date::format("%a %F %H:%M", *n.at) : column_date(n.day);
}

std::string notice_json_date(const PlannedNotice& n) { return n.at ? iso(*n.at) : iso(n.day); }

json item_json(const PlannedItem& item) {
  json j;
  j["id"] = item.stage->id;
  j["title"] = item.stage->title;
  j["due"] = item.due ? json(iso(*item.due)) : json(nullptr);
  if (item.due_at) j["due_at"] = iso(*item.due_at);
  j["why"] = item.why;
  j["limit"] = to_string(item.stage->limit);
  if (!item.stage->owner.empty()) j["owner"] = item.stage->owner;
  if (!item.opens.empty()) j["opens"] = item.opens;
  json reminders = json::array();
  for (const auto& r : item.reminders) reminders.push_back(notice_json_date(r));
  j["reminders"] = reminders;
  json escalations = json::array();
  for (const auto& e : item.escalations) {
    json rung{{"at", notice_json_date(e)}, {"to", e.to}, {"why", e.why}};
    if (e.repeat) rung["repeat"] = to_string(*e.repeat);
    escalations.push_back(rung);
  }
  j["escalations"] = escalations;
  if (!item.stage->outcomes.empty()) {
    json outcomes = json::array();
    for (const auto& o : item.stage->outcomes) {
      json oj{{"id", o.id}, {"title", o.title}};
      if (!o.start_workflow.empty()) oj["starts"] = o.start_workflow;
      outcomes.push_back(oj);
    }
    j["outcomes"] = outcomes;
  }
  if (!item.notes.empty()) j["notes"] = item.notes;
  return j;
}

json review_json(const ReviewPlan& plan) {
  const ReviewDefinition& def = *plan.definition;
  json j;
  j["workflow"] = def.id;
  j["title"] = def.title;
  j["version"] = def.version;
  j["calendar"] = def.calendar;
  j["start"] = plan.inputs.start_has_time ? iso(plan.inputs.start)
                                          : iso(Day{date::floor<date::days>(plan.inputs.start).time_since_epoch()});
  if (!plan.inputs.dates.empty()) {
    json dates = json::object();
    for (const auto& [k, v] : plan.inputs.dates) dates[k] = iso(v);
    j["dates"] = dates;
  }
  json stages = json::array();
  for (const auto& item : plan.stages) stages.push_back(item_json(item));
  j["stages"] = stages;
  return j;
}

json cycle_json(const CyclePlan& plan) {
  json j;
  j["workflow"] = plan.cycle->id;
  j["body"] = plan.cycle->body;
  j["version"] = plan.cycle->version;
  j["from"] = iso(plan.from);
  j["to"] = iso(plan.to);
  json meetings = json::array();
  for (const auto& m : plan.meetings) {
    json mj{{"date", iso(m.date)}, {"why", m.why}};
    json ms = json::array();
    for (const auto& item : m.milestones) ms.push_back(item_json(item));
    mj["milestones"] = ms;
    meetings.push_back(mj);
  }
  j["meetings"] = meetings;
  return j;
}

void print_item(std::ostream& out, const PlannedItem& item, const std::string& indent) {
  const Stage& s = *item.stage;
  out << indent << s.id << "  " << s.title << '\n';
  std::string when = item.due_at ? date::format("%a %F %H:%M", *item.due_at)
                                 : (item.due ? column_date(*item.due) : std::string("not yet known"));
  out << indent << "  due        " << when << "   " << item.why << '\n';
  if (!s.opens_after.empty()) {
    out << indent << "  opens      " << item.opens << '\n';
  }
  if (s.limit != Limit::statutory) {
    out << indent << "  limit      " << (s.limit == Limit::soft ? "no fixed limit: reminders only" : "local practice")
        << '\n';
  }
  for (const auto& r : item.reminders) {
    out << indent << "  reminder   " << notice_when(r) << "   " << r.why << " -> " << roles_text(r.to) << '\n';
  }
  for (const auto& e : item.escalations) {
    out << indent << "  escalate   " << notice_when(e) << "   " << e.why << " -> " << roles_text(e.to) << '\n';
  }
  for (const auto& o : s.outcomes) {
    out << indent << "  outcome    " << o.id << ": " << o.title;
    if (!o.start_workflow.empty()) out << " (starts workflow " << o.start_workflow << ")";
    out << '\n';
  }
  for (const auto& n : item.notes) out << indent << "  note       " << n << '\n';
}

void print_review(std::ostream& out, const ReviewPlan& plan) {
  const ReviewDefinition& def = *plan.definition;
  Day start{date::floor<date::days>(plan.inputs.start).time_since_epoch()};
  out << def.id << ": " << def.title << '\n';
  out << "  started " << long_date(start);
  if (plan.inputs.start_has_time) out << date::format(" at %H:%M", plan.inputs.start);
  out << " (day 0: " << def.start_event << ")\n";
  out << "  calendar " << def.calendar << ", definition " << def.file << " version " << def.version << '\n';
  if (!def.source.empty()) out << "  source: " << def.source << '\n';
  for (const auto& [k, v] : plan.inputs.dates) out << "  date." << k << " = " << long_date(v) << '\n';
  for (const auto& item : plan.stages) {
    out << '\n';
    print_item(out, item, "");
  }
}

void print_cycle(std::ostream& out, const CyclePlan& plan) {
  const MeetingCycle& c = *plan.cycle;
  out << c.id << ": " << c.body << '\n';
  out << "  meetings from " << long_date(plan.from) << " to " << long_date(plan.to) << ": " << plan.meetings.size()
      << '\n';
  out << "  calendar " << c.calendar << ", definition " << c.file << " version " << c.version << '\n';
  if (!c.source.empty()) out << "  source: " << c.source << '\n';
  if (!c.reports_to.empty()) out << "  reports to " << c.reports_to << '\n';
  for (const auto& m : plan.meetings) {
    out << "\nmeeting " << long_date(m.date) << "   (" << m.why << ")\n";
    for (const auto& item : m.milestones) print_item(out, item, "  ");
  }
}

Day parse_day_arg(const std::string& flag, const std::string& value) {
  auto d = parse_day(value);
  if (!d) throw UsageError(flag + " must be a date YYYY-MM-DD, found '" + value + "'");
  return *d;
}

PlanInputs review_inputs(const ReviewDefinition& def, const PlanOptions& o, Day default_start) {
  PlanInputs in;
  if (o.start.empty()) {
    in.start = LocalTime{default_start.time_since_epoch()};
  } else {
    auto t = parse_local_time(o.start);
    if (!t) throw UsageError("--start must be YYYY-MM-DD or YYYY-MM-DDTHH:MM, found '" + o.start + "'");
    in.start = *t;
    in.start_has_time = o.start.size() > 10;
  }
  std::vector<std::string> known;
  for (const auto& d : def.dates) known.push_back(d.name);
  for (const auto& kv : o.dates) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) throw UsageError("--date must be NAME=YYYY-MM-DD, found '" + kv + "'");
    std::string name = kv.substr(0, eq);
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      throw UsageError(def.id + " has no date '" + name + "'" + did_you_mean(name, known) +
                       (known.empty() ? "; it takes no dates" : "; it takes " + one_of(known)));
    }
    in.dates[name] = parse_day_arg("--date " + name, kv.substr(eq + 1));
  }
  return in;
}

std::pair<Day, Day> cycle_window(const PlanOptions& o, Day today_) {
  if (!o.financial_year.empty()) {
    if (!o.from.empty() || !o.to.empty()) throw UsageError("give either --financial-year or --from/--to, not both");
    auto fy = FinancialYear::parse(o.financial_year);
    if (!fy) throw UsageError("--financial-year must look like 2026/27, found '" + o.financial_year + "'");
    return {fy->first_day(), fy->last_day()};
  }
  FinancialYear current = FinancialYear::containing(today_);
  Day from = o.from.empty() ? current.first_day() : parse_day_arg("--from", o.from);
  Day to = o.to.empty() ? FinancialYear::containing(from).last_day() : parse_day_arg("--to", o.to);
  if (to < from) throw UsageError("--to " + iso(to) + " is before --from " + iso(from));
  if (to - from > date::days{3660}) throw UsageError("--from and --to may span at most ten years");
  return {from, to};
}

}  // namespace

int plan_command(const PlanOptions& o, std::ostream& out, std::ostream& err) {
  if (o.all && !o.workflow.empty()) throw UsageError("give a workflow or --all, not both");
  if (!o.all && o.workflow.empty()) {
    throw UsageError("plan needs a workflow id (e.g. docket plan rapid-review --start 2026-03-02) or --all");
  }
  auto dir = resolve_config_dir(o.config);
  auto config = load_or_report(dir, err);
  if (!config) return 1;
  const Day now = today(config->daemon.timezone);

  if (o.all) {
    if (!o.dates.empty()) throw UsageError("--date applies to one workflow; drop it with --all");
    json all{{"reviews", json::array()}, {"cycles", json::array()}};
    auto [from, to] = cycle_window(o, now);
    if (!o.json) {
      std::string start = o.start.empty() ? long_date(now) + " (today)" : o.start;
      out << "Plans of every workflow in " << dir.string() << ": each review type as if started " << start
          << "; each meeting cycle from " << long_date(from) << " to " << long_date(to) << ".\n\n";
    }
    bool first = true;
    auto separator = [&] {
      if (!o.json && !first) out << "\n" << std::string(78, '=') << "\n\n";
      first = false;
    };
    for (const auto& [id, def] : config->reviews) {
      if (!def.dates.empty()) {
        // A review counted from supplied dates is planned with each taken as its start day.
        PlanOptions with_dates = o;
        std::string start = o.start.empty() ? iso(now) : o.start.substr(0, 10);
        for (const auto& d : def.dates) with_dates.dates.push_back(d.name + "=" + start);
        auto plan = plan_review(*config, def, review_inputs(def, with_dates, now));
        separator();
        o.json ? all["reviews"].push_back(review_json(plan)) : (print_review(out, plan), void());
        continue;
      }
      auto plan = plan_review(*config, def, review_inputs(def, o, now));
      separator();
      o.json ? all["reviews"].push_back(review_json(plan)) : (print_review(out, plan), void());
    }
    for (const auto& [id, c] : config->cycles) {
      auto plan = plan_cycle(*config, c, from, to);
      separator();
      o.json ? all["cycles"].push_back(cycle_json(plan)) : (print_cycle(out, plan), void());
    }
    if (o.json) out << all.dump(2) << '\n';
    return 0;
  }

  if (auto it = config->reviews.find(o.workflow); it != config->reviews.end()) {
    if (!o.from.empty() || !o.to.empty() || !o.financial_year.empty()) {
      throw UsageError(o.workflow + " is a review type: plan it with --start DATE (--from, --to and "
                                    "--financial-year are for meeting cycles)");
    }
    if (o.start.empty()) throw UsageError(o.workflow + " is a review type: give the day it starts with --start YYYY-MM-DD");
    try {
      auto plan = plan_review(*config, it->second, review_inputs(it->second, o, now));
      o.json ? (out << review_json(plan).dump(2) << '\n', void()) : print_review(out, plan);
    } catch (const PlanError& e) {
      throw UsageError(e.what());
    }
    return 0;
  }
  if (auto it = config->cycles.find(o.workflow); it != config->cycles.end()) {
    if (!o.start.empty() || !o.dates.empty()) {
      throw UsageError(o.workflow + " is a meeting cycle: plan it with --from DATE --to DATE or --financial-year "
                                    "YYYY/YY (--start and --date are for reviews)");
    }
    auto [from, to] = cycle_window(o, now);
    auto plan = plan_cycle(*config, it->second, from, to);
    o.json ? (out << cycle_json(plan).dump(2) << '\n', void()) : print_cycle(out, plan);
    return 0;
  }
  std::vector<std::string> ids;
  for (const auto& [id, d] : config->reviews) ids.push_back(id);
  for (const auto& [id, c] : config->cycles) ids.push_back(id);
  throw UsageError("unknown workflow '" + o.workflow + "'" + did_you_mean(o.workflow, ids) + "; known: " + one_of(ids));
}

}  // namespace docket::cli
