#include "reports/compliance.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "store/audit_query.h"
#include "workflows/date_math.h"

namespace docket::reports {

using workflows::Day;

std::optional<double> StageCompliance::median_days_late() const {
  if (days_late.empty()) return std::nullopt;
  const std::size_t n = days_late.size();
  return n % 2 == 1 ? days_late[n / 2] : (days_late[n / 2 - 1] + days_late[n / 2]) / 2.0;
}

std::optional<int> StageCompliance::worst_days_late() const {
  if (days_late.empty()) return std::nullopt;
  return days_late.back();
}

std::optional<double> StageCompliance::within_limit_percent() const {
  const int decided = on_time + late + overdue;
  if (decided == 0 || limit == "soft") return std::nullopt;
  return 100.0 * within_limit / decided;
}

std::vector<StageCompliance> compliance(store::Reader& reader, const workflows::Config& config, const Period& period,
                                        Day today) {
  std::map<std::pair<std::string, std::string>, StageCompliance> by_stage;
  reader.for_each_due(workflows::iso(period.from), workflows::iso(period.to), false, [&](const store::DeadlineRow& row) {
    const store::DeadlineRecord& d = row.deadline;
    auto due = workflows::parse_day(d.due);
    if (!due) return;
    const auto def = config.reviews.find(row.workflow);
    const workflows::ReviewDefinition* definition = def == config.reviews.end() ? nullptr : &def->second;
    const workflows::Stage* stage = definition != nullptr ? definition->stage(d.stage) : nullptr;
    const workflows::Calendar& cal =
        definition != nullptr ? config.calendar_of(*definition) : config.calendar(config.daemon.calendar);
    StageCompliance& f = by_stage[{row.workflow, d.stage}];
    f.workflow = row.workflow;
    f.stage = d.stage;
    f.limit = stage != nullptr ? workflows::to_string(stage->limit) : "unknown";
    ++f.fell_due;
    if (d.extended) ++f.extended;
    if (d.state == "waived") {
      ++f.waived;
      return;
    }
    if (d.state == "met") {
      const Day done = workflows::parse_day(d.completed_on).value_or(*due);
      if (done <= *due) {
        ++f.on_time;
      } else {
        ++f.late;
        // A completion on a weekend or bank holiday counts from the next working day.
        const Day counted = workflows::roll(cal, done, workflows::Roll::next_working_day);
        f.days_late.push_back(std::max(1, workflows::working_days_between(cal, *due, counted)));
      }
      Day limit = *due;
      if (d.extended) {
        // The due date before the first extension is the limit that was set.
        if (auto e = store::first_audit(reader, d.ref, d.stage, "deadline.extended")) {
          auto details = nlohmann::json::parse(e->details, nullptr, false);
          if (details.is_object() && details.contains("from") && details["from"].is_string()) {
            limit = workflows::parse_day(details["from"].get<std::string>()).value_or(limit);
          }
        }
      }
      if (done <= limit) ++f.within_limit;
      return;
    }
    if (d.state == "suspended" || row.owner_state == "paused" || *due >= today) {
      ++f.open;
      return;
    }
    ++f.overdue;
  });

  std::vector<StageCompliance> out;
  auto take = [&](const std::string& workflow, const std::string& stage) {
    auto it = by_stage.find({workflow, stage});
    if (it == by_stage.end()) return;
    std::sort(it->second.days_late.begin(), it->second.days_late.end());
    out.push_back(std::move(it->second));
    by_stage.erase(it);
  };
  for (const auto& [id, def] : config.reviews) {
    for (const auto& s : def.stages) take(id, s.id);
  }
  // Stages no longer in the configuration, by workflow and stage id.
  while (!by_stage.empty()) {
    auto key = by_stage.begin()->first;
    take(key.first, key.second);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const StageCompliance& a, const StageCompliance& b) { return a.workflow < b.workflow; });
  return out;
}

Table compliance_table(const std::vector<StageCompliance>& rows, const Period& period, Day today) {
  Table t;
  t.title = "Compliance with time limits, " + period.label + " (" + workflows::short_date(period.from) + " to " +
            workflows::short_date(period.to) + "), as of " + workflows::short_date(today) +
            "; days late are working days";
  t.columns = {{"workflow", "workflow"},
               {"stage", "stage"},
               {"limit", "limit"},
               {"fell_due", "fell due"},
               {"met_on_time", "on time"},
               {"met_late", "late"},
               {"overdue", "overdue"},
               {"open", "open"},
               {"waived", "waived"},
               {"extended", "extended"},
               {"median_working_days_late", "median late"},
               {"worst_working_days_late", "worst late"},
               {"within_limit_percent", "within limit %"}};
  StageCompliance total;
  total.workflow = "all";
  int limited_within = 0, limited_decided = 0;  // the total percentage is over stages with a limit
  auto row = [&](const StageCompliance& s, std::optional<double> percent) {
    auto n = [](int v) -> Cell { return static_cast<std::int64_t>(v); };
    Cell median, worst, within;
    if (auto m = s.median_days_late()) median = *m == static_cast<double>(static_cast<int>(*m)) ? n(static_cast<int>(*m)) : Cell{*m};
    if (auto w = s.worst_days_late()) worst = n(*w);
    if (percent) within = *percent;
    t.add({s.workflow, s.stage, s.limit, n(s.fell_due), n(s.on_time), n(s.late), n(s.overdue), n(s.open), n(s.waived),
           n(s.extended), median, worst, within});
  };
  for (const auto& s : rows) {
    row(s, s.within_limit_percent());
    total.fell_due += s.fell_due;
    total.on_time += s.on_time;
    total.late += s.late;
    total.overdue += s.overdue;
    total.open += s.open;
    total.waived += s.waived;
    total.extended += s.extended;
    total.within_limit += s.within_limit;
    total.days_late.insert(total.days_late.end(), s.days_late.begin(), s.days_late.end());
    if (s.limit != "soft") {
      limited_within += s.within_limit;
      limited_decided += s.on_time + s.late + s.overdue;
    }
  }
  std::sort(total.days_late.begin(), total.days_late.end());
  if (rows.empty()) {
    t.notes.push_back("No review stage fell due in this period.");
  } else {
    row(total, limited_decided == 0 ? std::nullopt : std::optional<double>(100.0 * limited_within / limited_decided));
    t.notes.push_back(
        "on time / late: met by / after the due date (after any extension); overdue: open and past due; open: not yet "
        "due, or paused; waived: includes cancelled reviews; within limit: met by the due date before any extension, "
        "as a share of those met or overdue (soft limits have none; the 'all' row counts met and overdue of stages "
        "with a limit).");
  }
  return t;
}

}  // namespace docket::reports
