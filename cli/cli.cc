#include "cli/cli.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace docket::cli {

namespace fs = std::filesystem;

fs::path resolve_config_dir(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("DOCKET_CONFIG"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  if (fs::exists("config/docketd.toml", ec)) return "config";
  return "/etc/docket";
}

std::shared_ptr<const workflows::Config> load_or_report(const fs::path& dir, std::ostream& err) {
  auto result = workflows::load_config(dir);
  if (result.config) return result.config;
  auto list = result.diagnostics.sorted();
  for (const auto& d : list) err << workflows::format(d, dir.string()) << '\n';
  err << dir.string() << ": " << list.size() << (list.size() == 1 ? " error" : " errors")
      << "; nothing was loaded\n";
  return nullptr;
}

workflows::Day today(const std::string& tz_name) {
  auto local = date::make_zoned(tz_name, std::chrono::system_clock::now()).get_local_time();
  return workflows::Day{date::floor<date::days>(local).time_since_epoch()};
}

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"docket keeps a Safeguarding Partnership's statutory clocks.", "docket"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  std::string config;
  app.add_option("--config", config, "Configuration directory (default: $DOCKET_CONFIG, ./config, /etc/docket)")
      ->type_name("DIR");

  ValidateOptions vo;
  auto* validate = app.add_subcommand("validate", "Check every configuration file; list every problem with file:line:column");

  PlanOptions po;
  auto* plan = app.add_subcommand("plan", "Show every deadline, reminder and escalation of a workflow, and why");
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

  for (auto* sub : {validate, plan}) {
    sub->add_option("--config", config, "Configuration directory (default: $DOCKET_CONFIG, ./config, /etc/docket)")
        ->type_name("DIR");
  }

  // A mistyped command gets a suggestion rather than CLI11's "A subcommand is required".
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config") {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    std::vector<std::string> commands;
    for (const auto* sub : app.get_subcommands({})) commands.push_back(sub->get_name());
    if (std::find(commands.begin(), commands.end(), arg) == commands.end()) {
      err << "docket: unknown command '" << arg << "'" << workflows::did_you_mean(arg, commands)
          << " (try 'docket --help')\n";
      return 2;
    }
    break;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return 0;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (msg.empty()) msg = "invalid command line";
    err << "docket: " << msg << " (try 'docket --help')\n";
    return 2;
  }

  try {
    if (validate->parsed()) {
      vo.config = config;
      return validate_command(vo, out, err);
    }
    if (plan->parsed()) {
      po.config = config;
      return plan_command(po, out, err);
    }
  } catch (const UsageError& e) {
    err << "docket: " << e.what() << '\n';
    return 2;
  }
  return 2;
}

}  // namespace docket::cli
