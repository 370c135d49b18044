// docketd's journald sink: the structured fields of each entry, and when
// stderr counts as the journal.

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "daemon/systemd.h"

namespace docket::daemon {
namespace {

bool has(const std::vector<std::string>& fields, const std::string& f) {
  return std::find(fields.begin(), fields.end(), f) != fields.end();
}

TEST(Journal, EventReferenceAndStageBecomeFields) {
  auto f = journal_fields("deadline.overdue ref=RR-2026-014 stage=publish late=false", 4);
  EXPECT_TRUE(has(f, "MESSAGE=deadline.overdue ref=RR-2026-014 stage=publish late=false"));
  EXPECT_TRUE(has(f, "PRIORITY=4"));
  EXPECT_TRUE(has(f, "SYSLOG_IDENTIFIER=docketd"));
  EXPECT_TRUE(has(f, "EVENT=deadline.overdue"));
  EXPECT_TRUE(has(f, "REF=RR-2026-014"));
  EXPECT_TRUE(has(f, "STAGE=publish"));
  EXPECT_EQ(f.size(), 6u);
}

TEST(Journal, OnlyAFirstWordWithADotIsAnEvent) {
  auto f = journal_fields("docketd: cannot open ref=", 3);
  EXPECT_FALSE(std::any_of(f.begin(), f.end(), [](const std::string& s) { return s.starts_with("EVENT="); }));
  EXPECT_FALSE(std::any_of(f.begin(), f.end(), [](const std::string& s) { return s.starts_with("REF="); }))
      << "an empty value is no field";
  auto g = journal_fields("notify.delivered channel=log key=k ref=@executive/2026-06-09 stage=papers", 6);
  EXPECT_TRUE(has(g, "EVENT=notify.delivered"));
  EXPECT_TRUE(has(g, "REF=@executive/2026-06-09"));
  EXPECT_TRUE(has(g, "STAGE=papers"));
}

TEST(Journal, TheSinkSendsOneEntryPerLineWithSyslogPriorities) {
  std::vector<std::vector<std::string>> sent;
  auto sink = std::make_shared<JournalSink>([&](const std::vector<std::string>& f) { sent.push_back(f); });
  spdlog::logger log("journal-test", sink);
  log.set_level(spdlog::level::debug);
  log.info("review.started ref={} stage={}", "RR-1", "rapid-review");
  log.warn("access.refused uid={}", 1000);
  log.error("store.commit failed");
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_TRUE(has(sent[0], "PRIORITY=6"));
  EXPECT_TRUE(has(sent[0], "REF=RR-1"));
  EXPECT_TRUE(has(sent[0], "STAGE=rapid-review"));
  EXPECT_TRUE(has(sent[1], "PRIORITY=4"));
  EXPECT_TRUE(has(sent[1], "EVENT=access.refused"));
  EXPECT_TRUE(has(sent[2], "PRIORITY=3"));
  EXPECT_TRUE(has(sent[2], "MESSAGE=store.commit failed"));
}

TEST(Journal, StderrIsTheJournalOnlyWhenJournalStreamNamesIt) {
  struct stat st {};
  ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
  const char* old = std::getenv("JOURNAL_STREAM");
  const std::string saved = old != nullptr ? old : "";
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(stderr_is_journal());
  ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
  EXPECT_TRUE(stderr_is_journal());
  ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str(), 1);
  EXPECT_FALSE(stderr_is_journal()) << "a stream inherited from elsewhere is not ours";
  ::setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(stderr_is_journal());
  if (old != nullptr) {
    ::setenv("JOURNAL_STREAM", saved.c_str(), 1);
  } else {
    ::unsetenv("JOURNAL_STREAM");
  }
}

}  // namespace
}  // namespace docket::daemon
