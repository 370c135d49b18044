#pragma once
// What a deadline, a timed event, an outbox row or an audit record belongs
// to: a review or a meeting. Code asks an owner's kind; it never looks at
// how the key is spelt.
//
// The store keeps an owner in one text column. A review's key is its
// reference; a meeting's is "@body/2026-06-09" (the body and the date first
// planned) and a body's, for its chair appointments, "@body". No reference
// begins with '@' (input_rules.h), so the stored forms never meet, and
// databases written before this type existed read the same. This file is
// the only one that knows the '@'.

#include <string>
#include <string_view>

#include "workflows/dates.h"

namespace docket::daemon {

enum class OwnerKind { review, meeting };

// The kind of the owner a stored key names (a store::TimerKey's, an outbox
// row's or an audit record's `ref`).
inline OwnerKind owner_kind(std::string_view key) {
  return !key.empty() && key.front() == '@' ? OwnerKind::meeting : OwnerKind::review;
}

// The stored key of a body's meeting first planned on `planned`.
inline std::string meeting_key(std::string_view body, workflows::Day planned) {
  return "@" + std::string(body) + "/" + workflows::iso(planned);
}

// The stored key of a meeting body itself (its chair appointments' audit).
inline std::string body_key(std::string_view body) { return "@" + std::string(body); }

}  // namespace docket::daemon
