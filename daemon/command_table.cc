#include "daemon/command_table.h"

#include <algorithm>
#include <stdexcept>

#include "daemon/input_rules.h"
#include "workflows/diagnostics.h"

namespace docket::daemon {

using nlohmann::json;

bool Access::by_role(const Caller& who) const {
  return std::any_of(roles.begin(), roles.end(), [&who](const std::string& role) { return who.holds(role); });
}

std::string Access::refused(const std::string& what, const std::string& also) const {
  std::string needs = roles.size() == 1 ? "the role " + roles.front() : "one of the roles " + workflows::one_of(roles);
  return "you may not " + (what.empty() ? refusal : what) + "; that needs " + (also.empty() ? "" : also + " or ") +
         needs;
}

std::string Args::text(const std::string& name) const {
  auto it = j_.find(name);
  return it == j_.end() ? std::string{} : it->get<std::string>();
}

std::int64_t Args::integer(const std::string& name, std::int64_t fallback) const {
  auto it = j_.find(name);
  return it == j_.end() ? fallback : it->get<std::int64_t>();
}

std::map<std::string, std::string> Args::pairs(const std::string& name) const {
  std::map<std::string, std::string> out;
  if (auto it = j_.find(name); it != j_.end()) {
    for (const auto& [k, v] : it->items()) out[k] = v.get<std::string>();
  }
  return out;
}

std::vector<std::string> Args::list(const std::string& name) const {
  std::vector<std::string> out;
  if (auto it = j_.find(name); it != j_.end()) {
    for (const auto& v : *it) out.push_back(v.get<std::string>());
  }
  return out;
}

std::string Command::spoken() const {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

const Arg* Command::arg(const std::string& n) const {
  auto it = std::find_if(args.begin(), args.end(), [&n](const Arg& a) { return a.name == n; });
  return it == args.end() ? nullptr : &*it;
}

void CommandTable::add(Command c) {
  if (by_name_.count(c.name) > 0) throw std::logic_error("command '" + c.name + "' is registered twice");
  for (const auto& other : commands_) {
    if (other.words == c.words) {
      throw std::logic_error("commands '" + other.name + "' and '" + c.name + "' share the command line '" +
                             c.spoken() + "'");
    }
  }
  if (!c.run) throw std::logic_error("command '" + c.name + "' has no handler");
  by_name_.emplace(c.name, commands_.size());
  commands_.push_back(std::move(c));
}

const Command* CommandTable::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &commands_[it->second];
}

std::vector<std::string> CommandTable::names() const {
  std::vector<std::string> out;
  for (const auto& [name, i] : by_name_) out.push_back(name);
  return out;
}

std::optional<std::vector<std::string>> CommandTable::args_of(const std::string& command) const {
  const Command* c = find(command);
  if (c == nullptr) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& a : c->args) out.push_back(a.name);
  return out;
}

bool CommandTable::writes(const std::string& command) const {
  const Command* c = find(command);
  return c != nullptr && c->writes;
}

namespace {

bool is_string_list(const json& v) {
  return v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); });
}

bool is_string_map(const json& v) {
  return v.is_object() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); });
}

// An integer read at its full width: 2^63 must not wrap into range.
bool in_range(const json& v, std::int64_t min, std::int64_t max) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    return u <= static_cast<std::uint64_t>(max) && static_cast<std::int64_t>(u) >= min;
  }
  if (!v.is_number_integer()) return false;
  const auto n = v.get<std::int64_t>();
  return n >= min && n <= max;
}

// What is wrong with one argument's value, if anything.
std::optional<std::string> value_problem(const Arg& a, const json& v) {
  const std::string quoted = "'" + a.name + "'";
  switch (a.type) {
    case Arg::Type::integer:
      if (in_range(v, a.min, a.max)) return std::nullopt;
      return quoted + " must be a whole number from " + std::to_string(a.min) + " to " + std::to_string(a.max);
    case Arg::Type::pairs:
      if (is_string_map(v)) return std::nullopt;
      return "argument " + quoted + " must be an object of strings";
    case Arg::Type::list:
      if (is_string_list(v)) return std::nullopt;
      return quoted + " must be a list of " + (a.metavar.empty() ? "words" : a.metavar);
    default:
      break;
  }
  if (!v.is_string()) return "argument " + quoted + " must be a string";
  const auto& text = v.get_ref<const std::string&>();
  switch (a.type) {
    case Arg::Type::reference:
      if (ref_problem(text) && follow_on_ref_problem(text)) return ref_problem(text);
      return std::nullopt;
    case Arg::Type::new_reference: return ref_problem(text);
    case Arg::Type::title: return text_problem(text, kMaxTitle, "the title");
    case Arg::Type::reason: return text_problem(text, kMaxReason, "the reason");
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<std::string> CommandTable::check(const Command& c, const json& args) const {
  for (const auto& [key, value] : args.items()) {
    if (c.arg(key) == nullptr) {
      std::vector<std::string> takes;
      for (const auto& a : c.args) takes.push_back(a.name);
      return workflows::unknown("argument", key, takes);
    }
  }
  for (const auto& a : c.args) {
    auto it = args.find(a.name);
    if (it == args.end()) {
      if (a.required) return "missing argument '" + a.name + "'";
      continue;
    }
    if (auto bad = value_problem(a, *it)) return bad;
  }
  return std::nullopt;
}

Result CommandTable::dispatch(Services& s, const Caller& who, const Request& r, store::Batch& batch) const {
  const Command* c = find(r.command);
  if (c == nullptr) return Result::fail(workflows::unknown("command", r.command, names()));
  if (auto bad = check(*c, r.args)) return Result::fail(c->spoken() + ": " + *bad);
  const bool by_role = c->access.anyone() || c->access.by_role(who);
  if (!by_role && c->access.rule == Access::Rule::none) return Result::fail(c->access.refused());
  try {
    return c->run(*c, s, who, Args(r.args), by_role, batch);
  } catch (const std::exception& e) {
    // A handler bug must not take the daemon down; nothing was committed.
    return Result::fail(std::string("internal error: ") + e.what());
  }
}

}  // namespace docket::daemon
