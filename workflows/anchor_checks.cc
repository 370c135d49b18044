// The checks on a workflow file that need every stage (or milestone) at
// once: each anchor names something that exists, no stages count from each
// other in a loop, and (review stages) no stage can open before its deadline
// can be known.

#include <algorithm>
#include <functional>
#include <map>

#include "workflows/workflow_reader.h"

namespace docket::workflows::detail {

namespace {

class AnchorCheck {
 public:
  AnchorCheck(WorkflowReader& w, const std::vector<Stage>& stages, const std::vector<StageNodes>& nodes,
              bool milestones, const std::vector<SuppliedDate>& dates);
  void run();

 private:
  int index(const std::string& id) const;
  SourcePos at_anchor(std::size_t i) const { return r_.pos_in(*nodes_[i].due, stages_[i].due.anchor.offset); }
  std::vector<std::string> others(const std::string& self) const;

  // Names.
  void check_anchor(std::size_t i);
  void check_next_meeting(std::size_t i);
  void check_opens_after(std::size_t i);
  // Loops: a stage depends on its anchor and on the stage it opens after.
  std::vector<int> deps(std::size_t i) const;
  bool check_loops();
  // Reachability: the conditions under which each stage is open.
  void check_reachable();

  WorkflowReader& w_;
  Diagnostics& diags_;
  const std::vector<Stage>& stages_;
  const std::vector<StageNodes>& nodes_;
  const bool milestones_;
  const std::string noun_;
  std::vector<std::string> ids_;
  std::vector<std::string> date_names_;
  Reader r_;
  std::vector<bool> anchor_ok_;
};

AnchorCheck::AnchorCheck(WorkflowReader& w, const std::vector<Stage>& stages, const std::vector<StageNodes>& nodes,
                         bool milestones, const std::vector<SuppliedDate>& dates)
    : w_(w),
      diags_(w.diags()),
      stages_(stages),
      nodes_(nodes),
      milestones_(milestones),
      noun_(milestones ? "milestone" : "stage"),
      r_(w.file().table, w.file().rel, w.diags(), "the workflow"),
      anchor_ok_(stages.size(), true) {
  for (const auto& s : stages) ids_.push_back(s.id);
  for (const auto& d : dates) date_names_.push_back(d.name);
}

int AnchorCheck::index(const std::string& id) const {
  auto it = std::find(ids_.begin(), ids_.end(), id);
  return it == ids_.end() ? -1 : static_cast<int>(it - ids_.begin());
}

std::vector<std::string> AnchorCheck::others(const std::string& self) const {
  std::vector<std::string> out;
  for (const auto& id : ids_) {
    if (id != self) out.push_back(id);
  }
  return out;
}

void AnchorCheck::run() {
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    check_anchor(i);
    check_next_meeting(i);
    check_opens_after(i);
  }
  if (!check_loops() || milestones_) return;
  check_reachable();
}

void AnchorCheck::check_anchor(std::size_t i) {
  const Stage& s = stages_[i];
  const Anchor& a = s.due.anchor;
  auto refuse = [&](const std::string& message) {
    diags_.error(at_anchor(i), message);
    anchor_ok_[i] = false;
  };
  switch (a.kind) {
    case AnchorKind::start:
      if (milestones_) refuse("a milestone counts from its meeting, not 'start'; write e.g. \"7 days before meeting\"");
      break;
    case AnchorKind::meeting:
      if (!milestones_) {
        refuse("'meeting' is for meeting cycles; a review stage counts from start, date.NAME or another stage");
      }
      break;
    case AnchorKind::supplied_date:
      if (milestones_) {
        refuse("a milestone cannot count from a supplied date; count from meeting");
      } else if (std::find(date_names_.begin(), date_names_.end(), a.name) == date_names_.end()) {
        refuse("unknown date 'date." + a.name + "'" + did_you_mean(a.name, date_names_) +
               "; declare it under [dates] so docket asks for it when a review starts");
      }
      break;
    case AnchorKind::item_due:
    case AnchorKind::item_completed:
      if (a.name == s.id) {
        refuse(noun_ + " '" + s.id + "' cannot count from itself");
      } else if (index(a.name) < 0) {
        refuse(unknown(noun_, a.name, others(s.id), milestones_ ? "meeting or " : "start, date.NAME or "));
      }
      break;
  }
}

void AnchorCheck::check_next_meeting(std::size_t i) {
  const Stage& s = stages_[i];
  if (s.due.next_meeting_of.empty()) return;
  SourcePos p = r_.pos_in(*nodes_[i].due, s.due.next_meeting_offset);
  if (!milestones_) {
    diags_.error(p, "'next meeting of' is for meeting-cycle milestones");
  } else if (auto problem = w_.not_a_cycle(s.due.next_meeting_of, stem(w_.file().rel))) {
    diags_.error(p, *problem);
  }
}

void AnchorCheck::check_opens_after(std::size_t i) {
  const Stage& s = stages_[i];
  if (s.opens_after.empty() || nodes_[i].implicit_opens) return;
  int o = index(s.opens_after);
  if (s.opens_after == s.id) {
    r_.error(*nodes_[i].opens_after, "stage '" + s.id + "' cannot open after itself");
  } else if (o < 0) {
    r_.error(*nodes_[i].opens_after, unknown("stage", s.opens_after, others(s.id)));
  } else if (!s.opens_on_outcome.empty() && stages_[static_cast<std::size_t>(o)].outcome(s.opens_on_outcome) == nullptr) {
    std::vector<std::string> outs;
    for (const auto& oc : stages_[static_cast<std::size_t>(o)].outcomes) outs.push_back(oc.id);
    r_.error(*nodes_[i].opens_on_outcome,
             outs.empty() ? "stage '" + s.opens_after + "' declares no outcomes; add [stage.outcomes.NAME] to it"
                          : "stage '" + s.opens_after + "' has no outcome '" + s.opens_on_outcome + "'" +
                                did_you_mean(s.opens_on_outcome, outs) + " (its outcomes: " + one_of(outs) + ")");
  }
}

std::vector<int> AnchorCheck::deps(std::size_t i) const {
  std::vector<int> out;
  const Stage& s = stages_[i];
  if (anchor_ok_[i] && (s.due.anchor.kind == AnchorKind::item_due || s.due.anchor.kind == AnchorKind::item_completed)) {
    out.push_back(index(s.due.anchor.name));
  }
  if (!s.opens_after.empty() && index(s.opens_after) >= 0 && s.opens_after != s.id) out.push_back(index(s.opens_after));
  return out;
}

// Reports each loop at the stage that closes it; false when there is one.
bool AnchorCheck::check_loops() {
  std::vector<int> state(stages_.size(), 0);  // 0 new, 1 on the path, 2 done
  std::vector<int> path;
  std::vector<bool> in_cycle(stages_.size(), false);
  std::function<void(int)> visit = [&](int v) {
    state[static_cast<std::size_t>(v)] = 1;
    path.push_back(v);
    for (int w : deps(static_cast<std::size_t>(v))) {
      if (w < 0) continue;
      if (state[static_cast<std::size_t>(w)] == 1) {
        auto from = std::find(path.begin(), path.end(), w);
        std::string chain;
        for (auto it = from; it != path.end(); ++it) {
          chain += "'" + ids_[static_cast<std::size_t>(*it)] + "'" + (it == from ? " counts from " : ", which counts from ");
          in_cycle[static_cast<std::size_t>(*it)] = true;
        }
        chain += "'" + ids_[static_cast<std::size_t>(w)] + "'";
        diags_.error(at_anchor(static_cast<std::size_t>(v)),
                     "these " + noun_ + "s count from each other in a loop, so none can ever fall due: " + chain);
      } else if (state[static_cast<std::size_t>(w)] == 0) {
        visit(w);
      }
    }
    path.pop_back();
    state[static_cast<std::size_t>(v)] = 2;
  };
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (state[i] == 0) visit(static_cast<int>(i));
  }
  return std::count(in_cycle.begin(), in_cycle.end(), true) == 0;
}

void AnchorCheck::check_reachable() {
  using Conditions = std::set<std::pair<std::string, std::string>>;  // (stage, outcome or "")
  std::vector<std::optional<Conditions>> conds(stages_.size());
  std::function<Conditions(std::size_t)> conditions = [&](std::size_t i) -> Conditions {
    if (conds[i]) return *conds[i];
    Conditions c;
    const Stage& s = stages_[i];
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
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    const Stage& s = stages_[i];
    const Anchor& a = s.due.anchor;
    if (!anchor_ok_[i] || (a.kind != AnchorKind::item_due && a.kind != AnchorKind::item_completed)) continue;
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

}  // namespace

void check_anchors(WorkflowReader& w, const std::vector<Stage>& stages, const std::vector<StageNodes>& nodes,
                   bool milestones, const std::vector<SuppliedDate>& dates) {
  AnchorCheck(w, stages, nodes, milestones, dates).run();
}

}  // namespace docket::workflows::detail
