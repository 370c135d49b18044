#include "cli/cli.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/backup_commands.h"
#include "cli/commands.h"
#include "cli/read_commands.h"

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

  SimulateOptions so;
  auto* simulate = app.add_subcommand("simulate", "Run a scenario on the daemon's engine and a virtual clock; print "
                                                  "every state change and notification");
  simulate->add_option("scenario", so.scenario, "The scenario file, e.g. scenarios/rapid-review-to-paused-lcspr.toml")
      ->required()
      ->type_name("SCENARIO.toml");
  simulate->add_flag("--json", so.json, "Print JSON instead of a table");

  DaemonOptions d;
  std::string socket;
  app.add_option("--socket", socket, "docketd's control socket (default: $DOCKET_SOCKET, else from docketd.toml)")
      ->type_name("PATH");
  auto* start = app.add_subcommand("start", "Start a review: docket start rapid-review --ref RR-2026-014");
  start->add_option("workflow", d.workflow, "The review type, e.g. rapid-review")->required();
  start->add_option("--ref", d.ref, "The case reference (no names)")->required();
  start->add_option("--on", d.on, "The day it started (YYYY-MM-DD, or YYYY-MM-DDTHH:MM); default now")->type_name("DATE");
  start->add_option("--title", d.title, "A short title that identifies no one");
  start->add_option("--assign", d.assign, "ROLE=PERSON for a per-review role (repeatable)")->type_name("ROLE=PERSON");
  start->add_option("--date", d.dates, "NAME=YYYY-MM-DD for a date the review type asks for")->type_name("NAME=DATE");
  auto* complete = app.add_subcommand("complete", "Record that a stage is done: docket complete REF STAGE");
  complete->add_option("ref", d.ref, "The review's reference")->required();
  complete->add_option("stage", d.stage, "The stage id")->required();
  complete->add_option("--outcome", d.outcome, "The outcome, for stages that have outcomes");
  complete->add_option("--on", d.on, "The day it was done (default today)")->type_name("DATE");
  auto* pause = app.add_subcommand("pause", "Stop a review's clock, e.g. for criminal proceedings");
  pause->add_option("ref", d.ref, "The review's reference")->required();
  pause->add_option("--reason", d.reason, "Why the clock stops")->required();
  auto* resume = app.add_subcommand("resume", "Restart a paused review's clock with the days already run");
  resume->add_option("ref", d.ref, "The review's reference")->required();
  auto* extend = app.add_subcommand("extend", "Move a deadline later, with a reason");
  extend->add_option("ref", d.ref, "The review's reference")->required();
  extend->add_option("stage", d.stage, "The stage id")->required();
  extend->add_option("--to", d.to, "The new due date (YYYY-MM-DD)")->required()->type_name("DATE");
  extend->add_option("--reason", d.reason, "Why, and who approved it")->required();
  auto* waive = app.add_subcommand("waive", "Waive a stage, with a reason");
  waive->add_option("ref", d.ref, "The review's reference")->required();
  waive->add_option("stage", d.stage, "The stage id")->required();
  waive->add_option("--reason", d.reason, "Why the stage is waived")->required();
  auto* cancel = app.add_subcommand("cancel", "Cancel a review, with a reason");
  cancel->add_option("ref", d.ref, "The review's reference")->required();
  cancel->add_option("--reason", d.reason, "Why the review is cancelled")->required();
  auto* status = app.add_subcommand("status", "Show one review, or every open review");
  status->add_option("ref", d.ref, "A review's reference");
  auto* overdue = app.add_subcommand("overdue", "List every overdue deadline");
  overdue->add_option("--by", d.group, "role: group by the owning role (who owes what)")->check(CLI::IsMember({"role"}));
  auto* upcoming = app.add_subcommand("upcoming", "List deadlines falling due soon");
  upcoming->add_option("--days", d.days, "How many days ahead (default 14)")->check(CLI::Range(0, 3660));
  auto* clock = app.add_subcommand("clock", "Show the daemon's clock; on a rehearsal daemon, `clock advance 3d`");
  std::vector<std::string> clock_args;
  clock->add_option("action", clock_args, "advance AMOUNT (30m, 12h, 3d, 2w)")->expected(0, 2);
  auto* reload = app.add_subcommand("reload", "Load and check the configuration again; swap it in only if it is valid");
  auto* meeting = app.add_subcommand("meeting", "Meetings of the boards and groups: list, papers, held, notes, amend, "
                                                "approve, move");
  meeting->require_subcommand(1);
  auto* m_list = meeting->add_subcommand("list", "The meetings of this and next financial year, with their milestones");
  m_list->add_option("body", d.body, "A body (meeting cycle id), e.g. executive");
  auto meeting_sub = [&](const char* name, const char* help) {
    auto* sub = meeting->add_subcommand(name, help);
    sub->add_option("body", d.body, "The body (meeting cycle id), e.g. executive")->required();
    sub->add_option("date", d.day, "The meeting's date (YYYY-MM-DD)")->required();
    return sub;
  };
  auto* m_papers = meeting_sub("papers", "Record that the papers are published");
  auto* m_held = meeting_sub("held", "Record that the meeting was held, and who attended (quorum is checked)");
  m_held->add_option("--attended", d.attended, "Person ids of those present")->required()->expected(1, -1);
  auto* m_notes = meeting_sub("notes", "Record that the draft action notes are published");
  auto* m_amend = meeting_sub("amend", "Record a member's request to amend the draft notes");
  m_amend->add_option("--by", d.by, "The member asking (person id)")->required();
  auto* m_approve = meeting_sub("approve", "Record that the notes stand as the record");
  auto* m_move = meeting_sub("move", "Move the meeting to another day");
  m_move->add_option("--to", d.to, "The new date (YYYY-MM-DD)")->required()->type_name("DATE");
  m_move->add_option("--reason", d.reason, "Why it moves")->required();
  auto* chair = app.add_subcommand("chair", "Chair appointments");
  chair->require_subcommand(1);
  auto* c_appoint = chair->add_subcommand("appoint", "Appoint a body's chair for a financial year");
  c_appoint->add_option("body", d.body, "The body, e.g. executive")->required();
  c_appoint->add_option("--person", d.person, "The person appointed (person id)")->required();
  c_appoint->add_option("--year", d.year, "The financial year, e.g. 2026/27")->required()->type_name("YYYY/YY");
  const std::vector<std::pair<CLI::App*, std::string>> nested{
      {m_list, "meeting-list"},   {m_papers, "meeting-papers"},   {m_held, "meeting-held"},
      {m_notes, "meeting-notes"}, {m_amend, "meeting-amend"},     {m_approve, "meeting-approve"},
      {m_move, "meeting-move"},   {c_appoint, "chair-appoint"}};
  for (const auto& [sub, name] : nested) {
    sub->add_flag("--json", d.json, "Print the daemon's JSON answer");
    sub->add_option("--socket", socket, "docketd's control socket")->type_name("PATH");
    sub->add_option("--config", config, "Configuration directory")->type_name("DIR");
  }
  std::vector<CLI::App*> daemon_subs{start, complete, pause,    resume, extend, waive,
                                     cancel, status,  overdue, upcoming, clock, reload};
  for (auto* sub : daemon_subs) {
    sub->add_flag("--json", d.json, "Print the daemon's JSON answer");
    sub->add_option("--socket", socket, "docketd's control socket")->type_name("PATH");
  }

  for (auto* sub : std::vector<CLI::App*>{validate, plan, simulate, start, complete, pause, resume, extend, waive,
                                          cancel, status, overdue, upcoming, clock, reload}) {
    sub->add_option("--config", config, "Configuration directory (default: $DOCKET_CONFIG, ./config, /etc/docket)")
        ->type_name("DIR");
  }

  ReadCommands readers(app, config);  // audit, report, export, outbox: the database, read-only
  CLI::App* retry = readers.outbox_retry();
  retry->add_option("id", d.id, "The message's ID, as `docket outbox --failed` lists it")->required();
  retry->add_flag("--json", d.json, "Print the daemon's JSON answer");
  retry->add_option("--socket", socket, "docketd's control socket")->type_name("PATH");
  BackupCommands backups(app, config);

  // A mistyped command gets a suggestion rather than CLI11's "A subcommand is required".
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" || arg == "--socket") {
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
    if (simulate->parsed()) {
      so.config = config;
      return simulate_command(so, out, err);
    }
    if (retry->parsed()) {
      d.command = "outbox-retry";
      d.config = config;
      d.socket = socket;
      return daemon_command(d, out, err);
    }
    if (auto code = readers.run(out, err)) return *code;
    if (auto code = backups.run(out, err)) return *code;
    for (const auto& [sub, name] : nested) {
      if (!sub->parsed()) continue;
      d.command = name;
      d.config = config;
      d.socket = socket;
      return daemon_command(d, out, err);
    }
    for (auto* sub : daemon_subs) {
      if (!sub->parsed()) continue;
      d.command = sub->get_name();
      d.config = config;
      d.socket = socket;
      if (sub == clock && !clock_args.empty()) {
        if (clock_args[0] != "advance" || clock_args.size() != 2) {
          throw UsageError("clock takes 'advance AMOUNT', e.g. docket clock advance 3d");
        }
        d.advance = clock_args[1];
      }
      return daemon_command(d, out, err);
    }
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
