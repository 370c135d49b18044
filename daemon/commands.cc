// The command table's entries: every command docketd answers, one entry each
// with its handler. The entries read as the spec (command_table.h says what
// each field means); the handlers below them only unpack checked arguments
// and call the engine.

#include "daemon/commands.h"

#include "daemon/build_info.h"

// Entries name only the fields they set (designated initializers); GCC 12
// warns of the others, which keep their defaults by design.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace docket::daemon {

using nlohmann::json;

namespace {

using Type = Arg::Type;
using Form = Arg::Form;
using Rule = Access::Rule;

// --- roles -------------------------------------------------------------------

const std::vector<std::string> kManagers{"administrator", "business-manager"};
const std::vector<std::string> kTeam{"administrator", "business-manager", "partnership-team"};
const std::vector<std::string> kChairs{"administrator", "business-manager", "executive-chair", "independent-chair"};

// --- arguments shared by several commands ------------------------------------

Arg ref_arg() {
  return {.name = "ref", .type = Type::reference, .required = true, .help = "The review's reference",
          .form = Form::positional};
}
Arg stage_arg() { return {.name = "stage", .required = true, .help = "The stage id", .form = Form::positional}; }
Arg reason_arg(const char* help) { return {.name = "reason", .type = Type::reason, .required = true, .help = help}; }
Arg body_arg(bool required = true) {
  return {.name = "body", .required = required, .help = "The body (meeting cycle id), e.g. executive",
          .form = Form::positional};
}
Arg meeting_date_arg() {
  return {.name = "date", .required = true, .help = "The meeting's date (YYYY-MM-DD)", .form = Form::positional,
          .metavar = "DATE"};
}

// --- handlers ------------------------------------------------------------------

Result start(const Command&, Services& s, const Caller& who, const Args& a, bool, store::Batch& b) {
  StartArgs st;
  st.workflow = a.text("workflow");
  st.ref = a.text("ref");
  st.on = a.text("on");
  st.title = a.text("title");
  st.assign = a.pairs("assign");
  st.dates = a.pairs("dates");
  return s.engine.start(who, st, b);
}

// Access::Rule::stage_owner: a caller without the roles may complete the
// stage they own.
Result complete(const Command& c, Services& s, const Caller& who, const Args& a, bool by_role, store::Batch& b) {
  const std::string ref = a.text("ref"), stage = a.text("stage");
  if (auto owner = by_role ? std::nullopt : s.engine.stage_owner(who, ref, stage); owner && !owner->is_caller) {
    return Result::fail(c.access.refused("complete stage '" + stage + "' of " + ref,
                                         owner->role.empty() ? "" : "its owner (" + owner->role + ")"));
  }
  return s.engine.complete(who, a.text("ref"), a.text("stage"), a.text("outcome"), a.text("on"), b);
}

Result pause(const Command&, Services& s, const Caller& who, const Args& a, bool, store::Batch& b) {
  return s.engine.pause(who, a.text("ref"), a.text("reason"), b);
}

Result resume(const Command&, Services& s, const Caller& who, const Args& a, bool, store::Batch& b) {
  return s.engine.resume(who, a.text("ref"), b);
}

Result extend(const Command&, Services& s, const Caller& who, const Args& a, bool, store::Batch& b) {
  return s.engine.extend(who, a.text("ref"), a.text("stage"), a.text("to"), a.text("reason"), b);
}

Result waive(const Command&, Services& s, const Caller& who, const Args& a, bool, store::Batch& b) {
  return s.engine.waive(who, a.text("ref"), a.text("stage"), a.text("reason"), b);
}

Result cancel(const Command&, Services& s, const Caller& who, const Args& a, bool, store::Batch& b) {
  return s.engine.cancel(who, a.text("ref"), a.text("reason"), b);
}

Result status(const Command&, Services& s, const Caller&, const Args& a, bool, store::Batch&) {
  return s.engine.status(a.text("ref"));
}

Result overdue(const Command&, Services& s, const Caller&, const Args&, bool, store::Batch&) {
  return s.engine.overdue();
}

Result upcoming(const Command&, Services& s, const Caller&, const Args& a, bool, store::Batch&) {
  return s.engine.upcoming(static_cast<int>(a.integer("days", 14)));
}

// Access::Rule::meeting_runner: a caller without the roles may record the
// steps of a meeting whose body they chair or are the secretariat of.
std::optional<Result> not_the_runner(const Command& c, Services& s, const Caller& who, const Args& a, bool by_role) {
  if (by_role) return std::nullopt;
  auto runner = s.engine.meeting_runner(who, a.text("body"), a.text("date"));
  if (!runner || runner->is_caller) return std::nullopt;
  return Result::fail(c.access.refused("record " + runner->meeting, "its chair or secretariat"));
}

Result meeting_list(const Command&, Services& s, const Caller&, const Args& a, bool, store::Batch&) {
  return s.engine.meeting_list(a.text("body"));
}

Result meeting_papers(const Command& c, Services& s, const Caller& who, const Args& a, bool by_role, store::Batch& b) {
  if (auto refused = not_the_runner(c, s, who, a, by_role)) return *refused;
  return s.engine.meeting_papers(who, a.text("body"), a.text("date"), b);
}

Result meeting_held(const Command& c, Services& s, const Caller& who, const Args& a, bool by_role, store::Batch& b) {
  if (auto refused = not_the_runner(c, s, who, a, by_role)) return *refused;
  const auto attended = a.list("attended");
  if (attended.empty()) return Result::fail("a held meeting needs --attended PERSON... (who was there)");
  return s.engine.meeting_held(who, a.text("body"), a.text("date"), attended, b);
}

Result meeting_notes(const Command& c, Services& s, const Caller& who, const Args& a, bool by_role, store::Batch& b) {
  if (auto refused = not_the_runner(c, s, who, a, by_role)) return *refused;
  return s.engine.meeting_notes(who, a.text("body"), a.text("date"), b);
}

// Access::Rule::amend_own: anyone may ask to amend the notes for
// themselves; only the meeting's runner records it for someone else.
Result meeting_amend(const Command& c, Services& s, const Caller& who, const Args& a, bool by_role, store::Batch& b) {
  if (who.person != a.text("by") && not_the_runner(c, s, who, a, by_role)) {
    return Result::fail("you may ask for amendments only for yourself; the secretariat may record them for others");
  }
  return s.engine.meeting_amend(who, a.text("body"), a.text("date"), a.text("by"), b);
}

Result meeting_approve(const Command& c, Services& s, const Caller& who, const Args& a, bool by_role, store::Batch& b) {
  if (auto refused = not_the_runner(c, s, who, a, by_role)) return *refused;
  return s.engine.meeting_approve(who, a.text("body"), a.text("date"), b);
}

Result meeting_move(const Command& c, Services& s, const Caller& who, const Args& a, bool by_role, store::Batch& b) {
  if (auto refused = not_the_runner(c, s, who, a, by_role)) return *refused;
  return s.engine.meeting_move(who, a.text("body"), a.text("date"), a.text("to"), a.text("reason"), b);
}

Result chair_appoint(const Command&, Services& s, const Caller& who, const Args& a, bool, store::Batch& b) {
  return s.engine.chair_appoint(who, a.text("body"), a.text("person"), a.text("year"), b);
}

Result reload(const Command&, Services& s, const Caller& who, const Args&, bool, store::Batch& b) {
  if (!s.reload) return Result::fail("this daemon cannot reload");
  return s.reload(who, b);
}

Result outbox_retry(const Command&, Services& s, const Caller& who, const Args& a, bool, store::Batch& b) {
  if (!s.retry_outbox) return Result::fail("this daemon delivers nothing");
  return s.retry_outbox(who, a.integer("id", 0), b);
}

Result clock(const Command& c, Services& s, const Caller& who, const Args& a, bool by_role, store::Batch& b) {
  const Instant from = s.clock.now();
  if (!a.has("advance")) return Result{true, "", clock_json(s.engine, from, s.clock.mode())};
  if (s.virtual_clock == nullptr) {
    return Result::fail("the clock can be advanced only on a rehearsal daemon started with --virtual-clock; this "
                        "one runs on the system clock");
  }
  if (!by_role) return Result::fail(c.access.refused());
  const std::string advance = a.text("advance");
  auto step = parse_advance(advance);
  if (!step) {
    return Result::fail("clock advance takes an amount such as 30m, 12h, 3d or 2w, up to " +
                        std::to_string(kMaxAdvance.count()) + " days at a time, found '" + advance + "'");
  }
  const Instant target = from + *step;
  if (s.advance_later) return s.advance_later(who, from, target);
  advance_to(s.engine, *s.virtual_clock, target, b);
  return advance_recorded(s.engine, who, from, target, target, b);
}

Result version(const Command&, Services&, const Caller&, const Args&, bool, store::Batch&) {
  return Result{true, "", {{"version", kVersion}, {"commit", kCommit}}};
}

// --- the table -------------------------------------------------------------------

CommandTable make_table() {
  CommandTable t;
  t.add({.name = "start",
         .words = {"start"},
         .help = "Start a review: docket start rapid-review --ref RR-2026-014",
         .args = {{.name = "workflow", .required = true, .help = "The review type, e.g. rapid-review",
                   .form = Form::positional},
                  {.name = "ref", .type = Type::new_reference, .required = true,
                   .help = "The case reference (no names)"},
                  {.name = "on", .help = "The day it started (YYYY-MM-DD, or YYYY-MM-DDTHH:MM); default now",
                   .metavar = "DATE"},
                  {.name = "title", .type = Type::title, .help = "A short title that identifies no one"},
                  {.name = "assign", .type = Type::pairs, .help = "ROLE=PERSON for a per-review role (repeatable)",
                   .metavar = "ROLE=PERSON"},
                  {.name = "dates", .type = Type::pairs, .help = "NAME=YYYY-MM-DD for a date the review type asks for",
                   .flag = "--date", .metavar = "NAME=DATE"}},
         .access = {.roles = {"administrator", "business-manager", "partnership-team", "la-safeguarding-lead",
                              "sab-business-unit", "csp-chair", "cdop-coordinator"},
                    .refusal = "start reviews"},
         .writes = true,
         .run = start});
  t.add({.name = "complete",
         .words = {"complete"},
         .help = "Record that a stage is done: docket complete REF STAGE",
         .args = {ref_arg(), stage_arg(),
                  {.name = "outcome", .help = "The outcome, for stages that have outcomes"},
                  {.name = "on", .help = "The day it was done (default today)", .metavar = "DATE"}},
         .access = {.roles = kTeam, .rule = Rule::stage_owner, .refusal = "complete stages"},
         .writes = true,
         .run = complete});
  t.add({.name = "pause",
         .words = {"pause"},
         .help = "Stop a review's clock, e.g. for criminal proceedings",
         .args = {ref_arg(), reason_arg("Why the clock stops")},
         .access = {.roles = kChairs, .refusal = "pause reviews"},
         .writes = true,
         .run = pause});
  t.add({.name = "resume",
         .words = {"resume"},
         .help = "Restart a paused review's clock with the days already run",
         .args = {ref_arg()},
         .access = {.roles = kChairs, .refusal = "resume reviews"},
         .writes = true,
         .run = resume});
  t.add({.name = "extend",
         .words = {"extend"},
         .help = "Move a deadline later, with a reason",
         .args = {ref_arg(), stage_arg(),
                  {.name = "to", .required = true, .help = "The new due date (YYYY-MM-DD)", .metavar = "DATE"},
                  reason_arg("Why, and who approved it")},
         .access = {.roles = {"business-manager", "executive-chair", "independent-chair", "rlt-children-chair",
                              "rlt-adults-chair", "csp-chair", "sar-panel-chair"},
                    .refusal = "extend deadlines"},
         .writes = true,
         .run = extend});
  t.add({.name = "waive",
         .words = {"waive"},
         .help = "Waive a stage, with a reason",
         .args = {ref_arg(), stage_arg(), reason_arg("Why the stage is waived")},
         .access = {.roles = kManagers, .refusal = "waive stages"},
         .writes = true,
         .run = waive});
  t.add({.name = "cancel",
         .words = {"cancel"},
         .help = "Cancel a review, with a reason",
         .args = {ref_arg(), reason_arg("Why the review is cancelled")},
         .access = {.roles = kChairs, .refusal = "cancel reviews"},
         .writes = true,
         .run = cancel});
  t.add({.name = "status",
         .words = {"status"},
         .help = "Show one review, or every open review",
         .args = {{.name = "ref", .type = Type::reference, .help = "A review's reference", .form = Form::positional}},
         .run = status});
  t.add({.name = "overdue", .words = {"overdue"}, .help = "List every overdue deadline", .run = overdue});
  t.add({.name = "upcoming",
         .words = {"upcoming"},
         .help = "List deadlines falling due soon",
         .args = {{.name = "days", .type = Type::integer, .help = "How many days ahead (default 14)", .min = 0,
                   .max = 3660}},
         .run = upcoming});
  t.add({.name = "clock",
         .words = {"clock"},
         .help = "Show the daemon's clock; on a rehearsal daemon, `clock advance 3d`",
         .args = {{.name = "advance", .help = "advance AMOUNT (30m, 12h, 3d, 2w)", .form = Form::keyword,
                   .metavar = "AMOUNT", .example = "3d"}},
         .access = {.roles = kManagers, .rule = Rule::anyone_to_read, .refusal = "advance the clock"},
         .writes = true,
         .run = clock});
  t.add({.name = "reload",
         .words = {"reload"},
         .help = "Load and check the configuration again; swap it in only if it is valid",
         .access = {.roles = kManagers, .refusal = "reload the configuration"},
         .writes = true,
         .run = reload});
  t.add({.name = "outbox-retry",
         .words = {"outbox", "retry"},
         .help = "Queue a dead letter again (through docketd)",
         .args = {{.name = "id", .type = Type::integer, .required = true,
                   .help = "The message's ID, as `docket outbox --failed` lists it", .form = Form::positional,
                   .min = 1, .max = INT64_MAX}},
         .access = {.roles = kManagers, .refusal = "retry messages"},
         .writes = true,
         .run = outbox_retry});
  const Access meeting_access{.roles = kTeam, .rule = Rule::meeting_runner, .refusal = "record meetings"};
  t.add({.name = "meeting-list",
         .words = {"meeting", "list"},
         .help = "The meetings of this and next financial year, with their milestones",
         .args = {body_arg(false)},
         .run = meeting_list});
  t.add({.name = "meeting-papers",
         .words = {"meeting", "papers"},
         .help = "Record that the papers are published",
         .args = {body_arg(), meeting_date_arg()},
         .access = meeting_access,
         .writes = true,
         .run = meeting_papers});
  t.add({.name = "meeting-held",
         .words = {"meeting", "held"},
         .help = "Record that the meeting was held, and who attended (quorum is checked)",
         .args = {body_arg(), meeting_date_arg(),
                  {.name = "attended", .type = Type::list, .required = true, .help = "Person ids of those present",
                   .metavar = "PERSON"}},
         .access = meeting_access,
         .writes = true,
         .run = meeting_held});
  t.add({.name = "meeting-notes",
         .words = {"meeting", "notes"},
         .help = "Record that the draft action notes are published",
         .args = {body_arg(), meeting_date_arg()},
         .access = meeting_access,
         .writes = true,
         .run = meeting_notes});
  t.add({.name = "meeting-amend",
         .words = {"meeting", "amend"},
         .help = "Record a member's request to amend the draft notes",
         .args = {body_arg(), meeting_date_arg(),
                  {.name = "by", .required = true, .help = "The member asking (person id)"}},
         .access = {.roles = kTeam, .rule = Rule::amend_own, .refusal = "record amendments"},
         .writes = true,
         .run = meeting_amend});
  t.add({.name = "meeting-approve",
         .words = {"meeting", "approve"},
         .help = "Record that the notes stand as the record",
         .args = {body_arg(), meeting_date_arg()},
         .access = meeting_access,
         .writes = true,
         .run = meeting_approve});
  t.add({.name = "meeting-move",
         .words = {"meeting", "move"},
         .help = "Move the meeting to another day",
         .args = {body_arg(), meeting_date_arg(),
                  {.name = "to", .required = true, .help = "The new date (YYYY-MM-DD)", .metavar = "DATE"},
                  reason_arg("Why it moves")},
         .access = meeting_access,
         .writes = true,
         .run = meeting_move});
  t.add({.name = "chair-appoint",
         .words = {"chair", "appoint"},
         .help = "Appoint a body's chair for a financial year",
         .args = {body_arg(),
                  {.name = "person", .required = true, .help = "The person appointed (person id)"},
                  {.name = "year", .required = true, .help = "The financial year, e.g. 2026/27", .metavar = "YYYY/YY"}},
         .access = {.roles = kManagers, .refusal = "record chair appointments"},
         .writes = true,
         .run = chair_appoint});
  t.add({.name = "version",
         .words = {"version"},
         .help = "Show docketd's version and the git commit it was built from",
         .run = version});
  return t;
}

}  // namespace

const CommandTable& command_table() {
  static const CommandTable table = make_table();
  return table;
}

}  // namespace docket::daemon
