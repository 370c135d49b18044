#include "cli/database.h"

#include <ostream>

#include "cli/client.h"
#include "cli/commands.h"
#include "reports/time_text.h"

namespace docket::cli {

std::optional<Database> open_database(const ReadOptions& o, NeedConfig need, std::ostream& err,
                                      store::Schema schema) {
  Database db;
  const auto path = resolve_database(o.db, o.config);
  try {
    db.reader = std::make_unique<store::Reader>(path, schema);
  } catch (const store::StoreError& e) {
    throw UsageError(std::string(e.what()) + (o.db.empty() ? " (give the database with --db PATH)" : ""));
  }
  const auto dir = resolve_config_dir(o.config);
  if (need == NeedConfig::yes) {
    db.config = load_or_report(dir, err);
    if (!db.config) return std::nullopt;
  } else {
    db.config = workflows::load_config(dir).config;
  }
  try {
    db.zone = date::locate_zone(db.config ? db.config->daemon.timezone : "Europe/London");
  } catch (const std::exception& e) {
    throw UsageError(std::string("cannot find the time zone: ") + e.what());
  }
  return db;
}

reports::Format format_of(const ReadOptions& o) {
  auto f = reports::parse_format(o.format);
  if (!f) throw UsageError("--format must be table, json or csv, found '" + o.format + "'");
  return *f;
}

workflows::Day today_of(const ReadOptions& o, Database& db) {
  if (!o.as_of.empty()) {
    auto d = workflows::parse_day(o.as_of);
    if (!d) throw UsageError("--as-of must be YYYY-MM-DD, found '" + o.as_of + "'");
    return *d;
  }
  return reports::database_today(*db.reader, db.zone);
}

reports::Period period_of(const ReportOptions& o, workflows::Day today) {
  auto day = [](const std::string& flag, const std::string& text) {
    auto d = workflows::parse_day(text);
    if (!d) throw UsageError(flag + " must be YYYY-MM-DD, found '" + text + "'");
    return *d;
  };
  if (!o.financial_year.empty()) {
    if (!o.from.empty() || !o.to.empty()) throw UsageError("give --financial-year or --from/--to, not both");
    auto fy = workflows::FinancialYear::parse(o.financial_year);
    if (!fy) throw UsageError("--financial-year must look like 2026/27, found '" + o.financial_year + "'");
    return {fy->first_day(), fy->last_day(), "financial year " + fy->label()};
  }
  if (o.from.empty() && o.to.empty()) {
    const auto fy = workflows::FinancialYear::containing(today);
    return {fy.first_day(), fy.last_day(), "financial year " + fy.label()};
  }
  const workflows::Day to = o.to.empty() ? today : day("--to", o.to);
  const workflows::Day from =
      o.from.empty() ? workflows::FinancialYear::containing(to).first_day() : day("--from", o.from);
  if (from > to) throw UsageError("--from must not be after --to");
  return {from, to, "the period"};
}

void print(std::ostream& out, const reports::Table& t, reports::Format f) {
  switch (f) {
    case reports::Format::table:
      reports::write_text(out, t);
      break;
    case reports::Format::csv: {
      reports::CsvWriter csv(out);
      reports::write_csv(csv, t);
      break;
    }
    case reports::Format::json:
      out << nlohmann::json{{"title", t.title}, {"rows", reports::to_json(t)}, {"notes", t.notes}}.dump(2) << '\n';
      break;
  }
}

}  // namespace docket::cli
