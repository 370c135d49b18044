#include "daemon/protocol.h"

#include "daemon/json_text.h"

namespace docket::daemon {

using nlohmann::json;

std::variant<Request, std::string> parse_request(const std::string& line) {
  if (line.size() > kMaxRequestBytes) {
    return "the request is larger than " + std::to_string(kMaxRequestBytes) + " bytes";
  }
  if (line.find('\0') != std::string::npos) return std::string("the request holds a NUL byte");
  // Nesting is bounded while parsing: a deeply nested value would otherwise
  // be copied, written and freed by recursion (25,000 levels crashed docketd).
  bool too_deep = false;
  const json::parser_callback_t depth_limit = [&too_deep](int depth, json::parse_event_t, json&) {
    if (depth > kMaxRequestDepth) too_deep = true;
    return !too_deep;
  };
  json j = json::parse(line, depth_limit, false);
  if (too_deep) {
    return "the request is nested more than " + std::to_string(kMaxRequestDepth) + " levels deep";
  }
  if (j.is_discarded()) return std::string("the request is not valid JSON");
  if (!j.is_object()) return std::string("the request must be a JSON object with \"command\"");
  Request r;
  if (j.contains("id")) r.id = j["id"];
  if (!j.contains("command") || !j["command"].is_string()) {
    return std::string("the request has no \"command\" string");
  }
  r.command = j["command"].get<std::string>();
  if (j.contains("args")) {
    if (!j["args"].is_object()) return std::string("\"args\" must be a JSON object");
    r.args = j["args"];
  }
  return r;
}

std::string reply_line(const json& id, const Result& r) {
  // The keys in nlohmann's sorted order, written straight out: the text is
  // what dumping {"id", "ok", "result" | "error"} with replace gave.
  std::string out = "{";
  if (!r.ok) {
    out += "\"error\":";
    append_json_string(out, r.error, true);
    out += ',';
  }
  out += "\"id\":";
  append_json(out, id);
  out += r.ok ? ",\"ok\":true,\"result\":" : ",\"ok\":false";
  if (r.ok && !r.text.empty()) out += r.text;
  else if (r.ok) append_json(out, r.data);
  out += "}\n";
  return out;
}

}  // namespace docket::daemon
