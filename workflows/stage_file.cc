// One [[stage]] of a review type or [[milestone]] of a meeting cycle: its
// deadline and roll, how firm its limit is, its reminders and escalation
// ladder, and (stages) its outcomes and when it opens, (milestones) the
// meeting step it marks.

#include <algorithm>

#include "workflows/workflow_reader.h"

namespace docket::workflows::detail {

namespace {

class StageReader {
 public:
  StageReader(WorkflowReader& w, const toml::table& t, bool milestone, StageNodes& nodes);
  std::optional<Stage> read();

 private:
  void read_due();
  void read_limit();
  void read_reminders();
  std::optional<Reminder> read_reminder(const toml::node& item);
  void read_escalations();
  std::optional<EscalationRung> read_rung(const toml::table& et, double& previous);
  void read_marks();
  void read_outcomes();
  void read_opening();

  WorkflowReader& w_;
  const std::string noun_;  // "stage" or "milestone"
  const bool milestone_;
  const std::string id_;
  Reader r_;
  StageNodes& nodes_;
  Stage s_;
};

std::string read_id(WorkflowReader& w, const toml::table& t, const std::string& noun) {
  Reader probe(t, w.file().rel, w.diags(), "a " + noun);
  return probe.id("id").value_or("");
}

StageReader::StageReader(WorkflowReader& w, const toml::table& t, bool milestone, StageNodes& nodes)
    : w_(w),
      noun_(milestone ? "milestone" : "stage"),
      milestone_(milestone),
      id_(read_id(w, t, noun_)),
      r_(t, w.file().rel, w.diags(), id_.empty() ? "a " + noun_ : noun_ + " '" + id_ + "'"),
      nodes_(nodes) {}

std::optional<Stage> StageReader::read() {
  r_.known({"id"});
  s_.id = id_;
  s_.where = r_.pos();
  nodes_.where = s_.where;
  s_.title = r_.string("title").value_or(id_);
  if (auto owner = r_.string("owner")) {
    s_.owner = *owner;
    w_.check_role(r_, *r_.get("owner"), *owner);
  }
  read_due();
  read_limit();
  read_reminders();
  read_escalations();
  if (milestone_) {
    read_marks();
  } else {
    read_outcomes();
    read_opening();
  }
  r_.finish();
  if (id_.empty() || nodes_.due == nullptr) return std::nullopt;
  return std::move(s_);
}

void StageReader::read_due() {
  if (auto due = r_.due("due")) {
    s_.due = *due;
    s_.due_text = r_.get("due")->as_string()->get();
    nodes_.due = r_.get("due");
    s_.due_where = r_.pos(*nodes_.due);
    s_.due_anchor_where = r_.pos_in(*nodes_.due, s_.due.anchor.offset);
  }
  auto roll = r_.string("roll");
  if (!roll) return;
  if (auto v = lookup<Roll>(*roll, {{"next working day", Roll::next_working_day},
                                    {"previous working day", Roll::previous_working_day},
                                    {"none", Roll::none}})) {
    s_.roll = *v;
  } else {
    r_.error(*r_.get("roll"), "'roll' must be \"next working day\", \"previous working day\" or \"none\", found \"" +
                                  *roll + "\"");
  }
  if (s_.roll != Roll::none && nodes_.due != nullptr && s_.due.next_meeting_of.empty() &&
      s_.due.offset.unit == Unit::hours) {
    r_.error(*r_.get("roll"), "a deadline counted in clock hours keeps its time; remove 'roll'");
  }
}

void StageReader::read_limit() {
  auto limit = r_.string("limit");
  if (!limit) return;
  if (auto v = lookup<Limit>(*limit, {{"statutory", Limit::statutory}, {"local", Limit::local}, {"soft", Limit::soft}})) {
    s_.limit = *v;
  } else {
    r_.error(*r_.get("limit"), "'limit' must be \"statutory\", \"local\" or \"soft\", found \"" + *limit + "\"");
  }
}

void StageReader::read_reminders() {
  const toml::node* rem = r_.get("reminders");
  if (rem == nullptr) return;
  const toml::array* arr = rem->as_array();
  if (arr == nullptr) {
    r_.error(*rem, "'reminders' must be a list such as [\"5 working days\", \"2 working days\"]");
    return;
  }
  for (const auto& item : *arr) {
    if (auto reminder = read_reminder(item)) s_.reminders.push_back(std::move(*reminder));
  }
  std::stable_sort(s_.reminders.begin(), s_.reminders.end(), [](const Reminder& a, const Reminder& b) {
    return approximate_days(a.before) > approximate_days(b.before);
  });
}

// "2 working days", or { before = "...", to = [...] }.
std::optional<Reminder> StageReader::read_reminder(const toml::node& item) {
  Reminder reminder;
  if (const auto* text = item.as_string()) {
    auto d = parse_duration(text->get());
    if (auto* e = std::get_if<ParseError>(&d)) {
      w_.diags().error(r_.pos_in(item, e->offset), e->message);
      return std::nullopt;
    }
    reminder.before = std::get<Duration>(d);
    if (reminder.before.count == 0) {
      r_.error(item, "a reminder must come at least 1 " + to_string(Duration{1, reminder.before.unit}).substr(2) +
                         " before the deadline");
      return std::nullopt;
    }
  } else if (const auto* rt = item.as_table()) {
    Reader rr(*rt, w_.file().rel, w_.diags(), "a reminder of " + noun_ + " '" + id_ + "'");
    auto before = rr.duration("before", true);
    auto to = rr.strings("to");
    if (to) w_.check_roles(rr, "to", *to);
    rr.finish();
    if (!before) return std::nullopt;
    reminder.before = *before;
    reminder.to = to.value_or(std::vector<std::string>{});
  } else {
    r_.error(item, "each reminder is a duration such as \"2 working days\", or { before = \"...\", to = [...] }");
    return std::nullopt;
  }
  if (reminder.to.empty() && s_.owner.empty()) {
    r_.error(item, noun_ + " '" + id_ + "' has reminders but no 'owner' to send them to; add owner = \"ROLE\" "
                   "or give the reminder its own to = [...]");
  }
  return reminder;
}

void StageReader::read_escalations() {
  double previous = 0;
  r_.tables("escalation", "each escalation rung is a table: { after = \"1 working day\", to = [\"ROLE\"] }",
            [&](const toml::table& t) {
              if (auto rung = read_rung(t, previous)) s_.escalations.push_back(std::move(*rung));
            });
  if (s_.limit == Limit::soft && !s_.escalations.empty()) {
    r_.error(*r_.get("escalation"), noun_ + " '" + id_ + "' has no fixed limit (limit = \"soft\"), so it cannot be "
                                    "escalated; remove the escalation rungs or set limit = \"local\"");
  }
}

// { after = "1 working day", to = ["ROLE"], repeat = ... }, later than the
// rung before it (`previous` days overdue, updated).
std::optional<EscalationRung> StageReader::read_rung(const toml::table& et, double& previous) {
  Reader er(et, w_.file().rel, w_.diags(), "an escalation rung of " + noun_ + " '" + id_ + "'");
  EscalationRung rung;
  auto after = er.duration("after", true);
  auto to = er.strings("to");
  if (!to) {
    if (er.get("to") == nullptr) er.error(et, "an escalation rung has no 'to', expected e.g. to = [\"business-manager\"]");
  } else {
    if (to->empty()) er.error(*er.get("to"), "'to' must name at least one role");
    w_.check_roles(er, "to", *to);
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
  if (!after) return std::nullopt;
  rung.after = *after;
  double days = approximate_days(rung.after);
  if (days <= previous) {
    er.error(*er.get("after"), "escalation rungs must be listed in order of lateness: '" + to_string(rung.after) +
                                   "' is not later than the rung before it");
  }
  previous = days;
  return rung;
}

void StageReader::read_marks() {
  auto marks = r_.string("marks");
  if (!marks) return;
  static const std::vector<std::string> steps{"papers-published", "notes-drafted", "notes-stand", "presented"};
  if (std::find(steps.begin(), steps.end(), *marks) == steps.end()) {
    r_.error(*r_.get("marks"), unknown("meeting step", *marks, steps));
  } else {
    s_.marks = *marks;
  }
}

void StageReader::read_outcomes() {
  const toml::table* outcomes = r_.subtable("outcomes");
  if (outcomes == nullptr) return;
  for (auto&& [k, v] : *outcomes) {
    Outcome o;
    o.id = std::string(k.str());
    const toml::table* ot = v.as_table();
    if (ot == nullptr) {
      r_.error(v, "outcome '" + o.id + "' must be a table: { title = \"...\" }, optionally with start = \"WORKFLOW\"");
      continue;
    }
    Reader orr(*ot, w_.file().rel, w_.diags(), "outcome '" + o.id + "' of stage '" + id_ + "'");
    if (!Reader::valid_id(o.id)) orr.error(*ot, "'" + o.id + "' is not a valid outcome id: use lowercase letters, digits and hyphens");
    o.title = orr.string("title").value_or(o.id);
    if (auto start = orr.string("start")) {
      o.start_workflow = *start;
      const auto& kinds = w_.names().workflow_kinds;
      auto kind = kinds.find(*start);
      if (kind == kinds.end()) {
        orr.error(*orr.get("start"), "unknown workflow '" + *start + "'" +
                                         did_you_mean(*start, w_.names().workflows("review")));
      } else if (kind->second != "review") {
        orr.error(*orr.get("start"), "'" + *start + "' is a meeting cycle; an outcome can start only a review");
      }
    }
    orr.finish();
    s_.outcomes.push_back(std::move(o));
  }
}

void StageReader::read_opening() {
  if (auto after = r_.id("opens_after", false)) {
    s_.opens_after = *after;
    nodes_.opens_after = r_.get("opens_after");
  }
  if (auto outcome = r_.id("opens_on_outcome", false)) {
    s_.opens_on_outcome = *outcome;
    nodes_.opens_on_outcome = r_.get("opens_on_outcome");
    if (s_.opens_after.empty()) {
      r_.error(*nodes_.opens_on_outcome, "'opens_on_outcome' needs 'opens_after' naming the stage whose outcome it is");
    }
  }
  // A stage counted from another's completion opens when that one is completed.
  if (s_.opens_after.empty() && nodes_.due != nullptr && s_.due.anchor.kind == AnchorKind::item_completed) {
    s_.opens_after = s_.due.anchor.name;
    nodes_.implicit_opens = true;
  }
}

}  // namespace

std::optional<Stage> read_stage(WorkflowReader& w, const toml::table& t, bool milestone, StageNodes& nodes) {
  return StageReader(w, t, milestone, nodes).read();
}

}  // namespace docket::workflows::detail
