#pragma once
// The one CSV writer behind every `--format csv` (audit, reports).
//
// RFC 4180: fields separated by commas; a field holding a comma, a double
// quote, CR or LF is quoted and its quotes doubled; every record, the last
// included, ends in CRLF. Text is UTF-8 and the output starts with a UTF-8
// byte order mark: Excel opens a CSV without one in the machine's legacy
// code page, so "Telford & Wrekin's" survives but an en dash or an accented
// name comes out garbled; with the BOM it opens as UTF-8, and LibreOffice
// and Python's csv module (encoding "utf-8-sig") read it too. Dates are ISO
// 8601 (2026-03-23), which spreadsheets recognise.
//
// A text field that begins with =, +, - or @ would be taken by a spreadsheet
// for a formula (a meeting's reference "@executive/2026-06-09", or a reason
// someone typed as "=HYPERLINK(...)"), so it is written with a leading
// apostrophe, the usual guard against formula injection. Numbers are written
// as they are.

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace docket::reports {

// One field as RFC 4180 writes it (quoted only when it must be).
std::string csv_field(std::string_view text);

class CsvWriter {
 public:
  // Writes the byte order mark at once.
  explicit CsvWriter(std::ostream& out);

  // A text field (guarded against formulas, then quoted as needed).
  CsvWriter& text(std::string_view value);
  // A field written as it is (numbers, ISO dates).
  CsvWriter& raw(std::string_view value);
  // Ends the record with CRLF.
  void end_row();

  void row(const std::vector<std::string>& fields);

 private:
  void separator();

  std::ostream& out_;
  bool first_ = true;
};

}  // namespace docket::reports
