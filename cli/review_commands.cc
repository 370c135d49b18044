// The commands that go to docketd: start, complete, pause, resume, extend,
// waive, cancel, status, overdue, upcoming and clock. Each builds a request,
// sends it, and prints the answer as a table (or the raw JSON with --json).

#include <algorithm>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

#include "cli/client.h"
#include "cli/commands.h"

namespace docket::cli {

using nlohmann::json;

namespace {

std::string str(const json& j, const char* key, const std::string& fallback = "") {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

std::string due_column(const json& d) {
  std::string due = str(d, "due_at", str(d, "due"));
  auto day = workflows::parse_day(str(d, "due"));
  if (day && !d.contains("due_at")) return date::format("%a %F", *day);
  return due;
}

void print_review(std::ostream& out, const json& r) {
  out << str(r, "ref") << "  " << str(r, "workflow") << " (definition version " << str(r, "version") << ")  "
      << str(r, "state") << "  started " << str(r, "start");
  if (r.contains("paused_on")) out << "  paused since " << str(r, "paused_on");
  out << '\n';
  if (!str(r, "title").empty()) out << "  title: " << str(r, "title") << '\n';
  if (r.contains("parent")) out << "  started by the outcome of " << str(r, "parent") << '\n';
  for (const auto& [role, person] : r["assignments"].items()) out << "  " << role << ": " << person.get<std::string>() << '\n';
  out << "  " << pad("stage", 20) << pad("state", 13) << pad("due", 17) << pad("left", 6) << "owner\n";
  for (const auto& d : r["stages"]) {
    std::string left = d.contains("working_days_left") ? std::to_string(d["working_days_left"].get<int>()) : "";
    std::string state = str(d, "state");
    if (state == "escalated" && d.contains("rung")) state += " " + std::to_string(d["rung"].get<int>());
    std::string owner = str(d, "owner");
    if (d.contains("owner_person")) owner += " (" + str(d, "owner_person") + ")";
    std::string note;
    if (d.contains("completed_on")) note = "  completed " + str(d, "completed_on");
    if (d.contains("outcome")) note += ", outcome " + str(d, "outcome");
    if (d.contains("extended")) note += "  extended";
    out << "  " << pad(str(d, "stage"), 20) << pad(state, 13) << pad(due_column(d), 17) << pad(left, 6) << owner << note
        << '\n';
  }
}

void print_deadlines(std::ostream& out, const json& list, bool overdue) {
  if (list.empty()) {
    out << (overdue ? "Nothing is overdue.\n" : "Nothing falls due in that period.\n");
    return;
  }
  out << pad("ref", 22) << pad("stage", 20) << pad("due", 17) << pad(overdue ? "late" : "left", 6) << pad("state", 13)
      << "owner\n";
  for (const auto& d : list) {
    std::string days = overdue ? std::to_string(d["working_days_overdue"].get<int>())
                               : std::to_string(d["working_days_left"].get<int>());
    std::string state = str(d, "state");
    if (d.contains("rung")) state += " " + std::to_string(d["rung"].get<int>());
    std::string owner = str(d, "owner");
    if (d.contains("owner_person")) owner += " (" + str(d, "owner_person") + ")";
    out << pad(str(d, "ref"), 22) << pad(str(d, "stage"), 20) << pad(due_column(d), 17) << pad(days, 6)
        << pad(state, 13) << owner << '\n';
  }
}

// `docket overdue --by role`: who owes what, one group per owning role, the
// roles with the most overdue first.
void print_by_role(std::ostream& out, const json& list) {
  if (list.empty()) {
    out << "Nothing is overdue.\n";
    return;
  }
  std::map<std::string, json> groups;
  for (const auto& d : list) {
    const std::string role = str(d, "owner");
    auto& g = groups[role.empty() ? "(no owner)" : role];
    if (g.is_null()) g = json::array();
    g.push_back(d);
  }
  std::vector<std::pair<std::string, json>> ordered(groups.begin(), groups.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
  bool first = true;
  for (const auto& [role, items] : ordered) {
    if (!first) out << '\n';
    first = false;
    out << role << ": " << items.size() << " overdue\n";
    print_deadlines(out, items, true);
  }
}

void print_meetings(std::ostream& out, const json& list) {
  if (list.empty()) {
    out << "No meetings scheduled.\n";
    return;
  }
  std::string body;
  for (const auto& m : list) {
    if (str(m, "body") != body) {
      if (!body.empty()) out << '\n';
      body = str(m, "body");
      out << body << ": " << str(m, "body_title") << '\n';
    }
    auto day = workflows::parse_day(str(m, "date"));
    out << "  " << (day ? date::format("%a %F", *day) : str(m, "date")) << "  " << str(m, "state");
    if (m.contains("planned")) out << "  (moved from " << str(m, "planned") << ": " << str(m, "moved_reason") << ")";
    if (m.contains("quorate")) out << (m["quorate"].get<bool>() ? "  quorate" : "  INQUORATE");
    out << '\n';
    for (const auto& ms : m["milestones"]) {
      auto due = workflows::parse_day(str(ms, "due"));
      out << "      " << pad(str(ms, "id"), 14) << "due " << (due ? date::format("%a %F", *due) : str(ms, "due")) << "  "
          << str(ms, "state");
      if (ms.contains("completed_on")) out << " " << str(ms, "completed_on");
      out << '\n';
    }
  }
}

std::map<std::string, std::string> pairs(const std::vector<std::string>& items, const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const auto& kv : items) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size()) {
      throw UsageError(flag + " must be NAME=VALUE, found '" + kv + "'");
    }
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

}  // namespace

int daemon_command(const DaemonOptions& o, std::ostream& out, std::ostream& err) {
  json args = json::object();
  const std::string& c = o.command;
  if (!o.ref.empty()) args["ref"] = o.ref;
  if (!o.stage.empty()) args["stage"] = o.stage;
  if (!o.reason.empty()) args["reason"] = o.reason;
  if (!o.on.empty()) args["on"] = o.on;
  if (c == "start") {
    args["workflow"] = o.workflow;
    if (!o.title.empty()) args["title"] = o.title;
    args["assign"] = pairs(o.assign, "--assign");
    args["dates"] = pairs(o.dates, "--date");
  } else if (c == "complete") {
    if (!o.outcome.empty()) args["outcome"] = o.outcome;
  } else if (c == "extend") {
    args["to"] = o.to;
  } else if (c == "upcoming") {
    args["days"] = o.days;
  } else if (c == "outbox-retry") {
    args["id"] = o.id;
  } else if (c == "clock" && !o.advance.empty()) {
    args["advance"] = o.advance;
  } else if (c.starts_with("meeting-") || c == "chair-appoint") {
    if (!o.body.empty()) args["body"] = o.body;
    if (!o.day.empty()) args["date"] = o.day;
    if (!o.attended.empty()) args["attended"] = o.attended;
    if (!o.by.empty()) args["by"] = o.by;
    if (!o.to.empty()) args["to"] = o.to;
    if (!o.person.empty()) args["person"] = o.person;
    if (!o.year.empty()) args["year"] = o.year;
  }
  json reply;
  try {
    reply = call(resolve_socket(o.socket, o.config), c, args);
  } catch (const ConnectionError& e) {
    err << "docket: " << e.what() << '\n';
    return 1;
  }
  if (!reply["ok"].get<bool>()) {
    err << "docket: " << str(reply, "error", "docketd refused the command") << '\n';
    return 1;
  }
  const json& r = reply["result"];
  if (o.json) {
    out << r.dump(2) << '\n';
    return 0;
  }
  if (c == "status" && o.ref.empty()) {
    if (r["reviews"].empty()) out << "No open reviews.\n";
    for (const auto& rev : r["reviews"]) {
      print_review(out, rev);
      out << '\n';
    }
    if (r.contains("more")) {
      out << "... and " << r["more"].get<long>() << " more open reviews; ask for one with docket status REF, or see "
          << "docket report compliance\n";
    }
  } else if (c == "overdue" && o.group == "role") {
    print_by_role(out, r["overdue"]);
  } else if (c == "overdue") {
    print_deadlines(out, r["overdue"], true);
  } else if (c == "upcoming") {
    print_deadlines(out, r["upcoming"], false);
  } else if (c == "meeting-list") {
    print_meetings(out, r["meetings"]);
    for (const auto& ch : r["chairs"]) {
      out << "chair of " << str(ch, "body") << " in " << str(ch, "year") << ": " << str(ch, "person") << '\n';
    }
  } else if (c.starts_with("meeting-")) {
    print_meetings(out, json::array({r}));
  } else if (c == "chair-appoint") {
    out << "appointed " << str(r, "person") << " (" << str(r, "agency") << ") chair of " << str(r, "body") << " for "
        << str(r, "year") << '\n';
  } else if (c == "reload") {
    out << "reloaded: configuration " << str(r, "config").substr(0, 12) << '\n';
    if (r["changed"].empty()) out << "  no definition changed\n";
    for (const auto& ch : r["changed"]) {
      out << "  " << str(ch, "workflow") << ": ";
      if (ch.contains("removed")) {
        out << "removed (version " << str(ch, "from") << ")\n";
      } else if (ch.contains("from")) {
        out << "version " << str(ch, "from") << " -> " << str(ch, "to") << '\n';
      } else {
        out << "new, version " << str(ch, "to") << '\n';
      }
    }
    int kept = r["reviews_on_earlier_versions"].get<int>();
    if (kept > 0) out << "  " << kept << " running review" << (kept == 1 ? " keeps" : "s keep") << " an earlier version\n";
  } else if (c == "outbox-retry") {
    out << "message " << o.id << " (" << str(r, "key") << ") is queued again\n";
  } else if (c == "clock") {
    out << (o.advance.empty() ? "" : "advanced; ") << str(r, "mode") << " clock now " << str(r, "local") << " ("
        << str(r, "now") << ")\n";
  } else {
    if (c == "start") out << "started " << str(r, "ref") << '\n';
    if (c == "complete") out << "completed " << o.stage << " of " << o.ref << '\n';
    if (c == "pause") out << "paused " << o.ref << "; the clock has stopped\n";
    if (c == "resume") out << "resumed " << o.ref << "; the clock runs on with the days already run\n";
    if (c == "extend") out << "extended " << o.stage << " of " << o.ref << " to " << o.to << '\n';
    if (c == "waive") out << "waived " << o.stage << " of " << o.ref << '\n';
    if (c == "cancel") out << "cancelled " << o.ref << '\n';
    print_review(out, r);
    if (r.contains("started")) out << "\nstarted " << str(r, "started") << " from the outcome\n";
    if (r.contains("not_started")) out << "\nnote: the follow-on review was not started: " << str(r, "not_started") << '\n';
  }
  return 0;
}

}  // namespace docket::cli
