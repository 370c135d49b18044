#include "workflows/definition.h"

#include <algorithm>

namespace docket::workflows {

const Outcome* Stage::outcome(const std::string& id_) const {
  auto it = std::find_if(outcomes.begin(), outcomes.end(), [&](const Outcome& o) { return o.id == id_; });
  return it == outcomes.end() ? nullptr : &*it;
}

const Stage* ReviewDefinition::stage(const std::string& id_) const {
  auto it = std::find_if(stages.begin(), stages.end(), [&](const Stage& s) { return s.id == id_; });
  return it == stages.end() ? nullptr : &*it;
}

const Stage* MeetingCycle::milestone(const std::string& id_) const {
  auto it = std::find_if(milestones.begin(), milestones.end(), [&](const Stage& s) { return s.id == id_; });
  return it == milestones.end() ? nullptr : &*it;
}

std::string to_string(Limit l) {
  switch (l) {
    case Limit::statutory: return "statutory";
    case Limit::local: return "local";
    case Limit::soft: return "soft";
  }
  return {};
}

std::string to_string(Roll r) {
  switch (r) {
    case Roll::none: return "none";
    case Roll::next_working_day: return "next working day";
    case Roll::previous_working_day: return "previous working day";
  }
  return {};
}

}  // namespace docket::workflows
