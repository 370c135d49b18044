// docketd's answers as people read them: a review, a list of deadlines, the
// meetings of a body. The commands themselves come from docketd's command
// table (cli/daemon_commands.cc).

#include <algorithm>
#include <iomanip>
#include <map>
#include <ostream>
#include <sstream>

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

}  // namespace

namespace {

void print_status(const json& r, std::ostream& out) {
  if (r["reviews"].empty()) out << "No open reviews.\n";
  for (const auto& rev : r["reviews"]) {
    print_review(out, rev);
    out << '\n';
  }
  if (r.contains("more")) {
    out << "... and " << r["more"].get<long>() << " more open reviews; ask for one with docket status REF, or see "
        << "docket report compliance\n";
  }
}

void print_reload(const json& r, std::ostream& out) {
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
}

// A command that changed a review: what was done, then the review as it now stands.
void print_changed(const std::string& done, const json& r, std::ostream& out) {
  out << done << '\n';
  print_review(out, r);
  if (r.contains("started")) out << "\nstarted " << str(r, "started") << " from the outcome\n";
  if (r.contains("not_started")) out << "\nnote: the follow-on review was not started: " << str(r, "not_started") << '\n';
}

// What was asked, what docketd answered, and the --by grouping of `overdue`.
struct Answer {
  const json& args;
  const json& r;
  const std::string& group;
  std::string arg(const char* key) const { return str(args, key); }
};
using Printer = void (*)(const Answer&, std::ostream&);

// How each command's answer is printed, by the command's name in the table.
const std::map<std::string, Printer> kPrinters{
    {"start", [](const Answer& a, std::ostream& out) { print_changed("started " + str(a.r, "ref"), a.r, out); }},
    {"complete", [](const Answer& a, std::ostream& out) {
       print_changed("completed " + a.arg("stage") + " of " + a.arg("ref"), a.r, out);
     }},
    {"pause", [](const Answer& a, std::ostream& out) {
       print_changed("paused " + a.arg("ref") + "; the clock has stopped", a.r, out);
     }},
    {"resume", [](const Answer& a, std::ostream& out) {
       print_changed("resumed " + a.arg("ref") + "; the clock runs on with the days already run", a.r, out);
     }},
    {"extend", [](const Answer& a, std::ostream& out) {
       print_changed("extended " + a.arg("stage") + " of " + a.arg("ref") + " to " + a.arg("to"), a.r, out);
     }},
    {"waive", [](const Answer& a, std::ostream& out) {
       print_changed("waived " + a.arg("stage") + " of " + a.arg("ref"), a.r, out);
     }},
    {"cancel", [](const Answer& a, std::ostream& out) { print_changed("cancelled " + a.arg("ref"), a.r, out); }},
    {"status", [](const Answer& a, std::ostream& out) {
       if (a.arg("ref").empty()) {
         print_status(a.r, out);
       } else {
         print_review(out, a.r);
       }
     }},
    {"overdue", [](const Answer& a, std::ostream& out) {
       if (a.group == "role") {
         print_by_role(out, a.r["overdue"]);
       } else {
         print_deadlines(out, a.r["overdue"], true);
       }
     }},
    {"upcoming", [](const Answer& a, std::ostream& out) { print_deadlines(out, a.r["upcoming"], false); }},
    {"meeting-list", [](const Answer& a, std::ostream& out) {
       print_meetings(out, a.r["meetings"]);
       for (const auto& ch : a.r["chairs"]) {
         out << "chair of " << str(ch, "body") << " in " << str(ch, "year") << ": " << str(ch, "person") << '\n';
       }
     }},
    {"chair-appoint", [](const Answer& a, std::ostream& out) {
       out << "appointed " << str(a.r, "person") << " (" << str(a.r, "agency") << ") chair of " << str(a.r, "body")
           << " for " << str(a.r, "year") << '\n';
     }},
    {"reload", [](const Answer& a, std::ostream& out) { print_reload(a.r, out); }},
    {"outbox-retry", [](const Answer& a, std::ostream& out) {
       out << "message " << a.args["id"].get<std::int64_t>() << " (" << str(a.r, "key") << ") is queued again\n";
     }},
    {"clock", [](const Answer& a, std::ostream& out) {
       out << (a.args.contains("advance") ? "advanced; " : "") << str(a.r, "mode") << " clock now "
           << str(a.r, "local") << " (" << str(a.r, "now") << ")\n";
     }},
    {"version", [](const Answer& a, std::ostream& out) {
       out << "docketd " << str(a.r, "version") << " (commit " << str(a.r, "commit") << ")\n";
     }},
};

}  // namespace

void print_answer(const std::string& command, const json& args, const json& r, const std::string& group,
                  std::ostream& out) {
  const Answer answer{args, r, group};
  if (auto it = kPrinters.find(command); it != kPrinters.end()) {
    it->second(answer, out);
  } else if (command.starts_with("meeting-")) {
    print_meetings(out, json::array({r}));  // a meeting's step: the meeting as it now stands
  } else {
    out << r.dump(2) << '\n';  // a command with no printer of its own: its answer as it came
  }
}

}  // namespace docket::cli
