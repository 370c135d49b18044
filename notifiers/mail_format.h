#pragma once
// The pieces of an RFC 5322 / MIME message, kept apart from the SMTP
// transport so each can be tested on its own. Every function returns ASCII
// with CRLF line ends and lines of at most 78 characters where the standards
// ask for it.

#include <chrono>
#include <string>
#include <string_view>

#include "notifiers/notifier.h"

namespace docket::notifiers::mail {

// "Thu, 05 Mar 2026 09:00:00 +0000" (RFC 5322 3.3, in UTC).
std::string date(std::chrono::system_clock::time_point t);

// A plain addr-spec: local@domain with no quoting, comments, spaces, control
// or non-ASCII characters. The only addresses docket writes or accepts.
bool plain_address(std::string_view address);

// The domain of a plain address ("example.org" for "docket@example.org").
std::string domain_of(std::string_view address);

// "<first 32 hex digits of SHA-256(key)@docket.DOMAIN>": the same key gives
// the same Message-ID, so a resent message is recognisably the same one.
std::string message_id(std::string_view idempotency_key, std::string_view domain);

// The body of an unstructured header (Subject) that starts `used` characters
// into its line ("Subject: " is 9): printable ASCII as it is, folded at
// spaces to fit 78 columns; anything else as RFC 2047 UTF-8 encoded-words,
// split between characters. CR, LF and other control characters become
// spaces (a header cannot be made to carry a second one).
std::string header_text(std::string_view text, std::size_t used);

// `"Name" <address>`, the name as encoded-words when not ASCII, or just the
// address when the name is empty. `used` as for header_text.
std::string mailbox(std::string_view name, std::string_view address, std::size_t used);

// RFC 2045 quoted-printable of UTF-8 text: '\n' or "\r\n" become CRLF line
// breaks; lines are soft-broken to at most 76 characters; a line-leading '.'
// is left to the SMTP client to dot-stuff.
std::string quoted_printable(std::string_view text);

struct Sender {
  std::string name;     // may be empty
  std::string address;  // a plain address
};

// The whole message: Date (from message.created_at), From, To, Subject,
// Message-ID, MIME-Version, Content-Type text/plain; charset=UTF-8,
// Content-Transfer-Encoding quoted-printable, Auto-Submitted: auto-generated,
// then the body. `subject` and `text` are the rendered ones to send.
std::string compose(const Message& message, const Sender& from, std::string_view subject, std::string_view text);

}  // namespace docket::notifiers::mail
