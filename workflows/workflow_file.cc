// workflows/*.toml: a review type or a meeting cycle, one per file
// (definition.h). This file reads what belongs to the file as a whole (its
// kind, id and calendar, a review's assigned roles and supplied dates, a
// cycle's roles, quorum and schedule) and the list of stages or milestones;
// stage_file.cc reads each stage and anchor_checks.cc checks them together.

#include <algorithm>
#include <map>

#include "workflows/digest.h"
#include "workflows/recurrence.h"
#include "workflows/workflow_reader.h"

namespace docket::workflows::detail {
namespace fs = std::filesystem;

std::vector<std::string> Names::workflows(const std::string& kind) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : workflow_kinds) {
    if (kind.empty() || v == kind) out.push_back(k);
  }
  return out;
}

std::string read_kind(const ParsedFile& f, Diagnostics& diags) {
  const toml::node* k = f.table.get("kind");
  std::string kind = (k != nullptr && k->as_string() != nullptr) ? k->as_string()->get() : "";
  if (kind == "review" || kind == "meeting-cycle") return kind;
  if (k == nullptr) {
    diags.error({f.rel, 1, 1}, "the file has no 'kind', expected kind = \"review\" or kind = \"meeting-cycle\"");
  } else {
    diags.error(position(f.rel, *k), "'kind' must be \"review\" or \"meeting-cycle\", found " +
                                         (k->as_string() != nullptr
                                              ? "\"" + kind + "\"" + did_you_mean(kind, {"review", "meeting-cycle"})
                                              : Reader::type_name(*k)));
  }
  return kind;
}

WorkflowReader::WorkflowReader(const ParsedFile& f, const Names& names, Diagnostics& diags)
    : f_(f), names_(names), diags_(diags) {
  for (const auto& r : names.directory->roles) role_ids_.push_back(r.id);
}

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

void WorkflowReader::check_roles(Reader& r, std::string_view key, const std::vector<std::string>& roles) {
  const toml::node* n = r.get(key);
  if (n == nullptr) return;
  const toml::array* arr = n->as_array();
  for (std::size_t i = 0; i < roles.size(); ++i) {
    check_role(r, arr != nullptr && arr->get(i) != nullptr ? *arr->get(i) : *n, roles[i]);
  }
}

std::optional<std::string> WorkflowReader::not_a_cycle(const std::string& id, const std::string& self) const {
  auto kind = names_.workflow_kinds.find(id);
  if (kind == names_.workflow_kinds.end()) {
    auto cycles = names_.workflows("meeting-cycle");
    cycles.erase(std::remove(cycles.begin(), cycles.end(), self), cycles.end());
    return unknown("meeting cycle", id, cycles);
  }
  if (kind->second != "meeting-cycle") return "'" + id + "' is a review type, not a meeting cycle";
  return std::nullopt;
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

void WorkflowReader::read_stages(Reader& r, bool milestones, std::vector<Stage>& out, std::vector<StageNodes>& nodes) {
  const std::string noun = milestones ? "milestone" : "stage";
  std::map<std::string, std::uint32_t> seen;
  r.tables(noun, "each [[" + noun + "]] must be a table", [&](const toml::table& t) {
    StageNodes n;
    auto s = read_stage(*this, t, milestones, n);
    if (!s) return;
    if (auto first = seen.find(s->id); first != seen.end()) {
      diags_.error(s->where, noun + " '" + s->id + "' is defined twice (first at line " +
                                 std::to_string(first->second) + "); give each " + noun + " its own id");
      return;
    }
    seen.emplace(s->id, s->where.line);
    out.push_back(std::move(*s));
    nodes.push_back(n);
  });
}

// --- a review type --------------------------------------------------------

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
  read_assign(r, def);
  if (auto notify = r.strings("pause_notify")) {
    check_roles(r, "pause_notify", *notify);
    def.pause_notify = *notify;
    if (!def.pausable) r.error(*r.get("pause_notify"), "'pause_notify' needs pausable = true");
  }
  read_supplied_dates(r, def);
  std::vector<StageNodes> nodes;
  read_stages(r, false, def.stages, nodes);
  if (r.get("stage") == nullptr) diags_.error(r.pos(), "a review needs at least one [[stage]] with an id and a due rule");
  r.finish();
  check_anchors(*this, def.stages, nodes, false, def.dates);
  if (diags_.size() != before) return std::nullopt;
  return def;
}

// assign = [...]: the per-review roles given people when a review starts.
void WorkflowReader::read_assign(Reader& r, ReviewDefinition& def) {
  auto assign = r.strings("assign");
  if (!assign) return;
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

// [dates]: the dates asked for when a review starts, NAME = "description".
void WorkflowReader::read_supplied_dates(Reader& r, ReviewDefinition& def) {
  const toml::table* dates = r.subtable("dates");
  if (dates == nullptr) return;
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

// --- a meeting cycle ------------------------------------------------------

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
  read_cycle_roles(r, c);
  read_quorum(r, c);
  if (auto term = r.string("chair_term")) {
    if (*term != "financial-year") {
      r.error(*r.get("chair_term"), "'chair_term' must be \"financial-year\"");
    }
    c.chair_term = *term;
  }
  c.chair_same_partner_twice = r.boolean("chair_same_partner_twice").value_or(true);
  read_schedule(r, c);
  std::vector<StageNodes> nodes;
  read_stages(r, true, c.milestones, nodes);
  std::map<std::string, std::string> marked;
  for (const auto& m : c.milestones) {
    if (m.marks.empty()) continue;
    if (auto [it, fresh] = marked.emplace(m.marks, m.id); !fresh) {
      diags_.error(m.where, "milestones '" + it->second + "' and '" + m.id + "' both mark " + m.marks +
                                "; a meeting step is met by one milestone");
    }
  }
  r.finish();
  check_anchors(*this, c.milestones, nodes, true, {});
  if (diags_.size() != before) return std::nullopt;
  return c;
}

// chair, secretariat and members (roles), and reports_to (another cycle).
void WorkflowReader::read_cycle_roles(Reader& r, MeetingCycle& c) {
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
}

// quorum = "statutory-partners" or a list of agencies.
void WorkflowReader::read_quorum(Reader& r, MeetingCycle& c) {
  const toml::node* q = r.get("quorum");
  if (q == nullptr) return;
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

// [schedule]: exactly one of dates, an rrule from a day, or a distance from
// another cycle's meetings; and what a meeting on a non-working day does.
void WorkflowReader::read_schedule(Reader& r, MeetingCycle& c) {
  const toml::table* st = r.subtable("schedule");
  if (st == nullptr) {
    if (r.get("schedule") == nullptr) diags_.error(r.pos(), "a meeting cycle needs a [schedule] with dates, an rrule or sequenced");
    return;
  }
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
  if (read_rrule(sr, c)) ++kinds;
  if (read_sequenced(sr, c)) ++kinds;
  if (auto roll = sr.string("on_non_working_day")) {
    if (auto v = lookup<Roll>(*roll, {{"next working day", Roll::next_working_day},
                                      {"previous working day", Roll::previous_working_day},
                                      {"keep", Roll::none}})) {
      c.schedule.on_non_working_day = *v;
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
}

// rrule = "..." with from = DATE; false when there is no rrule.
bool WorkflowReader::read_rrule(Reader& sr, MeetingCycle& c) {
  auto rrule = sr.string("rrule");
  if (!rrule) {
    if (const toml::node* from = sr.get("from")) sr.error(*from, "'from' belongs with an rrule");
    return false;
  }
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
        expand_rrule(*rrule, c.schedule.rrule_start, c.schedule.rrule_start, c.schedule.rrule_start + date::days{3653})
            .empty()) {
      sr.error(*sr.get("rrule"), "the rrule gives no meeting in the ten years from " + iso(c.schedule.rrule_start));
    }
  }
  return true;
}

// sequenced = "3 weeks before CYCLE": a fixed distance from each meeting of
// another cycle; false when there is none.
bool WorkflowReader::read_sequenced(Reader& sr, MeetingCycle& c) {
  auto seq = sr.string("sequenced");
  if (!seq) return false;
  const toml::node& n = *sr.get("sequenced");
  auto parsed = parse_due(*seq);
  if (auto* e = std::get_if<ParseError>(&parsed)) {
    diags_.error(sr.pos_in(n, e->offset), e->message);
    return true;
  }
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
  return true;
}

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

std::optional<ReviewDefinition> read_review(const ParsedFile& f, const Names& names, Diagnostics& diags) {
  return WorkflowReader(f, names, diags).review();
}

std::optional<MeetingCycle> read_cycle(const ParsedFile& f, const Names& names, Diagnostics& diags) {
  return WorkflowReader(f, names, diags).cycle();
}

}  // namespace docket::workflows::detail
