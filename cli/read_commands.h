#pragma once
// The commands that read docketd's database directly, read-only, with or
// without the daemon running (internal to cli/):
//
//   docket audit [filters] [--format table|json|csv] [--limit N] [--verbose]
//   docket audit verify [--expect-head SEQ:HASH] [--key-file PATH] [--head-file PATH]
//   docket audit show REF
//   docket report compliance [--from DATE] [--to DATE] [--financial-year 2026/27]
//   docket report meetings [--financial-year 2026/27]
//   docket export ics [--person ID] [--workflow ID] [--output FILE]
//   docket outbox [--failed] (`outbox retry ID` goes to the daemon)
//
// Each takes --db PATH (default: [daemon] database in docketd.toml) and
// --config DIR. Exit codes: 0 an answer; 1 a negative answer (a broken
// chain, an unknown reference); 2 a wrong command line, or a database or
// configuration that cannot be read; `audit verify` also 3: nothing found
// wrong, but keyed records could not be checked (no key, or not the trail's).

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace docket::cli {

struct ReadOptions {
  std::string config;
  std::string db;
  std::string format = "table";
  std::string as_of;  // reports and export: the day counted as today
};

struct AuditOptions : ReadOptions {
  std::string ref, workflow, stage, actor, kind, since, until;
  std::size_t limit = 100;
  bool verbose = false;
};
int audit_command(const AuditOptions& o, std::ostream& out, std::ostream& err);

struct VerifyOptions : ReadOptions {
  std::string expect_head;  // SEQ:HASH from an earlier run
  std::string key_file;     // default: as docketd finds it (daemon/audit_anchor.h)
  std::string head_file;    // default: docketd's, for docketd's database
  bool verbose = false;
};
int audit_verify_command(const VerifyOptions& o, std::ostream& out, std::ostream& err);

struct ShowOptions : ReadOptions {
  std::string ref;
};
int audit_show_command(const ShowOptions& o, std::ostream& out, std::ostream& err);

struct ReportOptions : ReadOptions {
  std::string from, to, financial_year;
};
int report_compliance_command(const ReportOptions& o, std::ostream& out, std::ostream& err);
int report_meetings_command(const ReportOptions& o, std::ostream& out, std::ostream& err);

struct ExportOptions : ReadOptions {
  std::string person, workflow, output;
};
int export_ics_command(const ExportOptions& o, std::ostream& out, std::ostream& err);

struct OutboxOptions : ReadOptions {
  bool failed = false;  // only dead letters
  std::size_t limit = 200;
};
int outbox_command(const OutboxOptions& o, std::ostream& out, std::ostream& err);

// Adds audit, report and export to `app`; `config` is the top-level
// --config, shared with the other commands. After parsing, run() runs the
// one that was given, or returns nullopt when none was.
class ReadCommands {
 public:
  ReadCommands(CLI::App& app, std::string& config);
  std::optional<int> run(std::ostream& out, std::ostream& err);

 private:
  std::string& config_;
  CLI::App* audit_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* compliance_ = nullptr;
  CLI::App* meetings_ = nullptr;
  CLI::App* ics_ = nullptr;
  CLI::App* outbox_ = nullptr;
  AuditOptions audit_options_;
  VerifyOptions verify_options_;
  ShowOptions show_options_;
  ReportOptions report_options_;
  ExportOptions export_options_;
  OutboxOptions outbox_options_;
};

}  // namespace docket::cli
