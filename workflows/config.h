#pragma once
// The whole configuration directory, loaded and checked as one unit.
//
//   DIR/docketd.toml              daemon settings
//   DIR/directory.toml            agencies, roles and people
//   DIR/calendars/*.toml          working-day calendars
//   DIR/workflows/*.toml          review types and meeting cycles, one per file
//
// load_config() parses every file, checks every name and reports every
// problem at once. A Config is immutable: a reload builds a new one and swaps
// it in whole, or keeps the old one.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <toml++/toml.h>

#include "workflows/calendar.h"
#include "workflows/definition.h"
#include "workflows/diagnostics.h"
#include "workflows/directory.h"

namespace docket::workflows {

// [audit] of docketd.toml: where the audit trail's key and published head
// live, how often docketd publishes the head, and who gets it signed
// (store/audit_key.h, store/audit_head.h, daemon/audit_publisher.h,
// docs/audit.md).
struct AuditSettings {
  // The key: key_file (resolved against the configuration directory; empty
  // for audit.key beside the database, made on first start), or a systemd
  // credential (LoadCredential=NAME:...): $CREDENTIALS_DIRECTORY/NAME.
  std::filesystem::path key_file;
  std::string credential;
  std::filesystem::path head_file;  // empty for audit.head beside the database
  std::string recipient;            // a person of directory.toml; empty for none
  std::chrono::minutes publish_every{60};  // while the head moves
  std::int64_t publish_records = 10000;     // or once this many records were added
  std::chrono::hours notice_every{24};      // the recipient's notices at most this often (0: every publication)
};

struct DaemonSettings {
  std::filesystem::path database;  // resolved against the configuration directory
  std::filesystem::path socket;
  std::string timezone = "Europe/London";
  std::chrono::minutes notify_at{9 * 60};  // local time notifications go out on working days
  std::string calendar = "england-and-wales";
  AuditSettings audit;
  // docketd.toml as parsed, for the tables the daemon checks itself:
  // [delivery] and [channels.*] (daemon/delivery_settings.h). Null when the
  // file is absent.
  std::shared_ptr<const toml::table> document;
  std::string file = "docketd.toml";
};

struct Config {
  std::filesystem::path dir;
  DaemonSettings daemon;
  Directory directory;
  std::map<std::string, Calendar> calendars;
  std::map<std::string, ReviewDefinition> reviews;
  std::map<std::string, MeetingCycle> cycles;
  std::string hash;  // SHA-256 over every file loaded, for the audit trail

  const Calendar& calendar(const std::string& id) const { return calendars.at(id); }
  const Calendar& calendar_of(const ReviewDefinition& d) const { return calendars.at(d.calendar); }
  const Calendar& calendar_of(const MeetingCycle& c) const { return calendars.at(c.calendar); }
  bool has_workflow(const std::string& id) const { return reviews.count(id) + cycles.count(id) > 0; }
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when there were errors
  Diagnostics diagnostics;
};

LoadResult load_config(const std::filesystem::path& dir);

// Reads one review definition from its stored text, checked against the
// names `base` defines (roles, calendars, other workflows). Used to keep a
// running review on the definition version it started with after the file
// has changed. `rel` is the file's path as it was, e.g. workflows/lcspr.toml.
std::optional<ReviewDefinition> read_review_text(const Config& base, const std::string& rel, const std::string& text,
                                                 Diagnostics& diags);

}  // namespace docket::workflows
