#pragma once
// Digests for webhook signatures and Message-IDs (OpenSSL libcrypto).
//
// A webhook receiver verifies a delivery by computing
//   hex(HMAC-SHA256(secret, X-Docket-Timestamp + "." + body))
// and comparing it, in constant time, with the value after "sha256=" in
// X-Docket-Signature; it rejects timestamps too far from its own clock (five
// minutes, say) so a captured request cannot be replayed later, and uses
// Idempotency-Key to ignore a retry of a message it already has.

#include <string>
#include <string_view>

namespace docket::notifiers {

// Lowercase hex of SHA-256(data).
std::string sha256_hex(std::string_view data);

// Lowercase hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// The X-Docket-Signature value for a body sent at `timestamp` (Unix seconds,
// as in X-Docket-Timestamp): "sha256=" + hmac_sha256_hex(secret, timestamp + "." + body).
std::string webhook_signature(std::string_view secret, std::string_view timestamp, std::string_view body);

}  // namespace docket::notifiers
