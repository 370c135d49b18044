// `docket backup` and `docket restore` against a real docketd: an online copy
// taken while commands commit is one consistent snapshot; restore refuses
// while docketd runs and refuses a file that fails its checks, and a round
// trip brings back exactly what was backed up.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <set>

#include "store/audit_query.h"
#include "store/backup.h"
#include "store/reader.h"
#include "store/store.h"
#include "tests/support/daemon.h"
#include "tests/support/sync_gate.h"

namespace docket::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// The refs with a review row, and those with a review.started record: in a
// consistent snapshot they are the same.
std::pair<std::set<std::string>, std::set<std::string>> reviews_and_starts(const fs::path& db) {
  store::Reader r(db);
  std::set<std::string> rows, started;
  auto s = r.db().prepare("SELECT ref FROM reviews");
  while (s.step()) rows.insert(s.text(0));
  auto a = r.db().prepare("SELECT ref FROM audit WHERE kind = 'review.started'");
  while (a.step()) started.insert(a.text(0));
  return {rows, started};
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 0777 : 0;
}

TEST(BackupRestore, OnlineBackupIsOneSnapshotAndRestoreRoundTrips) {
  Sandbox box;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());

  // Some reviews before the backup...
  LineClient writer(box.socket());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(replied_ok(call(writer, "start", rapid_review_start("RR-B-" + std::to_string(i)), i)));
  }

  // ... then the backup, held on a latch once it has taken its snapshot (at
  // its first write of the copy) while more commit, and let go.
  const fs::path copy = fs::canonical(box.dir()) / "backup.db";
  SyncGate gate(box.dir() / "backup-gate");
  gate.close();
  std::optional<Process> backup;
  {
    ScopedEnv env(gate.env(copy));
    backup.emplace(std::vector<std::string>{kDocket.string(), "backup", copy.string(), "--db", box.db().string()},
                   box.dir() / "backup.out", box.dir() / "backup.err");
  }
  const bool held = eventually([&] { return gate.waiting() || !backup->running(); });
  for (int i = 20; i < 25 && held; ++i) {
    ASSERT_TRUE(replied_ok(call(writer, "start", rapid_review_start("RR-B-" + std::to_string(i)), i))) << d->log();
  }
  gate.open();
  const auto ended = backup->wait(kPatience);
  const std::string out = slurp(box.dir() / "backup.out"), err = slurp(box.dir() / "backup.err");
  ASSERT_TRUE(held && gate.waiting()) << "the backup never reached the latch: " << out << err;
  ASSERT_TRUE(ended && WIFEXITED(*ended) && WEXITSTATUS(*ended) == 0) << describe_status(ended) << "\n" << out << err;
  EXPECT_TRUE(contains(out, "backed up " + box.db().string() + " to " + copy.string())) << out;
  EXPECT_EQ(mode_of(copy), 0600u);
  EXPECT_FALSE(fs::exists(copy.string() + "-wal")) << "a backup is one self-contained file";

  auto check = store::check_database(copy);
  ASSERT_FALSE(check.problem) << *check.problem;
  EXPECT_EQ(check.schema_version, store::kSchemaVersion);
  auto [rows, starts] = reviews_and_starts(copy);
  EXPECT_EQ(rows, starts) << "the reviews and their audit records come from one moment";
  // That moment is the backup's start: what committed while it ran is not in it.
  EXPECT_EQ(rows.size(), 20u);
  EXPECT_TRUE(rows.count("RR-B-19"));
  EXPECT_FALSE(rows.count("RR-B-20"));

  // Restore refuses while docketd answers, and changes nothing.
  auto refused = box.docket({"restore", copy.string(), "--db", box.db().string(), "--socket", box.socket().string()});
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  EXPECT_TRUE(contains(refused.err, "docketd is running")) << refused.err;

  // What happens after the backup is not in it.
  {
    LineClient c(box.socket());
    json reply = call(c, "start", rapid_review_start("RR-AFTER"));
    ASSERT_TRUE(replied_ok(reply)) << reply.dump();
  }
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));

  auto restored = box.docket({"restore", copy.string(), "--db", box.db().string(), "--socket", box.socket().string()});
  ASSERT_EQ(restored.code, 0) << restored.out << restored.err;
  EXPECT_TRUE(contains(restored.out, "integrity ok, schema " + std::to_string(store::kSchemaVersion) +
                                         ", audit chain intact"))
      << restored.out;
  EXPECT_TRUE(contains(restored.out, "the database it replaced is kept as ")) << restored.out;
  // The head published for the database replaced names records the backup
  // does not have: it goes aside with it.
  EXPECT_TRUE(contains(restored.out, "the audit head published for it is kept as ")) << restored.out;
  EXPECT_FALSE(fs::exists(box.dir() / "audit.head"));
  EXPECT_EQ(mode_of(box.db()), 0600u);

  // The kept file still holds what came after; the restored one does not.
  fs::path kept;
  for (const auto& e : fs::directory_iterator(box.dir())) {
    if (contains(e.path().filename().string(), "docket.db.before-restore-") &&
        !contains(e.path().filename().string(), "-wal") && !contains(e.path().filename().string(), "-shm")) {
      kept = e.path();
    }
  }
  ASSERT_FALSE(kept.empty());
  EXPECT_TRUE(reviews_and_starts(kept).first.count("RR-AFTER"));
  EXPECT_FALSE(store::check_database(kept).problem);
  EXPECT_EQ(reviews_and_starts(box.db()).first, rows);

  // docketd runs on the restored database and the chain goes on from it.
  auto again = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(again->wait_ready());
  {
    LineClient c(box.socket());
    json status = call(c, "status", {{"ref", *rows.begin()}});
    EXPECT_TRUE(replied_ok(status)) << status.dump();
    json gone = call(c, "status", {{"ref", "RR-AFTER"}});
    EXPECT_TRUE(gone.is_object() && !replied_ok(gone)) << gone.dump();
  }
  ASSERT_TRUE(exited_zero(again->terminate(), again->log()));
  auto after = store::check_database(box.db());
  EXPECT_FALSE(after.problem) << *after.problem;
  EXPECT_GT(after.audit_records, check.audit_records);
  // docketd said on the record that the head had gone, and published anew.
  auto missing = box.docket({"audit", "--kind", "audit.head_missing", "--format", "json", "--db", box.db().string()});
  ASSERT_EQ(missing.code, 0) << missing.err;
  EXPECT_EQ(json::parse(missing.out)["records"].size(), 1u) << missing.out;
  auto verified = box.docket({"audit", "verify", "--db", box.db().string()});
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
  EXPECT_TRUE(contains(verified.out, "published head: record " + std::to_string(after.audit_records))) << verified.out;
}

class RestoreRefuses : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = box_.daemon("2026-03-02T08:00");
    ASSERT_TRUE(d->wait_ready());
    LineClient c(box_.socket());
    for (int i = 0; i < 30; ++i) ASSERT_TRUE(call(c, "start", rapid_review_start("RR-R-" + std::to_string(i)))["ok"]);
    ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
    before_ = slurp(box_.db());
    auto b = box_.docket({"backup", good().string(), "--db", box_.db().string()});
    ASSERT_EQ(b.code, 0) << b.err;
  }

  fs::path good() const { return box_.dir() / "good.db"; }

  // Restoring `file` is refused with `why`, and the database is untouched.
  void expect_refused(const fs::path& file, const std::string& why) {
    auto r = box_.docket({"restore", file.string(), "--db", box_.db().string(), "--socket", box_.socket().string()});
    EXPECT_EQ(r.code, 1) << r.how << "\n" << r.out << r.err;
    EXPECT_TRUE(contains(r.err, "not restoring " + file.string() + ": ")) << r.err;
    EXPECT_TRUE(contains(r.err, why)) << r.err;
    EXPECT_EQ(slurp(box_.db()), before_) << "a refused restore changed the database";
  }

  Sandbox box_;
  std::string before_;
};

TEST_F(RestoreRefuses, NothingOnAServerWhereDocketdNeverRan) {
  // Disaster recovery onto a fresh machine: the state directory is not there yet.
  const fs::path state = box_.dir() / "fresh" / "var-lib-docket";
  const fs::path db = state / "docket.db";
  // The trail is keyed: without its key the backup cannot be checked, and
  // docketd could not go on with it. The key comes back from the backups too.
  auto keyless = box_.docket({"restore", good().string(), "--db", db.string(), "--socket",
                              (state / "none.sock").string()});
  EXPECT_EQ(keyless.code, 1) << keyless.out << keyless.err;
  EXPECT_TRUE(contains(keyless.err, "its audit trail is keyed from record 1")) << keyless.err;
  EXPECT_TRUE(contains(keyless.err, "pass --key-file PATH")) << keyless.err;
  EXPECT_FALSE(fs::exists(db));
  auto r = box_.docket({"restore", good().string(), "--db", db.string(), "--socket", (state / "none.sock").string(),
                        "--key-file", (box_.dir() / "audit.key").string()});
  ASSERT_EQ(r.code, 0) << r.how << "\n" << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "restored " + good().string() + " to " + db.string())) << r.out;
  EXPECT_FALSE(contains(r.out, "kept as")) << "there was nothing to keep: " << r.out;
  struct stat dir {};
  ASSERT_EQ(::stat(state.c_str(), &dir), 0);
  EXPECT_EQ(dir.st_mode & 0777, 0700u);
  store::Reader restored(db), backup(good());
  const auto chain = store::verify_chain(restored);
  EXPECT_FALSE(chain.broken);
  EXPECT_EQ(chain.head_hash, store::verify_chain(backup).head_hash) << "the restored trail is the backup's";
}

TEST_F(RestoreRefuses, AFileThatIsNotADatabase) {
  const fs::path junk = box_.dir() / "junk.db";
  std::ofstream(junk) << std::string(8192, 'x');
  expect_refused(junk, "cannot be read as a docket database");
}

TEST_F(RestoreRefuses, ATamperedAuditTrail) {
  const fs::path tampered = box_.dir() / "tampered.db";
  fs::copy_file(good(), tampered);
  {
    store::Connection c(tampered, store::Connection::Mode::read_write);
    c.exec("DROP TRIGGER audit_no_update");
    c.exec("UPDATE audit SET actor = 'someone-else' WHERE seq = 5");
  }
  expect_refused(tampered, "its audit trail is broken at record 5");
}

TEST_F(RestoreRefuses, ANewerSchema) {
  const fs::path newer = box_.dir() / "newer.db";
  fs::copy_file(good(), newer);
  {
    store::Connection c(newer, store::Connection::Mode::read_write);
    c.exec("PRAGMA user_version = " + std::to_string(store::kSchemaVersion + 1));
  }
  expect_refused(newer, "written by a newer docket");
}

TEST_F(RestoreRefuses, AFileThatFailsTheIntegrityCheck) {
  const fs::path broken = box_.dir() / "broken.db";
  fs::copy_file(good(), broken);
  {
    // Swap two index entries' order in SQLite's eyes: rewrite a row behind an
    // index's back with the index check left on, then turn it off again.
    store::Connection c(broken, store::Connection::Mode::read_write);
    c.exec("PRAGMA writable_schema = ON");
    c.exec("UPDATE sqlite_schema SET sql = 'CREATE INDEX reviews_workflow ON reviews(title)' "
           "WHERE name = 'reviews_workflow'");
  }
  expect_refused(broken, "integrity check fails");
}

TEST_F(RestoreRefuses, TheDatabaseItself) {
  auto r = box_.docket({"restore", box_.db().string(), "--db", box_.db().string(), "--socket",
                        box_.socket().string()});
  EXPECT_EQ(r.code, 2) << r.out << r.err;
  auto b = box_.docket({"backup", box_.db().string(), "--db", box_.db().string()});
  EXPECT_EQ(b.code, 2) << b.out << b.err;
  EXPECT_EQ(slurp(box_.db()), before_);
}

}  // namespace
}  // namespace docket::testing
