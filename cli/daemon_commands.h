#pragma once
// The commands docketd answers, on the command line (internal to cli/).
//
// Every subcommand, its options, their checks and their help come from
// docketd's command table (daemon/command_table.h): `docket start ...`,
// `docket meeting papers ...`, `docket outbox retry ID`, `docket version`.
// A table entry's words are the command line ("meeting papers"); its
// arguments become positionals or options as the entry says. Each also takes
// --json (print docketd's answer as JSON), --socket and --config. How an
// answer is printed is review_commands.cc's.

#include <iosfwd>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "daemon/command_table.h"

namespace docket::cli {

class DaemonCommands {
 public:
  // Adds a subcommand to `app` for every command in the table; `config` and
  // `socket` are the top-level --config and --socket, shared with them.
  DaemonCommands(CLI::App& app, std::string& config, std::string& socket);
  // After parsing: sends the command that was given and prints the answer,
  // or returns nullopt when none was.
  std::optional<int> run(std::ostream& out, std::ostream& err);

 private:
  // Where CLI11 puts one argument's value.
  struct Slot {
    std::string text;
    std::vector<std::string> items;
    std::int64_t number = 0;
    CLI::Option* option = nullptr;
  };
  struct Bound {
    const daemon::Command* command = nullptr;
    CLI::App* app = nullptr;
    std::map<std::string, Slot> slots;
  };

  CLI::App* parent_of(CLI::App& app, const daemon::Command& c);
  void add_argument(Bound& b, const daemon::Arg& a);
  // The request's arguments, from what was given.
  nlohmann::json request_args(const Bound& b) const;

  std::string& config_;
  std::string& socket_;
  std::list<Bound> bound_;  // stable addresses: CLI11 holds pointers into the slots
  bool json_ = false;
  std::string group_;  // overdue --by role
};

}  // namespace docket::cli
