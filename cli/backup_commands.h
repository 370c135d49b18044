#pragma once
// `docket backup FILE` and `docket restore FILE` (internal to cli/).
//
// backup reads the database itself, read-only, rather than asking docketd:
// SQLite's backup API on a read-only connection takes one consistent
// snapshot while docketd keeps committing (a WAL reader never blocks the
// writer), works with docketd stopped too, and never stalls the daemon's
// single event loop (and its watchdog) for the minutes a large file takes.
// It needs read access to the database, so it is run as root or as the
// `docket` account, like any file-level backup.
//
// restore refuses while docketd answers on its socket; it checks the file
// (integrity, schema version, audit chain, its keyed part with the audit
// key) before it replaces anything and keeps the database it replaces
// beside it. The head docketd published for the database replaced is moved
// aside with it (the restored trail is older): docketd then records
// audit.head_missing at its next start and publishes the restored head.
//
// Both take --db PATH (default: [daemon] database in docketd.toml); restore
// also --socket PATH. Exit codes: 0 done; 1 refused (docketd running, a file
// that fails its checks); 2 a wrong command line or a file that cannot be
// read or written.

#include <iosfwd>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace docket::cli {

struct BackupOptions {
  std::string config;
  std::string db;
  std::string socket;
  std::string file;
  std::string key_file;  // restore: the audit key, to check the backup's keyed records
};
int backup_command(const BackupOptions& o, std::ostream& out, std::ostream& err);
int restore_command(const BackupOptions& o, std::ostream& out, std::ostream& err);

// Adds backup and restore to `app`; run() runs the one given, or returns
// nullopt when neither was.
class BackupCommands {
 public:
  BackupCommands(CLI::App& app, std::string& config);
  std::optional<int> run(std::ostream& out, std::ostream& err);

 private:
  std::string& config_;
  CLI::App* backup_ = nullptr;
  CLI::App* restore_ = nullptr;
  BackupOptions backup_options_;
  BackupOptions restore_options_;
};

}  // namespace docket::cli
