#pragma once
// Talking to docketd over its control socket: one JSON request line, one
// reply line (see daemon/commands.h for the protocol).

#include <filesystem>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "workflows/config.h"

namespace docket::cli {

// docketd could not be reached, or answered something that is not a reply.
class ConnectionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --socket, else $DOCKET_SOCKET, else [daemon] socket in the configuration's
// docketd.toml (relative to the configuration directory).
std::filesystem::path resolve_socket(const std::string& flag, const std::string& config_flag);

// --db, else [daemon] database in the configuration's docketd.toml (relative
// to the configuration directory), as docketd itself resolves it.
std::filesystem::path resolve_database(const std::string& flag, const std::string& config_flag);

// [audit] key_file, credential and head_file of the configuration's
// docketd.toml (relative to the configuration directory), read alone as
// resolve_database reads [daemon] database; defaults where it has none.
workflows::AuditSettings audit_settings(const std::string& config_flag);

// The audit key and head file for the database `db` (as resolved from
// `db_flag`): docketd's ([audit] in docketd.toml, else beside its database)
// when `db` is docketd's database; for another file (a backup, a copy) the
// key is still docketd's, the head file the one beside it.
struct AuditFiles {
  std::filesystem::path key;
  std::filesystem::path head;
};
AuditFiles audit_files(const std::filesystem::path& db, const std::string& db_flag, const std::string& config_flag);

// Sends one request and returns the reply object ({"ok": ..., ...}).
nlohmann::json call(const std::filesystem::path& socket, const std::string& command, const nlohmann::json& args);

}  // namespace docket::cli
