#pragma once
// A `docket simulate` scenario: its file read and checked, every time turned
// into an instant on the configuration's calendar (daemon/simulate.h runs
// it). The file (TOML; paths relative to the file, times local to the
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

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/clock.h"
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

}  // namespace docket::daemon
