// How `docket audit` and `docket audit verify` scale: a synthetic audit
// trail of N records (default 10,000,000) over N / 20 reviews of ten review
// types, written with a valid hash chain, then the queries a manager runs,
// timed through the same code as the command (store::query_audit). Then
// what the chain costs per record written, plain and keyed.
//
//   build/bin/docket_audit_bench [--records N] [--dir DIR] [--keep]
//
// The database is built fast and unsafely (synchronous=OFF, no journal,
// indexes created after the rows), which changes nothing that is measured.
// Prints figures; asserts nothing.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "store/audit_key.h"
#include "store/audit_query.h"
#include "store/sqlite.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace std::chrono;

namespace {

constexpr std::int64_t kStart = 1577836800;  // 2020-01-01T00:00:00Z
constexpr int kWorkflows = 10;

struct Kind {
  const char* name;
  int weight;  // per thousand
};
// Roughly what docketd writes: mostly timed notices, few commands.
const Kind kKinds[] = {{"deadline.reminder", 380},  {"deadline.escalated", 150}, {"deadline.opened", 150},
                       {"stage.completed", 120},    {"deadline.overdue", 100},   {"review.started", 50},
                       {"review.closed", 30},       {"deadline.extended", 10},   {"review.paused", 5},
                       {"review.resumed", 4},       {"stage.waived", 1}};

std::string ref_of(std::int64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "BR-%07lld", static_cast<long long>(i));
  return buf;
}

// Review i belongs to workflow w-(i % 10) for most; one review in 1,000 is of
// a rare type, "w-rare", to show a selective --workflow.
std::string workflow_of(std::int64_t i) { return i % 1000 == 7 ? "w-rare" : "w-" + std::to_string(i % kWorkflows); }

double seconds_since(steady_clock::time_point t) { return duration<double>(steady_clock::now() - t).count(); }

void build(const fs::path& db, std::int64_t records) {
  { docket::store::Store s(db, "system"); }  // the real schema, every migration
  docket::store::Connection c(db, docket::store::Connection::Mode::read_write);
  c.exec("PRAGMA journal_mode=OFF");
  c.exec("PRAGMA synchronous=OFF");
  c.exec("PRAGMA cache_size=-262144");
  // The indexes are built after the rows, from their definitions in the schema.
  std::vector<std::string> names;
  std::vector<std::string> indexes;
  {
    auto q = c.prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('audit', 'reviews') AND sql "
        "IS NOT NULL");
    while (q.step()) {
      names.push_back(q.text(0));
      indexes.push_back(q.text(1));
    }
  }
  for (const auto& name : names) c.exec("DROP INDEX " + name);
  const std::int64_t reviews = std::max<std::int64_t>(1, records / 20);
  auto t = steady_clock::now();
  c.exec("BEGIN");
  {
    auto s = c.prepare(
        "INSERT INTO reviews (ref, workflow, version, state, start, created_at) VALUES (?1, ?2, 'v1', 'open', "
        "'2020-01-01', ?3)");
    for (std::int64_t i = 0; i < reviews; ++i) {
      s.bind(1, ref_of(i)).bind(2, workflow_of(i)).bind(3, kStart);
      s.run();
    }
  }
  std::mt19937_64 rng(42);
  std::vector<const char*> kinds;
  for (const auto& k : kKinds) kinds.insert(kinds.end(), static_cast<std::size_t>(k.weight), k.name);
  const char* stages[] = {"one", "two", "three", "four", "five"};
  std::vector<std::string> people;
  for (int p = 0; p < 40; ++p) people.push_back("person-" + std::to_string(p));
  auto s = c.prepare(
      "INSERT INTO audit (seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  docket::store::AuditRecord r;
  r.clock = "system";
  r.version = "v1";
  std::string prev;
  // Two years of records, about one every six seconds.
  const std::int64_t step = std::max<std::int64_t>(1, 2 * 365 * 86400 / records);
  for (std::int64_t i = 1; i <= records; ++i) {
    r.seq = i;
    r.at = kStart + i * step;
    r.kind = kinds[rng() % kinds.size()];
    const bool command = r.kind == std::string("stage.completed") || r.kind == std::string("review.started") ||
                         r.kind == std::string("deadline.extended") || r.kind == std::string("review.paused");
    r.actor = command ? people[rng() % people.size()] : "system";
    r.ref = ref_of(static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(reviews)));
    r.stage = stages[rng() % 5];
    r.details = R"({"due":"2021-03-04","to":["business-manager"],"late":false})";
    r.prev_hash = prev;
    r.hash = docket::store::audit_hash(r);
    s.bind(1, r.seq).bind(2, r.at).bind(3, r.actor).bind(4, r.kind).bind(5, r.ref).bind(6, r.stage);
    s.bind(7, r.details).bind(8, r.version).bind(9, r.clock).bind(10, r.prev_hash).bind(11, r.hash);
    s.run();
    prev = r.hash;
    if (i % 1000000 == 0) {
      c.exec("COMMIT");
      c.exec("BEGIN");
      std::printf("  %lld records written (%.0f s)\n", static_cast<long long>(i), seconds_since(t));
      std::fflush(stdout);
    }
  }
  c.exec("COMMIT");
  std::printf("rows: %lld audit records, %lld reviews in %.1f s\n", static_cast<long long>(records),
              static_cast<long long>(reviews), seconds_since(t));
  t = steady_clock::now();
  for (const auto& sql : indexes) c.exec(sql);
  std::printf("indexes built in %.1f s\n", seconds_since(t));
}

// What the chain costs docketd per record it writes, plain (SHA-256) and
// keyed (HMAC-SHA256 under the audit key): the hash alone; appends through
// Store::commit in batches of 500 (synchronous=FULL, as docketd commits);
// and verify over what was appended.
void time_writes(const fs::path& dir, std::int64_t records) {
  docket::store::AuditRecord r;
  r.clock = "system";
  r.version = "v1";
  r.actor = "system";
  r.kind = "deadline.reminder";
  r.ref = "BR-0001234";
  r.stage = "three";
  r.details = R"({"due":"2021-03-04","to":["business-manager"],"late":false})";
  const auto key = std::make_shared<docket::store::AuditKey>(std::string(32, 'k'));
  for (const bool keyed : {false, true}) {
    const char* what = keyed ? "keyed" : "plain";
    auto t = steady_clock::now();
    for (std::int64_t i = 1; i <= records; ++i) {
      r.seq = i;
      r.at = kStart + i;
      r.prev_hash = keyed ? docket::store::audit_hash(r, *key) : docket::store::audit_hash(r);
    }
    double s = seconds_since(t);
    std::printf("%s chain hash: %.0f ns a record (%lld records)\n", what, s * 1e9 / static_cast<double>(records),
                static_cast<long long>(records));
    const fs::path db = dir / "docket-audit-bench-writes.db";
    for (const char* side : {"", "-wal", "-shm"}) fs::remove(db.string() + side);
    {
      docket::store::Store store(db, "system", {}, keyed ? key : nullptr);
      const std::int64_t appends = std::min<std::int64_t>(records, 200000);
      t = steady_clock::now();
      for (std::int64_t done = 0; done < appends;) {
        docket::store::Batch b;
        for (int i = 0; i < 500 && done < appends; ++i, ++done) {
          docket::store::AuditEntry e = r;
          e.at = kStart + done;
          b.audit.push_back(std::move(e));
        }
        store.commit(b);
      }
      s = seconds_since(t);
      std::printf("%s appends through Store::commit: %lld records in %.2f s (%.0f records/s)\n", what,
                  static_cast<long long>(appends), s, static_cast<double>(appends) / s);
    }
    {
      docket::store::Reader reader(db);
      docket::store::ChainOptions o;
      if (keyed) o.key = key.get();
      t = steady_clock::now();
      auto rep = docket::store::verify_chain(reader, o);
      s = seconds_since(t);
      std::printf("%s verify: %lld records in %.2f s (%.0f records/s), %s\n", what,
                  static_cast<long long>(rep.records), s, static_cast<double>(rep.records) / s,
                  rep.broken ? rep.broken->what.c_str() : rep.unchecked > 0 ? "unchecked" : "intact");
    }
    for (const char* side : {"", "-wal", "-shm"}) fs::remove(db.string() + side);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t records = 10000000;
  fs::path dir = fs::temp_directory_path();
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--records" && i + 1 < argc) {
      records = std::stoll(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--keep") {
      keep = true;
    } else {
      std::fprintf(stderr, "usage: docket_audit_bench [--records N] [--dir DIR] [--keep]\n");
      return 2;
    }
  }
  const fs::path db = dir / ("docket-audit-bench-" + std::to_string(records) + ".db");
  if (!fs::exists(db)) {
    std::printf("building %s\n", db.c_str());
    build(db, records);
  } else {
    std::printf("reusing %s\n", db.c_str());
  }
  std::printf("database size: %.2f GiB\n\n", static_cast<double>(fs::file_size(db)) / (1 << 30));

  docket::store::Reader reader(db);
  const std::int64_t mid = kStart + 365 * 86400;  // a year in
  struct Query {
    const char* what;
    docket::store::AuditFilter filter;
  };
  auto f = [](auto&& set) {
    docket::store::AuditFilter x;
    set(x);
    return x;
  };
  const std::vector<Query> queries = {
      {"newest 100", f([](auto&) {})},
      {"--ref (one review)", f([&](auto& x) { x.ref = ref_of(std::min<std::int64_t>(records / 20 - 1, 1234)); })},
      {"--kind stage.completed", f([](auto& x) { x.kind = "stage.completed"; })},
      {"--kind stage.waived (rare)", f([](auto& x) { x.kind = "stage.waived"; })},
      {"--actor person-7", f([](auto& x) { x.actor = "person-7"; })},
      {"--since/--until one day", f([&](auto& x) {
         x.since = mid;
         x.until = mid + 86400;
       })},
      {"--kind escalated, one month", f([&](auto& x) {
         x.kind = "deadline.escalated";
         x.since = mid;
         x.until = mid + 30 * 86400;
       })},
      {"--actor and --kind, one year", f([&](auto& x) {
         x.actor = "person-7";
         x.kind = "review.paused";
         x.since = mid - 365 * 86400;
         x.until = mid;
       })},
      {"--workflow w-3 (1 in 10 reviews)", f([](auto& x) { x.workflow = "w-3"; })},
      {"--workflow w-rare (1 in 1,000)", f([](auto& x) { x.workflow = "w-rare"; })},
      {"--workflow w-3 --kind review.paused", f([](auto& x) {
         x.workflow = "w-3";
         x.kind = "review.paused";
       })},
      {"--ref --stage", f([&](auto& x) {
         x.ref = ref_of(std::min<std::int64_t>(records / 20 - 1, 4242));
         x.stage = "three";
       })},
  };
  std::printf("%-40s %10s %8s  %s\n", "query (limit 100)", "best ms", "rows", "plan");
  for (const auto& q : queries) {
    double best = 1e30;
    docket::store::AuditPage page;
    for (int run = 0; run < 3; ++run) {
      page = docket::store::query_audit(reader, q.filter);
      best = std::min(best, static_cast<double>(page.elapsed.count()) / 1000.0);
    }
    std::string plan;
    for (const auto& p : page.plan) plan += (plan.empty() ? "" : "; ") + p;
    std::printf("%-40s %10.2f %8zu  %s\n", q.what, best, page.records.size(), plan.c_str());
  }
  auto t = steady_clock::now();
  auto story = docket::store::audit_of(reader, ref_of(std::min<std::int64_t>(records / 20 - 1, 777)));
  std::printf("%-40s %10.2f %8zu\n", "audit show (one review's story)", seconds_since(t) * 1000, story.size());

  t = steady_clock::now();
  auto rep = docket::store::verify_chain(reader);
  const double s = seconds_since(t);
  std::printf("\nverify: %lld records in %.1f s (%.0f records/s), %s\n", static_cast<long long>(rep.records), s,
              static_cast<double>(rep.records) / s, rep.broken ? rep.broken->what.c_str() : "intact");
  if (!keep) fs::remove(db);
  std::printf("\n");
  time_writes(dir, records);
  return 0;
}
