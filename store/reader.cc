#include "store/reader.h"

#include "store/rows.h"

namespace docket::store {
namespace {

constexpr const char* kDeadlineColumns =
    "d.ref, d.stage, d.state, d.due, d.due_at, d.fixed_due, d.opened_on, d.reminders_sent, d.rungs_sent, "
    "d.repeats_sent, d.completed_on, d.outcome, d.extended, d.next_fire";
constexpr const char* kReviewColumns =
    "ref, workflow, version, title, state, start, assignments, dates, paused_on, parent_ref, created_at";
constexpr const char* kMeetingColumns =
    "id, cycle, version, planned, date, state, attended, quorate, amendments, moved_reason";

}  // namespace

Reader::Reader(const std::filesystem::path& path, Schema need)
    : path_(path), db_(path, Connection::Mode::read_only) {
  const int version = schema_version();
  if (version == 0) {
    throw StoreError(path.string() + " is not a docket database (it has no docket schema); give the database "
                                     "docketd writes, e.g. --db /var/lib/docket/docket.db");
  }
  if (version > kSchemaVersion) {
    throw StoreError(path.string() + " was written by a newer docket (schema " + std::to_string(version) +
                     "; this docket reads up to " + std::to_string(kSchemaVersion) + "); use the docket that wrote it");
  }
  if (need == Schema::current && version < kSchemaVersion) {
    throw StoreError(path.string() + " has schema " + std::to_string(version) + ", older than this docket's " +
                     std::to_string(kSchemaVersion) + ": start docketd on it once to upgrade it (every record is kept), "
                     "or read it with the docket that wrote it; `docket audit` and `audit verify` read it as it is");
  }
}

int Reader::schema_version() {
  auto s = db_.prepare("PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

std::optional<std::string> Reader::meta(const std::string& key) {
  auto s = db_.prepare("SELECT value FROM meta WHERE key = ?1");
  s.bind(1, key);
  if (s.step()) return s.text(0);
  return std::nullopt;
}

std::optional<ReviewRecord> Reader::review(const std::string& ref) {
  auto s = db_.prepare(std::string("SELECT ") + kReviewColumns + " FROM reviews WHERE ref = ?1");
  s.bind(1, ref);
  if (!s.step()) return std::nullopt;
  return review_row(s);
}

std::vector<ReviewRecord> Reader::reviews_started_by(const std::string& parent_ref) {
  // A follow-on review's ref is its parent's plus "/workflow": the primary key
  // narrows to that prefix ('0' follows '/'), parent_ref confirms.
  std::vector<ReviewRecord> out;
  auto s = db_.prepare(std::string("SELECT ") + kReviewColumns + 
                       " FROM reviews WHERE ref > ?1 || '/' AND ref < ?1 || '0' AND parent_ref = ?1 ORDER BY ref");
  s.bind(1, parent_ref);
  while (s.step()) out.push_back(review_row(s));
  return out;
}

std::optional<MeetingRecord> Reader::meeting(const std::string& id) {
  auto s = db_.prepare(std::string("SELECT ") + kMeetingColumns + " FROM meetings WHERE id = ?1");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return meeting_row(s);
}

std::vector<MeetingRecord> Reader::meetings_between(const std::string& from, const std::string& to) {
  std::vector<MeetingRecord> out;
  auto s = db_.prepare(std::string("SELECT ") + kMeetingColumns +
                       " FROM meetings WHERE date BETWEEN ?1 AND ?2 ORDER BY cycle, date, id");
  s.bind(1, from).bind(2, to);
  while (s.step()) out.push_back(meeting_row(s));
  return out;
}

std::vector<DeadlineRecord> Reader::deadlines_of(const std::string& ref) {
  std::vector<DeadlineRecord> out;
  auto s = db_.prepare(std::string("SELECT ") + kDeadlineColumns + " FROM deadlines d WHERE d.ref = ?1 ORDER BY d.due");
  s.bind(1, ref);
  while (s.step()) out.push_back(deadline_row(s));
  return out;
}

void Reader::for_each_due(const std::string& from, const std::string& to, bool meeting,
                          const std::function<void(const DeadlineRow&)>& fn) {
  const std::string sql =
      meeting ? std::string("SELECT ") + kDeadlineColumns +
                    ", m.cycle, m.state, '{}' FROM deadlines d JOIN meetings m ON m.id = d.ref "
                    "WHERE d.due BETWEEN ?1 AND ?2"
              : std::string("SELECT ") + kDeadlineColumns +
                    ", r.workflow, r.state, r.assignments FROM deadlines d JOIN reviews r ON r.ref = d.ref "
                    "WHERE d.due BETWEEN ?1 AND ?2";
  auto s = db_.prepare(sql);
  s.bind(1, from).bind(2, to);
  DeadlineRow row;
  row.meeting = meeting;
  while (s.step()) {
    row.deadline = deadline_row(s);
    row.workflow = s.text(14);
    row.owner_state = s.text(15);
    row.assignments = s.text(16);
    fn(row);
  }
}

void Reader::for_each_open(const std::function<void(const DeadlineRow&)>& fn) {
  // Reviews and meetings in one pass; a deadline row belongs to one or the other.
  auto s = db_.prepare(std::string("SELECT ") + kDeadlineColumns +
                       ", coalesce(r.workflow, m.cycle), coalesce(r.state, m.state), coalesce(r.assignments, '{}'), "
                       "m.id IS NOT NULL FROM deadlines d LEFT JOIN reviews r ON r.ref = d.ref "
                       "LEFT JOIN meetings m ON m.id = d.ref WHERE d.state NOT IN ('met', 'waived') "
                       "ORDER BY d.due, d.ref, d.stage");
  DeadlineRow row;
  while (s.step()) {
    row.deadline = deadline_row(s);
    row.workflow = s.text(14);
    row.owner_state = s.text(15);
    row.assignments = s.text(16);
    row.meeting = s.integer(17) != 0;
    fn(row);
  }
}

std::optional<AuditRecord> Reader::last_audit() {
  auto s = db_.prepare(
      "SELECT seq, at, actor, kind, ref, stage, details, version, clock, prev_hash, hash FROM audit "
      "ORDER BY seq DESC LIMIT 1");
  if (!s.step()) return std::nullopt;
  return audit_row(s);
}

}  // namespace docket::store
