#pragma once
// The engine: the commands that change reviews and meetings, and the timed
// events (reminders, the moment a deadline passes, escalation rungs) that
// fall due. A facade over its parts, each in its own file:
// - review_commands.cc: start, complete, pause, resume, extend, waive and
//   cancel (who may run them is the command table's, command_table.h);
//   review_queries.cc: status, overdue, upcoming;
// - meetings.cc: each body's meetings, their milestones and timing;
//   meeting_commands.cc: recording a meeting's steps, and chairs;
// - firing.cc: when a deadline's next notice falls and firing what is due,
//   over the timer index (timer_index.h);
// - review_cache.h: the reviews in memory; engine.cc: plans, refresh, and
//   the audit and state rows a change writes;
// - notice.h: what the outbox is told; review_text.h: a review as a reply.
//
// The engine writes nothing itself. Each command or timer tick appends what it
// changed to a store::Batch (state rows, audit records, outbox messages); the
// caller commits the batch, tells the engine (committed()), and only then
// answers. If the commit fails the process must stop: the database, not
// memory, is the truth a restart recovers from.
//
// Memory holds only what is needed now, so a country's reviews fit a small
// machine and start-up reads nothing but meetings: reviews are cached
// (review_cache.h) and timed events indexed a chunk at a time
// (timer_index.h). Without a store (unit tests) everything stays in memory.
// Times: deadlines are days (or wall-clock times for clock-hour limits) on
// the definition's calendar; notices go out at `notify_at` local time on the
// day they fall; instants are UTC seconds.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/clock.h"
#include "daemon/notice.h"
#include "daemon/review.h"
#include "daemon/review_cache.h"
#include "daemon/timer_index.h"
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
  Result() = default;
  Result(bool ok_, std::string error_, nlohmann::json data_ = nlohmann::json::object(), std::string text_ = {})
      : ok(ok_), error(std::move(error_)), data(std::move(data_)), text(std::move(text_)) {}

  bool ok = true;
  std::string error;
  nlohmann::json data = nlohmann::json::object();
  // The data already written as JSON text, by a command on the hot path
  // (`start`); then `data` is left empty and the reply carries this.
  std::string text;
  // The review whose status `text` is, so that the answer can be written
  // again from the review if it changes before the reply goes (a deadline
  // firing in the same batch), without reading the text back.
  std::string text_shows;
  // Not answered yet: whoever took the command over answers it later (a
  // long clock advance, run in slices between other work).
  bool deferred = false;

  static Result fail(std::string message) { return {false, std::move(message), nlohmann::json::object(), {}}; }
  // The data, whichever way it was given (for printing: `docket simulate`).
  nlohmann::json body() const { return text.empty() ? data : nlohmann::json::parse(text); }
};

struct StartArgs {
  std::string workflow;
  std::string ref;
  std::string on;     // YYYY-MM-DD or YYYY-MM-DDTHH:MM; empty for now
  std::string title;
  std::map<std::string, std::string> assign;  // role -> person
  std::map<std::string, std::string> dates;   // name -> YYYY-MM-DD
  // Started by docket for an outcome: the ref is the parent's and
  // "/WORKFLOW" (input_rules.h).
  bool follow_on = false;
};

class Engine {
 public:
  // `store` is read for reviews not in memory; null keeps everything in memory.
  Engine(std::shared_ptr<const workflows::Config> config, const Clock& clock, store::Store* store = nullptr);

  const workflows::Config& config() const { return *config_; }

  // The caller has committed every batch the engine filled so far: reviews
  // changed since may now leave the cache.
  void committed() { cache_.committed(timers_); }
  // For a caller that commits one batch while the engine fills the next:
  // seal() closes the changes made so far and names them; committed(sealed)
  // says those are on disk. Reviews changed after the seal stay cached.
  std::uint64_t seal() { return cache_.seal(); }
  void committed(std::uint64_t sealed) { cache_.committed(sealed, timers_); }

  // How much a store-backed engine keeps in memory: reviews left cached after
  // a commit, and stored timed events read at once.
  struct Limits {
    std::size_t cached_reviews = 20000;
    int timer_chunk = 20000;
  };
  void set_limits(Limits limits) {
    cache_.set_limit(limits.cached_reviews);
    timers_.set_chunk(limits.timer_chunk);
  }

  // Swaps in a new configuration for everything that starts from now on and
  // for routing (who holds a role); running reviews keep their definitions.
  // Returns a summary: the definitions that changed and how many running
  // reviews stay on an earlier version.
  nlohmann::json reload(std::shared_ptr<const workflows::Config> config);

  // Every review definition of `config` as stored text rows.
  static std::vector<store::DefinitionText> definitions_of(const workflows::Config& config, std::int64_t now);

  // Commands. On success memory is changed and `batch` holds the change; on
  // failure nothing is changed and the batch is untouched. Who may run them
  // is the command table's to decide (command_table.h), before they run.
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
  // The command table's named rules (Access::Rule), for a caller who holds
  // none of a command's roles. Each is nullopt when the review, stage or
  // meeting is not known: the command itself then says what is wrong.
  // A stage's owner: the person the review assigns the stage's owning role,
  // or anyone who holds that role.
  struct StageOwner {
    std::string role;  // empty when the stage has no owner
    bool is_caller = false;
  };
  std::optional<StageOwner> stage_owner(const Caller& who, const std::string& ref, const std::string& stage);
  // A meeting's runner: the body's chair or secretariat.
  struct MeetingRunner {
    std::string meeting;  // as people name it: "the executive meeting on ..."
    bool is_caller = false;
  };
  std::optional<MeetingRunner> meeting_runner(const Caller& who, const std::string& body, const std::string& day);

  // Creates the meetings of every cycle for the current and next financial
  // year that do not exist yet. Run at start, after a reload, and when the
  // financial year turns.
  void ensure_meetings(store::Batch& batch);
  void load_meetings(const std::vector<store::MeetingRecord>& meetings,
                     const std::vector<store::DeadlineRecord>& deadlines, const std::vector<store::ChairRecord>& chairs);

  // Queries. `status` without a ref lists at most kStatusLimit reviews.
  static constexpr int kStatusLimit = 1000;
  Result status(const std::string& ref);
  // status(ref)'s data written straight to text, as `start` answers; empty
  // for a ref not known.
  std::string review_text(const std::string& ref);
  Result overdue();
  Result upcoming(int days);

  // Time. The earliest timed event, if any.
  std::optional<Instant> next_fire();
  // Fires what is due at or before `now`, at most `limit` deadlines; returns
  // true when more are due (commit the batch and call again). Events more
  // than five minutes old are marked late; of several reminders of one
  // deadline that are due together only the latest goes out, but every
  // escalation rung passed does.
  bool fire_due(Instant now, store::Batch& batch, std::size_t limit = SIZE_MAX);
  // A rehearsal's clock advance: fires every timed event up to `target`, as
  // fire_due() at each event's own time would, but a review at a time. Each
  // review is read once and its events fire in their own order, with `clock`
  // set to each; meetings fire in time order. Stops after the review that
  // reaches `limit` deadlines fired and returns true when more are due; the
  // clock is then at the earliest event not fired yet (every event before it
  // has fired, so a restart from there loses nothing).
  bool fire_through(Instant target, VirtualClock& clock, store::Batch& batch, std::size_t limit = SIZE_MAX);

  // Open and paused reviews (in the store, if there is one).
  std::size_t review_count();
  std::size_t cached_reviews() const { return cache_.size(); }
  // Reviews read from the store since the engine was made.
  std::size_t reviews_read() const { return cache_.reads(); }
  std::size_t timed_in_memory() const { return timers_.size(); }

 private:
  const workflows::Calendar& calendar_of(const Review& r) const { return r.calendar(); }
  // The review, from memory or else from the store; nullptr if there is none.
  Review* find(const std::string& ref) { return cache_.find(ref); }
  workflows::Day today(const workflows::Calendar& cal) const;
  Instant at_notify_time(const workflows::Calendar& cal, workflows::Day d) const;
  Instant instant_of(const workflows::Calendar& cal, workflows::LocalTime t) const;

  // Recomputes due dates of every open deadline from the plan, opens stages
  // whose time has come, and re-arms timers.
  void refresh(Review& r, store::Batch& batch, const std::string& actor);
  // A review's plan. Planning is a pure function of the definition (in its
  // configuration) and the review's inputs: the start, the supplied dates,
  // and what is completed or fixed. Reviews with the same inputs (all those of
  // one type started the same day and not yet completed) share one plan.
  std::shared_ptr<const workflows::ReviewPlan> plan_of(const Review& r);
  // A notice more than this after its time is marked late.
  static constexpr std::chrono::minutes kLateAfter{5};
  static const workflows::PlannedItem* item_for(const workflows::ReviewPlan& plan, const std::string& stage);
  // Deadline timing and firing, shared by review stages and meeting milestones.
  struct Emit {
    std::function<void(const std::string& kind, int index, int repeat, const std::vector<std::string>& roles,
                       Instant at)>
        notify;
    std::function<void(const std::string& kind, std::string details)> audit;  // details as JSON text
  };
  Instant when(const workflows::Calendar& cal, const workflows::PlannedNotice& n) const;
  Instant overdue_at(const workflows::Calendar& cal, const Deadline& d) const;
  Instant repeat_at(const workflows::Calendar& cal, const workflows::PlannedNotice& last, int k) const;
  Instant next_fire_of(const Deadline& d, const workflows::PlannedItem& item, const workflows::Calendar& cal) const;
  void fire_deadline(Deadline& d, const workflows::PlannedItem& item, const workflows::Calendar& cal, Instant now,
                     const Emit& emit);
  void index(const std::string& owner, Deadline& d, Instant next) { timers_.set(owner, d, next); }

  void schedule(Review& r, Deadline& d);
  void schedule(Review& r, Deadline& d, const workflows::ReviewPlan& plan);
  void unschedule(const Review& r, Deadline& d);
  void fire(Review& r, Deadline& d, Instant now, store::Batch& batch);
  void notify(const Review& r, const Deadline& d, const std::string& kind, int index, int repeat,
              const std::vector<std::string>& roles, Instant due_instant, Instant now, store::Batch& batch);
  // Whom a notice to `role` about `r` reaches, and why someone else hears
  // (`note`) when nobody holds the role on the review.
  std::vector<std::string> recipients(const Review& r, const std::string& role, std::string& note) const;
  // Queues notice `n` for each of `people` not `addressed` yet, each row
  // keyed `key` and the person.
  void queue(const Notice& n, const std::string& key, const std::vector<std::string>& people,
             std::set<std::string>& addressed, Instant now, store::Batch& batch) const;
  void maybe_close(Review& r, store::Batch& batch, const std::string& actor);
  // The review an outcome of `r`'s stage starts (its `data` says which, or
  // why it did not start).
  void start_follow_on(const Caller& who, Review& r, const std::string& stage_id, const workflows::Outcome& chosen,
                       workflows::Day day, nlohmann::json& data, store::Batch& batch);

  Meeting* find_meeting(const std::string& body, const std::string& day, std::string& error);
  std::vector<workflows::PlannedItem> plan_of(const Meeting& m) const;
  void schedule(Meeting& m, Deadline& d);
  void refresh(Meeting& m);
  void fire(Meeting& m, Deadline& d, Instant now, store::Batch& batch);
  // The meeting milestone a timer key names, if it still fires then.
  bool fire_meeting(const store::TimerKey& k, Instant now, store::Batch& batch);
  // A step that only marks a milestone (papers, notes, approval), on the
  // meeting `body` holds on `day`.
  Result step(const Caller& who, const std::string& body, const std::string& day, workflows::MeetingEvent e,
              const std::string& marks, store::Batch& batch);
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
  // The same with the details already written as JSON text (json_text.h).
  void record_text(store::Batch& b, const std::string& actor, const std::string& kind, const std::string& ref,
                   const std::string& stage, std::string details, const std::string& version) const;
  void audit(store::Batch& b, const std::string& actor, const std::string& kind, const Review& r,
             const std::string& stage, nlohmann::json details) const;
  void save(store::Batch& b, Review& r);
  void save(store::Batch& b, Review& r, const Deadline& d);

  // A review as the commands that change it answer (review_text.h).
  nlohmann::json review_json(const Review& r) const;

  std::shared_ptr<const workflows::Config> config_;
  const Clock& clock_;
  store::Store* store_ = nullptr;
  ReviewCache cache_;
  TimerIndex timers_;
  // Plans by their inputs (see plan_of). Each keeps the configuration and
  // definition it was made from alive, so a key's addresses are never reused.
  struct SharedPlan {
    std::shared_ptr<const workflows::Config> config;
    std::shared_ptr<const workflows::ReviewDefinition> pinned;
    std::shared_ptr<const workflows::ReviewPlan> plan;
  };
  std::unordered_map<std::string, SharedPlan> plans_;
  std::map<std::string, Meeting> meetings_;  // by id
  std::map<std::pair<std::string, std::string>, store::ChairRecord> chairs_;  // (body, year)
  int meetings_ensured_for_ = 0;  // the first year of the financial year last ensured
};

}  // namespace docket::daemon
