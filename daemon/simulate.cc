#include "daemon/simulate.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <ostream>
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

std::optional<Scenario> load_scenario(const fs::path& path, Diagnostics& diags) {
  Scenario sc;
  sc.path = path.string();
  const std::string& file = sc.path;
  bool readable = false;
  std::string text = read_file(path, readable);
  if (!readable || fs::is_directory(path)) {
    diags.error({file, 0, 0}, "cannot read the scenario file");
    return std::nullopt;
  }
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    std::string what(e.description());
    // TOML 1.0 (toml++ 3) has no date-times without seconds.
    if (what.find("parsing time") != std::string::npos) what += "; TOML times need seconds, e.g. 2026-03-02T09:30:00";
    diags.error({file, b.line, b.column}, "TOML syntax error: " + what);
    return std::nullopt;
  }
  const std::size_t errors_before = diags.size();
  Reader r(root, file, diags, "the scenario");

  if (auto d = r.string("description")) sc.description = *d;
  // The configuration, first: people and the time zone come from it.
  if (auto dir = r.string("config", true, "\"../config\"")) {
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
    } else {
      auto loaded = workflows::load_config(sc.config_dir);
      if (loaded.config) {
        sc.config = loaded.config;
      } else {
        auto list = loaded.diagnostics.sorted();
        for (auto d : list) {
          d.where.file = sc.config_dir.string() + "/" + d.where.file;
          diags.error(d.where, d.message);
        }
        r.error(*r.get("config"), "the configuration in " + sc.config_dir.string() + " has " +
                                      std::to_string(list.size()) + (list.size() == 1 ? " error" : " errors"));
      }
    }
  }
  auto start = read_time(r, "start");
  auto end = read_time(r, "end");
  if (start && end && *end <= *start) {
    r.error(*r.get("end"),
            "'end' (" + workflows::iso(*end) + ") must be later than 'start' (" + workflows::iso(*start) + ")");
  }
  auto check_person = [&](Reader& in, const std::string& id) {
    if (!sc.config || sc.config->directory.person(id) != nullptr) return;
    in.error(*in.get("as"), workflows::unknown("person", id, sc.config->directory.person_ids()) + " in 'as'");
  };
  if (auto as = r.string("as")) {
    sc.as = *as;
    check_person(r, sc.as);
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

  std::vector<const toml::table*> step_tables;
  if (const toml::node* steps = r.get("step")) {
    const auto* arr = steps->as_array();
    if (arr == nullptr) {
      r.error(*steps, "'step' must be an array of tables ([[step]] sections), found " + Reader::type_name(*steps));
    } else {
      for (const auto& item : *arr) {
        if (const auto* t = item.as_table()) {
          step_tables.push_back(t);
        } else {
          r.error(item, "each step must be a table ([[step]] section), found " + Reader::type_name(item));
        }
      }
    }
  }
  r.finish();

  std::optional<std::size_t> previous;  // the last step with a good time
  for (const toml::table* t : step_tables) {
    ScenarioStep s;
    s.number = static_cast<int>(sc.steps.size()) + 1;
    const std::string name = "step " + std::to_string(s.number);
    Reader sr(*t, file, diags, name);
    s.where = sr.pos();
    auto at = read_time(sr, "at");
    bool good_time = false;
    if (at) {
      s.at = *at;
      const toml::node& at_node = *sr.get("at");
      if (start && *at < *start) {
        sr.error(at_node, name + " at " + workflows::iso(*at) + " is before the scenario's start (" +
                              workflows::iso(*start) + ")");
      } else if (end && *at > *end) {
        sr.error(at_node,
                 name + " at " + workflows::iso(*at) + " is after the scenario's end (" + workflows::iso(*end) + ")");
      } else if (previous && *at < sc.steps[*previous].at) {
        sr.error(at_node, name + " at " + workflows::iso(*at) + " is earlier than step " +
                              std::to_string(sc.steps[*previous].number) + " at " +
                              workflows::iso(sc.steps[*previous].at) + "; list the steps in time order");
      } else {
        good_time = true;
      }
    }
    auto command = sr.string("command", true, "\"complete\"");
    bool known_command = false;
    if (command) {
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
        known_command = true;
      }
    }
    if (const toml::node* args = sr.get("args")) {
      if (const auto* table = args->as_table()) {
        s.args = toml_to_json(*table);
        const auto takes = known_command ? *CommandRegistry().args_of(s.command) : std::vector<std::string>{};
        if (known_command && takes.empty()) {
          for (auto&& [k, v] : *table) {
            const auto& b = k.source().begin;
            diags.error({file, b.line, b.column},
                        "'" + s.command + "' takes no arguments; drop '" + std::string(k.str()) + "'");
          }
        } else if (known_command) {
          Reader ar(*table, file, diags, "the arguments of " + s.command);
          for (const auto& key : takes) ar.known({key});
          ar.finish();
        }
      } else {
        sr.error(*args, "'args' must be a table, found " + Reader::type_name(*args) +
                            ", e.g. args = { ref = \"RR-2026-014\" }");
      }
    }
    if (auto as = sr.string("as")) {
      s.as = *as;
      check_person(sr, s.as);
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
    sr.finish();
    sc.steps.push_back(std::move(s));
    if (good_time) previous = sc.steps.size() - 1;
  }

  if (diags.size() > errors_before || !sc.config || !start || !end) return std::nullopt;
  sc.start = *start;
  sc.end = *end;
  sc.start_instant = workflows::to_utc(sc.zone(), sc.start);
  sc.end_instant = workflows::to_utc(sc.zone(), sc.end);
  for (auto& s : sc.steps) s.instant = workflows::to_utc(sc.zone(), s.at);
  return sc;
}

// --- running ----------------------------------------------------------------

namespace {

SimNotification notification_of(const store::OutboxMessage& m) {
  SimNotification n;
  n.at = Instant{std::chrono::seconds{m.created_at}};
  n.kind = m.kind;
  n.ref = m.ref;
  n.stage = m.stage;
  n.person = m.person;
  n.role = m.role;
  n.late = m.late;
  json payload = json::parse(m.payload, nullptr, false);
  if (payload.is_object()) {
    n.rung = payload.value("rung", 0);
    n.repeat = payload.value("repeat", 0);
  }
  return n;
}

// Whether audit entry `e` is the record of sending `n` (the engine writes
// both in the same call).
bool accounts_for(const SimEvent& e, const SimNotification& n) {
  if (e.ref != n.ref || e.at != n.at || !e.details.is_object()) return false;
  if (n.kind == "reminder") return e.kind == "deadline.reminder" && e.stage == n.stage;
  if (n.kind == "escalation") {
    return e.kind == "deadline.escalated" && e.stage == n.stage && e.details.value("rung", 0) == n.rung &&
           e.details.value("repeat", 0) == n.repeat;
  }
  if (n.kind == "paused") return e.kind == "review.paused";
  return false;
}

// Adds what one committed batch holds to the transcript: its audit entries,
// and the outbox messages the store took as new, each with the entry that
// sent it.
void record(Transcript& t, const store::Batch& b, const std::vector<store::OutboxMessage>& fresh, int step) {
  const std::size_t first = t.events.size();
  for (const auto& a : b.audit) {
    SimEvent e;
    e.at = Instant{std::chrono::seconds{a.at}};
    e.actor = a.actor;
    e.kind = a.kind;
    e.ref = a.ref;
    e.stage = a.stage;
    e.details = json::parse(a.details, nullptr, false);
    if (e.details.is_discarded()) e.details = json::object();
    e.step = step;
    t.events.push_back(std::move(e));
  }
  std::vector<SimEntry> loose;
  for (const auto& m : fresh) {
    SimNotification n = notification_of(m);
    auto owner = std::find_if(t.events.begin() + static_cast<std::ptrdiff_t>(first), t.events.end(),
                              [&](const SimEvent& e) { return accounts_for(e, n); });
    if (owner != t.events.end()) {
      owner->notifications.push_back(std::move(n));
    } else {
      loose.push_back({SimEntry::Type::notification, t.loose.size()});
      t.loose.push_back(std::move(n));
    }
  }
  // A loose message goes after the entries of its moment. A clock advance
  // fires a review at a time (Engine::fire_through), so its entries are put
  // in time order, and those of one moment in the order of their references,
  // as stepping the clock fires them; a command's stay in its own order.
  std::vector<SimEntry> entries;
  for (std::size_t i = first; i < t.events.size(); ++i) entries.push_back({SimEntry::Type::event, i});
  entries.insert(entries.end(), loose.begin(), loose.end());
  auto when = [&](const SimEntry& x) {
    return x.type == SimEntry::Type::event ? t.events[x.index].at : t.loose[x.index].at;
  };
  auto ref = [&](const SimEntry& x) -> const std::string& {
    return x.type == SimEntry::Type::event ? t.events[x.index].ref : t.loose[x.index].ref;
  };
  std::stable_sort(entries.begin(), entries.end(), [&](const SimEntry& x, const SimEntry& y) {
    if (when(x) != when(y)) return when(x) < when(y);
    return step == 0 && ref(x) < ref(y);
  });
  t.order.insert(t.order.end(), entries.begin(), entries.end());
}

}  // namespace

std::size_t Transcript::notification_count() const {
  std::size_t n = loose.size();
  for (const auto& e : events) n += e.notifications.size();
  return n;
}

Transcript run_scenario(const Scenario& sc) {
  Transcript t;
  VirtualClock clock(sc.start_instant);
  store::Store st(":memory:", clock.mode());
  Engine engine(sc.config, clock, &st);
  const CommandRegistry registry;
  Services services{engine, clock, &clock, {}, {}, {}};
  auto commit = [&](store::Batch& b, int step) {
    if (b.empty()) return;
    auto fresh = st.commit(b);
    engine.committed();
    ++t.batches;
    record(t, b, fresh, step);
  };

  // As docketd starts: the definition texts go into the store, and what is
  // due at start-up (the meetings of every cycle) is created.
  store::Batch boot;
  boot.definitions = Engine::definitions_of(*sc.config, clock.now().time_since_epoch().count());
  engine.fire_due(clock.now(), boot);
  commit(boot, 0);

  t.steps.reserve(sc.steps.size());
  for (const auto& s : sc.steps) {
    store::Batch timed;
    advance_to(engine, clock, s.instant, timed);
    commit(timed, 0);

    const workflows::Person* person = sc.config->directory.person(s.as);
    const Caller who{s.as, person != nullptr ? person->roles : std::vector<std::string>{}};
    Request request{s.number, s.command, s.args};
    store::Batch batch;
    Result result = registry.dispatch(services, who, request, batch);
    // docketd on the system clock fires what a command made due at once
    // (a start dated in the past) in the same flush.
    engine.fire_due(clock.now(), batch);
    const bool as_expected = result.ok == s.expect_ok;
    if (!as_expected) ++t.mismatches;
    t.order.push_back({SimEntry::Type::step, t.steps.size()});
    t.steps.push_back({&s, std::move(result), as_expected});
    commit(batch, s.number);
  }
  store::Batch last;
  advance_to(engine, clock, sc.end_instant, last);
  commit(last, 0);

  t.reviews = st.reviews();
  t.deadlines = st.deadlines();
  t.audit_records = st.audit().size();
  return t;
}

// --- printing ---------------------------------------------------------------

namespace {

std::string local(const Scenario& sc, Instant t, const char* fmt = "%a %F %H:%M") {
  return date::format(fmt, date::floor<std::chrono::minutes>(sc.zone()->to_local(t)));
}

std::string str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string{};
}

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// key=value, quoted when the value has spaces; objects flattened with dots.
void flatten(const json& j, const std::string& prefix, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, prefix.empty() ? k : prefix + "." + k, out);
    return;
  }
  std::string v = text_of(j);
  const bool quote = v.empty() || v.find_first_of(" \t\"=") != std::string::npos;
  out.push_back(prefix + "=" + (quote ? json(v).dump() : v));
}

std::string args_text(const json& args) {
  // The reference and what it names first, the rest alphabetically.
  std::vector<std::string> parts;
  for (const char* key : {"ref", "workflow", "stage"}) {
    if (args.contains(key)) flatten(args[key], key, parts);
  }
  for (const auto& [k, v] : args.items()) {
    if (k != "ref" && k != "workflow" && k != "stage") flatten(v, k, parts);
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

std::string recipients(const std::vector<SimNotification>& list) {
  std::string out;
  bool late = false;
  for (const auto& n : list) {
    out += (out.empty() ? "" : ", ") + n.person + " (" + n.role + ")";
    late = late || n.late;
  }
  return out.empty() ? "no one new" : out + (late ? " [late]" : "");
}

std::string details_text(const SimEvent& e) {
  const json& d = e.details;
  std::string out;
  if (e.kind == "review.started") {
    out = str(d, "workflow") + ", version " + str(d, "version").substr(0, 12) + ", start " + str(d, "start");
    for (const char* key : {"assign", "dates"}) {
      if (d.contains(key) && d[key].is_object()) {
        for (const auto& [k, v] : d[key].items()) out += ", " + k + "=" + text_of(v);
      }
    }
  } else if (e.kind == "deadline.opened") {
    out = "due " + str(d, "due") + ": " + str(d, "why");
  } else if (e.kind == "deadline.rescheduled") {
    out = str(d, "from") + " -> " + str(d, "to") + ": " + str(d, "why");
  } else if (e.kind == "stage.completed") {
    out = "on " + str(d, "on");
    if (d.contains("outcome")) out += ", outcome " + text_of(d["outcome"]);
    const int late = d.value("working_days_late", 0);
    out += late > 0 ? ", " + std::to_string(late) + " working day" + (late == 1 ? "" : "s") + " late (due " +
                          str(d, "due") + ")"
                    : ", due " + str(d, "due");
  } else if (e.kind == "deadline.reminder") {
    out = "reminder " + std::to_string(d.value("reminder", 0)) + ", " + str(d, "before");
  } else if (e.kind == "deadline.overdue") {
    out = "was due " + str(d, "due");
  } else if (e.kind == "deadline.escalated") {
    out = "rung " + std::to_string(d.value("rung", 0));
    out +=
        d.contains("repeat") ? ", told again (" + std::to_string(d.value("repeat", 0)) + ")" : ", " + str(d, "after");
  } else if (e.kind == "deadline.extended") {
    out = str(d, "from") + " -> " + str(d, "to") + ": " + str(d, "reason");
  } else if (e.kind == "review.paused" || e.kind == "stage.waived" || e.kind == "review.cancelled") {
    out = str(d, "reason");
  } else if (e.kind == "review.resumed") {
    out = "paused since " + str(d, "paused_on") + ", " + std::to_string(d.value("days_paused", 0)) + " days";
  } else if (e.kind == "review.not_started") {
    out = str(d, "workflow") + ": " + str(d, "reason");
  } else if (d.is_object() && !d.empty()) {
    out = d.dump();
  }
  if (e.kind == "deadline.reminder" || e.kind == "deadline.escalated" || e.kind == "review.paused" ||
      !e.notifications.empty()) {
    out += " -> " + recipients(e.notifications);
  }
  return out;
}

// What a successful step answered, in a few words.
std::string answer_text(const ScenarioStep& s, const Result& r) {
  if (!r.ok) return "error: " + r.error;
  const json d = r.body();
  std::string out = "ok";
  if (d.contains("started")) out += ", started " + text_of(d["started"]);
  if (d.contains("not_started")) out += ", no review started: " + text_of(d["not_started"]);
  auto stages = [](const json& stage_list) {
    std::string text;
    for (const auto& st : stage_list) {
      text += (text.empty() ? "" : ", ") + str(st, "stage") + " " + str(st, "state") + " (due " + str(st, "due") + ")";
    }
    return text;
  };
  if (s.command == "status") {
    if (d.contains("stages")) {
      out += ": " + str(d, "state") + "; " + stages(d["stages"]);
    } else if (d.contains("reviews")) {
      out += ": " + std::to_string(d["reviews"].size()) + " open or paused";
    }
  } else if (s.command == "overdue" || s.command == "upcoming") {
    const json& list = d[s.command];
    out += ": " + (list.empty() ? std::string("none") : std::to_string(list.size()));
    for (const auto& item : list)
      out += "; " + str(item, "ref") + " " + str(item, "stage") + " due " + str(item, "due");
  }
  return out;
}

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

// One table row: columns padded, the last one as it is, no trailing blanks.
std::string row(const std::vector<std::pair<std::string, std::size_t>>& columns, const std::string& last) {
  std::string out;
  for (const auto& [text, width] : columns) out += pad(text, width) + "  ";
  out += last;
  out.erase(out.find_last_not_of(' ') + 1);
  return out;
}

}  // namespace

void print_table(const Scenario& sc, const Transcript& t, std::ostream& out) {
  out << "Scenario " << sc.path << '\n';
  if (!sc.description.empty()) out << "  " << sc.description << '\n';
  out << "Configuration " << sc.config_dir.string() << " (" << sc.config->hash.substr(0, 12) << "), times "
      << sc.zone()->name() << ", " << local(sc, sc.start_instant) << " to " << local(sc, sc.end_instant) << ", "
      << sc.steps.size() << (sc.steps.size() == 1 ? " step" : " steps") << "\n";

  std::size_t actor = 6, kind = 5, ref = 3, stage = 0;
  for (const auto& e : t.events) {
    if (!sc.shows(e.ref)) continue;
    actor = std::max(actor, e.actor.size());
    kind = std::max(kind, e.kind.size());
    ref = std::max(ref, e.ref.size());
    stage = std::max(stage, e.stage.size());
  }
  for (const auto& loose : t.loose) {
    if (!sc.shows(loose.ref)) continue;
    ref = std::max(ref, loose.ref.size());
    stage = std::max(stage, loose.stage.size());
  }
  for (const auto& s : t.steps) {
    actor = std::max(actor, s.step->as.size());
    kind = std::max(kind, s.step->command.size() + 2);
  }

  for (const auto& entry : t.order) {
    if (entry.type == SimEntry::Type::step) {
      const SimStep& s = t.steps[entry.index];
      const ScenarioStep& step = *s.step;
      out << '\n'
          << local(sc, step.instant) << "  " << pad(step.as, actor) << "  " << pad("> " + step.command, kind) << "  "
          << "step " << step.number << (step.args.empty() ? "" : ": " + args_text(step.args)) << " => "
          << answer_text(step, s.result);
      if (!step.expect_ok && !s.result.ok) out << " (as expected)";
      if (!s.as_expected) out << "  [NOT AS EXPECTED: expect = \"" << (step.expect_ok ? "ok" : "error") << "\"]";
      out << '\n';
    } else if (entry.type == SimEntry::Type::event) {
      const SimEvent& e = t.events[entry.index];
      if (!sc.shows(e.ref)) continue;
      out << row({{local(sc, e.at), 0}, {e.actor, actor}, {e.kind, kind}, {e.ref, ref}, {e.stage, stage}},
                 details_text(e))
          << '\n';
    } else {
      const SimNotification& n = t.loose[entry.index];
      if (!sc.shows(n.ref)) continue;
      out << row({{local(sc, n.at), 0}, {"", actor}, {"-> " + n.kind, kind}, {n.ref, ref}, {n.stage, stage}},
                 n.person + " (" + n.role + ")" + (n.late ? " [late]" : ""))
          << '\n';
    }
  }

  std::map<std::string, std::size_t> by_kind;
  std::size_t events = 0, notifications = 0;
  for (const auto& e : t.events) {
    if (!sc.shows(e.ref)) continue;
    ++events;
    notifications += e.notifications.size();
    for (const auto& n : e.notifications) ++by_kind[n.kind];
  }
  for (const auto& n : t.loose) {
    if (!sc.shows(n.ref)) continue;
    ++notifications;
    ++by_kind[n.kind];
  }
  std::string kinds;
  for (const auto& [k, n] : by_kind) {
    const std::string noun = k == "paused" ? "pause notice" : k == "reminder" || k == "escalation" ? k : k + " message";
    kinds += (kinds.empty() ? "" : ", ") + std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
  }
  const std::size_t expected = t.steps.size() - static_cast<std::size_t>(t.mismatches);
  out << "\nEnd " << local(sc, sc.end_instant) << ": " << expected << " of " << t.steps.size() << " steps as expected; "
      << events << " events and " << notifications << " notifications" << (kinds.empty() ? "" : " (" + kinds + ")");
  if (events < t.events.size() || notifications < t.notification_count()) {
    std::string only;
    for (const auto& o : sc.only) only += (only.empty() ? "" : ", ") + o;
    out << "; not shown (only " << only << "): " << t.events.size() - events << " events and "
        << t.notification_count() - notifications << " notifications of other references";
  }
  out << "; committed in " << t.batches << " batches, " << t.audit_records << " audit records in the store\n";
  std::vector<const store::ReviewRecord*> reviews;
  for (const auto& r : t.reviews) {
    if (sc.shows(r.ref)) reviews.push_back(&r);
  }
  if (reviews.empty()) return;
  out << "Reviews at the end:\n";
  std::size_t ref_width = 0, workflow_width = 0;
  for (const auto* r : reviews) {
    ref_width = std::max(ref_width, r->ref.size());
    workflow_width = std::max(workflow_width, r->workflow.size());
  }
  for (const auto* rp : reviews) {
    const store::ReviewRecord& r = *rp;
    std::string open;
    for (const auto& d : t.deadlines) {
      if (d.ref != r.ref || !d.completed_on.empty()) continue;
      open += (open.empty() ? "" : ", ") + d.stage + " " + d.state + " (due " + d.due + ")";
    }
    out << row({{"", 0}, {r.ref, ref_width}, {r.workflow, workflow_width}, {r.state, 9}}, open) << '\n';
  }
}

json transcript_json(const Scenario& sc, const Transcript& t) {
  auto iso = [&](Instant at) { return local(sc, at, "%FT%H:%M"); };
  auto notification_json = [&](const SimNotification& n) {
    return json{{"at", iso(n.at)},    {"kind", n.kind}, {"ref", n.ref},  {"stage", n.stage},
                {"person", n.person}, {"role", n.role}, {"late", n.late}};
  };
  json events = json::array(), notifications = json::array(), steps = json::array();
  for (const auto& entry : t.order) {
    if (entry.type == SimEntry::Type::step) {
      const SimStep& s = t.steps[entry.index];
      json j{{"at", iso(s.step->instant)},
             {"step", s.step->number},
             {"as", s.step->as},
             {"command", s.step->command},
             {"args", s.step->args},
             {"ok", s.result.ok},
             {"expect", s.step->expect_ok ? "ok" : "error"},
             {"as_expected", s.as_expected}};
      if (s.result.ok) {
        j["result"] = s.result.body();
      } else {
        j["error"] = s.result.error;
      }
      steps.push_back(std::move(j));
    } else if (entry.type == SimEntry::Type::event) {
      const SimEvent& e = t.events[entry.index];
      if (!sc.shows(e.ref)) continue;
      json j{{"at", iso(e.at)},  {"kind", e.kind},   {"ref", e.ref},
             {"stage", e.stage}, {"actor", e.actor}, {"details", e.details}};
      if (e.step > 0) j["step"] = e.step;
      events.push_back(std::move(j));
      for (const auto& n : e.notifications) notifications.push_back(notification_json(n));
    } else if (sc.shows(t.loose[entry.index].ref)) {
      notifications.push_back(notification_json(t.loose[entry.index]));
    }
  }
  json reviews = json::array();
  for (const auto& r : t.reviews) {
    if (!sc.shows(r.ref)) continue;
    json stages = json::array();
    for (const auto& d : t.deadlines) {
      if (d.ref != r.ref) continue;
      json st{{"stage", d.stage}, {"state", d.state}, {"due", d.due}};
      if (!d.completed_on.empty()) st["completed_on"] = d.completed_on;
      if (!d.outcome.empty()) st["outcome"] = d.outcome;
      stages.push_back(std::move(st));
    }
    reviews.push_back({{"ref", r.ref}, {"workflow", r.workflow}, {"state", r.state}, {"stages", stages}});
  }
  json doc{{"scenario", sc.path},
           {"config", sc.config_dir.string()},
           {"timezone", sc.zone()->name()},
           {"start", iso(sc.start_instant)},
           {"end", iso(sc.end_instant)},
           {"events", events},
           {"notifications", notifications},
           {"steps", steps},
           {"reviews", reviews},
           {"as_expected", t.mismatches == 0}};
  if (!sc.only.empty()) {
    doc["only"] = sc.only;
    doc["not_shown"] = {{"events", t.events.size() - events.size()},
                        {"notifications", t.notification_count() - notifications.size()}};
  }
  return doc;
}

int simulate(const fs::path& path, bool as_json, std::ostream& out, std::ostream& err) {
  Diagnostics diags;
  auto sc = load_scenario(path, diags);
  if (!sc) {
    auto list = diags.sorted();
    for (const auto& d : list) err << workflows::format(d) << '\n';
    err << path.string() << ": " << list.size() << (list.size() == 1 ? " error" : " errors") << "; nothing was run\n";
    return 2;
  }
  Transcript t;
  try {
    t = run_scenario(*sc);
  } catch (const std::exception& e) {
    err << path.string() << ": the simulation stopped: " << e.what() << '\n';
    return 1;
  }
  if (as_json) {
    out << transcript_json(*sc, t).dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  } else {
    print_table(*sc, t, out);
  }
  if (t.mismatches > 0) {
    err << path.string() << ": " << t.mismatches << (t.mismatches == 1 ? " step" : " steps")
        << " did not go as expected\n";
    return 1;
  }
  return 0;
}

}  // namespace docket::daemon
