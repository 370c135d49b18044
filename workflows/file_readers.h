#pragma once
// The readers load_config() runs, one per kind of file in the configuration
// directory (config.h). Each reads one parsed file into the model, records
// every problem in `diags` at its file, line and column, and checks names
// against what the files read before it define. Internal to the loader.
//
//   docketd.toml          daemon_settings.cc
//   directory.toml        directory_file.cc
//   calendars/*.toml      calendar_file.cc
//   workflows/*.toml      workflow_file.cc, stage_file.cc, anchor_checks.cc

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "workflows/calendar.h"
#include "workflows/daemon_settings.h"
#include "workflows/definition.h"
#include "workflows/directory.h"
#include "workflows/toml_reader.h"

namespace docket::workflows::detail {

// --- docketd.toml ---------------------------------------------------------

// [daemon] and [audit]; paths resolved against the configuration directory.
DaemonSettings read_settings(const ParsedFile& f, const std::filesystem::path& dir, Diagnostics& diags);
// [audit] recipient names a person of the directory.
void check_audit_recipient(const ParsedFile& settings_file, const DaemonSettings& settings, const Directory& directory,
                           Diagnostics& diags);
// [daemon] calendar names one of the calendar files.
void check_daemon_calendar(const ParsedFile& settings_file, const DaemonSettings& settings,
                           const std::set<std::string>& calendars, Diagnostics& diags);

// --- directory.toml -------------------------------------------------------

Directory read_directory(const ParsedFile& f, Diagnostics& diags);

// --- calendars/*.toml -----------------------------------------------------

// Nullopt when the file has errors.
std::optional<Calendar> read_calendar(const ParsedFile& f, Diagnostics& diags);

// --- workflows/*.toml -----------------------------------------------------

// Everything a workflow file may refer to outside itself.
struct Names {
  const Directory* directory = nullptr;
  std::set<std::string> calendars;
  std::map<std::string, std::string> workflow_kinds;  // id -> "review" | "meeting-cycle"

  // The workflow ids of one kind ("review", "meeting-cycle"), or all of them.
  std::vector<std::string> workflows(const std::string& kind = {}) const;
};

// The kind = "review" or "meeting-cycle" of a workflow file; "" (and an
// error) when it is missing or neither.
std::string read_kind(const ParsedFile& f, Diagnostics& diags);
// Nullopt when the file has errors.
std::optional<ReviewDefinition> read_review(const ParsedFile& f, const Names& names, Diagnostics& diags);
std::optional<MeetingCycle> read_cycle(const ParsedFile& f, const Names& names, Diagnostics& diags);
// Sequenced cycles must not chase each other round in a loop.
void check_sequencing(const std::map<std::string, MeetingCycle>& cycles, Diagnostics& diags);

}  // namespace docket::workflows::detail
