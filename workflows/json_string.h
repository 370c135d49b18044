#pragma once
// JSON string escaping, written once for the two places that write JSON
// text by hand: the daemon's hot-path objects (daemon/json_text.h), which
// must match nlohmann's dump() byte for byte, and the webhook's templates
// (notifiers/template.h). Header-only, so every part of docket can reach it.

#include <string>
#include <string_view>

namespace docket::workflows {

// Whether U+007F (DEL) is escaped too. nlohmann's dump() leaves it as it is;
// a webhook template escapes it, so that no invisible character reaches a
// receiver.
enum class JsonDel { keep, escape };

// Appends `s` as the inside of a JSON string (no quotes): the quotation mark
// and reverse solidus escaped, and the control characters as dump() escapes
// them, \b \f \n \r \t or else \u00XX in lowercase hex. Every other byte is
// copied, so UTF-8 passes through unchecked.
inline void append_json_escaped(std::string& out, std::string_view s, JsonDel del = JsonDel::keep) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || (u == 0x7f && del == JsonDel::escape)) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 0xF];
        } else {
          out += c;
        }
      }
    }
  }
}

}  // namespace docket::workflows
