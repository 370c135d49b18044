#include "store/integrity.h"

#include "store/reader.h"
#include "store/sqlite.h"

namespace docket::store {

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

// SQLite's own check of the file; nullopt when it says "ok".
std::optional<std::string> quick_check(Connection& db, int max_errors) {
  std::string first;
  int problems = 0;
  try {
    auto s = db.prepare("PRAGMA quick_check(" + std::to_string(max_errors) + ")");
    while (s.step()) {
      if (problems++ == 0) first = s.text(0);
    }
  } catch (const StoreError& e) {
    // Some damage stops the check itself (SQLITE_CORRUPT) rather than being listed.
    return "SQLite's check of the file fails: " + std::string(e.what());
  }
  if (problems == 1 && first == "ok") return std::nullopt;
  return "SQLite's check of the file fails: " + first +
         (problems > 1 ? " (and " + std::to_string(problems - 1) + (problems == max_errors ? " or more" : " more") +
                             ")"
                       : "");
}

}  // namespace

IntegrityReport check_integrity(const std::filesystem::path& db, const AuditKey& key,
                                const std::optional<PublishedHead>& published, int max_errors) {
  IntegrityReport out;
  try {
    Reader reader(db, Schema::any);
    auto t = Clock::now();
    out.problem = quick_check(reader.db(), max_errors);
    out.quick_check_time = since(t);
    if (out.problem) {
      out.event = "database.damaged";
      return out;
    }
    ChainOptions o;
    o.key = &key;
    o.published = published;
    // A verified point beyond the published head cannot be: docketd
    // publishes after it verifies. Read everything then.
    if (auto text = reader.meta(kVerifiedMetaKey)) {
      if (auto point = parse_verified_point(*text, key); point && (!published || point->seq <= published->seq)) {
        o.from = point;
        out.from_verified_point = true;
      }
    }
    t = Clock::now();
    out.chain = verify_chain(reader, o);
    out.chain_time = since(t);
    if (out.chain.wrong_key) {
      out.event = "audit.wrong_key";
      out.problem = "the audit trail is keyed from record " + std::to_string(out.chain.keyed_from) +
                    " with the key whose id is " + out.chain.key_id + ", but the audit key given has id " + key.id();
    } else if (out.chain.broken) {
      out.event = "audit.broken";
      out.problem = "the audit trail is broken at record " + std::to_string(out.chain.broken->seq) + ": " +
                    out.chain.broken->what;
    }
  } catch (const StoreError& e) {
    out.event = "database.damaged";
    out.problem = std::string("it cannot be read as a docket database: ") + e.what();
  }
  return out;
}

VerifiedPoint verified_point(const ChainReport& chain) {
  return VerifiedPoint{chain.head_seq, chain.head_hash, chain.keyed_from};
}

}  // namespace docket::store
