// `docket simulate`: the shipped scenario on the daemon's engine, the exact
// errors of a bad scenario, `expect`, the JSON and determinism. Expected
// times are counted by hand from config/ (notices go out at 09:00
// Europe/London on working days; British Summer Time from 29 March 2026 to
// 25 October 2026).

#include <gtest/gtest.h>

#include <sstream>

#include "daemon/simulate.h"
#include "tests/support/temp_config.h"

namespace docket::daemon {
namespace {

using nlohmann::json;

struct Run {
  int code;
  std::string out;
  std::string err;
};

Run simulate_file(const std::filesystem::path& path, bool as_json = false) {
  std::ostringstream out, err;
  int code = simulate(path, as_json, out, err);
  return {code, out.str(), err.str()};
}

const std::filesystem::path kShipped = testing::source_dir() / "scenarios" / "rapid-review-to-paused-lcspr.toml";

// The first line of `text` holding every fragment, in order; empty if none.
std::string line_with(const std::string& text, const std::vector<std::string>& fragments) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::size_t at = 0;
    bool all = true;
    for (const auto& f : fragments) {
      at = line.find(f, at);
      if (at == std::string::npos) {
        all = false;
        break;
      }
      at += f.size();
    }
    if (all) return line;
  }
  return {};
}

// A scenario beside a scratch copy of the shipped configuration, as the
// shipped ones sit beside config/: scenarios/NAME.toml with config = "../".
class ScenarioFile {
 public:
  explicit ScenarioFile(const std::string& text) { tmp_.write("scenarios/test.toml", text); }
  std::filesystem::path path() const { return tmp_.dir() / "scenarios" / "test.toml"; }
  std::string name() const { return path().string(); }
  const testing::TempConfig& config() const { return tmp_; }

 private:
  testing::TempConfig tmp_;
};

const std::string kHeader =
    "config = \"..\"\nstart = 2026-03-02T08:00:00\nend = 2026-04-30T18:00:00\nas = \"a-morgan\"\n";

TEST(Simulate, ShippedScenarioRunsWithTheExpectedEventsAtTheirVirtualTimes) {
  auto r = simulate_file(kShipped);
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(r.err, "");
  const std::string& out = r.out;
  // Started Mon 2 March: notify-panel is due 5 working days later (Mon 9
  // March), its reminder 2 working days before, Thu 5 March at 09:00.
  EXPECT_NE(line_with(out, {"Mon 2026-03-02 09:30", "a-morgan", "> start", "ref=RR-2026-014", "=> ok"}), "") << out;
  EXPECT_NE(
      line_with(out, {"Mon 2026-03-02 09:30", "a-morgan", "review.started", "RR-2026-014", "rapid-review, version"}),
      "");
  EXPECT_NE(
      line_with(out, {"Mon 2026-03-02 09:30", "deadline.opened", "RR-2026-014", "notify-panel", "due 2026-03-09"}), "");
  EXPECT_NE(
      line_with(out, {"Mon 2026-03-02 09:30", "deadline.opened", "RR-2026-014", "rapid-review", "due 2026-03-23"}), "");
  EXPECT_NE(line_with(out, {"Thu 2026-03-05 09:00", "system", "deadline.reminder", "RR-2026-014", "notify-panel",
                            "reminder 1, 2 working days before the deadline -> k-davies (la-safeguarding-lead)"}),
            "")
      << out;
  // The Rapid Review, due Mon 23 March: reminders 5 and 2 working days
  // before, to the lead reviewer assigned at the start.
  EXPECT_NE(line_with(out, {"Mon 2026-03-16 09:00", "deadline.reminder", "rapid-review", "reminder 1",
                            "-> k-davies (lead-reviewer)"}),
            "");
  EXPECT_NE(line_with(out, {"Thu 2026-03-19 09:00", "deadline.reminder", "rapid-review", "reminder 2",
                            "-> k-davies (lead-reviewer)"}),
            "");
  // Completed with outcome lcspr on Fri 20 March: the LCSPR starts that day.
  EXPECT_NE(line_with(out, {"Fri 2026-03-20 15:00", "k-davies", "> complete", "outcome=lcspr",
                            "=> ok, started RR-2026-014/lcspr"}),
            "");
  EXPECT_NE(line_with(out, {"Fri 2026-03-20 15:00", "system", "review.started", "RR-2026-014/lcspr", "lcspr, version",
                            "start 2026-03-20", "lead-reviewer=k-davies"}),
            "");
  // The lead reviewer may not stop the clock (an expected refusal); the
  // business manager does. Local time after the clocks went forward on 29
  // March: 14:05 BST is 13:05 UTC.
  EXPECT_NE(line_with(out, {"Tue 2026-04-21 14:00", "k-davies", "> pause", "=> error: you may not pause reviews",
                            "(as expected)"}),
            "");
  EXPECT_NE(
      line_with(out, {"Tue 2026-04-21 14:05", "a-morgan", "review.paused", "RR-2026-014/lcspr", "criminal proceedings",
                      "-> national-panel (national-panel), k-davies (rlt-children-chair)"}),
      "")
      << out;
  // Resumed after 104 days: publication, due Sun 20 September 2026 (6
  // months after Fri 20 March), moves on by as many days, to Sat 2 January.
  EXPECT_NE(line_with(out, {"Mon 2026-08-03 09:15", "a-morgan", "review.resumed", "RR-2026-014/lcspr",
                            "paused since 2026-04-21, 104 days"}),
            "");
  EXPECT_NE(line_with(out, {"Mon 2026-08-03 09:15", "deadline.rescheduled", "RR-2026-014/lcspr", "publish",
                            "2026-09-20 -> 2027-01-02"}),
            "");
  EXPECT_NE(line_with(out, {"Mon 2026-11-16 16:00", "m-clarke", "deadline.extended", "RR-2026-014/lcspr", "publish",
                            "2027-01-02 -> 2027-01-29: the family asked to contribute"}),
            "");
  EXPECT_NE(line_with(out, {"Thu 2027-01-28 10:00", "system", "review.started", "RR-2026-014/lcspr/learning-briefing"}),
            "");
  // The learning briefing starts Thu 28 January 2027 and is due a month
  // later, Sun 28 February; it is never done: overdue from midnight, the
  // business manager hears 1 working day later (Mon 1 March, 09:00), the
  // independent chair 10 working days later (Fri 12 March).
  EXPECT_NE(line_with(out, {"Fri 2027-02-19 09:00", "deadline.reminder", "RR-2026-014/lcspr/learning-briefing",
                            "reminder 1, 1 week before the deadline", "-> s-patel (partnership-team)"}),
            "");
  EXPECT_NE(line_with(out, {"Mon 2027-03-01 00:00", "system", "deadline.overdue", "RR-2026-014/lcspr/learning-briefing",
                            "publish", "was due 2027-02-28"}),
            "")
      << out;
  EXPECT_NE(
      line_with(out, {"Mon 2027-03-01 09:00", "system", "deadline.escalated", "RR-2026-014/lcspr/learning-briefing",
                      "publish", "rung 1, 1 working day overdue -> a-morgan (business-manager)"}),
      "")
      << out;
  EXPECT_NE(line_with(out, {"Fri 2027-03-12 09:00", "deadline.escalated", "RR-2026-014/lcspr/learning-briefing",
                            "rung 2, 10 working days overdue -> j-okafor (independent-chair)"}),
            "");
  EXPECT_NE(line_with(out, {"End Wed 2027-03-31 18:00: 11 of 11 steps as expected"}), "");
  EXPECT_NE(line_with(out, {"RR-2026-014/lcspr ", "lcspr", "closed"}), "");
  EXPECT_NE(line_with(out, {"RR-2026-014/lcspr/learning-briefing", "open", "publish escalated (due 2027-02-28)"}), "");
}

TEST(Simulate, EveryBatchGoesThroughTheStore) {
  workflows::Diagnostics diags;
  auto sc = load_scenario(kShipped, diags);
  ASSERT_TRUE(sc) << (diags.empty() ? "" : workflows::format(diags.sorted().front()));
  Transcript t = run_scenario(*sc);
  EXPECT_EQ(t.mismatches, 0);
  EXPECT_EQ(t.audit_records, t.events.size()) << "every printed event is an audit record read back from the store";
  EXPECT_GT(t.batches, sc->steps.size());
  ASSERT_EQ(t.reviews.size(), 3u);
  EXPECT_EQ(t.reviews[0].ref, "RR-2026-014");
  EXPECT_EQ(t.reviews[0].state, "closed");
  // Paused and resumed: the pause was told to the Panel and the chair once.
  std::size_t pause_notices = 0, escalations = 0, reminders = 0;
  for (const auto& e : t.events) {
    for (const auto& n : e.notifications) {
      pause_notices += n.kind == "paused";
      escalations += n.kind == "escalation";
      reminders += n.kind == "reminder";
    }
  }
  EXPECT_EQ(pause_notices, 2u);
  EXPECT_GE(escalations, 1u);
  EXPECT_GE(reminders, 5u);
  for (const auto& n : t.loose) {
    EXPECT_FALSE(sc->shows(n.ref)) << n.ref << " " << n.kind << ": every message of the case is accounted for by the "
                                   << "audit entry that sent it";
  }
}

// A clock advance fires a review at a time; the transcript still lists the
// moment's events in the order of their references, as stepping the clock
// fires them. Reviews started a day apart, the later ones under the earlier
// references, share notice times with different first events.
TEST(Simulate, EventsOfOneMomentAreListedInReferenceOrder) {
  std::string steps;
  for (int i = 0; i < 5; ++i) {
    steps += "[[step]]\nat = 2026-03-0" + std::to_string(2 + i) + "T09:30:00\ncommand = \"start\"\n" +
             "args = { workflow = \"rapid-review\", ref = \"RR-" + std::to_string(5 - i) +
             "\", assign = { lead-reviewer = \"k-davies\" } }\n";
  }
  ScenarioFile f(kHeader + steps);
  workflows::Diagnostics diags;
  auto sc = load_scenario(f.path(), diags);
  ASSERT_TRUE(sc) << (diags.empty() ? "" : workflows::format(diags.sorted().front()));
  Transcript t = run_scenario(*sc);
  EXPECT_EQ(t.mismatches, 0);
  int shared = 0;
  const SimEvent* last = nullptr;
  for (const auto& entry : t.order) {
    if (entry.type != SimEntry::Type::event) continue;
    const SimEvent& e = t.events[entry.index];
    if (last != nullptr && e.step == 0 && last->step == 0 && e.at == last->at && e.ref != last->ref) {
      ++shared;
      EXPECT_LT(last->ref, e.ref) << "at " << e.at.time_since_epoch().count();
    }
    last = &e;
  }
  EXPECT_GT(shared, 3) << "moments that several reviews share";
}

TEST(Simulate, StepOutOfTimeOrderIsAnErrorAtItsTime) {
  ScenarioFile f(kHeader +
                 "[[step]]\n"
                 "at = 2026-03-02T10:00:00\n"
                 "command = \"overdue\"\n"
                 "[[step]]\n"
                 "at = 2026-03-02T09:00:00\n"
                 "command = \"overdue\"\n");
  auto r = simulate_file(f.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, f.name() +
                       ":9:6: step 2 at 2026-03-02T09:00 is earlier than step 1 at 2026-03-02T10:00; list the steps in "
                       "time order\n" +
                       f.name() + ": 1 error; nothing was run\n");
}

TEST(Simulate, EveryScenarioProblemIsReportedWithItsPosition) {
  ScenarioFile f(
      "config = \"..\"\n"
      "start = 2026-03-02T08:00:00\n"
      "end = 2026-04-30T18:00:00\n"
      "as = \"a-morgn\"\n"
      "colour = \"blue\"\n"
      "[[step]]\n"
      "at = 2026-03-01T10:00:00\n"
      "command = \"overdue\"\n"
      "[[step]]\n"
      "at = 2026-05-01T10:00:00\n"
      "command = \"complete\"\n"
      "args = \"RR-1\"\n"
      "[[step]]\n"
      "at = 2026-03-03T10:00:00\n"
      "command = \"complete\"\n"
      "args = { ref = \"RR-1\", stage = \"x\", outcom = \"lcspr\" }\n"
      "expect = \"maybe\"\n"
      "[[step]]\n"
      "at = \"2026-03-04T10:00\"\n"
      "command = \"clock\"\n"
      "when = 1\n");
  auto r = simulate_file(f.path());
  EXPECT_EQ(r.code, 2);
  const std::string p = f.name() + ":";
  const std::string expected =
      p +
      "4:6: unknown person 'a-morgn', did you mean 'a-morgan'? (expected one of: a-morgan, b-wilson, c-jones, "
      "d-evans, foundations, h-ahmed, home-office, j-okafor, k-davies, l-brown, m-clarke, national-panel, p-singh, "
      "r-hughes, s-patel or t-ward) in 'as'\n" +
      p +
      "5:1: unknown key 'colour' in the scenario; expected one of: as, config, description, end, only, start or "
      "step\n" +
      p + "7:6: step 1 at 2026-03-01T10:00 is before the scenario's start (2026-03-02T08:00)\n" + p +
      "10:6: step 2 at 2026-05-01T10:00 is after the scenario's end (2026-04-30T18:00)\n" + p +
      "12:8: 'args' must be a table, found a string, e.g. args = { ref = \"RR-2026-014\" }\n" + p +
      "16:37: unknown key 'outcom' in the arguments of complete, did you mean 'outcome'?\n" + p +
      "17:10: 'expect' must be \"ok\" or \"error\", found \"maybe\"\n" + p +
      "19:6: 'at' must be a local date-time (no quotes), found a string, e.g. at = 2026-03-02T09:30:00\n" + p +
      "20:11: 'clock' cannot be a step: the simulated clock moves only from one step's 'at' to the next\n" + p +
      "21:1: unknown key 'when' in step 4; expected one of: args, as, at, command or expect\n" + f.name() +
      ": 10 errors; nothing was run\n";
  EXPECT_EQ(r.err, expected);
}

TEST(Simulate, BadConfigurationIsReportedWithItsOwnErrors) {
  ScenarioFile f(kHeader);
  f.config().write("workflows/bad.toml", "kind = \"review\"\nid = \"bad\"\ntitle = \"x\"\nstartevent = \"y\"\n");
  auto r = simulate_file(f.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(f.config().dir().string() +
                       "/workflows/bad.toml:4:1: unknown key 'startevent' in the review definition"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(f.name() + ":1:10: the configuration in " + f.config().dir().string() + " has "),
            std::string::npos)
      << r.err;

  ScenarioFile missing("config = \"../nowhere\"\nstart = 2026-03-02T08:00:00\nend = 2026-04-30T18:00:00\n");
  r = simulate_file(missing.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.err, missing.name() + ":1:10: the configuration folder " + (missing.config().dir() / "nowhere").string() +
                       " does not exist; 'config' is relative to the scenario file\n" + missing.name() +
                       ": 1 error; nothing was run\n");

  r = simulate_file(missing.config().dir() / "scenarios" / "absent.toml");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("absent.toml: cannot read the scenario file\n"), std::string::npos) << r.err;
}

TEST(Simulate, StepThatSucceedsWhenAnErrorWasExpectedExitsOne) {
  ScenarioFile f(kHeader +
                 "[[step]]\n"
                 "at = 2026-03-02T09:30:00\n"
                 "command = \"start\"\n"
                 "args = { workflow = \"rapid-review\", ref = \"RR-1\", on = 2026-03-02 }\n"
                 "expect = \"error\"\n"
                 "[[step]]\n"
                 "at = 2026-03-03T09:30:00\n"
                 "as = \"h-ahmed\"\n"
                 "command = \"pause\"\n"
                 "args = { ref = \"RR-1\", reason = \"x\" }\n"
                 "expect = \"error\"\n");
  auto r = simulate_file(f.path());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, f.name() + ": 1 step did not go as expected\n");
  // Everything is still printed; the surprise is marked.
  EXPECT_NE(line_with(r.out, {"Mon 2026-03-02 09:30", "a-morgan", "> start", "=> ok",
                              "[NOT AS EXPECTED: expect = \"error\"]"}),
            "")
      << r.out;
  EXPECT_NE(line_with(r.out, {"Tue 2026-03-03 09:30", "h-ahmed", "> pause", "=> error: you may not pause reviews",
                              "(as expected)"}),
            "")
      << r.out;
  EXPECT_NE(line_with(r.out, {"End Thu 2026-04-30 18:00: 1 of 2 steps as expected"}), "");
}

TEST(Simulate, OnlyPrintsTheNamedReferencesButRunsEverything) {
  ScenarioFile f(kHeader +
                 "only = [\"RR-1\"]\n"
                 "[[step]]\n"
                 "at = 2026-03-02T09:30:00\n"
                 "command = \"start\"\n"
                 "args = { workflow = \"rapid-review\", ref = \"RR-1\", on = 2026-03-02 }\n"
                 "[[step]]\n"
                 "at = 2026-03-02T09:31:00\n"
                 "command = \"start\"\n"
                 "args = { workflow = \"rapid-review\", ref = \"RR-2\", on = 2026-03-02 }\n");
  auto r = simulate_file(f.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(line_with(r.out, {"Mon 2026-03-02 09:30", "review.started", "RR-1"}), "");
  // Steps always print; events of other references do not.
  EXPECT_NE(line_with(r.out, {"Mon 2026-03-02 09:31", "> start", "ref=RR-2", "=> ok"}), "");
  EXPECT_EQ(line_with(r.out, {"review.started", "RR-2"}), "");
  EXPECT_EQ(line_with(r.out, {"Thu 2026-03-05 09:00", "deadline.reminder", "RR-2"}), "");
  // RR-1's notices print as usual.
  EXPECT_NE(line_with(r.out, {"Thu 2026-03-05 09:00", "deadline.reminder", "RR-1", "notify-panel",
                              "-> k-davies (la-safeguarding-lead)"}),
            "");
  EXPECT_NE(line_with(r.out, {"not shown (only RR-1): "}), "") << r.out;
  auto j = json::parse(simulate_file(f.path(), true).out);
  for (const auto& e : j["events"]) EXPECT_NE(e["ref"], "RR-2");
  EXPECT_GT(j["not_shown"]["events"].get<int>(), 0);
}

TEST(Simulate, TimesWithoutSecondsAreExplained) {
  ScenarioFile f("config = \"..\"\nstart = 2026-03-02T08:00\nend = 2026-04-30T18:00:00\n");
  auto r = simulate_file(f.path());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find(f.name() + ":2:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("; TOML times need seconds, e.g. 2026-03-02T09:30:00\n"), std::string::npos) << r.err;
}

TEST(Simulate, JsonHasTheDocumentedKeys) {
  auto r = simulate_file(kShipped, true);
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out.substr(0, 400);
  EXPECT_EQ(j["scenario"], kShipped.string());
  ASSERT_TRUE(j["events"].is_array());
  ASSERT_TRUE(j["notifications"].is_array());
  ASSERT_TRUE(j["steps"].is_array());
  ASSERT_FALSE(j["events"].empty());
  for (const auto& e : j["events"]) {
    for (const char* key : {"at", "kind", "ref", "stage", "actor", "details"}) EXPECT_TRUE(e.contains(key)) << key;
    EXPECT_TRUE(e["details"].is_object());
  }
  for (const auto& n : j["notifications"]) {
    for (const char* key : {"at", "kind", "ref", "stage", "person", "role", "late"})
      EXPECT_TRUE(n.contains(key)) << key;
  }
  ASSERT_EQ(j["steps"].size(), 11u);
  for (const auto& s : j["steps"]) {
    for (const char* key : {"at", "command", "ok"}) EXPECT_TRUE(s.contains(key)) << key;
    EXPECT_EQ(s.contains("error"), !s["ok"].get<bool>());
  }
  EXPECT_EQ(j["steps"][0]["at"], "2026-03-02T09:30");
  EXPECT_EQ(j["steps"][0]["command"], "start");
  EXPECT_EQ(j["steps"][4]["ok"], false);
  EXPECT_EQ(j["steps"][4]["as_expected"], true);
  EXPECT_EQ(j["events"][0]["kind"], "review.started");
  EXPECT_EQ(j["events"][0]["actor"], "a-morgan");
  EXPECT_EQ(j["events"][0]["details"]["clock"], "virtual");
  EXPECT_EQ(j["notifications"][0], (json{{"at", "2026-03-05T09:00"},
                                         {"kind", "reminder"},
                                         {"ref", "RR-2026-014"},
                                         {"stage", "notify-panel"},
                                         {"person", "k-davies"},
                                         {"role", "la-safeguarding-lead"},
                                         {"late", false}}));
  // Events are in time order, in local time.
  std::string previous;
  for (const auto& e : j["events"]) {
    EXPECT_LE(previous, e["at"].get<std::string>());
    previous = e["at"].get<std::string>();
  }
  bool paused = false;
  for (const auto& e : j["events"]) paused = paused || (e["kind"] == "review.paused" && e["at"] == "2026-04-21T14:05");
  EXPECT_TRUE(paused);
}

TEST(Simulate, TwoRunsPrintTheSame) {
  auto a = simulate_file(kShipped);
  auto b = simulate_file(kShipped);
  EXPECT_EQ(a.code, 0);
  EXPECT_EQ(a.out, b.out);
  auto ja = simulate_file(kShipped, true);
  auto jb = simulate_file(kShipped, true);
  EXPECT_EQ(ja.out, jb.out);
}

}  // namespace
// The Executive's year, as shipped: every step goes as the scenario says, and
// the meeting clock does what the Terms of Reference ask.
TEST(Simulate, TheExecutiveYearScenario) {
  auto r = simulate_file(testing::source_dir() / "scenarios" / "executive-year.toml", true);
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::map<std::string, std::vector<std::string>> kinds;  // kind -> "ref at"
  for (const auto& e : j["events"]) kinds[e["kind"]].push_back(e["ref"].get<std::string>() + " " + e["at"].get<std::string>());
  // June's papers were a day late: the chair heard on Wednesday 3 June at 09:00.
  ASSERT_EQ(kinds["deadline.escalated"].size(), 1u);
  EXPECT_EQ(kinds["deadline.escalated"][0].substr(0, 21), "@executive/2026-06-09");
  // The September meeting, moved a week, lacked the council: inquorate.
  ASSERT_EQ(kinds["meeting.inquorate"].size(), 1u);
  EXPECT_EQ(kinds["meeting.inquorate"][0].substr(0, 21), "@executive/2026-09-08");
  // June's notes stood by themselves and were presented to the Partnership on 15 July.
  ASSERT_EQ(kinds["meeting.present"].size(), 1u);
  EXPECT_EQ(kinds["meeting.present"][0].substr(0, 21), "@executive/2026-06-09");
  EXPECT_EQ(kinds["chair.appointed"].size(), 2u);
}

}  // namespace docket::daemon
