#include "workflows/dates.h"

#include <charconv>
#include <cstdio>

namespace docket::workflows {
namespace {

bool digits(std::string_view s, int& out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

}  // namespace

std::optional<Day> parse_day(std::string_view t) {
  int y = 0, m = 0, d = 0;
  if (t.size() != 10 || t[4] != '-' || t[7] != '-' || !digits(t.substr(0, 4), y) ||
      !digits(t.substr(5, 2), m) || !digits(t.substr(8, 2), d)) {
    return std::nullopt;
  }
  date::year_month_day ymd{date::year{y}, date::month{static_cast<unsigned>(m)},
                           date::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return Day{ymd};
}

std::optional<LocalTime> parse_local_time(std::string_view t) {
  auto day = parse_day(t.substr(0, std::min<std::size_t>(t.size(), 10)));
  if (!day) return std::nullopt;
  if (t.size() == 10) return LocalTime{day->time_since_epoch()};
  int h = 0, mi = 0;
  if (t.size() != 16 || (t[10] != 'T' && t[10] != ' ') || t[13] != ':' || !digits(t.substr(11, 2), h) ||
      !digits(t.substr(14, 2), mi) || h > 23 || mi > 59) {
    return std::nullopt;
  }
  return LocalTime{day->time_since_epoch()} + std::chrono::hours{h} + std::chrono::minutes{mi};
}

// Hand-formatted: these run for every date the daemon writes (rows, audit
// details, replies), where date::format's stream and locale set-up would
// dominate. Outside years 0-9999 date::format's spelling is kept.
namespace {

constexpr const char* kWeekdays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};

struct Parts {
  int year;
  unsigned month, day, weekday;
  bool plain;  // within years 0-9999
};

Parts parts(Day d) {
  date::year_month_day ymd{d};
  const int y = static_cast<int>(ymd.year());
  return {y, static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), date::weekday{d}.c_encoding(),
          ymd.ok() && y >= 0 && y <= 9999};
}

}  // namespace

namespace {

// Digits written by hand: snprintf was the larger part of formatting a day,
// and every reminder, reply and saved row formats several.
void put_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) at[i] = static_cast<char>('0' + value % 10);
}

}  // namespace

std::chrono::sys_seconds to_utc(const date::time_zone* zone, date::local_seconds t) {
  const auto info = zone->get_info(t);
  if (info.result == date::local_info::nonexistent) return info.first.end;
  return zone->to_sys(t, date::choose::earliest);
}

std::string iso(Day d) {
  const Parts p = parts(d);
  if (!p.plain) return date::format("%F", d);
  char buf[10];
  put_digits(buf, static_cast<unsigned>(p.year), 4);
  buf[4] = '-';
  put_digits(buf + 5, p.month, 2);
  buf[7] = '-';
  put_digits(buf + 8, p.day, 2);
  return std::string(buf, sizeof buf);
}

std::string iso(LocalTime t) {
  const auto day = date::floor<date::days>(t);
  const auto minutes = static_cast<unsigned>(std::chrono::duration_cast<std::chrono::minutes>(t - day).count());
  char buf[6] = {'T', 0, 0, ':', 0, 0};
  put_digits(buf + 1, minutes / 60, 2);
  put_digits(buf + 4, minutes % 60, 2);
  return iso(Day{day.time_since_epoch()}).append(buf, sizeof buf);
}

std::string iso_utc(std::chrono::sys_seconds t) {
  const auto day = date::floor<date::days>(t);
  const auto secs = static_cast<unsigned>((t - day).count());
  char buf[10] = {'T', 0, 0, ':', 0, 0, ':', 0, 0, 'Z'};
  put_digits(buf + 1, secs / 3600, 2);
  put_digits(buf + 4, secs / 60 % 60, 2);
  put_digits(buf + 7, secs % 60, 2);
  return iso(Day{day.time_since_epoch()}).append(buf, sizeof buf);
}

std::string short_date(Day d) {
  const Parts p = parts(d);
  if (!p.plain) return date::format("%a %e %b %Y", d);
  return std::string(kWeekdays[p.weekday], 3) + " " + std::to_string(p.day) + " " +
         std::string(kMonths[p.month - 1], 3) + " " + std::to_string(p.year);
}

std::string weekday_name(Day d) { return kWeekdays[date::weekday{d}.c_encoding()]; }

std::string long_date(Day d) {
  const Parts p = parts(d);
  if (!p.plain) return date::format("%A %e %B %Y", d);
  return std::string(kWeekdays[p.weekday]) + " " + std::to_string(p.day) + " " + kMonths[p.month - 1] + " " +
         std::to_string(p.year);
}

Day FinancialYear::first_day() const {
  return Day{date::year{first_year} / date::April / 1};
}

Day FinancialYear::last_day() const {
  return Day{date::year{first_year + 1} / date::March / 31};
}

std::string FinancialYear::label() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%d/%02d", first_year, (first_year + 1) % 100);
  return buf;
}

FinancialYear FinancialYear::containing(Day d) {
  date::year_month_day ymd{d};
  int y = static_cast<int>(ymd.year());
  return FinancialYear{ymd.month() >= date::April ? y : y - 1};
}

std::optional<FinancialYear> FinancialYear::parse(std::string_view t) {
  int first = 0, second = 0;
  if (t.size() < 7 || (t[4] != '/' && t[4] != '-') || !digits(t.substr(0, 4), first) ||
      !digits(t.substr(5), second)) {
    return std::nullopt;
  }
  if (t.size() == 7) {
    if (second != (first + 1) % 100) return std::nullopt;
  } else if (t.size() == 9) {
    if (second != first + 1) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (first < 1900 || first > 9000) return std::nullopt;
  return FinancialYear{first};
}

}  // namespace docket::workflows
