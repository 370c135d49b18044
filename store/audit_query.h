#pragma once
// Reading the audit trail: filtered pages for `docket audit`, one
// reference's whole story for `docket audit show`, and the walk along the
// hash chain for `docket audit verify`.
//
// The chain (see Store::commit): record 1 has an empty prev_hash; record n
// holds prev_hash = hash of record n - 1 and hash = audit_hash(itself), so a
// record edited, deleted or slipped in behind docketd's back breaks a link
// that verify_chain() finds and names. It cannot see records cut off the
// end of the trail, nor a rewrite that recomputes every later hash: for
// those, keep the head hash verify prints somewhere docketd cannot write,
// and pass it back with `expect_head`.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

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

struct ChainReport {
  std::int64_t records = 0;  // records read
  std::int64_t head_seq = 0;
  std::string head_hash;
  std::optional<ChainBreak> broken;  // the first broken link, if any
};

// Walks the chain in sequence order, one row at a time, and stops at the
// first broken link. `expect_head` (SEQ and HASH, as a previous run printed;
// HASH may be a prefix) also checks that record SEQ still has that hash. `progress` is called
// every 1,000,000 records with the count so far.
ChainReport verify_chain(Reader& reader, const std::optional<std::pair<std::int64_t, std::string>>& expect_head = {},
                         const std::function<void(std::int64_t)>& progress = {});

}  // namespace docket::store
