#include "daemon/commands.h"

#include "daemon/json_text.h"

#include <charconv>

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

void advance_to(Engine& engine, VirtualClock& clock, Instant target, store::Batch& batch) {
  const Instant from = clock.now();
  engine.fire_through(target, clock, batch);
  clock.set(std::max(from, target));
}

namespace {

std::string local_text(const Engine& engine, Instant t) {
  const auto& cal = engine.config().calendar(engine.config().daemon.calendar);
  return date::format("%a %F %H:%M", date::floor<std::chrono::minutes>(cal.zone()->to_local(t))) + " " +
         cal.timezone_name();
}

}  // namespace

Result advance_recorded(const Engine& engine, const Caller& who, Instant from, Instant target, Instant reached,
                        store::Batch& batch) {
  json details{{"from", date::format("%FT%TZ", from)}, {"to", date::format("%FT%TZ", reached)}};
  if (reached != target) details["stopped_short_of"] = date::format("%FT%TZ", target);
  store::AuditEntry e;
  e.at = reached.time_since_epoch().count();
  e.actor = who.person;
  e.kind = "clock.advanced";
  e.details = details.dump();
  batch.audit.push_back(std::move(e));
  batch.meta.emplace_back("virtual_now", std::to_string(reached.time_since_epoch().count()));
  return Result{true, "",
                {{"now", date::format("%FT%TZ", reached)}, {"local", local_text(engine, reached)}, {"mode", "virtual"}}};
}

std::optional<std::chrono::seconds> parse_advance(const std::string& t) {
  if (t.size() < 2) return std::nullopt;
  long n = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size() - 1, n);
  if (ec != std::errc{} || p != t.data() + t.size() - 1 || n <= 0 || n > 5'270'400) return std::nullopt;
  std::chrono::seconds step{};
  switch (t.back()) {
    case 'm': step = std::chrono::minutes{n}; break;
    case 'h': step = std::chrono::hours{n}; break;
    case 'd': step = std::chrono::days{n}; break;
    case 'w': step = std::chrono::weeks{n}; break;
    default: return std::nullopt;
  }
  if (step > kMaxAdvance) return std::nullopt;
  return step;
}

namespace {

// Argument helpers: a missing or mistyped argument is a clear error.
struct Args {
  const json& j;
  std::string error;

  std::string str(const char* key, bool required = true) {
    if (!j.contains(key)) {
      if (required && error.empty()) error = std::string("missing argument '") + key + "'";
      return {};
    }
    if (!j[key].is_string()) {
      if (error.empty()) error = std::string("argument '") + key + "' must be a string";
      return {};
    }
    return j[key].get<std::string>();
  }

  std::map<std::string, std::string> map(const char* key) {
    std::map<std::string, std::string> out;
    if (!j.contains(key)) return out;
    if (!j[key].is_object()) {
      if (error.empty()) error = std::string("argument '") + key + "' must be an object of strings";
      return out;
    }
    for (const auto& [k, v] : j[key].items()) {
      if (!v.is_string()) {
        if (error.empty()) error = std::string("argument '") + key + "." + k + "' must be a string";
        continue;
      }
      out[k] = v.get<std::string>();
    }
    return out;
  }
};

}  // namespace

CommandRegistry::CommandRegistry() {
  commands_["start"] = {[](Services& s, const Caller& who, const json& args, store::Batch& b) {
                          Args a{args, {}};
                          StartArgs st;
                          st.workflow = a.str("workflow");
                          st.ref = a.str("ref");
                          st.on = a.str("on", false);
                          st.title = a.str("title", false);
                          st.assign = a.map("assign");
                          st.dates = a.map("dates");
                          if (!a.error.empty()) return Result::fail("start: " + a.error);
                          return s.engine.start(who, st, b);
                        },
                        true};
  commands_["complete"] = {[](Services& s, const Caller& who, const json& args, store::Batch& b) {
                             Args a{args, {}};
                             auto ref = a.str("ref"), stage = a.str("stage");
                             auto outcome = a.str("outcome", false), on = a.str("on", false);
                             if (!a.error.empty()) return Result::fail("complete: " + a.error);
                             return s.engine.complete(who, ref, stage, outcome, on, b);
                           },
                           true};
  commands_["pause"] = {[](Services& s, const Caller& who, const json& args, store::Batch& b) {
                          Args a{args, {}};
                          auto ref = a.str("ref"), reason = a.str("reason");
                          if (!a.error.empty()) return Result::fail("pause: " + a.error);
                          return s.engine.pause(who, ref, reason, b);
                        },
                        true};
  commands_["resume"] = {[](Services& s, const Caller& who, const json& args, store::Batch& b) {
                           Args a{args, {}};
                           auto ref = a.str("ref");
                           if (!a.error.empty()) return Result::fail("resume: " + a.error);
                           return s.engine.resume(who, ref, b);
                         },
                         true};
  commands_["extend"] = {[](Services& s, const Caller& who, const json& args, store::Batch& b) {
                           Args a{args, {}};
                           auto ref = a.str("ref"), stage = a.str("stage"), to = a.str("to"), reason = a.str("reason");
                           if (!a.error.empty()) return Result::fail("extend: " + a.error);
                           return s.engine.extend(who, ref, stage, to, reason, b);
                         },
                         true};
  commands_["waive"] = {[](Services& s, const Caller& who, const json& args, store::Batch& b) {
                          Args a{args, {}};
                          auto ref = a.str("ref"), stage = a.str("stage"), reason = a.str("reason");
                          if (!a.error.empty()) return Result::fail("waive: " + a.error);
                          return s.engine.waive(who, ref, stage, reason, b);
                        },
                        true};
  commands_["cancel"] = {[](Services& s, const Caller& who, const json& args, store::Batch& b) {
                           Args a{args, {}};
                           auto ref = a.str("ref"), reason = a.str("reason");
                           if (!a.error.empty()) return Result::fail("cancel: " + a.error);
                           return s.engine.cancel(who, ref, reason, b);
                         },
                         true};
  commands_["status"] = {[](Services& s, const Caller&, const json& args, store::Batch&) {
                           Args a{args, {}};
                           auto ref = a.str("ref", false);
                           if (!a.error.empty()) return Result::fail("status: " + a.error);
                           return s.engine.status(ref);
                         },
                         false};
  commands_["overdue"] = {[](Services& s, const Caller&, const json&, store::Batch&) { return s.engine.overdue(); },
                          false};
  commands_["upcoming"] = {[](Services& s, const Caller&, const json& args, store::Batch&) {
                             int days = 14;
                             if (args.contains("days")) {
                               const auto& v = args["days"];
                               // Read at its full width: 2^63 must not wrap to 0.
                               const bool in_range =
                                   v.is_number_unsigned()  ? v.get<std::uint64_t>() <= 3660
                                   : v.is_number_integer() ? v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= 3660
                                                           : false;
                               if (!in_range) {
                                 return Result::fail("upcoming: 'days' must be a whole number from 0 to 3660");
                               }
                               days = v.get<int>();
                             }
                             return s.engine.upcoming(days);
                           },
                           false};
  auto meeting = [](auto run) {
    return Entry{[run](Services& s, const Caller& who, const json& args, store::Batch& b) {
                   Args a{args, {}};
                   auto body = a.str("body"), day = a.str("date");
                   if (!a.error.empty()) return Result::fail(a.error);
                   return run(s, who, a, body, day, b);
                 },
                 true};
  };
  commands_["meeting-list"] = {[](Services& s, const Caller&, const json& args, store::Batch&) {
                                 Args a{args, {}};
                                 auto body = a.str("body", false);
                                 if (!a.error.empty()) return Result::fail(a.error);
                                 return s.engine.meeting_list(body);
                               },
                               false};
  commands_["meeting-papers"] = meeting([](Services& s, const Caller& who, Args&, const std::string& body,
                                           const std::string& day, store::Batch& b) {
    return s.engine.meeting_papers(who, body, day, b);
  });
  commands_["meeting-held"] = meeting([](Services& s, const Caller& who, Args& a, const std::string& body,
                                         const std::string& day, store::Batch& b) {
    std::vector<std::string> attended;
    if (a.j.contains("attended")) {
      if (!a.j["attended"].is_array()) return Result::fail("'attended' must be a list of person ids");
      for (const auto& p : a.j["attended"]) {
        if (!p.is_string()) return Result::fail("'attended' must be a list of person ids");
        attended.push_back(p.get<std::string>());
      }
    }
    if (attended.empty()) return Result::fail("a held meeting needs --attended PERSON... (who was there)");
    return s.engine.meeting_held(who, body, day, attended, b);
  });
  commands_["meeting-notes"] = meeting([](Services& s, const Caller& who, Args&, const std::string& body,
                                          const std::string& day, store::Batch& b) {
    return s.engine.meeting_notes(who, body, day, b);
  });
  commands_["meeting-amend"] = meeting([](Services& s, const Caller& who, Args& a, const std::string& body,
                                          const std::string& day, store::Batch& b) {
    auto by = a.str("by");
    if (!a.error.empty()) return Result::fail(a.error);
    return s.engine.meeting_amend(who, body, day, by, b);
  });
  commands_["meeting-approve"] = meeting([](Services& s, const Caller& who, Args&, const std::string& body,
                                            const std::string& day, store::Batch& b) {
    return s.engine.meeting_approve(who, body, day, b);
  });
  commands_["meeting-move"] = meeting([](Services& s, const Caller& who, Args& a, const std::string& body,
                                         const std::string& day, store::Batch& b) {
    auto to = a.str("to"), reason = a.str("reason");
    if (!a.error.empty()) return Result::fail(a.error);
    return s.engine.meeting_move(who, body, day, to, reason, b);
  });
  commands_["chair-appoint"] = {[](Services& s, const Caller& who, const json& args, store::Batch& b) {
                                  Args a{args, {}};
                                  auto body = a.str("body"), person = a.str("person"), year = a.str("year");
                                  if (!a.error.empty()) return Result::fail("chair appoint: " + a.error);
                                  return s.engine.chair_appoint(who, body, person, year, b);
                                },
                                true};
  commands_["reload"] = {[](Services& s, const Caller& who, const json&, store::Batch& b) {
                           if (!who.holds("administrator") && !who.holds("business-manager")) {
                             return Result::fail("you may not reload the configuration; that needs administrator or "
                                                 "business-manager");
                           }
                           if (!s.reload) return Result::fail("this daemon cannot reload");
                           return s.reload(who, b);
                         },
                         true};
  commands_["outbox-retry"] = {[](Services& s, const Caller& who, const json& args, store::Batch& b) {
                                 if (!who.holds("administrator") && !who.holds("business-manager")) {
                                   return Result::fail("you may not retry messages; that needs administrator or "
                                                       "business-manager");
                                 }
                                 auto id = args.find("id");
                                 if (id == args.end() || !id->is_number_integer()) {
                                   return Result::fail("outbox retry: 'id' must be the message's number, as "
                                                       "`docket outbox --failed` lists it");
                                 }
                                 if (!s.retry_outbox) return Result::fail("this daemon delivers nothing");
                                 return s.retry_outbox(who, id->get<std::int64_t>(), b);
                               },
                               true};
  commands_["clock"] = {[](Services& s, const Caller& who, const json& args, store::Batch& b) {
                          Args a{args, {}};
                          auto advance = a.str("advance", false);
                          if (!a.error.empty()) return Result::fail("clock: " + a.error);
                          const Instant from = s.clock.now();
                          if (advance.empty()) {
                            return Result{true, "",
                                          {{"now", date::format("%FT%TZ", from)},
                                           {"local", local_text(s.engine, from)},
                                           {"mode", s.clock.mode()}}};
                          }
                          if (s.virtual_clock == nullptr) {
                            return Result::fail("the clock can be advanced only on a rehearsal daemon started with "
                                                "--virtual-clock; this one runs on the system clock");
                          }
                          if (!who.holds("administrator") && !who.holds("business-manager")) {
                            return Result::fail("you may not advance the clock; that needs administrator or "
                                                "business-manager");
                          }
                          auto step = parse_advance(advance);
                          if (!step) {
                            return Result::fail("clock advance takes an amount such as 30m, 12h, 3d or 2w, up to " +
                                                std::to_string(kMaxAdvance.count()) + " days at a time, found '" +
                                                advance + "'");
                          }
                          const Instant target = from + *step;
                          if (s.advance_later) return s.advance_later(who, from, target);
                          advance_to(s.engine, *s.virtual_clock, target, b);
                          return advance_recorded(s.engine, who, from, target, target, b);
                        },
                        true};
}

namespace {
// The arguments each command reads; the one list for the socket, the CLI's
// requests and `docket simulate`.
const std::map<std::string, std::vector<std::string>> kArguments = {
    {"start", {"workflow", "ref", "on", "title", "assign", "dates"}},
    {"complete", {"ref", "stage", "outcome", "on"}},
    {"pause", {"ref", "reason"}},
    {"resume", {"ref"}},
    {"extend", {"ref", "stage", "to", "reason"}},
    {"waive", {"ref", "stage", "reason"}},
    {"cancel", {"ref", "reason"}},
    {"status", {"ref"}},
    {"overdue", {}},
    {"upcoming", {"days"}},
    {"clock", {"advance"}},
    {"reload", {}},
    {"outbox-retry", {"id"}},
    {"meeting-list", {"body"}},
    {"meeting-papers", {"body", "date"}},
    {"meeting-held", {"body", "date", "attended"}},
    {"meeting-notes", {"body", "date"}},
    {"meeting-amend", {"body", "date", "by"}},
    {"meeting-approve", {"body", "date"}},
    {"meeting-move", {"body", "date", "to", "reason"}},
    {"chair-appoint", {"body", "person", "year"}},
};
}  // namespace

std::vector<std::string> CommandRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [n, e] : commands_) out.push_back(n);
  return out;
}

std::optional<std::vector<std::string>> CommandRegistry::args_of(const std::string& command) const {
  if (commands_.count(command) == 0) return std::nullopt;
  auto it = kArguments.find(command);
  return it == kArguments.end() ? std::vector<std::string>{} : it->second;
}

bool CommandRegistry::writes(const std::string& command) const {
  auto it = commands_.find(command);
  return it != commands_.end() && it->second.writes;
}

Result CommandRegistry::dispatch(Services& s, const Caller& who, const Request& r, store::Batch& batch) const {
  auto it = commands_.find(r.command);
  if (it == commands_.end()) {
    std::vector<std::string> names;
    for (const auto& [n, e] : commands_) names.push_back(n);
    return Result::fail(workflows::unknown("command", r.command, names));
  }
  const auto allowed = args_of(r.command).value_or(std::vector<std::string>{});
  for (const auto& [key, value] : r.args.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Result::fail(r.command + ": " + workflows::unknown("argument", key, allowed));
    }
  }
  try {
    return it->second.run(s, who, r.args, batch);
  } catch (const std::exception& e) {
    // A handler bug must not take the daemon down; nothing was committed.
    return Result::fail(std::string("internal error: ") + e.what());
  }
}

}  // namespace docket::daemon
