// Notices as the outbox stores them: the payload text is what docket has
// always written (so rows queued before an upgrade still deliver), and any
// row, old or new, reads back as the same typed notice.

#include <gtest/gtest.h>

#include "daemon/notice.h"
#include "workflows/date_math.h"

namespace docket::daemon {
namespace {

using workflows::parse_day;

store::OutboxMessage row(std::string ref, std::string payload) {
  store::OutboxMessage m;
  m.kind = "reminder";
  m.ref = std::move(ref);
  m.role = "lead-reviewer";
  m.payload = std::move(payload);
  return m;
}

TEST(Notice, AReviewsNoticeIsStoredWithTheKeysItAlwaysHad) {
  const Notice n{.kind = "escalation",
                 .about = OwnerKind::review,
                 .ref = "RR-1",
                 .meeting = std::nullopt,
                 .type = "rapid-review",
                 .type_title = "Rapid Review",
                 .item = "rapid-review",
                 .item_title = "Rapid review",
                 .due = parse_day("2026-03-23"),
                 .due_at = std::nullopt,
                 .role = "lead-reviewer",
                 .late = false,
                 .rung = 1,
                 .repeat = 0,
                 .note = {},
                 .working_days_left = -2};
  EXPECT_EQ(notice_payload(n),
            R"({"due":"2026-03-23","kind":"escalation","late":false,"ref":"RR-1","role":"lead-reviewer","rung":1,)"
            R"("stage":"rapid-review","stage_title":"Rapid review","workflow":"rapid-review",)"
            R"("workflow_title":"Rapid Review","working_days_left":-2})");
  const Notice back = read_notice(row("RR-1", notice_payload(n)));
  EXPECT_EQ(back.about, OwnerKind::review);
  EXPECT_EQ(back.type, "rapid-review");
  EXPECT_EQ(back.item_title, "Rapid review");
  EXPECT_EQ(back.due, n.due);
  EXPECT_EQ(back.rung, 1);
  EXPECT_EQ(back.working_days_left, -2);
}

TEST(Notice, AMeetingsNoticeIsStoredWithItsBodyAndMilestone) {
  Notice n;
  n.kind = "reminder";
  n.about = OwnerKind::meeting;
  n.ref = meeting_key("executive", *parse_day("2026-06-09"));
  n.meeting = parse_day("2026-06-16");
  n.type = "executive";
  n.type_title = "Executive";
  n.item = "papers";
  n.item_title = "Papers published";
  n.due = parse_day("2026-06-02");
  n.role = "executive-secretariat";
  n.late = true;
  EXPECT_EQ(notice_payload(n),
            R"({"body":"executive","body_title":"Executive","due":"2026-06-02","kind":"reminder","late":true,)"
            R"("meeting":"2026-06-16","milestone":"papers","milestone_title":"Papers published",)"
            R"("role":"executive-secretariat"})");
  const Notice back = read_notice(row(n.ref, notice_payload(n)));
  EXPECT_EQ(back.about, OwnerKind::meeting);
  EXPECT_EQ(back.type, "executive");
  EXPECT_EQ(back.type_title, "Executive");
  EXPECT_EQ(back.item, "papers");
  EXPECT_EQ(back.meeting, n.meeting);
  EXPECT_FALSE(back.working_days_left);
}

TEST(Notice, AnOldOrEmptyPayloadReadsAsEmpty) {
  const Notice empty = read_notice(row("RR-2026-001", "{}"));
  EXPECT_EQ(empty.about, OwnerKind::review);
  EXPECT_EQ(empty.ref, "RR-2026-001");
  EXPECT_EQ(empty.role, "lead-reviewer");
  EXPECT_TRUE(empty.type.empty());
  EXPECT_FALSE(empty.due);
  EXPECT_EQ(empty.rung, 0);
  const Notice partial = read_notice(row("RR-1", R"({"due":"2026-06-05","stage_title":"Rapid review"})"));
  EXPECT_EQ(partial.due, parse_day("2026-06-05"));
  EXPECT_EQ(partial.item_title, "Rapid review");
  EXPECT_FALSE(read_notice(row("RR-1", "not json")).due);
}

TEST(Notice, DaysLeftCountWorkingDaysAndGoNegativeOnceOverdue) {
  const workflows::Calendar cal("test", "Europe/London", {date::Saturday, date::Sunday}, {}, {});
  Notice n;
  EXPECT_EQ(n.days_left(cal, *parse_day("2026-03-02")), 0) << "no due day, none left";
  n.due = parse_day("2026-03-09");  // a Monday
  const int left = n.days_left(cal, *parse_day("2026-03-02"));
  EXPECT_EQ(left, workflows::working_days_between(cal, *parse_day("2026-03-02"), *n.due));
  EXPECT_GT(left, 0);
  EXPECT_EQ(n.days_left(cal, *parse_day("2026-03-16")), -left);
}

TEST(Owner, AMeetingAndAReviewAreToldApartByKind) {
  EXPECT_EQ(owner_kind("RR-2026-014"), OwnerKind::review);
  EXPECT_EQ(owner_kind(meeting_key("executive", *parse_day("2026-06-09"))), OwnerKind::meeting);
  EXPECT_EQ(meeting_key("executive", *parse_day("2026-06-09")), "@executive/2026-06-09");
  EXPECT_EQ(owner_kind(body_key("executive")), OwnerKind::meeting);
}

}  // namespace
}  // namespace docket::daemon
