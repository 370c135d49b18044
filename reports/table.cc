#include "reports/table.h"

#include <cmath>
#include <cstdio>
#include <ostream>

namespace docket::reports {
namespace {

std::size_t display_width(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;  // count UTF-8 lead bytes
  return n;
}

bool is_number(const Cell& c) { return std::holds_alternative<std::int64_t>(c) || std::holds_alternative<double>(c); }

std::string decimal_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::optional<Format> parse_format(std::string_view text) {
  if (text == "table") return Format::table;
  if (text == "json") return Format::json;
  if (text == "csv") return Format::csv;
  return std::nullopt;
}

std::string cell_text(const Cell& c) {
  if (const auto* s = std::get_if<std::string>(&c)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&c)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&c)) return decimal_text(*d);
  return {};
}

void write_text(std::ostream& out, const Table& t) {
  if (!t.title.empty()) out << t.title << '\n';
  std::vector<std::size_t> width(t.columns.size());
  for (std::size_t i = 0; i < t.columns.size(); ++i) width[i] = display_width(t.columns[i].header);
  std::vector<std::vector<std::string>> cells;
  for (const auto& row : t.rows) {
    auto& texts = cells.emplace_back();
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      std::string s = i < row.size() ? cell_text(row[i]) : std::string{};
      if (s.empty()) s = "-";
      width[i] = std::max(width[i], display_width(s));
      texts.push_back(std::move(s));
    }
  }
  auto line = [&](const std::vector<std::string>& texts, const std::vector<bool>& right) {
    std::string l;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const std::string pad(width[i] - display_width(texts[i]), ' ');
      const bool last = i + 1 == texts.size();
      l += right[i] ? pad + texts[i] : texts[i] + (last ? "" : pad);
      if (!last) l += "  ";
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out << l << '\n';
  };
  std::vector<std::string> headers;
  std::vector<bool> right(t.columns.size(), false);
  for (const auto& row : t.rows) {
    for (std::size_t i = 0; i < row.size() && i < right.size(); ++i) right[i] = right[i] || is_number(row[i]);
  }
  for (const auto& c : t.columns) headers.push_back(c.header);
  line(headers, right);
  for (const auto& texts : cells) line(texts, right);
  for (const auto& n : t.notes) out << n << '\n';
}

void write_csv(CsvWriter& csv, const Table& t) {
  for (const auto& c : t.columns) csv.text(c.key);
  csv.end_row();
  for (const auto& row : t.rows) {
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      const Cell& c = i < row.size() ? row[i] : Cell{};
      if (is_number(c)) {
        csv.raw(cell_text(c));
      } else {
        csv.text(cell_text(c));
      }
    }
    csv.end_row();
  }
}

nlohmann::json to_json(const Table& t) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : t.rows) {
    nlohmann::json o = nlohmann::json::object();
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      const Cell& c = i < row.size() ? row[i] : Cell{};
      nlohmann::json v;
      if (const auto* s = std::get_if<std::string>(&c)) v = *s;
      if (const auto* n = std::get_if<std::int64_t>(&c)) v = *n;
      if (const auto* d = std::get_if<double>(&c)) v = std::round(*d * 10) / 10;
      o[t.columns[i].key] = v;
    }
    rows.push_back(std::move(o));
  }
  return rows;
}

}  // namespace docket::reports
