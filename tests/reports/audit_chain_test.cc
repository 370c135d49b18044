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

// The keyed trail: the store writes an audit.keyed record first, then every
// record's hash is an HMAC under the key. Someone who can write the file but
// has not the key: their appends, edits, truncations and rewrites all fail,
// without any head passed on the command line, against the head docketd
// published (ChainOptions::published, as the head file gives it).
class KeyedChainTest : public ChainTest {
 protected:
  KeyedChainTest() : key_(std::make_shared<AuditKey>(std::string(32, '\x42'))), keyed_db_(dir_.path() / "keyed.db") {
    Store s(keyed_db_, "virtual", {}, key_);
    for (int batch = 0; batch < 3; ++batch) {
      Batch b;
      for (int i = 0; i < 4; ++i) {
        AuditEntry e;
        e.at = 1772445600 + batch * 3600 + i;
        e.actor = "system";
        e.kind = "deadline.reminder";
        e.ref = "RR-2026-00" + std::to_string(batch + 1);
        e.details = R"({"n":)" + std::to_string(batch * 4 + i) + "}";
        b.audit.push_back(e);
      }
      s.commit(b);
    }
    published_ = PublishedHead{s.durable_head().seq, s.durable_head().hash, s.keyed_from(), 1772460000, 0};
  }

  void tamper_keyed(const std::string& sql) {
    Connection c(keyed_db_, Connection::Mode::read_write);
    c.exec("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;");
    c.exec(sql);
  }

  ChainReport verify_keyed(bool with_key = true, bool with_head = true) {
    Reader r(keyed_db_);
    ChainOptions o;
    if (with_key) o.key = key_.get();
    if (with_head) o.published = published_;
    return verify_chain(r, o);
  }

  // A record appended by someone who knows the chain's format but not the
  // key: chained to the head, hashed with plain SHA-256 (or `hash`).
  void append_forged(const std::string& hash = {}) {
    Reader r(keyed_db_);
    AuditRecord f;
    f.seq = published_.seq + 1;
    f.at = 1772470000;
    f.actor = "a-morgan";
    f.kind = "stage.waived";
    f.ref = "RR-2026-001";
    f.stage = "notify-panel";
    f.details = "{}";
    f.clock = "virtual";
    f.prev_hash = published_.hash;
    f.hash = hash.empty() ? audit_hash(f) : hash;
    tamper_keyed("INSERT INTO audit (seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash) "
                 "VALUES (" + std::to_string(f.seq) + ", " + std::to_string(f.at) +
                 ", 'a-morgan', 'stage.waived', 'RR-2026-001', 'notify-panel', '{}', '', 'virtual', '" + f.prev_hash +
                 "', '" + f.hash + "')");
  }

  std::shared_ptr<AuditKey> key_;
  std::filesystem::path keyed_db_;
  PublishedHead published_;
};

TEST_F(KeyedChainTest, UntouchedPassesEveryRecordCheckedWithTheKey) {
  auto rep = verify_keyed();
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  EXPECT_EQ(rep.records, 13) << "twelve records after the audit.keyed record";
  EXPECT_EQ(rep.keyed_from, 1);
  EXPECT_EQ(rep.key_id, key_->id());
  EXPECT_EQ(rep.unchecked, 0);
  Reader r(keyed_db_);
  AuditFilter f;
  f.kind = "audit.keyed";
  auto marker = query_audit(r, f).records;
  ASSERT_EQ(marker.size(), 1u);
  EXPECT_EQ(marker[0].seq, 1);
  EXPECT_NE(marker[0].details.find(key_->id()), std::string::npos) << marker[0].details;
  EXPECT_EQ(marker[0].hash, audit_hash(marker[0], *key_));
  // Without the key nothing is wrong, but the contents go unchecked.
  auto keyless = verify_keyed(false);
  EXPECT_FALSE(keyless.broken);
  EXPECT_EQ(keyless.unchecked, 13);
}

TEST_F(KeyedChainTest, AWriterWithoutTheKeyIsRefusedByTheStore) {
  Store s(keyed_db_, "virtual");
  Batch b;
  b.audit.push_back(AuditEntry{1772470000, "system", "daemon.started", "", "", "{}", ""});
  try {
    s.commit(b);
    FAIL() << "appended to a keyed trail without its key";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("only a writer holding the audit key may append"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(verify_keyed().broken);
}

TEST_F(KeyedChainTest, AForgedAppendWithAPlainHashFailsWithOrWithoutTheKey) {
  append_forged();
  for (bool with_key : {true, false}) {
    auto rep = verify_keyed(with_key, false);
    ASSERT_TRUE(rep.broken) << "with key: " << with_key;
    EXPECT_EQ(rep.broken->seq, 14);
    EXPECT_NE(rep.broken->what.find("record 14 was forged: it carries a plain SHA-256 hash"), std::string::npos)
        << rep.broken->what;
  }
}

TEST_F(KeyedChainTest, AForgedAppendWithAMadeUpHashFailsWithTheKey) {
  append_forged(std::string(64, '7'));
  auto rep = verify_keyed(true, false);
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 14);
  EXPECT_NE(rep.broken->what.find("its hash is not the one the audit key gives"), std::string::npos) << rep.broken->what;
  EXPECT_FALSE(verify_keyed(false, false).broken) << "without the key only its link can be checked";
  EXPECT_EQ(verify_keyed(false, false).unchecked, 14);
}

TEST_F(KeyedChainTest, AnEditRehashedWithoutTheKeyFails) {
  Reader r(keyed_db_);
  auto rec = audit_of(r, "RR-2026-002").front();
  rec.details = R"({"n":99})";
  tamper_keyed("UPDATE audit SET details = '{\"n\":99}', hash = '" + audit_hash(rec) + "' WHERE seq = " +
               std::to_string(rec.seq));
  auto rep = verify_keyed();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, rec.seq);
}

TEST_F(KeyedChainTest, RecordsCutFromTheEndFailAgainstThePublishedHead) {
  tamper_keyed("DELETE FROM audit WHERE seq >= 11");
  auto rep = verify_keyed();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 11);
  EXPECT_NE(rep.broken->what.find("the trail ends at record 10, but docketd published record 13"), std::string::npos)
      << rep.broken->what;
  EXPECT_NE(rep.broken->what.find("records were cut from the end"), std::string::npos) << rep.broken->what;
  EXPECT_TRUE(verify_keyed(false).broken) << "the head alone shows it, key or not";
}

TEST_F(KeyedChainTest, DeletingEveryRecordFailsAgainstThePublishedHead) {
  tamper_keyed("DELETE FROM audit");
  auto rep = verify_keyed();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 1);
  EXPECT_NE(rep.broken->what.find("the trail is empty, but docketd published record 13"), std::string::npos)
      << rep.broken->what;
  EXPECT_NE(rep.broken->what.find("every record was deleted"), std::string::npos) << rep.broken->what;
}

TEST_F(KeyedChainTest, AWholeChainRewrittenWithoutTheKeyFails) {
  // Every record rewritten as a plain SHA-256 chain, the marker dropped and
  // a record added, so that its length still passes the published head.
  std::vector<AuditRecord> records;
  {
    Reader r(keyed_db_);
    auto s = r.db().prepare("SELECT seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash "
                            "FROM audit WHERE seq > 1 ORDER BY seq");
    while (s.step()) {
      AuditRecord x;
      x.seq = s.integer(0) - 1;
      x.at = s.integer(1);
      x.actor = s.text(2);
      x.kind = s.text(3);
      x.ref = s.text(4);
      x.stage = s.text(5);
      x.details = s.text(6);
      x.version = s.text(7);
      x.clock = s.text(8);
      records.push_back(x);
    }
    AuditRecord extra = records.back();
    extra.seq += 1;
    extra.details = R"({"forged":true})";
    records.push_back(extra);
  }
  std::string sql = "DELETE FROM audit;";
  std::string prev;
  for (auto& x : records) {
    x.prev_hash = prev;
    x.hash = audit_hash(x);
    prev = x.hash;
    sql += "INSERT INTO audit (seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash) VALUES (" +
           std::to_string(x.seq) + ", " + std::to_string(x.at) + ", '" + x.actor + "', '" + x.kind + "', '" + x.ref +
           "', '" + x.stage + "', '" + x.details + "', '" + x.version + "', '" + x.clock + "', '" + x.prev_hash +
           "', '" + x.hash + "');";
  }
  tamper_keyed(sql);
  EXPECT_FALSE(verify_keyed(true, false).broken) << "a plain chain on its own verifies: only an anchor shows it";
  auto rep = verify_keyed();
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 13);
  EXPECT_NE(rep.broken->what.find("record 13's hash is not the one docketd published"), std::string::npos)
      << rep.broken->what;
}

TEST_F(KeyedChainTest, AnotherKeyIsNamedNotTakenForAForgery) {
  const AuditKey other(std::string(32, 'o'));
  Reader r(keyed_db_);
  ChainOptions o;
  o.key = &other;
  auto rep = verify_chain(r, o);
  EXPECT_FALSE(rep.broken);
  EXPECT_TRUE(rep.wrong_key);
  EXPECT_EQ(rep.key_id, key_->id());
  EXPECT_EQ(rep.unchecked, 13);
}

TEST_F(KeyedChainTest, FromAVerifiedPointOnlyLaterRecordsAreRead) {
  Reader r(keyed_db_);
  ChainOptions o;
  o.key = key_.get();
  o.published = published_;
  auto all = verify_chain(r, o);
  ASSERT_FALSE(all.broken);
  const auto eighth = audit_of(r, "RR-2026-002").back();  // record 9: the last of the second batch
  o.from = VerifiedPoint{eighth.seq, eighth.hash, 1};
  auto rest = verify_chain(r, o);
  EXPECT_FALSE(rest.broken) << rest.broken->what;
  EXPECT_EQ(rest.records, 13 - eighth.seq);
  EXPECT_EQ(rest.head_seq, 13);
  EXPECT_EQ(rest.head_hash, all.head_hash);
  EXPECT_EQ(rest.keyed_from, 1);
  // A point whose record was since changed is itself the alarm.
  o.from->hash = std::string(64, '0');
  auto moved = verify_chain(r, o);
  ASSERT_TRUE(moved.broken);
  EXPECT_EQ(moved.broken->seq, eighth.seq);
  EXPECT_NE(moved.broken->what.find("verified when docketd last started, has changed"), std::string::npos)
      << moved.broken->what;
}

}  // namespace
}  // namespace docket::store
