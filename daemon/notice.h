#pragma once
// A notice: what docket tells a person about a review's stage or a meeting's
// milestone (a reminder, an escalation, a pause, an inquorate meeting). The
// engine builds one when a timed event fires or a command calls for it;
// notice_payload() writes it into the outbox row, and messages.cc reads it
// back with read_notice() when the row is sent. This file is the only one
// that knows the stored keys.
//
// The stored payload is the JSON text docket has always written, so rows
// queued by earlier versions still deliver: a review's notice is keyed
// workflow/stage, a meeting's body/milestone/meeting. A key missing from an
// old row reads as empty.

#include <optional>
#include <string>

#include "daemon/owner.h"
#include "store/store.h"
#include "workflows/calendar.h"
#include "workflows/dates.h"

namespace docket::daemon {

struct Notice {
  std::string kind;  // "reminder", "escalation", "paused", "inquorate"
  OwnerKind about = OwnerKind::review;
  std::string ref;                        // the owner's stored key (a review's reference)
  std::optional<workflows::Day> meeting;  // a meeting's date
  std::string type;        // the review type, or the meeting's body
  std::string type_title;  // its title
  std::string item;        // the stage or milestone; empty for a meeting as a whole
  std::string item_title;
  std::optional<workflows::Day> due;
  std::optional<workflows::LocalTime> due_at;  // deadlines in clock hours
  std::string role;                            // the role the person is told as
  bool late = false;                           // sent more than five minutes after its time
  int rung = 0;                                // an escalation's rung, from 1
  int repeat = 0;                              // repeats of the last rung
  std::string note;                            // e.g. why the business manager hears instead
  // A review's days left when queued, on the review's calendar: stored for
  // the record; a message counts again when it is sent (messages.h).
  std::optional<int> working_days_left;

  // Working days from `today` to the due day (negative once overdue; 0 with
  // no due day). The one count of days left, at queueing and at sending.
  int days_left(const workflows::Calendar& cal, workflows::Day today) const;
};

// The payload text of an outbox row.
std::string notice_payload(const Notice& n);

// The notice an outbox row holds (its kind, ref and role come from the row's
// columns). Never fails: a payload that is not an object reads as empty.
Notice read_notice(const store::OutboxMessage& row);

// A published head of the audit trail, as daemon/audit_publisher.h queues it
// for the `audit-head` recipient; fields as stored text.
struct AuditHeadNotice {
  std::string seq, hash, published, signature, public_key, key_id;
};
AuditHeadNotice read_audit_head(const store::OutboxMessage& row);

}  // namespace docket::daemon
