#include "reports/csv.h"

#include <ostream>

namespace docket::reports {

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

CsvWriter::CsvWriter(std::ostream& out) : out_(out) { out_ << "\xEF\xBB\xBF"; }

void CsvWriter::separator() {
  if (!first_) out_ << ',';
  first_ = false;
}

CsvWriter& CsvWriter::text(std::string_view value) {
  separator();
  // OWASP's list: a spreadsheet runs a cell that begins with any of these.
  if (!value.empty() && std::string_view("=+-@\t\r").find(value[0]) != std::string_view::npos) {
    out_ << csv_field("'" + std::string(value));
  } else {
    out_ << csv_field(value);
  }
  return *this;
}

CsvWriter& CsvWriter::raw(std::string_view value) {
  separator();
  out_ << csv_field(value);
  return *this;
}

void CsvWriter::end_row() {
  out_ << "\r\n";
  first_ = true;
}

void CsvWriter::row(const std::vector<std::string>& fields) {
  for (const auto& f : fields) text(f);
  end_row();
}

}  // namespace docket::reports
