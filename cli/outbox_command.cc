// `docket outbox [--failed] [--format table|json|csv]`: the messages not yet
// delivered, read from the database (read-only, with or without docketd).
// `docket outbox retry ID` goes through the daemon (review_commands.cc).

#include <ostream>

#include "cli/commands.h"
#include "cli/database.h"
#include "reports/time_text.h"
#include "store/rows.h"

namespace docket::cli {

namespace {

std::string when_ms(std::int64_t unix_ms, const date::time_zone* zone) {
  if (unix_ms <= 0) return {};
  return reports::local_minute(unix_ms / 1000, zone);
}

}  // namespace

int outbox_command(const OutboxOptions& o, std::ostream& out, std::ostream& err) {
  auto db = open_database(o, NeedConfig::no, err);
  if (!db) return 2;
  const auto format = format_of(o);
  auto s = db->reader->db().prepare(std::string("SELECT ") + store::kOutboxColumns + " FROM outbox WHERE " +
                                    (o.failed ? "state = 'dead'" : "state IN ('pending', 'dead', 'digest')") +
                                    " ORDER BY id LIMIT ?1");
  s.bind(1, static_cast<std::int64_t>(o.limit) + 1);
  reports::Table t;
  t.title = o.failed ? "Dead letters: messages docket gave up on" : "Messages not yet delivered";
  t.columns = {{"id", "ID"},         {"state", "STATE"},          {"kind", "KIND"},
               {"ref", "REFERENCE"}, {"stage", "STAGE"},          {"person", "TO"},
               {"channel", "CHANNEL"}, {"attempts", "ATTEMPTS"},  {"next_attempt", "NEXT ATTEMPT"},
               {"held_until", "HELD UNTIL"}, {"last_error", "LAST ERROR"}, {"key", "IDEMPOTENCY KEY"}};
  std::size_t n = 0;
  while (s.step()) {
    if (++n > o.limit) break;
    const store::OutboxMessage m = store::outbox_row(s);
    auto text = [](const std::string& v) { return v.empty() ? reports::Cell{} : reports::Cell{v}; };
    t.add({m.id, m.state, m.kind, text(m.ref), text(m.stage), m.person, text(m.channel),
           static_cast<std::int64_t>(m.attempts), text(m.state == "pending" ? when_ms(m.next_attempt, db->zone) : ""),
           text(m.hold_until > 0 && m.state == "pending" ? reports::local_minute(m.hold_until, db->zone) : ""),
           text(m.last_error), m.key});
  }
  if (n > o.limit) t.notes.push_back("more than " + std::to_string(o.limit) + "; see --limit");
  if (t.rows.empty()) t.notes.push_back(o.failed ? "No dead letters." : "Every message has been delivered.");
  if (o.failed && !t.rows.empty()) t.notes.push_back("`docket outbox retry ID` sends one again.");
  print(out, t, format);
  return 0;
}

}  // namespace docket::cli
