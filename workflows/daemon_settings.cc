// docketd.toml: [daemon] and [audit] (daemon_settings.h). [delivery] and
// [channels.*] are only marked as known here; the daemon checks them.

#include "workflows/daemon_settings.h"

#include "workflows/dates.h"
#include "workflows/file_readers.h"

namespace docket::workflows {
namespace fs = std::filesystem;
using detail::Reader;

namespace {

std::optional<std::chrono::minutes> parse_clock(const std::string& s) {
  auto t = parse_local_time("2000-01-01T" + s);
  if (!t) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::minutes>(t->time_since_epoch() % std::chrono::days{1});
}

// The settings when docketd.toml gives none: the database and the socket in
// var/ beside the configuration directory.
DaemonSettings defaults(const fs::path& dir) {
  DaemonSettings s;
  s.database = (dir / "../var/docket.db").lexically_normal();
  s.socket = (dir / "../var/docketd.sock").lexically_normal();
  return s;
}

// A path docketd will create a file at: not a directory already there.
void read_file_path(Reader& r, const fs::path& dir, const char* key, fs::path& out) {
  const bool database = key == std::string_view("database");
  auto v = r.string(key, true, database ? "\"/var/lib/docket/docket.db\"" : "\"/run/docket/docketd.sock\"");
  if (!v) {
    // An empty path is refused, and kept as written (read_daemon_settings).
    if (const toml::node* n = r.get(key); n != nullptr && n->as_string() != nullptr) out = dir / n->as_string()->get();
    return;
  }
  out = dir / *v;
  std::error_code ec;
  if (fs::is_directory(out, ec)) {
    const char* file = database ? "docket.db" : "docketd.sock";
    r.error(*r.get(key), std::string("'") + key + "' names the directory \"" + *v + "\"; it must name a file, e.g. \"" +
                             (fs::path(*v) / file).string() + "\"");
  }
}

void read_daemon_table(const toml::table& t, const std::string& file, const fs::path& dir, DaemonSettings& s,
                       Diagnostics& diags) {
  Reader r(t, file, diags, "[daemon]");
  read_file_path(r, dir, "database", s.database);
  read_file_path(r, dir, "socket", s.socket);
  if (auto v = r.string("calendar")) s.calendar = *v;
  if (auto v = r.string("timezone")) {
    try {
      (void)date::locate_zone(*v);
      s.timezone = *v;
    } catch (const std::exception&) {
      r.error(*r.get("timezone"), "unknown time zone '" + *v + "', expected a tz database name such as "
                                  "\"Europe/London\"");
    }
  }
  if (auto v = r.string("notify_at")) {
    if (auto m = parse_clock(*v)) {
      s.notify_at = *m;
    } else {
      r.error(*r.get("notify_at"), "'notify_at' must be a local time HH:MM, e.g. \"09:00\", found \"" + *v + "\"");
    }
  }
  r.finish();
}

AuditSettings read_audit_settings(const toml::table& t, const std::string& file, const fs::path& dir,
                                  Diagnostics& diags) {
  AuditSettings a;
  Reader r(t, file, diags, "[audit]");
  if (auto v = r.string("key_file")) a.key_file = (dir / *v).lexically_normal();
  if (auto v = r.string("credential")) {
    if (v->empty() || v->find('/') != std::string::npos) {
      r.error(*r.get("credential"), "'credential' must be the name of a systemd credential (LoadCredential=NAME:...), "
                                    "e.g. \"audit.key\"");
    }
    a.credential = *v;  // as written even when refused (read_daemon_settings)
    if (!a.key_file.empty()) {
      r.error(*r.get("credential"), "give the audit key as 'key_file' or as 'credential', not both");
    }
  }
  if (auto v = r.string("head_file")) a.head_file = (dir / *v).lexically_normal();
  if (auto v = r.string("recipient")) a.recipient = *v;
  if (auto v = r.integer_in("publish_minutes", 1, 24 * 60)) a.publish_every = std::chrono::minutes(*v);
  if (auto v = r.integer_in("publish_records", 1, 100'000'000)) a.publish_records = *v;
  if (auto v = r.integer_in("notice_hours", 0, 24 * 366)) a.notice_every = std::chrono::hours(*v);
  r.finish();
  return a;
}

}  // namespace

namespace detail {

DaemonSettings read_settings(const ParsedFile& f, const fs::path& dir, Diagnostics& diags) {
  DaemonSettings s = defaults(dir);
  Reader top(f.table, f.rel, diags, "docketd.toml");
  const toml::table* daemon = top.subtable("daemon");
  if (daemon == nullptr && top.get("daemon") == nullptr) {
    diags.error({f.rel, 1, 1}, "there is no [daemon] table; docketd.toml needs at least [daemon] with database = "
                               "and socket = (the shipped config/docketd.toml shows them)");
  }
  if (daemon != nullptr) read_daemon_table(*daemon, f.rel, dir, s, diags);
  if (const toml::table* t = top.subtable("audit")) s.audit = read_audit_settings(*t, f.rel, dir, diags);
  top.known({"delivery", "channels"});  // checked by the daemon, which knows the channel types
  top.finish();
  s.file = f.rel;
  s.database = s.database.lexically_normal();
  s.socket = s.socket.lexically_normal();
  return s;
}

void check_audit_recipient(const ParsedFile& settings_file, const DaemonSettings& settings, const Directory& directory,
                           Diagnostics& diags) {
  if (settings.audit.recipient.empty() || directory.person(settings.audit.recipient) != nullptr) return;
  const toml::node* n = settings_file.table.at_path("audit.recipient").node();
  diags.error(position("docketd.toml", *n),
              "[audit] recipient: " + unknown("person", settings.audit.recipient, directory.person_ids()) +
                  "; the recipient of the signed audit heads is a person of directory.toml");
}

void check_daemon_calendar(const ParsedFile& settings_file, const DaemonSettings& settings,
                           const std::set<std::string>& calendars, Diagnostics& diags) {
  if (calendars.count(settings.calendar) > 0) return;
  const toml::node* n = settings_file.table.at_path("daemon.calendar").node();
  const SourcePos p = n != nullptr ? position("docketd.toml", *n) : SourcePos{"docketd.toml", 0, 0};
  diags.error(p, unknown("calendar", settings.calendar, {calendars.begin(), calendars.end()}) +
                     "; calendars are the files in calendars/");
}

}  // namespace detail

DaemonSettings read_daemon_settings(const fs::path& dir, Diagnostics& diags) {
  auto f = detail::parse_file(dir, "docketd.toml", diags);
  if (!f) return defaults(dir);
  DaemonSettings s = detail::read_settings(*f, dir, diags);
  s.document = std::make_shared<const toml::table>(std::move(f->table));
  return s;
}

}  // namespace docket::workflows
