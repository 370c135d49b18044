#pragma once
// `docket simulate`: the daemon's own engine, run in-process on a virtual
// clock from a scenario file, with every batch committed through the real
// store. Not a second model: the commands are the control socket's JSON
// commands dispatched through the CommandRegistry, time moves only through
// advance_to(), and what is printed is what each batch committed (its audit
// entries and the outbox messages the store took as new).
//
// The scenario file is read and checked by daemon/scenario.h.
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
#include "daemon/scenario.h"
#include "store/store.h"
#include "workflows/config.h"
#include "workflows/diagnostics.h"

namespace docket::daemon {

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
