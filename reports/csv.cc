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
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '-' || value[0] == '@')) {
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
