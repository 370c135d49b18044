#pragma once
// docket's durable state in SQLite: reviews, their deadlines, the outbox of
// notifications, and the hash-chained audit trail.
//
// docketd is the only writer. Everything one group of commands changes goes
// into one Batch and is committed in one transaction (WAL, synchronous=FULL),
// so a command is acknowledged only once its state change, its audit records
// and the notifications it causes are all on disk together. The schema is
// versioned (PRAGMA user_version) and migrated forward when the store opens.
//
// The audit trail is a hash chain. Given the audit key (store/audit_key.h),
// the store keys it: the first record it writes to a trail that is not yet
// keyed is an `audit.keyed` record, and from there on every record's hash is
// an HMAC under the key, so that nobody without the key can append, edit or
// rewrite a record that verifies. Records before it keep their plain SHA-256
// (the marker's HMAC covers the last of them, so they are protected too).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <tuple>
#include <optional>
#include <string>
#include <vector>

#include "store/audit_key.h"
#include "store/checkpointer.h"
#include "store/sqlite.h"

namespace docket::store {

inline constexpr int kSchemaVersion = 9;

// The record that starts the keyed part of the audit trail (itself keyed).
inline constexpr const char* kKeyedKind = "audit.keyed";

struct ReviewRecord {
  std::string ref;
  std::string workflow;
  std::string version;     // the definition version the review runs on
  std::string title;
  std::string state;       // open | paused | closed | cancelled
  std::string start;       // local YYYY-MM-DD, or YYYY-MM-DDTHH:MM for clock-hour workflows
  std::string assignments; // JSON object: role -> person
  std::string dates;       // JSON object: name -> YYYY-MM-DD
  std::string paused_on;   // local day the clock stopped, empty when running
  std::string parent_ref;  // the review whose outcome started this one
  std::int64_t created_at = 0;
};

struct DeadlineRecord {
  std::string ref;
  std::string stage;
  std::string state;       // as workflows::to_string(DeadlineState)
  std::string due;         // YYYY-MM-DD
  std::string due_at;      // YYYY-MM-DDTHH:MM for clock hours, else empty
  std::string fixed_due;   // set by an extension or a pause: the due no longer follows its rule
  std::string opened_on;   // YYYY-MM-DD
  int reminders_sent = 0;
  int rungs_sent = 0;
  int repeats_sent = 0;
  std::string completed_on;
  std::string outcome;
  bool extended = false;
  std::int64_t next_fire = 0;  // unix seconds of the next timed event; 0 for none
  // Written, not read: set when only state, the three counts and next_fire
  // differ from the row as stored (or as written earlier in the same batch),
  // as after a timed event. Commit then updates just those columns.
  bool timing_only = false;
};

struct AuditEntry {
  std::int64_t at = 0;     // unix seconds, UTC
  std::string actor;       // a person id, or "system"
  std::string kind;        // e.g. review.started, deadline.reminder, command.refused
  std::string ref;
  std::string stage;
  std::string details;     // JSON object
  std::string version;     // definition version in force, if any
};

// What an audit record is about, besides who did what and when: the review
// or meeting (ref), its stage, and the definition version in force. Any of
// them may be empty; each has an initialiser, so that a designated
// initialiser may leave it out ({.ref = r.ref}) without a warning.
struct AuditSubject {
  std::string ref{};
  std::string stage{};
  std::string version{};
};

// The one way to build an audit record: at `at` (UTC), `actor` ("system" or
// a person id) did `kind`, with `details` (a JSON object's text), about
// `subject`:
//
//   b.audit.push_back(audit_entry(clock.now(), "system", "daemon.started", details.dump()));
//   b.audit.push_back(audit_entry(clock.now(), who.person, "stage.completed", details.dump(),
//                                 {.ref = r.ref, .stage = stage, .version = r.version}));
inline AuditEntry audit_entry(std::int64_t at, std::string actor, std::string kind, std::string details,
                              AuditSubject subject = {}) {
  return AuditEntry{at,
                    std::move(actor),
                    std::move(kind),
                    std::move(subject.ref),
                    std::move(subject.stage),
                    std::move(details),
                    std::move(subject.version)};
}
inline AuditEntry audit_entry(std::chrono::sys_seconds at, std::string actor, std::string kind, std::string details,
                              AuditSubject subject = {}) {
  return audit_entry(at.time_since_epoch().count(), std::move(actor), std::move(kind), std::move(details),
                     std::move(subject));
}

struct AuditRecord : AuditEntry {
  std::int64_t seq = 0;
  std::string clock;       // "system" or "virtual"
  std::string prev_hash;
  std::string hash;
};

struct OutboxMessage {
  std::int64_t id = 0;     // assigned by the store
  std::string key;         // idempotency key: the same notification never gets two rows
  std::int64_t created_at = 0;
  std::string kind;        // reminder | escalation | notice
  std::string ref;
  std::string stage;
  std::string person;
  std::string role;
  std::string payload;     // JSON: what the notifier renders
  bool late = false;       // fell due while docketd was not running
  std::string state = "pending";  // pending | delivered | dead | digested
  // Delivery order (schema 8), set by the dispatcher as the row is written:
  // the channel whose queue it waits in, and escalations (0) before other
  // notices (1) before reminders (2).
  std::string route;
  int priority = 1;
  // Delivery (schema 6), kept by the dispatcher.
  std::string channel;            // the channel tried, once tried
  int attempts = 0;
  std::int64_t next_attempt = 0;  // wall clock, unix ms: not retried before
  std::int64_t hold_until = 0;    // docket's clock, unix s: quiet hours
  std::int64_t first_attempt = 0; // wall clock, unix ms; dead letter after the maximum age
  std::string last_error;
  std::int64_t delivered_at = 0;  // wall clock, unix s
};

// The dispatcher's news about one outbox row: its whole delivery state after
// an attempt (or a hold, a dead letter, a retry asked for by an operator).
struct OutboxUpdate {
  std::int64_t id = 0;
  std::string state = "pending";
  std::string channel;
  int attempts = 0;
  std::int64_t next_attempt = 0;
  std::int64_t hold_until = 0;
  std::int64_t first_attempt = 0;
  std::string last_error;
  std::int64_t delivered_at = 0;
  std::string route;
};

// The text of a definition version, kept so that a review can stay on the
// version it started with after the file changes (schema 2).
struct DefinitionText {
  std::string version;
  std::string workflow;
  std::string file;
  std::string text;
  std::int64_t first_loaded = 0;
};

// One meeting of a body (schema 3). Its milestones are deadline rows whose
// ref is the meeting's id.
struct MeetingRecord {
  std::string id;          // "@executive/2026-06-09": the cycle and the date first planned
  std::string cycle;
  std::string version;     // the cycle definition's version when it was scheduled
  std::string planned;     // YYYY-MM-DD
  std::string date;        // YYYY-MM-DD, after any move
  std::string state;       // as workflows::to_string(MeetingState)
  std::string attended;    // JSON array of person ids
  int quorate = -1;        // -1 not yet known, 0 inquorate, 1 quorate
  std::string amendments;  // JSON array of person ids who asked for amendments
  std::string moved_reason;
};

// A body's chair for a financial year (schema 3).
struct ChairRecord {
  std::string body;        // the meeting cycle
  std::string year;        // "2026/27"
  std::string person;
  std::string agency;
  std::int64_t appointed_at = 0;
};

// A timed event's place in the order the daemon fires them: the deadline's
// next_fire, then its row key. Reviews are read on demand, so the daemon
// holds only the near future of this order in memory and reads on from here.
struct TimerKey {
  std::int64_t at = 0;  // unix seconds
  std::string ref;
  std::string stage;
  auto operator<=>(const TimerKey&) const = default;
};

// Everything one transaction writes.
struct Batch {
  std::vector<ReviewRecord> reviews;      // inserted or replaced
  std::vector<DeadlineRecord> deadlines;  // inserted or replaced
  std::vector<AuditEntry> audit;          // appended, chained in order
  std::vector<OutboxMessage> outbox;      // inserted; a key already present is skipped
  std::vector<OutboxUpdate> outbox_updates;  // delivery state of outbox rows
  std::vector<std::pair<std::string, std::string>> meta;
  std::vector<DefinitionText> definitions;  // inserted; a version already present is kept
  std::vector<MeetingRecord> meetings;      // inserted or replaced
  std::vector<ChairRecord> chairs;          // inserted or replaced (one per body and year)

  bool empty() const {
    return reviews.empty() && deadlines.empty() && audit.empty() && outbox.empty() && outbox_updates.empty() &&
           meta.empty() && definitions.empty() && meetings.empty() && chairs.empty();
  }
};

// A row's place in the order the dispatcher reads ready rows in.
struct OutboxPosition {
  std::int64_t next_attempt = -1;
  std::int64_t id = 0;
};
// A row's place in its channel's queue.
struct QueuePosition {
  int priority = 0;
  std::int64_t next_attempt = -1;
  std::int64_t id = 0;
};

// When the write-ahead log is copied back into the database file.
struct WalSettings {
  // A commit that leaves the log at least this long (in pages, 64 MiB) asks
  // the background checkpointer to run. Every commit rewrites the same hot
  // pages (the ends of the append-only tables and indexes): copied back once
  // per 16k pages of log rather than after every commit or two (SQLite's
  // default of 1,000), most of the checkpointer's writes are spared.
  int checkpoint_frames = 16384;
  // A log at least this long (1 GiB) is copied back whole between two writes
  // (Store::restart_log), with no reader in it, so that the next write starts
  // it again from its beginning: this bounds the log when commits come faster
  // than the background copies them, or a reader is always in it. Each such
  // copy stops both of docketd's threads for its length and a sync of the
  // database file; in a clock jump over a million reviews 64k pages cost 21
  // of them and 10 to 14 s of 75, 256k pages 4 s of 63.
  int limit_frames = 262144;
  // Whether write() syncs the log before it returns. docketd says no and
  // calls sync_log() on a thread of its own, so that one batch is synced
  // while the next is written: a sync takes as long as writing a batch of
  // a few hundred commands, and each waited for the other.
  bool sync_in_write = true;
};

// The newest record of the audit trail: its number (0 for an empty trail)
// and hash.
struct ChainHead {
  std::int64_t seq = 0;
  std::string hash;
};

class Store {
 public:
  // Opens (creating if needed) and migrates. `clock` ("system" or "virtual")
  // is recorded with every audit record this process writes. With `key`, the
  // records it appends are keyed (see above); without, a trail already keyed
  // is refused at the first append (StoreError).
  Store(const std::filesystem::path& path, std::string clock, WalSettings wal = {},
        std::shared_ptr<const AuditKey> key = nullptr);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  int schema_version();

  // Commits the batch in one transaction. Returns the outbox messages that
  // were new (with their ids); duplicates by key are left out. The reads
  // that follow see it (commit = write, then end_reads).
  std::vector<OutboxMessage> commit(const Batch& batch);

  // Threads. Writes and reads go through connections of their own, so one
  // thread may write() while another reads: docketd commits a batch on a
  // writer thread while its event loop fills the next. write() and the reads
  // must each stay on one thread at a time.
  //
  // The writing half of commit(): the reads do not see the batch until
  // end_reads() is called after it returns. Fresh::skip returns nothing and
  // spares copying every new outbox message (docketd's writer reads the
  // outbox back instead).
  enum class Fresh { report, skip };
  std::vector<OutboxMessage> write(const Batch& batch, Fresh report = Fresh::report);

  // The point and range reads below share one read transaction from the first
  // of them to end_reads(): on its own each statement took and released WAL's
  // read lock, two fcntl calls per read. The transaction is a snapshot, so
  // whoever writes calls end_reads() once a write has returned, and what is
  // read after is the latest committed state.
  void end_reads();

  // With WalSettings::sync_in_write off: makes every write() that has
  // returned durable (one fdatasync of the log). Until then a crash may lose
  // it, so nothing it holds may be acknowledged or sent. May run on another
  // thread while write() runs. Throws StoreError if the sync fails.
  void sync_log();
  // Outbox rows up to this id are durable; outbox_ready() reads no others
  // (a message must not go out before the row that records it is on disk).
  std::int64_t durable_outbox_id() const { return durable_outbox_id_; }

  // The write-ahead log has reached WalSettings::limit_frames. Then, with
  // no write under way, restart_log() copies it into the database and lets
  // the next write start it again from its beginning (commit() does both).
  bool log_full() const { return wal_frames_ >= wal_.limit_frames; }
  void restart_log();

  std::vector<ReviewRecord> reviews();
  std::vector<DeadlineRecord> deadlines();

  // Point and range reads for a daemon that holds only part of the state.
  // A review with its deadline rows: the daemon reads one back for every
  // timed event of a review it no longer holds. Those due at one moment come
  // in ref order, so this walks on from the last review read when the next
  // is a few rows further, and seeks only when it is not.
  struct StoredReview {
    ReviewRecord review;
    std::vector<DeadlineRecord> deadlines;
  };
  std::optional<StoredReview> review_with_deadlines(const std::string& ref);
  // Whether a review with this ref is stored, from the index alone.
  bool has_review(const std::string& ref);
  // The deadline rows of meetings (refs that begin with '@').
  std::vector<DeadlineRecord> meeting_deadlines();
  // Up to `limit` timed events after `after` in firing order.
  std::vector<TimerKey> timers_after(const TimerKey& after, int limit);
  // Refs of reviews that are open or paused, in order, up to `limit`.
  std::vector<std::string> open_refs(int limit);
  std::int64_t open_count();
  // Refs with a deadline overdue or escalated; with an open deadline due
  // between two days (YYYY-MM-DD, inclusive).
  std::vector<std::string> overdue_refs();
  std::vector<std::string> refs_due_between(const std::string& from, const std::string& to);
  // Running reviews per (workflow, version).
  std::vector<std::tuple<std::string, std::string, std::int64_t>> running_versions();
  // Outbox rows in a state ("" for all), in id order.
  std::vector<OutboxMessage> outbox(const std::string& state);
  std::optional<OutboxMessage> outbox_message(std::int64_t id);
  // Pending rows ready for an attempt: next_attempt <= wall_ms and
  // hold_until <= now_s, oldest attempt first, up to `limit`; with `after`,
  // only those after that row in this order.
  std::vector<OutboxMessage> outbox_ready(std::int64_t wall_ms, std::int64_t now_s, int limit,
                                          OutboxPosition after = {});
  // The same for one channel's queue (OutboxMessage::route), by priority,
  // then next_attempt, then id.
  std::vector<OutboxMessage> outbox_queue(const std::string& route, std::int64_t wall_ms, std::int64_t now_s, int limit,
                                          QueuePosition after = {});
  // The routes that pending rows wait in ("" for rows not yet routed).
  std::vector<std::string> outbox_routes();
  // The earliest next_attempt (wall ms) and hold_until (s) of pending rows
  // not yet ready, if any.
  std::optional<std::int64_t> outbox_next_attempt(std::int64_t after_wall_ms);
  std::optional<std::int64_t> outbox_next_hold(std::int64_t after_s);
  // SQLite's steps in the event loop's repeated reads so far: what a read
  // costs, counted rather than timed (for tests and benchmarks).
  std::int64_t read_steps() const;
  std::vector<AuditRecord> audit(const std::string& ref = {});
  // The audit.keyed record's number; 0 while the trail is not keyed.
  std::int64_t keyed_from() const { return tail_.keyed_from; }
  // The newest audit record that is durable (synced): what docketd may
  // publish. Safe from any thread.
  ChainHead durable_head() const;
  std::optional<std::string> meta(const std::string& key);
  std::optional<DefinitionText> definition(const std::string& version);
  std::vector<MeetingRecord> meetings();
  std::vector<ChairRecord> chairs();

  // The migration steps, in order: step i moves the schema from i to i + 1.
  // For tests that build a database as an older docket left it.
  static const std::vector<std::string>& migrations();

  // Pages in the write-ahead log after the last commit, and checkpoints run
  // on the writer's thread because the log reached its limit (for tests).
  int wal_frames() const { return wal_frames_; }
  std::int64_t limit_checkpoints() const { return limit_checkpoints_; }
  const Checkpointer& checkpointer() const { return *checkpointer_; }

 private:
  // The audit trail's newest record as this writer knows it, and where its
  // keyed part starts (0 while it is not keyed).
  struct AuditTail {
    std::int64_t seq = 0;
    std::string hash;
    std::int64_t keyed_from = 0;
  };

  static int on_wal(void* self, sqlite3* db, const char* name, int frames);
  void migrate();  // schema.cc

  // write()'s steps, in the order it runs them in its transaction; each in
  // the file that owns its table. Each does nothing for no rows.
  void write_reviews(const std::vector<ReviewRecord>& rows);      // reviews.cc
  void write_deadlines(const std::vector<DeadlineRecord>& rows);  // reviews.cc
  // Chains the records after tail_ (behind the audit.keyed marker when this
  // write starts the keyed part) and returns the new tail.
  AuditTail append_audit(const std::vector<AuditEntry>& entries);  // audit_chain.cc
  AuditEntry keyed_marker(std::int64_t at) const;                  // audit_chain.cc
  // Adds the rows that were new to `fresh` (with report); returns the last
  // outbox id written.
  std::int64_t insert_outbox(const std::vector<OutboxMessage>& rows, Fresh report,
                             std::vector<OutboxMessage>& fresh);  // outbox.cc
  void update_outbox(const std::vector<OutboxUpdate>& updates);   // outbox.cc
  void write_definitions(const std::vector<DefinitionText>& rows);                // small_tables.cc
  void write_meetings(const std::vector<MeetingRecord>& rows);                    // small_tables.cc
  void write_chairs(const std::vector<ChairRecord>& rows);                        // small_tables.cc
  void write_meta(const std::vector<std::pair<std::string, std::string>>& rows);  // small_tables.cc
  // After the commit: the new tail and the last outbox row are written.
  void written(AuditTail tail, std::int64_t last_outbox_id);

  // A prepared statement kept for the life of the store (hot point reads,
  // and the appends of write()).
  Statement& cached(int slot, const char* sql);
  void begin_reads();

  Connection& reader() { return reads_ ? *reads_ : db_; }

  // A read statement over `ref >= ?1` in ref order, left on a row between
  // calls so that the next ref can be reached by stepping (see
  // review_with_deadlines). end_reads() resets it.
  struct Walk {
    int slot;
    const char* sql;
    bool on_row = false;
  };
  // Puts the walk on the first row whose ref is `ref` or later; false if
  // there is none.
  bool walk_to(Walk& w, std::string_view ref);

  Connection db_;                      // writes (and migrations)
  std::unique_ptr<Connection> reads_;  // everything read; none for a database in memory
  WalSettings wal_;
  std::atomic<int> wal_frames_ = 0;  // set by the writer, read by the reader
  std::int64_t limit_checkpoints_ = 0;
  std::unique_ptr<Checkpointer> checkpointer_;  // after db_: stopped before it closes
  std::vector<std::unique_ptr<Statement>> statements_;
  std::string clock_;
  std::shared_ptr<const AuditKey> key_;
  AuditTail tail_;  // as committed by the last write()
  // The head after the last write() that returned, and after the last sync.
  mutable std::mutex head_mu_;
  ChainHead written_head_;
  ChainHead durable_head_;
  // The last outbox row a returned write() added, and the last one synced.
  std::atomic<std::int64_t> written_outbox_id_ = 0;
  std::atomic<std::int64_t> durable_outbox_id_ = 0;
  std::filesystem::path wal_path_;
  std::mutex sync_mu_;  // sync_log() may be called from two threads
  int wal_fd_ = -1;     // the log, opened by the first sync_log()
  Walk reviews_walk_;
  Walk deadlines_walk_;
};

// SHA-256 of the record's fields and the previous hash, hex: the link of a
// record written before the trail was keyed.
std::string audit_hash(const AuditRecord& r);
// HMAC-SHA256 under the audit key of the same: the link of a keyed record.
std::string audit_hash(const AuditRecord& r, const AuditKey& key);

}  // namespace docket::store
