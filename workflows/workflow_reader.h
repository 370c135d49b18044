#pragma once
// Reading one workflow file (workflows/*.toml): a review type or a meeting
// cycle. Internal to the loader, split by what each part reads:
//
//   workflow_file.cc   the file's own keys, its list of stages or milestones,
//                      a cycle's schedule; the roles the file names
//   stage_file.cc      one [[stage]] or [[milestone]] table
//   anchor_checks.cc   what needs the whole list: every anchor names a stage,
//                      no stages count from each other in a loop, and each
//                      stage's deadline is known by the time it opens

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "workflows/file_readers.h"

namespace docket::workflows::detail {

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
  WorkflowReader(const ParsedFile& f, const Names& names, Diagnostics& diags);

  std::optional<ReviewDefinition> review();
  std::optional<MeetingCycle> cycle();

  // For the parts in stage_file.cc and anchor_checks.cc.
  const ParsedFile& file() const { return f_; }
  const Names& names() const { return names_; }
  Diagnostics& diags() const { return diags_; }
  // A role named at `n`: defined, and of the right kind for this file (a
  // standing role held by someone, or a per-review role the review assigns).
  void check_role(Reader& r, const toml::node& n, const std::string& role);
  void check_roles(Reader& r, std::string_view key, const std::vector<std::string>& roles);
  // Why `id` cannot be used as a meeting cycle, or nullopt when it can.
  std::optional<std::string> not_a_cycle(const std::string& id, const std::string& self) const;

 private:
  void read_common(Reader& r, std::string& id, std::string& calendar);
  // Every [[stage]] (or [[milestone]]) table; `nodes` parallel to `out`.
  void read_stages(Reader& r, bool milestones, std::vector<Stage>& out, std::vector<StageNodes>& nodes);
  void read_assign(Reader& r, ReviewDefinition& def);
  void read_supplied_dates(Reader& r, ReviewDefinition& def);
  void read_cycle_roles(Reader& r, MeetingCycle& c);
  void read_quorum(Reader& r, MeetingCycle& c);
  void read_schedule(Reader& r, MeetingCycle& c);
  bool read_rrule(Reader& sr, MeetingCycle& c);
  bool read_sequenced(Reader& sr, MeetingCycle& c);

  const ParsedFile& f_;
  const Names& names_;
  Diagnostics& diags_;
  std::vector<std::string> role_ids_;
  std::vector<std::string> review_roles_;  // the review's `assign` list
  bool in_cycle_ = false;
  std::set<std::string> unheld_reported_;  // one error per unheld role per file
};

// One [[stage]] or [[milestone]] table (stage_file.cc); nullopt when it has
// no id or no due rule.
std::optional<Stage> read_stage(WorkflowReader& w, const toml::table& t, bool milestone, StageNodes& nodes);

// The checks that need every stage of the file (anchor_checks.cc).
void check_anchors(WorkflowReader& w, const std::vector<Stage>& stages, const std::vector<StageNodes>& nodes,
                   bool milestones, const std::vector<SuppliedDate>& dates);

}  // namespace docket::workflows::detail
