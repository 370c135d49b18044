#pragma once
// The command table: every command docketd answers, declared once (after
// Kea's base_command_mgr and Redis's one spec per command). An entry holds
// the command's name, its arguments with their types and limits, who may run
// it, whether it writes, its handler and one line of help. Everything that
// knows about commands reads this table and nothing else:
// - the control socket's dispatcher (CommandTable::dispatch) checks the
//   arguments and the caller's roles against the entry before the handler
//   runs, so an unknown argument, a mistyped one or a caller without the
//   roles is refused from here; the server audits what was refused;
// - `docket` builds its subcommands, options, argument checks and help from
//   it (cli/daemon_commands.cc), and later the web and the man pages.
// Who may run a command is the entry's Access: its roles, checked here, or a
// named rule the handler applies with the review or meeting at hand.
// Adding a command is one entry in daemon/commands.cc and its handler.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/engine.h"
#include "daemon/protocol.h"

namespace docket::daemon {

// What a handler may reach besides the engine: the clock (for `clock`) and
// the daemon's reload (for `reload`).
struct Services {
  Engine& engine;
  const Clock& clock;
  VirtualClock* virtual_clock = nullptr;  // null unless rehearsing
  std::function<Result(const Caller&, store::Batch&)> reload;
  // Takes over a clock advance from `from` to `target` and runs it in slices
  // between other work, answering once the clock is there (docketd's
  // server; the returned Result is `deferred`). Null: the advance runs to
  // its end within the command (`docket simulate`, the fuzzer).
  std::function<Result(const Caller&, Instant from, Instant target)> advance_later;
  // `outbox retry ID` (the daemon's dispatcher); null where nothing is delivered.
  std::function<Result(const Caller&, std::int64_t, store::Batch&)> retry_outbox;
};

// One argument of a command: the request's key, its type and limits, and how
// `docket` takes it on the command line.
struct Arg {
  enum class Type {
    word,           // an id: a workflow, a stage, a body, a person; a date
    reference,      // an existing review's reference (input_rules.h)
    new_reference,  // the reference of a review being started
    title,          // free text of at most kMaxTitle characters
    reason,         // free text of at most kMaxReason characters
    integer,        // a whole number from `min` to `max`
    pairs,          // NAME=VALUE pairs: a JSON object of strings
    list,           // one or more words: a JSON array of strings
  };
  enum class Form {
    option,      // --name VALUE (or `flag`)
    positional,  // in order, after the command's words
    keyword,     // `clock advance 3d`: the argument's name, then its value
  };

  std::string name;
  Type type = Type::word;
  bool required = false;
  std::string help;
  Form form = Form::option;
  std::string flag;     // the option's name when it is not --NAME (--date for `dates`)
  std::string metavar;  // DATE, ROLE=PERSON
  std::string example;  // a value, for help and errors ("3d")
  std::int64_t min = 0;
  std::int64_t max = 0;

  std::string option_name() const { return flag.empty() ? "--" + name : flag; }
};

// Who may run a command. A caller holding any of `roles` may; with no roles
// and no rule, anyone known to docket may. A rule names who else may, decided
// by the handler with the review or meeting at hand.
struct Access {
  enum class Rule {
    none,
    stage_owner,     // the person assigned the stage's owning role, or who holds that role
    meeting_runner,  // the body's chair or secretariat
    amend_own,       // a member asking for their own amendment, or the chair or secretariat
    anyone_to_read,  // anyone, unless the arguments ask for a change (`clock advance`)
  };
  std::vector<std::string> roles;
  Rule rule = Rule::none;
  // What is refused, for "you may not ...; that needs ...": "pause reviews".
  std::string refusal;

  bool anyone() const { return roles.empty() && rule == Rule::none; }
  bool by_role(const Caller& who) const;
  // "you may not pause reviews; that needs one of the roles a, b or c".
  std::string refused(const std::string& what = {}, const std::string& also = {}) const;
};

// A request's arguments, checked against the command's entry.
class Args {
 public:
  explicit Args(const nlohmann::json& j) : j_(j) {}
  bool has(const std::string& name) const { return j_.contains(name); }
  std::string text(const std::string& name) const;
  std::int64_t integer(const std::string& name, std::int64_t fallback) const;
  std::map<std::string, std::string> pairs(const std::string& name) const;
  std::vector<std::string> list(const std::string& name) const;

 private:
  const nlohmann::json& j_;
};

struct Command;

// A handler: the command with its arguments checked; `by_role` says whether
// the caller holds one of the entry's roles (else the entry's rule must let
// them). Writes go to `batch`.
using Handler = std::function<Result(const Command&, Services&, const Caller&, const Args&, bool by_role,
                                     store::Batch&)>;

struct Command {
  std::string name;               // on the socket: "meeting-papers"
  std::vector<std::string> words;  // on the command line: {"meeting", "papers"}
  std::string help;
  std::vector<Arg> args;
  Access access;
  bool writes = false;
  Handler run;

  // "meeting papers": how people name it, in errors and help.
  std::string spoken() const;
  const Arg* arg(const std::string& name) const;
};

class CommandTable {
 public:
  // Registers `c`; a name or command line taken already is a programming
  // error and throws std::logic_error.
  void add(Command c);

  const Command* find(const std::string& name) const;
  const std::vector<Command>& commands() const { return commands_; }
  std::vector<std::string> names() const;

  // Runs `r` for `who`: an unknown command or argument, a mistyped one or a
  // caller without the roles is refused here; a handler's exception becomes
  // an error reply. Writes go to `batch`; the caller commits it before
  // sending the reply.
  Result dispatch(Services& s, const Caller& who, const Request& r, store::Batch& batch) const;
  bool writes(const std::string& command) const;
  // The arguments a command takes (nullopt for an unknown command).
  std::optional<std::vector<std::string>> args_of(const std::string& command) const;

 private:
  // What is wrong with `args` for `c`, if anything.
  std::optional<std::string> check(const Command& c, const nlohmann::json& args) const;

  std::vector<Command> commands_;
  std::map<std::string, std::size_t> by_name_;
};

// The one table of docketd's commands (daemon/commands.cc).
const CommandTable& command_table();

// The table's view that the server, `docket simulate` and the fuzzer hold.
class CommandRegistry {
 public:
  Result dispatch(Services& s, const Caller& who, const Request& r, store::Batch& batch) const {
    return command_table().dispatch(s, who, r, batch);
  }
  bool writes(const std::string& command) const { return command_table().writes(command); }
  std::vector<std::string> names() const { return command_table().names(); }
  std::optional<std::vector<std::string>> args_of(const std::string& command) const {
    return command_table().args_of(command);
  }
};

}  // namespace docket::daemon
