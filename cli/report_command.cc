// `docket report compliance` and `docket report meetings`.

#include <ostream>

#include "cli/commands.h"
#include "cli/database.h"
#include "reports/meetings_report.h"

namespace docket::cli {

using nlohmann::json;

namespace {

json period_json(const reports::Period& p, workflows::Day today) {
  return {{"from", workflows::iso(p.from)}, {"to", workflows::iso(p.to)}, {"label", p.label},
          {"as_of", workflows::iso(today)}};
}

}  // namespace

int report_compliance_command(const ReportOptions& o, std::ostream& out, std::ostream& err) {
  const auto format = format_of(o);
  auto db = open_database(o, NeedConfig::yes, err);
  if (!db) return 2;
  const auto today = today_of(o, *db);
  const auto period = period_of(o, today);
  const auto rows = reports::compliance(*db->reader, *db->config, period, today);
  const auto table = reports::compliance_table(rows, period, today);
  if (format == reports::Format::json) {
    out << json{{"period", period_json(period, today)}, {"working_days", true}, {"rows", reports::to_json(table)}}.dump(2)
        << '\n';
    return 0;
  }
  print(out, table, format);
  return 0;
}

int report_meetings_command(const ReportOptions& o, std::ostream& out, std::ostream& err) {
  const auto format = format_of(o);
  auto db = open_database(o, NeedConfig::yes, err);
  if (!db) return 2;
  const auto today = today_of(o, *db);
  const auto period = period_of(o, today);
  const auto report = reports::meetings_report(*db->reader, *db->config, period, today);
  switch (format) {
    case reports::Format::json:
      out << json{{"period", period_json(period, today)},
                  {"meetings", reports::to_json(report.summary)},
                  {"attendance", reports::to_json(report.attendance)}}
                 .dump(2)
          << '\n';
      break;
    case reports::Format::csv:
      print(out, report.combined, format);
      break;
    case reports::Format::table:
      reports::write_text(out, report.summary);
      out << '\n';
      reports::write_text(out, report.attendance);
      break;
  }
  return 0;
}

}  // namespace docket::cli
