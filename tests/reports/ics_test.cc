// The iCalendar feed, read back by an independent strict parser (Python's
// icalendar, Debian's python3-icalendar): every event all-day with a stable
// UID, the reference and stage in its summary, and no personal data.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "reports/ics.h"
#include "tests/support/process.h"
#include "tests/support/rehearsal.h"

namespace docket::reports {
namespace {

// Parses the file, fails on anything icalendar could not read, checks what
// RFC 5545 requires of each event and prints the events as JSON.
const char* const kParse = R"py(
import datetime, json, sys
import icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
assert cal.name == 'VCALENDAR', cal.name
assert not cal.errors, cal.errors
assert str(cal['VERSION']) == '2.0' and 'PRODID' in cal
events = []
for ev in cal.walk('VEVENT'):
    assert not ev.errors, ev.errors
    for key in ('UID', 'DTSTAMP', 'DTSTART', 'DTEND', 'SUMMARY'):
        assert key in ev, key
    start, end = ev.decoded('DTSTART'), ev.decoded('DTEND')
    assert type(start) is datetime.date and type(end) is datetime.date, (start, end)
    assert (end - start).days == 1
    assert isinstance(ev.decoded('DTSTAMP'), datetime.datetime)
    events.append({'uid': str(ev['UID']), 'start': start.isoformat(), 'summary': str(ev['SUMMARY']),
                   'description': str(ev.get('DESCRIPTION', '')), 'category': ev.get('CATEGORIES').to_ical().decode()})
print(json.dumps(events))
)py";

class IcsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir;
    testing::Rehearsal r(dir_->path() / "docket.db", "2026-03-02T08:00");
    testing::march_reviews(r);
  }
  static void TearDownTestSuite() { delete dir_; }

  // The export, and the events Python read from it.
  std::pair<std::string, nlohmann::json> run(const std::string& person, const std::string& workflow) {
    store::Reader reader(dir_->path() / "docket.db");
    IcsOptions o;
    o.person = person;
    o.workflow = workflow;
    o.today = *workflows::parse_day("2026-04-02");
    o.stamp = testing::london("2026-04-02T10:00").time_since_epoch().count();
    auto ics = export_ics(reader, *testing::shipped_config_loaded(), o);
    const auto file = dir_->path() / "feed.ics";
    std::ofstream(file, std::ios::binary) << ics.text;
    std::ofstream(dir_->path() / "parse.py") << kParse;
    auto r = testing::run_command({DOCKET_PYTHON3, (dir_->path() / "parse.py").string(), file.string()}, dir_->path());
    EXPECT_EQ(r.code, 0) << r.how << "\n" << r.err;
    auto events = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_TRUE(events.is_array()) << r.out;
    EXPECT_EQ(events.size(), ics.events);
    return {ics.text, events};
  }

  static std::set<std::string> uids(const nlohmann::json& events) {
    std::set<std::string> out;
    for (const auto& e : events) out.insert(e["uid"].get<std::string>());
    return out;
  }

  static testing::TempDir* dir_;
};
testing::TempDir* IcsTest::dir_ = nullptr;

TEST_F(IcsTest, OpenStagesOfAWorkflowParseStrictly) {
  auto [text, events] = run("", "rapid-review");
  EXPECT_EQ(uids(events), (std::set<std::string>{"RR-C/rapid-review@docket", "RR-E/notify-panel@docket",
                                                  "RR-E/rapid-review@docket", "RR-A/panel-response@docket",
                                                  "RR-B/panel-response@docket", "RR-D/panel-response@docket"}));
  // In date order, each on its due day, with reference and stage title.
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0]["uid"], "RR-C/rapid-review@docket");
  EXPECT_EQ(events[0]["start"], "2026-03-25");
  EXPECT_EQ(events[0]["summary"],
            "RR-C: Complete the Rapid Review; send it and the decision on a local review to the Panel");
  EXPECT_NE(events[0]["description"].get<std::string>().find("Rapid Review of a serious child safeguarding incident"),
            std::string::npos);
  EXPECT_NE(events[0]["description"].get<std::string>().find("It is overdue."), std::string::npos);
  EXPECT_EQ(events[1]["uid"], "RR-E/notify-panel@docket");
  EXPECT_EQ(events[1]["start"], "2026-03-30");
  EXPECT_EQ(events[2]["uid"], "RR-A/panel-response@docket");
  EXPECT_EQ(events[2]["start"], "2026-04-10");
  EXPECT_EQ(events[2]["category"], "rapid-review");

  // RFC 5545's form: CRLF line ends and lines of at most 75 octets.
  EXPECT_EQ(text.find("\r\n"), text.find('\n') - 1);
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "every line ends in CRLF";
    EXPECT_LE(end - start, 75u) << text.substr(start, end - start);
    start = end + 2;
  }
}

TEST_F(IcsTest, NoPersonalData) {
  auto [text, events] = run("", "");
  EXPECT_GT(events.size(), 6u) << "meetings and their milestones too";
  for (const char* personal : {"Baby Q", "k-davies", "h-ahmed", "Kim Davies", "example.org", "@example"}) {
    EXPECT_EQ(text.find(personal), std::string::npos) << personal;
  }
}

TEST_F(IcsTest, OnePersonsDeadlines) {
  // k-davies is every lead reviewer but E's and holds la-safeguarding-lead
  // (notify-panel's owner); h-ahmed leads E.
  auto [text, events] = run("k-davies", "rapid-review");
  EXPECT_EQ(uids(events), (std::set<std::string>{"RR-C/rapid-review@docket", "RR-E/notify-panel@docket",
                                                  "RR-A/panel-response@docket", "RR-B/panel-response@docket",
                                                  "RR-D/panel-response@docket"}));
  auto [text2, events2] = run("h-ahmed", "rapid-review");
  EXPECT_EQ(uids(events2), (std::set<std::string>{"RR-E/rapid-review@docket"}));
}

TEST_F(IcsTest, MeetingsAreAllDayWithStableIds) {
  auto [text, events] = run("", "executive");
  ASSERT_FALSE(events.empty());
  bool meeting = false, papers = false;
  for (const auto& e : events) {
    if (e["uid"] == "@executive/2026-06-09@docket") {
      meeting = true;
      EXPECT_EQ(e["start"], "2026-06-09");
      EXPECT_EQ(e["summary"], "Meeting: Safeguarding Partnership Executive");
    }
    if (e["uid"] == "@executive/2026-06-09/papers@docket") {
      papers = true;
      EXPECT_EQ(e["start"], "2026-06-02");
      EXPECT_EQ(e["summary"],
                "Safeguarding Partnership Executive, meeting Tue 9 Jun 2026: Publish the papers on the SharePoint site");
    }
  }
  EXPECT_TRUE(meeting);
  EXPECT_TRUE(papers);
  auto [again, events2] = run("", "executive");
  EXPECT_EQ(uids(events), uids(events2)) << "the same UIDs every time";
}

}  // namespace
}  // namespace docket::reports
