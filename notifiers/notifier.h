#pragma once
// The seam between the daemon and the ways a message reaches a person.
//
// The daemon renders a notification into a Message (it knows reviews,
// deadlines and people; this library does not) and hands it to the Notifier
// of the recipient's channel. The Notifier makes one delivery attempt and says
// how it went: delivered, a temporary failure worth retrying later, or a
// permanent one that no retry will fix. Retrying, backing off, dead-lettering
// and auditing are the caller's business (see backoff.h).

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace docket::notifiers {

// Values for `{placeholder}`s, by name (see template.h).
using Values = std::map<std::string, std::string, std::less<>>;

struct Recipient {
  std::string address;  // e-mail address; ignored by channels with a fixed destination (webhook, log)
  std::string name;     // display name, may be empty or non-ASCII
};

struct Message {
  // Identifies the notification across every attempt and every restart: a
  // retry carries the same key, so receivers (and the Message-ID derived from
  // it) can tell a repeat from a new message.
  std::string idempotency_key;
  Recipient to;
  std::string subject;  // UTF-8, one line
  std::string text;     // UTF-8 plain-text body, '\n' line ends
  // A JSON document for webhooks (generic receivers); when absent a webhook
  // posts a document built from the fields below.
  std::optional<std::string> json;
  // The values the daemon declared as placeholders (SettingsContext::
  // placeholders): channels with their own templates render from these.
  Values fields;
  // When the notification was made; the e-mail Date header. Retries keep it.
  std::chrono::system_clock::time_point created_at;
};

enum class Outcome {
  delivered,
  temporary,  // try again later: the peer is down, slow, busy or said 4xx
  permanent,  // do not retry: the peer refused this message for good
};

std::string to_string(Outcome o);

struct Delivery {
  Outcome outcome = Outcome::temporary;
  // One line for the audit trail and the log: what the peer said or what went
  // wrong. Never holds a secret (password, webhook secret or secret URL).
  std::string detail;
  // The peer's own request to wait (HTTP Retry-After in seconds), if any.
  std::optional<std::chrono::seconds> retry_after;

  bool ok() const { return outcome == Outcome::delivered; }
};

// One channel's way of delivering. deliver() blocks for at most the channel's
// configured timeouts, never throws for a delivery problem, and may be called
// from several threads at once (each call uses its own connection).
class Notifier {
 public:
  virtual ~Notifier() = default;
  virtual Delivery deliver(const Message& message) = 0;
};

}  // namespace docket::notifiers
