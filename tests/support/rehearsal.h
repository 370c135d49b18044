#pragma once
// A rehearsal written to a real database file: docketd's engine on a virtual
// clock, every batch committed through store::Store as docketd commits it,
// so the read-only commands (audit, report, export) can be tested on what
// the daemon would have left. Times are local to Europe/London.

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/engine.h"
#include "store/store.h"
#include "tests/support/temp_config.h"

namespace docket::testing {

inline std::shared_ptr<const workflows::Config> shipped_config_loaded() {
  static auto config = workflows::load_config(shipped_config()).config;
  return config;
}

// Local Europe/London wall-clock time "YYYY-MM-DDTHH:MM" as an instant.
inline daemon::Instant london(const std::string& text) {
  static const date::time_zone* zone = date::locate_zone("Europe/London");
  auto t = *workflows::parse_local_time(text);
  return date::floor<std::chrono::seconds>(zone->to_sys(t, date::choose::earliest));
}

class Rehearsal {
 public:
  inline static const daemon::Caller kManager{"a-morgan", {"business-manager", "administrator"}};

  // Starts as docketd does: the definitions stored, the meetings of this and
  // next financial year created.
  Rehearsal(const std::filesystem::path& db, const std::string& start)
      : clock_(london(start)), engine_(shipped_config_loaded(), clock_), store_(db, "virtual") {
    store::Batch b;
    b.definitions = daemon::Engine::definitions_of(engine_.config(), clock_.now().time_since_epoch().count());
    engine_.ensure_meetings(b);
    store_.commit(b);
  }

  // Moves the clock to `when` (local), firing and committing what falls due
  // on the way, as the daemon's timer would.
  void advance_to(const std::string& when) {
    const daemon::Instant target = london(when);
    while (auto next = engine_.next_fire()) {
      if (*next > target) break;
      clock_.set(std::max(clock_.now(), *next));
      store::Batch b;
      engine_.fire_due(clock_.now(), b);
      store_.commit(b);
    }
    clock_.set(target);
    store::Batch b;
    b.meta.emplace_back("virtual_now", std::to_string(target.time_since_epoch().count()));
    store_.commit(b);
  }

  // Runs one engine command at the current time and commits it; fails the
  // test when the engine refuses.
  template <typename F>
  void run(const std::string& what, F&& command) {
    store::Batch b;
    daemon::Result r = command(engine_, b);
    ASSERT_TRUE(r.ok) << what << ": " << r.error;
    store_.commit(b);
  }

  void start(const std::string& workflow, const std::string& ref, const std::string& on, const std::string& lead,
             const std::string& title = "") {
    daemon::StartArgs a;
    a.workflow = workflow;
    a.ref = ref;
    a.on = on;
    a.title = title;
    a.assign["lead-reviewer"] = lead;
    run("start " + ref, [&](daemon::Engine& e, store::Batch& b) { return e.start(kManager, a, b); });
  }
  void complete(const std::string& ref, const std::string& stage, const std::string& on, const std::string& outcome = "") {
    run("complete " + ref + " " + stage,
        [&](daemon::Engine& e, store::Batch& b) { return e.complete(kManager, ref, stage, outcome, on, b); });
  }
  void extend(const std::string& ref, const std::string& stage, const std::string& to) {
    run("extend " + ref, [&](daemon::Engine& e, store::Batch& b) {
      return e.extend(kManager, ref, stage, to, "the Panel agreed more time", b);
    });
  }
  void waive(const std::string& ref, const std::string& stage) {
    run("waive " + ref, [&](daemon::Engine& e, store::Batch& b) {
      return e.waive(kManager, ref, stage, "done by the national Panel", b);
    });
  }
  void cancel(const std::string& ref) {
    run("cancel " + ref,
        [&](daemon::Engine& e, store::Batch& b) { return e.cancel(kManager, ref, "started in error", b); });
  }

  daemon::Engine& engine() { return engine_; }
  store::Store& store() { return store_; }

 private:
  daemon::VirtualClock clock_;
  daemon::Engine engine_;
  store::Store store_;
};

// The reviews of March 2026 whose figures tests/reports/compliance_test.cc
// counts by hand (rapid-review: notify-panel 5 working days after the start,
// rapid-review 15, panel-response 10 after completion, a soft limit):
//
//   A  2 Mar  notify 9 Mar met 6 Mar (on time); rapid 23 Mar met Wed 25 Mar
//             (2 working days late); panel-response due Fri 10 Apr (Easter skipped)
//   B  3 Mar  notify 10 Mar met Thu 12 Mar (2 late); rapid 24 Mar extended on
//             20 Mar to 31 Mar, met Mon 30 Mar (on time, not within the limit);
//             panel-response due Tue 14 Apr
//   C  4 Mar  notify 11 Mar waived; rapid 25 Mar left open (overdue)
//   D  9 Mar  notify 16 Mar met Mon 23 Mar (5 late); rapid 30 Mar met Tue 31 Mar
//             (1 late); panel-response due Wed 15 Apr
//   E 23 Mar  notify 30 Mar left open (overdue); rapid due Wed 15 Apr; its lead
//             reviewer is h-ahmed, every other one k-davies
//   G 10 Mar  notify 17 Mar, rapid 31 Mar: cancelled on 11 Mar (both waived)
// The clock stops at Thu 2 Apr 2026 10:00.
inline void march_reviews(Rehearsal& r) {
  r.advance_to("2026-03-02T10:00");
  r.start("rapid-review", "RR-A", "2026-03-02", "k-davies", "Baby Q");
  r.advance_to("2026-03-03T10:00");
  r.start("rapid-review", "RR-B", "2026-03-03", "k-davies");
  r.advance_to("2026-03-04T10:00");
  r.start("rapid-review", "RR-C", "2026-03-04", "k-davies");
  r.waive("RR-C", "notify-panel");
  r.advance_to("2026-03-06T10:00");
  r.complete("RR-A", "notify-panel", "2026-03-06");
  r.advance_to("2026-03-09T10:00");
  r.start("rapid-review", "RR-D", "2026-03-09", "k-davies");
  r.advance_to("2026-03-10T10:00");
  r.start("rapid-review", "RR-G", "2026-03-10", "k-davies");
  r.advance_to("2026-03-11T10:00");
  r.cancel("RR-G");
  r.advance_to("2026-03-12T10:00");
  r.complete("RR-B", "notify-panel", "2026-03-12");
  r.advance_to("2026-03-20T10:00");
  r.extend("RR-B", "rapid-review", "2026-03-31");
  r.advance_to("2026-03-23T10:00");
  r.complete("RR-D", "notify-panel", "2026-03-23");
  r.start("rapid-review", "RR-E", "2026-03-23", "h-ahmed");
  r.advance_to("2026-03-25T10:00");
  r.complete("RR-A", "rapid-review", "2026-03-25", "national-review");
  r.advance_to("2026-03-30T10:00");
  r.complete("RR-B", "rapid-review", "2026-03-30", "national-review");
  r.advance_to("2026-03-31T10:00");
  r.complete("RR-D", "rapid-review", "2026-03-31", "national-review");
  r.advance_to("2026-04-02T10:00");
}

}  // namespace docket::testing
