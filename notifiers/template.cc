#include "notifiers/template.h"

#include <algorithm>

#include "workflows/diagnostics.h"
#include "workflows/json_string.h"

namespace docket::notifiers {

namespace {
bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}
}  // namespace

Template Template::parse(std::string_view text, const std::vector<std::string>& allowed,
                         std::vector<TemplateError>& errors) {
  Template t;
  t.text_ = std::string(text);
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '{' || i + 1 >= text.size() || !name_char(text[i + 1])) {
      literal += text[i++];
      continue;
    }
    std::size_t end = i + 1;
    while (end < text.size() && name_char(text[end])) ++end;
    std::string name(text.substr(i + 1, end - i - 1));
    if (end >= text.size() || text[end] != '}') {
      errors.push_back({i, "placeholder '{" + name + "' is not closed; write {" + name + "}"});
      literal += text.substr(i, end - i);
      i = end;
      continue;
    }
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      errors.push_back({i, workflows::unknown("placeholder", "{" + name + "}", [&] {
                            std::vector<std::string> braced;
                            for (const auto& a : allowed) braced.push_back("{" + a + "}");
                            return braced;
                          }())});
    }
    if (!literal.empty()) t.pieces_.push_back({false, std::move(literal)});
    literal.clear();
    t.pieces_.push_back({true, std::move(name)});
    i = end + 1;
  }
  if (!literal.empty()) t.pieces_.push_back({false, std::move(literal)});
  return t;
}

std::string Template::render(const Values& values, Escape escape) const {
  std::string out;
  for (const auto& p : pieces_) {
    if (!p.placeholder) {
      out += p.text;
      continue;
    }
    auto it = values.find(p.text);
    if (it == values.end()) continue;
    out += escape == Escape::json ? json_escape(it->second) : it->second;
  }
  return out;
}

std::vector<std::string> Template::placeholders() const {
  std::vector<std::string> out;
  for (const auto& p : pieces_) {
    if (p.placeholder && std::find(out.begin(), out.end(), p.text) == out.end()) out.push_back(p.text);
  }
  return out;
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  workflows::append_json_escaped(out, s, workflows::JsonDel::escape);
  return out;
}

}  // namespace docket::notifiers
