#include <ostream>

#include "cli/commands.h"
#include "daemon/delivery_settings.h"

namespace docket::cli {

int validate_command(const ValidateOptions& o, std::ostream& out, std::ostream& err) {
  auto dir = resolve_config_dir(o.config);
  // Everything docketd checks at start, the channels and [delivery] too.
  auto loaded = daemon::load_setup(dir);
  if (!loaded.setup.config) {
    report_errors(loaded.diagnostics, dir, err);
    return 1;
  }
  const auto& config = loaded.setup.config;
  const auto& delivery = *loaded.setup.delivery;
  std::size_t roles = config->directory.roles.size();
  out << dir.string() << " is valid: " << config->reviews.size() << " review types, " << config->cycles.size()
      << " meeting cycles, " << config->calendars.size() << (config->calendars.size() == 1 ? " calendar, " : " calendars, ")
      << config->directory.people.size() << " people in " << roles << " roles (configuration "
      << config->hash.substr(0, 12) << ")\n";
  out << "  notifications: " << delivery.channels.size() << (delivery.channels.size() == 1 ? " channel" : " channels");
  for (const auto& [name, channel] : delivery.channels) {
    out << " " << name << " (" << channel.type() << (name == delivery.default_channel ? ", default" : "") << ")";
  }
  out << '\n';
  return 0;
}

}  // namespace docket::cli
