// `docket simulate SCENARIO.toml [--json]`: the daemon's engine run
// in-process on a virtual clock from a scenario file (daemon/simulate.h).

#include <ostream>

#include "cli/commands.h"
#include "daemon/simulate.h"

namespace docket::cli {

int simulate_command(const SimulateOptions& o, std::ostream& out, std::ostream& err) {
  if (!o.config.empty()) {
    throw UsageError("simulate takes its configuration from the scenario's 'config' key; drop --config");
  }
  if (o.scenario.empty()) throw UsageError("simulate needs a scenario file, e.g. docket simulate scenarios/x.toml");
  return daemon::simulate(o.scenario, o.json, out, err);
}

}  // namespace docket::cli
