#include "daemon/input_rules.h"

#include <algorithm>
#include <cctype>

#include "workflows/dates.h"

namespace docket::daemon {

namespace {

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// The next code point of `s` from `at` (moved past it); nullopt when the
// bytes there are not UTF-8 (overlong forms and surrogates included).
std::optional<char32_t> next_code_point(std::string_view s, std::size_t& at) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b = byte(at);
  int extra = 0;
  char32_t cp = 0;
  if (b < 0x80) {
    ++at;
    return b;
  } else if ((b & 0xE0) == 0xC0) {
    extra = 1;
    cp = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    extra = 2;
    cp = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    extra = 3;
    cp = b & 0x07;
  } else {
    return std::nullopt;
  }
  if (at + static_cast<std::size_t>(extra) >= s.size()) return std::nullopt;
  for (int i = 1; i <= extra; ++i) {
    const unsigned char c = byte(at + static_cast<std::size_t>(i));
    if ((c & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (c & 0x3F);
  }
  static constexpr char32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kSmallest[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  at += static_cast<std::size_t>(extra) + 1;
  return cp;
}

}  // namespace

std::optional<std::string> ref_problem(std::string_view ref) {
  const bool ok = !ref.empty() && ref.size() <= kMaxRefLength && alnum(ref.front()) && alnum(ref.back()) &&
                  ref.find("..") == std::string_view::npos &&
                  std::all_of(ref.begin(), ref.end(), [](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
  if (ok) return std::nullopt;
  return "'" + std::string(ref.substr(0, 2 * kMaxRefLength)) + (ref.size() > 2 * kMaxRefLength ? "...'" : "'") +
         " is not a valid reference: use 1 to " + std::to_string(kMaxRefLength) +
         " letters, digits and - _ . beginning and ending with a letter or digit, e.g. RR-2026-014";
}

std::optional<std::string> follow_on_ref_problem(std::string_view ref) {
  const auto slash = ref.find('/');
  if (slash == std::string_view::npos) return ref_problem(ref);
  if (auto bad = ref_problem(ref.substr(0, slash))) return bad;
  for (std::string_view rest = ref.substr(slash + 1); !rest.empty();) {
    const auto next = rest.find('/');
    const std::string_view id = rest.substr(0, next);
    const bool ok = !id.empty() && std::islower(static_cast<unsigned char>(id.front())) != 0 &&
                    std::all_of(id.begin(), id.end(), [](char c) {
                      return std::islower(static_cast<unsigned char>(c)) != 0 || std::isdigit(static_cast<unsigned char>(c)) != 0 ||
                             c == '-';
                    });
    if (!ok) return "'" + std::string(ref) + "' is not a follow-on review's reference (PARENT/workflow-id)";
    rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
  }
  return std::nullopt;
}

std::optional<std::string> text_problem(std::string_view text, std::size_t max_chars, std::string_view what) {
  std::size_t chars = 0;
  for (std::size_t at = 0; at < text.size();) {
    auto cp = next_code_point(text, at);
    if (!cp) return std::string(what) + " is not valid UTF-8 text";
    if (*cp < 0x20 || *cp == 0x7F || (*cp >= 0x80 && *cp < 0xA0)) {
      return std::string(what) +
             " holds a control character (a line break, tab, NUL or terminal escape); use plain text on one line";
    }
    ++chars;
  }
  if (chars > max_chars) {
    return std::string(what) + " is longer than " + std::to_string(max_chars) + " characters (" +
           std::to_string(chars) + "); keep it short and non-identifying";
  }
  return std::nullopt;
}

std::optional<std::string> day_problem(const workflows::Calendar& cal, workflows::Day day, workflows::Day today,
                                       std::string_view what) {
  if (day < cal.first_day()) {
    return std::string(what) + " " + workflows::iso(day) + " is before " + workflows::iso(cal.first_day()) +
           ", where the " + cal.id() + " calendar's bank holidays begin; add earlier years to its file to go further back";
  }
  if (day > today + date::days{kDaysAhead}) {
    return std::string(what) + " " + workflows::iso(day) + " is more than ten years ahead";
  }
  return std::nullopt;
}

}  // namespace docket::daemon
