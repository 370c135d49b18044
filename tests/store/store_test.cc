// The SQLite store: migrations, one transaction per batch, the hash chain,
// the append-only audit table and idempotent outbox keys.

#include <gtest/gtest.h>

#include <unistd.h>

#include "store/audit_query.h"
#include "store/reader.h"
#include "store/store.h"

namespace docket::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() {
    dir_ = std::filesystem::temp_directory_path() / ("docket-store-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~StoreTest() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path db() const { return dir_ / "docket.db"; }

  // A pending deadline row of `ref`, due 23 March 2026.
  static DeadlineRecord pending(const std::string& ref, const std::string& stage = "rapid-review") {
    DeadlineRecord d;
    d.ref = ref;
    d.stage = stage;
    d.state = "pending";
    d.due = "2026-03-23";
    d.opened_on = "2026-03-02";
    return d;
  }

  static AuditEntry entry(std::int64_t at, const std::string& kind) {
    AuditEntry e;
    e.at = at;
    e.actor = "a-morgan";
    e.kind = kind;
    e.ref = "RR-1";
    e.details = "{}";
    return e;
  }

  std::filesystem::path dir_;
};

TEST_F(StoreTest, MigratesAFreshDatabaseToTheCurrentSchema) {
  Store s(db(), "system");
  EXPECT_EQ(s.schema_version(), kSchemaVersion);
  Store again(db(), "system");
  EXPECT_EQ(again.schema_version(), kSchemaVersion);
}

TEST_F(StoreTest, MigratesADatabaseFromSchemaOneKeepingItsDataAndChain) {
  // Build the database exactly as schema 1 left it, with a review and a
  // chained audit record written the way that version wrote them.
  AuditRecord first;
  static_cast<AuditEntry&>(first) = entry(10, "review.started");
  first.seq = 1;
  first.clock = "system";
  first.hash = audit_hash(first);
  {
    Connection c(db(), Connection::Mode::read_write);
    c.exec(Store::migrations().at(0));
    c.exec("PRAGMA user_version = 1");
    c.exec("INSERT INTO reviews (ref, workflow, version, state, start, created_at) "
           "VALUES ('RR-1', 'rapid-review', 'abc', 'open', '2026-03-02', 1)");
    auto s = c.prepare(
        "INSERT INTO audit (seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    s.bind(1, first.seq).bind(2, first.at).bind(3, first.actor).bind(4, first.kind).bind(5, first.ref);
    s.bind(6, first.stage).bind(7, first.details).bind(8, first.version).bind(9, first.clock).bind(10, first.prev_hash);
    s.bind(11, first.hash);
    s.run();
  }
  Store s(db(), "system");
  EXPECT_EQ(s.schema_version(), kSchemaVersion);
  EXPECT_EQ(s.reviews().at(0).ref, "RR-1");
  Batch b;
  b.audit.push_back(entry(11, "deadline.opened"));
  b.definitions.push_back({"abc", "rapid-review", "workflows/rapid-review.toml", "kind = \"review\"", 11});
  s.commit(b);
  auto trail = s.audit();
  ASSERT_EQ(trail.size(), 2u);
  EXPECT_EQ(trail[1].prev_hash, first.hash) << "the chain continues across the upgrade";
  EXPECT_EQ(trail[1].hash, audit_hash(trail[1]));
  EXPECT_EQ(s.definition("abc")->file, "workflows/rapid-review.toml");
  EXPECT_FALSE(s.definition("zzz"));
}

TEST_F(StoreTest, RefusesADatabaseFromANewerDocket) {
  {
    Connection c(db(), Connection::Mode::read_write);
    c.exec("PRAGMA user_version = 99");
  }
  try {
    Store s(db(), "system");
    FAIL() << "opened a newer database";
  } catch (const StoreError& e) {
    EXPECT_EQ(std::string(e.what()), "the database has schema version 99, newer than this docket (" +
                                         std::to_string(kSchemaVersion) + "); upgrade docket");
  }
}

TEST_F(StoreTest, ABatchCommitsWholeAndTheAuditChainLinks) {
  {
    Store s(db(), "virtual");
    Batch b;
    b.reviews.push_back({"RR-1", "rapid-review", "abc", "", "open", "2026-03-02", "{}", "{}", "", "", 1});
    b.deadlines.push_back(pending("RR-1"));
    b.audit.push_back(entry(10, "review.started"));
    b.audit.push_back(entry(11, "deadline.opened"));
    s.commit(b);
    Batch more;
    more.audit.push_back(entry(12, "stage.completed"));
    s.commit(more);
  }
  Store s(db(), "virtual");  // the chain continues across a restart
  Batch last;
  last.audit.push_back(entry(13, "review.closed"));
  s.commit(last);
  auto trail = s.audit();
  ASSERT_EQ(trail.size(), 4u);
  std::string prev;
  for (std::size_t i = 0; i < trail.size(); ++i) {
    EXPECT_EQ(trail[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(trail[i].prev_hash, prev);
    EXPECT_EQ(trail[i].hash, audit_hash(trail[i]));
    EXPECT_EQ(trail[i].clock, "virtual");
    prev = trail[i].hash;
  }
  EXPECT_EQ(s.reviews().size(), 1u);
  EXPECT_EQ(s.deadlines().at(0).due, "2026-03-23");
  EXPECT_EQ(s.audit("RR-1").size(), 4u);
  EXPECT_TRUE(s.audit("RR-2").empty());
}

// The daemon reads a review back with its deadlines in one statement; a
// review with none, and a reference not stored, read back as they are.
TEST_F(StoreTest, AReviewIsReadBackWithItsDeadlinesOrWithoutAny) {
  Store s(db(), "virtual");
  Batch b;
  b.reviews.push_back({"RR-1", "rapid-review", "abc", "Title", "open", "2026-03-02",
                       R"({"lead-reviewer":"k-davies"})", "{}", "", "", 1});
  b.reviews.push_back({"RR-2", "rapid-review", "abc", "", "closed", "2026-03-02", "{}", "{}", "", "RR-1", 2});
  for (const char* stage : {"rapid-review", "notify-panel"}) {
    DeadlineRecord d;
    d.ref = "RR-1";
    d.stage = stage;
    d.state = "overdue";
    d.due = "2026-03-23";
    d.opened_on = "2026-03-02";
    d.rungs_sent = 2;
    d.extended = true;
    d.next_fire = 1773907200;
    b.deadlines.push_back(d);
  }
  s.commit(b);
  auto one = s.review_with_deadlines("RR-1");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->review.title, "Title");
  EXPECT_EQ(one->review.assignments, R"({"lead-reviewer":"k-davies"})");
  ASSERT_EQ(one->deadlines.size(), 2u);
  for (const auto& d : one->deadlines) {
    EXPECT_EQ(d.ref, "RR-1");
    EXPECT_EQ(d.state, "overdue");
    EXPECT_EQ(d.rungs_sent, 2);
    EXPECT_TRUE(d.extended);
    EXPECT_EQ(d.next_fire, 1773907200);
  }
  auto two = s.review_with_deadlines("RR-2");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->review.parent_ref, "RR-1");
  EXPECT_TRUE(two->deadlines.empty());
  EXPECT_FALSE(s.review_with_deadlines("RR-3"));
  EXPECT_TRUE(s.has_review("RR-1"));
  EXPECT_TRUE(s.has_review("RR-2"));
  EXPECT_FALSE(s.has_review("RR-3"));
}

// Reviews are read back by walking on from the last one read when the next is
// near and seeking when not. Whatever the order and the gaps, each read gives
// that review's own rows, and none for a ref not stored.
TEST_F(StoreTest, ReviewsReadInAnyOrderComeBackWithTheirOwnDeadlines) {
  Store s(db(), "virtual");
  Batch b;
  auto ref = [](int i) {
    std::string n = std::to_string(i);
    return "RR-" + std::string(4 - n.size(), '0') + n;
  };
  // Reviews 0..199, every third left out; review i has i % 4 deadline rows.
  for (int i = 0; i < 200; ++i) {
    if (i % 3 == 2) continue;
    b.reviews.push_back({ref(i), "rapid-review", "abc", "T" + std::to_string(i), "open", "2026-03-02", "{}", "{}",
                         "", "", i});
    for (int k = 0; k < i % 4; ++k) {
      DeadlineRecord d = pending(ref(i), "stage-" + std::to_string(k));
      d.reminders_sent = i;
      b.deadlines.push_back(d);
    }
  }
  s.commit(b);
  auto check = [&](int i) {
    SCOPED_TRACE(ref(i));
    auto got = s.review_with_deadlines(ref(i));
    if (i % 3 == 2 || i >= 200) {
      EXPECT_FALSE(got);
      return;
    }
    ASSERT_TRUE(got);
    EXPECT_EQ(got->review.ref, ref(i));
    EXPECT_EQ(got->review.title, "T" + std::to_string(i));
    ASSERT_EQ(got->deadlines.size(), static_cast<std::size_t>(i % 4));
    for (std::size_t k = 0; k < got->deadlines.size(); ++k) {
      EXPECT_EQ(got->deadlines[k].ref, ref(i));
      EXPECT_EQ(got->deadlines[k].stage, "stage-" + std::to_string(k));
      EXPECT_EQ(got->deadlines[k].reminders_sent, i);
    }
  };
  for (int i = 0; i < 205; ++i) check(i);       // every ref in order, the missing ones too
  for (int i = 0; i < 200; i += 37) check(i);   // gaps longer than a walk
  for (int i = 204; i >= 0; i -= 7) check(i);   // backwards
  for (int i : {5, 5, 4, 6, 199, 0, 1}) check(i);  // the same twice, and back and forth
  s.end_reads();
  check(3);
}

// A walk left on a row holds a snapshot; after end_reads() the next read sees
// what was written since.
TEST_F(StoreTest, AReadAfterEndReadsSeesWhatWasWrittenSince) {
  Store s(db(), "virtual");
  Batch b;
  for (const char* r : {"RR-1", "RR-3"}) {
    b.reviews.push_back({r, "rapid-review", "abc", "", "open", "2026-03-02", "{}", "{}", "", "", 1});
  }
  s.commit(b);
  ASSERT_TRUE(s.review_with_deadlines("RR-1"));  // the walks stop on RR-3
  Batch more;
  more.reviews.push_back({"RR-2", "rapid-review", "abc", "Late", "open", "2026-03-02", "{}", "{}", "", "", 1});
  more.deadlines.push_back(pending("RR-2"));
  s.commit(more);  // commit() ends the reads
  auto two = s.review_with_deadlines("RR-2");
  ASSERT_TRUE(two);
  EXPECT_EQ(two->review.title, "Late");
  ASSERT_EQ(two->deadlines.size(), 1u);
  EXPECT_EQ(two->deadlines[0].stage, "rapid-review");
  EXPECT_TRUE(s.review_with_deadlines("RR-3"));
}

// The timed notices are most of the trail and have no place in the kind and
// actor indexes (schema 7): a filter on one of them walks the trail by time,
// any other uses its index. Either way the page holds exactly what matches.
TEST_F(StoreTest, AuditFiltersOnCommonAndRareValuesFindExactlyTheirRecords) {
  {
    Store s(db(), "system");
    Batch b;
    for (int i = 0; i < 300; ++i) {
      AuditEntry e = entry(1000 + i, i % 3 == 0 ? "deadline.reminder" : "deadline.overdue");
      e.actor = "system";
      if (i % 50 == 0) {
        e.kind = "stage.completed";
        e.actor = "a-morgan";
      }
      b.audit.push_back(e);
    }
    s.commit(b);
  }
  Reader reader(db());
  auto page_of = [&](const std::string& kind, const std::string& actor) {
    AuditFilter f;
    f.kind = kind;
    f.actor = actor;
    f.limit = 1000;
    return query_audit(reader, f);
  };
  auto plan = [](const AuditPage& p) {
    std::string all;
    for (const auto& line : p.plan) all += line + "; ";
    return all;
  };
  auto reminders = page_of("deadline.reminder", "");
  EXPECT_EQ(reminders.records.size(), 98u);  // i % 3 == 0, less completions 0 and 150
  for (const auto& r : reminders.records) EXPECT_EQ(r.kind, "deadline.reminder");
  EXPECT_EQ(plan(reminders).find("audit_kind"), std::string::npos) << plan(reminders);
  auto completed = page_of("stage.completed", "");
  EXPECT_EQ(completed.records.size(), 6u);
  EXPECT_NE(plan(completed).find("audit_kind"), std::string::npos) << plan(completed);
  auto system = page_of("", "system");
  EXPECT_EQ(system.records.size(), 294u);
  for (const auto& r : system.records) EXPECT_EQ(r.actor, "system");
  auto person = page_of("", "a-morgan");
  ASSERT_EQ(person.records.size(), 6u);
  EXPECT_EQ(person.records.front().at, 1000) << "oldest first";
  EXPECT_EQ(person.records.back().at, 1250);
  EXPECT_NE(plan(person).find("audit_actor"), std::string::npos) << plan(person);
  EXPECT_EQ(page_of("deadline.overdue", "a-morgan").records.size(), 0u);
}

TEST_F(StoreTest, TheAuditTrailRefusesUpdateAndDelete) {
  Store s(db(), "system");
  Batch b;
  b.audit.push_back(entry(10, "review.started"));
  s.commit(b);
  Connection raw(db(), Connection::Mode::read_write);
  EXPECT_THROW(raw.exec("UPDATE audit SET actor = 'someone else'"), StoreError);
  EXPECT_THROW(raw.exec("DELETE FROM audit"), StoreError);
  EXPECT_EQ(s.audit().at(0).actor, "a-morgan");
}

TEST_F(StoreTest, LargeBatchesKeepEveryRowTheChainAndTheNewOutboxRowsInOrder) {
  // Rows are inserted many to a statement; the tail of a batch one by one.
  Store s(db(), "system");
  auto message = [](int i) {
    OutboxMessage m;
    m.key = "RR-" + std::to_string(i) + ":one:reminder:1:k-davies";
    m.created_at = i;
    m.kind = "reminder";
    m.ref = "RR-" + std::to_string(i);
    m.person = "k-davies";
    m.payload = "{\"n\":" + std::to_string(i) + "}";
    return m;
  };
  Batch first;
  for (int i = 0; i < 40; ++i) first.outbox.push_back(message(i));
  ASSERT_EQ(s.commit(first).size(), 40u);
  Batch b;
  for (int i = 0; i < 75; ++i) b.audit.push_back(entry(100 + i, "test.record"));
  // 30 keys already stored, 60 new ones, and 10 of the new ones twice.
  for (int i = 10; i < 100; ++i) b.outbox.push_back(message(i));
  for (int i = 50; i < 60; ++i) b.outbox.push_back(message(i));
  auto fresh = s.commit(b);
  ASSERT_EQ(fresh.size(), 60u);
  for (std::size_t k = 0; k < fresh.size(); ++k) {
    EXPECT_EQ(fresh[k].key, message(40 + static_cast<int>(k)).key);
    auto row = s.outbox_message(fresh[k].id);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->key, fresh[k].key) << "each new row comes back with its own id";
    EXPECT_EQ(row->payload, fresh[k].payload);
  }
  EXPECT_EQ(s.outbox("").size(), 100u);
  auto all = s.audit();
  ASSERT_EQ(all.size(), 75u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(all[i].at, 100 + static_cast<std::int64_t>(i));
    EXPECT_EQ(audit_hash(all[i]), all[i].hash);
    if (i > 0) {
      EXPECT_EQ(all[i].prev_hash, all[i - 1].hash);
    }
  }
}

TEST_F(StoreTest, AnOutboxKeyIsStoredOnceAndDeliveryIsRecorded) {
  Store s(db(), "system");
  OutboxMessage m;
  m.key = "RR-1:rapid-review:reminder:1:k-davies";
  m.created_at = 5;
  m.kind = "reminder";
  m.person = "k-davies";
  m.payload = "{}";
  Batch b;
  b.outbox.push_back(m);
  auto fresh = s.commit(b);
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_GT(fresh[0].id, 0);
  EXPECT_TRUE(s.commit(b).empty()) << "the same key again is not a new message";
  EXPECT_EQ(s.outbox("pending").size(), 1u);
  Batch done;
  OutboxUpdate u;
  u.id = fresh[0].id;
  u.state = "delivered";
  u.channel = "mail";
  u.attempts = 2;
  u.first_attempt = 1'000;
  u.delivered_at = 7;
  done.outbox_updates.push_back(u);
  s.commit(done);
  EXPECT_TRUE(s.outbox("pending").empty());
  auto row = s.outbox_message(fresh[0].id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, "delivered");
  EXPECT_EQ(row->channel, "mail");
  EXPECT_EQ(row->attempts, 2);
  EXPECT_EQ(row->delivered_at, 7);
}

TEST_F(StoreTest, TheDispatcherReadsReadyRowsInAttemptOrderAndSkipsHeldOnes) {
  Store s(db(), "system");
  Batch b;
  for (const char* key : {"a", "b", "c", "d"}) {
    OutboxMessage m;
    m.key = key;
    m.kind = "reminder";
    m.person = "k-davies";
    m.payload = "{}";
    b.outbox.push_back(m);
  }
  auto rows = s.commit(b);
  ASSERT_EQ(rows.size(), 4u);
  Batch later;
  OutboxUpdate retry;  // a: failed, next attempt at 5,000 ms
  retry.id = rows[0].id;
  retry.attempts = 1;
  retry.next_attempt = 5'000;
  OutboxUpdate held;  // b: quiet hours until 100 s
  held.id = rows[1].id;
  held.hold_until = 100;
  OutboxUpdate dead;  // c: a dead letter
  dead.id = rows[2].id;
  dead.state = "dead";
  later.outbox_updates = {retry, held, dead};
  s.commit(later);

  auto keys = [](const std::vector<OutboxMessage>& ms) {
    std::string out;
    for (const auto& m : ms) out += m.key;
    return out;
  };
  EXPECT_EQ(keys(s.outbox_ready(1'000, 50, 10)), "d");
  EXPECT_EQ(keys(s.outbox_ready(6'000, 50, 10)), "da") << "due rows first by next attempt";
  EXPECT_EQ(keys(s.outbox_ready(6'000, 100, 10)), "bda");
  EXPECT_EQ(keys(s.outbox_ready(6'000, 100, 1)), "b");
  const auto first = s.outbox_ready(6'000, 100, 1).front();
  EXPECT_EQ(keys(s.outbox_ready(6'000, 100, 10, {first.next_attempt, first.id})), "da") << "and on from a row";
  EXPECT_EQ(s.outbox_next_attempt(1'000), 5'000);
  EXPECT_EQ(s.outbox_next_attempt(5'000), std::nullopt);
  EXPECT_EQ(s.outbox_next_hold(50), 100);
  EXPECT_EQ(keys(s.outbox("dead")), "c");
}

// Each channel has a queue of its own: escalations, then other notices,
// then reminders, each in the order they fell due, so that a due retry is
// not put behind every message that arrived after it (D5: retries, the
// national Panel's among them, waited minutes behind untried mail).
TEST_F(StoreTest, EachChannelsQueueGoesByPriorityThenByWhenARowFellDue) {
  Store s(db(), "system");
  struct Row {
    const char* key;
    const char* route;
    int priority;
    std::int64_t next_attempt;
  };
  Batch b;
  for (const Row& r : {Row{"fresh-early", "mail", 2, 1'000}, Row{"fresh-late", "mail", 2, 9'000},
                       Row{"escalation", "mail", 0, 9'500}, Row{"notice", "mail", 1, 8'000},
                       Row{"for-the-hook", "hook", 2, 500}, Row{"retry", "mail", 2, 1'000}}) {
    OutboxMessage m;
    m.key = r.key;
    m.kind = "reminder";
    m.person = "k-davies";
    m.payload = "{}";
    m.route = r.route;
    m.priority = r.priority;
    m.next_attempt = r.next_attempt;
    b.outbox.push_back(m);
  }
  auto rows = s.commit(b);
  Batch later;
  OutboxUpdate retry;  // tried, and due again at 5,000 ms: before the row that came at 9,000
  retry.id = rows[5].id;
  retry.attempts = 1;
  retry.next_attempt = 5'000;
  retry.route = "mail";
  later.outbox_updates = {retry};
  s.commit(later);
  auto keys = [](const std::vector<OutboxMessage>& ms) {
    std::string out;
    for (const auto& m : ms) out += (out.empty() ? "" : " ") + m.key;
    return out;
  };
  EXPECT_EQ(keys(s.outbox_queue("mail", 10'000, 0, 10)), "escalation notice fresh-early retry fresh-late");
  EXPECT_EQ(keys(s.outbox_queue("mail", 6'000, 0, 10)), "fresh-early retry") << "only what is due";
  EXPECT_EQ(keys(s.outbox_queue("hook", 10'000, 0, 10)), "for-the-hook");
  // Page by page from a row's place.
  std::string paged;
  QueuePosition at;
  for (;;) {
    auto page = s.outbox_queue("mail", 10'000, 0, 2, at);
    if (page.empty()) break;
    paged += (paged.empty() ? "" : " ") + keys(page);
    at = {page.back().priority, page.back().next_attempt, page.back().id};
  }
  EXPECT_EQ(paged, "escalation notice fresh-early retry fresh-late");
  EXPECT_EQ(s.outbox_routes(), (std::vector<std::string>{"hook", "mail"}));
}

// A page read from a cursor deep in a run of rows with one next_attempt
// (a backlog never tried: all 0) costs what a page from its start costs. A
// row-value comparison on (next_attempt, id) stepped over every row before
// the cursor, and the dispatcher reads a page after each attempt.
TEST_F(StoreTest, APageOfReadyRowsCostsTheSameFromAnyCursor) {
  Store s(db(), "system");
  constexpr int kBacklog = 20'000;
  Batch b;
  for (int i = 0; i < kBacklog; ++i) {
    OutboxMessage m;
    m.key = "k" + std::to_string(i);
    m.kind = "reminder";
    m.person = "k-davies";
    m.payload = "{}";
    b.outbox.push_back(m);
  }
  auto rows = s.commit(b);
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kBacklog));
  auto page_cost = [&](std::int64_t after_id) {
    const std::int64_t before = s.read_steps();
    auto page = s.outbox_ready(1'000, 50, 64, {0, after_id});
    EXPECT_EQ(page.size(), 64u);
    if (!page.empty()) {
      EXPECT_GT(page.front().id, after_id);
    }
    return s.read_steps() - before;
  };
  const std::int64_t near_start = page_cost(rows[10].id);
  const std::int64_t near_end = page_cost(rows[kBacklog - 100].id);
  EXPECT_GT(near_start, 0);
  EXPECT_LT(near_end, 2 * near_start) << "a page from near the end stepped over the rows before it";
  // And on across the boundary into rows tried before (next_attempt > 0).
  Batch later;
  OutboxUpdate retry;
  retry.id = rows[0].id;
  retry.attempts = 1;
  retry.next_attempt = 500;
  later.outbox_updates = {retry};
  s.commit(later);
  auto last = s.outbox_ready(1'000, 50, 10, {0, rows[kBacklog - 2].id});
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].id, rows[kBacklog - 1].id);
  EXPECT_EQ(last[1].id, rows[0].id) << "then the row retried at 500 ms";
  EXPECT_TRUE(s.outbox_ready(1'000, 50, 10, {500, rows[0].id}).empty());
}

TEST_F(StoreTest, AFailedBatchLeavesNothingBehind) {
  Store s(db(), "system");
  Batch bad;
  bad.audit.push_back(entry(10, "review.started"));
  bad.reviews.push_back({"RR-1", "rapid-review", "abc", "", "open", "2026-03-02", "{}", "{}", "", "", 1});
  {
    Connection raw(db(), Connection::Mode::read_write);
    raw.exec("CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'boom'); END");
  }
  OutboxMessage m;
  m.key = "k";
  m.kind = "reminder";
  m.person = "p";
  m.payload = "{}";
  bad.outbox.push_back(m);
  EXPECT_THROW(s.commit(bad), StoreError);
  EXPECT_TRUE(s.reviews().empty());
  EXPECT_TRUE(s.audit().empty());
  // The chain's head did not move: the next record still starts the chain.
  Connection raw(db(), Connection::Mode::read_write);
  raw.exec("DROP TRIGGER refuse_outbox");
  Batch good;
  good.audit.push_back(entry(11, "review.started"));
  s.commit(good);
  EXPECT_EQ(s.audit().at(0).seq, 1);
  EXPECT_EQ(s.audit().at(0).prev_hash, "");
}

// docketd writes a batch, then syncs the log on another thread while it
// writes the next. A message must not go out before its row is on disk: a
// crash in between would lose the row, and the restart send it again.
TEST_F(StoreTest, AMessageIsNotReadyUntilTheLogHoldingItIsSynced) {
  auto message = [](const std::string& key) {
    OutboxMessage m;
    m.key = key;
    m.kind = "reminder";
    m.person = "k-davies";
    m.payload = "{}";
    return m;
  };
  {
    Store s(db(), "system", WalSettings{.sync_in_write = false});
    EXPECT_EQ(s.durable_outbox_id(), 0);
    Batch b;
    b.outbox = {message("a"), message("b")};
    s.write(b);
    s.end_reads();
    EXPECT_EQ(s.outbox("pending").size(), 2u) << "written, and read back";
    EXPECT_TRUE(s.outbox_ready(1'000, 50, 10).empty()) << "but not synced";
    s.sync_log();
    EXPECT_EQ(s.durable_outbox_id(), 2);
    EXPECT_EQ(s.outbox_ready(1'000, 50, 10).size(), 2u);
    // The next write is held back until its own sync; the rows before are not.
    Batch c;
    c.outbox = {message("c")};
    s.write(c);
    s.end_reads();
    EXPECT_EQ(s.outbox_ready(1'000, 50, 10).size(), 2u);
    s.sync_log();
    EXPECT_EQ(s.outbox_ready(1'000, 50, 10).size(), 3u);
    // commit() syncs by itself.
    Batch d;
    d.outbox = {message("d")};
    s.commit(d);
    EXPECT_EQ(s.outbox_ready(1'000, 50, 10).size(), 4u);
  }
  // What a store finds on opening is on disk.
  Store again(db(), "system", WalSettings{.sync_in_write = false});
  EXPECT_EQ(again.durable_outbox_id(), 4);
  EXPECT_EQ(again.outbox_ready(1'000, 50, 10).size(), 4u);
}

}  // namespace
}  // namespace docket::store
