#pragma once
// The audit trail's key: 32 random bytes kept outside the database (a file
// only the docket user reads, or a systemd credential), so that whoever can
// write the database but not read the key cannot write a record that
// verifies. See docs/audit.md for what this does and does not protect.
//
// Everything secret about the trail comes from this one key:
//   - the chain's links: from the trail's `audit.keyed` record on, each
//     record's hash is HMAC-SHA256(key, record) (Store::write, verify_chain);
//   - the MACs of the published head file (audit_head.h) and of the point
//     up to which docketd last verified the chain (the `meta` table);
//   - an Ed25519 key pair whose private half is derived from the key
//     (seed = HMAC-SHA256(key, "docket audit signing key v1")). docketd signs
//     each head it publishes with it. Ed25519 rather than an HMAC: anyone
//     holding only the public key (the independent chair, an inspector) can
//     check a published head, and cannot make one; with an HMAC the only
//     people able to check would be those able to forge.
//
// The HMAC runs for every record written and verified, so it allocates
// nothing: the SHA-256 states after the key's inner and outer pads are
// computed once and copied for each record (OpenSSL 3.0's EVP interfaces
// allocate a provider context on every digest or MAC initialisation).

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "store/sqlite.h"

namespace docket::store {

class AuditKeyError : public StoreError {
 public:
  enum class Why { missing, denied, malformed, insecure, io };
  AuditKeyError(Why why, const std::string& what) : StoreError(what), why_(why) {}
  Why why() const { return why_; }

 private:
  Why why_;
};

class AuditKey {
 public:
  static constexpr std::size_t kBytes = 32;

  // `secret` must be kBytes long (throws AuditKeyError otherwise).
  explicit AuditKey(std::string_view secret);
  ~AuditKey();
  AuditKey(const AuditKey&) = delete;
  AuditKey& operator=(const AuditKey&) = delete;

  // HMAC-SHA256(key, data) as 64 lowercase hex digits. The first writes into
  // `out`, reusing its storage: nothing is allocated once it has held a MAC.
  void mac_hex(std::string_view data, std::string& out) const;
  std::string mac_hex(std::string_view data) const;

  // 16 hex digits that name the key without revealing it: the start of
  // SHA-256 of the public key. Recorded in the trail's `audit.keyed` record.
  const std::string& id() const { return id_; }
  // The Ed25519 public key: 64 hex digits, and as PEM (for openssl pkeyutl).
  const std::string& public_key() const { return public_key_; }
  std::string public_key_pem() const;
  // The Ed25519 signature of `message`, 128 hex digits.
  std::string sign(std::string_view message) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string id_;
  std::string public_key_;
};

// Whether `signature` (hex) is the Ed25519 signature of `message` under
// `public_key` (64 hex digits). Needs no secret.
bool verify_signature(std::string_view public_key, std::string_view message, std::string_view signature);

// Reads a key file: exactly 32 bytes, or 64 hex digits and an optional
// newline. Refuses a file that other users may read or anyone but its owner
// may write (mode 0600 or 0640 will do). Throws AuditKeyError saying why.
std::unique_ptr<AuditKey> load_audit_key(const std::filesystem::path& file);

// Makes a new key from the operating system's random source and writes it
// to `file` as 64 hex digits, mode 0600: written to a temporary file beside
// it, synced, then linked into place, so the file is whole or absent and an
// existing key is never replaced (throws AuditKeyError if one appeared).
std::unique_ptr<AuditKey> create_audit_key(const std::filesystem::path& file);

}  // namespace docket::store
