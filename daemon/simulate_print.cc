// Printing what a simulation committed (daemon/simulate.h): the table
// `docket simulate` prints, and the JSON of --json.

#include <algorithm>
#include <map>
#include <ostream>

#include "daemon/simulate.h"

namespace docket::daemon {

using nlohmann::json;

namespace {

std::string local(const Scenario& sc, Instant t, const char* fmt = "%a %F %H:%M") {
  return date::format(fmt, date::floor<std::chrono::minutes>(sc.zone()->to_local(t)));
}

std::string str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string{};
}

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// key=value, quoted when the value has spaces; objects flattened with dots.
void flatten(const json& j, const std::string& prefix, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
    return;
  }
  std::string v = text_of(j);
  const bool quote = v.empty() || v.find_first_of(" \t\"=") != std::string::npos;
  out.push_back(prefix + "=" + (quote ? json(v).dump() : v));
}

std::string args_text(const json& args) {
  // The reference and what it names first, the rest alphabetically.
  std::vector<std::string> parts;
  for (const char* key : {"ref", "workflow", "stage"}) {
    if (args.contains(key)) flatten(args[key], key, parts);
  }
  for (const auto& [k, v] : args.items()) {
    if (k != "ref" && k != "workflow" && k != "stage") flatten(v, k, parts);
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

std::string recipients(const std::vector<SimNotification>& list) {
  std::string out;
  bool late = false;
  for (const auto& n : list) {
    out += (out.empty() ? "" : ", ") + n.person + " (" + n.role + ")";
    late = late || n.late;
  }
  return out.empty() ? "no one new" : out + (late ? " [late]" : "");
}

std::string details_text(const SimEvent& e) {
  const json& d = e.details;
  std::string out;
  if (e.kind == "review.started") {
    out = str(d, "workflow") + ", version " + str(d, "version").substr(0, 12) + ", start " + str(d, "start");
    for (const char* key : {"assign", "dates"}) {
      if (d.contains(key) && d[key].is_object()) {
        for (const auto& [k, v] : d[key].items()) out += ", " + k + "=" + text_of(v);
      }
    }
  } else if (e.kind == "deadline.opened") {
    out = "due " + str(d, "due") + ": " + str(d, "why");
  } else if (e.kind == "deadline.rescheduled") {
    out = str(d, "from") + " -> " + str(d, "to") + ": " + str(d, "why");
  } else if (e.kind == "stage.completed") {
    out = "on " + str(d, "on");
    if (d.contains("outcome")) out += ", outcome " + text_of(d["outcome"]);
    const int late = d.value("working_days_late", 0);
    out += late > 0 ? ", " + std::to_string(late) + " working day" + (late == 1 ? "" : "s") + " late (due " +
                          str(d, "due") + ")"
                    : ", due " + str(d, "due");
  } else if (e.kind == "deadline.reminder") {
    out = "reminder " + std::to_string(d.value("reminder", 0)) + ", " + str(d, "before");
  } else if (e.kind == "deadline.overdue") {
    out = "was due " + str(d, "due");
  } else if (e.kind == "deadline.escalated") {
    out = "rung " + std::to_string(d.value("rung", 0));
    out +=
        d.contains("repeat") ? ", told again (" + std::to_string(d.value("repeat", 0)) + ")" : ", " + str(d, "after");
  } else if (e.kind == "deadline.extended") {
    out = str(d, "from") + " -> " + str(d, "to") + ": " + str(d, "reason");
  } else if (e.kind == "review.paused" || e.kind == "stage.waived" || e.kind == "review.cancelled") {
    out = str(d, "reason");
  } else if (e.kind == "review.resumed") {
    out = "paused since " + str(d, "paused_on") + ", " + std::to_string(d.value("days_paused", 0)) + " days";
  } else if (e.kind == "review.not_started") {
    out = str(d, "workflow") + ": " + str(d, "reason");
  } else if (d.is_object() && !d.empty()) {
    out = d.dump();
  }
  if (e.kind == "deadline.reminder" || e.kind == "deadline.escalated" || e.kind == "review.paused" ||
      !e.notifications.empty()) {
    out += " -> " + recipients(e.notifications);
  }
  return out;
}

// What a successful step answered, in a few words.
std::string answer_text(const ScenarioStep& s, const Result& r) {
  if (!r.ok) return "error: " + r.error;
  const json d = r.body();
  std::string out = "ok";
  if (d.contains("started")) out += ", started " + text_of(d["started"]);
  if (d.contains("not_started")) out += ", no review started: " + text_of(d["not_started"]);
  auto stages = [](const json& stage_list) {
    std::string text;
    for (const auto& st : stage_list) {
      text += (text.empty() ? "" : ", ") + str(st, "stage") + " " + str(st, "state") + " (due " + str(st, "due") + ")";
    }
    return text;
  };
  if (s.command == "status") {
    if (d.contains("stages")) {
      out += ": " + str(d, "state") + "; " + stages(d["stages"]);
    } else if (d.contains("reviews")) {
      out += ": " + std::to_string(d["reviews"].size()) + " open or paused";
    }
  } else if (s.command == "overdue" || s.command == "upcoming") {
    const json& list = d[s.command];
    out += ": " + (list.empty() ? std::string("none") : std::to_string(list.size()));
    for (const auto& item : list)
      out += "; " + str(item, "ref") + " " + str(item, "stage") + " due " + str(item, "due");
  }
  return out;
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

// One table row: columns padded, the last one as it is, no trailing blanks.
std::string row(const std::vector<std::pair<std::string, std::size_t>>& columns, const std::string& last) {
  std::string out;
  for (const auto& [text, width] : columns) out += pad(text, width) + "  ";
  out += last;
  out.erase(out.find_last_not_of(' ') + 1);
  return out;
}

struct ColumnWidths {
  std::size_t actor = 6, kind = 5, ref = 3, stage = 0;
};

// Wide enough for every row that is shown.
ColumnWidths column_widths(const Scenario& sc, const Transcript& t) {
  ColumnWidths w;
  for (const auto& e : t.events) {
    if (!sc.shows(e.ref)) continue;
    w.actor = std::max(w.actor, e.actor.size());
    w.kind = std::max(w.kind, e.kind.size());
    w.ref = std::max(w.ref, e.ref.size());
    w.stage = std::max(w.stage, e.stage.size());
  }
  for (const auto& loose : t.loose) {
    if (!sc.shows(loose.ref)) continue;
    w.ref = std::max(w.ref, loose.ref.size());
    w.stage = std::max(w.stage, loose.stage.size());
  }
  for (const auto& s : t.steps) {
    w.actor = std::max(w.actor, s.step->as.size());
    w.kind = std::max(w.kind, s.step->command.size() + 2);
  }
  return w;
}

// One line per step, event and loose message, in time order.
void print_entries(const Scenario& sc, const Transcript& t, const ColumnWidths& w, std::ostream& out) {
  for (const auto& entry : t.order) {
    if (entry.type == SimEntry::Type::step) {
      const SimStep& s = t.steps[entry.index];
      const ScenarioStep& step = *s.step;
      out << '\n'
          << local(sc, step.instant) << "  " << pad(step.as, w.actor) << "  " << pad("> " + step.command, w.kind)
          << "  " << "step " << step.number << (step.args.empty() ? "" : ": " + args_text(step.args)) << " => "
          << answer_text(step, s.result);
      if (!step.expect_ok && !s.result.ok) out << " (as expected)";
      if (!s.as_expected) out << "  [NOT AS EXPECTED: expect = \"" << (step.expect_ok ? "ok" : "error") << "\"]";
      out << '\n';
    } else if (entry.type == SimEntry::Type::event) {
      const SimEvent& e = t.events[entry.index];
      if (!sc.shows(e.ref)) continue;
      out << row({{local(sc, e.at), 0}, {e.actor, w.actor}, {e.kind, w.kind}, {e.ref, w.ref}, {e.stage, w.stage}},
                 details_text(e))
          << '\n';
    } else {
      const SimNotification& n = t.loose[entry.index];
      if (!sc.shows(n.ref)) continue;
      out << row({{local(sc, n.at), 0}, {"", w.actor}, {"-> " + n.kind, w.kind}, {n.ref, w.ref}, {n.stage, w.stage}},
                 n.person + " (" + n.role + ")" + (n.late ? " [late]" : ""))
          << '\n';
    }
  }
}

// The "End ..." line: steps as expected, what was shown and committed.
void print_totals(const Scenario& sc, const Transcript& t, std::ostream& out) {
  std::map<std::string, std::size_t> by_kind;
  std::size_t events = 0, notifications = 0;
  for (const auto& e : t.events) {
    if (!sc.shows(e.ref)) continue;
    ++events;
    notifications += e.notifications.size();
    for (const auto& n : e.notifications) ++by_kind[n.kind];
  }
  for (const auto& n : t.loose) {
    if (!sc.shows(n.ref)) continue;
    ++notifications;
    ++by_kind[n.kind];
  }
  std::string kinds;
  for (const auto& [k, n] : by_kind) {
    const std::string noun = k == "paused" ? "pause notice" : k == "reminder" || k == "escalation" ? k : k + " message";
    kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
  }
  const std::size_t expected = t.steps.size() - static_cast<std::size_t>(t.mismatches);
  out << "\nEnd " << local(sc, sc.end_instant) << ": " << expected << " of " << t.steps.size() << " steps as expected; "
      << events << " events and " << notifications << " notifications" << (kinds.empty() ? "" : " (" + kinds + ")");
  if (events < t.events.size() || notifications < t.notification_count()) {
    std::string only;
    for (const auto& o : sc.only) only += (only.empty() ? "" : ", ") + o;
    out << "; not shown (only " << only << "): " << t.events.size() - events << " events and "
        << t.notification_count() - notifications << " notifications of other references";
  }
  out << "; committed in " << t.batches << " batches, " << t.audit_records << " audit records in the store\n";
}

// The reviews shown, with their open stages, as committed at the end.
void print_reviews(const Scenario& sc, const Transcript& t, std::ostream& out) {
  std::vector<const store::ReviewRecord*> reviews;
  for (const auto& r : t.reviews) {
    if (sc.shows(r.ref)) reviews.push_back(&r);
  }
  if (reviews.empty()) return;
  out << "Reviews at the end:\n";
  std::size_t ref_width = 0, workflow_width = 0;
  for (const auto* r : reviews) {
    ref_width = std::max(ref_width, r->ref.size());
    workflow_width = std::max(workflow_width, r->workflow.size());
  }
  for (const auto* rp : reviews) {
    const store::ReviewRecord& r = *rp;
    std::string open;
    for (const auto& d : t.deadlines) {
      if (d.ref != r.ref || !d.completed_on.empty()) continue;
      open += (open.empty() ? "" : ", ") + d.stage + " " + d.state + " (due " + d.due + ")";
    }
    out << row({{"", 0}, {r.ref, ref_width}, {r.workflow, workflow_width}, {r.state, 9}}, open) << '\n';
  }
}

}  // namespace

void print_table(const Scenario& sc, const Transcript& t, std::ostream& out) {
  out << "Scenario " << sc.path << '\n';
  if (!sc.description.empty()) out << "  " << sc.description << '\n';
  out << "Configuration " << sc.config_dir.string() << " (" << sc.config->hash.substr(0, 12) << "), times "
      << sc.zone()->name() << ", " << local(sc, sc.start_instant) << " to " << local(sc, sc.end_instant) << ", "
      << sc.steps.size() << (sc.steps.size() == 1 ? " step" : " steps") << "\n";

  print_entries(sc, t, column_widths(sc, t), out);
  print_totals(sc, t, out);
  print_reviews(sc, t, out);
}

json transcript_json(const Scenario& sc, const Transcript& t) {
  auto iso = [&](Instant at) { return local(sc, at, "%FT%H:%M"); };
  auto notification_json = [&](const SimNotification& n) {
    return json{{"at", iso(n.at)},    {"kind", n.kind}, {"ref", n.ref},  {"stage", n.stage},
                {"person", n.person}, {"role", n.role}, {"late", n.late}};
  };
  json events = json::array(), notifications = json::array(), steps = json::array();
  for (const auto& entry : t.order) {
    if (entry.type == SimEntry::Type::step) {
      const SimStep& s = t.steps[entry.index];
      json j{{"at", iso(s.step->instant)},
             {"step", s.step->number},
             {"as", s.step->as},
             {"command", s.step->command},
             {"args", s.step->args},
             {"ok", s.result.ok},
             {"expect", s.step->expect_ok ? "ok" : "error"},
             {"as_expected", s.as_expected}};
      if (s.result.ok) {
        j["result"] = s.result.body();
      } else {
        j["error"] = s.result.error;
      }
      steps.push_back(std::move(j));
    } else if (entry.type == SimEntry::Type::event) {
      const SimEvent& e = t.events[entry.index];
      if (!sc.shows(e.ref)) continue;
      json j{{"at", iso(e.at)},  {"kind", e.kind},   {"ref", e.ref},
             {"stage", e.stage}, {"actor", e.actor}, {"details", e.details}};
      if (e.step > 0) j["step"] = e.step;
      events.push_back(std::move(j));
      for (const auto& n : e.notifications) notifications.push_back(notification_json(n));
    } else if (sc.shows(t.loose[entry.index].ref)) {
      notifications.push_back(notification_json(t.loose[entry.index]));
    }
  }
  json reviews = json::array();
  for (const auto& r : t.reviews) {
    if (!sc.shows(r.ref)) continue;
    json stages = json::array();
    for (const auto& d : t.deadlines) {
      if (d.ref != r.ref) continue;
      json st{{"stage", d.stage}, {"state", d.state}, {"due", d.due}};
      if (!d.completed_on.empty()) st["completed_on"] = d.completed_on;
      if (!d.outcome.empty()) st["outcome"] = d.outcome;
      stages.push_back(std::move(st));
    }
    reviews.push_back({{"ref", r.ref}, {"workflow", r.workflow}, {"state", r.state}, {"stages", stages}});
  }
  json doc{{"scenario", sc.path},
           {"config", sc.config_dir.string()},
           {"timezone", sc.zone()->name()},
           {"start", iso(sc.start_instant)},
           {"end", iso(sc.end_instant)},
           {"events", events},
           {"notifications", notifications},
           {"steps", steps},
           {"reviews", reviews},
           {"as_expected", t.mismatches == 0}};
  if (!sc.only.empty()) {
    doc["only"] = sc.only;
    doc["not_shown"] = {{"events", t.events.size() - events.size()},
                        {"notifications", t.notification_count() - notifications.size()}};
  }
  return doc;
}

}  // namespace docket::daemon
