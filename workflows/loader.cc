// Loading and checking the configuration directory (see config.h).
//
// Three passes: parse every file (TOML syntax errors stop only that file),
// read each file into the model checking names against what the other files
// define, then check what needs the whole model (anchors, reachability, dates
// that would fall before the start).

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "workflows/config.h"
#include "workflows/digest.h"
#include "workflows/plan.h"
#include "workflows/recurrence.h"
#include "workflows/toml_reader.h"

namespace docket::workflows {
namespace fs = std::filesystem;
using detail::Reader;

namespace {

struct ParsedFile {
  std::string rel;
  std::string text;
  toml::table table;
};

// toml++ words some common mistakes for parser writers; say them plainly.
std::string plain_toml_error(const std::string& d) {
  if (d.find("unescaped control characters") != std::string::npos) {
    return "a string is not closed: add the closing quote on the same line";
  }
  if (auto k = d.find("cannot redefine existing "); k != std::string::npos) {
    auto q = d.find('\'', k);
    std::string name = q == std::string::npos ? std::string{} : " " + d.substr(q);
    return "a key or table is set twice:" + name + "; each key may appear once in its table";
  }
  return d;
}

// Parses one file's text; a syntax error is recorded and yields nullopt.
std::optional<ParsedFile> parse_text(const std::string& rel, std::string text, Diagnostics& diags) {
  ParsedFile f{rel, std::move(text), {}};
  try {
    f.table = toml::parse(f.text, rel);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    diags.error({rel, b.line, b.column}, "TOML syntax error: " + plain_toml_error(std::string(e.description())));
    return std::nullopt;
  }
  return f;
}

// Reads and parses one file; a syntax error is recorded and yields nullopt.
std::optional<ParsedFile> parse_file(const fs::path& dir, const std::string& rel, Diagnostics& diags) {
  std::ifstream in(dir / rel, std::ios::binary);
  if (!in) {
    diags.error({rel, 0, 0}, "cannot read the file");
    return std::nullopt;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_text(rel, buf.str(), diags);
}

std::vector<std::string> toml_files_in(const fs::path& dir, const std::string& sub) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / sub, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") {
      out.push_back(sub + "/" + entry.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string stem(const std::string& rel) { return fs::path(rel).stem().string(); }

std::optional<std::chrono::minutes> parse_clock(const std::string& s) {
  auto t = parse_local_time("2000-01-01T" + s);
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::minutes>(t->time_since_epoch() % std::chrono::days{1});
}

std::optional<date::weekday> parse_weekday(const std::string& s) {
  static const char* names[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  for (unsigned i = 0; i < 7; ++i) {
    if (s == names[i]) return date::weekday{i};
  }
  return std::nullopt;
}

const std::vector<std::string> kWeekdays = {"monday", "tuesday", "wednesday", "thursday",
                                            "friday", "saturday", "sunday"};

// Everything a workflow file may refer to outside itself.
struct Names {
  const Directory* directory = nullptr;
  std::set<std::string> calendars;
  std::map<std::string, std::string> workflow_kinds;  // id -> "review" | "meeting-cycle"
};

std::vector<std::string> keys_of(const std::map<std::string, std::string>& m, const std::string& kind) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) {
    if (kind.empty() || v == kind) out.push_back(k);
  }
  return out;
}

// --- docketd.toml ---------------------------------------------------------

// A whole number in [low, high] (an error and nullopt otherwise).
std::optional<std::int64_t> bounded(Reader& r, std::string_view key, std::int64_t low, std::int64_t high) {
  auto v = r.integer(key);
  if (v && (*v < low || *v > high)) {
    r.error(*r.get(key), "'" + std::string(key) + "' must be a whole number from " + std::to_string(low) + " to " +
                             std::to_string(high) + ", found " + std::to_string(*v));
    return std::nullopt;
  }
  return v;
}

AuditSettings read_audit_settings(const toml::table& t, const std::string& file, const fs::path& dir,
                                  Diagnostics& diags) {
  AuditSettings a;
  Reader r(t, file, diags, "[audit]");
  if (auto v = r.string("key_file")) a.key_file = (dir / *v).lexically_normal();
  if (auto v = r.string("credential")) {
    if (v->empty() || v->find('/') != std::string::npos) {
      r.error(*r.get("credential"), "'credential' must be the name of a systemd credential (LoadCredential=NAME:...), "
                                    "e.g. \"audit.key\"");
    } else {
      a.credential = *v;
    }
    if (!a.key_file.empty()) {
      r.error(*r.get("credential"), "give the audit key as 'key_file' or as 'credential', not both");
    }
  }
  if (auto v = r.string("head_file")) a.head_file = (dir / *v).lexically_normal();
  if (auto v = r.string("recipient")) a.recipient = *v;
  if (auto v = bounded(r, "publish_minutes", 1, 24 * 60)) a.publish_every = std::chrono::minutes(*v);
  if (auto v = bounded(r, "publish_records", 1, 100'000'000)) a.publish_records = *v;
  if (auto v = bounded(r, "notice_hours", 0, 24 * 366)) a.notice_every = std::chrono::hours(*v);
  r.finish();
  return a;
}

DaemonSettings read_settings(const ParsedFile& f, const fs::path& dir, Diagnostics& diags) {
  DaemonSettings s;
  s.database = dir / "../var/docket.db";
  s.socket = dir / "../var/docketd.sock";
  Reader top(f.table, f.rel, diags, "docketd.toml");
  // A path docketd will create a file at: not a directory already there.
  auto file_path = [&](Reader& r, const char* key, std::filesystem::path& out) {
    auto v = r.string(key, true, key == std::string_view("database") ? "\"/var/lib/docket/docket.db\""
                                                                      : "\"/run/docket/docketd.sock\"");
    if (!v) return;
    out = dir / *v;
    std::error_code ec;
    if (fs::is_directory(out, ec)) {
      const char* file = key == std::string_view("database") ? "docket.db" : "docketd.sock";
      r.error(*r.get(key), std::string("'") + key + "' names the directory \"" + *v + "\"; it must name a file, e.g. \"" +
                               (fs::path(*v) / file).string() + "\"");
    }
  };
  const toml::table* daemon = top.subtable("daemon");
  if (daemon == nullptr && top.get("daemon") == nullptr) {
    diags.error({f.rel, 1, 1}, "there is no [daemon] table; docketd.toml needs at least [daemon] with database = "
                               "and socket = (the shipped config/docketd.toml shows them)");
  }
  if (daemon != nullptr) {
    Reader r(*daemon, f.rel, diags, "[daemon]");
    file_path(r, "database", s.database);
    file_path(r, "socket", s.socket);
    if (auto v = r.string("calendar")) s.calendar = *v;
    if (auto v = r.string("timezone")) {
      try {
        (void)date::locate_zone(*v);
        s.timezone = *v;
      } catch (const std::exception&) {
        r.error(*r.get("timezone"), "unknown time zone '" + *v + "', expected a tz database name such as "
                                    "\"Europe/London\"");
      }
    }
    if (auto v = r.string("notify_at")) {
      if (auto m = parse_clock(*v)) {
        s.notify_at = *m;
      } else {
        r.error(*r.get("notify_at"), "'notify_at' must be a local time HH:MM, e.g. \"09:00\", found \"" + *v + "\"");
      }
    }
    r.finish();
  }
  if (const toml::table* t = top.subtable("audit")) s.audit = read_audit_settings(*t, f.rel, dir, diags);
  top.known({"delivery", "channels"});  // checked by the daemon, which knows the channel types
  top.finish();
  s.file = f.rel;
  s.database = s.database.lexically_normal();
  s.socket = s.socket.lexically_normal();
  return s;
}

// --- directory.toml -------------------------------------------------------

Directory read_directory(const ParsedFile& f, Diagnostics& diags) {
  Directory dir;
  Reader top(f.table, f.rel, diags, "directory.toml");
  if (const toml::table* agencies = top.subtable("agencies")) {
    for (auto&& [k, v] : *agencies) {
      std::string id(k.str());
      const toml::table* t = v.as_table();
      if (t == nullptr) {
        top.error(v, "agency '" + id + "' must be a table with name = \"...\"");
        continue;
      }
      Reader r(*t, f.rel, diags, "agency '" + id + "'");
      if (!Reader::valid_id(id)) r.error(*t, "'" + id + "' is not a valid agency id: use lowercase letters, digits and hyphens");
      Agency a{id, r.string("name", true).value_or(id), r.boolean("statutory").value_or(false)};
      r.finish();
      dir.agencies.push_back(std::move(a));
    }
  }
  if (const toml::table* roles = top.subtable("roles")) {
    for (auto&& [k, v] : *roles) {
      std::string id(k.str());
      const toml::table* t = v.as_table();
      if (t == nullptr) {
        top.error(v, "role '" + id + "' must be a table with title = \"...\"");
        continue;
      }
      Reader r(*t, f.rel, diags, "role '" + id + "'");
      if (!Reader::valid_id(id)) r.error(*t, "'" + id + "' is not a valid role id: use lowercase letters, digits and hyphens");
      Role role{id, r.string("title", true).value_or(id), r.boolean("per_review").value_or(false)};
      r.finish();
      dir.roles.push_back(std::move(role));
    }
  }
  std::vector<std::string> agency_ids, role_ids;
  for (const auto& a : dir.agencies) agency_ids.push_back(a.id);
  for (const auto& r : dir.roles) role_ids.push_back(r.id);
  std::map<std::string, std::string> unix_users;  // user -> person
  std::vector<std::pair<std::string, const toml::node*>> deputies;
  if (const toml::table* people = top.subtable("people")) {
    for (auto&& [k, v] : *people) {
      std::string id(k.str());
      const toml::table* t = v.as_table();
      if (t == nullptr) {
        top.error(v, "person '" + id + "' must be a table with name, email, agency and roles");
        continue;
      }
      Reader r(*t, f.rel, diags, "person '" + id + "'");
      if (!Reader::valid_id(id)) r.error(*t, "'" + id + "' is not a valid person id: use lowercase letters, digits and hyphens");
      Person p;
      p.id = id;
      p.name = r.string("name", true).value_or("");
      p.email = r.string("email").value_or("");
      if (!p.email.empty()) {
        auto at = p.email.find('@');
        if (at == std::string::npos || at == 0 || at + 1 == p.email.size() ||
            p.email.find_first_of(" \t<>,;\"") != std::string::npos) {
          r.error(*r.get("email"), "'" + p.email + "' is not an email address, expected e.g. \"name@example.org\"");
        }
      }
      if (auto a = r.string("agency", true)) {
        p.agency = *a;
        if (dir.agency(*a) == nullptr) {
          r.error(*r.get("agency"), "unknown agency '" + *a + "'" + did_you_mean(*a, agency_ids) +
                                        " (agencies are defined under [agencies])");
        }
      }
      if (auto roles = r.strings("roles")) {
        const toml::node* n = r.get("roles");
        const toml::array* arr = n->as_array();
        for (std::size_t i = 0; i < roles->size(); ++i) {
          const std::string& role = (*roles)[i];
          if (dir.role(role) == nullptr) {
            const toml::node& at = arr != nullptr ? *arr->get(i) : *n;
            r.error(at, "unknown role '" + role + "'" + did_you_mean(role, role_ids) +
                            " (roles are defined under [roles])");
          }
        }
        p.roles = *roles;
      }
      if (auto u = r.string("unix_user")) {
        p.unix_user = *u;
        auto [it, fresh] = unix_users.emplace(*u, id);
        if (!fresh) {
          r.error(*r.get("unix_user"), "unix_user '" + *u + "' is already mapped to '" + it->second +
                                           "'; one local account maps to one person");
        }
      }
      if (auto d = r.string("deputy_for")) {
        p.deputy_for = *d;
        deputies.emplace_back(id, r.get("deputy_for"));
      }
      p.prefers = r.string("prefers").value_or("");
      if (const toml::node* n = r.get("prefers")) p.prefers_at = r.pos(*n);
      p.digest = r.boolean("digest").value_or(false);
      r.finish();
      dir.people.push_back(std::move(p));
    }
  }
  const std::vector<std::string> person_ids = dir.person_ids();
  for (const auto& [id, node] : deputies) {
    const Person* p = dir.person(id);
    Reader r(f.table, f.rel, diags, "person '" + id + "'");
    if (p->deputy_for == id) {
      r.error(*node, "person '" + id + "' cannot deputise for themselves");
    } else if (dir.person(p->deputy_for) == nullptr) {
      r.error(*node, "unknown person '" + p->deputy_for + "'" + did_you_mean(p->deputy_for, person_ids));
    }
  }
  top.finish();
  return dir;
}

// --- calendars/*.toml -----------------------------------------------------

std::optional<Calendar> read_calendar(const ParsedFile& f, Diagnostics& diags) {
  const std::size_t before = diags.size();
  Reader r(f.table, f.rel, diags, "the calendar");
  r.known({"title", "source"});
  auto id = r.id("id");
  if (id && *id != stem(f.rel)) {
    r.error(*r.get("id"), "id '" + *id + "' does not match the file name '" + fs::path(f.rel).filename().string() +
                              "'; name the file " + *id + ".toml");
  }
  std::string tz = r.string("timezone", true, "\"Europe/London\"").value_or("Europe/London");
  try {
    (void)date::locate_zone(tz);
  } catch (const std::exception&) {
    if (const toml::node* n = r.get("timezone")) {
      r.error(*n, "unknown time zone '" + tz + "', expected a tz database name such as \"Europe/London\"");
    }
    tz = "UTC";
  }
  std::vector<date::weekday> weekend{date::Saturday, date::Sunday};
  if (auto names = r.strings("weekend")) {
    weekend.clear();
    const toml::array* arr = r.get("weekend")->as_array();
    for (std::size_t i = 0; i < names->size(); ++i) {
      if (auto w = parse_weekday((*names)[i])) {
        weekend.push_back(*w);
      } else {
        r.error(arr != nullptr ? *arr->get(i) : *r.get("weekend"), unknown("day", (*names)[i], kWeekdays));
      }
    }
    std::set<unsigned> distinct;
    for (auto w : weekend) distinct.insert(w.c_encoding());
    if (distinct.size() == 7) r.error(*r.get("weekend"), "the weekend cannot be every day: the calendar would have no working days");
  }
  std::vector<Holiday> published;
  std::map<Day, std::uint32_t> seen;
  if (const toml::array* arr = r.array("published")) {
    for (const auto& item : *arr) {
      const toml::table* t = item.as_table();
      if (t == nullptr) {
        r.error(item, "each published holiday must be a table: { date = 2026-12-25, name = \"Christmas Day\" }");
        continue;
      }
      Reader h(*t, f.rel, diags, "a published holiday");
      const toml::node* dn = h.get("date");
      auto name = h.string("name", true);
      bool one_off = h.boolean("one_off").value_or(false);
      h.finish();
      if (dn == nullptr) {
        h.error(*t, "a published holiday has no 'date', expected e.g. date = 2026-12-25");
        continue;
      }
      const auto* dv = dn->as_date();
      if (dv == nullptr) {
        h.error(*dn, "'date' must be a TOML date such as 2026-12-25 (no quotes), found " + Reader::type_name(*dn));
        continue;
      }
      const toml::date& td = dv->get();
      date::year_month_day ymd{date::year{td.year}, date::month{td.month}, date::day{td.day}};
      if (!ymd.ok()) {
        h.error(*dn, "not a real date");
        continue;
      }
      Day d{ymd};
      if (auto first = seen.find(d); first != seen.end()) {
        h.error(*dn, "the holiday on " + iso(d) + " is listed twice (first at line " + std::to_string(first->second) + ")");
        continue;
      }
      seen.emplace(d, dn->source().begin.line);
      published.push_back({d, name.value_or(""), one_off, false});
    }
  }
  std::vector<HolidayRule> rules;
  if (const toml::array* arr = r.array("rule")) {
    for (const auto& item : *arr) {
      const toml::table* t = item.as_table();
      if (t == nullptr) {
        r.error(item, "each [[rule]] must be a table");
        continue;
      }
      Reader h(*t, f.rel, diags, "a holiday rule");
      HolidayRule rule;
      rule.name = h.string("name", true).value_or("");
      rule.substitute = h.boolean("substitute").value_or(false);
      auto easter = h.integer("easter");
      auto month = h.integer("month");
      auto day = h.integer("day");
      auto weekday = h.string("weekday");
      auto nth = h.integer("nth");
      if (easter) {
        rule.kind = HolidayRule::Kind::easter;
        rule.easter_offset = static_cast<int>(*easter);
        if (month || day || weekday || nth) {
          h.error(*t, "rule '" + rule.name + "' mixes 'easter' with a month, day or weekday; use one kind of rule");
        }
      } else if (month && weekday) {
        rule.kind = HolidayRule::Kind::nth_weekday;
        auto w = parse_weekday(*weekday);
        if (!w) h.error(*h.get("weekday"), unknown("day", *weekday, kWeekdays));
        rule.weekday = w.value_or(date::Monday);
        rule.nth = static_cast<int>(nth.value_or(1));
        if (rule.nth == 0 || rule.nth < -1 || rule.nth > 5) {
          h.error(*h.get("nth"), "'nth' must be 1 to 5, or -1 for the last in the month");
          rule.nth = 1;
        }
        if (day) h.error(*h.get("day"), "rule '" + rule.name + "' has both a weekday and a day of the month");
      } else if (month && day) {
        rule.kind = HolidayRule::Kind::fixed;
        rule.day = static_cast<unsigned>(*day);
      } else {
        h.error(*t, "rule '" + rule.name + "' needs easter = N, month and day, or month, weekday and nth");
        continue;
      }
      if (month) {
        if (*month < 1 || *month > 12) {
          h.error(*h.get("month"), "'month' must be 1 to 12");
          continue;
        }
        rule.month = static_cast<unsigned>(*month);
        if (rule.kind == HolidayRule::Kind::fixed &&
            !(date::year{2000} / date::month{rule.month} / date::day{rule.day}).ok()) {
          h.error(*h.get("day"), "there is no day " + std::to_string(*day) + " in month " + std::to_string(*month));
          continue;
        }
        if (rule.kind == HolidayRule::Kind::fixed && rule.month == 2 && rule.day == 29) {
          h.error(*h.get("day"), "29 February exists only in leap years; a yearly holiday needs a date every year");
          continue;
        }
      }
      h.finish();
      rules.push_back(std::move(rule));
    }
  }
  r.finish();
  if (!id || diags.size() != before) return std::nullopt;
  try {
    return Calendar(*id, tz, weekend, std::move(published), std::move(rules));
  } catch (const std::exception& e) {
    diags.error({f.rel, 1, 1}, e.what());
    return std::nullopt;
  }
}

// --- workflows/*.toml -----------------------------------------------------

// Positions kept while a workflow file is read, for the checks that need the
// whole file.
struct StageNodes {
  const toml::node* due = nullptr;
  const toml::node* opens_after = nullptr;
  const toml::node* opens_on_outcome = nullptr;
  SourcePos where;
  bool implicit_opens = false;  // opens_after taken from a `.completed` anchor
};

class WorkflowReader {
 public:
  WorkflowReader(const ParsedFile& f, const Names& names, Diagnostics& diags)
      : f_(f), names_(names), diags_(diags) {
    for (const auto& r : names.directory->roles) role_ids_.push_back(r.id);
  }

  std::optional<ReviewDefinition> review();
  std::optional<MeetingCycle> cycle();

 private:
  void check_roles(Reader& r, std::string_view key, const std::vector<std::string>& roles);
  void check_role(Reader& r, const toml::node& n, const std::string& role);
  // Why `id` cannot be used as a meeting cycle, or nullopt when it can.
  std::optional<std::string> not_a_cycle(const std::string& id, const std::string& self) const;
  std::optional<Stage> stage(const toml::table& t, bool milestone, StageNodes& nodes);
  void read_common(Reader& r, std::string& id, std::string& calendar);
  void check_anchors(const std::vector<Stage>& stages, const std::vector<StageNodes>& nodes, bool milestones,
                     const std::vector<SuppliedDate>& dates);

  const ParsedFile& f_;
  const Names& names_;
  Diagnostics& diags_;
  std::vector<std::string> role_ids_;
  std::set<std::string> used_roles_;
  std::vector<std::string> review_roles_;  // the review's `assign` list
  bool in_cycle_ = false;
  std::set<std::string> unheld_reported_;  // one error per unheld role per file
};

void WorkflowReader::check_role(Reader& r, const toml::node& n, const std::string& role) {
  const Role* def = names_.directory->role(role);
  if (def == nullptr) {
    r.error(n, "unknown role '" + role + "'" + did_you_mean(role, role_ids_) + " (roles are defined in directory.toml)");
    return;
  }
  if (def->per_review && in_cycle_) {
    r.error(n, "role '" + role + "' is assigned per review; a meeting cycle needs a standing role (one held by "
               "people in directory.toml)");
  } else if (def->per_review) {
    if (std::find(review_roles_.begin(), review_roles_.end(), role) == review_roles_.end()) {
      r.error(n, "role '" + role + "' is assigned to each review when it starts; list it in this workflow's "
                 "assign = [...] so docket asks for it");
    }
  } else if (names_.directory->holders(role).empty() && unheld_reported_.insert(role).second) {
    r.error(n, "nobody in directory.toml holds role '" + role + "', so its notifications would reach no one");
  }
}

std::optional<std::string> WorkflowReader::not_a_cycle(const std::string& id, const std::string& self) const {
  auto kind = names_.workflow_kinds.find(id);
  if (kind == names_.workflow_kinds.end()) {
    auto cycles = keys_of(names_.workflow_kinds, "meeting-cycle");
    cycles.erase(std::remove(cycles.begin(), cycles.end(), self), cycles.end());
    return unknown("meeting cycle", id, cycles);
  }
  if (kind->second != "meeting-cycle") return "'" + id + "' is a review type, not a meeting cycle";
  return std::nullopt;
}

void WorkflowReader::check_roles(Reader& r, std::string_view key, const std::vector<std::string>& roles) {
  const toml::node* n = r.get(key);
  if (n == nullptr) return;
  const toml::array* arr = n->as_array();
  for (std::size_t i = 0; i < roles.size(); ++i) {
    check_role(r, arr != nullptr && arr->get(i) != nullptr ? *arr->get(i) : *n, roles[i]);
  }
}

void WorkflowReader::read_common(Reader& r, std::string& id, std::string& calendar) {
  r.known({"kind"});
  if (auto v = r.id("id")) {
    id = *v;
    if (id != stem(f_.rel)) {
      r.error(*r.get("id"), "id '" + id + "' does not match the file name '" + fs::path(f_.rel).filename().string() +
                                "'; name the file " + id + ".toml or change the id");
    }
  }
  // Without a calendar key the default applies; a missing default is
  // reported once by load_config, not in every file.
  calendar = r.string("calendar").value_or("england-and-wales");
  if (const toml::node* n = r.get("calendar"); n != nullptr && names_.calendars.count(calendar) == 0) {
    std::vector<std::string> cals(names_.calendars.begin(), names_.calendars.end());
    r.error(*n, unknown("calendar", calendar, cals) + "; calendars are the files in calendars/");
  }
}

std::optional<Stage> WorkflowReader::stage(const toml::table& t, bool milestone, StageNodes& nodes) {
  const std::string noun = milestone ? "milestone" : "stage";
  Reader probe(t, f_.rel, diags_, "a " + noun);
  std::string id = probe.id("id").value_or("");
  Reader r(t, f_.rel, diags_, id.empty() ? "a " + noun : noun + " '" + id + "'");
  r.known({"id"});
  Stage s;
  s.id = id;
  s.where = r.pos();
  nodes.where = s.where;
  s.title = r.string("title").value_or(id);
  if (auto owner = r.string("owner")) {
    s.owner = *owner;
    check_role(r, *r.get("owner"), *owner);
  }
  if (auto due = r.due("due")) {
    s.due = *due;
    s.due_text = r.get("due")->as_string()->get();
    nodes.due = r.get("due");
    s.due_where = r.pos(*nodes.due);
    s.due_anchor_where = r.pos_in(*nodes.due, s.due.anchor.offset);
  }
  if (auto roll = r.string("roll")) {
    if (*roll == "next working day") {
      s.roll = Roll::next_working_day;
    } else if (*roll == "previous working day") {
      s.roll = Roll::previous_working_day;
    } else if (*roll != "none") {
      r.error(*r.get("roll"), "'roll' must be \"next working day\", \"previous working day\" or \"none\", found \"" +
                                  *roll + "\"");
    }
    if (s.roll != Roll::none && nodes.due != nullptr && s.due.next_meeting_of.empty() &&
        s.due.offset.unit == Unit::hours) {
      r.error(*r.get("roll"), "a deadline counted in clock hours keeps its time; remove 'roll'");
    }
  }
  if (auto limit = r.string("limit")) {
    if (*limit == "statutory") {
      s.limit = Limit::statutory;
    } else if (*limit == "local") {
      s.limit = Limit::local;
    } else if (*limit == "soft") {
      s.limit = Limit::soft;
    } else {
      r.error(*r.get("limit"), "'limit' must be \"statutory\", \"local\" or \"soft\", found \"" + *limit + "\"");
    }
  }
  if (const toml::node* rem = r.get("reminders")) {
    const toml::array* arr = rem->as_array();
    if (arr == nullptr) {
      r.error(*rem, "'reminders' must be a list such as [\"5 working days\", \"2 working days\"]");
    } else {
      for (const auto& item : *arr) {
        Reminder reminder;
        if (const auto* text = item.as_string()) {
          auto d = parse_duration(text->get());
          if (auto* e = std::get_if<ParseError>(&d)) {
            diags_.error(r.pos_in(item, e->offset), e->message);
            continue;
          }
          reminder.before = std::get<Duration>(d);
          if (reminder.before.count == 0) {
            r.error(item, "a reminder must come at least 1 " + to_string(Duration{1, reminder.before.unit}).substr(2) +
                              " before the deadline");
            continue;
          }
        } else if (const auto* rt = item.as_table()) {
          Reader rr(*rt, f_.rel, diags_, "a reminder of " + noun + " '" + id + "'");
          auto before = rr.duration("before", true);
          auto to = rr.strings("to");
          if (to) check_roles(rr, "to", *to);
          rr.finish();
          if (!before) continue;
          reminder.before = *before;
          reminder.to = to.value_or(std::vector<std::string>{});
        } else {
          r.error(item, "each reminder is a duration such as \"2 working days\", or { before = \"...\", to = [...] }");
          continue;
        }
        if (reminder.to.empty() && s.owner.empty()) {
          r.error(item, noun + " '" + id + "' has reminders but no 'owner' to send them to; add owner = \"ROLE\" "
                        "or give the reminder its own to = [...]");
        }
        s.reminders.push_back(std::move(reminder));
      }
      std::stable_sort(s.reminders.begin(), s.reminders.end(), [](const Reminder& a, const Reminder& b) {
        return approximate_days(a.before) > approximate_days(b.before);
      });
    }
  }
  if (const toml::array* arr = r.array("escalation")) {
    double previous = 0;
    for (const auto& item : *arr) {
      const toml::table* et = item.as_table();
      if (et == nullptr) {
        r.error(item, "each escalation rung is a table: { after = \"1 working day\", to = [\"ROLE\"] }");
        continue;
      }
      Reader er(*et, f_.rel, diags_, "an escalation rung of " + noun + " '" + id + "'");
      EscalationRung rung;
      auto after = er.duration("after", true);
      auto to = er.strings("to");
      if (!to) {
        if (er.get("to") == nullptr) er.error(*et, "an escalation rung has no 'to', expected e.g. to = [\"business-manager\"]");
      } else {
        if (to->empty()) er.error(*er.get("to"), "'to' must name at least one role");
        check_roles(er, "to", *to);
        rung.to = *to;
      }
      if (const toml::node* rep = er.get("repeat")) {
        if (const auto* b = rep->as_boolean()) {
          if (b->get() && after) rung.repeat = *after;
        } else if (auto d = er.duration("repeat")) {
          rung.repeat = *d;
        }
      }
      er.finish();
      if (!after) continue;
      rung.after = *after;
      double days = approximate_days(rung.after);
      if (days <= previous) {
        er.error(*er.get("after"), "escalation rungs must be listed in order of lateness: '" + to_string(rung.after) +
                                       "' is not later than the rung before it");
      }
      previous = days;
      s.escalations.push_back(std::move(rung));
    }
    if (s.limit == Limit::soft && !s.escalations.empty()) {
      r.error(*r.get("escalation"), noun + " '" + id + "' has no fixed limit (limit = \"soft\"), so it cannot be "
                                    "escalated; remove the escalation rungs or set limit = \"local\"");
    }
  }
  if (milestone) {
    if (auto marks = r.string("marks")) {
      static const std::vector<std::string> steps{"papers-published", "notes-drafted", "notes-stand", "presented"};
      if (std::find(steps.begin(), steps.end(), *marks) == steps.end()) {
        r.error(*r.get("marks"), unknown("meeting step", *marks, steps));
      } else {
        s.marks = *marks;
      }
    }
  }
  if (!milestone) {
    if (const toml::table* outcomes = r.subtable("outcomes")) {
      for (auto&& [k, v] : *outcomes) {
        Outcome o;
        o.id = std::string(k.str());
        const toml::table* ot = v.as_table();
        if (ot == nullptr) {
          r.error(v, "outcome '" + o.id + "' must be a table: { title = \"...\" }, optionally with start = \"WORKFLOW\"");
          continue;
        }
        Reader orr(*ot, f_.rel, diags_, "outcome '" + o.id + "' of stage '" + id + "'");
        if (!Reader::valid_id(o.id)) orr.error(*ot, "'" + o.id + "' is not a valid outcome id: use lowercase letters, digits and hyphens");
        o.title = orr.string("title").value_or(o.id);
        if (auto start = orr.string("start")) {
          o.start_workflow = *start;
          auto kind = names_.workflow_kinds.find(*start);
          if (kind == names_.workflow_kinds.end()) {
            orr.error(*orr.get("start"), "unknown workflow '" + *start + "'" +
                                             did_you_mean(*start, keys_of(names_.workflow_kinds, "review")));
          } else if (kind->second != "review") {
            orr.error(*orr.get("start"), "'" + *start + "' is a meeting cycle; an outcome can start only a review");
          }
        }
        orr.finish();
        s.outcomes.push_back(std::move(o));
      }
    }
    if (auto after = r.id("opens_after", false)) {
      s.opens_after = *after;
      nodes.opens_after = r.get("opens_after");
    }
    if (auto outcome = r.id("opens_on_outcome", false)) {
      s.opens_on_outcome = *outcome;
      nodes.opens_on_outcome = r.get("opens_on_outcome");
      if (s.opens_after.empty()) {
        r.error(*nodes.opens_on_outcome, "'opens_on_outcome' needs 'opens_after' naming the stage whose outcome it is");
      }
    }
    // A stage counted from another's completion opens when that one is completed.
    if (s.opens_after.empty() && nodes.due != nullptr && s.due.anchor.kind == AnchorKind::item_completed) {
      s.opens_after = s.due.anchor.name;
      nodes.implicit_opens = true;
    }
  }
  r.finish();
  if (id.empty() || nodes.due == nullptr) return std::nullopt;
  return s;
}

void WorkflowReader::check_anchors(const std::vector<Stage>& stages, const std::vector<StageNodes>& nodes,
                                   bool milestones, const std::vector<SuppliedDate>& dates) {
  const std::string noun = milestones ? "milestone" : "stage";
  std::vector<std::string> ids;
  for (const auto& s : stages) ids.push_back(s.id);
  std::vector<std::string> date_names;
  for (const auto& d : dates) date_names.push_back(d.name);
  auto index = [&](const std::string& id) -> int {
    auto it = std::find(ids.begin(), ids.end(), id);
    return it == ids.end() ? -1 : static_cast<int>(it - ids.begin());
  };
  Reader r(f_.table, f_.rel, diags_, "the workflow");
  auto at_anchor = [&](std::size_t i) { return r.pos_in(*nodes[i].due, stages[i].due.anchor.offset); };
  auto others = [&](const std::string& self) {
    std::vector<std::string> out;
    for (const auto& id : ids) {
      if (id != self) out.push_back(id);
    }
    return out;
  };

  // Names.
  std::vector<bool> anchor_ok(stages.size(), true);
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const Stage& s = stages[i];
    const Anchor& a = s.due.anchor;
    switch (a.kind) {
      case AnchorKind::start:
        if (milestones) {
          diags_.error(at_anchor(i), "a milestone counts from its meeting, not 'start'; write e.g. \"7 days before meeting\"");
          anchor_ok[i] = false;
        }
        break;
      case AnchorKind::meeting:
        if (!milestones) {
          diags_.error(at_anchor(i), "'meeting' is for meeting cycles; a review stage counts from start, "
                                     "date.NAME or another stage");
          anchor_ok[i] = false;
        }
        break;
      case AnchorKind::supplied_date:
        if (milestones) {
          diags_.error(at_anchor(i), "a milestone cannot count from a supplied date; count from meeting");
          anchor_ok[i] = false;
        } else if (std::find(date_names.begin(), date_names.end(), a.name) == date_names.end()) {
          diags_.error(at_anchor(i), "unknown date 'date." + a.name + "'" + did_you_mean(a.name, date_names) +
                                         "; declare it under [dates] so docket asks for it when a review starts");
          anchor_ok[i] = false;
        }
        break;
      case AnchorKind::item_due:
      case AnchorKind::item_completed:
        if (a.name == s.id) {
          diags_.error(at_anchor(i), noun + " '" + s.id + "' cannot count from itself");
          anchor_ok[i] = false;
        } else if (index(a.name) < 0) {
          diags_.error(at_anchor(i), unknown(noun, a.name, others(s.id), milestones ? "meeting or " : "start, date.NAME or "));
          anchor_ok[i] = false;
        }
        break;
    }
    if (!s.due.next_meeting_of.empty()) {
      SourcePos p = r.pos_in(*nodes[i].due, s.due.next_meeting_offset);
      if (!milestones) {
        diags_.error(p, "'next meeting of' is for meeting-cycle milestones");
      } else if (auto problem = not_a_cycle(s.due.next_meeting_of, stem(f_.rel))) {
        diags_.error(p, *problem);
      }
    }
    if (!s.opens_after.empty() && !nodes[i].implicit_opens) {
      int o = index(s.opens_after);
      if (s.opens_after == s.id) {
        r.error(*nodes[i].opens_after, "stage '" + s.id + "' cannot open after itself");
      } else if (o < 0) {
        r.error(*nodes[i].opens_after, unknown("stage", s.opens_after, others(s.id)));
      } else if (!s.opens_on_outcome.empty() && stages[static_cast<std::size_t>(o)].outcome(s.opens_on_outcome) == nullptr) {
        std::vector<std::string> outs;
        for (const auto& oc : stages[static_cast<std::size_t>(o)].outcomes) outs.push_back(oc.id);
        r.error(*nodes[i].opens_on_outcome,
                outs.empty() ? "stage '" + s.opens_after + "' declares no outcomes; add [stage.outcomes.NAME] to it"
                             : "stage '" + s.opens_after + "' has no outcome '" + s.opens_on_outcome + "'" +
                                   did_you_mean(s.opens_on_outcome, outs) + " (its outcomes: " + one_of(outs) + ")");
      }
    }
  }

  // Cycles: a stage depends on its anchor and on the stage it opens after.
  auto deps = [&](std::size_t i) {
    std::vector<int> out;
    const Stage& s = stages[i];
    if (anchor_ok[i] && (s.due.anchor.kind == AnchorKind::item_due || s.due.anchor.kind == AnchorKind::item_completed)) {
      out.push_back(index(s.due.anchor.name));
    }
    if (!s.opens_after.empty() && index(s.opens_after) >= 0 && s.opens_after != s.id) out.push_back(index(s.opens_after));
    return out;
  };
  std::vector<int> state(stages.size(), 0);  // 0 new, 1 on the path, 2 done
  std::vector<int> path;
  std::vector<bool> in_cycle(stages.size(), false);
  std::function<void(int)> visit = [&](int v) {
    state[static_cast<std::size_t>(v)] = 1;
    path.push_back(v);
    for (int w : deps(static_cast<std::size_t>(v))) {
      if (w < 0) continue;
      if (state[static_cast<std::size_t>(w)] == 1) {
        auto from = std::find(path.begin(), path.end(), w);
        std::string chain;
        for (auto it = from; it != path.end(); ++it) {
          chain += "'" + ids[static_cast<std::size_t>(*it)] + "'" + (it == from ? " counts from " : ", which counts from ");
          in_cycle[static_cast<std::size_t>(*it)] = true;
        }
        chain += "'" + ids[static_cast<std::size_t>(w)] + "'";
        diags_.error(at_anchor(static_cast<std::size_t>(v)),
                     "these " + noun + "s count from each other in a loop, so none can ever fall due: " + chain);
      } else if (state[static_cast<std::size_t>(w)] == 0) {
        visit(w);
      }
    }
    path.pop_back();
    state[static_cast<std::size_t>(v)] = 2;
  };
  for (std::size_t i = 0; i < stages.size(); ++i) {
    if (state[i] == 0) visit(static_cast<int>(i));
  }
  if (milestones || std::count(in_cycle.begin(), in_cycle.end(), true) > 0) return;

  // Reachability: the conditions under which each stage is open.
  using Conditions = std::set<std::pair<std::string, std::string>>;  // (stage, outcome or "")
  std::vector<std::optional<Conditions>> conds(stages.size());
  std::function<Conditions(std::size_t)> conditions = [&](std::size_t i) -> Conditions {
    if (conds[i]) return *conds[i];
    Conditions c;
    const Stage& s = stages[i];
    int o = s.opens_after.empty() ? -1 : index(s.opens_after);
    if (o >= 0) {
      c = conditions(static_cast<std::size_t>(o));
      c.insert({s.opens_after, s.opens_on_outcome});
    }
    conds[i] = c;
    return c;
  };
  auto describe = [&](const std::string& stage, const std::string& outcome) {
    return outcome.empty() ? "'" + stage + "' is completed" : "'" + stage + "' has outcome '" + outcome + "'";
  };
  for (std::size_t i = 0; i < stages.size(); ++i) {
    const Stage& s = stages[i];
    const Anchor& a = s.due.anchor;
    if (!anchor_ok[i] || (a.kind != AnchorKind::item_due && a.kind != AnchorKind::item_completed)) continue;
    int t = index(a.name);
    Conditions mine = conditions(i);
    Conditions needed = conditions(static_cast<std::size_t>(t));
    if (a.kind == AnchorKind::item_completed) needed.insert({a.name, ""});
    for (const auto& [stage, outcome] : needed) {
      bool exact = mine.count({stage, outcome}) > 0;
      bool any_outcome = false;
      std::string other;
      for (const auto& [ms, mo] : mine) {
        if (ms != stage) continue;
        if (outcome.empty()) any_outcome = true;
        if (!outcome.empty() && !mo.empty() && mo != outcome) other = mo;
      }
      if (exact || any_outcome) continue;
      if (!other.empty()) {
        diags_.error(at_anchor(i), "stage '" + s.id + "' is unreachable: it opens only when " + describe(stage, other) +
                                       ", but its deadline counts from '" + a.name + "', which exists only when " +
                                       describe(stage, outcome));
      } else if (a.kind == AnchorKind::item_completed && stage == a.name) {
        diags_.error(at_anchor(i), "stage '" + s.id + "' counts from the completion of '" + a.name +
                                       "' but opens before it; add opens_after = \"" + a.name + "\"");
      } else {
        diags_.error(at_anchor(i), "stage '" + s.id + "' can open before its deadline can be known: it counts from '" +
                                       a.name + "', which opens only when " + describe(stage, outcome) +
                                       "; add opens_after = \"" + stage + "\"");
      }
      break;
    }
  }
}

std::optional<ReviewDefinition> WorkflowReader::review() {
  const std::size_t before = diags_.size();
  Reader r(f_.table, f_.rel, diags_, "the review definition");
  ReviewDefinition def;
  def.file = f_.rel;
  def.version = sha256_hex(f_.text).substr(0, 12);
  def.text = f_.text;
  read_common(r, def.id, def.calendar);
  def.title = r.string("title", true).value_or(def.id);
  def.source = r.string("source").value_or("");
  def.start_event = r.string("start_event").value_or("the review starts");
  def.pausable = r.boolean("pausable").value_or(false);
  def.extendable = r.boolean("extendable").value_or(false);
  if (auto assign = r.strings("assign")) {
    const toml::array* arr = r.get("assign")->as_array();
    for (std::size_t i = 0; i < assign->size(); ++i) {
      const std::string& role = (*assign)[i];
      const toml::node& n = arr != nullptr ? *arr->get(i) : *r.get("assign");
      const Role* def_role = names_.directory->role(role);
      if (std::find(assign->begin(), assign->begin() + static_cast<std::ptrdiff_t>(i), role) !=
          assign->begin() + static_cast<std::ptrdiff_t>(i)) {
        r.error(n, "role '" + role + "' is listed twice in assign");
      } else if (def_role == nullptr) {
        r.error(n, "unknown role '" + role + "'" + did_you_mean(role, role_ids_) + " (roles are defined in directory.toml)");
      } else if (!def_role->per_review) {
        r.error(n, "role '" + role + "' is a standing role; only roles with per_review = true are assigned when a "
                   "review starts");
      }
    }
    def.review_roles = *assign;
    review_roles_ = *assign;
  }
  if (auto notify = r.strings("pause_notify")) {
    check_roles(r, "pause_notify", *notify);
    def.pause_notify = *notify;
    if (!def.pausable) r.error(*r.get("pause_notify"), "'pause_notify' needs pausable = true");
  }
  if (const toml::table* dates = r.subtable("dates")) {
    for (auto&& [k, v] : *dates) {
      std::string name(k.str());
      if (!Reader::valid_id(name)) r.error(v, "'" + name + "' is not a valid date name: use lowercase letters, digits and hyphens");
      const auto* desc = v.as_string();
      if (desc == nullptr) {
        r.error(v, "date '" + name + "' must be described by a string, e.g. " + name + " = \"the day the review was commissioned\"");
        continue;
      }
      def.dates.push_back({name, desc->get()});
    }
  }
  std::vector<StageNodes> nodes;
  const toml::array* arr = r.array("stage");
  if (arr == nullptr || arr->empty()) {
    if (arr == nullptr && r.get("stage") == nullptr) {
      diags_.error(r.pos(), "a review needs at least one [[stage]] with an id and a due rule");
    }
  } else {
    std::map<std::string, std::uint32_t> seen;
    for (const auto& item : *arr) {
      const toml::table* t = item.as_table();
      if (t == nullptr) {
        r.error(item, "each [[stage]] must be a table");
        continue;
      }
      StageNodes n;
      if (auto s = stage(*t, false, n)) {
        if (auto first = seen.find(s->id); first != seen.end()) {
          diags_.error(s->where, "stage '" + s->id + "' is defined twice (first at line " +
                                     std::to_string(first->second) + "); give each stage its own id");
          continue;
        }
        seen.emplace(s->id, s->where.line);
        def.stages.push_back(std::move(*s));
        nodes.push_back(n);
      }
    }
  }
  r.finish();
  check_anchors(def.stages, nodes, false, def.dates);
  if (diags_.size() != before) return std::nullopt;
  return def;
}

std::optional<MeetingCycle> WorkflowReader::cycle() {
  const std::size_t before = diags_.size();
  Reader r(f_.table, f_.rel, diags_, "the meeting cycle");
  in_cycle_ = true;
  MeetingCycle c;
  c.file = f_.rel;
  c.version = sha256_hex(f_.text).substr(0, 12);
  read_common(r, c.id, c.calendar);
  c.body = r.string("body", true, "\"Safeguarding Partnership Executive\"").value_or(c.id);
  c.source = r.string("source").value_or("");
  for (auto [key, field] : {std::pair{"chair", &c.chair}, std::pair{"secretariat", &c.secretariat},
                            std::pair{"members", &c.members}}) {
    if (auto role = r.string(key, std::string_view(key) != "members")) {
      *field = *role;
      check_role(r, *r.get(key), *role);
    }
  }
  if (auto to = r.string("reports_to")) {
    c.reports_to = *to;
    if (*to == c.id) {
      r.error(*r.get("reports_to"), "a body cannot report to itself");
    } else if (auto problem = not_a_cycle(*to, c.id)) {
      r.error(*r.get("reports_to"), *problem);
    }
  }
  if (const toml::node* q = r.get("quorum")) {
    std::vector<std::string> agency_ids;
    for (const auto& a : names_.directory->agencies) agency_ids.push_back(a.id);
    if (const auto* s = q->as_string(); s != nullptr && s->get() == "statutory-partners") {
      c.quorum = names_.directory->statutory_agencies();
      if (c.quorum.empty()) r.error(*q, "no agency in directory.toml has statutory = true");
    } else if (auto list = r.strings("quorum")) {
      const toml::array* arr = q->as_array();
      for (std::size_t i = 0; i < list->size(); ++i) {
        const std::string& a = (*list)[i];
        if (names_.directory->agency(a) == nullptr) {
          r.error(arr != nullptr ? *arr->get(i) : *q, unknown("agency", a, agency_ids, "\"statutory-partners\" or "));
        }
      }
      c.quorum = *list;
    }
    if (!c.quorum.empty() && c.members.empty()) {
      r.error(*q, "a quorum needs 'members', the role held by the body's members");
    }
  }
  if (auto term = r.string("chair_term")) {
    if (*term != "financial-year") {
      r.error(*r.get("chair_term"), "'chair_term' must be \"financial-year\"");
    }
    c.chair_term = *term;
  }
  c.chair_same_partner_twice = r.boolean("chair_same_partner_twice").value_or(true);

  if (const toml::table* st = r.subtable("schedule")) {
    Reader sr(*st, f_.rel, diags_, "[schedule]");
    int kinds = 0;
    if (const toml::array* dates = sr.array("dates")) {
      ++kinds;
      for (const auto& d : *dates) {
        const auto* dv = d.as_date();
        if (dv == nullptr) {
          sr.error(d, "meeting dates must be TOML dates such as 2026-06-09 (no quotes), found " + Reader::type_name(d));
          continue;
        }
        date::year_month_day ymd{date::year{dv->get().year}, date::month{dv->get().month}, date::day{dv->get().day}};
        c.schedule.dates.push_back(Day{ymd});
      }
      std::sort(c.schedule.dates.begin(), c.schedule.dates.end());
    }
    if (auto rrule = sr.string("rrule")) {
      ++kinds;
      c.schedule.rrule = *rrule;
      if (auto problem = check_rrule(*rrule)) {
        sr.error(*sr.get("rrule"), *problem + ", e.g. \"FREQ=MONTHLY;BYMONTH=3,6,9,12;BYDAY=2TU\"");
      }
      const toml::node* from = sr.get("from");
      if (from == nullptr) {
        diags_.error(sr.pos(), "an rrule needs 'from', the first day it counts from, e.g. from = 2026-04-01");
      } else if (from->as_date() == nullptr) {
        sr.error(*from, "'from' must be a TOML date such as 2026-04-01 (no quotes), found " + Reader::type_name(*from));
      } else {
        const auto& td = from->as_date()->get();
        c.schedule.rrule_start = Day{date::year{td.year} / date::month{td.month} / date::day{td.day}};
        if (!check_rrule(*rrule) &&
            expand_rrule(*rrule, c.schedule.rrule_start, c.schedule.rrule_start,
                         c.schedule.rrule_start + date::days{3653}).empty()) {
          sr.error(*sr.get("rrule"), "the rrule gives no meeting in the ten years from " + iso(c.schedule.rrule_start));
        }
      }
    } else if (const toml::node* from = sr.get("from")) {
      sr.error(*from, "'from' belongs with an rrule");
    }
    if (auto seq = sr.string("sequenced")) {
      ++kinds;
      const toml::node& n = *sr.get("sequenced");
      auto parsed = parse_due(*seq);
      if (auto* e = std::get_if<ParseError>(&parsed)) {
        diags_.error(sr.pos_in(n, e->offset), e->message);
      } else {
        DueRule rule = std::get<DueRule>(parsed);
        std::string other = rule.anchor.name;
        if (rule.anchor.kind != AnchorKind::item_due || !rule.next_meeting_of.empty()) {
          diags_.error(sr.pos_in(n, rule.anchor.offset), "'sequenced' is a distance from another body's meetings, "
                                                         "e.g. \"3 weeks before executive\"");
        } else if (other == c.id) {
          diags_.error(sr.pos_in(n, rule.anchor.offset), "a body cannot be sequenced with itself");
        } else if (auto problem = not_a_cycle(other, c.id)) {
          diags_.error(sr.pos_in(n, rule.anchor.offset), *problem);
        } else if (rule.offset.unit == Unit::hours) {
          diags_.error(sr.pos_in(n, 0), "meetings are sequenced in days, weeks or months, not hours");
        } else {
          c.schedule.sequenced_with = other;
          c.schedule.sequenced_where = sr.pos_in(n, rule.anchor.offset);
          c.schedule.sequenced_offset = rule.offset;
          c.schedule.sequenced_direction = rule.direction;
        }
      }
    }
    if (auto roll = sr.string("on_non_working_day")) {
      if (*roll == "next working day") {
        c.schedule.on_non_working_day = Roll::next_working_day;
      } else if (*roll == "previous working day") {
        c.schedule.on_non_working_day = Roll::previous_working_day;
      } else if (*roll == "keep") {
        c.schedule.on_non_working_day = Roll::none;
      } else {
        sr.error(*sr.get("on_non_working_day"),
                 "'on_non_working_day' must be \"next working day\", \"previous working day\" or \"keep\"");
      }
    }
    if (kinds != 1) {
      diags_.error(sr.pos(), "[schedule] needs exactly one of: dates = [...], rrule = \"...\" with from = DATE, "
                             "or sequenced = \"3 weeks before CYCLE\"");
    }
    sr.finish();
  } else if (r.get("schedule") == nullptr) {
    diags_.error(r.pos(), "a meeting cycle needs a [schedule] with dates, an rrule or sequenced");
  }

  std::vector<StageNodes> nodes;
  if (const toml::array* arr = r.array("milestone")) {
    std::map<std::string, std::uint32_t> seen;
    for (const auto& item : *arr) {
      const toml::table* t = item.as_table();
      if (t == nullptr) {
        r.error(item, "each [[milestone]] must be a table");
        continue;
      }
      StageNodes n;
      if (auto s = stage(*t, true, n)) {
        if (auto first = seen.find(s->id); first != seen.end()) {
          diags_.error(s->where, "milestone '" + s->id + "' is defined twice (first at line " +
                                     std::to_string(first->second) + "); give each milestone its own id");
          continue;
        }
        seen.emplace(s->id, s->where.line);
        c.milestones.push_back(std::move(*s));
        nodes.push_back(n);
      }
    }
  }
  std::map<std::string, std::string> marked;
  for (const auto& m : c.milestones) {
    if (m.marks.empty()) continue;
    if (auto [it, fresh] = marked.emplace(m.marks, m.id); !fresh) {
      diags_.error(m.where, "milestones '" + it->second + "' and '" + m.id + "' both mark " + m.marks +
                                "; a meeting step is met by one milestone");
    }
  }
  r.finish();
  check_anchors(c.milestones, nodes, true, {});
  if (diags_.size() != before) return std::nullopt;
  return c;
}

// Sequenced cycles must not chase each other round in a loop.
void check_sequencing(const std::map<std::string, MeetingCycle>& cycles, Diagnostics& diags) {
  for (const auto& [id, c] : cycles) {
    std::vector<std::string> chain{id};
    std::string cur = c.schedule.sequenced_with;
    while (!cur.empty()) {
      auto again = std::find(chain.begin(), chain.end(), cur);
      if (again != chain.end()) {
        // Report the loop once, at the cycle with the smallest id in it.
        if (again == chain.begin() && *std::min_element(chain.begin(), chain.end()) == id) {
          std::string words;
          for (std::size_t k = 0; k < chain.size(); ++k) {
            words += "'" + chain[k] + "'" + (k == 0 ? " is sequenced with " : ", which is sequenced with ");
          }
          diags.error(c.schedule.sequenced_where,
                      "meeting cycles are sequenced with each other in a loop, so none has a date: " + words + "'" +
                          id + "'");
        }
        break;
      }
      chain.push_back(cur);
      auto it = cycles.find(cur);
      cur = it == cycles.end() ? std::string{} : it->second.schedule.sequenced_with;
    }
  }
}

}  // namespace

std::optional<ReviewDefinition> read_review_text(const Config& base, const std::string& rel, const std::string& text,
                                                 Diagnostics& diags) {
  auto parsed = parse_text(rel, text, diags);
  if (!parsed) return std::nullopt;
  const ParsedFile& f = *parsed;
  Names names;
  names.directory = &base.directory;
  for (const auto& [id, c] : base.calendars) names.calendars.insert(id);
  for (const auto& [id, d] : base.reviews) names.workflow_kinds.emplace(id, "review");
  for (const auto& [id, c] : base.cycles) names.workflow_kinds.emplace(id, "meeting-cycle");
  names.workflow_kinds.emplace(stem(rel), "review");
  WorkflowReader reader(f, names, diags);
  return reader.review();
}

LoadResult load_config(const fs::path& dir) {
  LoadResult result;
  Diagnostics& diags = result.diagnostics;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    diags.error({"", 0, 0}, "is not a configuration directory (expected docketd.toml, directory.toml, calendars/ "
                            "and workflows/ in it)");
    return result;
  }
  auto config = std::make_shared<Config>();
  config->dir = dir;
  std::vector<const ParsedFile*> all;

  auto settings = parse_file(dir, "docketd.toml", diags);
  if (settings) config->daemon = read_settings(*settings, dir, diags);

  auto directory = parse_file(dir, "directory.toml", diags);
  if (directory) config->directory = read_directory(*directory, diags);
  if (settings && directory && !config->daemon.audit.recipient.empty() &&
      config->directory.person(config->daemon.audit.recipient) == nullptr) {
    const toml::node* n = settings->table.at_path("audit.recipient").node();
    std::vector<std::string> people;
    for (const auto& p : config->directory.people) people.push_back(p.id);
    diags.error({"docketd.toml", n->source().begin.line, n->source().begin.column},
                "[audit] recipient: " + unknown("person", config->daemon.audit.recipient, people) +
                    "; the recipient of the signed audit heads is a person of directory.toml");
  }

  std::vector<ParsedFile> calendars;
  for (const auto& rel : toml_files_in(dir, "calendars")) {
    if (auto f = parse_file(dir, rel, diags)) calendars.push_back(std::move(*f));
  }
  Names names;
  names.directory = &config->directory;
  for (const auto& f : calendars) {
    names.calendars.insert(stem(f.rel));
    if (auto cal = read_calendar(f, diags)) config->calendars.emplace(cal->id(), std::move(*cal));
  }
  if (calendars.empty()) diags.error({"calendars", 0, 0}, "no calendar files found; expected calendars/england-and-wales.toml");
  std::vector<std::string> calendar_ids(names.calendars.begin(), names.calendars.end());
  if (settings && names.calendars.count(config->daemon.calendar) == 0) {
    const toml::node* n = settings->table.at_path("daemon.calendar").node();
    SourcePos p{"docketd.toml", 0, 0};
    if (n != nullptr) p = {"docketd.toml", n->source().begin.line, n->source().begin.column};
    diags.error(p, unknown("calendar", config->daemon.calendar, calendar_ids) + "; calendars are the files in calendars/");
  }

  std::vector<ParsedFile> workflows;
  for (const auto& rel : toml_files_in(dir, "workflows")) {
    if (auto f = parse_file(dir, rel, diags)) workflows.push_back(std::move(*f));
  }
  if (workflows.empty() && toml_files_in(dir, "workflows").empty()) {
    diags.error({"workflows", 0, 0}, "no workflow definitions found; expected files such as workflows/rapid-review.toml");
  }
  std::vector<std::string> kinds_of_file;
  for (const auto& f : workflows) {
    const toml::node* k = f.table.get("kind");
    std::string kind = (k != nullptr && k->as_string() != nullptr) ? k->as_string()->get() : "";
    if (kind != "review" && kind != "meeting-cycle") {
      SourcePos p{f.rel, 1, 1};
      if (k != nullptr) p = {f.rel, k->source().begin.line, k->source().begin.column};
      diags.error(p, k == nullptr ? "the file has no 'kind', expected kind = \"review\" or kind = \"meeting-cycle\""
                                  : "'kind' must be \"review\" or \"meeting-cycle\", found " +
                                        (k->as_string() != nullptr ? "\"" + kind + "\"" + did_you_mean(kind, {"review", "meeting-cycle"})
                                                                   : Reader::type_name(*k)));
    }
    kinds_of_file.push_back(kind);
    if (!kind.empty()) names.workflow_kinds.emplace(stem(f.rel), kind);
  }
  const bool default_used = std::any_of(workflows.begin(), workflows.end(),
                                        [](const ParsedFile& f) { return f.table.get("calendar") == nullptr; });
  if (default_used && !calendars.empty() && names.calendars.count("england-and-wales") == 0) {
    diags.error({"calendars", 0, 0}, "the default calendar 'england-and-wales' is missing: every workflow without "
                                     "calendar = \"...\" uses it; expected calendars/england-and-wales.toml");
  }
  if (directory) {
    for (std::size_t i = 0; i < workflows.size(); ++i) {
      WorkflowReader reader(workflows[i], names, diags);
      if (kinds_of_file[i] == "review") {
        if (auto def = reader.review()) config->reviews.emplace(def->id, std::move(*def));
      } else if (kinds_of_file[i] == "meeting-cycle") {
        if (auto c = reader.cycle()) config->cycles.emplace(c->id, std::move(*c));
      }
    }
  }
  check_sequencing(config->cycles, diags);

  // The hash covers every file in a stable order, so the same configuration
  // always hashes the same wherever it was loaded from.
  std::string all_text;
  for (const auto* f : {settings ? &*settings : nullptr, directory ? &*directory : nullptr}) {
    if (f != nullptr) all_text += f->rel + '\0' + f->text + '\0';
  }
  for (const auto& f : calendars) all_text += f.rel + '\0' + f.text + '\0';
  for (const auto& f : workflows) all_text += f.rel + '\0' + f.text + '\0';
  config->hash = sha256_hex(all_text);
  // Moved, not copied: a copied toml++ node forgets its source position.
  if (settings) config->daemon.document = std::make_shared<const toml::table>(std::move(settings->table));

  if (diags.empty()) check_dates_before_start(*config, diags);
  if (diags.empty()) result.config = std::move(config);
  return result;
}

}  // namespace docket::workflows
