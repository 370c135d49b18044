// `docket export ics`.

#include <fstream>
#include <ostream>

#include "cli/commands.h"
#include "cli/database.h"
#include "reports/ics.h"

namespace docket::cli {

int export_ics_command(const ExportOptions& o, std::ostream& out, std::ostream& err) {
  auto db = open_database(o, NeedConfig::yes, err);
  if (!db) return 2;
  const workflows::Config& config = *db->config;
  if (!o.person.empty() && config.directory.person(o.person) == nullptr) {
    throw UsageError("unknown person '" + o.person + "' in --person" +
                     workflows::did_you_mean(o.person, config.directory.person_ids()));
  }
  if (!o.workflow.empty() && !config.has_workflow(o.workflow)) {
    std::vector<std::string> ids;
    for (const auto& [id, d] : config.reviews) ids.push_back(id);
    for (const auto& [id, c] : config.cycles) ids.push_back(id);
    throw UsageError("unknown workflow '" + o.workflow + "' in --workflow" + workflows::did_you_mean(o.workflow, ids));
  }
  reports::IcsOptions options;
  options.person = o.person;
  options.workflow = o.workflow;
  options.today = today_of(o, *db);
  options.stamp = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()).time_since_epoch().count();
  const auto ics = reports::export_ics(*db->reader, config, options);
  if (o.output.empty()) {
    out << ics.text;
    return 0;
  }
  std::ofstream file(o.output, std::ios::binary | std::ios::trunc);
  file << ics.text;
  file.close();
  if (!file) throw UsageError("cannot write " + o.output);
  err << "wrote " << ics.events << (ics.events == 1 ? " event" : " events") << " to " << o.output << '\n';
  return 0;
}

}  // namespace docket::cli
