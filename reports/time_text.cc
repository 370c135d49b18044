#include "reports/time_text.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace docket::reports {

namespace {
std::chrono::sys_seconds sys(std::int64_t t) { return std::chrono::sys_seconds{std::chrono::seconds{t}}; }
}  // namespace

std::string local_minute(std::int64_t t, const date::time_zone* zone) {
  return date::format("%F %H:%M", date::make_zoned(zone, sys(t)).get_local_time());
}

std::string local_iso(std::int64_t t, const date::time_zone* zone) {
  auto z = date::make_zoned(zone, sys(t));
  auto offset = z.get_info().offset;
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(offset).count();
  char sign = minutes < 0 ? '-' : '+';
  const auto m = minutes < 0 ? -minutes : minutes;
  char buf[8];
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, static_cast<int>(m / 60), static_cast<int>(m % 60));
  return date::format("%FT%T", z.get_local_time()) + buf;
}

std::string utc_iso(std::int64_t t) { return date::format("%FT%TZ", sys(t)); }

workflows::Day local_day(std::int64_t t, const date::time_zone* zone) {
  auto local = date::make_zoned(zone, sys(t)).get_local_time();
  return workflows::Day{date::floor<date::days>(local).time_since_epoch()};
}

workflows::Day database_today(store::Reader& reader, const date::time_zone* zone) {
  if (auto last = reader.last_audit(); last && last->clock == "virtual") {
    std::int64_t now = last->at;
    if (auto v = reader.meta("virtual_now")) {
      try {
        now = std::max(now, static_cast<std::int64_t>(std::stoll(*v)));
      } catch (const std::exception&) {  // not a number: keep the audit's time
      }
    }
    return local_day(now, zone);
  }
  return local_day(std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()).time_since_epoch().count(),
                   zone);
}

}  // namespace docket::reports
