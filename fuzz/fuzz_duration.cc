// Durations, deadline rules, days, local times and financial years on
// hostile input, and the day arithmetic a parsed duration drives on the
// England and Wales calendar. Besides not crashing, what parses must print
// back in a form that parses to the same thing (the loader and `docket
// plan` print these strings; a reload reads them again).

#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

#include "daemon/commands.h"
#include "workflows/config.h"
#include "workflows/date_math.h"
#include "workflows/dates.h"
#include "workflows/duration.h"

namespace {

using namespace docket::workflows;

std::shared_ptr<const Config> config;

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_duration: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  config = load_config(std::filesystem::path(DOCKET_SOURCE_DIR) / "config").config;
  if (!config) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const Calendar& cal = config->calendar("england-and-wales");
  const Day start = date::sys_days{date::year{2026} / 3 / 2};

  auto d = parse_duration(text);
  if (auto* dur = std::get_if<Duration>(&d)) {
    auto again = parse_duration(to_string(*dur));
    if (!std::holds_alternative<Duration>(again) || std::get<Duration>(again) != *dur) {
      broken("a duration does not survive printing");
    }
    const Direction dir = size % 2 == 0 ? Direction::after : Direction::before;
    if (dur->unit == Unit::hours) {
      (void)shift_hours(cal, date::local_days{date::year{2026} / 3 / 29} + std::chrono::hours{1}, dur->count, dir);
    } else {
      auto moved = shift(cal, start, *dur, dir);
      (void)working_days_between(cal, std::min(start, moved.day), std::max(start, moved.day));
      (void)roll(cal, moved.day, Roll::next_working_day);
      (void)roll(cal, moved.day, Roll::previous_working_day);
    }
  }
  auto r = parse_due(text);
  if (auto* rule = std::get_if<DueRule>(&r)) {
    const std::string printed = to_string(*rule);
    auto again = parse_due(printed);
    if (!std::holds_alternative<DueRule>(again) || to_string(std::get<DueRule>(again)) != printed) {
      broken("a deadline rule does not survive printing");
    }
  }
  if (auto day = parse_day(text)) {
    if (parse_day(iso(*day)) != day) broken("a day does not survive printing");
    (void)long_date(*day);
    (void)FinancialYear::containing(*day).label();
  }
  if (auto t = parse_local_time(text)) {
    if (parse_local_time(iso(*t)) != t) broken("a local time does not survive printing");
  }
  if (auto fy = FinancialYear::parse(text)) {
    if (FinancialYear::parse(fy->label())->first_year != fy->first_year) broken("a year does not survive printing");
    (void)fy->last_day();
  }
  (void)docket::daemon::parse_advance(text);
  return 0;
}
