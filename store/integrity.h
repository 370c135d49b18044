#pragma once
// What docketd checks before it writes to its database: that SQLite finds
// the file sound (PRAGMA quick_check), and that the audit trail verifies
// against the head docketd last published, reading only the records added
// since the point verified at the last start (kept in `meta`, itself
// authenticated with the audit key: a forged point is ignored and the whole
// chain is read).
//
// quick_check reads every page of the file and checks the b-trees' structure
// (not the indexes against their tables, which integrity_check adds at
// several times the cost). It reports at most `max_errors` problems, but an
// intact file is always read whole: about 1 s per GiB from a warm cache on
// the development machine (see docs/audit.md for the figures).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "store/audit_head.h"
#include "store/audit_key.h"
#include "store/audit_query.h"

namespace docket::store {

struct IntegrityReport {
  std::optional<std::string> problem;  // nullopt: sound
  // The stable event name of the problem: database.damaged (SQLite's check
  // fails, or the file cannot be read), audit.broken (the chain does not
  // verify), audit.wrong_key (the trail was keyed with another key).
  std::string event;
  ChainReport chain;
  bool from_verified_point = false;  // only the records after the last start's verified point were read
  std::chrono::milliseconds quick_check_time{};
  std::chrono::milliseconds chain_time{};
};

// `published`: the head file's head, already authenticated, if there is one.
IntegrityReport check_integrity(const std::filesystem::path& db, const AuditKey& key,
                                const std::optional<PublishedHead>& published, int max_errors = 10);

// The verified point to keep in `meta` after a check that passed.
VerifiedPoint verified_point(const ChainReport& chain);

}  // namespace docket::store
