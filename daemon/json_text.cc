#include "daemon/json_text.h"

#include <cassert>
#include <charconv>

#include <nlohmann/json.hpp>

#include "workflows/json_string.h"

namespace docket::daemon {

void append_json_string(std::string& out, std::string_view s, bool replace_invalid) {
  std::size_t plain = 0;  // the leading run that needs no escaping
  while (plain < s.size()) {
    const auto c = static_cast<unsigned char>(s[plain]);
    if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
    ++plain;
  }
  out += '"';
  out.append(s.data(), plain);
  if (plain == s.size()) {
    out += '"';
    return;
  }
  for (std::size_t i = plain; i < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) >= 0x80) {
      // UTF-8 is checked by nlohmann (and refused when invalid, as before).
      out.resize(out.size() - plain - 1);
      out += nlohmann::json(std::string(s))
                 .dump(-1, ' ', false,
                       replace_invalid ? nlohmann::json::error_handler_t::replace : nlohmann::json::error_handler_t::strict);
      return;
    }
  }
  workflows::append_json_escaped(out, s.substr(plain));
  out += '"';
}

void append_json(std::string& out, const nlohmann::json& j) {
  using nlohmann::json;
  switch (j.type()) {
    case json::value_t::null: out += "null"; return;
    case json::value_t::boolean: out += j.get<bool>() ? "true" : "false"; return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: {
      char buf[24];
      auto [end, ec] = j.is_number_unsigned() ? std::to_chars(buf, buf + sizeof buf, j.get<std::uint64_t>())
                                              : std::to_chars(buf, buf + sizeof buf, j.get<std::int64_t>());
      out.append(buf, end);
      return;
    }
    case json::value_t::string:
      append_json_string(out, j.get_ref<const std::string&>(), true);
      return;
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : j.items()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, k, true);
        out += ':';
        append_json(out, v);
      }
      out += '}';
      return;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& v : j) {
        if (!first) out += ',';
        first = false;
        append_json(out, v);
      }
      out += ']';
      return;
    }
    default:  // floating point, binary, discarded: as nlohmann writes them
      out += j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

void JsonObject::key(std::string_view k) {
  assert(text_.size() == 1 || last_key_ < k);  // sorted, as nlohmann would print them
  last_key_ = k;
  if (text_.size() > 1) text_ += ',';
  append_json_string(text_, k);
  text_ += ':';
}

JsonObject& JsonObject::add(std::string_view k, std::string_view value) {
  key(k);
  append_json_string(text_, value, replace_);
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, std::int64_t value) {
  key(k);
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  text_.append(buf, end);
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, bool value) {
  key(k);
  text_ += value ? "true" : "false";
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, const std::vector<std::string>& values) {
  key(k);
  text_ += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text_ += ',';
    append_json_string(text_, values[i], replace_);
  }
  text_ += ']';
  return *this;
}

JsonObject& JsonObject::add_raw(std::string_view k, std::string_view json) {
  key(k);
  text_ += json;
  return *this;
}

std::string JsonObject::done() {
  text_ += '}';
  return std::move(text_);
}

}  // namespace docket::daemon
