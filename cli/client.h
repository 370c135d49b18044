#pragma once
// Talking to docketd over its control socket: one JSON request line, one
// reply line (see daemon/commands.h for the protocol).

#include <filesystem>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

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

// Sends one request and returns the reply object ({"ok": ..., ...}).
nlohmann::json call(const std::filesystem::path& socket, const std::string& command, const nlohmann::json& args);

}  // namespace docket::cli
