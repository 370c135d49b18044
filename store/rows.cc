#include "store/rows.h"

namespace docket::store {

DeadlineRecord deadline_row(const Statement& s) {
  DeadlineRecord d;
  d.ref = s.text(0);
  d.stage = s.text(1);
  d.state = s.text(2);
  d.due = s.text(3);
  d.due_at = s.text(4);
  d.fixed_due = s.text(5);
  d.opened_on = s.text(6);
  d.reminders_sent = static_cast<int>(s.integer(7));
  d.rungs_sent = static_cast<int>(s.integer(8));
  d.repeats_sent = static_cast<int>(s.integer(9));
  d.completed_on = s.text(10);
  d.outcome = s.text(11);
  d.extended = s.integer(12) != 0;
  d.next_fire = s.integer(13);
  return d;
}

ReviewRecord review_row(const Statement& s) {
  return {s.text(0), s.text(1), s.text(2), s.text(3), s.text(4),     s.text(5),
          s.text(6), s.text(7), s.text(8), s.text(9), s.integer(10)};
}

MeetingRecord meeting_row(const Statement& s) {
  return {s.text(0), s.text(1), s.text(2), s.text(3), s.text(4),
          s.text(5), s.text(6), static_cast<int>(s.integer(7)), s.text(8), s.text(9)};
}

AuditRecord audit_row(const Statement& s) {
  AuditRecord r;
  r.seq = s.integer(0);
  r.at = s.integer(1);
  r.actor = s.text(2);
  r.kind = s.text(3);
  r.ref = s.text(4);
  r.stage = s.text(5);
  r.details = s.text(6);
  r.version = s.text(7);
  r.clock = s.text(8);
  r.prev_hash = s.text(9);
  r.hash = s.text(10);
  return r;
}

OutboxMessage outbox_row(const Statement& s) {
  OutboxMessage m;
  m.id = s.integer(0);
  m.key = s.text(1);
  m.created_at = s.integer(2);
  m.kind = s.text(3);
  m.ref = s.text(4);
  m.stage = s.text(5);
  m.person = s.text(6);
  m.role = s.text(7);
  m.payload = s.text(8);
  m.late = s.integer(9) != 0;
  m.state = s.text(10);
  m.channel = s.text(11);
  m.attempts = static_cast<int>(s.integer(12));
  m.next_attempt = s.integer(13);
  m.hold_until = s.integer(14);
  m.first_attempt = s.integer(15);
  m.last_error = s.text(16);
  m.delivered_at = s.integer(17);
  m.route = s.text(18);
  m.priority = static_cast<int>(s.integer(19));
  return m;
}

}  // namespace docket::store
