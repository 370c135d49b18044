#pragma once
// Where the audit trail is anchored outside the database.
//
// A hash chain alone shows a record edited or slipped in, but not records
// cut from its end, all of them deleted, or the whole chain rewritten. So
// docketd publishes its head (the newest durable record's number and hash)
// at every start and stop and every so often while it runs: to the journal,
// to the head file below, and, signed, to a recipient such as the
// independent chair (daemon/audit_publisher.h). `docket audit verify`
// compares the trail with the head file; the chair's copy is checked with
// `--expect-head`.
//
// The head file is a few lines of text beside the key (the database's
// directory by default), written atomically by docketd alone and
// authenticated with an HMAC under the audit key:
//
//   # docket audit head: written by docketd; do not edit
//   seq 1234
//   hash 3f1c...                64 hex digits: record 1234's hash
//   keyed_from 57               the trail's audit.keyed record
//   at 1772445600               published (Unix seconds, wall clock)
//   noticed_at 1772445600       the recipient's last signed notice (0: none)
//   mac 9a0e...                 HMAC-SHA256(key, every line above)
//
// The point docketd last verified the chain up to is kept in the database's
// `meta` table (so each start checks only what was added since), and is
// authenticated the same way: a forged entry is ignored, and the chain is
// then verified from its first record.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "store/audit_key.h"

namespace docket::store {

struct PublishedHead {
  std::int64_t seq = 0;  // 0: the trail was empty
  std::string hash;
  std::int64_t keyed_from = 0;  // the audit.keyed record's number; 0 before the trail was keyed
  std::int64_t at = 0;          // when published: Unix seconds, wall clock
  std::int64_t noticed_at = 0;  // when a signed notice last went to the recipient; 0 never
};

// What a published head's signature covers: "SEQ:HASH:TIME", TIME in UTC as
// YYYY-MM-DDTHH:MM:SSZ, e.g. "1234:3f1c...:2026-03-02T08:00:00Z".
std::string head_statement(std::int64_t seq, std::string_view hash, std::int64_t at);
std::string utc_text(std::int64_t unix_seconds);

struct HeadFile {
  enum class State {
    absent,           // no file
    authentic,        // read, and its MAC is right
    unauthenticated,  // read, but no key was given to check it
    bad,              // unreadable, garbled, or its MAC is wrong
  };
  State state = State::absent;
  PublishedHead head;   // when read (authentic or unauthenticated)
  std::string problem;  // for `bad` and unreadable files: what is wrong, in words
};

// Reads the head file; `key` may be null (then the MAC is not checked).
// Never throws.
HeadFile read_head_file(const std::filesystem::path& file, const AuditKey* key);

// Writes it: a temporary file beside it, synced, renamed over it, the
// directory synced; mode 0600. Throws StoreError.
void write_head_file(const std::filesystem::path& file, const PublishedHead& head, const AuditKey& key);
// The same for any small file, with its mode.
void write_file_atomically(const std::filesystem::path& file, const std::string& text, unsigned mode);

// The point the chain was last verified up to (meta key kVerifiedMetaKey).
struct VerifiedPoint {
  std::int64_t seq = 0;
  std::string hash;
  std::int64_t keyed_from = 0;
};
inline constexpr const char* kVerifiedMetaKey = "audit_verified";

// "SEQ:HASH:KEYED_FROM:MAC"; parse_verified_point returns nullopt when the
// text is garbled or its MAC is not right under `key`.
std::string verified_point_text(const VerifiedPoint& point, const AuditKey& key);
std::optional<VerifiedPoint> parse_verified_point(std::string_view text, const AuditKey& key);

}  // namespace docket::store
