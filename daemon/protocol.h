#pragma once
// The control protocol, apart from any transport and any command.
//
// A request is one line of JSON: {"id": ANY, "command": NAME, "args": {...}}.
// The reply is one line: {"id": ANY, "ok": true, "result": {...}} or
// {"id": ANY, "ok": false, "error": "what is wrong and how to fix it"}.
// docs/protocol.md describes it for clients; the commands are the command
// table's (command_table.h).

#include <cstddef>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "daemon/engine.h"

namespace docket::daemon {

inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;
// Arrays and objects nested deeper than this are refused (no command needs more than 3).
inline constexpr int kMaxRequestDepth = 16;

struct Request {
  nlohmann::json id;
  std::string command;
  nlohmann::json args = nlohmann::json::object();
};

// Parses one request line; on failure returns the error to send back.
std::variant<Request, std::string> parse_request(const std::string& line);

std::string reply_line(const nlohmann::json& id, const Result& r);

}  // namespace docket::daemon
