// The hash chain as `docket audit verify` walks it: a database written by
// the real store, then tampered with behind its back (the test drops the
// append-only triggers, as someone with the file could), must fail at the
// record that was edited, deleted or slipped in, and pass untouched.

#include <gtest/gtest.h>

#include "store/audit_query.h"
#include "store/store.h"
#include "tests/support/process.h"

namespace docket::store {
namespace {

class ChainTest : public ::testing::Test {
 protected:
  ChainTest() : db_(dir_.path() / "docket.db") {
    Store s(db_, "virtual");
    // Three batches, twelve records, as three group commits would leave them.
    for (int batch = 0; batch < 3; ++batch) {
      Batch b;
      for (int i = 0; i < 4; ++i) {
        AuditEntry e;
        e.at = 1772445600 + batch * 3600 + i;
        e.actor = i % 2 == 0 ? "a-morgan" : "system";
        e.kind = i % 2 == 0 ? "stage.completed" : "deadline.reminder";
        e.ref = "RR-2026-00" + std::to_string(batch + 1);
        e.stage = "rapid-review";
        e.details = R"({"on":"2026-03-02","reason":"a, \"quoted\" reason"})";
        e.version = "14da8c6b4065";
        b.audit.push_back(e);
      }
      s.commit(b);
    }
  }

  // The file as someone with write access could change it.
  void tamper(const std::string& sql) {
    Connection c(db_, Connection::Mode::read_write);
    c.exec("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;");
    c.exec(sql);
  }

  ChainReport verify(std::optional<std::pair<std::int64_t, std::string>> head = {}) {
    Reader r(db_);
    return verify_chain(r, head);
  }

  testing::TempDir dir_;
  std::filesystem::path db_;
};

TEST_F(ChainTest, UntouchedPasses) {
  auto rep = verify();
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  EXPECT_EQ(rep.records, 12);
  EXPECT_EQ(rep.head_seq, 12);
  EXPECT_EQ(rep.head_hash.size(), 64u);
}

TEST_F(ChainTest, TriggersStillRefuseEditsThroughSqlite) {
  Connection c(db_, Connection::Mode::read_write);
  EXPECT_THROW(c.exec("UPDATE audit SET actor = 'x' WHERE seq = 3"), StoreError);
  EXPECT_THROW(c.exec("DELETE FROM audit WHERE seq = 3"), StoreError);
}

TEST_F(ChainTest, EditedDetailsFailAtThatRecord) {
  tamper("UPDATE audit SET details = '{\"on\":\"2026-03-01\"}' WHERE seq = 7");
  auto rep = verify();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 7);
  EXPECT_EQ(rep.broken->what, "record 7 was edited: its contents no longer match its hash");
  EXPECT_EQ(rep.records, 7) << "stops at the first broken link";
}

TEST_F(ChainTest, EditedActorFailsToo) {
  tamper("UPDATE audit SET actor = 'k-davies' WHERE seq = 1");
  auto rep = verify();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 1);
}

TEST_F(ChainTest, EditedAndRehashedFailsAtThatRecord) {
  // The forger knows the hash function: record 5 is edited and rehashed, so
  // only record 6's link shows it.
  {
    Reader r(db_);
    auto rec = audit_of(r, "RR-2026-002").front();
    ASSERT_EQ(rec.seq, 5);
    rec.actor = "k-davies";
    tamper("UPDATE audit SET actor = 'k-davies', hash = '" + audit_hash(rec) + "' WHERE seq = 5");
  }
  auto rep = verify();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 5);
  EXPECT_NE(rep.broken->what.find("record 5 was altered"), std::string::npos) << rep.broken->what;
}

TEST_F(ChainTest, DeletedRecordFailsAtItsNumber) {
  tamper("DELETE FROM audit WHERE seq = 4");
  auto rep = verify();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 4);
  EXPECT_EQ(rep.broken->what, "record 4 is missing: the sequence jumps from 3 to 5 (1 record was deleted)");
}

TEST_F(ChainTest, DeletedAndRenumberedFailsWhereTheGapWas) {
  tamper("DELETE FROM audit WHERE seq = 4; UPDATE audit SET seq = seq - 1 WHERE seq > 4");
  auto rep = verify();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 4);
  EXPECT_NE(rep.broken->what.find("record 4 was altered"), std::string::npos) << rep.broken->what;
}

TEST_F(ChainTest, InsertedForgedRecordFailsAtIt) {
  // A forged record 6, perfectly chained to record 5 and correctly hashed;
  // the old records 6 to 12 move up one.
  AuditRecord forged;
  {
    Reader r(db_);
    auto records = audit_of(r, "RR-2026-002");
    forged.seq = 6;
    forged.at = records[0].at + 1;
    forged.actor = "a-morgan";
    forged.kind = "stage.waived";
    forged.ref = "RR-2026-002";
    forged.stage = "notify-panel";
    forged.details = R"({"reason":"waived by nobody"})";
    forged.clock = "virtual";
    forged.prev_hash = records[0].hash;  // record 5
    forged.hash = audit_hash(forged);
  }
  tamper("UPDATE audit SET seq = -seq WHERE seq >= 6; UPDATE audit SET seq = -seq + 1 WHERE seq < 0;"
         "INSERT INTO audit (seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash) VALUES (6, " +
         std::to_string(forged.at) + ", 'a-morgan', 'stage.waived', 'RR-2026-002', 'notify-panel', '" + forged.details +
         "', '', 'virtual', '" + forged.prev_hash + "', '" + forged.hash + "')");
  auto rep = verify();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 6);
  EXPECT_EQ(rep.broken->what, "record 6 was inserted: record 7 is chained to record 5, as if record 6 were not there");
}

TEST_F(ChainTest, InsertedRecordWithAMadeUpHashFailsAtIt) {
  tamper("INSERT INTO audit (seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash) "
         "SELECT 13, at + 1, 'a-morgan', 'review.cancelled', ref, '', '{}', '', 'virtual', hash, "
         "'0000000000000000000000000000000000000000000000000000000000000000' FROM audit WHERE seq = 12");
  auto rep = verify();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 13);
}

TEST_F(ChainTest, TheNotedHeadCatchesRecordsCutFromTheEnd) {
  const auto before = verify();
  ASSERT_FALSE(before.broken);
  EXPECT_FALSE(verify(std::pair{before.head_seq, before.head_hash}).broken);
  EXPECT_FALSE(verify(std::pair{before.head_seq, before.head_hash.substr(0, 16)}).broken) << "a prefix will do";
  tamper("DELETE FROM audit WHERE seq >= 11");
  EXPECT_FALSE(verify().broken) << "the chain alone cannot see a cut tail";
  auto rep = verify(std::pair{before.head_seq, before.head_hash});
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 11);
  EXPECT_NE(rep.broken->what.find("records were removed from the end"), std::string::npos) << rep.broken->what;
}

TEST_F(ChainTest, EmptyTrailIsIntact) {
  testing::TempDir other;
  { Store s(other.path() / "empty.db", "system"); }
  Reader r(other.path() / "empty.db");
  auto rep = verify_chain(r);
  EXPECT_FALSE(rep.broken);
  EXPECT_EQ(rep.records, 0);
}

TEST_F(ChainTest, ReaderRefusesWhatIsNotADocketDatabase) {
  EXPECT_THROW(Reader(dir_.path() / "missing.db"), StoreError);
  { Connection c(dir_.path() / "other.db", Connection::Mode::read_write); c.exec("CREATE TABLE t (x)"); }
  try {
    Reader r(dir_.path() / "other.db");
    FAIL() << "opened a database with no docket schema";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("is not a docket database"), std::string::npos) << e.what();
  }
}

TEST_F(ChainTest, ReadingNeverWritesTheFile) {
  const auto before = std::filesystem::last_write_time(db_);
  const auto size = std::filesystem::file_size(db_);
  {
    Reader r(db_);
    verify_chain(r);
    query_audit(r, AuditFilter{});
  }
  EXPECT_EQ(std::filesystem::last_write_time(db_), before);
  EXPECT_EQ(std::filesystem::file_size(db_), size);
}

}  // namespace
}  // namespace docket::store
