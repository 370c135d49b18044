// The outbox: write()'s insert of a batch's new messages (idempotent by
// key) and of the dispatcher's delivery updates, and the reads the
// dispatcher takes ready messages by (in order, per channel queue, never
// beyond the last row that is durable).

#include <algorithm>

#include "store/rows.h"
#include "store/store.h"
#include "store/store_sql.h"

namespace docket::store {

namespace {

constexpr int kOutboxInsertColumns = 13;
constexpr const char* kInsertOutboxSql =
    "INSERT OR IGNORE INTO outbox (key, created_at, kind, ref, stage, person, role, payload, late, state, route, "
    "priority, next_attempt)";

// Adds rows [first, end) that RETURNING named as `inserted` (id, key) to
// `fresh`, with their ids; those not named were already stored.
void add_new_rows(const std::vector<OutboxMessage>& rows, std::size_t first, std::size_t end,
                  std::vector<std::pair<std::int64_t, std::string>>& inserted, std::vector<OutboxMessage>& fresh) {
  for (std::size_t k = first; k < end && !inserted.empty(); ++k) {
    auto it = std::find_if(inserted.begin(), inserted.end(), [&](const auto& x) { return x.second == rows[k].key; });
    if (it == inserted.end()) continue;
    OutboxMessage& copy = fresh.emplace_back(rows[k]);
    copy.id = it->first;
    inserted.erase(it);  // a key twice in one batch: the first is the new row
  }
}

}  // namespace

std::int64_t Store::insert_outbox(const std::vector<OutboxMessage>& rows, Fresh report,
                                  std::vector<OutboxMessage>& fresh) {
  std::int64_t last_outbox_id = written_outbox_id_;
  if (rows.empty()) return last_outbox_id;
  static const std::string one = detail::values_sql(kInsertOutboxSql, kOutboxInsertColumns, 1) + " RETURNING id, key";
  static const std::string many =
      detail::values_sql(kInsertOutboxSql, kOutboxInsertColumns, detail::kRowsPerInsert) + " RETURNING id, key";
  Statement& single = cached(detail::kInsertOutbox, one.c_str());
  Statement& multi = cached(detail::kInsertOutboxMany, many.c_str());
  std::vector<std::pair<std::int64_t, std::string>> inserted;
  for (std::size_t i = 0; i < rows.size();) {
    const std::size_t first = i;
    const std::size_t count = detail::rows_in_next(rows.size() - i);
    Statement& s = count == 1 ? single : multi;
    for (std::size_t r = 0; r < count; ++r, ++i) {
      const OutboxMessage& m = rows[i];
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
    add_new_rows(rows, first, i, inserted, fresh);
  }
  return last_outbox_id;
}

void Store::update_outbox(const std::vector<OutboxUpdate>& updates) {
  if (updates.empty()) return;
  auto& s = cached(detail::kUpdateOutbox,
                   "UPDATE outbox SET state = ?2, channel = ?3, attempts = ?4, next_attempt = ?5, hold_until = ?6, "
                   "first_attempt = ?7, last_error = ?8, delivered_at = ?9, route = ?10 WHERE id = ?1");
  for (const auto& u : updates) {
    s.bind(1, u.id).bind(2, u.state).bind(3, u.channel).bind(4, u.attempts).bind(5, u.next_attempt);
    s.bind(6, u.hold_until).bind(7, u.first_attempt).bind(8, u.last_error).bind(9, u.delivered_at);
    s.bind(10, u.route);
    s.run();
  }
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
  auto& s = cached(detail::kOutboxReady, sql.c_str());
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
  auto& s = cached(detail::kOutboxQueue, sql.c_str());
  s.bind(1, wall_ms).bind(2, now_s).bind(3, limit).bind(4, after.next_attempt).bind(5, after.id);
  s.bind(6, static_cast<std::int64_t>(durable_outbox_id_)).bind_static(7, route).bind(8, after.priority);
  std::vector<OutboxMessage> out;
  while (s.step()) out.push_back(outbox_row(s));
  s.reset();
  return out;
}

std::vector<std::string> Store::outbox_routes() {
  // One seek per route in the queue index, however many rows wait.
  auto& s = cached(detail::kOutboxRoutes,
                   "WITH RECURSIVE r(route) AS (SELECT min(route) FROM outbox WHERE state = 'pending' UNION ALL "
                   "SELECT (SELECT min(route) FROM outbox WHERE state = 'pending' AND route > r.route) FROM r "
                   "WHERE r.route IS NOT NULL) SELECT route FROM r WHERE route IS NOT NULL");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  s.reset();
  return out;
}

std::optional<std::int64_t> Store::outbox_next_attempt(std::int64_t after_wall_ms) {
  auto& s = cached(detail::kOutboxNextAttempt,
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
  auto& s = cached(detail::kOutboxNextHold,
                   "SELECT MIN(hold_until) FROM outbox WHERE state = 'pending' AND hold_until > 0 AND hold_until > ?1");
  s.bind(1, after_s);
  std::optional<std::int64_t> at;
  if (s.step() && !s.is_null(0)) at = s.integer(0);
  s.reset();
  return at;
}

}  // namespace docket::store
