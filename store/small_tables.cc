// The small tables: the definition texts reviews keep their version by,
// meetings and their chairs, and meta (settings such as the virtual clock's
// time). write()'s inserts of them and their reads.

#include "store/rows.h"
#include "store/store.h"

namespace docket::store {

namespace {

constexpr const char* kInsertDefinitionSql =
    "INSERT OR IGNORE INTO definitions (version, workflow, file, text, first_loaded) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kInsertMeetingSql =
    "INSERT OR REPLACE INTO meetings (id, cycle, version, planned, date, state, attended, quorate, amendments, "
    "moved_reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
constexpr const char* kInsertChairSql =
    "INSERT OR REPLACE INTO chairs (body, year, person, agency, appointed_at) VALUES (?1, ?2, ?3, ?4, ?5)";
constexpr const char* kInsertMetaSql = "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)";

// Runs `sql` once per row, bound by bind(statement, row); nothing for none.
template <typename Row, typename Bind>
void write_each(Connection& db, const std::vector<Row>& rows, const char* sql, Bind bind) {
  if (rows.empty()) return;
  auto s = db.prepare(sql);
  for (const Row& row : rows) {
    bind(s, row);
    s.run();
  }
}

}  // namespace

void Store::write_definitions(const std::vector<DefinitionText>& rows) {
  write_each(db_, rows, kInsertDefinitionSql, [](Statement& s, const DefinitionText& d) {
    s.bind(1, d.version).bind(2, d.workflow).bind(3, d.file).bind(4, d.text).bind(5, d.first_loaded);
  });
}

void Store::write_meetings(const std::vector<MeetingRecord>& rows) {
  write_each(db_, rows, kInsertMeetingSql, [](Statement& s, const MeetingRecord& m) {
    s.bind(1, m.id).bind(2, m.cycle).bind(3, m.version).bind(4, m.planned).bind(5, m.date).bind(6, m.state);
    s.bind(7, m.attended).bind(8, m.quorate).bind(9, m.amendments).bind(10, m.moved_reason);
  });
}

void Store::write_chairs(const std::vector<ChairRecord>& rows) {
  write_each(db_, rows, kInsertChairSql, [](Statement& s, const ChairRecord& c) {
    s.bind(1, c.body).bind(2, c.year).bind(3, c.person).bind(4, c.agency).bind(5, c.appointed_at);
  });
}

void Store::write_meta(const std::vector<std::pair<std::string, std::string>>& rows) {
  using Pair = std::pair<std::string, std::string>;
  write_each(db_, rows, kInsertMetaSql, [](Statement& s, const Pair& kv) { s.bind(1, kv.first).bind(2, kv.second); });
}

std::optional<DefinitionText> Store::definition(const std::string& version) {
  auto s = reader().prepare("SELECT version, workflow, file, text, first_loaded FROM definitions WHERE version = ?1");
  s.bind(1, version);
  if (!s.step()) return std::nullopt;
  return DefinitionText{s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4)};
}

std::vector<MeetingRecord> Store::meetings() {
  std::vector<MeetingRecord> out;
  auto s = reader().prepare(
      "SELECT id, cycle, version, planned, date, state, attended, quorate, amendments, moved_reason FROM meetings "
      "ORDER BY date, id");
  while (s.step()) out.push_back(meeting_row(s));
  return out;
}

std::vector<ChairRecord> Store::chairs() {
  std::vector<ChairRecord> out;
  auto s = reader().prepare("SELECT body, year, person, agency, appointed_at FROM chairs ORDER BY body, year");
  while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4)});
  return out;
}

std::optional<std::string> Store::meta(const std::string& key) {
  auto s = reader().prepare("SELECT value FROM meta WHERE key = ?1");
  s.bind(1, key);
  if (s.step()) return s.text(0);
  return std::nullopt;
}

}  // namespace docket::store
