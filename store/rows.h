#pragma once
// One result row as a record, for each table, in the tables' column order;
// shared by the daemon's Store and the read-only Reader so a column added to
// a table is read in one place.

#include "store/sqlite.h"
#include "store/store.h"

namespace docket::store {

// ref, stage, state, due, due_at, fixed_due, opened_on, reminders_sent,
// rungs_sent, repeats_sent, completed_on, outcome, extended, next_fire
DeadlineRecord deadline_row(const Statement& s);
// ref, workflow, version, title, state, start, assignments, dates, paused_on,
// parent_ref, created_at
ReviewRecord review_row(const Statement& s);
// id, cycle, version, planned, date, state, attended, quorate, amendments,
// moved_reason
MeetingRecord meeting_row(const Statement& s);
// seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash
AuditRecord audit_row(const Statement& s);
// id, key, created_at, kind, ref, stage, person, role, payload, late, state,
// channel, attempts, next_attempt, hold_until, first_attempt, last_error,
// delivered_at, route, priority
OutboxMessage outbox_row(const Statement& s);
inline constexpr const char* kOutboxColumns =
    "id, key, created_at, kind, ref, stage, person, role, payload, late, state, channel, attempts, next_attempt, "
    "hold_until, first_attempt, last_error, delivered_at, route, priority";

}  // namespace docket::store
