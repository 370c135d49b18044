// The audit trail's hash chain: the text each link is computed over, the
// link itself (SHA-256, or an HMAC under the audit key once the trail is
// keyed), write()'s append of a batch's records after the chain's tail, and
// the read of the trail back.

#include <charconv>

#include "store/rows.h"
#include "store/store.h"
#include "store/store_sql.h"
#include "workflows/digest.h"

namespace docket::store {

namespace {

constexpr int kAuditColumns = 11;
constexpr const char* kInsertAuditSql =
    "INSERT INTO audit (seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash)";

// The text a record's link is computed over: its fields length-prefixed, so
// no choice of field contents can collide, after the previous record's hash.
// Built in one buffer per thread: this runs for every record written and
// verified. Valid until the thread's next call.
std::string_view chain_text(std::string_view prev_hash, std::int64_t seq, const AuditEntry& e, std::string_view clock) {
  thread_local std::string data;
  data.clear();
  auto decimal = [](std::int64_t v, char (&buf)[24]) {
    return std::string_view(buf, static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf));
  };
  auto field = [&](std::string_view s) {
    char buf[24];
    data += decimal(static_cast<std::int64_t>(s.size()), buf);
    data += ':';
    data += s;
  };
  auto number = [&](std::int64_t v) {
    char buf[24];
    field(decimal(v, buf));
  };
  field(prev_hash);
  number(seq);
  number(e.at);
  field(e.actor);
  field(e.kind);
  field(e.ref);
  field(e.stage);
  field(e.details);
  field(e.version);
  field(clock);
  return data;
}

// A record's link into `out`: keyed under `key`, else plain SHA-256.
void chain_hash(std::string& out, std::string_view prev_hash, std::int64_t seq, const AuditEntry& e,
                std::string_view clock, const AuditKey* key) {
  const std::string_view text = chain_text(prev_hash, seq, e, clock);
  if (key != nullptr) {
    key->mac_hex(text, out);
  } else {
    out = workflows::sha256_hex(text);
  }
}

}  // namespace

std::string audit_hash(const AuditRecord& r) {
  std::string out;
  chain_hash(out, r.prev_hash, r.seq, r, r.clock, nullptr);
  return out;
}

std::string audit_hash(const AuditRecord& r, const AuditKey& key) {
  std::string out;
  chain_hash(out, r.prev_hash, r.seq, r, r.clock, &key);
  return out;
}


AuditEntry Store::keyed_marker(std::int64_t at) const {
  // Named by the key's id, so that verify can tell a wrong key from a forgery.
  return audit_entry(at, "system", kKeyedKind,
                     R"({"key_id":")" + key_->id() + R"(","public_key":")" + key_->public_key() + R"("})");
}

Store::AuditTail Store::append_audit(const std::vector<AuditEntry>& entries) {
  AuditTail tail = tail_;
  if (entries.empty()) return tail;
  if (tail.keyed_from > 0 && key_ == nullptr) {
    throw StoreError("the audit trail is keyed from record " + std::to_string(tail.keyed_from) +
                     ": only a writer holding the audit key may append to it");
  }
  // The first keyed write starts the keyed part with its marker.
  AuditEntry marker;
  if (key_ != nullptr && tail.keyed_from == 0) {
    marker = keyed_marker(entries.front().at);
    tail.keyed_from = tail.seq + 1;
  }
  const std::size_t count = entries.size() + (marker.kind.empty() ? 0 : 1);
  auto entry = [&](std::size_t i) -> const AuditEntry& {
    return marker.kind.empty() ? entries[i] : i == 0 ? marker : entries[i - 1];
  };
  static const std::string one = detail::values_sql(kInsertAuditSql, kAuditColumns, 1);
  static const std::string many = detail::values_sql(kInsertAuditSql, kAuditColumns, detail::kRowsPerInsert);
  Statement& single = cached(detail::kInsertAudit, one.c_str());
  Statement& multi = cached(detail::kInsertAuditMany, many.c_str());
  const AuditKey* key = tail.keyed_from > 0 ? key_.get() : nullptr;
  // Bound without copies until the statement runs; kept from write to
  // write so that their storage is reused.
  thread_local std::string hashes[detail::kRowsPerInsert];
  for (std::size_t i = 0; i < count;) {
    const std::size_t rows = detail::rows_in_next(count - i);
    Statement& s = rows == 1 ? single : multi;
    for (std::size_t r = 0; r < rows; ++r, ++i) {
      const AuditEntry& e = entry(i);
      const std::string& before = r == 0 ? tail.hash : hashes[r - 1];
      ++tail.seq;
      chain_hash(hashes[r], before, tail.seq, e, clock_, key);
      const int o = static_cast<int>(r) * kAuditColumns;
      s.bind(o + 1, tail.seq).bind(o + 2, e.at).bind_static(o + 3, e.actor).bind_static(o + 4, e.kind);
      s.bind_static(o + 5, e.ref).bind_static(o + 6, e.stage).bind_static(o + 7, e.details);
      s.bind_static(o + 8, e.version).bind_static(o + 9, clock_).bind_static(o + 10, before);
      s.bind_static(o + 11, hashes[r]);
    }
    s.run();
    tail.hash = hashes[rows - 1];
  }
  return tail;
}

std::vector<AuditRecord> Store::audit(const std::string& ref) {
  std::vector<AuditRecord> out;
  auto s = reader().prepare(
      "SELECT seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash FROM audit "
      "WHERE ?1 = '' OR ref = ?1 ORDER BY seq");
  s.bind(1, ref);
  while (s.step()) out.push_back(audit_row(s));
  return out;
}

}  // namespace docket::store
