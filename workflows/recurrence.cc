#include "workflows/recurrence.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include <libical/ical.h>

namespace docket::workflows {
namespace {

icaltimetype to_ical(Day d) {
  date::year_month_day ymd{d};
  icaltimetype t = icaltime_null_date();
  t.year = static_cast<int>(ymd.year());
  t.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  t.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  // icaltime_null_date() leaves the time of day at -1, which libical's
  // iterator does not expect: "FREQ=MONTHLY;INTERVAL=2;BYDAY=1WE" from
  // 1 April 2026 (the shipped DALP board) gave 1 April twice, then 6 May and
  // 3 June, and a WEEKLY rule with BYDAY gave DTSTART for ever.
  t.hour = t.minute = t.second = 0;
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

namespace {

// One rule's occurrences from its DTSTART, as far as anyone has asked, and
// the libical iterator that goes on from there. A rule can only be walked
// from its DTSTART (an INTERVAL counts from it), so without this every
// financial year a daemon or a rehearsal reaches walked all the years
// before it again: a century of meetings took minutes.
struct Expansion {
  Expansion() = default;
  Expansion(const Expansion&) = delete;
  Expansion& operator=(const Expansion&) = delete;
  ~Expansion() {
    if (it != nullptr) icalrecur_iterator_free(it);
  }
  icalrecur_iterator* it = nullptr;
  std::vector<Day> days;  // in order
  bool ended = false;
  int steps = 0;
};

// Bounded: a daily rule over two centuries is still far below this.
constexpr int kMaxSteps = 200000;
// Distinct (rule, DTSTART) pairs kept; a configuration has a handful.
constexpr std::size_t kMaxRules = 256;

}  // namespace

std::vector<Day> expand_rrule(const std::string& rrule, Day dtstart, Day from, Day to) {
  static std::mutex mu;
  static std::map<std::pair<std::string, Day>, std::unique_ptr<Expansion>> cache;
  std::lock_guard lock(mu);
  auto key = std::make_pair(rrule, dtstart);
  auto found = cache.find(key);
  if (found == cache.end()) {
    if (cache.size() >= kMaxRules) cache.clear();
    auto fresh = std::make_unique<Expansion>();
    icalrecurrencetype r = icalrecurrencetype_from_string(rrule.c_str());
    if (r.freq != ICAL_NO_RECURRENCE) fresh->it = icalrecur_iterator_new(r, to_ical(dtstart));
    fresh->ended = fresh->it == nullptr;
    found = cache.emplace(std::move(key), std::move(fresh)).first;
  }
  Expansion& e = *found->second;
  while (!e.ended && (e.days.empty() || e.days.back() <= to)) {
    icaltimetype t = ++e.steps > kMaxSteps ? icaltime_null_time() : icalrecur_iterator_next(e.it);
    if (icaltime_is_null_time(t)) {
      e.ended = true;
      break;
    }
    e.days.push_back(from_ical(t));
  }
  auto first = std::lower_bound(e.days.begin(), e.days.end(), from);
  auto last = std::upper_bound(first, e.days.end(), to);
  return {first, last};
}

}  // namespace docket::workflows
