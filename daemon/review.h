#pragma once
// A review and a meeting as the engine holds them in memory, with their
// deadlines (a review's stages, a meeting's milestones), and a deadline as a
// store row and back. Plain values: what may be done to them is the
// engine's (engine.h); how a review is written in a reply, review_text.h.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/clock.h"
#include "store/store.h"
#include "workflows/config.h"
#include "workflows/deadline_machine.h"
#include "workflows/meeting_machine.h"
#include "workflows/review_machine.h"

namespace docket::daemon {

struct Deadline {
  const workflows::Stage* stage = nullptr;
  workflows::DeadlineState state = workflows::DeadlineState::pending;
  workflows::Day due{};
  std::optional<workflows::LocalTime> due_at;
  std::optional<workflows::Day> fixed_due;
  workflows::Day opened_on{};
  int reminders_sent = 0;
  int rungs_sent = 0;
  int repeats_sent = 0;
  std::optional<workflows::Day> completed_on;  // met or waived on
  std::string outcome;
  bool extended = false;
  Instant next_fire{};  // epoch means nothing more is timed
};

// A deadline as a store row (`owner` is a review's ref or a meeting's key,
// owner.h), and back. `stage` must be the definition's stage the row names.
store::DeadlineRecord to_record(const std::string& owner, const Deadline& d);
Deadline from_record(const store::DeadlineRecord& rec, const workflows::Stage* stage);

struct Review {
  std::string ref;
  std::string workflow;
  std::string version;
  std::string title;
  std::string parent_ref;
  // The configuration the review runs on and its definition in it. A reload
  // leaves both alone: a running review keeps the version it started with.
  std::shared_ptr<const workflows::Config> config;
  const workflows::ReviewDefinition* definition = nullptr;
  std::shared_ptr<const workflows::ReviewDefinition> pinned;  // owns `definition` when restored from stored text
  workflows::ReviewState state = workflows::ReviewState::open;
  workflows::LocalTime start{};
  bool start_has_time = false;
  std::map<std::string, std::string> assignments;  // role -> person
  std::map<std::string, workflows::Day> dates;
  std::optional<workflows::Day> paused_on;
  std::int64_t created_at = 0;
  std::vector<Deadline> deadlines;  // opened stages, in definition order
  // The cache's generation this review last changed in (ReviewCache::seal);
  // a review changed after the last committed generation must stay cached.
  std::uint64_t changed_in = 0;

  Deadline* deadline(const std::string& stage);
  const workflows::Calendar& calendar() const { return config->calendar_of(*definition); }
};

// "2026-03-02", or "2026-03-02T09:30" for a review that starts at a time.
std::string start_text(const Review& r);

// One meeting of a body. Its milestones are deadlines like a review's stages.
struct Meeting {
  std::string id;  // its stored key (owner.h): the body and the date first planned
  std::shared_ptr<const workflows::Config> config;
  const workflows::MeetingCycle* cycle = nullptr;
  std::string version;
  workflows::Day planned{};
  workflows::Day date{};
  workflows::MeetingState state = workflows::MeetingState::scheduled;
  std::vector<std::string> attended;
  int quorate = -1;  // -1 unknown, 0 inquorate, 1 quorate
  std::vector<std::string> amendments;
  std::string moved_reason;
  std::vector<Deadline> milestones;

  Deadline* milestone_marking(const std::string& step);
  const workflows::Calendar& calendar() const { return config->calendar_of(*cycle); }
};

}  // namespace docket::daemon
