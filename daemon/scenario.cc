// Reading a scenario file (daemon/scenario.h): its TOML, the configuration
// it names, its span, actors and steps, every problem at its position.

#include "daemon/scenario.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "daemon/commands.h"
#include "workflows/toml_reader.h"

namespace docket::daemon {

namespace fs = std::filesystem;
using nlohmann::json;
using workflows::Diagnostics;
using workflows::LocalTime;
using workflows::SourcePos;
using workflows::detail::Reader;

namespace {

// `clock` and `reload` are the registry's commands a step may not run: a
// simulation's clock moves only from one step's time to the next, and it runs
// on one configuration. Every other command, with the arguments it takes,
// comes from the registry itself.
bool step_may_run(const std::string& command) { return command != "clock" && command != "reload"; }

std::string two(unsigned v) { return (v < 10 ? "0" : "") + std::to_string(v); }

// TOML values as the JSON the control socket takes. Dates and local
// date-times become the strings the commands parse (on = 2026-03-02 works
// as well as on = "2026-03-02").
json toml_to_json(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return n.as_string()->get();
    case toml::node_type::integer: return n.as_integer()->get();
    case toml::node_type::floating_point: return n.as_floating_point()->get();
    case toml::node_type::boolean: return n.as_boolean()->get();
    case toml::node_type::date: {
      const auto& d = n.as_date()->get();
      return std::to_string(d.year) + "-" + two(d.month) + "-" + two(d.day);
    }
    case toml::node_type::time: {
      const auto& t = n.as_time()->get();
      return two(t.hour) + ":" + two(t.minute);
    }
    case toml::node_type::date_time: {
      const auto& dt = n.as_date_time()->get();
      return std::to_string(dt.date.year) + "-" + two(dt.date.month) + "-" + two(dt.date.day) + "T" +
             two(dt.time.hour) + ":" + two(dt.time.minute);
    }
    case toml::node_type::array: {
      json a = json::array();
      for (const auto& item : *n.as_array()) a.push_back(toml_to_json(item));
      return a;
    }
    case toml::node_type::table: {
      json o = json::object();
      for (auto&& [k, v] : *n.as_table()) o[std::string(k.str())] = toml_to_json(v);
      return o;
    }
    default: return nullptr;
  }
}

// A required local date-time: `start`, `end` or a step's `at`.
std::optional<LocalTime> read_time(Reader& r, std::string_view key, bool required = true) {
  const toml::node* n = r.get(key);
  const std::string example = ", e.g. " + std::string(key) + " = 2026-03-02T09:30:00";
  if (n == nullptr) {
    if (required) r.diags().error(r.pos(), r.what() + " has no '" + std::string(key) + "'" + example);
    return std::nullopt;
  }
  const auto* dt = n->as_date_time();
  if (dt == nullptr) {
    r.error(*n, "'" + std::string(key) + "' must be a local date-time (no quotes), found " + Reader::type_name(*n) +
                    example);
    return std::nullopt;
  }
  const auto& v = dt->get();
  if (v.offset) {
    r.error(*n, "'" + std::string(key) + "' has a UTC offset; give the local time without one" + example);
    return std::nullopt;
  }
  if (v.time.second != 0 || v.time.nanosecond != 0) {
    r.error(*n, "'" + std::string(key) + "' must be whole minutes (seconds :00)" + example);
    return std::nullopt;
  }
  auto ymd = date::year{v.date.year} / date::month{v.date.month} / date::day{v.date.day};
  return LocalTime{date::local_days{ymd}.time_since_epoch()} + std::chrono::hours{v.time.hour} +
         std::chrono::minutes{v.time.minute};
}

std::string read_file(const fs::path& p, bool& ok) {
  std::ifstream in(p, std::ios::binary);
  ok = static_cast<bool>(in);
  std::stringstream buf;
  if (ok) buf << in.rdbuf();
  return buf.str();
}

}  // namespace

const date::time_zone* Scenario::zone() const { return config->calendar(config->daemon.calendar).zone(); }

bool Scenario::shows(const std::string& ref) const {
  if (only.empty() || ref.empty()) return true;
  return std::any_of(only.begin(), only.end(),
                     [&](const std::string& o) { return ref == o || ref.starts_with(o + "/"); });
}

namespace {

// The scenario's TOML, or nullopt with the problem in `diags`.
std::optional<toml::table> parse_scenario_file(const fs::path& path, const std::string& file, Diagnostics& diags) {
  bool readable = false;
  std::string text = read_file(path, readable);
  if (!readable || fs::is_directory(path)) {
    diags.error({file, 0, 0}, "cannot read the scenario file");
    return std::nullopt;
  }
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    std::string what(e.description());
    // TOML 1.0 (toml++ 3) has no date-times without seconds.
    if (what.find("parsing time") != std::string::npos) what += "; TOML times need seconds, e.g. 2026-03-02T09:30:00";
    diags.error({file, b.line, b.column}, "TOML syntax error: " + what);
    return std::nullopt;
  }
}

// `config`: the folder, relative to the scenario file, and the
// configuration loaded from it (its errors reported under the folder).
void read_config(Reader& r, const fs::path& path, Scenario& sc, Diagnostics& diags) {
  auto dir = r.string("config", true, "\"../config\"");
  if (!dir) return;
  sc.config_dir = (path.parent_path() / *dir).lexically_normal();
  if (sc.config_dir.empty()) {
    sc.config_dir = ".";
  } else if (!sc.config_dir.has_filename() && sc.config_dir != sc.config_dir.root_path()) {
    sc.config_dir = sc.config_dir.parent_path();  // "a/b/" -> "a/b", for messages
  }
  std::error_code ec;
  if (!fs::is_directory(sc.config_dir, ec)) {
    r.error(*r.get("config"), "the configuration folder " + sc.config_dir.string() +
                                  " does not exist; 'config' is relative to the scenario file");
    return;
  }
  auto loaded = workflows::load_config(sc.config_dir);
  if (loaded.config) {
    sc.config = loaded.config;
    return;
  }
  auto list = loaded.diagnostics.sorted();
  for (auto d : list) {
    d.where.file = sc.config_dir.string() + "/" + d.where.file;
    diags.error(d.where, d.message);
  }
  r.error(*r.get("config"), "the configuration in " + sc.config_dir.string() + " has " + std::to_string(list.size()) +
                                (list.size() == 1 ? " error" : " errors"));
}

// An `as` that names nobody in the configuration's directory.
void check_person(Reader& in, const Scenario& sc, const std::string& id) {
  if (!sc.config || sc.config->directory.person(id) != nullptr) return;
  in.error(*in.get("as"), workflows::unknown("person", id, sc.config->directory.person_ids()) + " in 'as'");
}

// The top-level `as` and `only`.
void read_audience(Reader& r, Scenario& sc) {
  if (auto as = r.string("as")) {
    sc.as = *as;
    check_person(r, sc, sc.as);
  }
  if (auto only = r.strings("only")) {
    for (const auto& ref : *only) {
      if (ref.empty()) {
        r.error(*r.get("only"), "'only' lists references, e.g. only = [\"RR-2026-014\"]; found an empty one");
      } else {
        sc.only.push_back(ref);
      }
    }
  }
}

// The [[step]] tables, in file order.
std::vector<const toml::table*> step_tables(Reader& r) {
  std::vector<const toml::table*> tables;
  const toml::node* steps = r.get("step");
  if (steps == nullptr) return tables;
  const auto* arr = steps->as_array();
  if (arr == nullptr) {
    r.error(*steps, "'step' must be an array of tables ([[step]] sections), found " + Reader::type_name(*steps));
    return tables;
  }
  for (const auto& item : *arr) {
    if (const auto* t = item.as_table()) {
      tables.push_back(t);
    } else {
      r.error(item, "each step must be a table ([[step]] section), found " + Reader::type_name(item));
    }
  }
  return tables;
}

// Where a step's time must fall: within the scenario, and not before the
// last step with a good time.
struct StepSpan {
  std::optional<LocalTime> start, end;
  const ScenarioStep* previous = nullptr;
};

// A step's `at`; true when it is good (and later steps are held to it).
bool read_step_time(Reader& sr, const std::string& name, const StepSpan& span, ScenarioStep& s) {
  auto at = read_time(sr, "at");
  if (!at) return false;
  s.at = *at;
  const toml::node& at_node = *sr.get("at");
  if (span.start && *at < *span.start) {
    sr.error(at_node, name + " at " + workflows::iso(*at) + " is before the scenario's start (" +
                          workflows::iso(*span.start) + ")");
  } else if (span.end && *at > *span.end) {
    sr.error(at_node,
             name + " at " + workflows::iso(*at) + " is after the scenario's end (" + workflows::iso(*span.end) + ")");
  } else if (span.previous != nullptr && *at < span.previous->at) {
    sr.error(at_node, name + " at " + workflows::iso(*at) + " is earlier than step " +
                          std::to_string(span.previous->number) + " at " + workflows::iso(span.previous->at) +
                          "; list the steps in time order");
  } else {
    return true;
  }
  return false;
}

// A step's `command`, which a step may run; true when it is known.
bool read_step_command(Reader& sr, ScenarioStep& s) {
  auto command = sr.string("command", true, "\"complete\"");
  if (!command) return false;
  s.command = *command;
  const toml::node& n = *sr.get("command");
  if (s.command == "clock") {
    sr.error(n, "'clock' cannot be a step: the simulated clock moves only from one step's 'at' to the next");
  } else if (s.command == "reload") {
    sr.error(n, "'reload' cannot be a step: a simulation runs on one configuration");
  } else if (!CommandRegistry().args_of(s.command)) {
    std::vector<std::string> names;
    for (const auto& c : CommandRegistry().names()) {
      if (step_may_run(c)) names.push_back(c);
    }
    sr.error(n, workflows::unknown("command", s.command, names));
  } else {
    return true;
  }
  return false;
}

// A step's `args`, as JSON; for a known command, only the arguments it takes.
void read_step_args(Reader& sr, const std::string& file, bool known_command, ScenarioStep& s, Diagnostics& diags) {
  const toml::node* args = sr.get("args");
  if (args == nullptr) return;
  const auto* table = args->as_table();
  if (table == nullptr) {
    sr.error(*args, "'args' must be a table, found " + Reader::type_name(*args) +
                        ", e.g. args = { ref = \"RR-2026-014\" }");
    return;
  }
  s.args = toml_to_json(*table);
  if (!known_command) return;
  const auto takes = *CommandRegistry().args_of(s.command);
  if (takes.empty()) {
    for (auto&& [k, v] : *table) {
      const auto& b = k.source().begin;
      diags.error({file, b.line, b.column},
                  "'" + s.command + "' takes no arguments; drop '" + std::string(k.str()) + "'");
    }
    return;
  }
  Reader ar(*table, file, diags, "the arguments of " + s.command);
  for (const auto& key : takes) ar.known({key});
  ar.finish();
}

// A step's `as` (else the scenario's) and `expect`.
void read_step_actor(Reader& sr, const std::string& name, const Scenario& sc, ScenarioStep& s, Diagnostics& diags) {
  if (auto as = sr.string("as")) {
    s.as = *as;
    check_person(sr, sc, s.as);
  } else if (sc.as.empty() && sr.get("as") == nullptr) {
    diags.error(s.where, name + " has no 'as' and the scenario has no default 'as'; name the person who runs it");
  } else {
    s.as = sc.as;
  }
  if (auto expect = sr.string("expect")) {
    if (*expect == "error") {
      s.expect_ok = false;
    } else if (*expect != "ok") {
      sr.error(*sr.get("expect"), "'expect' must be \"ok\" or \"error\", found \"" + *expect + "\"");
    }
  }
}

// Every [[step]], added to sc.steps in file order.
void read_steps(const std::vector<const toml::table*>& tables, StepSpan span, Scenario& sc, Diagnostics& diags) {
  const std::string& file = sc.path;
  std::optional<std::size_t> previous;  // the last step with a good time
  for (const toml::table* t : tables) {
    ScenarioStep s;
    s.number = static_cast<int>(sc.steps.size()) + 1;
    const std::string name = "step " + std::to_string(s.number);
    Reader sr(*t, file, diags, name);
    s.where = sr.pos();
    span.previous = previous ? &sc.steps[*previous] : nullptr;
    const bool good_time = read_step_time(sr, name, span, s);
    const bool known_command = read_step_command(sr, s);
    read_step_args(sr, file, known_command, s, diags);
    read_step_actor(sr, name, sc, s, diags);
    sr.finish();
    sc.steps.push_back(std::move(s));
    if (good_time) previous = sc.steps.size() - 1;
  }
}

}  // namespace

std::optional<Scenario> load_scenario(const fs::path& path, Diagnostics& diags) {
  Scenario sc;
  sc.path = path.string();
  const std::optional<toml::table> root = parse_scenario_file(path, sc.path, diags);
  if (!root) return std::nullopt;
  const std::size_t errors_before = diags.size();
  Reader r(*root, sc.path, diags, "the scenario");
  if (auto d = r.string("description")) sc.description = *d;
  // The configuration, first: people and the time zone come from it.
  read_config(r, path, sc, diags);
  auto start = read_time(r, "start");
  auto end = read_time(r, "end");
  if (start && end && *end <= *start) {
    r.error(*r.get("end"),
            "'end' (" + workflows::iso(*end) + ") must be later than 'start' (" + workflows::iso(*start) + ")");
  }
  read_audience(r, sc);
  const std::vector<const toml::table*> tables = step_tables(r);
  r.finish();
  read_steps(tables, {start, end, nullptr}, sc, diags);

  if (diags.size() > errors_before || !sc.config || !start || !end) return std::nullopt;
  sc.start = *start;
  sc.end = *end;
  sc.start_instant = workflows::to_utc(sc.zone(), sc.start);
  sc.end_instant = workflows::to_utc(sc.zone(), sc.end);
  for (auto& s : sc.steps) s.instant = workflows::to_utc(sc.zone(), s.at);
  return sc;
}

}  // namespace docket::daemon
