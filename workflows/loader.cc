// Loading and checking the configuration directory (see config.h).
//
// Three passes: parse every file (TOML syntax errors stop only that file),
// read each file into the model checking names against what the other files
// define, then check what needs the whole model (anchors, reachability, dates
// that would fall before the start). Each kind of file has its own reader
// (file_readers.h); this file runs them in order and joins their results.

#include <algorithm>

#include "workflows/config.h"
#include "workflows/digest.h"
#include "workflows/file_readers.h"
#include "workflows/plan.h"

namespace docket::workflows {
namespace fs = std::filesystem;
using detail::ParsedFile;

namespace {

// The files read, kept for the configuration's hash.
struct Files {
  std::optional<ParsedFile> settings;
  std::optional<ParsedFile> directory;
  std::vector<ParsedFile> calendars;
  std::vector<ParsedFile> workflows;
};

std::vector<ParsedFile> parse_all(const fs::path& dir, const std::string& sub, Diagnostics& diags) {
  std::vector<ParsedFile> out;
  for (const auto& rel : detail::toml_files_in(dir, sub)) {
    if (auto f = detail::parse_file(dir, rel, diags)) out.push_back(std::move(*f));
  }
  return out;
}

void read_settings_and_directory(const fs::path& dir, Files& files, Config& config, Diagnostics& diags) {
  files.settings = detail::parse_file(dir, "docketd.toml", diags);
  if (files.settings) config.daemon = detail::read_settings(*files.settings, dir, diags);
  files.directory = detail::parse_file(dir, "directory.toml", diags);
  if (files.directory) config.directory = detail::read_directory(*files.directory, diags);
  if (files.settings && files.directory) {
    detail::check_audit_recipient(*files.settings, config.daemon, config.directory, diags);
  }
}

void read_calendars(const fs::path& dir, Files& files, Config& config, detail::Names& names, Diagnostics& diags) {
  files.calendars = parse_all(dir, "calendars", diags);
  for (const auto& f : files.calendars) {
    names.calendars.insert(detail::stem(f.rel));
    if (auto cal = detail::read_calendar(f, diags)) config.calendars.emplace(cal->id(), std::move(*cal));
  }
  if (files.calendars.empty()) {
    diags.error({"calendars", 0, 0}, "no calendar files found; expected calendars/england-and-wales.toml");
  }
  if (files.settings) detail::check_daemon_calendar(*files.settings, config.daemon, names.calendars, diags);
}

void read_workflows(const fs::path& dir, Files& files, Config& config, detail::Names& names, Diagnostics& diags) {
  files.workflows = parse_all(dir, "workflows", diags);
  const auto& workflows = files.workflows;
  if (workflows.empty() && detail::toml_files_in(dir, "workflows").empty()) {
    diags.error({"workflows", 0, 0}, "no workflow definitions found; expected files such as workflows/rapid-review.toml");
  }
  std::vector<std::string> kinds_of_file;
  for (const auto& f : workflows) {
    std::string kind = detail::read_kind(f, diags);
    kinds_of_file.push_back(kind);
    if (!kind.empty()) names.workflow_kinds.emplace(detail::stem(f.rel), kind);
  }
  const bool default_used = std::any_of(workflows.begin(), workflows.end(),
                                        [](const ParsedFile& f) { return f.table.get("calendar") == nullptr; });
  if (default_used && !files.calendars.empty() && names.calendars.count("england-and-wales") == 0) {
    diags.error({"calendars", 0, 0}, "the default calendar 'england-and-wales' is missing: every workflow without "
                                     "calendar = \"...\" uses it; expected calendars/england-and-wales.toml");
  }
  if (files.directory) {
    for (std::size_t i = 0; i < workflows.size(); ++i) {
      if (kinds_of_file[i] == "review") {
        if (auto def = detail::read_review(workflows[i], names, diags)) config.reviews.emplace(def->id, std::move(*def));
      } else if (kinds_of_file[i] == "meeting-cycle") {
        if (auto c = detail::read_cycle(workflows[i], names, diags)) config.cycles.emplace(c->id, std::move(*c));
      }
    }
  }
  detail::check_sequencing(config.cycles, diags);
}

// Every file in a stable order, so the same configuration always hashes the
// same wherever it was loaded from.
std::string hash_of(const Files& files) {
  std::string all_text;
  for (const auto* f : {files.settings ? &*files.settings : nullptr, files.directory ? &*files.directory : nullptr}) {
    if (f != nullptr) all_text += f->rel + '\0' + f->text + '\0';
  }
  for (const auto& f : files.calendars) all_text += f.rel + '\0' + f.text + '\0';
  for (const auto& f : files.workflows) all_text += f.rel + '\0' + f.text + '\0';
  return sha256_hex(all_text);
}

}  // namespace

std::optional<ReviewDefinition> read_review_text(const Config& base, const std::string& rel, const std::string& text,
                                                 Diagnostics& diags) {
  auto parsed = detail::parse_text(rel, text, diags);
  if (!parsed) return std::nullopt;
  detail::Names names;
  names.directory = &base.directory;
  for (const auto& [id, c] : base.calendars) names.calendars.insert(id);
  for (const auto& [id, d] : base.reviews) names.workflow_kinds.emplace(id, "review");
  for (const auto& [id, c] : base.cycles) names.workflow_kinds.emplace(id, "meeting-cycle");
  names.workflow_kinds.emplace(detail::stem(rel), "review");
  return detail::read_review(*parsed, names, diags);
}

LoadResult load_config(const fs::path& dir) {
  LoadResult result;
  Diagnostics& diags = result.diagnostics;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    diags.error({"", 0, 0}, "is not a configuration directory (expected docketd.toml, directory.toml, calendars/ "
                            "and workflows/ in it)");
    return result;
  }
  auto config = std::make_shared<Config>();
  config->dir = dir;
  Files files;
  detail::Names names;
  names.directory = &config->directory;
  read_settings_and_directory(dir, files, *config, diags);
  read_calendars(dir, files, *config, names, diags);
  read_workflows(dir, files, *config, names, diags);
  config->hash = hash_of(files);
  // Moved, not copied: a copied toml++ node forgets its source position.
  if (files.settings) config->daemon.document = std::make_shared<const toml::table>(std::move(files.settings->table));

  if (diags.empty()) check_dates_before_start(*config, diags);
  if (diags.empty()) result.config = std::move(config);
  return result;
}

}  // namespace docket::workflows
