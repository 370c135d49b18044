#include "workflows/toml_reader.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace docket::workflows::detail {
namespace fs = std::filesystem;

namespace {

// toml++ words some common mistakes for parser writers; say them plainly.
std::string plain_toml_error(const std::string& d) {
  if (d.find("unescaped control characters") != std::string::npos) {
    return "a string is not closed: add the closing quote on the same line";
  }
  if (auto k = d.find("cannot redefine existing "); k != std::string::npos) {
    auto q = d.find('\'', k);
    std::string name = q == std::string::npos ? std::string{} : " " + d.substr(q);
    return "a key or table is set twice:" + name + "; each key may appear once in its table";
  }
  return d;
}

}  // namespace

std::optional<ParsedFile> parse_text(const std::string& rel, std::string text, Diagnostics& diags) {
  ParsedFile f{rel, std::move(text), {}};
  try {
    f.table = toml::parse(f.text, rel);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    diags.error({rel, b.line, b.column}, "TOML syntax error: " + plain_toml_error(std::string(e.description())));
    return std::nullopt;
  }
  return f;
}

std::optional<ParsedFile> parse_file(const fs::path& dir, const std::string& rel, Diagnostics& diags) {
  std::ifstream in(dir / rel, std::ios::binary);
  if (!in) {
    diags.error({rel, 0, 0}, "cannot read the file");
    return std::nullopt;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_text(rel, buf.str(), diags);
}

std::vector<std::string> toml_files_in(const fs::path& dir, const std::string& sub) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir / sub, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".toml") {
      out.push_back(sub + "/" + entry.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string stem(const std::string& rel) { return fs::path(rel).stem().string(); }

SourcePos position(const std::string& file, const toml::node& n) {
  const auto& b = n.source().begin;
  return {file, b.line, b.column};
}

Reader::Reader(const toml::table& table, std::string file, Diagnostics& diags, std::string what)
    : table_(table), file_(std::move(file)), diags_(diags), what_(std::move(what)) {}

SourcePos Reader::pos(const toml::node& n) const { return position(file_, n); }

SourcePos Reader::pos_in(const toml::node& n, std::size_t offset) const {
  SourcePos p = pos(n);
  if (p.line > 0) p.column += static_cast<std::uint32_t>(offset + 1);  // +1 for the opening quote
  return p;
}

const toml::node* Reader::get(std::string_view key) {
  known_.emplace(key);
  return table_.get(key);
}

void Reader::known(std::initializer_list<std::string_view> keys) {
  for (auto k : keys) known_.emplace(k);
}

std::string Reader::type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    default: return "nothing";
  }
}

bool Reader::valid_id(std::string_view s) {
  if (s.empty() || s.size() > 64 || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return s.back() != '-';
}

std::optional<std::string> Reader::string(std::string_view key, bool required, std::string_view example) {
  const toml::node* n = get(key);
  std::string hint = example.empty() ? std::string{} : ", e.g. " + std::string(key) + " = " + std::string(example);
  if (n == nullptr) {
    if (required) diags_.error(pos(), what_ + " has no '" + std::string(key) + "'" + hint);
    return std::nullopt;
  }
  if (const auto* s = n->as_string()) {
    if (required && s->get().empty()) {
      error(*n, "'" + std::string(key) + "' must not be empty" + hint);
      return std::nullopt;
    }
    return s->get();
  }
  error(*n, "'" + std::string(key) + "' must be a string, found " + type_name(*n) + hint);
  return std::nullopt;
}

std::optional<std::string> Reader::id(std::string_view key, bool required) {
  auto s = string(key, required);
  if (s && !valid_id(*s)) {
    error(*get(key), "'" + *s + "' is not a valid " + std::string(key) +
                         ": use lowercase letters, digits and hyphens, starting with a letter");
    return std::nullopt;
  }
  return s;
}

std::optional<bool> Reader::boolean(std::string_view key) {
  const toml::node* n = get(key);
  if (n == nullptr) return std::nullopt;
  if (const auto* b = n->as_boolean()) return b->get();
  error(*n, "'" + std::string(key) + "' must be true or false, found " + type_name(*n));
  return std::nullopt;
}

std::optional<std::int64_t> Reader::integer(std::string_view key, bool required) {
  const toml::node* n = get(key);
  if (n == nullptr) {
    if (required) diags_.error(pos(), what_ + " has no '" + std::string(key) + "'");
    return std::nullopt;
  }
  if (const auto* i = n->as_integer()) return i->get();
  error(*n, "'" + std::string(key) + "' must be a whole number, found " + type_name(*n));
  return std::nullopt;
}

std::optional<std::int64_t> Reader::integer_in(std::string_view key, std::int64_t low, std::int64_t high) {
  auto v = integer(key);
  if (v && (*v < low || *v > high)) {
    error(*get(key), "'" + std::string(key) + "' must be a whole number from " + std::to_string(low) + " to " +
                         std::to_string(high) + ", found " + std::to_string(*v));
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<std::string>> Reader::strings(std::string_view key) {
  const toml::node* n = get(key);
  if (n == nullptr) return std::nullopt;
  if (const auto* s = n->as_string()) return std::vector<std::string>{s->get()};
  const auto* arr = n->as_array();
  if (arr == nullptr) {
    error(*n, "'" + std::string(key) + "' must be a list of strings, found " + type_name(*n));
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  for (const auto& item : *arr) {
    if (const auto* s = item.as_string()) {
      out.push_back(s->get());
    } else {
      error(item, "'" + std::string(key) + "' must list strings only, found " + type_name(item));
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

std::optional<Duration> Reader::duration(std::string_view key, bool required, bool positive) {
  auto text = string(key, required, "\"2 working days\"");
  if (!text) return std::nullopt;
  const toml::node& n = *get(key);
  auto parsed = parse_duration(*text);
  if (auto* e = std::get_if<ParseError>(&parsed)) {
    diags_.error(pos_in(n, e->offset), e->message);
    return std::nullopt;
  }
  Duration d = std::get<Duration>(parsed);
  if (positive && d.count == 0) {
    error(n, "'" + std::string(key) + "' must be at least 1 " + to_string(Duration{1, d.unit}).substr(2));
    return std::nullopt;
  }
  return d;
}

std::optional<DueRule> Reader::due(std::string_view key, bool required) {
  auto text = string(key, required, "\"15 working days after start\"");
  if (!text) return std::nullopt;
  auto parsed = parse_due(*text);
  if (auto* e = std::get_if<ParseError>(&parsed)) {
    diags_.error(pos_in(*get(key), e->offset), e->message);
    return std::nullopt;
  }
  return std::get<DueRule>(parsed);
}

const toml::table* Reader::subtable(std::string_view key) {
  const toml::node* n = get(key);
  if (n == nullptr) return nullptr;
  if (const auto* t = n->as_table()) return t;
  error(*n, "'" + std::string(key) + "' must be a table, found " + type_name(*n));
  return nullptr;
}

const toml::array* Reader::array(std::string_view key) {
  const toml::node* n = get(key);
  if (n == nullptr) return nullptr;
  if (const auto* a = n->as_array()) return a;
  error(*n, "'" + std::string(key) + "' must be an array, found " + type_name(*n));
  return nullptr;
}

void Reader::finish() {
  std::vector<std::string> candidates(known_.begin(), known_.end());
  for (auto&& [k, v] : table_) {
    std::string key(k.str());
    if (known_.count(key) > 0) continue;
    const auto& b = k.source().begin;
    SourcePos where{file_, b.line, b.column};
    if (where.line == 0) where = pos(v);
    std::string suggestion = did_you_mean(key, candidates);
    diags_.error(where, "unknown key '" + key + "' in " + what_ +
                            (suggestion.empty() ? "; expected one of: " + one_of(candidates) : suggestion));
  }
}

}  // namespace docket::workflows::detail
