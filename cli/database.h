#pragma once
// What every read-only command starts with (internal to cli/): the database
// opened read-only, the configuration when the command needs it, the time
// zone local times are shown in, and the parsing of their shared options.

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>

#include <date/tz.h>

#include "cli/read_commands.h"
#include "reports/compliance.h"
#include "reports/table.h"
#include "store/reader.h"
#include "workflows/config.h"

namespace docket::cli {

struct Database {
  std::unique_ptr<store::Reader> reader;
  std::shared_ptr<const workflows::Config> config;  // null when optional and it did not load
  const date::time_zone* zone = nullptr;            // the configuration's, else Europe/London
};

enum class NeedConfig { no, yes };

// Throws UsageError (exit 2) when the database cannot be opened; when the
// configuration is needed and has errors, prints them and returns nullopt.
// Without NeedConfig::yes a broken or missing configuration is not an error:
// stage titles and names are then left out. `schema` as for store::Reader.
std::optional<Database> open_database(const ReadOptions& o, NeedConfig need, std::ostream& err,
                                      store::Schema schema = store::Schema::current);

reports::Format format_of(const ReadOptions& o);

// --as-of, else the database's own day (a rehearsal's virtual clock, else today).
workflows::Day today_of(const ReadOptions& o, Database& db);

// --financial-year, or --from/--to, or else the financial year containing `today`.
reports::Period period_of(const ReportOptions& o, workflows::Day today);

// A table in the chosen format; JSON as {"title", "rows", "notes"}.
void print(std::ostream& out, const reports::Table& t, reports::Format f);

}  // namespace docket::cli
