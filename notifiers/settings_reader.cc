#include "notifiers/settings_reader.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace docket::notifiers::detail {

ChannelReader::ChannelReader(const toml::table& table, const SettingsContext& context, Diagnostics& diags)
    : Reader(table, context.file, diags, "channel '" + context.channel + "'"), context_(context) {
  known({"type"});
}

ChannelReader::ChannelReader(const toml::table& table, const SettingsContext& context, Diagnostics& diags,
                             std::string what)
    : Reader(table, context.file, diags, std::move(what)), context_(context) {}

std::chrono::milliseconds ChannelReader::seconds(std::string_view key, std::chrono::milliseconds fallback) {
  const toml::node* n = get(key);
  if (n == nullptr) return fallback;
  std::optional<double> value;
  if (const auto* i = n->as_integer()) value = static_cast<double>(i->get());
  if (const auto* f = n->as_floating_point()) value = f->get();
  if (!value || !std::isfinite(*value) || *value <= 0 || *value > 600) {
    error(*n, "'" + std::string(key) + "' must be a number of seconds above 0 and at most 600, e.g. " +
                  std::string(key) + " = 10");
    return fallback;
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(*value * 1000)));
}

std::optional<std::filesystem::path> ChannelReader::file(std::string_view key) {
  auto text = string(key, false);
  if (!text) return std::nullopt;
  const toml::node& n = *get(key);
  if (text->empty()) {
    error(n, "'" + std::string(key) + "' must not be empty");
    return std::nullopt;
  }
  std::filesystem::path p(*text);
  if (p.is_relative()) p = context_.dir / p;
  errno = 0;
  std::ifstream in(p, std::ios::binary);
  if (!in || std::filesystem::is_directory(p)) {
    error(n, "'" + std::string(key) + "' names '" + p.string() + "', which cannot be read" +
                 (errno != 0 ? std::string(": ") + std::strerror(errno) : std::string{}));
    return std::nullopt;
  }
  return p;
}

std::optional<Secret> ChannelReader::secret_file(std::string_view key) {
  auto p = file(key);
  if (!p) return std::nullopt;
  std::ifstream in(*p, std::ios::binary);
  std::string line;
  std::getline(in, line);
  auto first = line.find_first_not_of(" \t\r");
  auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos) {
    error(*get(key), "'" + std::string(key) + "' names '" + p->string() + "', whose first line is empty");
    return std::nullopt;
  }
  return Secret(line.substr(first, last - first + 1));
}

std::optional<Secret> ChannelReader::secret_env(std::string_view key) {
  auto name = string(key, false);
  if (!name) return std::nullopt;
  const char* value = std::getenv(name->c_str());
  if (value == nullptr || *value == '\0') {
    error(*get(key), "'" + std::string(key) + "' names the environment variable '" + *name +
                         "', which is not set (or empty) in docketd's environment");
    return std::nullopt;
  }
  return Secret(value);
}

std::optional<Template> ChannelReader::templ(std::string_view key) {
  auto text = string(key, false);
  if (!text) return std::nullopt;
  const toml::node& n = *get(key);
  std::vector<std::string> allowed = context_.placeholders;
  for (const auto& b : builtin_placeholders()) {
    if (std::find(allowed.begin(), allowed.end(), b) == allowed.end()) allowed.push_back(b);
  }
  std::vector<TemplateError> errors;
  Template t = Template::parse(*text, allowed, errors);
  for (const auto& e : errors) diags().error(pos_in_string(n, e.offset), e.message + " in '" + std::string(key) + "'");
  if (!errors.empty()) return std::nullopt;
  return t;
}

void ChannelReader::forbid(std::string_view key, const std::string& why) {
  if (const toml::node* n = get(key)) error(*n, "'" + std::string(key) + "' is not allowed here: " + why);
}

workflows::SourcePos ChannelReader::pos_in_string(const toml::node& n, std::size_t offset) const {
  workflows::SourcePos p = pos(n);
  const auto* s = n.as_string();
  if (p.line == 0 || s == nullptr) return p;
  const std::string& v = s->get();
  const auto& src = n.source();
  const auto newlines = static_cast<std::uint32_t>(std::count(v.begin(), v.end(), '\n'));
  std::uint32_t line = p.line;
  std::uint32_t column = p.column + 1;  // after the opening quote
  if (src.end.line > src.begin.line) {
    column = p.column + 3;  // after """ or '''
    // TOML drops a newline right after the opening delimiter.
    if (src.end.line - src.begin.line == newlines + 1) {
      ++line;
      column = 1;
    }
  }
  offset = std::min(offset, v.size());
  const auto before = std::string_view(v).substr(0, offset);
  const auto last_nl = before.rfind('\n');
  if (last_nl == std::string_view::npos) return {p.file, line, column + static_cast<std::uint32_t>(offset)};
  line += static_cast<std::uint32_t>(std::count(before.begin(), before.end(), '\n'));
  return {p.file, line, static_cast<std::uint32_t>(offset - last_nl)};
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

}  // namespace docket::notifiers::detail
