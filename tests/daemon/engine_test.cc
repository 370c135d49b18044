// The engine on a virtual clock: commands, the deadline lifecycle, refused
// events, pause arithmetic, catch-up after an outage, role checks and
// recovery from the store. Expected dates are counted by hand.

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>

#include "daemon/commands.h"
#include "daemon/committer.h"
#include "daemon/engine.h"
#include "daemon/json_text.h"
#include "tests/support/temp_config.h"

namespace docket::daemon {
namespace {

using namespace std::chrono_literals;
using workflows::iso;
using nlohmann::json;

// Europe/London is on GMT until 29 March 2026, so UTC and local agree before then.
Instant utc(const char* text) {
  auto t = *workflows::parse_local_time(text);
  return Instant{std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())};
}

const Caller kManager{"a-morgan", {"business-manager", "administrator"}};
const Caller kLeadReviewer{"k-davies", {"rlt-children-chair", "la-safeguarding-lead", "channel-chair", "partnership-member"}};
const Caller kMember{"h-ahmed", {"rlt-children-member", "rlt-adults-member", "partnership-member"}};

std::shared_ptr<const workflows::Config> shipped() {
  static auto config = workflows::load_config(testing::shipped_config()).config;
  return config;
}

// A command as docketd runs it: through the command table, which decides who
// may run it before the engine does anything.
Result dispatch_as(Engine& engine, VirtualClock& clock, const Caller& who, const std::string& command, json args,
                   store::Batch& b) {
  Services s{engine, clock, &clock, {}, {}, {}};
  return command_table().dispatch(s, who, Request{1, command, std::move(args)}, b);
}

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : clock_(utc("2026-03-02T08:00")), engine_(shipped(), clock_) {}

  Result start(const std::string& workflow, const std::string& ref, const std::string& on,
               std::map<std::string, std::string> assign = {{"lead-reviewer", "k-davies"}}) {
    StartArgs a;
    a.workflow = workflow;
    a.ref = ref;
    a.on = on;
    for (const auto& [role, person] : assign) {
      const auto& roles = engine_.config().reviews.at(workflow).review_roles;
      if (std::find(roles.begin(), roles.end(), role) != roles.end()) a.assign[role] = person;
    }
    store::Batch b;
    Result r = engine_.start(kManager, a, b);
    batches_.push_back(b);
    return r;
  }

  json stage(const std::string& ref, const std::string& id) {
    auto st = engine_.status(ref);
    EXPECT_TRUE(st.ok) << st.error;
    for (const auto& s : st.data["stages"]) {
      if (s["stage"] == id) return s;
    }
    return nullptr;
  }

  // Moves the clock and fires what is due, as the daemon's timer would.
  store::Batch advance_to(const char* when) {
    store::Batch b;
    Instant target = utc(when);
    while (auto next = engine_.next_fire()) {
      if (*next > target) break;
      clock_.set(std::max(clock_.now(), *next));
      engine_.fire_due(clock_.now(), b);
    }
    clock_.set(target);
    return b;
  }

  static std::vector<std::string> keys(const store::Batch& b) {
    std::vector<std::string> out;
    for (const auto& m : b.outbox) out.push_back(m.key);
    return out;
  }

  Result as(const Caller& who, const std::string& command, json args, store::Batch& b) {
    return dispatch_as(engine_, clock_, who, command, std::move(args), b);
  }

  VirtualClock clock_;
  Engine engine_;
  std::vector<store::Batch> batches_;
};

TEST_F(EngineTest, StartOpensTheStagesThatOpenAtTheStart) {
  Result r = start("rapid-review", "RR-2026-001", "2026-03-02");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(stage("RR-2026-001", "notify-panel")["due"], "2026-03-09");
  EXPECT_EQ(stage("RR-2026-001", "rapid-review")["due"], "2026-03-23");
  EXPECT_EQ(stage("RR-2026-001", "panel-response"), nullptr) << "opens only when the review is sent";
  EXPECT_EQ(stage("RR-2026-001", "rapid-review")["owner_person"], "k-davies");
  const auto& b = batches_.back();
  ASSERT_EQ(b.reviews.size(), 1u);
  EXPECT_EQ(b.reviews[0].state, "open");
  EXPECT_EQ(b.deadlines.size(), 2u);
  ASSERT_GE(b.audit.size(), 3u);
  EXPECT_EQ(b.audit[0].kind, "review.started");
  EXPECT_EQ(b.audit[0].actor, "a-morgan");
  EXPECT_EQ(json::parse(b.audit[0].details)["clock"], "virtual");
  EXPECT_EQ(b.audit[1].kind, "deadline.opened");
  EXPECT_TRUE(b.outbox.empty());
  // The earliest timed event is the notify-panel reminder, Thursday 5 March at 09:00.
  EXPECT_EQ(engine_.next_fire(), utc("2026-03-05T09:00"));
}

TEST_F(EngineTest, StartRefusalsChangeNothing) {
  ASSERT_TRUE(start("rapid-review", "RR-1", "2026-03-02").ok);
  auto refused = [&](const std::string& workflow, const std::string& ref, const std::string& on,
                     std::map<std::string, std::string> assign, const std::string& message) {
    StartArgs a{workflow, ref, on, "", assign, {}};
    store::Batch b;
    Result r = engine_.start(kManager, a, b);
    EXPECT_FALSE(r.ok) << ref;
    EXPECT_EQ(r.error, message);
    EXPECT_TRUE(b.empty()) << ref;
  };
  refused("rapid-reveiw", "RR-2", "2026-03-02", {},
          "unknown review type 'rapid-reveiw', did you mean 'rapid-review'? (expected one of: case-file-audit, "
          "child-death, dhr, dispute, lcspr, learning-briefing, rapid-review, sar or yearly-report)");
  refused("executive", "X-1", "", {}, "'executive' is a meeting cycle; meetings are created from its schedule, not started");
  refused("rapid-review", "RR-1", "2026-03-02", {}, "a review with reference RR-1 already exists (rapid-review, started 2026-03-02)");
  refused("rapid-review", "RR 2", "", {}, "'RR 2' is not a valid reference: use 1 to 40 letters, digits and - _ . beginning and ending with a letter or digit, e.g. RR-2026-014");
  refused("rapid-review", "RR-3", "2026-03-03", {}, "a review cannot start in the future (2026-03-03)");
  refused("rapid-review", "RR-4", "", {{"author", "k-davies"}},
          "unknown role to assign 'author' (expected lead-reviewer)");
  refused("rapid-review", "RR-5", "", {{"lead-reviewer", "nobody"}},
          "unknown person 'nobody' (expected one of: a-morgan, b-wilson, c-jones, d-evans, foundations, h-ahmed, "
          "home-office, j-okafor, k-davies, l-brown, m-clarke, national-panel, p-singh, r-hughes, s-patel or t-ward) "
          "in --assign lead-reviewer=nobody");
  store::Batch b;
  Result r = as(kMember, "start", {{"workflow", "rapid-review"}, {"ref", "RR-6"}}, b);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("you may not start reviews"), std::string::npos);
  EXPECT_EQ(engine_.review_count(), 1u);
}

TEST_F(EngineTest, RemindersGoAtNotifyTimeOnTheirDay) {
  ASSERT_TRUE(start("rapid-review", "RR-1", "2026-03-02").ok);
  auto before = advance_to("2026-03-05T08:59");
  EXPECT_TRUE(before.outbox.empty());
  auto at = advance_to("2026-03-05T09:00");
  // 2 working days before notify-panel (Mon 9 March): the local authority lead.
  EXPECT_EQ(keys(at), (std::vector<std::string>{"RR-1:notify-panel:reminder:1:k-davies"}));
  EXPECT_FALSE(at.outbox[0].late);
  EXPECT_EQ(json::parse(at.outbox[0].payload)["working_days_left"], 2);
  EXPECT_EQ(stage("RR-1", "notify-panel")["state"], "due soon");
  // The deadline passes at midnight after its day; the first rung goes on Tuesday 10 March at 09:00.
  advance_to("2026-03-10T00:00");
  EXPECT_EQ(stage("RR-1", "notify-panel")["state"], "overdue");
  auto rung = advance_to("2026-03-10T09:00");
  EXPECT_EQ(keys(rung), (std::vector<std::string>{"RR-1:notify-panel:escalation:1:k-davies"}));
  EXPECT_EQ(stage("RR-1", "notify-panel")["state"], "escalated");
  EXPECT_EQ(stage("RR-1", "notify-panel")["rung"], 1);
}

TEST_F(EngineTest, CatchUpSendsTheLatestReminderAndEveryRungMarkedLate) {
  ASSERT_TRUE(start("rapid-review", "RR-1", "2026-03-02").ok);
  // The daemon was down for a month: one call fires everything at once.
  clock_.set(utc("2026-04-01T10:00"));
  store::Batch b;
  engine_.fire_due(clock_.now(), b);
  std::vector<std::string> rr;
  for (const auto& m : b.outbox) {
    if (m.stage == "rapid-review" && m.person != "j-okafor" && m.person != "p-singh" && m.person != "r-hughes") {
      rr.push_back(m.key);
    }
    EXPECT_TRUE(m.late) << m.key;
  }
  // Reminder 2 only (not 1); rungs 1, 2 and 3; the repeats of rung 3 since
  // 30 March coalesced into one (none are due yet: the first is 6 April).
  EXPECT_EQ(rr, (std::vector<std::string>{"RR-1:rapid-review:reminder:2:k-davies",
                                          "RR-1:rapid-review:escalation:1:k-davies",
                                          "RR-1:rapid-review:escalation:2:a-morgan",
                                          "RR-1:rapid-review:escalation:3:m-clarke"}));
  // notify-panel (due 9 March) has passed rung 3 (Thursday 12 March) and two
  // repeats 5 working days apart (19 and 26 March); they go as one, the second.
  bool coalesced = false;
  for (const auto& m : b.outbox) {
    if (m.key == "RR-1:notify-panel:escalation:3.2:m-clarke") coalesced = true;
    EXPECT_EQ(m.key.find("notify-panel:escalation:3.1"), std::string::npos) << "repeats are coalesced";
  }
  EXPECT_TRUE(coalesced);
  std::set<std::string> unique_keys;
  for (const auto& m : b.outbox) EXPECT_TRUE(unique_keys.insert(m.key).second) << "twice: " << m.key;
  store::Batch again;
  engine_.fire_due(clock_.now(), again);
  EXPECT_TRUE(again.outbox.empty()) << "nothing fires twice";
}

TEST_F(EngineTest, CompletingOpensTheNextStageStartsTheFollowOnAndCloses) {
  ASSERT_TRUE(start("rapid-review", "RR-1", "2026-03-02").ok);
  clock_.set(utc("2026-03-16T12:00"));
  store::Batch b;
  Result r = engine_.complete(kLeadReviewer, "RR-1", "rapid-review", "lcspr", "2026-03-13", b);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.data["started"], "RR-1/lcspr");
  // 10 working days after Friday 13 March.
  EXPECT_EQ(stage("RR-1", "panel-response")["due"], "2026-03-27");
  EXPECT_EQ(stage("RR-1/lcspr", "publish")["due"], "2026-09-13");
  EXPECT_EQ(engine_.status("RR-1/lcspr").data["parent"], "RR-1");
  store::Batch b2;
  ASSERT_TRUE(engine_.complete(kLeadReviewer, "RR-1", "notify-panel", "", "", b2).ok);
  ASSERT_TRUE(engine_.complete(kLeadReviewer, "RR-1", "panel-response", "", "", b2).ok);
  EXPECT_EQ(engine_.status("RR-1").data["state"], "closed");
  bool closed = false;
  for (const auto& a : b2.audit) closed = closed || a.kind == "review.closed";
  EXPECT_TRUE(closed);
  store::Batch b3;
  Result again = engine_.complete(kLeadReviewer, "RR-1", "rapid-review", "lcspr", "", b3);
  EXPECT_FALSE(again.ok);
  EXPECT_EQ(again.error, "review RR-1 is closed; its stages cannot be completed");
  EXPECT_TRUE(b3.empty());
}

// `start` answers with the review written straight to text; it must be what
// status(ref) gives, byte for byte, whatever state the review is in.
TEST_F(EngineTest, AReviewAsTextIsItsStatusInEveryState) {
  auto same = [&](const std::string& ref) {
    std::string dumped;
    append_json(dumped, engine_.status(ref).data);
    EXPECT_EQ(engine_.review_text(ref), dumped) << ref;
  };
  StartArgs a;
  a.workflow = "lcspr";
  a.ref = "L-1";
  a.on = "2026-03-02";
  a.title = "Caf\u00e9 \"quoted\" \\ back\\slash";
  a.assign["lead-reviewer"] = "k-davies";
  store::Batch b;
  Result started = engine_.start(kManager, a, b);
  ASSERT_TRUE(started.ok) << started.error;
  EXPECT_TRUE(started.data.empty()) << "start answers with text";
  EXPECT_EQ(started.body(), engine_.status("L-1").data);
  same("L-1");
  clock_.set(utc("2026-04-01T10:00"));
  ASSERT_TRUE(engine_.pause(kManager, "L-1", "criminal proceedings", b).ok);
  same("L-1");  // paused_on, suspended stages
  clock_.set(utc("2026-05-01T10:00"));
  ASSERT_TRUE(engine_.resume(kManager, "L-1", b).ok);
  ASSERT_TRUE(engine_.extend(kManager, "L-1", "publish", "2027-01-29", "family asked to contribute", b).ok);
  same("L-1");  // extended
  ASSERT_TRUE(start("rapid-review", "RR-1", "2026-04-01").ok);
  advance_to("2026-05-01T12:00");
  same("RR-1");  // overdue, escalated (rung), next notices
  ASSERT_TRUE(engine_.complete(kLeadReviewer, "RR-1", "rapid-review", "lcspr", "2026-04-30", b).ok);
  same("RR-1");  // completed_on, outcome
  same("RR-1/lcspr");  // parent
  EXPECT_EQ(engine_.review_text("no-such-ref"), "");
}

TEST_F(EngineTest, EventsNoStateAcceptsAreRefusedClearly) {
  ASSERT_TRUE(start("rapid-review", "RR-1", "2026-03-02").ok);
  auto fails = [&](Result r, const std::string& message) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, message);
  };
  store::Batch b;
  fails(engine_.complete(kManager, "RR-1", "panel-response", "", "", b),
        "stage 'panel-response' of RR-1 has not opened yet: it opens when rapid-review is completed");
  fails(engine_.complete(kManager, "RR-1", "rapid-review", "", "", b),
        "stage 'rapid-review' needs --outcome, one of: lcspr, national-review or no-review");
  fails(engine_.complete(kManager, "RR-1", "rapid-review", "lcsp", "", b),
        "unknown outcome 'lcsp', did you mean 'lcspr'? (expected one of: lcspr, national-review or no-review) for "
        "stage 'rapid-review'");
  fails(engine_.complete(kManager, "RR-1", "notify-panel", "x", "", b), "stage 'notify-panel' has no outcomes; drop --outcome");
  fails(engine_.complete(kManager, "RR-1", "notify-panel", "", "2026-03-01", b),
        "--on 2026-03-01 is before the stage opened (2026-03-02)");
  fails(engine_.complete(kManager, "RR-9", "notify-panel", "", "", b), "no review with reference RR-9");
  fails(engine_.resume(kManager, "RR-1", b), "review RR-1: the review is not paused; it cannot be resumed");
  fails(engine_.pause(kManager, "RR-1", "court", b),
        "rapid-review reviews cannot be paused (no pausable = true in workflows/rapid-review.toml)");
  ASSERT_TRUE(engine_.complete(kManager, "RR-1", "notify-panel", "", "", b).ok);
  fails(engine_.waive(kManager, "RR-1", "notify-panel", "not needed", b),
        "stage 'notify-panel' of RR-1: the deadline is already met; it cannot be waived");
  fails(engine_.extend(kManager, "RR-1", "rapid-review", "2026-03-20", "x", b),
        "--to 2026-03-20 is not later than the current due date 2026-03-23");
  fails(engine_.extend(kManager, "RR-1", "rapid-review", "2026-04-20", "", b), "an extension needs --reason");
}

TEST_F(EngineTest, RolesDecideWhoMayDoWhat) {
  ASSERT_TRUE(start("rapid-review", "RR-1", "2026-03-02", {{"lead-reviewer", "c-jones"}}).ok);
  store::Batch b;
  // The assigned lead reviewer may complete the stage they own; a group member may not.
  Caller lead{"c-jones", {"rlt-children-member", "partnership-member"}};
  const json completing{{"ref", "RR-1"}, {"stage", "rapid-review"}, {"outcome", "no-review"}};
  Result denied = as(kMember, "complete", completing, b);
  EXPECT_FALSE(denied.ok);
  EXPECT_EQ(denied.error, "you may not complete stage 'rapid-review' of RR-1; that needs its owner (lead-reviewer) or "
                          "one of the roles administrator, business-manager or partnership-team");
  const json extending{{"ref", "RR-1"}, {"stage", "rapid-review"}, {"to", "2026-04-20"}, {"reason", "court"}};
  EXPECT_FALSE(as(lead, "extend", extending, b).ok);
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(as(kManager, "extend", extending, b).ok);
  EXPECT_TRUE(as(lead, "complete", completing, b).ok);
  // Who holds the owning role may complete it too, assigned or not.
  ASSERT_TRUE(start("rapid-review", "RR-2", "2026-03-02", {{"lead-reviewer", "c-jones"}}).ok);
  Caller holder{"k-davies", {"lead-reviewer"}};
  EXPECT_TRUE(as(holder, "complete", {{"ref", "RR-2"}, {"stage", "rapid-review"}, {"outcome", "no-review"}}, b).ok);
}

TEST_F(EngineTest, PauseStopsTheClockAndResumeKeepsTheDaysAlreadyRun) {
  ASSERT_TRUE(start("lcspr", "L-1", "2026-03-02").ok);
  EXPECT_EQ(stage("L-1", "publish")["due"], "2026-09-02");
  clock_.set(utc("2026-04-01T10:00"));
  store::Batch b;
  ASSERT_TRUE(engine_.pause(kManager, "L-1", "criminal proceedings", b).ok);
  EXPECT_EQ(stage("L-1", "publish")["state"], "suspended");
  EXPECT_FALSE(engine_.next_fire()) << "a paused review has nothing timed";
  // The national Panel and the group chair are told of the pause.
  std::set<std::string> told;
  for (const auto& m : b.outbox) told.insert(m.role);
  EXPECT_EQ(told, (std::set<std::string>{"national-panel", "rlt-children-chair"}));
  store::Batch twice;
  EXPECT_EQ(engine_.pause(kManager, "L-1", "again", twice).error, "review L-1: the review is already paused; it cannot be paused again");
  EXPECT_EQ(engine_.extend(kManager, "L-1", "publish", "2027-01-29", "family asked to contribute", twice).error,
            "review L-1 is paused, so its clock is stopped; resume it before extending a deadline");
  EXPECT_TRUE(twice.empty());
  // Thirty days later the clock resumes: publish moves 30 days, and
  // send-to-panel follows it (7 working days before Friday 2 October).
  clock_.set(utc("2026-05-01T10:00"));
  store::Batch r;
  ASSERT_TRUE(engine_.resume(kManager, "L-1", r).ok);
  EXPECT_EQ(stage("L-1", "publish")["due"], "2026-10-02");
  EXPECT_EQ(stage("L-1", "publish")["state"], "pending");
  EXPECT_EQ(stage("L-1", "send-to-panel")["due"], "2026-09-23");
  EXPECT_TRUE(engine_.next_fire());
}

TEST(EnginePause, WorkingDayClocksResumeWithTheWorkingDaysLeft) {
  testing::TempConfig tmp;
  tmp.write("workflows/wd-review.toml", R"(
kind = "review"
id = "wd-review"
title = "A pausable review counted in working days"
pausable = true
[[stage]]
id = "report"
owner = "business-manager"
due = "15 working days after start"
)");
  auto config = workflows::load_config(tmp.dir()).config;
  ASSERT_TRUE(config);
  VirtualClock clock(utc("2026-03-02T08:00"));
  Engine e(config, clock);
  store::Batch b;
  ASSERT_TRUE(e.start(kManager, {"wd-review", "W-1", "2026-03-02", "", {}, {}}, b).ok);
  clock.set(utc("2026-03-09T10:00"));  // 5 working days run, 10 left
  ASSERT_TRUE(e.pause(kManager, "W-1", "parallel proceedings", b).ok);
  clock.set(utc("2026-04-01T10:00"));
  ASSERT_TRUE(e.resume(kManager, "W-1", b).ok);
  // 10 working days after Wednesday 1 April, skipping Good Friday and Easter Monday.
  EXPECT_EQ(e.status("W-1").data["stages"][0]["due"], "2026-04-17");
}

TEST_F(EngineTest, ExtendingMovesTheDeadlineAndWhatCountsFromIt) {
  ASSERT_TRUE(start("lcspr", "L-1", "2026-03-02").ok);
  store::Batch b;
  ASSERT_TRUE(engine_.extend(kManager, "L-1", "publish", "2026-10-30", "family bereavement; approved by the chair", b).ok);
  EXPECT_EQ(stage("L-1", "publish")["due"], "2026-10-30");
  EXPECT_EQ(stage("L-1", "publish")["extended"], true);
  EXPECT_EQ(stage("L-1", "send-to-panel")["due"], "2026-10-21");
  bool audited = false;
  for (const auto& a : b.audit) {
    if (a.kind == "deadline.extended") {
      audited = true;
      EXPECT_EQ(json::parse(a.details)["reason"], "family bereavement; approved by the chair");
      EXPECT_EQ(a.actor, "a-morgan");
    }
  }
  EXPECT_TRUE(audited);
}

TEST_F(EngineTest, CancelWaivesWhatIsOpenAndStopsTheClock) {
  ASSERT_TRUE(start("rapid-review", "RR-1", "2026-03-02").ok);
  store::Batch b;
  EXPECT_FALSE(engine_.cancel(kManager, "RR-1", "", b).ok);
  ASSERT_TRUE(engine_.cancel(kManager, "RR-1", "opened in error", b).ok);
  EXPECT_EQ(engine_.status("RR-1").data["state"], "cancelled");
  EXPECT_EQ(stage("RR-1", "rapid-review")["state"], "waived");
  EXPECT_FALSE(engine_.next_fire());
  EXPECT_EQ(engine_.cancel(kManager, "RR-1", "again", b).error,
            "review RR-1: the review is already cancelled; it cannot be cancelled again");
}

TEST_F(EngineTest, OverdueAndUpcoming) {
  ASSERT_TRUE(start("rapid-review", "RR-1", "2026-03-02").ok);
  EXPECT_EQ(engine_.upcoming(7).data["upcoming"].size(), 1u);   // notify-panel on the 9th
  EXPECT_EQ(engine_.upcoming(30).data["upcoming"].size(), 2u);
  advance_to("2026-03-25T10:00");
  auto overdue = engine_.overdue().data["overdue"];
  ASSERT_EQ(overdue.size(), 2u);
  EXPECT_EQ(overdue[1]["stage"], "rapid-review");
  EXPECT_EQ(overdue[1]["working_days_overdue"], 2);
}

TEST_F(EngineTest, RecoversFromTheStoreExactly) {
  auto dir = std::filesystem::temp_directory_path() / ("docket-engine-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    store::Store st(dir / "d.db", "virtual");
    ASSERT_TRUE(start("rapid-review", "RR-1", "2026-03-02").ok);
    ASSERT_TRUE(start("lcspr", "L-1", "2026-03-02").ok);
    for (auto& b : batches_) st.commit(b);
    store::Batch p;
    clock_.set(utc("2026-03-10T10:00"));
    ASSERT_TRUE(engine_.pause(kManager, "L-1", "court", p).ok);
    engine_.fire_due(clock_.now(), p);
    st.commit(p);
  }
  store::Store st(dir / "d.db", "virtual");
  Engine recovered(shipped(), clock_, &st);
  EXPECT_EQ(recovered.status("RR-1").data, engine_.status("RR-1").data);
  EXPECT_EQ(recovered.status("L-1").data, engine_.status("L-1").data);
  EXPECT_EQ(recovered.next_fire(), engine_.next_fire());
  std::filesystem::remove_all(dir);
}

// A copy of the shipped configuration whose Rapid Review allows 20 working
// days instead of 15: what an administrator's edit looks like to a reload.
std::shared_ptr<const workflows::Config> edited(const testing::TempConfig& tmp) {
  std::ifstream in(tmp.dir() / "workflows/rapid-review.toml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto at = text.find("due = \"15 working days after start\"");
  EXPECT_NE(at, std::string::npos);
  text.replace(at, 35, "due = \"20 working days after start\"");
  tmp.write("workflows/rapid-review.toml", text);
  auto loaded = workflows::load_config(tmp.dir());
  EXPECT_TRUE(loaded.config);
  return loaded.config;
}

TEST(EngineReload, RunningReviewsKeepTheirVersionNewOnesTakeTheNew) {
  testing::TempConfig tmp;
  auto before = workflows::load_config(tmp.dir()).config;
  VirtualClock clock(utc("2026-03-02T08:00"));
  Engine e(before, clock);
  store::Batch b;
  ASSERT_TRUE(e.start(kManager, {"rapid-review", "RR-1", "2026-03-02", "", {}, {}}, b).ok);
  auto after = edited(tmp);
  json summary = e.reload(after);
  ASSERT_EQ(summary["changed"].size(), 1u);
  EXPECT_EQ(summary["changed"][0]["workflow"], "rapid-review");
  EXPECT_EQ(summary["changed"][0]["from"], before->reviews.at("rapid-review").version);
  EXPECT_EQ(summary["reviews_on_earlier_versions"], 1);
  ASSERT_TRUE(e.start(kManager, {"rapid-review", "RR-2", "2026-03-02", "", {}, {}}, b).ok);
  auto rr1 = e.status("RR-1").data, rr2 = e.status("RR-2").data;
  EXPECT_EQ(rr1["version"], before->reviews.at("rapid-review").version);
  EXPECT_EQ(rr2["version"], after->reviews.at("rapid-review").version);
  EXPECT_EQ(rr1["stages"][1]["due"], "2026-03-23");  // 15 working days, as when it started
  EXPECT_EQ(rr2["stages"][1]["due"], "2026-03-30");  // 20 working days
}

TEST(EngineReload, ARestartKeepsARunningReviewOnItsStoredVersion) {
  testing::TempConfig tmp;
  auto before = workflows::load_config(tmp.dir()).config;
  auto dir = std::filesystem::temp_directory_path() / ("docket-pinned-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  VirtualClock clock(utc("2026-03-02T08:00"));
  {
    store::Store st(dir / "d.db", "virtual");
    store::Store without_texts(dir / "e.db", "virtual");
    Engine e(before, clock);
    store::Batch b;
    ASSERT_TRUE(e.start(kManager, {"rapid-review", "RR-1", "2026-03-02", "", {}, {}}, b).ok);
    without_texts.commit(b);
    b.definitions = Engine::definitions_of(*before, 0);
    st.commit(b);
  }
  auto after = edited(tmp);
  store::Store st(dir / "d.db", "virtual");
  Engine restarted(after, clock, &st);
  auto rr1 = restarted.status("RR-1").data;
  EXPECT_EQ(rr1["version"], before->reviews.at("rapid-review").version);
  EXPECT_EQ(rr1["stages"][1]["due"], "2026-03-23");
  // Without the stored text it cannot keep the old version: it runs on the
  // current one (and the log says so).
  store::Store without_texts(dir / "e.db", "virtual");
  Engine forgetful(after, clock, &without_texts);
  EXPECT_EQ(forgetful.status("RR-1").data["version"], after->reviews.at("rapid-review").version);
  std::filesystem::remove_all(dir);
}

// Meetings on a virtual clock, from the shipped Executive and Partnership cycles.
class MeetingTest : public ::testing::Test {
 protected:
  MeetingTest() : clock_(utc("2026-05-01T08:00")), engine_(shipped(), clock_) { engine_.ensure_meetings(setup_); }

  json meeting(const std::string& body, const std::string& day) {
    const Result list = engine_.meeting_list(body);
    for (const auto& m : list.data["meetings"]) {
      if (m["date"] == day) return m;
    }
    return nullptr;
  }
  static json milestone(const json& m, const std::string& id) {
    for (const auto& ms : m["milestones"]) {
      if (ms["id"] == id) return ms;
    }
    return nullptr;
  }
  store::Batch advance(const char* when) {
    store::Batch b;
    advance_to(engine_, clock_, utc(when), b);
    return b;
  }

  Result as(const Caller& who, const std::string& command, json args, store::Batch& b) {
    return dispatch_as(engine_, clock_, who, command, std::move(args), b);
  }

  VirtualClock clock_;
  Engine engine_;
  store::Batch setup_;
};

TEST_F(MeetingTest, MeetingsAreCreatedForThisAndNextFinancialYear) {
  auto list = engine_.meeting_list("executive").data["meetings"];
  std::vector<std::string> dates;
  for (const auto& m : list) dates.push_back(m["date"]);
  EXPECT_EQ(dates, (std::vector<std::string>{"2026-06-09", "2026-09-08", "2026-12-08", "2027-03-09", "2027-06-08",
                                             "2027-09-14", "2027-12-14", "2028-03-14"}));
  auto june = meeting("executive", "2026-06-09");
  EXPECT_EQ(june["state"], "scheduled");
  EXPECT_EQ(milestone(june, "papers")["due"], "2026-06-02");
  EXPECT_EQ(milestone(june, "present")["due"], "2026-07-15");
  std::size_t scheduled = 0;
  for (const auto& a : setup_.audit) scheduled += a.kind == "meeting.scheduled";
  EXPECT_EQ(scheduled, engine_.meeting_list("").data["meetings"].size());
  store::Batch again;
  engine_.ensure_meetings(again);
  EXPECT_TRUE(again.empty()) << "ensuring twice creates nothing";
}

TEST_F(MeetingTest, TheFullMeetingClock) {
  // Three working days before the papers are due (Tue 2 June): the secretariat is reminded.
  auto b = advance("2026-05-28T09:00");
  std::vector<std::string> told;
  for (const auto& m : b.outbox) {
    if (m.ref == "@executive/2026-06-09") told.push_back(m.stage + " " + m.kind + " " + m.role);
  }
  EXPECT_EQ(told, (std::vector<std::string>{"papers reminder partnership-team"}));
  EXPECT_EQ(meeting("executive", "2026-06-09")["state"], "papers due");
  store::Batch c;
  ASSERT_TRUE(engine_.meeting_papers(kManager, "executive", "2026-06-09", c).ok);
  clock_.set(utc("2026-06-09T15:00"));
  Result held = engine_.meeting_held(kManager, "executive", "2026-06-09", {"m-clarke", "t-ward", "r-hughes"}, c);
  ASSERT_TRUE(held.ok) << held.error;
  EXPECT_EQ(held.data["quorate"], true) << "t-ward is the ICB member's named deputy";
  clock_.set(utc("2026-06-11T10:00"));
  ASSERT_TRUE(engine_.meeting_notes(kManager, "executive", "2026-06-09", c).ok);
  // Seven days for amendments from the day the draft went out (Thu 11 June).
  EXPECT_EQ(milestone(meeting("executive", "2026-06-09"), "notes-stand")["due"], "2026-06-18");
  ASSERT_TRUE(engine_.meeting_amend(kManager, "executive", "2026-06-09", "p-singh", c).ok);
  EXPECT_EQ(meeting("executive", "2026-06-09")["state"], "amendment window");
  advance("2026-06-19T10:00");
  EXPECT_EQ(meeting("executive", "2026-06-09")["state"], "notes stand") << "the notes stand by themselves";
  // Presented when the wider Partnership next meets (Wed 15 July).
  clock_.set(utc("2026-07-15T16:00"));
  ASSERT_TRUE(engine_.meeting_held(kManager, "partnership", "2026-07-15", {"j-okafor", "c-jones"}, c).ok);
  EXPECT_EQ(meeting("executive", "2026-06-09")["state"], "presented");
  EXPECT_EQ(milestone(meeting("executive", "2026-06-09"), "present")["state"], "met");
}

TEST_F(MeetingTest, AnInquorateMeetingIsFlaggedToTheChair) {
  clock_.set(utc("2026-06-09T15:00"));
  store::Batch b;
  Result r = engine_.meeting_held(kManager, "executive", "2026-06-09", {"m-clarke", "j-okafor"}, b);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.data["quorate"], false);
  bool told = false, audited = false;
  for (const auto& m : b.outbox) told = told || (m.kind == "inquorate" && m.person == "m-clarke");
  for (const auto& a : b.audit) {
    if (a.kind == "meeting.inquorate") {
      audited = true;
      EXPECT_EQ(json::parse(a.details)["not_represented"], (json{"council", "icb"}));
    }
  }
  EXPECT_TRUE(told);
  EXPECT_TRUE(audited);
}

TEST_F(MeetingTest, RefusedMeetingEvents) {
  store::Batch b;
  EXPECT_EQ(engine_.meeting_notes(kManager, "executive", "2026-06-09", b).error,
            "the executive meeting on Tue 9 Jun 2026: the meeting has not been held yet; its notes come after it");
  EXPECT_EQ(engine_.meeting_held(kManager, "executive", "2026-06-09", {"m-clarke"}, b).error,
            "the executive meeting on Tue 9 Jun 2026 is in the future; record it as held on or after the day");
  EXPECT_EQ(engine_.meeting_papers(kManager, "exec", "2026-06-09", b).error,
            "unknown body 'exec' (expected one of: channel, cpsg, dalp-board, domestic-abuse, executive, "
            "exploitation-adults, exploitation-children, neglect, partnership, rlt-adults or rlt-children)");
  EXPECT_NE(engine_.meeting_papers(kManager, "executive", "2026-06-10", b).error.find("no executive meeting on Wed 10 Jun 2026"),
            std::string::npos);
  EXPECT_EQ(as(kMember, "meeting-papers", {{"body", "executive"}, {"date", "2026-06-09"}}, b).error,
            "you may not record the executive meeting on Tue 9 Jun 2026; that needs its chair or secretariat or one "
            "of the roles administrator, business-manager or partnership-team");
  EXPECT_EQ(engine_.meeting_move(kManager, "executive", "2026-06-09", "2026-06-13", "room", b).error,
            "--to 2026-06-13 is not a working day (Sat 13 Jun 2026)");
  EXPECT_TRUE(b.empty()) << "refusals change nothing";
}

TEST_F(MeetingTest, MovingAMeetingMovesItsMilestones) {
  store::Batch b;
  ASSERT_TRUE(engine_.meeting_move(kManager, "executive", "2026-06-09", "2026-06-16", "clash with a court date", b).ok);
  auto moved = meeting("executive", "2026-06-16");
  ASSERT_NE(moved, nullptr);
  EXPECT_EQ(moved["planned"], "2026-06-09");
  EXPECT_EQ(milestone(moved, "papers")["due"], "2026-06-09");
  EXPECT_TRUE(engine_.meeting_papers(kManager, "executive", "2026-06-09", b).ok) << "found by its planned date too";
}

TEST_F(MeetingTest, TheExecutiveChairRotatesBetweenStatutoryPartners) {
  store::Batch b;
  ASSERT_TRUE(engine_.chair_appoint(kManager, "executive", "m-clarke", "2026/27", b).ok);
  EXPECT_EQ(engine_.chair_appoint(kManager, "executive", "d-evans", "2027/28", b).error,
            "Dee Evans cannot chair the Safeguarding Partnership Executive in 2027/28: the chair in 2026/27 is Morgan "
            "Clarke, also from West Mercia Police, and the chair cannot come from the same statutory partner two "
            "years running");
  EXPECT_EQ(engine_.chair_appoint(kManager, "executive", "j-okafor", "2027/28", b).error,
            "the chair of Safeguarding Partnership Executive comes from a statutory partner (council, icb or police); "
            "Jo Okafor is from Independent (chair and scrutiny)");
  EXPECT_TRUE(engine_.chair_appoint(kManager, "executive", "p-singh", "2027/28", b).ok);
  EXPECT_EQ(engine_.chair_appoint(kManager, "channel", "k-davies", "2027/28", b).error,
            "the chair of channel is not appointed each financial year (no chair_term in workflows/channel.toml)");
  EXPECT_EQ(b.chairs.size(), 2u);
}

TEST_F(MeetingTest, MeetingsSurviveARestart) {
  auto dir = std::filesystem::temp_directory_path() / ("docket-meetings-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    store::Store st(dir / "d.db", "virtual");
    st.commit(setup_);
    store::Batch b;
    ASSERT_TRUE(engine_.meeting_papers(kManager, "executive", "2026-06-09", b).ok);
    ASSERT_TRUE(engine_.chair_appoint(kManager, "executive", "m-clarke", "2026/27", b).ok);
    st.commit(b);
  }
  store::Store st(dir / "d.db", "virtual");
  Engine again(shipped(), clock_, &st);
  again.load_meetings(st.meetings(), st.meeting_deadlines(), st.chairs());
  EXPECT_EQ(again.meeting_list("executive").data, engine_.meeting_list("executive").data);
  EXPECT_EQ(again.next_fire(), engine_.next_fire());
  std::filesystem::remove_all(dir);
}

TEST(Commands, ClockAdvanceOnlyOnARehearsalDaemon) {
  SystemClock system;
  Engine e(shipped(), system);
  Services s{e, system, nullptr, {}, {}, {}};
  CommandRegistry registry;
  store::Batch b;
  Result r = registry.dispatch(s, kManager, Request{1, "clock", {{"advance", "3d"}}}, b);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("--virtual-clock"), std::string::npos);

  VirtualClock v(utc("2026-03-02T08:00"));
  Engine ve(shipped(), v);
  Services vs{ve, v, &v, {}, {}, {}};
  ASSERT_TRUE(registry.dispatch(vs, kManager, Request{1, "start", {{"workflow", "rapid-review"}, {"ref", "RR-1"}}}, b).ok);
  Result adv = registry.dispatch(vs, kManager, Request{2, "clock", {{"advance", "30d"}}}, b);
  ASSERT_TRUE(adv.ok) << adv.error;
  EXPECT_EQ(adv.data["now"], "2026-04-01T08:00:00Z");
  EXPECT_EQ(ve.overdue().data["overdue"].size(), 2u);
  // Fired at their own virtual times, so none is late.
  for (const auto& m : b.outbox) EXPECT_FALSE(m.late) << m.key;
  EXPECT_EQ(b.audit.back().kind, "clock.advanced");
  EXPECT_FALSE(registry.dispatch(vs, kMember, Request{3, "clock", {{"advance", "1d"}}}, b).ok);
  EXPECT_EQ(registry.dispatch(vs, kManager, Request{4, "clock", {{"advance", "3 days"}}}, b).error,
            "clock advance takes an amount such as 30m, 12h, 3d or 2w, up to 3660 days at a time, found '3 days'");
  EXPECT_FALSE(parse_advance("3661d"));
  EXPECT_FALSE(parse_advance("523w"));
  EXPECT_EQ(parse_advance("522w"), std::chrono::weeks{522});
  EXPECT_FALSE(parse_advance("9223372036854775807m"));
}

TEST(Protocol, RequestsAreCheckedBeforeAnythingRuns) {
  EXPECT_EQ(std::get<std::string>(parse_request("{nope")), "the request is not valid JSON");
  EXPECT_EQ(std::get<std::string>(parse_request("[1]")), "the request must be a JSON object with \"command\"");
  EXPECT_EQ(std::get<std::string>(parse_request("{\"id\":1}")), "the request has no \"command\" string");
  EXPECT_EQ(std::get<std::string>(parse_request("{\"command\":\"status\",\"args\":3}")), "\"args\" must be a JSON object");
  EXPECT_EQ(std::get<std::string>(parse_request(std::string(kMaxRequestBytes + 1, ' '))),
            "the request is larger than 65536 bytes");
  auto ok = std::get<Request>(parse_request(R"({"id":"a","command":"status","args":{"ref":"RR-1"}})"));
  EXPECT_EQ(ok.id, "a");
  EXPECT_EQ(ok.args["ref"], "RR-1");
  EXPECT_EQ(reply_line(7, Result::fail("no")), "{\"error\":\"no\",\"id\":7,\"ok\":false}\n");
  EXPECT_EQ(parse_advance("3d"), std::chrono::seconds{3 * 86400});
  EXPECT_EQ(parse_advance("2w"), std::chrono::seconds{14 * 86400});
  EXPECT_FALSE(parse_advance("3"));
  EXPECT_FALSE(parse_advance("-1d"));
  EXPECT_FALSE(parse_advance("3y"));
}


// A store-backed engine that keeps almost nothing in memory (four reviews,
// timed events read three at a time) must do exactly what an engine holding
// everything does: the same notices, the same audit trail, the same answers.
// `pipelined` commits as docketd does: each batch is written on the
// Committer's thread while the engine goes on into the next.
void lean_engine_matches_one_holding_everything(bool pipelined) {
  auto dir = std::filesystem::temp_directory_path() /
             ("docket-lean-" + std::to_string(::getpid()) + (pipelined ? "-pipelined" : ""));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  VirtualClock full_clock(utc("2026-03-02T08:00")), lean_clock(utc("2026-03-02T08:00"));
  Engine full(shipped(), full_clock);
  // A short log limit: the log is restarted between writes many times.
  // Pipelined, the log is synced apart from the writes, as docketd does.
  store::Store st(dir / "d.db", "virtual",
                  store::WalSettings{.checkpoint_frames = 8, .limit_frames = 16, .sync_in_write = !pipelined});
  Engine lean(shipped(), lean_clock, &st);
  lean.set_limits({4, 3});
  store::Batch full_batch, lean_batch;
  Committer committer(st, [] {}, [] {});
  std::unique_ptr<store::Batch> in_flight;
  std::uint64_t sealed = 0;
  auto land = [&] {
    if (!in_flight) return;
    committer.wait_written();
    ASSERT_FALSE(committer.error()) << *committer.error();
    st.end_reads();
    if (st.log_full()) st.restart_log();
    lean.committed(sealed);
    in_flight.reset();
  };
  auto checkpoint = [&](store::Batch& b) {
    if (!pipelined) {
      st.commit(b);
      lean.committed();
      b = store::Batch{};
      return;
    }
    land();
    in_flight = std::make_unique<store::Batch>(std::move(b));
    b = store::Batch{};
    sealed = lean.seal();
    committer.start(*in_flight);
  };
  auto both = [&](const std::function<Result(Engine&, store::Batch&)>& command) {
    Result a = command(full, full_batch);
    Result b = command(lean, lean_batch);
    EXPECT_EQ(a.ok, b.ok) << a.error << " / " << b.error;
    EXPECT_EQ(a.body(), b.body());
    checkpoint(lean_batch);
    return a;
  };
  auto advance = [&](const char* to) {
    advance_to(full, full_clock, utc(to), full_batch);
    // As docketd's server runs an advance: a chunk of events per batch.
    const Instant from = lean_clock.now();
    while (lean.fire_through(utc(to), lean_clock, lean_batch, kFireChunk)) checkpoint(lean_batch);
    lean_clock.set(std::max(from, utc(to)));
    checkpoint(lean_batch);
  };
  const char* workflows[] = {"rapid-review", "sar", "lcspr", "dhr"};
  for (int i = 0; i < 12; ++i) {
    const std::string ref = "R-" + std::to_string(i);
    const std::string workflow = workflows[i % 4];
    Result r = both([&](Engine& e, store::Batch& b) {
      return e.start(kManager, {workflow, ref, "", "", {}, {}}, b);
    });
    ASSERT_TRUE(r.ok) << r.error;
    advance(i % 2 == 0 ? "2026-03-03T08:00" : "2026-03-04T08:00");
    full_clock.set(utc("2026-03-02T08:00") + std::chrono::days{i + 1});
    lean_clock.set(full_clock.now());
  }
  EXPECT_LE(lean.cached_reviews(), 4u);
  // Commands reach reviews that have left memory.
  ASSERT_TRUE(both([](Engine& e, store::Batch& b) { return e.complete(kManager, "R-0", "notify-panel", "", "", b); }).ok);
  ASSERT_TRUE(both([](Engine& e, store::Batch& b) { return e.pause(kManager, "R-2", "criminal proceedings", b); }).ok);
  advance("2026-05-01T08:00");
  ASSERT_TRUE(both([](Engine& e, store::Batch& b) { return e.resume(kManager, "R-2", b); }).ok);
  advance("2026-12-01T08:00");
  land();
  EXPECT_EQ(full.overdue().data, lean.overdue().data);
  EXPECT_EQ(full.upcoming(60).data, lean.upcoming(60).data);
  EXPECT_EQ(full.status("").data, lean.status("").data);
  EXPECT_EQ(full.next_fire(), lean.next_fire());

  std::multiset<std::string> sent_full, sent_lean, kinds_full, kinds_lean;
  for (const auto& m : full_batch.outbox) sent_full.insert(m.key);
  for (const auto& m : st.outbox("")) sent_lean.insert(m.key);
  for (const auto& a : full_batch.audit) kinds_full.insert(a.kind + " " + a.ref + " " + a.stage);
  for (const auto& a : st.audit()) kinds_lean.insert(a.kind + " " + a.ref + " " + a.stage);
  EXPECT_GT(sent_full.size(), 30u);
  EXPECT_EQ(sent_full, sent_lean);
  EXPECT_EQ(kinds_full, kinds_lean);
  // The queries read every review back in; the next commit lets them go.
  EXPECT_EQ(lean.cached_reviews(), 12u);
  lean.committed();
  EXPECT_LE(lean.cached_reviews(), 4u);
  if (pipelined) {
    EXPECT_GT(st.limit_checkpoints(), 0) << "the log was restarted between writes";
    committer.wait_synced();
    EXPECT_EQ(committer.synced(), committer.started());
    EXPECT_EQ(st.durable_outbox_id(), static_cast<std::int64_t>(sent_lean.size())) << "every row synced";
  }
  std::filesystem::remove_all(dir);
}

TEST(EngineScale, ALeanStoreBackedEngineMatchesOneHoldingEverything) {
  lean_engine_matches_one_holding_everything(false);
}

TEST(EngineScale, ALeanEngineCommittingOnAnotherThreadMatchesOneHoldingEverything) {
  lean_engine_matches_one_holding_everything(true);
}

// A clock advance fires review by review (each review read once, each row
// written once a batch), yet every record and message is what stepping the
// clock from event to event fires, at the same virtual times; committed part
// way, the clock stands where everything before it has fired.
TEST(EngineScale, AnAdvanceReviewByReviewFiresWhatSteppingTheClockFires) {
  auto dir = std::filesystem::temp_directory_path() / ("docket-through-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  VirtualClock step_clock(utc("2026-03-02T08:00")), lean_clock(utc("2026-03-02T08:00"));
  Engine stepped(shipped(), step_clock);
  store::Store st(dir / "d.db", "virtual");
  Engine lean(shipped(), lean_clock, &st);
  lean.set_limits({2, 3});
  store::Batch stepped_batch, lean_batch;
  const char* workflows[] = {"rapid-review", "sar", "lcspr", "dhr"};
  for (int i = 0; i < 8; ++i) {
    // Started over the last weeks; the first so long ago that its events
    // fire at once, late.
    const std::string on = i == 0 ? "2026-01-05" : workflows::iso(workflows::Day{date::year{2026} / 2 / (3 * i)});
    const StartArgs args{workflows[i % 4], "R-" + std::to_string(i), on, "", {}, {}};
    Result started = stepped.start(kManager, args, stepped_batch);
    ASSERT_TRUE(started.ok) << started.error;
    ASSERT_TRUE(lean.start(kManager, args, lean_batch).ok);
  }
  st.commit(lean_batch);
  lean.committed();
  lean_batch = store::Batch{};
  const std::size_t read_before = lean.reviews_read();

  const Instant target = utc("2026-09-01T08:00");
  while (auto next = stepped.next_fire()) {
    if (*next > target) break;
    step_clock.set(std::max(step_clock.now(), *next));
    stepped.fire_due(step_clock.now(), stepped_batch);
  }
  int chunks = 0;
  for (bool more = true; more;) {
    more = lean.fire_through(target, lean_clock, lean_batch, 5);
    // A review's deadline that fires twice in a batch is written once, as it ends.
    std::set<std::pair<std::string, std::string>> rows;
    for (const auto& d : lean_batch.deadlines) {
      if (d.ref.starts_with('@')) continue;  // meetings' milestones
      EXPECT_TRUE(rows.emplace(d.ref, d.stage).second) << d.ref << " " << d.stage << " saved twice";
    }
    st.commit(lean_batch);
    lean.committed();
    lean_batch = store::Batch{};
    if (!more) break;
    ++chunks;
    // (An event due before the advance began fires at its beginning.)
    auto first = st.timers_after(store::TimerKey{}, 1);
    ASSERT_FALSE(first.empty());
    EXPECT_GE(std::max(first.front().at, utc("2026-03-02T08:00").time_since_epoch().count()),
              lean_clock.now().time_since_epoch().count())
        << "an event before the clock is not fired yet: " << first.front().ref << " " << first.front().stage;
  }
  EXPECT_GT(chunks, 3);
  EXPECT_LE(lean.reviews_read() - read_before, 8u) << "each review read once";

  std::multiset<std::string> audit_stepped, audit_lean, sent_stepped, sent_lean;
  for (const auto& a : stepped_batch.audit) {
    audit_stepped.insert(std::to_string(a.at) + " " + a.actor + " " + a.kind + " " + a.ref + " " + a.stage + " " +
                         a.details + " " + a.version);
  }
  for (const auto& a : st.audit()) {
    audit_lean.insert(std::to_string(a.at) + " " + a.actor + " " + a.kind + " " + a.ref + " " + a.stage + " " +
                      a.details + " " + a.version);
  }
  for (const auto& m : stepped_batch.outbox) {
    sent_stepped.insert(m.key + " " + std::to_string(m.created_at) + " " + m.payload + (m.late ? " late" : ""));
  }
  for (const auto& m : st.outbox("")) {
    sent_lean.insert(m.key + " " + std::to_string(m.created_at) + " " + m.payload + (m.late ? " late" : ""));
  }
  EXPECT_GT(sent_stepped.size(), 40u);
  EXPECT_TRUE(std::any_of(stepped_batch.outbox.begin(), stepped_batch.outbox.end(), [](const auto& m) { return m.late; }));
  EXPECT_EQ(audit_stepped, audit_lean);
  EXPECT_EQ(sent_stepped, sent_lean);
  EXPECT_EQ(stepped.status("").data, lean.status("").data);
  EXPECT_EQ(stepped.next_fire(), lean.next_fire());
  std::filesystem::remove_all(dir);
}

// Pipelined, a review changed after a seal stays in memory when the batch
// before the seal lands: its change is not yet in the store to be read back.
TEST(EngineScale, AReviewChangedAfterASealStaysCachedUntilItsOwnBatchLands) {
  auto dir = std::filesystem::temp_directory_path() / ("docket-seal-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  VirtualClock clock(utc("2026-03-02T08:00"));
  store::Store st(dir / "d.db", "virtual");
  Engine e(shipped(), clock, &st);
  e.set_limits({0, 3});  // keep nothing that may go
  store::Batch first, second;
  ASSERT_TRUE(e.start(kManager, {"rapid-review", "RR-A", "", "", {}, {}}, first).ok);
  const std::uint64_t a = e.seal();
  ASSERT_TRUE(e.start(kManager, {"rapid-review", "RR-B", "", "", {}, {}}, second).ok);
  const std::uint64_t b = e.seal();
  st.commit(first);
  e.committed(a);
  EXPECT_EQ(e.cached_reviews(), 1u) << "RR-B is not in the store yet";
  EXPECT_TRUE(e.status("RR-B").ok);
  // A reference is taken whether its review is only in the store or only in memory.
  store::Batch refused;
  EXPECT_FALSE(e.start(kManager, {"rapid-review", "RR-A", "", "", {}, {}}, refused).ok) << "stored, not cached";
  EXPECT_FALSE(e.start(kManager, {"rapid-review", "RR-B", "", "", {}, {}}, refused).ok) << "cached, not stored";
  EXPECT_TRUE(refused.empty());
  st.commit(second);
  e.committed(b);
  EXPECT_EQ(e.cached_reviews(), 0u);
  EXPECT_TRUE(e.status("RR-B").ok) << "read back from the store";
  std::filesystem::remove_all(dir);
}

// `docket status` with no reference lists at most kStatusLimit reviews and
// says how many more there are.
TEST(EngineScale, StatusListsAtMostTheLimitAndCountsTheRest) {
  VirtualClock clock(utc("2026-03-02T08:00"));
  Engine e(shipped(), clock);
  store::Batch b;
  for (int i = 0; i < Engine::kStatusLimit + 2; ++i) {
    ASSERT_TRUE(e.start(kManager, {"rapid-review", "R-" + std::to_string(i), "", "", {}, {}}, b).ok);
  }
  json all = e.status("").data;
  EXPECT_EQ(all["reviews"].size(), static_cast<std::size_t>(Engine::kStatusLimit));
  EXPECT_EQ(all["more"], 2);
}

}  // namespace
}  // namespace docket::daemon
