#pragma once
// The engine: every open review and its deadlines in memory, the commands
// that change them, and the timed events (reminders, the moment a deadline
// passes, escalation rungs) that fall due.
//
// The engine does no I/O. Each command or timer tick appends what it changed
// to a store::Batch (state rows, audit records, outbox messages); the caller
// commits the batch and only then answers. If the commit fails the process
// must stop: the database, not memory, is the truth a restart recovers from.
// Times: deadlines are days (or wall-clock times for clock-hour limits) on
// the definition's calendar; notices go out at `notify_at` local time on the
// day they fall; instants are UTC seconds.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/clock.h"
#include "store/store.h"
#include "workflows/config.h"
#include "workflows/deadline_machine.h"
#include "workflows/meeting_machine.h"
#include "workflows/plan.h"
#include "workflows/review_machine.h"

namespace docket::daemon {

// Who is asking: a person from the directory and the roles they hold.
struct Caller {
  std::string person;
  std::vector<std::string> roles;
  bool holds(const std::string& role) const;
};

// The outcome of a command or query.
struct Result {
  bool ok = true;
  std::string error;
  nlohmann::json data = nlohmann::json::object();

  static Result fail(std::string message) { return {false, std::move(message), nlohmann::json::object()}; }
};

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

// A deadline as a store row (`owner` is a review's ref or a meeting's id),
// and back. `stage` must be the definition's stage the row names.
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

  Deadline* deadline(const std::string& stage);
};

// One meeting of a body. Its milestones are deadlines like a review's stages.
struct Meeting {
  std::string id;  // "@executive/2026-06-09": the body and the date first planned
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
};

struct StartArgs {
  std::string workflow;
  std::string ref;
  std::string on;     // YYYY-MM-DD or YYYY-MM-DDTHH:MM; empty for now
  std::string title;
  std::map<std::string, std::string> assign;  // role -> person
  std::map<std::string, std::string> dates;   // name -> YYYY-MM-DD
};

class Engine {
 public:
  Engine(std::shared_ptr<const workflows::Config> config, const Clock& clock);

  const workflows::Config& config() const { return *config_; }

  // Recovery: rebuild memory from the store. A review whose definition
  // version differs from the current file is restored on its own version from
  // the stored text (`stored`); rows naming a workflow or stage that can no
  // longer be found are reported and skipped.
  using StoredDefinition = std::function<std::optional<store::DefinitionText>(const std::string& version)>;
  std::vector<std::string> load(const std::vector<store::ReviewRecord>& reviews,
                                const std::vector<store::DeadlineRecord>& deadlines, const StoredDefinition& stored);

  // Swaps in a new configuration for everything that starts from now on and
  // for routing (who holds a role); running reviews keep their definitions.
  // Returns a summary: the definitions that changed and how many running
  // reviews stay on an earlier version.
  nlohmann::json reload(std::shared_ptr<const workflows::Config> config);

  // Every review definition of `config` as stored text rows.
  static std::vector<store::DefinitionText> definitions_of(const workflows::Config& config, std::int64_t now);

  // Commands. On success memory is changed and `batch` holds the change; on
  // failure nothing is changed and the batch is untouched.
  Result start(const Caller& who, const StartArgs& args, store::Batch& batch);
  Result complete(const Caller& who, const std::string& ref, const std::string& stage, const std::string& outcome,
                  const std::string& on, store::Batch& batch);
  Result pause(const Caller& who, const std::string& ref, const std::string& reason, store::Batch& batch);
  Result resume(const Caller& who, const std::string& ref, store::Batch& batch);
  Result extend(const Caller& who, const std::string& ref, const std::string& stage, const std::string& to,
                const std::string& reason, store::Batch& batch);
  Result waive(const Caller& who, const std::string& ref, const std::string& stage, const std::string& reason,
               store::Batch& batch);
  Result cancel(const Caller& who, const std::string& ref, const std::string& reason, store::Batch& batch);

  // Meetings. Each command names the body (a meeting cycle id) and the
  // meeting's date (its current date, or the date first planned).
  Result meeting_list(const std::string& body) const;
  Result meeting_papers(const Caller& who, const std::string& body, const std::string& day, store::Batch& batch);
  Result meeting_held(const Caller& who, const std::string& body, const std::string& day,
                      const std::vector<std::string>& attended, store::Batch& batch);
  Result meeting_notes(const Caller& who, const std::string& body, const std::string& day, store::Batch& batch);
  Result meeting_amend(const Caller& who, const std::string& body, const std::string& day, const std::string& by,
                       store::Batch& batch);
  Result meeting_approve(const Caller& who, const std::string& body, const std::string& day, store::Batch& batch);
  Result meeting_move(const Caller& who, const std::string& body, const std::string& day, const std::string& to,
                      const std::string& reason, store::Batch& batch);
  Result chair_appoint(const Caller& who, const std::string& body, const std::string& person, const std::string& year,
                       store::Batch& batch);
  // Creates the meetings of every cycle for the current and next financial
  // year that do not exist yet. Run at start, after a reload, and when the
  // financial year turns.
  void ensure_meetings(store::Batch& batch);
  void load_meetings(const std::vector<store::MeetingRecord>& meetings,
                     const std::vector<store::DeadlineRecord>& deadlines, const std::vector<store::ChairRecord>& chairs);

  // Queries.
  Result status(const std::string& ref) const;
  Result overdue() const;
  Result upcoming(int days) const;

  // Time. The earliest timed event, if any.
  std::optional<Instant> next_fire() const;
  // Fires everything due at or before `now`. Events more than five minutes
  // old are marked late; of several reminders of one deadline that are due
  // together only the latest goes out, but every escalation rung passed does.
  void fire_due(Instant now, store::Batch& batch);

  std::size_t review_count() const { return reviews_.size(); }
  std::size_t open_deadline_count() const { return timed_.size(); }

 private:
  const workflows::Calendar& calendar_of(const Review& r) const { return r.config->calendar_of(*r.definition); }
  Review* find(const std::string& ref);
  const Review* find(const std::string& ref) const;
  workflows::Day today(const workflows::Calendar& cal) const;
  Instant at_notify_time(const workflows::Calendar& cal, workflows::Day d) const;
  Instant instant_of(const workflows::Calendar& cal, workflows::LocalTime t) const;

  // Recomputes due dates of every open deadline from the plan, opens stages
  // whose time has come, and re-arms timers.
  void refresh(Review& r, store::Batch& batch, const std::string& actor);
  workflows::ReviewPlan plan_of(const Review& r) const;
  // Deadline timing and firing, shared by review stages and meeting milestones.
  struct Emit {
    std::function<void(const std::string& kind, int index, int repeat, const std::vector<std::string>& roles,
                       Instant at)>
        notify;
    std::function<void(const std::string& kind, nlohmann::json details)> audit;
  };
  Instant when(const workflows::Calendar& cal, const workflows::PlannedNotice& n) const;
  Instant overdue_at(const workflows::Calendar& cal, const Deadline& d) const;
  Instant repeat_at(const workflows::Calendar& cal, const workflows::PlannedNotice& last, int k) const;
  Instant next_fire_of(const Deadline& d, const workflows::PlannedItem& item, const workflows::Calendar& cal) const;
  void fire_deadline(Deadline& d, const workflows::PlannedItem& item, const workflows::Calendar& cal, Instant now,
                     const Emit& emit);
  void index(const std::string& owner, Deadline& d, Instant next);

  void schedule(Review& r, Deadline& d);
  void schedule(Review& r, Deadline& d, const workflows::ReviewPlan& plan);
  void unschedule(const Review& r, Deadline& d);
  void fire(Review& r, Deadline& d, Instant now, store::Batch& batch);
  void notify(const Review& r, const Deadline& d, const std::string& kind, int index, int repeat,
              const std::vector<std::string>& roles, Instant due_instant, Instant now, store::Batch& batch);
  void maybe_close(Review& r, store::Batch& batch, const std::string& actor);

  Meeting* find_meeting(const std::string& body, const std::string& day, std::string& error);
  // The meeting, if `who` may record its steps; else nullptr and why.
  Meeting* meeting_to_record(const Caller& who, const std::string& body, const std::string& day, std::string& error);
  bool may_run_meeting(const Caller& who, const Meeting& m) const;
  std::vector<workflows::PlannedItem> plan_of(const Meeting& m) const;
  void schedule(Meeting& m, Deadline& d);
  void refresh(Meeting& m);
  void fire(Meeting& m, Deadline& d, Instant now, store::Batch& batch);
  Result step(const Caller& who, Meeting& m, workflows::MeetingEvent e, const std::string& marks, store::Batch& batch,
              nlohmann::json details);
  void notify(const Meeting& m, const Deadline* d, const std::string& kind, int index, int repeat,
              const std::vector<std::string>& roles, Instant at, Instant now, store::Batch& batch);
  void audit(store::Batch& b, const std::string& actor, const std::string& kind, const Meeting& m,
             const std::string& milestone, nlohmann::json details) const;
  void save(store::Batch& b, const Meeting& m) const;
  void save_milestone(store::Batch& b, const Meeting& m, const Deadline& d) const;
  nlohmann::json meeting_json(const Meeting& m) const;

  // Appends one audit record, stamped with the engine's clock.
  void record(store::Batch& b, const std::string& actor, const std::string& kind, const std::string& ref,
              const std::string& stage, const nlohmann::json& details, const std::string& version) const;
  void audit(store::Batch& b, const std::string& actor, const std::string& kind, const Review& r,
             const std::string& stage, nlohmann::json details) const;
  void save(store::Batch& b, const Review& r) const;
  void save(store::Batch& b, const Review& r, const Deadline& d) const;

  bool may(const Caller& who, const std::string& command, const Review* r, const workflows::Stage* s) const;
  nlohmann::json review_json(const Review& r) const;
  nlohmann::json deadline_json(const Review& r, const Deadline& d) const;

  std::shared_ptr<const workflows::Config> config_;
  const Clock& clock_;
  std::map<std::string, Review> reviews_;
  std::map<std::string, Meeting> meetings_;  // by id
  std::map<std::pair<std::string, std::string>, store::ChairRecord> chairs_;  // (body, year)
  int meetings_ensured_for_ = 0;  // the first year of the financial year last ensured
  std::set<std::tuple<Instant, std::string, std::string>> timed_;  // (next_fire, ref, stage)
};

}  // namespace docket::daemon
