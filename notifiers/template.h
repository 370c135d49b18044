#pragma once
// `{placeholder}` templates for subjects, bodies and webhook documents.
//
//   subject = "{reference}: {stage} due {due_date}"
//
// A placeholder is `{` NAME `}`, NAME made of letters, digits, '_' and '-'.
// Any other `{` is literal text, so a JSON template reads naturally:
// `{"text": "{subject}"}` has one placeholder, `subject`. Every placeholder is
// checked against the names the caller declares when the template is parsed
// (at configuration load), so a misspelt one is an error with its position,
// not an empty gap in a message sent at 3 a.m.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "notifiers/notifier.h"

namespace docket::notifiers {

struct TemplateError {
  std::size_t offset = 0;  // byte offset into the template text
  std::string message;
};

// How placeholder values are written into the output.
enum class Escape {
  none,  // as they are (plain text)
  json,  // as the inside of a JSON string: quotes, backslashes, control characters escaped
};

class Template {
 public:
  Template() = default;

  // Parses `text`; each problem (unknown placeholder, with a did-you-mean;
  // an unclosed `{name`) is appended to `errors`. The result is only
  // meaningful when no error was added.
  static Template parse(std::string_view text, const std::vector<std::string>& allowed,
                        std::vector<TemplateError>& errors);

  // The text with each placeholder replaced by its value. The caller
  // supplies every declared name; a value missing from `values` renders as
  // an empty string.
  std::string render(const Values& values, Escape escape = Escape::none) const;

  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }
  // The distinct placeholder names used, in order of first use.
  std::vector<std::string> placeholders() const;

 private:
  struct Piece {
    bool placeholder = false;
    std::string text;  // literal text, or the placeholder's name
  };
  std::string text_;
  std::vector<Piece> pieces_;
};

// `s` as the inside of a JSON string (RFC 8259): '"', '\\' and control
// characters escaped, DEL too; UTF-8 passes through
// (workflows::append_json_escaped).
std::string json_escape(std::string_view s);

}  // namespace docket::notifiers
