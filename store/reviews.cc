// Reviews and their deadline rows: write()'s inserts and upserts of them,
// and every read of them, from the whole table to the point reads (with
// their walks in ref order) of a daemon that holds only part of its reviews.

#include "store/rows.h"
#include "store/store.h"
#include "store/store_sql.h"

namespace docket::store {

namespace {

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

// Rows in review_row's and deadline_row's column order.
constexpr const char* kSelectReviews =
    "SELECT ref, workflow, version, title, state, start, assignments, dates, paused_on, parent_ref, created_at "
    "FROM reviews ";
constexpr const char* kSelectDeadlines =
    "SELECT ref, stage, state, due, due_at, fixed_due, opened_on, reminders_sent, rungs_sent, repeats_sent, "
    "completed_on, outcome, extended, next_fire FROM deadlines ";

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

const char* detail::reviews_from_sql() {
  static const std::string sql = std::string(kSelectReviews) + "WHERE ref >= ?1 ORDER BY ref";
  return sql.c_str();
}

const char* detail::deadlines_from_sql() {
  static const std::string sql = std::string(kSelectDeadlines) + "WHERE ref >= ?1 ORDER BY ref, stage";
  return sql.c_str();
}

void Store::write_reviews(const std::vector<ReviewRecord>& rows) {
  if (rows.empty()) return;
  // Rows go in order, so a review saved twice in the batch keeps its last state.
  static const std::string one = detail::values_sql(kInsertReviewSql, kReviewColumns, 1);
  static const std::string many = detail::values_sql(kInsertReviewSql, kReviewColumns, detail::kRowsPerInsert);
  detail::insert_rows(cached(detail::kInsertReview, one.c_str()), cached(detail::kInsertReviewMany, many.c_str()),
                      rows.size(), kReviewColumns, [&](Statement& s, int o, std::size_t i) {
                        const ReviewRecord& r = rows[i];
                        s.bind_static(o + 1, r.ref).bind_static(o + 2, r.workflow).bind_static(o + 3, r.version);
                        s.bind_static(o + 4, r.title).bind_static(o + 5, r.state).bind_static(o + 6, r.start);
                        s.bind_static(o + 7, r.assignments).bind_static(o + 8, r.dates);
                        s.bind_static(o + 9, r.paused_on).bind_static(o + 10, r.parent_ref);
                        s.bind(o + 11, r.created_at);
                      });
}

void Store::write_deadlines(const std::vector<DeadlineRecord>& rows) {
  if (rows.empty()) return;
  // An upsert, not INSERT OR REPLACE: an update rewrites only the indexes
  // whose columns changed. Rows go in order: the last save of a row wins.
  static const std::string one = detail::values_sql(kInsertDeadlineSql, kDeadlineColumnCount, 1) + kUpsertDeadlineSql;
  static const std::string many =
      detail::values_sql(kInsertDeadlineSql, kDeadlineColumnCount, detail::kRowsPerInsert) + kUpsertDeadlineSql;
  Statement& single = cached(detail::kInsertDeadline, one.c_str());
  Statement& multi = cached(detail::kInsertDeadlineMany, many.c_str());
  // A timed event changes only the timing columns; updating just those
  // leaves the due-date index alone (SQLite rewrites every index a SET names).
  Statement& timing = cached(detail::kUpdateTiming,
                             "UPDATE deadlines SET state = ?3, reminders_sent = ?4, rungs_sent = ?5, "
                             "repeats_sent = ?6, next_fire = ?7 WHERE ref = ?1 AND stage = ?2");
  std::vector<const DeadlineRecord*> whole;  // rows to write whole, in order, up to the next timing update
  auto write_whole = [&] {
    detail::insert_rows(single, multi, whole.size(), kDeadlineColumnCount, [&](Statement& s, int o, std::size_t k) {
      const DeadlineRecord& d = *whole[k];
      s.bind_static(o + 1, d.ref).bind_static(o + 2, d.stage).bind_static(o + 3, d.state).bind_static(o + 4, d.due);
      s.bind_static(o + 5, d.due_at).bind_static(o + 6, d.fixed_due).bind_static(o + 7, d.opened_on);
      s.bind(o + 8, d.reminders_sent).bind(o + 9, d.rungs_sent).bind(o + 10, d.repeats_sent);
      s.bind_static(o + 11, d.completed_on).bind_static(o + 12, d.outcome).bind(o + 13, d.extended ? 1 : 0);
      s.bind(o + 14, d.next_fire);
    });
    whole.clear();
  };
  for (const auto& d : rows) {
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

std::vector<ReviewRecord> Store::reviews() {
  std::vector<ReviewRecord> out;
  auto s = reader().prepare(std::string(kSelectReviews) + "ORDER BY created_at, ref");
  while (s.step()) out.push_back(review_row(s));
  return out;
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
  auto& s = cached(detail::kHasReview, "SELECT 1 FROM reviews WHERE ref = ?1");
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
  auto& s = cached(detail::kTimers,
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

}  // namespace docket::store
