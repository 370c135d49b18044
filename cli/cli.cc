#include "cli/cli.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/backup_commands.h"
#include "cli/commands.h"
#include "cli/daemon_commands.h"
#include "cli/read_commands.h"
#include "daemon/build_info.h"

namespace docket::cli {

namespace fs = std::filesystem;

fs::path resolve_config_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("DOCKET_CONFIG"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  if (fs::exists("config/docketd.toml", ec)) return "config";
  return "/etc/docket";
}

void report_errors(const workflows::Diagnostics& diags, const fs::path& dir, std::ostream& err) {
  auto list = diags.sorted();
  for (const auto& d : list) err << workflows::format(d, dir.string()) << '\n';
  err << dir.string() << ": " << list.size() << (list.size() == 1 ? " error" : " errors")
      << "; nothing was loaded\n";
}

std::shared_ptr<const workflows::Config> load_or_report(const fs::path& dir, std::ostream& err) {
  auto result = workflows::load_config(dir);
  if (result.config) return result.config;
  report_errors(result.diagnostics, dir, err);
  return nullptr;
}

workflows::Day today(const std::string& tz_name) {
  auto local = date::make_zoned(tz_name, std::chrono::system_clock::now()).get_local_time();
  return workflows::Day{date::floor<date::days>(local).time_since_epoch()};
}

namespace {

// The commands docket answers itself, from the configuration alone.
struct LocalCommands {
  ValidateOptions validate_options;
  PlanOptions plan_options;
  SimulateOptions simulate_options;
  CLI::App* validate = nullptr;
  CLI::App* plan = nullptr;
  CLI::App* simulate = nullptr;

  explicit LocalCommands(CLI::App& app);
  std::optional<int> run(const std::string& config, std::ostream& out, std::ostream& err);
};

LocalCommands::LocalCommands(CLI::App& app) {
  validate = app.add_subcommand("validate", "Check every configuration file; list every problem with file:line:column");

  auto& po = plan_options;
  plan = app.add_subcommand("plan", "Show every deadline, reminder and escalation of a workflow, and why");
  plan->add_option("workflow", po.workflow, "A review type or meeting cycle id, e.g. rapid-review or executive");
  plan->add_option("--start", po.start, "Day the review starts (YYYY-MM-DD, or YYYY-MM-DDTHH:MM for clock-hour deadlines)")
      ->type_name("DATE");
  plan->add_option("--date", po.dates, "A date the review needs, NAME=YYYY-MM-DD (repeatable)")->type_name("NAME=DATE");
  plan->add_option("--from", po.from, "Meeting cycles: first day to list (YYYY-MM-DD)")->type_name("DATE");
  plan->add_option("--to", po.to, "Meeting cycles: last day to list (YYYY-MM-DD)")->type_name("DATE");
  plan->add_option("--financial-year", po.financial_year, "Meeting cycles: a financial year such as 2026/27")
      ->type_name("YYYY/YY");
  plan->add_flag("--all", po.all, "Plan every workflow: reviews started --start (default today), cycles over the "
                                  "financial year");
  plan->add_flag("--json", po.json, "Print JSON instead of a table");

  simulate = app.add_subcommand("simulate", "Run a scenario on the daemon's engine and a virtual clock; print "
                                            "every state change and notification");
  simulate->add_option("scenario", simulate_options.scenario,
                       "The scenario file, e.g. scenarios/rapid-review-to-paused-lcspr.toml")
      ->required()
      ->type_name("SCENARIO.toml");
  simulate->add_flag("--json", simulate_options.json, "Print JSON instead of a table");
}

std::optional<int> LocalCommands::run(const std::string& config, std::ostream& out, std::ostream& err) {
  if (validate->parsed()) {
    validate_options.config = config;
    return validate_command(validate_options, out, err);
  }
  if (plan->parsed()) {
    plan_options.config = config;
    return plan_command(plan_options, out, err);
  }
  if (simulate->parsed()) {
    simulate_options.config = config;
    return simulate_command(simulate_options, out, err);
  }
  return std::nullopt;
}

// A mistyped command gets a suggestion rather than CLI11's "A subcommand is
// required"; nullopt when the first word is a command.
std::optional<std::string> unknown_command(const CLI::App& app, int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" || arg == "--socket") {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    std::vector<std::string> commands;
    for (const auto* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
    if (std::find(commands.begin(), commands.end(), arg) != commands.end()) return std::nullopt;
    return "unknown command '" + arg + "'" + workflows::did_you_mean(arg, commands);
  }
  return std::nullopt;
}

}  // namespace

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"docket keeps a Safeguarding Partnership's statutory clocks.", "docket"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  app.set_version_flag("--version", version_line("docket"), "Show docket's version and the git commit it was built from");
  std::string config;
  std::string socket;
  app.add_option("--config", config, "Configuration directory (default: $DOCKET_CONFIG, ./config, /etc/docket)")
      ->type_name("DIR");
  app.add_option("--socket", socket, "docketd's control socket (default: $DOCKET_SOCKET, else from docketd.toml)")
      ->type_name("PATH");

  LocalCommands local(app);
  for (auto* sub : {local.validate, local.plan, local.simulate}) {
    sub->add_option("--config", config, "Configuration directory (default: $DOCKET_CONFIG, ./config, /etc/docket)")
        ->type_name("DIR");
  }
  ReadCommands readers(app, config);  // audit, report, export, outbox: the database, read-only
  BackupCommands backups(app, config);
  DaemonCommands daemon_commands(app, config, socket);  // docketd's command table

  if (auto unknown = unknown_command(app, argc, argv)) {
    err << "docket: " << *unknown << " (try 'docket --help')\n";
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::CallForVersion&) {
    out << version_line("docket") << '\n';
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (msg.empty()) msg = "invalid command line";
    err << "docket: " << msg << " (try 'docket --help')\n";
    return 2;
  }

  try {
    if (auto code = local.run(config, out, err)) return *code;
    if (auto code = daemon_commands.run(out, err)) return *code;
    if (auto code = readers.run(out, err)) return *code;
    if (auto code = backups.run(out, err)) return *code;
  } catch (const UsageError& e) {
    err << "docket: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    // A database or file that cannot be read as expected: said in one line,
    // never an abort with a core dump in front of an inspector.
    err << "docket: " << e.what() << '\n';
    return 2;
  }
  return 2;
}

}  // namespace docket::cli
