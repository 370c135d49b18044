#include "daemon/log.h"

#include <array>
#include <memory>

namespace docket::daemon::log {

namespace {

constexpr std::array<const char*, 5> kNames{"daemon", "server", "engine", "delivery", "audit"};
std::array<std::shared_ptr<spdlog::logger>, kNames.size()> parts;

}  // namespace

spdlog::logger& of(Part part) {
  const auto& made = parts[static_cast<std::size_t>(part)];
  return made ? *made : *spdlog::default_logger_raw();
}

void make_parts() {
  for (std::size_t i = 0; i < kNames.size(); ++i) parts[i] = spdlog::default_logger()->clone(kNames[i]);
}

}  // namespace docket::daemon::log
