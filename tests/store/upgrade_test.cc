// Upgrades from every earlier schema: a database as each released version
// left it (its migration steps applied, rows written with the columns that
// version had, an audit trail chained as it chained it) opens with the
// current store, is migrated, keeps its rows, and its audit chain still
// verifies, also after the first records written by the new version.

#include <gtest/gtest.h>

#include <unistd.h>

#include "store/audit_query.h"
#include "store/reader.h"
#include "store/store.h"

namespace docket::store {
namespace {

namespace fs = std::filesystem;

class SchemaUpgrade : public ::testing::TestWithParam<int> {
 protected:
  SchemaUpgrade() {
    dir_ = fs::temp_directory_path() / ("docket-upgrade-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(GetParam()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~SchemaUpgrade() override { fs::remove_all(dir_); }
  fs::path db() const { return dir_ / "docket.db"; }

  // Builds the database schema `version` left, with a review, its deadline,
  // a pending message, and a chained trail of `records` audit records.
  std::string build(int version, int records) {
    Connection c(db(), Connection::Mode::read_write);
    c.exec("PRAGMA journal_mode=WAL");
    for (int v = 0; v < version; ++v) c.exec(Store::migrations().at(static_cast<std::size_t>(v)));
    c.exec("PRAGMA user_version = " + std::to_string(version));
    c.exec("INSERT INTO meta (key, value) VALUES ('virtual_now', '1772438400')");
    c.exec("INSERT INTO reviews (ref, workflow, version, title, state, start, assignments, created_at) "
           "VALUES ('RR-2026-001', 'rapid-review', 'v1', 'Rapid Review', 'open', '2026-03-02', "
           "'{\"lead-reviewer\":\"k-davies\"}', 1772438400)");
    c.exec("INSERT INTO deadlines (ref, stage, state, due, opened_on, next_fire) "
           "VALUES ('RR-2026-001', 'rapid-review', 'pending', '2026-03-23', '2026-03-02', 1773907200)");
    c.exec("INSERT INTO outbox (key, created_at, kind, ref, stage, person, role, payload) "
           "VALUES ('RR-2026-001/rapid-review/reminder/1', 1773907200, 'reminder', 'RR-2026-001', 'rapid-review', "
           "'k-davies', 'lead-reviewer', '{}')");
    if (version >= 2) {
      c.exec("INSERT INTO definitions (version, workflow, file, text, first_loaded) "
             "VALUES ('v1', 'rapid-review', 'workflows/rapid-review.toml', 'kind = \"review\"', 1772438400)");
    }
    if (version >= 3) {
      c.exec("INSERT INTO meetings (id, cycle, version, planned, date, state) "
             "VALUES ('@executive/2026-06-09', 'executive', 'v2', '2026-06-09', '2026-06-09', 'scheduled')");
      c.exec("INSERT INTO chairs (body, year, person, agency, appointed_at) "
             "VALUES ('executive', '2026/27', 'm-clarke', 'council', 1772438400)");
    }
    std::string prev;
    auto insert = c.prepare(
        "INSERT INTO audit (seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    for (int i = 1; i <= records; ++i) {
      AuditRecord r;
      r.seq = i;
      r.at = 1772438400 + i;
      r.actor = i % 2 == 0 ? "system" : "a-morgan";
      r.kind = i == 1 ? "review.started" : "deadline.reminder";
      r.ref = "RR-2026-001";
      r.stage = i == 1 ? "" : "rapid-review";
      r.details = "{\"n\":" + std::to_string(i) + "}";
      r.version = "v1";
      r.clock = "virtual";
      r.prev_hash = prev;
      r.hash = audit_hash(r);
      insert.bind(1, r.seq).bind(2, r.at).bind(3, r.actor).bind(4, r.kind).bind(5, r.ref).bind(6, r.stage);
      insert.bind(7, r.details).bind(8, r.version).bind(9, r.clock).bind(10, r.prev_hash).bind(11, r.hash);
      insert.run();
      prev = r.hash;
    }
    return prev;
  }

  fs::path dir_;
};

TEST_P(SchemaUpgrade, MigratesKeepingRowsAndAnIntactAuditChain) {
  const int from = GetParam();
  constexpr int kRecords = 50;
  const std::string head = build(from, kRecords);
  {
    // Before docketd upgrades it, the audit trail reads and verifies as it
    // is; what needs the current tables is refused, saying what to do.
    Reader before(db(), Schema::any);
    ASSERT_EQ(before.schema_version(), from);
    ASSERT_FALSE(verify_chain(before).broken) << "the fixture itself must verify";
    try {
      Reader current(db());
      ADD_FAILURE() << "a schema " << from << " file was read as the current schema";
    } catch (const StoreError& e) {
      EXPECT_NE(std::string(e.what()).find("start docketd on it once"), std::string::npos) << e.what();
    }
  }
  {
    Store s(db(), "system");
    EXPECT_EQ(s.schema_version(), kSchemaVersion);
    auto stored = s.review_with_deadlines("RR-2026-001");
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->review.assignments, "{\"lead-reviewer\":\"k-davies\"}");
    ASSERT_EQ(stored->deadlines.size(), 1u);
    EXPECT_EQ(stored->deadlines[0].ref, "RR-2026-001");
    EXPECT_EQ(stored->deadlines[0].next_fire, 1773907200);
    EXPECT_EQ(s.outbox("pending").size(), 1u);
    EXPECT_EQ(s.meta("virtual_now"), "1772438400");
    if (from >= 2) {
      EXPECT_TRUE(s.definition("v1"));
    }
    if (from >= 3) {
      EXPECT_EQ(s.meetings().size(), 1u);
      EXPECT_EQ(s.chairs().size(), 1u);
    }
    // The new version writes on, chained to the last record of the old.
    Batch b;
    AuditEntry e;
    e.at = 1772438400 + kRecords + 1;
    e.actor = "system";
    e.kind = "daemon.started";
    e.details = "{}";
    b.audit.push_back(e);
    s.commit(b);
    auto trail = s.audit();
    ASSERT_EQ(trail.size(), static_cast<std::size_t>(kRecords + 1));
    EXPECT_EQ(trail.back().prev_hash, head);
  }
  Reader after(db());
  auto chain = verify_chain(after, std::pair<std::int64_t, std::string>{kRecords, head});
  EXPECT_FALSE(chain.broken) << chain.broken->what;
  EXPECT_EQ(chain.records, kRecords + 1);
  // Opening it again migrates nothing more.
  Store again(db(), "system");
  EXPECT_EQ(again.schema_version(), kSchemaVersion);
}

TEST_P(SchemaUpgrade, AnOldTrailIsKeyedFromItsMarkerAndVerifiesWhole) {
  const int from = GetParam();
  constexpr int kRecords = 50;
  const std::string head = build(from, kRecords);
  const auto key = std::make_shared<AuditKey>(std::string(32, 'k'));
  {
    // The first keyed docketd: a marker, then its own records, keyed.
    Store s(db(), "system", {}, key);
    EXPECT_EQ(s.keyed_from(), 0) << "opening alone writes nothing";
    Batch b;
    b.audit.push_back(AuditEntry{1772438400 + kRecords + 1, "system", "daemon.started", "", "", "{}", ""});
    s.commit(b);
    EXPECT_EQ(s.keyed_from(), kRecords + 1);
    auto trail = s.audit();
    ASSERT_EQ(trail.size(), static_cast<std::size_t>(kRecords + 2));
    EXPECT_EQ(trail[kRecords].kind, kKeyedKind);
    EXPECT_EQ(trail[kRecords].prev_hash, head) << "the marker's keyed link covers the last unkeyed record";
    EXPECT_EQ(trail[kRecords].hash, audit_hash(trail[kRecords], *key));
    EXPECT_EQ(trail[kRecords + 1].hash, audit_hash(trail[kRecords + 1], *key));
  }
  {
    // A later start finds the marker and writes no second one.
    Store s(db(), "system", {}, key);
    EXPECT_EQ(s.keyed_from(), kRecords + 1);
    Batch b;
    b.audit.push_back(AuditEntry{1772438400 + kRecords + 2, "system", "daemon.started", "", "", "{}", ""});
    s.commit(b);
    EXPECT_EQ(s.audit().size(), static_cast<std::size_t>(kRecords + 3));
  }
  Reader r(db());
  ChainOptions o;
  o.key = key.get();
  auto chain = verify_chain(r, o);
  EXPECT_FALSE(chain.broken) << chain.broken->what;
  EXPECT_EQ(chain.keyed_from, kRecords + 1);
  EXPECT_EQ(chain.unchecked, 0);
  EXPECT_EQ(chain.records, kRecords + 3);
  // The old part alone, as an old backup of it still verifies: unkeyed.
  auto old = verify_chain(r, std::pair<std::int64_t, std::string>{kRecords, head});
  EXPECT_FALSE(old.broken);
  EXPECT_EQ(old.unchecked, 3) << "the marker and the two records after it, without the key";
}

TEST(SchemaNewer, AFileFromANewerDocketIsRefusedWhateverIsRead) {
  const fs::path file = fs::temp_directory_path() / ("docket-newer-" + std::to_string(::getpid()) + ".db");
  {
    Connection c(file, Connection::Mode::read_write);
    c.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1));
  }
  for (Schema need : {Schema::current, Schema::any}) {
    try {
      Reader r(file, need);
      ADD_FAILURE() << "a file from a newer docket was opened";
    } catch (const StoreError& e) {
      EXPECT_NE(std::string(e.what()).find("newer docket"), std::string::npos) << e.what();
    }
  }
  fs::remove(file);
}

// Every released schema before the current one.
INSTANTIATE_TEST_SUITE_P(EveryEarlierSchema, SchemaUpgrade, ::testing::Range(1, kSchemaVersion),
                         [](const ::testing::TestParamInfo<int>& p) { return "FromSchema" + std::to_string(p.param); });

TEST(SchemaUpgradeSteps, ThereIsOneStepPerSchemaVersion) {
  EXPECT_EQ(Store::migrations().size(), static_cast<std::size_t>(kSchemaVersion));
}

}  // namespace
}  // namespace docket::store
