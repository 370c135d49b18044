#pragma once
// The whole configuration directory, loaded and checked as one unit.
//
//   DIR/docketd.toml              daemon settings (daemon_settings.h)
//   DIR/directory.toml            agencies, roles and people
//   DIR/calendars/*.toml          working-day calendars
//   DIR/workflows/*.toml          review types and meeting cycles, one per file
//
// load_config() (loader.cc) parses every file, checks every name and reports
// every problem at once; file_readers.h lists the reader of each kind. A Config is immutable: a reload builds a new one and swaps
// it in whole, or keeps the old one.

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include <toml++/toml.h>

#include "workflows/calendar.h"
#include "workflows/daemon_settings.h"
#include "workflows/definition.h"
#include "workflows/diagnostics.h"
#include "workflows/directory.h"

namespace docket::workflows {

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
