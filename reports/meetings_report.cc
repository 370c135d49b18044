#include "reports/meetings_report.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace docket::reports {

namespace {

bool was_held(const std::string& state) {
  return state == "held" || state == "notes drafted" || state == "amendment window" || state == "notes stand" ||
         state == "presented";
}

struct BodyFigures {
  int planned = 0, held = 0, not_held = 0, to_come = 0, quorate = 0, inquorate = 0;
  int papers_due = 0, papers_on_time = 0, notes_due = 0, notes_on_time = 0;
  bool has_quorum = false;
  std::map<std::string, int> attended;  // agency -> meetings
};

// The agencies present at a held meeting (`attended`: its person ids as JSON).
void count_attendance(BodyFigures& b, const std::string& attended_json, const workflows::Config& config,
                      std::set<std::string>& agencies) {
  std::set<std::string> present;
  auto attended = nlohmann::json::parse(attended_json, nullptr, false);
  if (attended.is_array()) {
    for (const auto& p : attended) {
      if (!p.is_string()) continue;
      const auto* person = config.directory.person(p.get<std::string>());
      present.insert(person != nullptr ? person->agency : "unknown");
    }
  }
  for (const auto& a : present) {
    ++b.attended[a];
    agencies.insert(a);
  }
}

// Papers and notes: the milestones marked by those steps, from the cycle's definition.
void count_milestones(BodyFigures& b, store::Reader& reader, const store::MeetingRecord& m,
                      const workflows::Config& config, workflows::Day today) {
  const auto cycle = config.cycles.find(m.cycle);
  if (cycle == config.cycles.end()) return;
  for (const auto& d : reader.deadlines_of(m.id)) {
    const workflows::Stage* s = cycle->second.milestone(d.stage);
    if (s == nullptr || (s->marks != "papers-published" && s->marks != "notes-drafted")) continue;
    const auto due = workflows::parse_day(d.due);
    if (!due) continue;
    const bool met = d.state == "met";
    if (!met && (d.state == "waived" || *due >= today)) continue;  // not yet due
    const bool on_time = met && workflows::parse_day(d.completed_on).value_or(*due) <= *due;
    if (s->marks == "papers-published") {
      ++b.papers_due;
      b.papers_on_time += on_time ? 1 : 0;
    } else {
      ++b.notes_due;
      b.notes_on_time += on_time ? 1 : 0;
    }
  }
}

// The report's tables from the figures of each body.
MeetingsReport tables(const std::map<std::string, BodyFigures>& bodies, const std::set<std::string>& agencies,
                      const workflows::Config& config, const Period& period, workflows::Day today) {
  MeetingsReport r;
  const std::string when = period.label + " (" + workflows::short_date(period.from) + " to " +
                           workflows::short_date(period.to) + "), as of " + workflows::short_date(today);
  r.summary.title = "Meetings, " + when;
  r.summary.columns = {{"body", "body"},
                       {"name", "name"},
                       {"planned", "planned"},
                       {"held", "held"},
                       {"not_held", "not held"},
                       {"to_come", "to come"},
                       {"quorate", "quorate"},
                       {"inquorate", "inquorate"},
                       {"papers_due", "papers due"},
                       {"papers_on_time", "papers on time"},
                       {"notes_due", "notes due"},
                       {"notes_on_time", "notes on time"}};
  r.attendance.title = "Attendance by agency: held meetings at which someone from the agency was present";
  r.attendance.columns = {{"body", "body"}, {"held", "held"}};
  for (const auto& a : agencies) r.attendance.columns.push_back({a, a});
  r.combined.columns = r.summary.columns;
  for (const auto& a : agencies) r.combined.columns.push_back({"attended_" + a, "attended " + a});

  auto n = [](int v) -> Cell { return static_cast<std::int64_t>(v); };
  for (const auto& [id, b] : bodies) {
    if (b.planned == 0) continue;
    const auto cycle = config.cycles.find(id);
    const std::string name = cycle != config.cycles.end() ? cycle->second.body : id;
    Cell quorate = b.has_quorum ? n(b.quorate) : Cell{}, inquorate = b.has_quorum ? n(b.inquorate) : Cell{};
    std::vector<Cell> row{id,        name,           n(b.planned),   n(b.held),    n(b.not_held), n(b.to_come),
                          quorate,   inquorate,      n(b.papers_due), n(b.papers_on_time), n(b.notes_due),
                          n(b.notes_on_time)};
    r.summary.add(row);
    std::vector<Cell> att{id, n(b.held)};
    for (const auto& a : agencies) {
      auto it = b.attended.find(a);
      att.push_back(n(it == b.attended.end() ? 0 : it->second));
      row.push_back(att.back());
    }
    r.attendance.add(att);
    r.combined.add(row);
  }
  if (r.summary.rows.empty()) {
    r.summary.notes.push_back("No meetings were planned in this period.");
  } else {
    r.summary.notes.push_back(
        "papers / notes due: met, or past their due date; on time: met by the due date. quorate: '-' where the body "
        "has no quorum rule.");
  }
  std::vector<std::string> names;
  for (const auto& a : agencies) {
    const auto* ag = config.directory.agency(a);
    names.push_back(a + ": " + (ag != nullptr ? ag->name : std::string("not in the directory")));
  }
  for (const auto& line : names) r.attendance.notes.push_back("  " + line);
  return r;
}

}  // namespace

MeetingsReport meetings_report(store::Reader& reader, const workflows::Config& config, const Period& period,
                               workflows::Day today) {
  std::map<std::string, BodyFigures> bodies;
  for (const auto& [id, cycle] : config.cycles) bodies[id].has_quorum = !cycle.quorum.empty();
  std::set<std::string> agencies;
  for (const auto& m : reader.meetings_between(workflows::iso(period.from), workflows::iso(period.to))) {
    BodyFigures& b = bodies[m.cycle];
    ++b.planned;
    const auto day = workflows::parse_day(m.date);
    const bool held = was_held(m.state);
    if (held) {
      ++b.held;
    } else if (day && *day < today) {
      ++b.not_held;
    } else {
      ++b.to_come;
    }
    if (held && m.quorate == 1) ++b.quorate;
    if (held && m.quorate == 0) ++b.inquorate;
    if (held) count_attendance(b, m.attended, config, agencies);
    count_milestones(b, reader, m, config, today);
  }
  for (const auto& [id, cycle] : config.cycles) agencies.insert(cycle.quorum.begin(), cycle.quorum.end());

  return tables(bodies, agencies, config, period, today);
}

}  // namespace docket::reports
