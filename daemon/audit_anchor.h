#pragma once
// The audit trail's anchor outside the database, as docketd finds it at
// start: the key (store/audit_key.h) and the head it last published
// (store/audit_head.h); then the check of the database against them before
// anything is written to it. `docket audit verify` resolves the same paths.
//
// Where they are ([audit] in docketd.toml):
//   key_file = "..."     the key; default audit.key beside the database.
//                        Made on first start (32 bytes from getrandom(2),
//                        mode 0600) when neither a keyed trail nor a head
//                        file exists yet, so a new installation and the
//                        development configuration work unconfigured.
//   credential = "NAME"  or a systemd credential (LoadCredential=NAME:PATH):
//                        read from $CREDENTIALS_DIRECTORY/NAME, never made.
//   head_file = "..."    the published head; default audit.head beside the
//                        database. Beside it docketd keeps audit.pub.pem, the
//                        public key that checks the heads it signs.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "store/audit_head.h"
#include "store/audit_key.h"
#include "store/integrity.h"
#include "workflows/config.h"

namespace docket::daemon {

struct AuditPaths {
  std::filesystem::path key;
  bool credential = false;  // the key is a systemd credential: read-only, never made
  std::filesystem::path head;
};

// `database` is the database docketd (or the command) uses.
AuditPaths audit_paths(const workflows::AuditSettings& settings, const std::filesystem::path& database);

struct AuditAnchor {
  AuditPaths paths;
  std::shared_ptr<const store::AuditKey> key;
  bool key_created = false;
  store::HeadFile head;  // authentic, absent, or bad (not written with this key)
};

// Reads the key, making it when allowed (see above), and the head file.
// Throws std::runtime_error with what is wrong and what to do: the key is
// missing for a trail already keyed, unreadable, or too widely readable. A
// head file not written with this key is left to check_database_at_start.
AuditAnchor open_audit_anchor(const workflows::AuditSettings& settings, const std::filesystem::path& database);

// The check before docketd writes: nothing when the database is sound and
// its trail verifies against the published head; else the problem, also
// logged with its stable event name (audit.head_rejected,
// database.missing, database.damaged, audit.broken, audit.wrong_key). See
// store/integrity.h.
struct StartCheck {
  std::optional<std::string> problem;
  std::optional<store::IntegrityReport> report;  // when the database exists
};
StartCheck check_database_at_start(const std::filesystem::path& database, const AuditAnchor& anchor);

}  // namespace docket::daemon
