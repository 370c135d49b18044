// The one CSV writer: RFC 4180 quoting, CRLF, a UTF-8 byte order mark, and
// the guard against spreadsheet formulas; and the table model's renderings.

#include <gtest/gtest.h>

#include <sstream>

#include "reports/csv.h"
#include "reports/table.h"

namespace docket::reports {
namespace {

const std::string kBom = "\xEF\xBB\xBF";

TEST(Csv, FieldsAreQuotedOnlyWhenTheyMustBe) {
  EXPECT_EQ(csv_field("RR-2026-014"), "RR-2026-014");
  EXPECT_EQ(csv_field("a, b"), "\"a, b\"");
  EXPECT_EQ(csv_field("say \"no\""), "\"say \"\"no\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("Telford & Wrekin – “quoted”"), "Telford & Wrekin – “quoted”") << "UTF-8 passes through";
}

TEST(Csv, RowsEndInCrlfAfterAByteOrderMark) {
  std::ostringstream out;
  CsvWriter csv(out);
  csv.row({"ref", "reason"});
  csv.row({"RR-1", "criminal proceedings, \"R v X\"\nsecond line"});
  csv.text("").raw("42");
  csv.end_row();
  EXPECT_EQ(out.str(), kBom + "ref,reason\r\nRR-1,\"criminal proceedings, \"\"R v X\"\"\nsecond line\"\r\n,42\r\n");
}

TEST(Csv, TextThatASpreadsheetWouldRunAsAFormulaIsGuarded) {
  std::ostringstream out;
  CsvWriter csv(out);
  csv.row({"@executive/2026-06-09", "=HYPERLINK(\"x\")", "+1", "-1", "a=b", "\t=1", "\r=1"});
  csv.raw("-3");
  csv.end_row();
  EXPECT_EQ(out.str(), kBom + "'@executive/2026-06-09,\"'=HYPERLINK(\"\"x\"\")\",'+1,'-1,a=b,'\t=1,\"'\r=1\"\r\n-3\r\n");
}

TEST(Table, TheSameFiguresInEveryFormat) {
  Table t;
  t.title = "Example";
  t.columns = {{"workflow", "workflow"}, {"fell_due", "fell due"}, {"median", "median late"}, {"note", "note"}};
  t.add({std::string("rapid-review"), std::int64_t{12}, 3.5, std::monostate{}});
  t.add({std::string("sar, adults"), std::int64_t{3}, std::monostate{}, std::string("x")});
  t.notes.push_back("a note");

  std::ostringstream text;
  write_text(text, t);
  EXPECT_EQ(text.str(),
            "Example\n"
            "workflow      fell due  median late  note\n"
            "rapid-review        12          3.5  -\n"
            "sar, adults          3            -  x\n"
            "a note\n");

  std::ostringstream out;
  CsvWriter csv(out);
  write_csv(csv, t);
  EXPECT_EQ(out.str(), kBom + "workflow,fell_due,median,note\r\nrapid-review,12,3.5,\r\n\"sar, adults\",3,,x\r\n");

  auto j = to_json(t);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["fell_due"], 12);
  EXPECT_EQ(j[0]["median"], 3.5);
  EXPECT_TRUE(j[0]["note"].is_null());
  EXPECT_EQ(j[1]["workflow"], "sar, adults");
}

TEST(Table, WidthsCountCharactersNotBytes) {
  Table t;
  t.columns = {{"a", "a"}, {"b", "b"}};
  t.add({std::string("é–é"), std::string("x")});
  t.add({std::string("abc"), std::string("y")});
  std::ostringstream text;
  write_text(text, t);
  EXPECT_EQ(text.str(), "a    b\né–é  x\nabc  y\n");
}

TEST(Table, FormatNames) {
  EXPECT_EQ(parse_format("csv"), Format::csv);
  EXPECT_EQ(parse_format("json"), Format::json);
  EXPECT_EQ(parse_format("table"), Format::table);
  EXPECT_EQ(parse_format("xlsx"), std::nullopt);
}

}  // namespace
}  // namespace docket::reports
