#include "cli/daemon_commands.h"

#include <ostream>

#include "cli/client.h"
#include "cli/commands.h"

namespace docket::cli {

using daemon::Arg;
using nlohmann::json;

namespace {

// The help of a group of commands ("meeting", "chair"), which has no entry of
// its own: what its commands do.
const std::map<std::string, std::string> kGroups{
    {"meeting", "Meetings of the boards and groups: list, papers, held, notes, amend, approve, move"},
    {"chair", "Chair appointments"},
};

std::map<std::string, std::string> pairs(const std::vector<std::string>& items, const std::string& flag) {
  std::map<std::string, std::string> out;
  for (const auto& kv : items) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size()) {
      throw UsageError(flag + " must be NAME=VALUE, found '" + kv + "'");
    }
    out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

}  // namespace

DaemonCommands::DaemonCommands(CLI::App& app, std::string& config, std::string& socket)
    : config_(config), socket_(socket) {
  for (const auto& c : daemon::command_table().commands()) {
    Bound& b = bound_.emplace_back();
    b.command = &c;
    b.app = parent_of(app, c)->add_subcommand(c.words.back(), c.help);
    for (const auto& a : c.args) add_argument(b, a);
    b.app->add_flag("--json", json_, "Print the daemon's JSON answer");
    b.app->add_option("--socket", socket_, "docketd's control socket")->type_name("PATH");
    b.app->add_option("--config", config_, "Configuration directory (default: $DOCKET_CONFIG, ./config, /etc/docket)")
        ->type_name("DIR");
    if (c.name == "overdue") {
      b.app->add_option("--by", group_, "role: group by the owning role (who owes what)")
          ->check(CLI::IsMember({"role"}));
    }
  }
}

CLI::App* DaemonCommands::parent_of(CLI::App& app, const daemon::Command& c) {
  CLI::App* parent = &app;
  for (std::size_t i = 0; i + 1 < c.words.size(); ++i) {
    const auto found = parent->get_subcommands([&](const CLI::App* a) { return a->get_name() == c.words[i]; });
    CLI::App* sub = found.empty() ? nullptr : found.front();
    if (sub == nullptr) {
      auto help = kGroups.find(c.words[i]);
      sub = parent->add_subcommand(c.words[i], help == kGroups.end() ? std::string{} : help->second);
      sub->require_subcommand(1);
    }
    parent = sub;
  }
  return parent;
}

void DaemonCommands::add_argument(Bound& b, const Arg& a) {
  Slot& s = b.slots[a.name];
  if (a.form == Arg::Form::keyword) {
    // `clock advance 3d`: the name and its value, both positional.
    s.option = b.app->add_option("action", s.items, a.help)->expected(0, 2)->type_name(a.name + " " + a.metavar);
    return;
  }
  const std::string name = a.form == Arg::Form::positional ? a.name : a.option_name();
  switch (a.type) {
    case Arg::Type::integer:
      s.option = b.app->add_option(name, s.number, a.help)->check(CLI::Range(a.min, a.max));
      break;
    case Arg::Type::pairs:
    case Arg::Type::list:
      s.option = b.app->add_option(name, s.items, a.help);
      if (a.type == Arg::Type::list) s.option->expected(1, -1);
      break;
    default:
      s.option = b.app->add_option(name, s.text, a.help);
      break;
  }
  if (a.required) s.option->required();
  if (!a.metavar.empty()) s.option->type_name(a.metavar);
}

json DaemonCommands::request_args(const Bound& b) const {
  json args = json::object();
  for (const auto& a : b.command->args) {
    const Slot& s = b.slots.at(a.name);
    if (s.option->count() == 0) continue;
    if (a.form == Arg::Form::keyword) {
      if (s.items.size() != 2 || s.items[0] != a.name) {
        throw UsageError(b.command->spoken() + " takes '" + a.name + " " + a.metavar + "', e.g. docket " +
                         b.command->spoken() + " " + a.name + " " + a.example);
      }
      args[a.name] = s.items[1];
    } else if (a.type == Arg::Type::integer) {
      args[a.name] = s.number;
    } else if (a.type == Arg::Type::pairs) {
      args[a.name] = pairs(s.items, a.option_name());
    } else if (a.type == Arg::Type::list) {
      args[a.name] = s.items;
    } else {
      args[a.name] = s.text;
    }
  }
  return args;
}

std::optional<int> DaemonCommands::run(std::ostream& out, std::ostream& err) {
  for (const auto& b : bound_) {
    if (!b.app->parsed()) continue;
    const json args = request_args(b);
    json reply;
    try {
      reply = call(resolve_socket(socket_, config_), b.command->name, args);
    } catch (const ConnectionError& e) {
      err << "docket: " << e.what() << '\n';
      return 1;
    }
    if (!reply["ok"].get<bool>()) {
      const auto& error = reply["error"];
      err << "docket: " << (error.is_string() ? error.get<std::string>() : "docketd refused the command") << '\n';
      return 1;
    }
    const json& result = reply["result"];
    if (json_) {
      out << result.dump(2) << '\n';
    } else {
      print_answer(b.command->name, args, result, group_, out);
    }
    return 0;
  }
  return std::nullopt;
}

}  // namespace docket::cli
