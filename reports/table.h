#pragma once
// A report as data, and its three renderings: an aligned text table for
// people, CSV for spreadsheets (through CsvWriter) and JSON for programs.
// Every `docket audit` and `docket report` answer is one or more Tables, so
// the three formats always carry the same figures.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "reports/csv.h"

namespace docket::reports {

enum class Format { table, json, csv };

// "table", "json" or "csv"; nullopt otherwise.
std::optional<Format> parse_format(std::string_view text);

struct Column {
  std::string key;     // JSON key and CSV header, snake_case
  std::string header;  // the text table's heading
};

// Empty, text, a whole number, or a fraction (a median, a percentage:
// written with one decimal).
using Cell = std::variant<std::monostate, std::string, std::int64_t, double>;

struct Table {
  std::string title;                // printed above the text table
  std::vector<Column> columns;
  std::vector<std::vector<Cell>> rows;
  std::vector<std::string> notes;   // printed below the text table: what the figures mean

  void add(std::vector<Cell> row) { rows.push_back(std::move(row)); }
};

// Columns padded to their widest cell (counted in characters, not bytes);
// numbers right-aligned; an empty cell shows as "-".
void write_text(std::ostream& out, const Table& t);
// The header row (column keys), then one record per row.
void write_csv(CsvWriter& csv, const Table& t);
// An array of objects keyed by column; an empty cell is null.
nlohmann::json to_json(const Table& t);

std::string cell_text(const Cell& c);

}  // namespace docket::reports
