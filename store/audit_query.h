#pragma once
// Reading the audit trail: filtered pages for `docket audit`, one
// reference's whole story for `docket audit show`, and the walk along the
// hash chain for `docket audit verify` (in audit_verify.cc).
//
// The chain (see Store::commit): record 1 has an empty prev_hash; record n
// holds prev_hash = hash of record n - 1 and hash = its link: SHA-256 of
// itself before the trail's audit.keyed record, HMAC-SHA256 under the audit
// key from that record on (store/audit_key.h). A record edited, deleted or
// slipped in behind docketd's back breaks a link that verify_chain() finds
// and names; with the key, so does a keyed record forged or rewritten by
// someone without it. Records cut off the end, all records deleted, or a
// whole chain rewritten show only against a head published outside the
// database: the head file docketd writes (store/audit_head.h), or a head
// someone noted (`expect_head`).

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/audit_head.h"
#include "store/audit_key.h"
#include "store/reader.h"

namespace docket::store {

struct AuditFilter {
  std::string ref;
  std::string workflow;  // the review type or meeting cycle of the record's reference
  std::string stage;
  std::string actor;
  std::string kind;                  // exact, e.g. deadline.escalated
  std::optional<std::int64_t> since;  // unix seconds, inclusive
  std::optional<std::int64_t> until;  // unix seconds, exclusive
  std::size_t limit = 100;
};

// The newest `limit` records that match, oldest first.
struct AuditPage {
  std::vector<AuditRecord> records;
  bool more = false;                     // older records match too
  std::chrono::microseconds elapsed{};  // the whole query, from choosing the plan to the last row
  std::vector<std::string> plan;        // SQLite's EXPLAIN QUERY PLAN, for --verbose
};

AuditPage query_audit(Reader& reader, const AuditFilter& filter);

// Every record of one reference, in sequence order.
std::vector<AuditRecord> audit_of(Reader& reader, const std::string& ref);

// The first record of `kind` for (ref, stage), if any.
std::optional<AuditRecord> first_audit(Reader& reader, const std::string& ref, const std::string& stage,
                                       const std::string& kind);

struct ChainBreak {
  std::int64_t seq = 0;  // the record that is wrong (for a deletion, the first one missing)
  std::string what;      // in words: what is wrong and what it means
};

struct ChainOptions {
  // Checks the keyed records' contents; without it only their order and
  // links are checked (and a keyed record carrying a plain SHA-256 is caught).
  const AuditKey* key = nullptr;
  // The head file's: record `seq` must still have `hash`, and the trail must
  // be keyed from `keyed_from`.
  std::optional<PublishedHead> published;
  // SEQ and HASH as a previous run printed (HASH may be a prefix of 16 or
  // more hex digits): record SEQ must still have that hash.
  std::optional<std::pair<std::int64_t, std::string>> expect_head;
  // Start after this point, verified before (docketd's start-up check):
  // its record must still have its hash; only the records after it are read.
  std::optional<VerifiedPoint> from;
  // Called every 1,000,000 records with the count so far.
  std::function<void(std::int64_t)> progress;
};

struct ChainReport {
  std::int64_t records = 0;  // records read (with ChainOptions::from, those after it)
  std::int64_t head_seq = 0;
  std::string head_hash;
  std::int64_t keyed_from = 0;  // the audit.keyed record; 0 if the trail is not keyed
  std::string key_id;           // the key it names
  // Keyed records whose contents went unchecked: no key was given, or not
  // the trail's (`wrong_key`).
  std::int64_t unchecked = 0;
  bool wrong_key = false;
  std::optional<ChainBreak> broken;  // the first broken link, if any
};

// Walks the chain in sequence order, one row at a time, and stops at the
// first broken link; then compares it with the published and expected heads.
ChainReport verify_chain(Reader& reader, const ChainOptions& options);
ChainReport verify_chain(Reader& reader, const std::optional<std::pair<std::int64_t, std::string>>& expect_head = {},
                         const std::function<void(std::int64_t)>& progress = {});

}  // namespace docket::store
