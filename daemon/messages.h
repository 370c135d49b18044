#pragma once
// From an outbox row to the message a person reads: the daemon knows
// reviews, meetings and people; the notifiers know none of them. A row's
// payload is read as a typed notice (notice.h), never by its keys here.
//
// Values are worked out when the message is sent, not when it was queued, so
// a reminder held overnight by quiet hours says "1 working day" in the
// morning, not the "2" of the evening before.

#include <vector>

#include "daemon/clock.h"
#include "daemon/delivery_settings.h"
#include "notifiers/notifier.h"
#include "store/store.h"

namespace docket::daemon {

// The placeholder values of one outbox row (see message_placeholders()).
notifiers::Values message_values(const store::OutboxMessage& m, const workflows::Config& config,
                                 const DeliverySettings& delivery, Instant now);

// The message for one outbox row, addressed through the directory. `now` is
// docket's clock (virtual when rehearsing).
notifiers::Message render_message(const store::OutboxMessage& m, const workflows::Config& config,
                                  const DeliverySettings& delivery, Instant now);

// One message gathering a person's rows (reminders held for their digest).
// Its own key is `digest:PERSON:DAY`.
notifiers::Message render_digest(const std::string& key, const std::string& person,
                                 const std::vector<store::OutboxMessage>& items, const workflows::Config& config,
                                 const DeliverySettings& delivery, Instant now);

// The local day of `now` on the daemon's calendar.
workflows::Day local_day(const workflows::Config& config, Instant now);

}  // namespace docket::daemon
