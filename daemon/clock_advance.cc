#include "daemon/clock_advance.h"

#include <charconv>

namespace docket::daemon {

using nlohmann::json;

void advance_to(Engine& engine, VirtualClock& clock, Instant target, store::Batch& batch) {
  const Instant from = clock.now();
  engine.fire_through(target, clock, batch);
  clock.set(std::max(from, target));
}

json clock_json(const Engine& engine, Instant t, const std::string& mode) {
  const auto& cal = engine.config().calendar(engine.config().daemon.calendar);
  const std::string local =
      date::format("%a %F %H:%M", date::floor<std::chrono::minutes>(cal.zone()->to_local(t))) + " " +
      cal.timezone_name();
  return {{"now", date::format("%FT%TZ", t)}, {"local", local}, {"mode", mode}};
}

Result advance_recorded(const Engine& engine, const Caller& who, Instant from, Instant target, Instant reached,
                        store::Batch& batch) {
  json details{{"from", date::format("%FT%TZ", from)}, {"to", date::format("%FT%TZ", reached)}};
  if (reached != target) details["stopped_short_of"] = date::format("%FT%TZ", target);
  batch.audit.push_back(store::audit_entry(reached, who.person, "clock.advanced", details.dump()));
  batch.meta.emplace_back("virtual_now", std::to_string(reached.time_since_epoch().count()));
  return Result{true, "", clock_json(engine, reached, "virtual")};
}

std::optional<std::chrono::seconds> parse_advance(const std::string& t) {
  if (t.size() < 2) return std::nullopt;
  long n = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size() - 1, n);
  if (ec != std::errc{} || p != t.data() + t.size() - 1 || n <= 0 || n > 5'270'400) return std::nullopt;
  std::chrono::seconds step{};
  switch (t.back()) {
    case 'm': step = std::chrono::minutes{n}; break;
    case 'h': step = std::chrono::hours{n}; break;
    case 'd': step = std::chrono::days{n}; break;
    case 'w': step = std::chrono::weeks{n}; break;
    default: return std::nullopt;
  }
  if (step > kMaxAdvance) return std::nullopt;
  return step;
}

}  // namespace docket::daemon
