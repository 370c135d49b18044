// Registers `docket audit`, `docket report` and `docket export` and runs the
// one that was given.

#include "cli/read_commands.h"

#include <ostream>

#include "cli/commands.h"

namespace docket::cli {

namespace {

const char* const kFormatHelp = "table (default), json, or csv (RFC 4180, UTF-8 with a byte order mark, for spreadsheets)";

void common(CLI::App* sub, ReadOptions& o, std::string& config, bool format) {
  sub->add_option("--db", o.db, "The database (default: [daemon] database in docketd.toml)")->type_name("PATH");
  sub->add_option("--config", config, "Configuration directory (default: $DOCKET_CONFIG, ./config, /etc/docket)")
      ->type_name("DIR");
  if (format) sub->add_option("--format", o.format, kFormatHelp)->type_name("FORMAT");
}

}  // namespace

ReadCommands::ReadCommands(CLI::App& app, std::string& config) : config_(config) {
  audit_ = app.add_subcommand("audit", "Search the audit trail (read-only; works with docketd stopped); "
                                       "`audit verify` checks its hash chain, `audit show REF` tells one story");
  audit_->require_subcommand(0, 1);
  auto& a = audit_options_;
  common(audit_, a, config_, true);
  audit_->add_option("--ref", a.ref, "Only this reference (a review, or a meeting such as @executive/2026-06-09)");
  audit_->add_option("--workflow", a.workflow, "Only references of this review type or meeting cycle");
  audit_->add_option("--stage", a.stage, "Only this stage or milestone id");
  audit_->add_option("--actor", a.actor, "Only what this person (id) did, or 'system' for docketd itself");
  audit_->add_option("--kind", a.kind, "Only this kind, e.g. stage.completed, deadline.escalated, review.paused");
  audit_->add_option("--since", a.since, "From this local day or time (YYYY-MM-DD or YYYY-MM-DDTHH:MM)")
      ->type_name("DATE");
  audit_->add_option("--until", a.until, "Up to the end of this local day (or before this time)")->type_name("DATE");
  audit_->add_option("--limit", a.limit, "Show the newest N matching records (default 100)")
      ->check(CLI::Range(1, 1000000))
      ->type_name("N");
  audit_->add_flag("--verbose", a.verbose, "Also print the query's time and how SQLite ran it");

  verify_ = audit_->add_subcommand("verify", "Walk the audit trail's hash chain and check it against the head docketd "
                                             "published; exit 1 at the first broken link, 3 if the key was missing");
  common(verify_, verify_options_, config_, false);
  verify_->add_option("--expect-head", verify_options_.expect_head,
                      "Also check that record SEQ still has HASH, as an earlier verify printed (catches records cut "
                      "from the end, or a rewritten chain)")
      ->type_name("SEQ:HASH");
  verify_->add_option("--key-file", verify_options_.key_file,
                      "The audit key (default: [audit] key_file in docketd.toml, else audit.key beside the database)")
      ->type_name("PATH");
  verify_->add_option("--head-file", verify_options_.head_file,
                      "The head docketd published (default: docketd's head file when checking docketd's database)")
      ->type_name("PATH");
  verify_->add_flag("--verbose", verify_options_.verbose, "Report progress every million records");

  show_ = audit_->add_subcommand("show", "The whole story of one review or meeting, as a timeline in local time");
  show_->add_option("ref", show_options_.ref, "The review's reference, or a meeting such as @executive/2026-06-09")
      ->required();
  common(show_, show_options_, config_, true);

  auto* report = app.add_subcommand("report", "Reports from the database: compliance with time limits, meetings");
  report->require_subcommand(1);
  auto period = [&](CLI::App* sub) {
    auto& r = report_options_;
    common(sub, r, config_, true);
    sub->add_option("--from", r.from, "First day of the period (YYYY-MM-DD)")->type_name("DATE");
    sub->add_option("--to", r.to, "Last day of the period (YYYY-MM-DD)")->type_name("DATE");
    sub->add_option("--financial-year", r.financial_year, "A financial year such as 2026/27 (the default: the current one)")
        ->type_name("YYYY/YY");
    sub->add_option("--as-of", r.as_of, "Count this day as today (default: the database's own day)")->type_name("DATE");
  };
  compliance_ = report->add_subcommand(
      "compliance", "For each review type and stage: how many fell due, met on time or late, overdue, waived, extended");
  period(compliance_);
  meetings_ = report->add_subcommand(
      "meetings", "For each body: meetings planned and held, quorum, papers and notes on time, attendance by agency");
  period(meetings_);

  auto* exp = app.add_subcommand("export", "Export from the database: an iCalendar feed");
  exp->require_subcommand(1);
  ics_ = exp->add_subcommand("ics", "Open deadlines and coming meetings as an iCalendar (.ics) file, no personal data");
  auto& e = export_options_;
  common(ics_, e, config_, false);
  ics_->add_option("--person", e.person, "Only what this person (id) owns, and the meetings of their bodies");
  ics_->add_option("--workflow", e.workflow, "Only this review type or meeting cycle");
  ics_->add_option("--output", e.output, "Write to this file (default: standard output)")->type_name("FILE");
  ics_->add_option("--as-of", e.as_of, "Count this day as today (default: the database's own day)")->type_name("DATE");

  outbox_ = app.add_subcommand("outbox", "Messages not yet delivered: pending, held, and dead letters "
                                         "(read-only); `outbox retry ID` sends a dead letter again");
  outbox_->require_subcommand(0, 1);
  auto& ob = outbox_options_;
  common(outbox_, ob, config_, true);
  outbox_->add_flag("--failed", ob.failed, "Only dead letters: messages docket gave up on");
  outbox_->add_flag_callback("--json", [&ob] { ob.format = "json"; }, "Same as --format json");
  outbox_->add_option("--limit", ob.limit, "At most N messages (default 200)")->check(CLI::Range(1, 1000000))->type_name("N");
}

std::optional<int> ReadCommands::run(std::ostream& out, std::ostream& err) {
  auto with_config = [&](ReadOptions& o) {
    o.config = config_;
    if (o.db.empty()) o.db = audit_options_.db;  // `docket audit --db X verify`
  };
  try {
    if (verify_->parsed()) {
      with_config(verify_options_);
      return audit_verify_command(verify_options_, out, err);
    }
    if (show_->parsed()) {
      with_config(show_options_);
      return audit_show_command(show_options_, out, err);
    }
    if (audit_->parsed()) {
      audit_options_.config = config_;
      return audit_command(audit_options_, out, err);
    }
    if (compliance_->parsed()) {
      report_options_.config = config_;
      return report_compliance_command(report_options_, out, err);
    }
    if (meetings_->parsed()) {
      report_options_.config = config_;
      return report_meetings_command(report_options_, out, err);
    }
    // `outbox retry ID` is docketd's (cli/daemon_commands.cc).
    if (outbox_->parsed() && outbox_->get_subcommands([](const CLI::App* sub) { return sub->parsed(); }).empty()) {
      outbox_options_.config = config_;
      return outbox_command(outbox_options_, out, err);
    }
    if (ics_->parsed()) {
      export_options_.config = config_;
      return export_ics_command(export_options_, out, err);
    }
  } catch (const UsageError& e) {
    err << "docket: " << e.what() << '\n';
    return 2;
  }
  return std::nullopt;
}

}  // namespace docket::cli
