// Store's schema: the migration steps from an empty file to kSchemaVersion,
// and migrate(), which the constructor runs. A new table or column is a new
// step at the end of kMigrations.

#include <iterator>
#include <string>

#include "store/store.h"

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

}  // namespace

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

const std::vector<std::string>& Store::migrations() {
  static const std::vector<std::string> steps(std::begin(kMigrations), std::end(kMigrations));
  return steps;
}

}  // namespace docket::store
