// The Store itself: opening (pragmas, migration, the chain's tail), write()
// as its steps in one transaction, the two connections and the read
// transaction they share, syncing the log and restarting it. Each table's
// rows are written and read in the file that owns the table: reviews.cc,
// audit_chain.cc, outbox.cc, small_tables.cc; the schema is in schema.cc.

#include "store/store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "store/store_sql.h"

namespace docket::store {

std::string detail::values_sql(std::string_view head, int columns, std::size_t rows) {
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

Store::Store(const std::filesystem::path& path, std::string clock, WalSettings wal,
             std::shared_ptr<const AuditKey> key)
    : db_(path, Connection::Mode::read_write),
      wal_(wal),
      clock_(std::move(clock)),
      key_(std::move(key)),
      reviews_walk_{detail::kReviewsFrom, detail::reviews_from_sql()},
      deadlines_walk_{detail::kDeadlinesFrom, detail::deadlines_from_sql()} {
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
  statements_.resize(detail::kSlots);
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
    tail_.seq = last.integer(0);
    tail_.hash = last.text(1);
  }
  written_head_ = durable_head_ = ChainHead{tail_.seq, tail_.hash};
  auto keyed = db_.prepare("SELECT seq FROM audit WHERE kind = 'audit.keyed' ORDER BY seq LIMIT 1");
  if (keyed.step()) tail_.keyed_from = keyed.integer(0);
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
  write_reviews(b.reviews);
  write_deadlines(b.deadlines);
  AuditTail tail = append_audit(b.audit);
  const std::int64_t last_outbox_id = insert_outbox(b.outbox, report, fresh);
  update_outbox(b.outbox_updates);
  write_definitions(b.definitions);
  write_meetings(b.meetings);
  write_chairs(b.chairs);
  write_meta(b.meta);
  t.commit();
  written(std::move(tail), last_outbox_id);
  return fresh;
}

void Store::written(AuditTail tail, std::int64_t last_outbox_id) {
  // The chain's head moves only once the records are on disk.
  {
    std::lock_guard h(head_mu_);
    written_head_ = ChainHead{tail.seq, tail.hash};
    if (wal_.sync_in_write) durable_head_ = written_head_;
  }
  tail_ = std::move(tail);
  written_outbox_id_ = last_outbox_id;
  if (wal_.sync_in_write) durable_outbox_id_ = last_outbox_id;
}

Statement& Store::cached(int slot, const char* sql) {
  // The slot decides the connection: writes on the writer's, reads on the
  // reader's. The vector is sized in the constructor, so the two threads
  // never touch the same element.
  auto& s = statements_[static_cast<std::size_t>(slot)];
  if (!s) s = std::make_unique<Statement>((slot >= detail::kFirstWrite ? db_ : reader()).prepare(sql));
  return *s;
}

std::int64_t Store::read_steps() const {
  std::int64_t steps = 0;
  for (std::size_t slot = 0; slot < static_cast<std::size_t>(detail::kFirstWrite); ++slot) {
    if (statements_[slot]) steps += statements_[slot]->vm_steps();
  }
  return steps;
}

}  // namespace docket::store
