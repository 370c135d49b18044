#include "daemon/json_text.h"

#include "daemon/commands.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace docket::daemon {
namespace {

using nlohmann::json;

TEST(JsonText, MatchesNlohmannDumpForTheSameObject) {
  const std::string awkward = std::string("quote \" back \\ tab \t nl \n cr \r bs \b ff \f nul ") + '\0' +
                              " unit \x1f del \x7f slash / end";
  const std::vector<std::string> roles{"executive-chair", "a \"b\"", ""};
  const std::string text = JsonObject{}
                               .add("after", "2 working days overdue")
                               .add("awkward", awkward)
                               .add("count", -42)
                               .add("empty", std::vector<std::string>{})
                               .add("late", true)
                               .add("more", static_cast<std::int64_t>(1) << 40)
                               .add("no", false)
                               .add("to", roles)
                               .add("utf8", "Caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x85")
                               .done();
  const json same{{"after", "2 working days overdue"}, {"awkward", awkward}, {"count", -42},
                  {"empty", json::array()},          {"late", true},       {"more", static_cast<std::int64_t>(1) << 40},
                  {"no", false},                     {"to", roles},        {"utf8", "Caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x93\x85"}};
  EXPECT_EQ(text, same.dump());
  EXPECT_EQ(JsonObject{}.done(), json::object().dump());
  EXPECT_EQ(JsonObject{}.add("a", "tab\t then Caf\xc3\xa9").done(), json({{"a", "tab\t then Caf\xc3\xa9"}}).dump());
  EXPECT_EQ(JsonObject{}.add_raw("assign", "{\"a\":\"b\"}").add("x", 1).done(),
            json({{"assign", {{"a", "b"}}}, {"x", 1}}).dump());
}

TEST(JsonText, RefusesInvalidUtf8AsDumpDoes) {
  EXPECT_THROW(JsonObject{}.add("bad", "\xff\xfe"), json::type_error);
}

TEST(JsonText, RepliesAreWrittenAsDumpWithReplacementWrote) {
  json data = json::parse(R"({"ref": "RR-1", "n": -3, "u": 18446744073709551615, "f": 1.5, "e": 1e300,
                              "none": null, "yes": true, "list": [1, "two", [], {}], "deep": {"b": {"a": [false]}},
                              "text": "caf\u00e9 \" \\ \n \u0001"})");
  data["bad"] = std::string("bad \xff utf8");
  for (const json& id : {json(7), json("seven"), json(nullptr), json::array({1, 2})}) {
    for (const Result& r : {Result{true, "", data}, Result::fail("no review \"x\" \xfe here")}) {
      json j{{"id", id}, {"ok", r.ok}};
      if (r.ok) j["result"] = r.data;
      else j["error"] = r.error;
      EXPECT_EQ(reply_line(id, r), j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
    }
  }
}

}  // namespace
}  // namespace docket::daemon
