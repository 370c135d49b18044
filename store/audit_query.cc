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

}  // namespace docket::store
