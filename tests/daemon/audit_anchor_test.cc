// The audit trail anchored outside the database, end to end with the real
// docketd and docket: the key made at first start, the head published to
// the journal, the head file and a recipient, signed; `docket audit verify`
// catching, without --expect-head, what someone who can write only the
// database does (cut the end, delete everything, append a record); and
// docketd refusing to start on a damaged database or a trail that does not
// verify, writing nothing to it.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "store/audit_head.h"
#include "store/audit_key.h"
#include "store/reader.h"
#include "store/sqlite.h"
#include "store/store.h"
#include "tests/support/daemon.h"

namespace docket::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

json start_args(const std::string& ref) {
  json args = rapid_review_start(ref);
  args["assign"] = {{"lead-reviewer", "k-davies"}};
  return args;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_mode & 0777 : 0;
}

std::int64_t last_seq(const fs::path& db) {
  store::Reader r(db, store::Schema::any);
  auto last = r.last_audit();
  return last ? last->seq : 0;
}

// The file as someone who can write it, without docketd's key, leaves it.
void tamper(const fs::path& db, const std::string& sql) {
  store::Connection c(db, store::Connection::Mode::read_write);
  c.exec("DROP TRIGGER IF EXISTS audit_no_update; DROP TRIGGER IF EXISTS audit_no_delete;");
  c.exec(sql);
  c.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

// Overwrites `n` bytes at `offset` of the file, as a failing disk would.
void overwrite(const fs::path& file, std::uintmax_t offset, const std::string& bytes) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A docketd that ran once on the sandbox (some reviews started, then a
// clean stop): a keyed trail, its key and its published head beside it.
class AuditAnchor : public ::testing::Test {
 protected:
  void SetUp() override { run_once(3); }

  void run_once(int reviews) {
    auto d = box_.daemon("2026-03-02T08:00");
    ASSERT_TRUE(d->wait_ready());
    LineClient c(box_.socket());
    for (int i = 0; i < reviews; ++i) {
      ASSERT_TRUE(replied_ok(call(c, "start", start_args("RR-A-" + std::to_string(runs_) + "-" + std::to_string(i)))));
    }
    ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
    last_log_ = d->log();
    ++runs_;
  }

  RunResult verify(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"audit", "verify", "--db", box_.db().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return box_.docket(args);
  }

  // docketd on the sandbox must refuse to start: exit 65, saying `what` and
  // how to restore, and the database left exactly as it was.
  void expect_refused(const std::string& what, const std::string& event) {
    const std::string before = slurp(box_.db());
    auto d = box_.daemon("2026-03-02T08:00");
    auto st = d->wait_exit(30s);
    ASSERT_TRUE(st && WIFEXITED(*st)) << describe_status(st) << "\n" << d->log();
    EXPECT_EQ(WEXITSTATUS(*st), 65) << d->log();
    const std::string log = d->log();
    EXPECT_TRUE(contains(log, "docketd: not starting: ")) << log;
    EXPECT_TRUE(contains(log, what)) << log;
    EXPECT_TRUE(contains(log, "docket restore ")) << "it says how to restore: " << log;
    EXPECT_TRUE(contains(log, event + " path=" + box_.db().string())) << "the stable event: " << log;
    EXPECT_FALSE(fs::exists(box_.socket())) << "it never served";
    EXPECT_EQ(slurp(box_.db()), before) << "a refused start wrote to the database";
  }

  fs::path key_file() const { return box_.dir() / "audit.key"; }
  fs::path head_file() const { return box_.dir() / "audit.head"; }

  Sandbox box_;
  int runs_ = 0;
  std::string last_log_;
};

TEST_F(AuditAnchor, TheFirstStartMakesTheKeyAndEachStartAndStopPublishesTheHead) {
  EXPECT_EQ(mode_of(key_file()), 0600u);
  auto key = store::load_audit_key(key_file());
  EXPECT_TRUE(contains(last_log_, "audit.key_created path=" + key_file().string() + " key_id=" + key->id()))
      << last_log_;
  auto head = store::read_head_file(head_file(), key.get());
  ASSERT_EQ(head.state, store::HeadFile::State::authentic) << head.problem;
  EXPECT_EQ(head.head.seq, last_seq(box_.db())) << "the stop publishes the last record, daemon.stopped";
  EXPECT_EQ(head.head.keyed_from, 1);
  EXPECT_EQ(slurp(box_.dir() / "audit.pub.pem"), key->public_key_pem()) << "for the recipient of the signed heads";

  // The journal carries each head, signed: checkable with the public key alone.
  const std::regex line(R"(audit\.head seq=(\d+) hash=([0-9a-f]{64}) at=(\S+) keyed_from=1 signature=([0-9a-f]{128}) reason=(\w+))");
  std::vector<std::string> reasons;
  for (auto it = std::sregex_iterator(last_log_.begin(), last_log_.end(), line); it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    EXPECT_TRUE(store::verify_signature(key->public_key(), m[1].str() + ":" + m[2].str() + ":" + m[3].str(), m[4].str()))
        << m.str();
    reasons.push_back(m[5].str());
  }
  EXPECT_EQ(reasons, (std::vector<std::string>{"start", "stop"})) << last_log_;

  auto ok = verify();
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_TRUE(contains(ok.out, "audit trail intact: ")) << ok.out;
  EXPECT_TRUE(contains(ok.out, "keyed (HMAC-SHA256, key id " + key->id() + "), each checked with the key")) << ok.out;
  EXPECT_TRUE(contains(ok.out, "published head: record " + std::to_string(head.head.seq))) << ok.out;
}

TEST_F(AuditAnchor, VerifyCatchesRecordsCutFromTheEnd) {
  const auto seq = last_seq(box_.db());
  tamper(box_.db(), "DELETE FROM audit WHERE seq > " + std::to_string(seq - 3));
  auto r = verify();
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "audit trail BROKEN at record " + std::to_string(seq - 2) + ": the trail ends at record " +
                                  std::to_string(seq - 3) + ", but docketd published record " + std::to_string(seq)))
      << r.out;
}

TEST_F(AuditAnchor, VerifyCatchesEveryRecordDeleted) {
  tamper(box_.db(), "DELETE FROM audit");
  auto r = verify();
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "the trail is empty, but docketd published record")) << r.out;
  EXPECT_TRUE(contains(r.out, "every record was deleted")) << r.out;
}

TEST_F(AuditAnchor, VerifyCatchesAForgedAppendWithACorrectUnkeyedHash) {
  store::AuditRecord f;
  {
    store::Reader reader(box_.db(), store::Schema::any);
    auto last = reader.last_audit();
    ASSERT_TRUE(last);
    f.seq = last->seq + 1;
    f.at = last->at + 60;
    f.actor = "a-morgan";
    f.kind = "stage.waived";
    f.ref = "RR-A-0-0";
    f.stage = "rapid-review";
    f.details = "{}";
    f.clock = "virtual";
    f.prev_hash = last->hash;
    f.hash = store::audit_hash(f);
  }
  tamper(box_.db(), "INSERT INTO audit (seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash) "
                    "VALUES (" + std::to_string(f.seq) + ", " + std::to_string(f.at) +
                    ", 'a-morgan', 'stage.waived', 'RR-A-0-0', 'rapid-review', '{}', '', 'virtual', '" + f.prev_hash +
                    "', '" + f.hash + "')");
  auto r = verify();
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "audit trail BROKEN at record " + std::to_string(f.seq) + ": record " +
                                  std::to_string(f.seq) + " was forged: it carries a plain SHA-256 hash"))
      << r.out;
  // Nor does docketd go on from it.
  expect_refused("record " + std::to_string(f.seq) + " was forged", "audit.broken");
}

TEST_F(AuditAnchor, WithoutTheKeyVerifySaysWhatToDoAndStillChecksTheHead) {
  const fs::path moved = box_.dir() / "elsewhere.key";
  fs::rename(key_file(), moved);
  auto r = verify();
  EXPECT_EQ(r.code, 3) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "audit trail NOT FULLY CHECKED")) << r.out;
  EXPECT_TRUE(contains(r.out, "the audit key " + key_file().string() + " does not exist")) << r.out;
  EXPECT_TRUE(contains(r.out, "run this as the docket user (sudo -u docket docket audit verify) or as root, or pass "
                              "--key-file PATH"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "in order and linked, but their contents not checked")) << r.out;

  auto with = verify({"--key-file", moved.string()});
  EXPECT_EQ(with.code, 0) << with.out << with.err;

  tamper(box_.db(), "DELETE FROM audit WHERE seq > 5");
  auto cut = verify();
  EXPECT_EQ(cut.code, 1) << "the published head shows a cut even without the key: " << cut.out;
  EXPECT_TRUE(contains(cut.out, "records were cut from the end")) << cut.out;
}

TEST_F(AuditAnchor, AKeyedTrailWhoseKeyIsGoneIsNotGivenANewOne) {
  fs::remove(key_file());
  auto d = box_.daemon("2026-03-02T08:00");
  auto st = d->wait_exit(30s);
  ASSERT_TRUE(st && WIFEXITED(*st)) << describe_status(st);
  EXPECT_EQ(WEXITSTATUS(*st), 1) << d->log();
  EXPECT_TRUE(contains(d->log(), "the audit key " + key_file().string() + " is missing, but docketd has published"))
      << d->log();
  EXPECT_TRUE(contains(d->log(), "restore the key from your backup")) << d->log();
  EXPECT_FALSE(fs::exists(key_file()));
}

TEST_F(AuditAnchor, EachStartReadsOnlyTheRecordsAddedSinceTheLast) {
  const auto after_first = last_seq(box_.db());
  run_once(2);  // verifies every record (none verified before), notes the point
  EXPECT_TRUE(contains(last_log_, "verified_from=1 ")) << last_log_;
  run_once(1);
  EXPECT_TRUE(contains(last_log_, "verified_from=" + std::to_string(after_first + 1) + " ")) << last_log_;
}

TEST_F(AuditAnchor, AForgedVerifiedPointDoesNotSkipTheCheck) {
  run_once(1);  // now the database holds a verified point
  const auto seq = last_seq(box_.db());
  std::string head_hash;
  {
    store::Reader r(box_.db(), store::Schema::any);
    head_hash = r.last_audit()->hash;
  }
  // Record seq - 1 edited; the point moved to the head so nothing would be read.
  tamper(box_.db(), "UPDATE audit SET details = '{}' WHERE seq = " + std::to_string(seq - 1) + ";" +
                        "UPDATE meta SET value = '" + std::to_string(seq) + ":" + head_hash + ":1:" +
                        std::string(64, 'f') + "' WHERE key = 'audit_verified'");
  expect_refused("the audit trail in " + box_.db().string() + " does not verify at record", "audit.broken");
}

TEST_F(AuditAnchor, DocketdRefusesADatabaseWithADamagedPage) {
  std::int64_t page_size = 0, root = 0;
  {
    store::Connection c(box_.db(), store::Connection::Mode::read_write);
    c.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    auto p = c.prepare("PRAGMA page_size");
    p.step();
    page_size = p.integer(0);
    auto s = c.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'reviews'");
    ASSERT_TRUE(s.step());
    root = s.integer(0);
  }
  // The page's cell pointers, garbage: every row of the table is lost.
  overwrite(box_.db(), static_cast<std::uintmax_t>((root - 1) * page_size + 8), std::string(16, '\xff'));
  expect_refused("the database " + box_.db().string() + " is damaged: SQLite's check of the file fails",
                 "database.damaged");
}

TEST_F(AuditAnchor, DocketdRefusesATrailWithFlippedBytes) {
  // A byte of the audit.keyed record's public key, in the file itself:
  // SQLite's check passes, the chain does not.
  auto key = store::load_audit_key(key_file());
  {
    store::Connection c(box_.db(), store::Connection::Mode::read_write);
    c.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  const std::string bytes = slurp(box_.db());
  const auto at = bytes.find(key->public_key());
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(bytes.find(key->public_key(), at + 1), std::string::npos) << "the key appears once in the file";
  overwrite(box_.db(), at + 10, std::string(1, bytes[at + 10] == '0' ? '1' : '0'));
  auto v = verify();
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_TRUE(contains(v.out, "audit trail BROKEN at record 1: record 1 was edited or forged")) << v.out;
  expect_refused("the audit trail in " + box_.db().string() + " does not verify at record 1: record 1 was edited",
                 "audit.broken");
}

TEST_F(AuditAnchor, DocketdRefusesATruncatedTrail) {
  tamper(box_.db(), "DELETE FROM audit WHERE seq > 4");
  expect_refused("records were cut from the end", "audit.broken");
}

TEST_F(AuditAnchor, DocketdRefusesAHeadFileRewoundWithoutTheKey) {
  // Cut the trail and rewind the head file to match, without the key.
  tamper(box_.db(), "DELETE FROM audit WHERE seq > 4");
  std::string text = slurp(head_file());
  const auto at = text.find("\nseq ");
  const auto end = text.find('\n', at + 1);
  text.replace(at, end - at, "\nseq 4");
  std::ofstream(head_file(), std::ios::binary | std::ios::trunc) << text;
  const std::string before = slurp(box_.db());
  auto d = box_.daemon("2026-03-02T08:00");
  auto st = d->wait_exit(30s);
  ASSERT_TRUE(st && WIFEXITED(*st)) << describe_status(st);
  EXPECT_EQ(WEXITSTATUS(*st), 65) << d->log();
  EXPECT_TRUE(contains(d->log(), "audit.head_rejected path=" + head_file().string())) << d->log();
  EXPECT_TRUE(contains(d->log(), "the published audit head is not trustworthy")) << d->log();
  EXPECT_EQ(slurp(box_.db()), before);
  auto v = verify();
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_TRUE(contains(v.out, "the published head cannot be trusted")) << v.out;
}

TEST_F(AuditAnchor, DocketdRefusesAMissingDatabaseWhoseHeadWasPublished) {
  fs::rename(box_.db(), box_.dir() / "gone.db");
  auto d = box_.daemon("2026-03-02T08:00");
  auto st = d->wait_exit(30s);
  ASSERT_TRUE(st && WIFEXITED(*st)) << describe_status(st);
  EXPECT_EQ(WEXITSTATUS(*st), 65) << d->log();
  EXPECT_TRUE(contains(d->log(), "is missing or empty, but docketd published record")) << d->log();
  EXPECT_TRUE(contains(d->log(), "database.missing")) << d->log();
  EXPECT_FALSE(fs::exists(box_.db()) && fs::file_size(box_.db()) > 0);
}

// A trail written before docket keyed it: the first keyed docketd marks
// where keying starts, and the whole trail verifies, old part and new.
TEST(AuditAnchorUpgrade, AnOldTrailIsKeyedFromTheFirstKeyedStart) {
  Sandbox box;
  {
    store::Connection c(box.db(), store::Connection::Mode::read_write);
    c.exec("PRAGMA journal_mode=WAL");
    for (int v = 0; v < 7; ++v) c.exec(store::Store::migrations().at(static_cast<std::size_t>(v)));
    c.exec("PRAGMA user_version = 7");
    std::string prev;
    for (int i = 1; i <= 20; ++i) {
      store::AuditRecord r;
      r.seq = i;
      r.at = 1772438400 + i;
      r.actor = "system";
      r.kind = "deadline.reminder";
      r.details = "{}";
      r.clock = "virtual";
      r.prev_hash = prev;
      r.hash = store::audit_hash(r);
      prev = r.hash;
      auto s = c.prepare("INSERT INTO audit (seq, at, actor, kind, details, clock, prev_hash, hash) "
                         "VALUES (?1, ?2, 'system', 'deadline.reminder', '{}', 'virtual', ?3, ?4)");
      s.bind(1, r.seq).bind(2, r.at).bind(3, r.prev_hash).bind(4, r.hash);
      s.run();
    }
  }
  auto before = box.docket({"audit", "verify", "--db", box.db().string()});
  EXPECT_EQ(before.code, 0) << "an old trail verifies as it is, with no key anywhere: " << before.out << before.err;
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
  auto r = box.docket({"audit", "verify", "--db", box.db().string()});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(contains(r.out, "  records 1 to 20: a SHA-256 chain, written before the trail was keyed")) << r.out;
  EXPECT_TRUE(contains(r.out, "  records 21 to ")) << r.out;
  EXPECT_TRUE(contains(r.out, ": keyed (HMAC-SHA256")) << r.out;
  store::Reader reader(box.db());
  EXPECT_EQ(reader.schema_version(), store::kSchemaVersion);
  auto marker = reader.db().prepare("SELECT seq FROM audit WHERE kind = 'audit.keyed'");
  ASSERT_TRUE(marker.step());
  EXPECT_EQ(marker.integer(0), 21);
}

// docketd.toml's [audit] with a recipient and frequent publication.
class AuditPublication : public ::testing::Test {
 protected:
  AuditPublication() {
    config_.log_delivery();
    std::string toml = slurp(config_.dir() / "docketd.toml");
    const auto at = toml.find("# recipient = \"j-okafor\"");
    if (at != std::string::npos) toml.replace(at, 2, "");
    const auto records = toml.find("publish_records = 10000");
    if (records != std::string::npos) toml.replace(records, 23, "publish_records = 5");
    config_.write("docketd.toml", toml);
  }

  TempConfig config_;
};

TEST_F(AuditPublication, TheRecipientGetsEachHeadSignedAndItIsPublishedEveryNRecords) {
  Sandbox box(config_.dir());
  auto d = box.daemon("2026-03-02T08:00");
  ASSERT_TRUE(d->wait_ready());
  auto key = store::load_audit_key(box.dir() / "audit.key");
  auto notices = [&] {
    std::vector<std::pair<std::string, json>> out;
    store::Reader r(box.db());
    auto s = r.db().prepare("SELECT state, person, payload FROM outbox WHERE kind = 'audit-head' ORDER BY id");
    while (s.step()) {
      EXPECT_EQ(s.text(1), "j-okafor");
      out.emplace_back(s.text(0), json::parse(s.text(2)));
    }
    return out;
  };
  // The start's head goes to the chair, signed, and out through the log channel.
  ASSERT_TRUE(eventually([&] { return !notices().empty() && notices().front().first == "delivered"; }, 20s))
      << d->log();
  const json n = notices().front().second;
  EXPECT_TRUE(store::verify_signature(key->public_key(), n["statement"].get<std::string>(),
                                      n["signature"].get<std::string>()))
      << n.dump();
  EXPECT_EQ(n["statement"].get<std::string>(), std::to_string(n["seq"].get<std::int64_t>()) + ":" +
                                                   n["hash"].get<std::string>() + ":" +
                                                   n["published"].get<std::string>());
  EXPECT_EQ(n["public_key"], key->public_key());
  EXPECT_TRUE(contains(d->log(), "kind=audit-head")) << d->log();
  EXPECT_TRUE(contains(d->log(), "signature=" + n["signature"].get<std::string>())) << "the notice as sent: " << d->log();

  // More than publish_records later the head file has moved on, no timer needed.
  const auto first = store::read_head_file(box.dir() / "audit.head", key.get()).head.seq;
  {
    LineClient c(box.socket());
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(replied_ok(call(c, "start", start_args("RR-P-" + std::to_string(i)))));
  }
  EXPECT_TRUE(eventually([&] { return store::read_head_file(box.dir() / "audit.head", key.get()).head.seq > first; },
                         20s))
      << d->log();
  EXPECT_EQ(notices().size(), 1u) << "one notice a day at most (notice_hours = 24)";
  ASSERT_TRUE(exited_zero(d->terminate(), d->log()));
}

}  // namespace
}  // namespace docket::testing
