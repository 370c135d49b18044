#pragma once
// Audit records in plain words, for `docket audit` and the timeline of
// `docket audit show REF`: "Reminder 1 sent to the Lead reviewer (2 working
// days before the deadline)" rather than deadline.reminder and its JSON.
// Stage and role titles come from the configuration when one is loaded; a
// kind this file does not know is shown by its name and details.

#include <map>
#include <string>
#include <vector>

#include "store/reader.h"
#include "store/store.h"
#include "workflows/config.h"

namespace docket::reports {

// One sentence for the record. `workflow` is the review type or meeting
// cycle its reference belongs to (for stage titles; may be empty); `config`
// may be null.
std::string describe(const store::AuditRecord& r, const std::string& workflow, const workflows::Config* config);

// The workflow a reference belongs to: "@body/date" and "@body" name a
// meeting cycle; anything else is looked up among the reviews (and cached).
class WorkflowOf {
 public:
  explicit WorkflowOf(store::Reader& reader) : reader_(reader) {}
  const std::string& operator()(const std::string& ref);

 private:
  store::Reader& reader_;
  std::map<std::string, std::string> cache_;
};

// "Alex Morgan (a-morgan)" when the directory knows the person; the id as it
// is otherwise; "docketd" for the system actor.
std::string actor_text(const std::string& actor, const workflows::Config* config);

struct Story {
  std::vector<std::string> heading;  // what the review (or meeting) is now, a line each
  std::vector<store::AuditRecord> records;
  std::vector<std::string> related;  // follow-on reviews, each with the command that tells its story
};

// The whole story of one review or meeting (its ref as stored, e.g.
// RR-2026-014 or @executive/2026-06-09). Empty records when nothing is known.
Story story_of(store::Reader& reader, const std::string& ref, const workflows::Config* config);

}  // namespace docket::reports
