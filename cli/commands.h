#pragma once
// Options and entry points of each `docket` subcommand (internal to cli/).

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/config.h"

namespace docket::cli {

// A wrong command line or argument: printed as one line, exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --config, else $DOCKET_CONFIG, else ./config when it holds docketd.toml,
// else /etc/docket.
std::filesystem::path resolve_config_dir(const std::string& flag);

// Loads the configuration; on errors prints every one to `err` and returns null.
std::shared_ptr<const workflows::Config> load_or_report(const std::filesystem::path& dir, std::ostream& err);
// Prints every diagnostic with its file:line:column, then the count.
void report_errors(const workflows::Diagnostics& diags, const std::filesystem::path& dir, std::ostream& err);

// Today on the given time zone.
workflows::Day today(const std::string& tz_name);

struct ValidateOptions {
  std::string config;
};
int validate_command(const ValidateOptions& o, std::ostream& out, std::ostream& err);

struct PlanOptions {
  std::string config;
  std::string workflow;
  std::string start;
  std::vector<std::string> dates;  // NAME=YYYY-MM-DD
  std::string from;
  std::string to;
  std::string financial_year;
  bool all = false;
  bool json = false;
};
int plan_command(const PlanOptions& o, std::ostream& out, std::ostream& err);

// `docket simulate`: a scenario run on the daemon's engine in-process; the
// configuration is the scenario's own (`config` in the file).
struct SimulateOptions {
  std::string config;    // must stay empty: --config is refused
  std::string scenario;  // the scenario file
  bool json = false;
};
int simulate_command(const SimulateOptions& o, std::ostream& out, std::ostream& err);

// Prints docketd's answer `r` to `command` (asked with `args`) as people
// read it (review_commands.cc); `group` is `overdue --by`.
void print_answer(const std::string& command, const nlohmann::json& args, const nlohmann::json& r,
                  const std::string& group, std::ostream& out);

}  // namespace docket::cli
