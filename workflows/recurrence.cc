#include "workflows/recurrence.h"

#include <algorithm>

#include <libical/ical.h>

namespace docket::workflows {
namespace {

icaltimetype to_ical(Day d) {
  date::year_month_day ymd{d};
  icaltimetype t = icaltime_null_date();
  t.year = static_cast<int>(ymd.year());
  t.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  t.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  t.is_date = 1;
  return t;
}

Day from_ical(const icaltimetype& t) {
  return Day{date::year{t.year} / date::month{static_cast<unsigned>(t.month)} /
             date::day{static_cast<unsigned>(t.day)}};
}

}  // namespace

std::optional<std::string> check_rrule(const std::string& rrule) {
  // libical says only that a rule is invalid; name the part that is wrong.
  static const char* keys[] = {"FREQ",     "UNTIL",      "COUNT",     "INTERVAL", "BYSECOND", "BYMINUTE", "BYHOUR",
                               "BYDAY",    "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYMONTH",  "BYSETPOS", "WKST"};
  static const char* freqs[] = {"SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"};
  bool has_freq = false;
  std::size_t start = 0;
  while (start <= rrule.size()) {
    std::size_t end = rrule.find(';', start);
    if (end == std::string::npos) end = rrule.size();
    std::string part = rrule.substr(start, end - start);
    start = end + 1;
    if (part.empty()) continue;
    auto eq = part.find('=');
    std::string key = part.substr(0, eq);
    if (eq == std::string::npos || std::find(std::begin(keys), std::end(keys), key) == std::end(keys)) {
      return "'" + part + "' is not an RRULE part (RFC 5545 parts are FREQ, INTERVAL, BYDAY, BYMONTH, BYMONTHDAY, "
             "BYSETPOS, COUNT, UNTIL, ...)";
    }
    if (key == "FREQ") {
      has_freq = true;
      std::string value = part.substr(eq + 1);
      if (std::find(std::begin(freqs), std::end(freqs), value) == std::end(freqs)) {
        return "'" + value + "' is not a frequency: FREQ is DAILY, WEEKLY, MONTHLY or YEARLY";
      }
    }
  }
  if (!has_freq) return "an RRULE needs FREQ=DAILY, WEEKLY, MONTHLY or YEARLY";
  icalerror_clear_errno();
  icalrecurrencetype r = icalrecurrencetype_from_string(rrule.c_str());
  if (r.freq == ICAL_NO_RECURRENCE || icalerrno != ICAL_NO_ERROR) {
    icalerror_clear_errno();
    return "'" + rrule + "' is not a valid RFC 5545 RRULE";
  }
  if (r.freq < ICAL_DAILY_RECURRENCE) return "meetings recur at most daily: FREQ must be DAILY or longer";
  return std::nullopt;
}

std::vector<Day> expand_rrule(const std::string& rrule, Day dtstart, Day from, Day to) {
  std::vector<Day> out;
  icalrecurrencetype r = icalrecurrencetype_from_string(rrule.c_str());
  if (r.freq == ICAL_NO_RECURRENCE) return out;
  icalrecur_iterator* it = icalrecur_iterator_new(r, to_ical(dtstart));
  if (it == nullptr) return out;
  // Bounded: a daily rule over two centuries is still far below this.
  for (int i = 0; i < 200000; ++i) {
    icaltimetype t = icalrecur_iterator_next(it);
    if (icaltime_is_null_time(t)) break;
    Day d = from_ical(t);
    if (d > to) break;
    if (d >= from) out.push_back(d);
  }
  icalrecur_iterator_free(it);
  return out;
}

}  // namespace docket::workflows
