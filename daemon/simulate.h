#pragma once
// `docket simulate`: the daemon's own engine, run in-process on a virtual
// clock from a scenario file, with every batch committed through the real
// store. Not a second model: the commands are the control socket's JSON
// commands dispatched through the CommandRegistry, time moves only through
// advance_to(), and what is printed is what each batch committed (its audit
// entries and the outbox messages the store took as new).
//
// A scenario (TOML; paths relative to the file, times local to the
// configuration's calendar, Europe/London):
//
//   config = "../config"
//   start = 2026-03-02T08:00:00     # TOML 1.0 local date-times: seconds
//   end = 2027-03-31T18:00:00       # are required, and must be :00
//   as = "a-morgan"                 # default actor, a person id
//   only = ["RR-2026-014"]          # optional: print only these references
//                                   # and those started from them (RR-2026-014/...)
//   [[step]]
//   at = 2026-03-02T09:30:00
//   command = "start"               # start, complete, pause, resume, extend,
//                                   # waive, cancel, status, overdue, upcoming
//   args = { workflow = "rapid-review", ref = "RR-2026-014", on = "2026-03-02" }
//   as = "k-davies"                 # optional: this step's actor
//   expect = "ok"                   # or "error"
//
// First, as docketd starts: the definition texts are stored and what is due
// at start-up (the meetings of every cycle) is created at `start`. Then each
// step: advance_to(at), firing timed events on the way, and commit; dispatch
// the command as its actor, fire what it made due at once (as docketd on the
// system clock does in the same flush), and commit. Last: advance_to(end)
// and commit.
//
// Exit codes: 0 every step went as expected; 1 a step's result differed from
// its `expect` (everything is still printed); 2 the scenario or its
// configuration has errors (each on stderr as file:line:column).

#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/clock.h"
#include "daemon/engine.h"
#include "store/store.h"
#include "workflows/config.h"
#include "workflows/diagnostics.h"

namespace docket::daemon {

struct ScenarioStep {
  int number = 0;  // 1-based, in file order
  workflows::SourcePos where;
  workflows::LocalTime at{};
  Instant instant{};
  std::string command;
  nlohmann::json args = nlohmann::json::object();
  std::string as;  // person id, the scenario's default when the step names none
  bool expect_ok = true;
};

struct Scenario {
  std::string path;  // as given; diagnostics name the file this way
  std::string description;
  std::filesystem::path config_dir;  // resolved against the scenario's folder
  std::shared_ptr<const workflows::Config> config;
  workflows::LocalTime start{}, end{};
  Instant start_instant{}, end_instant{};
  std::string as;
  std::vector<std::string> only;  // empty: print every reference
  std::vector<ScenarioStep> steps;

  const date::time_zone* zone() const;
  // Whether events of `ref` are printed (everything runs and is committed either way).
  bool shows(const std::string& ref) const;
};

// Reads and checks a scenario. Every problem is recorded in `diags` with its
// position (the configuration's own errors under the configuration's folder);
// nullopt when there was any.
std::optional<Scenario> load_scenario(const std::filesystem::path& path, workflows::Diagnostics& diags);

// What one run committed, in order.
struct SimNotification {
  Instant at{};
  std::string kind, ref, stage, person, role;
  bool late = false;
  int rung = 0, repeat = 0;  // escalations
};

struct SimEvent {
  Instant at{};
  std::string actor, kind, ref, stage;
  nlohmann::json details;
  int step = 0;  // the step whose command caused it; 0 for a timed event
  std::vector<SimNotification> notifications;  // the messages it sent
};

struct SimStep {
  const ScenarioStep* step = nullptr;
  Result result;
  bool as_expected = true;
};

struct SimEntry {
  enum class Type { step, event, notification } type = Type::event;
  std::size_t index = 0;  // into steps, events or loose notifications
};

struct Transcript {
  std::vector<SimStep> steps;
  std::vector<SimEvent> events;
  std::vector<SimNotification> loose;  // messages no audit entry of their batch accounts for
  std::vector<SimEntry> order;         // steps, events and loose messages in time order
  std::vector<store::ReviewRecord> reviews;      // committed at the end
  std::vector<store::DeadlineRecord> deadlines;  // committed at the end
  std::size_t batches = 0;
  std::size_t audit_records = 0;  // read back from the store at the end
  int mismatches = 0;

  std::size_t notification_count() const;
};

// Runs the scenario on the daemon's engine and an in-memory store.
Transcript run_scenario(const Scenario& scenario);

void print_table(const Scenario& scenario, const Transcript& t, std::ostream& out);
nlohmann::json transcript_json(const Scenario& scenario, const Transcript& t);

// The whole of `docket simulate SCENARIO [--json]`; returns the exit code.
int simulate(const std::filesystem::path& scenario, bool json, std::ostream& out, std::ostream& err);

}  // namespace docket::daemon
