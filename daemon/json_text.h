#pragma once
// Small JSON objects written straight to text, for the hot paths: outbox
// payloads and audit details, written for every reminder and escalation.
// Building an nlohmann::json (a std::map of heap nodes) and dumping it cost
// more than the rest of firing a deadline.
//
// The text is byte for byte what nlohmann's dump() gives for the same object,
// so stored payloads and hashed audit details do not change: keys must be
// added in sorted order (nlohmann keeps them in a std::map), which debug
// builds assert, and strings are escaped as dump() escapes them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace docket::daemon {

class JsonObject {
 public:
  // Invalid UTF-8 in a value throws (strict), or becomes U+FFFD (replace,
  // as in replies to commands).
  enum class Utf8 { strict, replace };
  explicit JsonObject(Utf8 utf8 = Utf8::strict) : text_("{"), replace_(utf8 == Utf8::replace) {}

  JsonObject& add(std::string_view key, std::string_view value);
  JsonObject& add(std::string_view key, const std::string& value) { return add(key, std::string_view(value)); }
  JsonObject& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  JsonObject& add(std::string_view key, std::int64_t value);
  JsonObject& add(std::string_view key, int value) { return add(key, static_cast<std::int64_t>(value)); }
  JsonObject& add(std::string_view key, bool value);
  JsonObject& add(std::string_view key, const std::vector<std::string>& values);
  // A value already written as JSON text (a nested object).
  JsonObject& add_raw(std::string_view key, std::string_view json);

  // The object's text; the object is spent.
  std::string done();

 private:
  void key(std::string_view k);

  std::string text_;
  bool replace_ = false;
  std::string_view last_key_;  // keys are literals or outlive the object
};

// `s` as a JSON string, quoted and escaped as nlohmann's dump() does. With
// `replace_invalid`, invalid UTF-8 becomes U+FFFD (dump's
// error_handler_t::replace) instead of throwing.
void append_json_string(std::string& out, std::string_view s, bool replace_invalid = false);

// `j` as compact text, byte for byte j.dump(-1, ' ', false,
// error_handler_t::replace), which allocated on every value. Replies to
// commands are written with it.
void append_json(std::string& out, const nlohmann::json& j);

}  // namespace docket::daemon
