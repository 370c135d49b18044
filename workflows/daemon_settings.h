#pragma once
// docketd.toml: the daemon's own settings, [daemon] and [audit], read in one
// place. load_config() reads them with the rest of the configuration; the
// docket CLI reads them alone (read_daemon_settings) to find docketd's socket,
// database and audit files. [delivery] and [channels.*] are kept as parsed in
// `document` and checked by the daemon, which knows the channel types
// (daemon/delivery_settings.h).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include <toml++/toml.h>

#include "workflows/diagnostics.h"

namespace docket::workflows {

// [audit] of docketd.toml: where the audit trail's key and published head
// live, how often docketd publishes the head, and who gets it signed
// (store/audit_key.h, store/audit_head.h, daemon/audit_publisher.h,
// docs/audit.md).
struct AuditSettings {
  // The key: key_file (resolved against the configuration directory; empty
  // for audit.key beside the database, made on first start), or a systemd
  // credential (LoadCredential=NAME:...): $CREDENTIALS_DIRECTORY/NAME.
  std::filesystem::path key_file;
  std::string credential;
  std::filesystem::path head_file;  // empty for audit.head beside the database
  std::string recipient;            // a person of directory.toml; empty for none
  std::chrono::minutes publish_every{60};  // while the head moves
  std::int64_t publish_records = 10000;     // or once this many records were added
  std::chrono::hours notice_every{24};      // the recipient's notices at most this often (0: every publication)
};

struct DaemonSettings {
  std::filesystem::path database;  // resolved against the configuration directory
  std::filesystem::path socket;
  std::string timezone = "Europe/London";
  std::chrono::minutes notify_at{9 * 60};  // local time notifications go out on working days
  std::string calendar = "england-and-wales";
  AuditSettings audit;
  // docketd.toml as parsed, for the tables the daemon checks itself:
  // [delivery] and [channels.*] (daemon/delivery_settings.h). Null when the
  // file is absent.
  std::shared_ptr<const toml::table> document;
  std::string file = "docketd.toml";
};

// Reads DIR/docketd.toml alone, every problem of the file into `diags`. The
// result holds the defaults for what the file does not give, cannot give
// (it is missing or not TOML) or gives with the wrong type; a path or a
// credential that is refused stays as written. So a configuration with
// errors still names its socket, database and audit files, as docketd would
// read them once the errors are fixed; `docket validate` explains the errors.
// Names that other files define (the calendar, the audit recipient) are
// checked by load_config(), not here.
DaemonSettings read_daemon_settings(const std::filesystem::path& dir, Diagnostics& diags);

}  // namespace docket::workflows
