#include "workflows/duration.h"

#include <cctype>
#include <charconv>
#include <vector>

namespace docket::workflows {
namespace {

struct Word {
  std::string_view text;
  std::size_t offset;
};

std::vector<Word> split(std::string_view s) {
  std::vector<Word> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    std::size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) words.push_back({s.substr(start, i - start), start});
  }
  return words;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
          c == '-' || c == '_')) {
      return false;
    }
  }
  return true;
}

constexpr const char* kUnits = "hours, days, calendar days, working days, weeks or months";

// Parses COUNT UNIT from words[i...]; advances i past it.
Parsed<Duration> duration_at(const std::vector<Word>& w, std::size_t& i, std::size_t end_offset) {
  if (i >= w.size()) {
    return ParseError{end_offset, std::string("expected a duration such as '15 working days'")};
  }
  const Word& n = w[i];
  std::int32_t count = 0;
  auto [p, ec] = std::from_chars(n.text.data(), n.text.data() + n.text.size(), count);
  if (ec != std::errc{} || p != n.text.data() + n.text.size() || count < 0) {
    return ParseError{n.offset, "expected a whole number of " + std::string(kUnits) + ", found '" +
                                    std::string(n.text) + "'"};
  }
  if (count > 100000) {
    return ParseError{n.offset, "the count " + std::string(n.text) + " is too large"};
  }
  ++i;
  if (i >= w.size()) {
    return ParseError{end_offset, "expected a unit after " + std::string(n.text) + ": " + kUnits};
  }
  Duration d{count, Unit::calendar_days};
  auto unit = w[i].text;
  auto is = [&](std::string_view singular, std::string_view plural) {
    return unit == singular || unit == plural;
  };
  if (is("hour", "hours")) {
    d.unit = Unit::hours;
  } else if (is("day", "days")) {
    d.unit = Unit::calendar_days;
  } else if (is("week", "weeks")) {
    d.unit = Unit::weeks;
  } else if (is("month", "months")) {
    d.unit = Unit::months;
  } else if (unit == "working" || unit == "calendar") {
    if (i + 1 >= w.size() || (w[i + 1].text != "day" && w[i + 1].text != "days")) {
      return ParseError{w[i].offset, "expected '" + std::string(unit) + " days'"};
    }
    d.unit = unit == "working" ? Unit::working_days : Unit::calendar_days;
    ++i;
  } else {
    return ParseError{w[i].offset, "unknown unit '" + std::string(unit) + "', expected " + kUnits};
  }
  ++i;
  return d;
}

Parsed<Anchor> anchor_at(const std::vector<Word>& w, std::size_t& i, std::size_t end_offset) {
  if (i >= w.size()) {
    return ParseError{end_offset, "expected what the deadline counts from: start, meeting, "
                                  "date.NAME, a stage id, ID.due or ID.completed"};
  }
  const Word& a = w[i++];
  Anchor anchor;
  anchor.offset = a.offset;
  std::string_view t = a.text;
  if (t == "start") {
    anchor.kind = AnchorKind::start;
  } else if (t == "meeting") {
    anchor.kind = AnchorKind::meeting;
  } else if (t.starts_with("date.")) {
    anchor.kind = AnchorKind::supplied_date;
    anchor.name = std::string(t.substr(5));
    if (!is_identifier(anchor.name)) {
      return ParseError{a.offset, "expected a date name after 'date.', e.g. date.decision"};
    }
  } else {
    auto dot = t.find('.');
    std::string_view id = t.substr(0, dot);
    anchor.kind = AnchorKind::item_due;
    if (dot != std::string_view::npos) {
      std::string_view which = t.substr(dot + 1);
      if (which == "completed") {
        anchor.kind = AnchorKind::item_completed;
      } else if (which != "due") {
        return ParseError{a.offset + dot + 1,
                          "expected '.due' or '.completed' after '" + std::string(id) + "', found '." +
                              std::string(which) + "'"};
      }
    }
    if (!is_identifier(id)) {
      return ParseError{a.offset, "expected start, meeting, date.NAME or a stage id, found '" +
                                      std::string(t) + "'"};
    }
    anchor.name = std::string(id);
  }
  return anchor;
}

ParseError trailing(const std::vector<Word>& w, std::size_t i) {
  return ParseError{w[i].offset, "unexpected '" + std::string(w[i].text) + "' after the end of the rule"};
}

}  // namespace

Parsed<Duration> parse_duration(std::string_view text) {
  auto words = split(text);
  std::size_t i = 0;
  auto d = duration_at(words, i, text.size());
  if (std::holds_alternative<ParseError>(d)) return d;
  if (i < words.size()) {
    auto e = trailing(words, i);
    if (words[i].text == "after" || words[i].text == "before") {
      e.message = "a duration here is just a length such as '2 working days', without '" +
                  std::string(words[i].text) + " ...'";
    }
    return e;
  }
  return d;
}

Parsed<DueRule> parse_due(std::string_view text) {
  auto words = split(text);
  std::size_t i = 0;
  DueRule rule;
  if (!words.empty() && words[0].text == "next") {
    // next meeting of CYCLE after ANCHOR
    if (words.size() < 4 || words[1].text != "meeting" || words[2].text != "of") {
      return ParseError{words[0].offset, "expected 'next meeting of CYCLE after ANCHOR'"};
    }
    if (!is_identifier(words[3].text)) {
      return ParseError{words[3].offset, "expected a meeting cycle id after 'next meeting of'"};
    }
    rule.next_meeting_of = std::string(words[3].text);
    rule.next_meeting_offset = words[3].offset;
    i = 4;
    if (i >= words.size() || words[i].text != "after") {
      return ParseError{i < words.size() ? words[i].offset : text.size(),
                        "expected 'after ANCHOR' after 'next meeting of " + rule.next_meeting_of + "'"};
    }
    ++i;
  } else {
    auto d = duration_at(words, i, text.size());
    if (auto* e = std::get_if<ParseError>(&d)) return *e;
    rule.offset = std::get<Duration>(d);
    if (i >= words.size()) {
      return ParseError{text.size(), "expected 'after' or 'before' and what the deadline counts from, "
                                     "e.g. '" + to_string(rule.offset) + " after start'"};
    }
    if (words[i].text == "after") {
      rule.direction = Direction::after;
    } else if (words[i].text == "before") {
      rule.direction = Direction::before;
    } else {
      return ParseError{words[i].offset,
                        "expected 'after' or 'before', found '" + std::string(words[i].text) + "'"};
    }
    ++i;
  }
  auto a = anchor_at(words, i, text.size());
  if (auto* e = std::get_if<ParseError>(&a)) return *e;
  rule.anchor = std::get<Anchor>(a);
  if (i < words.size()) return trailing(words, i);
  return rule;
}

std::string to_string(const Duration& d) {
  const bool one = d.count == 1;
  std::string unit;
  switch (d.unit) {
    case Unit::hours: unit = one ? "hour" : "hours"; break;
    case Unit::calendar_days: unit = one ? "day" : "days"; break;
    case Unit::working_days: unit = one ? "working day" : "working days"; break;
    case Unit::weeks: unit = one ? "week" : "weeks"; break;
    case Unit::months: unit = one ? "month" : "months"; break;
  }
  return std::to_string(d.count) + " " + unit;
}

std::string to_string(const Anchor& a) {
  switch (a.kind) {
    case AnchorKind::start: return "start";
    case AnchorKind::meeting: return "meeting";
    case AnchorKind::supplied_date: return "date." + a.name;
    case AnchorKind::item_due: return a.name;
    case AnchorKind::item_completed: return a.name + ".completed";
  }
  return {};
}

std::string to_string(const DueRule& r) {
  if (!r.next_meeting_of.empty()) {
    return "next meeting of " + r.next_meeting_of + " after " + to_string(r.anchor);
  }
  return to_string(r.offset) + (r.direction == Direction::after ? " after " : " before ") +
         to_string(r.anchor);
}

double approximate_days(const Duration& d) {
  switch (d.unit) {
    case Unit::hours: return d.count / 24.0;
    case Unit::calendar_days: return d.count;
    case Unit::working_days: return d.count * 7.0 / 5.0;
    case Unit::weeks: return d.count * 7.0;
    case Unit::months: return d.count * 30.44;
  }
  return 0;
}

}  // namespace docket::workflows
