// calendars/*.toml: one working-day calendar per file (calendar.h) — its
// time zone, weekend, published bank holidays and the rules for other years.

#include <map>
#include <set>

#include "workflows/file_readers.h"

namespace docket::workflows::detail {
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kWeekdays = {"monday", "tuesday", "wednesday", "thursday",
                                            "friday", "saturday", "sunday"};

std::optional<date::weekday> parse_weekday(const std::string& s) {
  static const char* names[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  for (unsigned i = 0; i < 7; ++i) {
    if (s == names[i]) return date::weekday{i};
  }
  return std::nullopt;
}

// The tz database name; "UTC" after an error.
std::string read_zone(Reader& r) {
  std::string tz = r.string("timezone", true, "\"Europe/London\"").value_or("Europe/London");
  try {
    (void)date::locate_zone(tz);
  } catch (const std::exception&) {
    if (const toml::node* n = r.get("timezone")) {
      r.error(*n, "unknown time zone '" + tz + "', expected a tz database name such as \"Europe/London\"");
    }
    tz = "UTC";
  }
  return tz;
}

std::vector<date::weekday> read_weekend(Reader& r) {
  std::vector<date::weekday> weekend{date::Saturday, date::Sunday};
  auto names = r.strings("weekend");
  if (!names) return weekend;
  weekend.clear();
  const toml::array* arr = r.get("weekend")->as_array();
  for (std::size_t i = 0; i < names->size(); ++i) {
    if (auto w = parse_weekday((*names)[i])) {
      weekend.push_back(*w);
    } else {
      r.error(arr != nullptr ? *arr->get(i) : *r.get("weekend"), unknown("day", (*names)[i], kWeekdays));
    }
  }
  std::set<unsigned> distinct;
  for (auto w : weekend) distinct.insert(w.c_encoding());
  if (distinct.size() == 7) r.error(*r.get("weekend"), "the weekend cannot be every day: the calendar would have no working days");
  return weekend;
}

// One { date = ..., name = "..." } of `published`; nullopt after an error.
// `seen` holds the line of each day listed so far.
std::optional<Holiday> read_holiday(const toml::table& t, const ParsedFile& f, Diagnostics& diags,
                                    std::map<Day, std::uint32_t>& seen) {
  Reader h(t, f.rel, diags, "a published holiday");
  const toml::node* dn = h.get("date");
  auto name = h.string("name", true);
  bool one_off = h.boolean("one_off").value_or(false);
  h.finish();
  if (dn == nullptr) {
    h.error(t, "a published holiday has no 'date', expected e.g. date = 2026-12-25");
    return std::nullopt;
  }
  const auto* dv = dn->as_date();
  if (dv == nullptr) {
    h.error(*dn, "'date' must be a TOML date such as 2026-12-25 (no quotes), found " + Reader::type_name(*dn));
    return std::nullopt;
  }
  const toml::date& td = dv->get();
  date::year_month_day ymd{date::year{td.year}, date::month{td.month}, date::day{td.day}};
  if (!ymd.ok()) {
    h.error(*dn, "not a real date");
    return std::nullopt;
  }
  Day d{ymd};
  if (auto first = seen.find(d); first != seen.end()) {
    h.error(*dn, "the holiday on " + iso(d) + " is listed twice (first at line " + std::to_string(first->second) + ")");
    return std::nullopt;
  }
  seen.emplace(d, dn->source().begin.line);
  return Holiday{d, name.value_or(""), one_off, false};
}

std::vector<Holiday> read_published(Reader& r, const ParsedFile& f, Diagnostics& diags) {
  std::vector<Holiday> published;
  std::map<Day, std::uint32_t> seen;
  r.tables("published", "each published holiday must be a table: { date = 2026-12-25, name = \"Christmas Day\" }",
           [&](const toml::table& t) {
             if (auto holiday = read_holiday(t, f, diags, seen)) published.push_back(std::move(*holiday));
           });
  return published;
}

// The keys of a [[rule]] that say when it falls.
struct RuleKeys {
  std::optional<std::int64_t> easter, month, day;
  std::optional<std::string> weekday;
  std::optional<std::int64_t> nth;
};

// The kind of a [[rule]] from the keys it has; false after an error.
bool read_rule_kind(Reader& h, const toml::table& t, const RuleKeys& keys, HolidayRule& rule) {
  const auto& [easter, month, day, weekday, nth] = keys;
  if (easter) {
    rule.kind = HolidayRule::Kind::easter;
    rule.easter_offset = static_cast<int>(*easter);
    if (month || day || weekday || nth) {
      h.error(t, "rule '" + rule.name + "' mixes 'easter' with a month, day or weekday; use one kind of rule");
    }
  } else if (month && weekday) {
    rule.kind = HolidayRule::Kind::nth_weekday;
    auto w = parse_weekday(*weekday);
    if (!w) h.error(*h.get("weekday"), unknown("day", *weekday, kWeekdays));
    rule.weekday = w.value_or(date::Monday);
    rule.nth = static_cast<int>(nth.value_or(1));
    if (rule.nth == 0 || rule.nth < -1 || rule.nth > 5) {
      h.error(*h.get("nth"), "'nth' must be 1 to 5, or -1 for the last in the month");
      rule.nth = 1;
    }
    if (day) h.error(*h.get("day"), "rule '" + rule.name + "' has both a weekday and a day of the month");
  } else if (month && day) {
    rule.kind = HolidayRule::Kind::fixed;
    rule.day = static_cast<unsigned>(*day);
  } else {
    h.error(t, "rule '" + rule.name + "' needs easter = N, month and day, or month, weekday and nth");
    return false;
  }
  return true;
}

// The rule's month, and for a fixed day that the day is in it every year;
// false after an error.
bool read_rule_month(Reader& h, const RuleKeys& keys, HolidayRule& rule) {
  const auto& month = keys.month;
  if (!month) return true;
  if (*month < 1 || *month > 12) {
    h.error(*h.get("month"), "'month' must be 1 to 12");
    return false;
  }
  rule.month = static_cast<unsigned>(*month);
  if (rule.kind != HolidayRule::Kind::fixed) return true;
  if (!(date::year{2000} / date::month{rule.month} / date::day{rule.day}).ok()) {
    h.error(*h.get("day"), "there is no day " + std::to_string(*keys.day) + " in month " + std::to_string(*month));
    return false;
  }
  if (rule.month == 2 && rule.day == 29) {
    h.error(*h.get("day"), "29 February exists only in leap years; a yearly holiday needs a date every year");
    return false;
  }
  return true;
}

std::vector<HolidayRule> read_rules(Reader& r, const ParsedFile& f, Diagnostics& diags) {
  std::vector<HolidayRule> rules;
  r.tables("rule", "each [[rule]] must be a table", [&](const toml::table& t) {
    Reader h(t, f.rel, diags, "a holiday rule");
    HolidayRule rule;
    rule.name = h.string("name", true).value_or("");
    rule.substitute = h.boolean("substitute").value_or(false);
    RuleKeys keys{h.integer("easter"), h.integer("month"), h.integer("day"), h.string("weekday"), h.integer("nth")};
    // A rule with an error is not checked for unknown keys.
    if (!read_rule_kind(h, t, keys, rule) || !read_rule_month(h, keys, rule)) return;
    h.finish();
    rules.push_back(std::move(rule));
  });
  return rules;
}

}  // namespace

std::optional<Calendar> read_calendar(const ParsedFile& f, Diagnostics& diags) {
  const std::size_t before = diags.size();
  Reader r(f.table, f.rel, diags, "the calendar");
  r.known({"title", "source"});
  auto id = r.id("id");
  if (id && *id != stem(f.rel)) {
    r.error(*r.get("id"), "id '" + *id + "' does not match the file name '" + fs::path(f.rel).filename().string() +
                              "'; name the file " + *id + ".toml");
  }
  std::string tz = read_zone(r);
  std::vector<date::weekday> weekend = read_weekend(r);
  std::vector<Holiday> published = read_published(r, f, diags);
  std::vector<HolidayRule> rules = read_rules(r, f, diags);
  r.finish();
  if (!id || diags.size() != before) return std::nullopt;
  try {
    return Calendar(*id, tz, weekend, std::move(published), std::move(rules));
  } catch (const std::exception& e) {
    diags.error({f.rel, 1, 1}, e.what());
    return std::nullopt;
  }
}

}  // namespace docket::workflows::detail
