#pragma once
// Internal to Store's own .cc files (store.cc, schema.cc, reviews.cc,
// audit_chain.cc, outbox.cc, small_tables.cc): the slots of the statements
// a Store keeps prepared, and the multi-row INSERTs its write() appends with.

#include <cstddef>
#include <string>
#include <string_view>

#include "store/sqlite.h"

namespace docket::store::detail {

// Cached statements (Store::cached). The slot decides the connection: reads
// before kFirstWrite, writes from it on.
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
inline constexpr std::size_t kRowsPerInsert = 32;

// How many rows the next statement of a multi-row append takes, with
// `left` rows still to go: a whole multi-row statement, else one.
inline std::size_t rows_in_next(std::size_t left) { return left >= kRowsPerInsert ? kRowsPerInsert : 1; }

// Runs `single` (one row) or `multi` (kRowsPerInsert rows) over `count` rows
// in order; bind(statement, offset, row) binds a row's `columns` values after
// parameter `offset`.
template <typename Bind>
void insert_rows(Statement& single, Statement& multi, std::size_t count, int columns, Bind bind) {
  for (std::size_t i = 0; i < count;) {
    const std::size_t rows = rows_in_next(count - i);
    Statement& s = rows == 1 ? single : multi;
    for (std::size_t r = 0; r < rows; ++r, ++i) bind(s, static_cast<int>(r) * columns, i);
    s.run();
  }
}

// "<head> VALUES (?1, ..., ?c), (?c+1, ...)" for `rows` rows of `columns`.
std::string values_sql(std::string_view head, int columns, std::size_t rows);

// The walks of Store::review_with_deadlines: rows from a ref on, in ref order.
const char* reviews_from_sql();
const char* deadlines_from_sql();

}  // namespace docket::store::detail
