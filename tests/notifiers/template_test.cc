// Templates: rendering, load-time checking of placeholders, JSON escaping.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "notifiers/template.h"

namespace docket::notifiers {
namespace {

const std::vector<std::string> allowed{"reference", "stage", "due_date", "subject"};

TEST(Template, RendersEachPlaceholderAndKeepsOtherBraces) {
  std::vector<TemplateError> errors;
  auto t = Template::parse(R"({"text": "{reference}: {stage} due {due_date}", "n": {}})", allowed, errors);
  ASSERT_TRUE(errors.empty()) << errors[0].message;
  EXPECT_EQ(t.render({{"reference", "RR-2026-014"}, {"stage", "publish"}, {"due_date", "5 March 2026"}}),
            R"({"text": "RR-2026-014: publish due 5 March 2026", "n": {}})");
  EXPECT_EQ(t.placeholders(), (std::vector<std::string>{"reference", "stage", "due_date"}));
}

TEST(Template, MissingValueRendersEmpty) {
  std::vector<TemplateError> errors;
  auto t = Template::parse("[{reference}]", allowed, errors);
  EXPECT_EQ(t.render({}), "[]");
}

TEST(Template, UnknownPlaceholderIsAnErrorAtItsOffsetWithASuggestion) {
  std::vector<TemplateError> errors;
  Template::parse("Due {due_date} for {refrence} and {zzz}", allowed, errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].offset, 19u);
  EXPECT_NE(errors[0].message.find("unknown placeholder '{refrence}', did you mean '{reference}'?"), std::string::npos)
      << errors[0].message;
  EXPECT_EQ(errors[1].offset, 34u);
  EXPECT_NE(errors[1].message.find("{subject}"), std::string::npos) << "lists what is allowed: " << errors[1].message;
}

TEST(Template, UnclosedPlaceholderIsAnError) {
  std::vector<TemplateError> errors;
  Template::parse("Due {due_date soon", allowed, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].offset, 4u);
  EXPECT_NE(errors[0].message.find("not closed"), std::string::npos);
}

TEST(Template, JsonEscapingKeepsTheDocumentValid) {
  std::vector<TemplateError> errors;
  auto t = Template::parse(R"({"text": "{subject}"})", allowed, errors);
  const std::string nasty = "R\xC3\xA9view \"quoted\" back\\slash\nnew line\ttab \x01 end";
  const std::string doc = t.render({{"subject", nasty}}, Escape::json);
  auto parsed = nlohmann::json::parse(doc);
  EXPECT_EQ(parsed["text"], nasty);
}

TEST(Template, JsonEscape) {
  EXPECT_EQ(json_escape("a\"b\\c\n\x1f\xC3\xA9"), "a\\\"b\\\\c\\n\\u001f\xC3\xA9");
}

}  // namespace
}  // namespace docket::notifiers
