#include "store/store.h"

#include "store/rows.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <iterator>

#include "workflows/digest.h"

namespace docket::store {
namespace {

// Each entry moves the schema from version i to i + 1. Never edit a released
// step: add a new one.
const char* const kMigrations[] = {
    // 0 -> 1
    R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE reviews (
  ref TEXT PRIMARY KEY,
  workflow TEXT NOT NULL,
  version TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  state TEXT NOT NULL,
  start TEXT NOT NULL,
  assignments TEXT NOT NULL DEFAULT '{}',
  dates TEXT NOT NULL DEFAULT '{}',
  paused_on TEXT NOT NULL DEFAULT '',
  parent_ref TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL
);
CREATE TABLE deadlines (
  ref TEXT NOT NULL,
  stage TEXT NOT NULL,
  state TEXT NOT NULL,
  due TEXT NOT NULL,
  due_at TEXT NOT NULL DEFAULT '',
  fixed_due TEXT NOT NULL DEFAULT '',
  opened_on TEXT NOT NULL,
  reminders_sent INTEGER NOT NULL DEFAULT 0,
  rungs_sent INTEGER NOT NULL DEFAULT 0,
  repeats_sent INTEGER NOT NULL DEFAULT 0,
  completed_on TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL DEFAULT '',
  extended INTEGER NOT NULL DEFAULT 0,
  next_fire INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (ref, stage)
) WITHOUT ROWID;
CREATE INDEX deadlines_due ON deadlines(due);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  ref TEXT NOT NULL DEFAULT '',
  stage TEXT NOT NULL DEFAULT '',
  details TEXT NOT NULL DEFAULT '{}',
  version TEXT NOT NULL DEFAULT '',
  clock TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_ref ON audit(ref, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  ref TEXT NOT NULL DEFAULT '',
  stage TEXT NOT NULL DEFAULT '',
  person TEXT NOT NULL,
  role TEXT NOT NULL DEFAULT '',
  payload TEXT NOT NULL,
  late INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  delivered_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX outbox_state ON outbox(state);
)sql",
    // 1 -> 2: definition texts, so running reviews keep their version.
    R"sql(
CREATE TABLE definitions (
  version TEXT PRIMARY KEY,
  workflow TEXT NOT NULL,
  file TEXT NOT NULL,
  text TEXT NOT NULL,
  first_loaded INTEGER NOT NULL
);
)sql",
    // 2 -> 3: meetings and chairs.
    R"sql(
CREATE TABLE meetings (
  id TEXT PRIMARY KEY,
  cycle TEXT NOT NULL,
  version TEXT NOT NULL,
  planned TEXT NOT NULL,
  date TEXT NOT NULL,
  state TEXT NOT NULL,
  attended TEXT NOT NULL DEFAULT '[]',
  quorate INTEGER NOT NULL DEFAULT -1,
  amendments TEXT NOT NULL DEFAULT '[]',
  moved_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX meetings_date ON meetings(date);
CREATE TABLE chairs (
  body TEXT NOT NULL,
  year TEXT NOT NULL,
  person TEXT NOT NULL,
  agency TEXT NOT NULL,
  appointed_at INTEGER NOT NULL,
  PRIMARY KEY (body, year)
);
)sql",
    // 3 -> 4: reviews are read on demand, so the daemon finds what it needs by
    // index: the timed events in order, open reviews, and overdue deadlines.
    R"sql(
CREATE INDEX deadlines_next_fire ON deadlines(next_fire, ref, stage) WHERE next_fire != 0;
CREATE INDEX deadlines_overdue ON deadlines(ref) WHERE state IN ('overdue', 'escalated');
CREATE INDEX reviews_open ON reviews(ref) WHERE state IN ('open', 'paused');
)sql",
    // 4 -> 5: indexes for `docket audit` filters (newest first by time) and
    // its --workflow filter, which maps a workflow to its references.
    R"sql(
CREATE INDEX audit_kind ON audit(kind, at);
CREATE INDEX audit_actor ON audit(actor, at);
CREATE INDEX audit_at ON audit(at);
CREATE INDEX reviews_workflow ON reviews(workflow);
)sql",
    // 5 -> 6: delivery through channels, with retries, quiet hours and dead
    // letters. The dispatcher reads pending rows in the order of their next
    // attempt; `docket outbox --failed` reads the dead letters.
    R"sql(
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN next_attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN hold_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN first_attempt INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
DROP INDEX outbox_state;
CREATE INDEX outbox_pending ON outbox(next_attempt, id) WHERE state = 'pending';
CREATE INDEX outbox_unsent ON outbox(state, id) WHERE state NOT IN ('pending', 'delivered');
CREATE INDEX outbox_held ON outbox(hold_until) WHERE state = 'pending' AND hold_until > 0;
)sql",
    // 6 -> 7: the timed notices and delivery attempts are most of the trail,
    // and every record of theirs cost a place in the kind and actor indexes.
    // A filter on one of them finds a page by walking the trail newest first
    // (they are common, so a page fills soon); the indexes keep the rest.
    // kKindIndexed and kActorIndexed in audit_query.cc must match these.
    R"sql(
DROP INDEX audit_kind;
DROP INDEX audit_actor;
CREATE INDEX audit_kind ON audit(kind, at)
  WHERE kind NOT IN ('deadline.reminder', 'deadline.overdue', 'deadline.escalated', 'notification.attempt');
CREATE INDEX audit_actor ON audit(actor, at) WHERE actor != 'system';
)sql",
    // 7 -> 8: a queue per channel, so that one channel's backlog (a mail
    // server down) never keeps another's messages waiting, and within it
    // escalations before notices before reminders, each in the order they
    // fell due (a due retry is not put behind every fresh message). Rows
    // stored before this are routed by the dispatcher when it meets them.
    R"sql(
ALTER TABLE outbox ADD COLUMN route TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
UPDATE outbox SET priority = CASE kind WHEN 'escalation' THEN 0 WHEN 'reminder' THEN 2 ELSE 1 END;
CREATE INDEX outbox_queue ON outbox(route, priority, next_attempt, id) WHERE state = 'pending';
)sql",
    // 8 -> 9: the audit trail is keyed. From its audit.keyed record on, each
    // record's hash is an HMAC under a key kept outside the database (see
    // store/audit_key.h); the records before it keep their SHA-256. This
    // index finds that record when the store opens.
    R"sql(
CREATE INDEX audit_keyed ON audit(seq) WHERE kind = 'audit.keyed';
)sql",
};

// Cached statements (Store::cached).
enum Slot {
  // Reads.
  kReviewsFrom, kDeadlinesFrom, kHasReview, kTimers, kOutboxReady, kOutboxQueue, kOutboxRoutes, kOutboxNextAttempt,
  kOutboxNextHold,
  // Writes.
  kFirstWrite, kUpdateOutbox = kFirstWrite, kInsertAudit, kInsertAuditMany, kInsertOutbox, kInsertOutboxMany,
  kInsertReview, kInsertReviewMany, kInsertDeadline, kInsertDeadlineMany, kUpdateTiming, kSlots
};

// Appended rows go in multi-row INSERTs of this many: each statement run costs
// SQLite a statement journal, a program reset and a step of its own, which
// one run for many rows pays once.
constexpr std::size_t kRowsPerInsert = 32;
constexpr int kAuditColumns = 11;
constexpr int kOutboxInsertColumns = 13;
constexpr const char* kInsertAuditSql =
    "INSERT INTO audit (seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash)";
constexpr const char* kInsertOutboxSql =
    "INSERT OR IGNORE INTO outbox (key, created_at, kind, ref, stage, person, role, payload, late, state, route, "
    "priority, next_attempt)";

constexpr int kReviewColumns = 11;
constexpr const char* kInsertReviewSql =
    "INSERT OR REPLACE INTO reviews (ref, workflow, version, title, state, start, assignments, dates, paused_on, "
    "parent_ref, created_at)";
constexpr int kDeadlineColumnCount = 14;
constexpr const char* kInsertDeadlineSql =
    "INSERT INTO deadlines (ref, stage, state, due, due_at, fixed_due, opened_on, reminders_sent, rungs_sent, "
    "repeats_sent, completed_on, outcome, extended, next_fire)";
constexpr const char* kUpsertDeadlineSql =
    " ON CONFLICT (ref, stage) DO UPDATE SET state = excluded.state, due = excluded.due, due_at = excluded.due_at, "
    "fixed_due = excluded.fixed_due, opened_on = excluded.opened_on, reminders_sent = excluded.reminders_sent, "
    "rungs_sent = excluded.rungs_sent, repeats_sent = excluded.repeats_sent, completed_on = excluded.completed_on, "
    "outcome = excluded.outcome, extended = excluded.extended, next_fire = excluded.next_fire";

// Runs `single` (one row) or `multi` (kRowsPerInsert rows) over `count` rows
// in order; bind(statement, offset, row) binds a row's `columns` values after
// parameter `offset`.
template <typename Bind>
void insert_rows(Statement& single, Statement& multi, std::size_t count, int columns, Bind bind) {
  for (std::size_t i = 0; i < count;) {
    const std::size_t rows = count - i >= kRowsPerInsert ? kRowsPerInsert : 1;
    Statement& s = rows == 1 ? single : multi;
    for (std::size_t r = 0; r < rows; ++r, ++i) bind(s, static_cast<int>(r) * columns, i);
    s.run();
  }
}

// "<head> VALUES (?1, ..., ?c), (?c+1, ...)" for `rows` rows of `columns`.
std::string values_sql(std::string_view head, int columns, std::size_t rows) {
  std::string sql(head);
  sql += " VALUES ";
  int n = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int c = 0; c < columns; ++c) {
      if (c > 0) sql += ", ";
      sql += '?';
      sql += std::to_string(++n);
    }
    sql += ')';
  }
  return sql;
}

}  // namespace

namespace {

// The text a record's link is computed over: its fields length-prefixed, so
// no choice of field contents can collide, after the previous record's hash.
// Built in one buffer per thread: this runs for every record written and
// verified. Valid until the thread's next call.
std::string_view chain_text(std::string_view prev_hash, std::int64_t seq, const AuditEntry& e, std::string_view clock) {
  thread_local std::string data;
  data.clear();
  auto decimal = [](std::int64_t v, char (&buf)[24]) {
    return std::string_view(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
  };
  auto field = [&](std::string_view s) {
    char buf[24];
    data += decimal(static_cast<std::int64_t>(s.size()), buf);
    data += ':';
    data += s;
  };
  auto number = [&](std::int64_t v) {
    char buf[24];
    field(decimal(v, buf));
  };
  field(prev_hash);
  number(seq);
  number(e.at);
  field(e.actor);
  field(e.kind);
  field(e.ref);
  field(e.stage);
  field(e.details);
  field(e.version);
  field(clock);
  return data;
}

// A record's link into `out`: keyed under `key`, else plain SHA-256.
void chain_hash(std::string& out, std::string_view prev_hash, std::int64_t seq, const AuditEntry& e,
                std::string_view clock, const AuditKey* key) {
  const std::string_view text = chain_text(prev_hash, seq, e, clock);
  if (key != nullptr) {
    key->mac_hex(text, out);
  } else {
    out = workflows::sha256_hex(text);
  }
}

}  // namespace

std::string audit_hash(const AuditRecord& r) {
  std::string out;
  chain_hash(out, r.prev_hash, r.seq, r, r.clock, nullptr);
  return out;
}

std::string audit_hash(const AuditRecord& r, const AuditKey& key) {
  std::string out;
  chain_hash(out, r.prev_hash, r.seq, r, r.clock, &key);
  return out;
}

namespace {

// Rows in review_row's and deadline_row's column order.
constexpr const char* kSelectReviews =
    "SELECT ref, workflow, version, title, state, start, assignments, dates, paused_on, parent_ref, created_at "
    "FROM reviews ";
constexpr const char* kSelectDeadlines =
    "SELECT ref, stage, state, due, due_at, fixed_due, opened_on, reminders_sent, rungs_sent, repeats_sent, "
    "completed_on, outcome, extended, next_fire FROM deadlines ";
const std::string kReviewsFromSql = std::string(kSelectReviews) + "WHERE ref >= ?1 ORDER BY ref";
const std::string kDeadlinesFromSql = std::string(kSelectDeadlines) + "WHERE ref >= ?1 ORDER BY ref, stage";

}  // namespace

Store::Store(const std::filesystem::path& path, std::string clock, WalSettings wal,
             std::shared_ptr<const AuditKey> key)
    : db_(path, Connection::Mode::read_write),
      wal_(wal),
      clock_(std::move(clock)),
      key_(std::move(key)),
      reviews_walk_{kReviewsFrom, kReviewsFromSql.c_str()},
      deadlines_walk_{kDeadlinesFrom, kDeadlinesFromSql.c_str()} {
  db_.exec("PRAGMA journal_mode=WAL");
  db_.exec("PRAGMA synchronous=FULL");
  // Reviews are read on demand: keep the hot pages in memory and read the
  // rest through a mapping rather than a system call per page.
  db_.exec("PRAGMA cache_size=-65536");
  db_.exec("PRAGMA mmap_size=1073741824");
  db_.exec("PRAGMA foreign_keys=ON");
  // A statement that writes many rows keeps the pages it changed in a
  // statement journal, to undo itself alone if it fails half-way. SQLite
  // writes that journal to a temporary file beyond 64 KiB: two system calls
  // per page, as many as the commit's own. In memory it costs none.
  db_.exec("PRAGMA temp_store=MEMORY");
  migrate();
  statements_.resize(kSlots);
  // A database in memory is private to its connection: it reads and writes
  // through one (and so on one thread).
  if (path != ":memory:") {
    reads_ = std::make_unique<Connection>(path, Connection::Mode::read_write);
    reads_->exec("PRAGMA cache_size=-65536");
    reads_->exec("PRAGMA mmap_size=1073741824");
    // restart_log() checkpoints through it: the log is synced before it is
    // copied, the database after.
    reads_->exec("PRAGMA synchronous=FULL");
    if (!wal_.sync_in_write) {
      // Commits leave the log unsynced; sync_log() syncs it. (NORMAL still
      // syncs a restarted log's header and every checkpoint.)
      db_.exec("PRAGMA synchronous=NORMAL");
      wal_path_ = path.string() + "-wal";
    }
  }
  // Checkpoints run on a thread of their own (see on_wal); the hook replaces
  // SQLite's automatic checkpoint on this connection.
  checkpointer_ = std::make_unique<Checkpointer>(path);
  sqlite3_wal_hook(db_.raw(), &Store::on_wal, this);
  auto last = db_.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
  if (last.step()) {
    last_seq_ = last.integer(0);
    last_hash_ = last.text(1);
  }
  written_head_ = durable_head_ = ChainHead{last_seq_, last_hash_};
  auto keyed = db_.prepare("SELECT seq FROM audit WHERE kind = 'audit.keyed' ORDER BY seq LIMIT 1");
  if (keyed.step()) keyed_from_ = keyed.integer(0);
  auto outbox_end = db_.prepare("SELECT coalesce(max(id), 0) FROM outbox");
  outbox_end.step();
  written_outbox_id_ = durable_outbox_id_ = outbox_end.integer(0);  // what is on disk now
}

Store::~Store() {
  sqlite3_wal_hook(db_.raw(), nullptr, nullptr);
  checkpointer_.reset();
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

void Store::sync_log() {
  std::lock_guard lock(sync_mu_);
  const std::int64_t written = written_outbox_id_;
  ChainHead head;
  {
    std::lock_guard h(head_mu_);
    head = written_head_;
  }
  if (!wal_path_.empty()) {
    // The log keeps its inode while docketd runs (checkpoints restart it,
    // they do not remove it); a descriptor of our own syncs what SQLite's
    // wrote. If it was replaced all the same, the new one is opened.
    struct stat now {};
    if (wal_fd_ >= 0) {
      struct stat held {};
      if (::stat(wal_path_.c_str(), &now) != 0 || ::fstat(wal_fd_, &held) != 0 || now.st_ino != held.st_ino) {
        ::close(wal_fd_);
        wal_fd_ = -1;
      }
    }
    if (wal_fd_ < 0) wal_fd_ = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0 && errno != ENOENT) {
      throw StoreError("cannot open " + wal_path_.string() + " to sync it: " + std::strerror(errno));
    }
    // No log yet means nothing was written through it.
    if (wal_fd_ >= 0 && ::fdatasync(wal_fd_) != 0) {
      throw StoreError("cannot sync " + wal_path_.string() + ": " + std::strerror(errno));
    }
  }
  durable_outbox_id_ = std::max<std::int64_t>(durable_outbox_id_, written);
  std::lock_guard h(head_mu_);
  if (head.seq > durable_head_.seq) durable_head_ = std::move(head);
}

ChainHead Store::durable_head() const {
  std::lock_guard h(head_mu_);
  return durable_head_;
}

// Called by SQLite after each commit on the writer's connection, with the
// length of the log in pages.
int Store::on_wal(void* self, sqlite3*, const char*, int frames) {
  auto* store = static_cast<Store*>(self);
  store->wal_frames_ = frames;
  if (frames >= store->wal_.checkpoint_frames) store->checkpointer_->request();
  return SQLITE_OK;
}

int Store::schema_version() {
  auto s = db_.prepare("PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

void Store::migrate() {
  int version = schema_version();
  if (version > kSchemaVersion) {
    throw StoreError("the database has schema version " + std::to_string(version) + ", newer than this docket (" +
                     std::to_string(kSchemaVersion) + "); upgrade docket");
  }
  static_assert(std::size(kMigrations) == kSchemaVersion, "one migration step per schema version");
  for (int v = version; v < kSchemaVersion; ++v) {
    Transaction t(db_);
    db_.exec(kMigrations[v]);
    db_.exec("PRAGMA user_version = " + std::to_string(v + 1));
    t.commit();
  }
}

void Store::begin_reads() {
  if (reader().autocommit()) reader().exec("BEGIN");
}

void Store::end_reads() {
  for (Walk* w : {&reviews_walk_, &deadlines_walk_}) {
    if (!w->on_row) continue;
    cached(w->slot, w->sql).reset();
    w->on_row = false;
  }
  if (!reader().autocommit()) reader().exec("COMMIT");  // a read transaction: nothing to write
}

std::vector<OutboxMessage> Store::commit(const Batch& b) {
  auto fresh = write(b);
  if (!wal_.sync_in_write) sync_log();
  end_reads();  // the next read sees what was just written
  if (log_full()) restart_log();
  return fresh;
}

void Store::restart_log() {
  end_reads();
  // The background checkpoints copy only what no snapshot still needs, and
  // the log starts again from its beginning only when a write finds it wholly
  // copied with no reader in it. A reader that reads between every two writes
  // (docketd's loop) is always in it, so the log would grow without end. Here
  // neither reads nor writes: copy the rest and wait for nobody.
  //
  // Both threads wait meanwhile, so not while a background checkpoint is
  // still copying (it may take seconds on a large database): the next call,
  // between the next two writes, finds it done and less left to copy. Only
  // a log twice its limit waits for it.
  Checkpointer::Pause pause(*checkpointer_, std::try_to_lock);
  if (!pause.held()) {
    if (wal_frames_ < 2 * wal_.limit_frames) return;
    pause = Checkpointer::Pause(*checkpointer_);
  }
  if (sqlite3_wal_checkpoint_v2(reader().raw(), nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr) == SQLITE_OK) {
    wal_frames_ = 0;
  }
  ++limit_checkpoints_;
}

std::vector<OutboxMessage> Store::write(const Batch& b, Fresh report) {
  if (!reads_) end_reads();  // one connection: its read transaction ends before it writes
  std::vector<OutboxMessage> fresh;
  if (b.empty()) return fresh;
  Transaction t(db_);
  if (!b.reviews.empty()) {
    // Rows go in order, so a review saved twice in the batch keeps its last state.
    static const std::string one = values_sql(kInsertReviewSql, kReviewColumns, 1);
    static const std::string many = values_sql(kInsertReviewSql, kReviewColumns, kRowsPerInsert);
    insert_rows(cached(kInsertReview, one.c_str()), cached(kInsertReviewMany, many.c_str()), b.reviews.size(),
                kReviewColumns, [&](Statement& s, int o, std::size_t i) {
                  const ReviewRecord& r = b.reviews[i];
                  s.bind_static(o + 1, r.ref).bind_static(o + 2, r.workflow).bind_static(o + 3, r.version);
                  s.bind_static(o + 4, r.title).bind_static(o + 5, r.state).bind_static(o + 6, r.start);
                  s.bind_static(o + 7, r.assignments).bind_static(o + 8, r.dates).bind_static(o + 9, r.paused_on);
                  s.bind_static(o + 10, r.parent_ref).bind(o + 11, r.created_at);
                });
  }
  if (!b.deadlines.empty()) {
    // An upsert, not INSERT OR REPLACE: an update rewrites only the indexes
    // whose columns changed. Rows go in order: the last save of a row wins.
    static const std::string one = values_sql(kInsertDeadlineSql, kDeadlineColumnCount, 1) + kUpsertDeadlineSql;
    static const std::string many =
        values_sql(kInsertDeadlineSql, kDeadlineColumnCount, kRowsPerInsert) + kUpsertDeadlineSql;
    Statement& single = cached(kInsertDeadline, one.c_str());
    Statement& multi = cached(kInsertDeadlineMany, many.c_str());
    // A timed event changes only the timing columns; updating just those
    // leaves the due-date index alone (SQLite rewrites every index a SET names).
    Statement& timing = cached(kUpdateTiming,
                               "UPDATE deadlines SET state = ?3, reminders_sent = ?4, rungs_sent = ?5, "
                               "repeats_sent = ?6, next_fire = ?7 WHERE ref = ?1 AND stage = ?2");
    std::vector<const DeadlineRecord*> whole;  // rows to write whole, in order, up to the next timing update
    auto write_whole = [&] {
      insert_rows(single, multi, whole.size(), kDeadlineColumnCount, [&](Statement& s, int o, std::size_t k) {
        const DeadlineRecord& d = *whole[k];
        s.bind_static(o + 1, d.ref).bind_static(o + 2, d.stage).bind_static(o + 3, d.state).bind_static(o + 4, d.due);
        s.bind_static(o + 5, d.due_at).bind_static(o + 6, d.fixed_due).bind_static(o + 7, d.opened_on);
        s.bind(o + 8, d.reminders_sent).bind(o + 9, d.rungs_sent).bind(o + 10, d.repeats_sent);
        s.bind_static(o + 11, d.completed_on).bind_static(o + 12, d.outcome).bind(o + 13, d.extended ? 1 : 0);
        s.bind(o + 14, d.next_fire);
      });
      whole.clear();
    };
    for (const auto& d : b.deadlines) {
      if (d.timing_only) {
        write_whole();
        timing.bind_static(1, d.ref).bind_static(2, d.stage).bind_static(3, d.state).bind(4, d.reminders_sent);
        timing.bind(5, d.rungs_sent).bind(6, d.repeats_sent).bind(7, d.next_fire);
        timing.run();
        if (db_.changes() > 0) continue;  // else the row is missing: write it whole
      }
      whole.push_back(&d);
    }
    write_whole();
  }
  std::int64_t seq = last_seq_;
  std::string prev = last_hash_;
  std::int64_t keyed_from = keyed_from_;
  if (!b.audit.empty()) {
    if (keyed_from > 0 && key_ == nullptr) {
      throw StoreError("the audit trail is keyed from record " + std::to_string(keyed_from) +
                       ": only a writer holding the audit key may append to it");
    }
    // The first keyed write starts the keyed part with its marker, named by
    // the key's id so that verify can tell a wrong key from a forgery.
    AuditEntry marker;
    if (key_ != nullptr && keyed_from == 0) {
      marker.at = b.audit.front().at;
      marker.actor = "system";
      marker.kind = kKeyedKind;
      marker.details = R"({"key_id":")" + key_->id() + R"(","public_key":")" + key_->public_key() + R"("})";
      keyed_from = seq + 1;
    }
    const std::size_t count = b.audit.size() + (marker.kind.empty() ? 0 : 1);
    auto entry = [&](std::size_t i) -> const AuditEntry& {
      return marker.kind.empty() ? b.audit[i] : i == 0 ? marker : b.audit[i - 1];
    };
    static const std::string one = values_sql(kInsertAuditSql, kAuditColumns, 1);
    static const std::string many = values_sql(kInsertAuditSql, kAuditColumns, kRowsPerInsert);
    Statement& single = cached(kInsertAudit, one.c_str());
    Statement& multi = cached(kInsertAuditMany, many.c_str());
    // Bound without copies until the statement runs; kept from write to
    // write so that their storage is reused.
    thread_local std::string hashes[kRowsPerInsert];
    for (std::size_t i = 0; i < count;) {
      const std::size_t rows = count - i >= kRowsPerInsert ? kRowsPerInsert : 1;
      Statement& s = rows == 1 ? single : multi;
      for (std::size_t r = 0; r < rows; ++r, ++i) {
        const AuditEntry& e = entry(i);
        const std::string& before = r == 0 ? prev : hashes[r - 1];
        ++seq;
        chain_hash(hashes[r], before, seq, e, clock_, keyed_from > 0 ? key_.get() : nullptr);
        const int o = static_cast<int>(r) * kAuditColumns;
        s.bind(o + 1, seq).bind(o + 2, e.at).bind_static(o + 3, e.actor).bind_static(o + 4, e.kind);
        s.bind_static(o + 5, e.ref).bind_static(o + 6, e.stage).bind_static(o + 7, e.details);
        s.bind_static(o + 8, e.version).bind_static(o + 9, clock_).bind_static(o + 10, before);
        s.bind_static(o + 11, hashes[r]);
      }
      s.run();
      prev = hashes[rows - 1];
    }
  }
  std::int64_t last_outbox_id = written_outbox_id_;
  if (!b.outbox.empty()) {
    static const std::string one = values_sql(kInsertOutboxSql, kOutboxInsertColumns, 1) + " RETURNING id, key";
    static const std::string many =
        values_sql(kInsertOutboxSql, kOutboxInsertColumns, kRowsPerInsert) + " RETURNING id, key";
    Statement& single = cached(kInsertOutbox, one.c_str());
    Statement& multi = cached(kInsertOutboxMany, many.c_str());
    std::vector<std::pair<std::int64_t, std::string>> inserted;
    for (std::size_t i = 0; i < b.outbox.size();) {
      const std::size_t first = i;
      const std::size_t rows = b.outbox.size() - i >= kRowsPerInsert ? kRowsPerInsert : 1;
      Statement& s = rows == 1 ? single : multi;
      for (std::size_t r = 0; r < rows; ++r, ++i) {
        const OutboxMessage& m = b.outbox[i];
        const int o = static_cast<int>(r) * kOutboxInsertColumns;
        s.bind_static(o + 1, m.key).bind(o + 2, m.created_at).bind_static(o + 3, m.kind).bind_static(o + 4, m.ref);
        s.bind_static(o + 5, m.stage).bind_static(o + 6, m.person).bind_static(o + 7, m.role);
        s.bind_static(o + 8, m.payload).bind(o + 9, m.late ? 1 : 0).bind_static(o + 10, m.state);
        s.bind_static(o + 11, m.route).bind(o + 12, m.priority).bind(o + 13, m.next_attempt);
      }
      // A key already stored is skipped (the same notification never gets two
      // rows); RETURNING names the rows that were new, in no set order.
      inserted.clear();
      while (s.step()) {
        last_outbox_id = std::max(last_outbox_id, s.integer(0));
        if (report == Fresh::report) inserted.emplace_back(s.integer(0), s.text(1));
      }
      s.reset();
      for (std::size_t k = first; k < i && !inserted.empty(); ++k) {
        auto it = std::find_if(inserted.begin(), inserted.end(), [&](const auto& x) { return x.second == b.outbox[k].key; });
        if (it == inserted.end()) continue;
        OutboxMessage& copy = fresh.emplace_back(b.outbox[k]);
        copy.id = it->first;
        inserted.erase(it);  // a key twice in one batch: the first is the new row
      }
    }
  }
  if (!b.outbox_updates.empty()) {
    auto& s = cached(kUpdateOutbox,
                     "UPDATE outbox SET state = ?2, channel = ?3, attempts = ?4, next_attempt = ?5, hold_until = ?6, "
                     "first_attempt = ?7, last_error = ?8, delivered_at = ?9, route = ?10 WHERE id = ?1");
    for (const auto& u : b.outbox_updates) {
      s.bind(1, u.id).bind(2, u.state).bind(3, u.channel).bind(4, u.attempts).bind(5, u.next_attempt);
      s.bind(6, u.hold_until).bind(7, u.first_attempt).bind(8, u.last_error).bind(9, u.delivered_at);
      s.bind(10, u.route);
      s.run();
    }
  }
  if (!b.definitions.empty()) {
    auto s = db_.prepare(
        "INSERT OR IGNORE INTO definitions (version, workflow, file, text, first_loaded) VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const auto& d : b.definitions) {
      s.bind(1, d.version).bind(2, d.workflow).bind(3, d.file).bind(4, d.text).bind(5, d.first_loaded);
      s.run();
    }
  }
  if (!b.meetings.empty()) {
    auto s = db_.prepare(
        "INSERT OR REPLACE INTO meetings (id, cycle, version, planned, date, state, attended, quorate, amendments, "
        "moved_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    for (const auto& m : b.meetings) {
      s.bind(1, m.id).bind(2, m.cycle).bind(3, m.version).bind(4, m.planned).bind(5, m.date).bind(6, m.state);
      s.bind(7, m.attended).bind(8, m.quorate).bind(9, m.amendments).bind(10, m.moved_reason);
      s.run();
    }
  }
  if (!b.chairs.empty()) {
    auto s = db_.prepare(
        "INSERT OR REPLACE INTO chairs (body, year, person, agency, appointed_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const auto& c : b.chairs) {
      s.bind(1, c.body).bind(2, c.year).bind(3, c.person).bind(4, c.agency).bind(5, c.appointed_at);
      s.run();
    }
  }
  if (!b.meta.empty()) {
    auto s = db_.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)");
    for (const auto& [k, v] : b.meta) {
      s.bind(1, k).bind(2, v);
      s.run();
    }
  }
  t.commit();
  // The chain's head moves only once the records are on disk.
  last_seq_ = seq;
  last_hash_ = prev;
  keyed_from_ = keyed_from;
  {
    std::lock_guard h(head_mu_);
    written_head_ = ChainHead{seq, prev};
    if (wal_.sync_in_write) durable_head_ = written_head_;
  }
  written_outbox_id_ = last_outbox_id;
  if (wal_.sync_in_write) durable_outbox_id_ = last_outbox_id;
  return fresh;
}

std::vector<ReviewRecord> Store::reviews() {
  std::vector<ReviewRecord> out;
  auto s = reader().prepare(std::string(kSelectReviews) + "ORDER BY created_at, ref");
  while (s.step()) out.push_back(review_row(s));
  return out;
}

namespace {

std::vector<DeadlineRecord> deadline_rows(Statement& s) {
  std::vector<DeadlineRecord> out;
  while (s.step()) out.push_back(deadline_row(s));
  s.reset();
  return out;
}

std::vector<std::string> first_column(Statement& s) {
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  s.reset();
  return out;
}


}  // namespace

Statement& Store::cached(int slot, const char* sql) {
  // The slot decides the connection: writes on the writer's, reads on the
  // reader's. The vector is sized in the constructor, so the two threads
  // never touch the same element.
  auto& s = statements_[static_cast<std::size_t>(slot)];
  if (!s) s = std::make_unique<Statement>((slot >= kFirstWrite ? db_ : reader()).prepare(sql));
  return *s;
}

std::vector<DeadlineRecord> Store::deadlines() {
  auto s = reader().prepare(std::string(kSelectDeadlines) + "ORDER BY ref, stage");
  return deadline_rows(s);
}

bool Store::walk_to(Walk& w, std::string_view ref) {
  // Stepping over a row costs a fraction of a seek from the root; past this
  // many rows a seek is cheaper.
  constexpr int kStepsBeforeSeek = 16;
  Statement& s = cached(w.slot, w.sql);
  if (w.on_row && s.view(0) <= ref) {
    for (int i = 0; i < kStepsBeforeSeek; ++i) {
      if (s.view(0) >= ref) return true;
      if (!s.step()) {
        s.reset();
        return w.on_row = false;
      }
    }
    if (s.view(0) >= ref) return true;
  }
  s.reset();
  s.bind(1, ref);
  w.on_row = s.step();
  return w.on_row;
}

std::optional<Store::StoredReview> Store::review_with_deadlines(const std::string& ref) {
  begin_reads();
  if (!walk_to(reviews_walk_, ref)) return std::nullopt;
  Statement& r = cached(reviews_walk_.slot, reviews_walk_.sql);
  if (r.view(0) != ref) return std::nullopt;
  std::optional<StoredReview> out;
  out.emplace();
  out->review = review_row(r);
  if (!walk_to(deadlines_walk_, ref)) return out;
  Statement& d = cached(deadlines_walk_.slot, deadlines_walk_.sql);
  out->deadlines.reserve(8);
  while (d.view(0) == ref) {
    out->deadlines.push_back(deadline_row(d));
    if (!d.step()) {
      d.reset();
      deadlines_walk_.on_row = false;
      break;
    }
  }
  return out;
}

bool Store::has_review(const std::string& ref) {
  auto& s = cached(kHasReview, "SELECT 1 FROM reviews WHERE ref = ?1");
  begin_reads();
  s.bind(1, ref);
  const bool found = s.step();
  s.reset();
  return found;
}

std::vector<DeadlineRecord> Store::meeting_deadlines() {
  // '@' sorts just before 'A', so this is a range of the primary key.
  auto s = reader().prepare(std::string(kSelectDeadlines) + "WHERE ref >= '@' AND ref < 'A' ORDER BY ref, stage");
  return deadline_rows(s);
}

std::vector<TimerKey> Store::timers_after(const TimerKey& after, int limit) {
  auto& s = cached(kTimers,
                   "SELECT next_fire, ref, stage FROM deadlines WHERE next_fire != 0 AND "
                   "(next_fire, ref, stage) > (?1, ?2, ?3) ORDER BY next_fire, ref, stage LIMIT ?4");
  begin_reads();
  s.bind(1, after.at).bind(2, after.ref).bind(3, after.stage).bind(4, limit);
  std::vector<TimerKey> out;
  while (s.step()) out.push_back({s.integer(0), s.text(1), s.text(2)});
  s.reset();
  return out;
}

std::vector<std::string> Store::open_refs(int limit) {
  auto s = reader().prepare("SELECT ref FROM reviews WHERE state IN ('open', 'paused') ORDER BY ref LIMIT ?1");
  s.bind(1, limit);
  return first_column(s);
}

std::int64_t Store::open_count() {
  auto s = reader().prepare("SELECT count(*) FROM reviews WHERE state IN ('open', 'paused')");
  s.step();
  return s.integer(0);
}

std::vector<std::string> Store::overdue_refs() {
  auto s = reader().prepare(
      "SELECT DISTINCT ref FROM deadlines WHERE state IN ('overdue', 'escalated') AND NOT (ref >= '@' AND ref < 'A') "
      "ORDER BY ref");
  return first_column(s);
}

std::vector<std::string> Store::refs_due_between(const std::string& from, const std::string& to) {
  auto s = reader().prepare(
      "SELECT DISTINCT ref FROM deadlines WHERE due BETWEEN ?1 AND ?2 AND state NOT IN ('met', 'waived') AND "
      "NOT (ref >= '@' AND ref < 'A') ORDER BY ref");
  s.bind(1, from).bind(2, to);
  return first_column(s);
}

std::vector<std::tuple<std::string, std::string, std::int64_t>> Store::running_versions() {
  auto s = reader().prepare(
      "SELECT workflow, version, count(*) FROM reviews WHERE state IN ('open', 'paused') GROUP BY workflow, version");
  std::vector<std::tuple<std::string, std::string, std::int64_t>> out;
  while (s.step()) out.emplace_back(s.text(0), s.text(1), s.integer(2));
  return out;
}

std::vector<OutboxMessage> Store::outbox(const std::string& state) {
  std::vector<OutboxMessage> out;
  auto s = reader().prepare(std::string("SELECT ") + kOutboxColumns + " FROM outbox " +
                       (state.empty() ? "" : "WHERE state = ?1 ") + "ORDER BY id");
  if (!state.empty()) s.bind(1, state);
  while (s.step()) out.push_back(outbox_row(s));
  return out;
}

std::optional<OutboxMessage> Store::outbox_message(std::int64_t id) {
  auto s = reader().prepare(std::string("SELECT ") + kOutboxColumns + " FROM outbox WHERE id = ?1");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return outbox_row(s);
}

std::vector<OutboxMessage> Store::outbox_ready(std::int64_t wall_ms, std::int64_t now_s, int limit,
                                               OutboxPosition after) {
  // Two ranges of the index rather than `(next_attempt, id) > (?4, ?5)`:
  // SQLite seeks that on next_attempt alone (id is the rowid) and stepped
  // over every row of the same next_attempt before the cursor. A backlog of
  // 100,000 messages never tried (next_attempt 0) made each pump read them
  // all again, and the event loop answered nothing, a stop included, for
  // seconds on end.
  static const std::string ready =
      std::string("SELECT ") + kOutboxColumns +
      " FROM outbox WHERE state = 'pending' AND next_attempt <= ?1 AND hold_until <= ?2 AND id <= ?6 ";
  static const std::string sql = "SELECT * FROM (" + ready + "AND next_attempt = ?4 AND id > ?5 ORDER BY id LIMIT ?3) " +
                                 "UNION ALL SELECT * FROM (" + ready +
                                 "AND next_attempt > ?4 ORDER BY next_attempt, id LIMIT ?3) " +
                                 "ORDER BY next_attempt, id LIMIT ?3";
  auto& s = cached(kOutboxReady, sql.c_str());
  s.bind(1, wall_ms).bind(2, now_s).bind(3, limit).bind(4, after.next_attempt).bind(5, after.id);
  s.bind(6, static_cast<std::int64_t>(durable_outbox_id_));
  std::vector<OutboxMessage> out;
  while (s.step()) out.push_back(outbox_row(s));
  s.reset();
  return out;
}

std::vector<OutboxMessage> Store::outbox_queue(const std::string& route, std::int64_t wall_ms, std::int64_t now_s,
                                               int limit, QueuePosition after) {
  // Three ranges of the index rather than one row-value comparison, which
  // SQLite would seek on its first column alone (see outbox_ready).
  static const std::string ready =
      std::string("SELECT ") + kOutboxColumns +
      " FROM outbox WHERE state = 'pending' AND route = ?7 AND next_attempt <= ?1 AND hold_until <= ?2 AND id <= ?6 ";
  static const std::string sql =
      "SELECT * FROM (" + ready + "AND priority = ?8 AND next_attempt = ?4 AND id > ?5 ORDER BY id LIMIT ?3) " +
      "UNION ALL SELECT * FROM (" + ready + "AND priority = ?8 AND next_attempt > ?4 ORDER BY next_attempt, id LIMIT ?3) " +
      "UNION ALL SELECT * FROM (" + ready + "AND priority > ?8 ORDER BY priority, next_attempt, id LIMIT ?3) " +
      "ORDER BY priority, next_attempt, id LIMIT ?3";
  auto& s = cached(kOutboxQueue, sql.c_str());
  s.bind(1, wall_ms).bind(2, now_s).bind(3, limit).bind(4, after.next_attempt).bind(5, after.id);
  s.bind(6, static_cast<std::int64_t>(durable_outbox_id_)).bind_static(7, route).bind(8, after.priority);
  std::vector<OutboxMessage> out;
  while (s.step()) out.push_back(outbox_row(s));
  s.reset();
  return out;
}

std::vector<std::string> Store::outbox_routes() {
  // One seek per route in the queue index, however many rows wait.
  auto& s = cached(kOutboxRoutes,
                   "WITH RECURSIVE r(route) AS (SELECT min(route) FROM outbox WHERE state = 'pending' UNION ALL "
                   "SELECT (SELECT min(route) FROM outbox WHERE state = 'pending' AND route > r.route) FROM r "
                   "WHERE r.route IS NOT NULL) SELECT route FROM r WHERE route IS NOT NULL");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  s.reset();
  return out;
}

std::int64_t Store::read_steps() const {
  std::int64_t steps = 0;
  for (std::size_t slot = 0; slot < static_cast<std::size_t>(kFirstWrite); ++slot) {
    if (statements_[slot]) steps += statements_[slot]->vm_steps();
  }
  return steps;
}

std::optional<std::int64_t> Store::outbox_next_attempt(std::int64_t after_wall_ms) {
  auto& s = cached(kOutboxNextAttempt,
                   "SELECT next_attempt FROM outbox WHERE state = 'pending' AND next_attempt > ?1 "
                   "ORDER BY next_attempt LIMIT 1");
  s.bind(1, after_wall_ms);
  std::optional<std::int64_t> at;
  if (s.step()) at = s.integer(0);
  s.reset();
  return at;
}

std::optional<std::int64_t> Store::outbox_next_hold(std::int64_t after_s) {
  // Runs after every commit: an index of the held rows alone keeps it cheap
  // however many messages are pending.
  auto& s = cached(kOutboxNextHold,
                   "SELECT MIN(hold_until) FROM outbox WHERE state = 'pending' AND hold_until > 0 AND hold_until > ?1");
  s.bind(1, after_s);
  std::optional<std::int64_t> at;
  if (s.step() && !s.is_null(0)) at = s.integer(0);
  s.reset();
  return at;
}

std::vector<AuditRecord> Store::audit(const std::string& ref) {
  std::vector<AuditRecord> out;
  auto s = reader().prepare(
      "SELECT seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash FROM audit "
      "WHERE ?1 = '' OR ref = ?1 ORDER BY seq");
  s.bind(1, ref);
  while (s.step()) out.push_back(audit_row(s));
  return out;
}

std::optional<DefinitionText> Store::definition(const std::string& version) {
  auto s = reader().prepare("SELECT version, workflow, file, text, first_loaded FROM definitions WHERE version = ?1");
  s.bind(1, version);
  if (!s.step()) return std::nullopt;
  return DefinitionText{s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4)};
}

std::vector<MeetingRecord> Store::meetings() {
  std::vector<MeetingRecord> out;
  auto s = reader().prepare(
      "SELECT id, cycle, version, planned, date, state, attended, quorate, amendments, moved_reason FROM meetings "
      "ORDER BY date, id");
  while (s.step()) out.push_back(meeting_row(s));
  return out;
}

std::vector<ChairRecord> Store::chairs() {
  std::vector<ChairRecord> out;
  auto s = reader().prepare("SELECT body, year, person, agency, appointed_at FROM chairs ORDER BY body, year");
  while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4)});
  return out;
}

const std::vector<std::string>& Store::migrations() {
  static const std::vector<std::string> steps(std::begin(kMigrations), std::end(kMigrations));
  return steps;
}

std::optional<std::string> Store::meta(const std::string& key) {
  auto s = reader().prepare("SELECT value FROM meta WHERE key = ?1");
  s.bind(1, key);
  if (s.step()) return s.text(0);
  return std::nullopt;
}

}  // namespace docket::store
