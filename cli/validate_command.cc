#include <ostream>

#include "cli/commands.h"

namespace docket::cli {

int validate_command(const ValidateOptions& o, std::ostream& out, std::ostream& err) {
  auto dir = resolve_config_dir(o.config);
  auto config = load_or_report(dir, err);
  if (!config) return 1;
  std::size_t roles = config->directory.roles.size();
  out << dir.string() << " is valid: " << config->reviews.size() << " review types, " << config->cycles.size()
      << " meeting cycles, " << config->calendars.size() << (config->calendars.size() == 1 ? " calendar, " : " calendars, ")
      << config->directory.people.size() << " people in " << roles << " roles (configuration "
      << config->hash.substr(0, 12) << ")\n";
  return 0;
}

}  // namespace docket::cli
