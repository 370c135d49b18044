#include "store/audit_query.h"

#include <algorithm>

#include "store/rows.h"

namespace docket::store {
namespace {

constexpr const char* kAuditColumns = "seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash";

// The conditions of the partial indexes on kind and actor (schema 7). SQLite
// uses a partial index only for a query that has its condition as a term, so
// a filter on any other value adds it; a filter on one of the common values
// walks the trail by time instead, and fills its page soon.
constexpr const char* kCommonKinds[] = {"deadline.reminder", "deadline.overdue", "deadline.escalated",
                                        "notification.attempt"};
const std::string kKindIndexed = [] {
  std::string sql = "kind NOT IN (";
  for (const char* k : kCommonKinds) sql += std::string(sql.back() == '(' ? "'" : ", '") + k + "'";
  return sql + ")";
}();
constexpr const char* kCommonActor = "system";
constexpr const char* kActorIndexed = "actor != 'system'";

std::string count_text(std::int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// Two ways to find a workflow's records: look up each of its k references
// in the ref index (about k * N / R rows read, then sorted), or walk the
// trail newest first keeping those of the workflow (about limit * R / k rows
// until the page is full), for N records over R references. SQLite cannot
// tell which is cheaper without statistics, so choose here: walk when
// k^2 > limit * R^2 / N. Both counts come from indexes or rowids.
bool scan_for_workflow(Reader& reader, const AuditFilter& f) {
  if (!f.ref.empty()) return false;
  auto one = [&](const std::string& sql, const std::string& arg = {}) {
    auto s = reader.db().prepare(sql);
    if (!arg.empty()) s.bind(1, arg);
    return s.step() ? static_cast<double>(s.integer(0)) : 0.0;
  };
  const double k = one("SELECT count(*) FROM reviews WHERE workflow = ?1", f.workflow) +
                   one("SELECT count(*) FROM meetings WHERE cycle = ?1", f.workflow);
  const double refs = one("SELECT max(rowid) FROM reviews") + one("SELECT count(*) FROM meetings");
  const double records = one("SELECT max(seq) FROM audit");
  if (k == 0 || records == 0) return false;
  return k * k * records > static_cast<double>(f.limit) * refs * refs;
}

}  // namespace

AuditPage query_audit(Reader& reader, const AuditFilter& f) {
  // Newest first through the indexes on (ref, seq), (kind, at), (actor, at)
  // and (at), the middle two partial; the page is turned round for printing.
  const auto started = std::chrono::steady_clock::now();
  std::string where;
  std::vector<std::pair<int, std::string>> text_args;
  std::vector<std::pair<int, std::int64_t>> int_args;
  int n = 0;
  auto clause = [&](const std::string& sql) { where += (where.empty() ? " WHERE " : " AND ") + sql; };
  auto text = [&](const std::string& column, const std::string& value) {
    if (value.empty()) return;
    clause(column + " = ?" + std::to_string(++n));
    text_args.emplace_back(n, value);
  };
  text("ref", f.ref);
  text("stage", f.stage);
  text("actor", f.actor);
  if (!f.actor.empty() && f.actor != kCommonActor) clause(kActorIndexed);
  text("kind", f.kind);
  if (!f.kind.empty() && std::find(std::begin(kCommonKinds), std::end(kCommonKinds), f.kind) == std::end(kCommonKinds)) {
    clause(kKindIndexed);
  }
  if (f.since) {
    clause("at >= ?" + std::to_string(++n));
    int_args.emplace_back(n, *f.since);
  }
  if (f.until) {
    clause("at < ?" + std::to_string(++n));
    int_args.emplace_back(n, *f.until);
  }
  if (!f.workflow.empty()) {
    const std::string p = "?" + std::to_string(++n);
    // A chair appointment is recorded against "@body". "+ref" keeps SQLite
    // off the ref index when walking newest first is cheaper.
    clause(std::string(scan_for_workflow(reader, f) ? "+ref" : "ref") + " IN (SELECT ref FROM reviews WHERE workflow = " +
           p + " UNION ALL SELECT id FROM meetings WHERE cycle = " + p + " UNION ALL SELECT '@' || " + p + ")");
    text_args.emplace_back(n, f.workflow);
  }
  const std::string limit = "?" + std::to_string(++n);
  int_args.emplace_back(n, static_cast<std::int64_t>(f.limit) + 1);
  const std::string sql =
      std::string("SELECT ") + kAuditColumns + " FROM audit" + where + " ORDER BY at DESC, seq DESC LIMIT " + limit;

  auto bind_all = [&](Statement& s) {
    for (const auto& [i, v] : text_args) s.bind(i, v);
    for (const auto& [i, v] : int_args) s.bind(i, v);
  };
  AuditPage page;
  {  // SQLite's plan, for --verbose: a few microseconds
    auto explain = reader.db().prepare("EXPLAIN QUERY PLAN " + sql);
    bind_all(explain);
    while (explain.step()) page.plan.push_back(explain.text(3));
  }
  auto s = reader.db().prepare(sql);
  bind_all(s);
  while (s.step()) page.records.push_back(audit_row(s));
  page.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
  if (page.records.size() > f.limit) {
    page.records.pop_back();
    page.more = true;
  }
  std::reverse(page.records.begin(), page.records.end());
  return page;
}

std::vector<AuditRecord> audit_of(Reader& reader, const std::string& ref) {
  std::vector<AuditRecord> out;
  auto s = reader.db().prepare(std::string("SELECT ") + kAuditColumns + " FROM audit WHERE ref = ?1 ORDER BY seq");
  s.bind(1, ref);
  while (s.step()) out.push_back(audit_row(s));
  return out;
}

std::optional<AuditRecord> first_audit(Reader& reader, const std::string& ref, const std::string& stage,
                                       const std::string& kind) {
  auto s = reader.db().prepare(std::string("SELECT ") + kAuditColumns +
                               " FROM audit WHERE ref = ?1 AND stage = ?2 AND kind = ?3 ORDER BY seq LIMIT 1");
  s.bind(1, ref).bind(2, stage).bind(3, kind);
  if (!s.step()) return std::nullopt;
  return audit_row(s);
}

namespace {

// The key id an audit.keyed record names.
std::string key_id_of(const std::string& details) {
  static const std::string tag = R"("key_id":")";
  const auto at = details.find(tag);
  if (at == std::string::npos) return {};
  const auto from = at + tag.size();
  const auto end = details.find('"', from);
  return end == std::string::npos ? std::string{} : details.substr(from, end - from);
}

std::optional<AuditRecord> record_at(Reader& reader, std::int64_t seq) {
  auto s = reader.db().prepare(std::string("SELECT ") + kAuditColumns + " FROM audit WHERE seq = ?1");
  s.bind(1, seq);
  if (!s.step()) return std::nullopt;
  return audit_row(s);
}

std::string on(std::int64_t at) { return utc_text(at); }

}  // namespace

ChainReport verify_chain(Reader& reader, const ChainOptions& o) {
  ChainReport rep;
  auto fail = [&](std::int64_t seq, std::string what) { rep.broken = ChainBreak{seq, std::move(what)}; };
  std::int64_t expected = 1;
  std::string prev;                         // hash of record expected - 1; empty before the first
  std::optional<std::string> before_prev;  // hash of record expected - 2
  bool keyed = false;
  const AuditKey* key = o.key;
  auto keyed_at = [&](const AuditRecord& marker) {
    keyed = true;
    rep.keyed_from = marker.seq;
    rep.key_id = key_id_of(marker.details);
    if (key != nullptr && rep.key_id != key->id()) {
      rep.wrong_key = true;  // its records are then checked as without a key
      key = nullptr;
    }
  };
  if (o.from) {
    const auto& f = *o.from;
    const auto verified = record_at(reader, f.seq);
    if (!verified || verified->hash != f.hash) {
      fail(f.seq, "record " + std::to_string(f.seq) + ", verified when docketd last started, " +
                      (verified ? "has changed since" : "is gone") +
                      ": records were edited, rewritten or deleted behind docketd's back");
      return rep;
    }
    if (f.keyed_from > 0) {
      const auto marker = record_at(reader, f.keyed_from);
      if (!marker || marker->kind != kKeyedKind) {
        fail(f.keyed_from, "record " + std::to_string(f.keyed_from) +
                               ", where the keyed trail began when docketd last started, is no longer its "
                               "audit.keyed record: the trail was rewritten");
        return rep;
      }
      keyed_at(*marker);
    }
    expected = f.seq + 1;
    prev = f.hash;
    rep.head_seq = f.seq;
    rep.head_hash = f.hash;
  }
  auto s = reader.db().prepare(std::string("SELECT ") + kAuditColumns + " FROM audit WHERE seq >= ?1 ORDER BY seq");
  s.bind(1, expected);
  while (s.step()) {
    AuditRecord r = audit_row(s);
    ++rep.records;
    const std::string at = "record " + std::to_string(r.seq);
    if (r.seq != expected) {
      const std::int64_t missing = r.seq - expected;
      fail(expected, (missing == 1 ? "record " + std::to_string(expected) + " is missing"
                                   : "records " + std::to_string(expected) + " to " + std::to_string(r.seq - 1) +
                                         " are missing") +
                         ": the sequence jumps from " + std::to_string(expected - 1) + " to " + std::to_string(r.seq) +
                         " (" + count_text(missing, "record was", "records were") + " deleted)");
      break;
    }
    if (!keyed && r.kind == kKeyedKind) keyed_at(r);
    // Whether its hash is right: unknown for a keyed record without the key.
    std::optional<bool> content_ok;
    if (!keyed) {
      content_ok = audit_hash(r) == r.hash;
    } else if (key != nullptr) {
      content_ok = audit_hash(r, *key) == r.hash;
    }
    // docketd never writes a keyed record with a plain SHA-256: whoever did
    // had no key. Caught with the key or without.
    const bool plain = keyed && !content_ok.value_or(false) && audit_hash(r) == r.hash;
    if (r.prev_hash != prev) {
      const std::string before = "record " + std::to_string(r.seq - 1);
      if (r.seq == 1) {
        fail(1, "record 1 was altered: the first record must have an empty previous hash");
      } else if (before_prev && r.prev_hash == *before_prev) {
        fail(r.seq - 1, before + " was inserted: " + at + " is chained to record " + std::to_string(r.seq - 2) +
                            ", as if " + before + " were not there");
      } else if (content_ok.value_or(true) && !plain) {
        fail(r.seq - 1, before + " was altered: its hash is no longer the one " + at +
                            " was chained to (edited and rehashed, or replaced)");
      } else {
        fail(r.seq, at + " was altered: neither its link to " + before +
                        " nor its own hash is right (edited, or renumbered after a record before it was deleted "
                        "or inserted)");
      }
      break;
    }
    if (plain) {
      fail(r.seq, at + " was forged: it carries a plain SHA-256 hash, but the trail is keyed from record " +
                      std::to_string(rep.keyed_from) +
                      " on and docketd writes every later record with the audit key (it was written by someone "
                      "without the key)");
      break;
    }
    if (content_ok && !*content_ok) {
      fail(r.seq, keyed ? at + " was edited or forged: its hash is not the one the audit key gives (written by "
                               "someone without the key)"
                        : at + " was edited: its contents no longer match its hash");
      break;
    }
    if (!content_ok) ++rep.unchecked;
    before_prev = prev;
    prev = r.hash;
    expected = r.seq + 1;
    rep.head_seq = r.seq;
    rep.head_hash = r.hash;
    if (o.progress && rep.records % 1000000 == 0) o.progress(rep.records);
  }
  if (!rep.broken && o.published) {
    const PublishedHead& p = *o.published;
    const std::string when = " on " + on(p.at);
    if (p.seq > rep.head_seq) {
      fail(rep.head_seq + 1,
           rep.head_seq == 0
               ? "the trail is empty, but docketd published record " + std::to_string(p.seq) + when +
                     ": every record was deleted"
               : "the trail ends at record " + std::to_string(rep.head_seq) + ", but docketd published record " +
                     std::to_string(p.seq) + when + ": records were cut from the end (at least " +
                     std::to_string(rep.head_seq + 1) + " to " + std::to_string(p.seq) + ")");
    } else if (p.seq > 0) {
      const auto r = record_at(reader, p.seq);
      if (!r || r->hash != p.hash) {
        fail(p.seq, "record " + std::to_string(p.seq) + "'s hash is not the one docketd published" + when +
                        ": the trail was rewritten up to it, every later hash recomputed");
      }
    }
    if (!rep.broken && p.keyed_from > 0 && rep.keyed_from != p.keyed_from) {
      fail(p.keyed_from, "docketd published a trail keyed from record " + std::to_string(p.keyed_from) + ", but " +
                             (rep.keyed_from == 0 ? std::string("this trail has no audit.keyed record")
                                                  : "its audit.keyed record is record " +
                                                        std::to_string(rep.keyed_from)) +
                             ": it was rewritten");
    }
  }
  if (!rep.broken && o.expect_head) {
    const auto& [seq, hash] = *o.expect_head;
    if (seq > rep.head_seq) {
      fail(rep.head_seq + 1, "the trail ends at record " + std::to_string(rep.head_seq) + " but record " +
                                 std::to_string(seq) + " was noted before: records were removed from the end");
    } else {
      const auto r = record_at(reader, seq);
      if (!r || !r->hash.starts_with(hash)) {
        fail(seq, "record " + std::to_string(seq) + "'s hash is not the one noted (" + hash.substr(0, 16) +
                      "...): the trail was rewritten up to it, every later hash recomputed");
      }
    }
  }
  return rep;
}

ChainReport verify_chain(Reader& reader, const std::optional<std::pair<std::int64_t, std::string>>& expect_head,
                         const std::function<void(std::int64_t)>& progress) {
  ChainOptions o;
  o.expect_head = expect_head;
  o.progress = progress;
  return verify_chain(reader, o);
}

}  // namespace docket::store
