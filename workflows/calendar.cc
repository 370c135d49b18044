#include "workflows/calendar.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace docket::workflows {

Day easter_sunday(int year) {
  // Anonymous Gregorian algorithm (Meeus, Jones, Butcher).
  int a = year % 19, b = year / 100, c = year % 100, d = b / 4, e = b % 4;
  int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
  int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
  int m = (a + 11 * h + 22 * l) / 451;
  int month = (h + l - 7 * m + 114) / 31, day = ((h + l - 7 * m + 114) % 31) + 1;
  return Day{date::year{year} / date::month{static_cast<unsigned>(month)} /
             date::day{static_cast<unsigned>(day)}};
}

Calendar::Calendar(std::string id, std::string tz_name, std::vector<date::weekday> weekend,
                   std::vector<Holiday> published, std::vector<HolidayRule> rules)
    : id_(std::move(id)),
      timezone_(std::move(tz_name)),
      published_(std::move(published)),
      rules_(std::move(rules)) {
  zone_ = date::locate_zone(timezone_);  // throws on an unknown zone
  for (auto w : weekend) weekend_mask_ |= 1u << w.c_encoding();
  std::set<int> years;
  for (const auto& h : published_) years.insert(static_cast<int>(date::year_month_day{h.day}.year()));
  published_years_.assign(years.begin(), years.end());
  const Day first{date::year{kFirstCachedYear} / date::January / 1};
  const Day end{date::year{kLastCachedYear + 1} / date::January / 1};
  first_cached_day_ = first.time_since_epoch().count();
  by_day_.assign(static_cast<std::size_t>((end - first).count()), 0);
  for (int y = kFirstCachedYear; y <= kLastCachedYear; ++y) {
    for (auto& h : holidays_in(y)) {
      auto& slot = by_day_[static_cast<std::size_t>(h.day.time_since_epoch().count() - first_cached_day_)];
      if (slot != 0) continue;  // two holidays on one day: the first, as before
      cached_.push_back(std::move(h));
      if (cached_.size() >= 0xFFFF) throw std::runtime_error("calendar " + id_ + " has too many holidays");
      slot = static_cast<std::uint16_t>(cached_.size());
    }
  }
}

bool Calendar::is_weekend(Day d) const {
  return (weekend_mask_ >> date::weekday{d}.c_encoding()) & 1u;
}

bool Calendar::is_published_year(int year) const {
  return std::binary_search(published_years_.begin(), published_years_.end(), year);
}

Day Calendar::first_day() const {
  const int year = published_years_.empty() ? kFirstCachedYear : published_years_.front();
  return Day{date::year{year} / date::January / 1};
}

const Holiday* Calendar::holiday(Day d) const {
  const auto offset = static_cast<std::size_t>(d.time_since_epoch().count() - first_cached_day_);
  if (offset < by_day_.size()) {
    const std::uint16_t i = by_day_[offset];
    return i == 0 ? nullptr : &cached_[i - 1U];
  }
  // Far outside any real review: compute without caching. The pointer would
  // dangle, so answer from a per-thread slot.
  thread_local Holiday slot;
  for (auto& h : holidays_in(static_cast<int>(date::year_month_day{d}.year()))) {
    if (h.day == d) {
      slot = h;
      return &slot;
    }
  }
  return nullptr;
}

std::vector<Holiday> Calendar::holidays_in(int year) const {
  if (!is_published_year(year)) return rule_holidays(year);
  std::vector<Holiday> out;
  for (const auto& h : published_) {
    if (static_cast<int>(date::year_month_day{h.day}.year()) == year) out.push_back(h);
  }
  std::sort(out.begin(), out.end(), [](const Holiday& a, const Holiday& b) { return a.day < b.day; });
  return out;
}

std::vector<Holiday> Calendar::rule_holidays(int year) const {
  using namespace date;
  std::vector<Holiday> actual;
  for (const auto& r : rules_) {
    Day d;
    switch (r.kind) {
      case HolidayRule::Kind::fixed:
        d = Day{date::year{year} / month{r.month} / day{r.day}};
        break;
      case HolidayRule::Kind::easter:
        d = easter_sunday(year) + days{r.easter_offset};
        break;
      case HolidayRule::Kind::nth_weekday:
        if (r.nth > 0) {
          d = Day{date::year{year} / month{r.month} / r.weekday[static_cast<unsigned>(r.nth)]};
        } else {
          d = Day{date::year{year} / month{r.month} / r.weekday[last]};
        }
        break;
    }
    actual.push_back({d, r.name, false, false});
  }
  // Substitute days: each holiday that falls on a weekend and asks for one
  // moves to the next weekday not already a holiday, in date order (so a
  // Sunday Christmas Day yields Tuesday 27th, Boxing Day keeping Monday 26th).
  std::sort(actual.begin(), actual.end(), [](const Holiday& a, const Holiday& b) { return a.day < b.day; });
  std::set<Day> taken;
  for (const auto& h : actual) {
    if (!is_weekend(h.day)) taken.insert(h.day);
  }
  std::vector<Holiday> out;
  for (const auto& h : actual) {
    auto rule = std::find_if(rules_.begin(), rules_.end(), [&](const HolidayRule& r) { return r.name == h.name; });
    if (!is_weekend(h.day) || rule == rules_.end() || !rule->substitute) {
      out.push_back(h);
      continue;
    }
    Day s = h.day + days{1};
    while (is_weekend(s) || taken.count(s) > 0) s += days{1};
    taken.insert(s);
    out.push_back({s, h.name + " (substitute day)", false, true});
  }
  std::sort(out.begin(), out.end(), [](const Holiday& a, const Holiday& b) { return a.day < b.day; });
  return out;
}

}  // namespace docket::workflows
