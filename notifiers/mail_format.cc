#include "notifiers/mail_format.h"

#include <openssl/evp.h>

#include <cstdio>
#include <ctime>
#include <vector>

#include "notifiers/signing.h"

namespace docket::notifiers::mail {

namespace {

constexpr std::size_t line_limit = 78;

bool printable_ascii(char c) { return c >= 0x20 && c <= 0x7e; }

std::string without_controls(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// The length of the UTF-8 sequence starting at s[i] (1 for a stray byte).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
  if (i + n > s.size()) return 1;
  for (std::size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 1;
  }
  return n;
}

// RFC 2047 B-encoded words, each at most 75 characters and each line at most
// 78, never splitting a UTF-8 character between two words.
std::string encoded_words(std::string_view text, std::size_t used) {
  constexpr std::size_t overhead = 12;  // "=?UTF-8?B?" and "?="
  std::string out;
  std::size_t line = used;
  std::size_t i = 0;
  do {
    std::size_t room = line_limit > line + overhead ? line_limit - line - overhead : 4;
    room = std::min<std::size_t>(room, 75 - overhead) / 4 * 4;
    const std::size_t max_bytes = std::max<std::size_t>(room / 4 * 3, 4);
    std::size_t end = i;
    while (end < text.size()) {
      std::size_t n = utf8_length(text, end);
      if (end + n - i > max_bytes && end > i) break;
      end += n;
    }
    std::string word = "=?UTF-8?B?" + base64(text.substr(i, end - i)) + "?=";
    if (i > 0) {
      out += "\r\n ";
      line = 1;
    }
    out += word;
    line += word.size();
    i = end;
  } while (i < text.size());
  return out;
}

bool fits_as_ascii(std::string_view text) {
  std::size_t word = 0;
  for (char c : text) {
    if (!printable_ascii(c)) return false;
    word = c == ' ' ? 0 : word + 1;
    if (word > line_limit - 2) return false;  // could not be folded to fit
  }
  return text.find("=?") == std::string_view::npos;
}

// Printable ASCII folded at spaces to fit the line limit.
std::string folded(std::string_view text, std::size_t used) {
  std::string out;
  std::size_t line = used;
  std::size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    std::size_t space = text.find(' ', start);
    if (space == std::string_view::npos) space = text.size();
    std::string_view word = text.substr(start, space - start);
    if (first) {
      out += word;
      line += word.size();
      first = false;
    } else if (!word.empty() && line + 1 + word.size() > line_limit) {
      out += "\r\n ";
      out += word;
      line = 1 + word.size();
    } else {
      out += ' ';
      out += word;
      line += 1 + word.size();
    }
    start = space + 1;
  }
  return out;
}

}  // namespace

std::string date(std::chrono::system_clock::time_point t) {
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool plain_address(std::string_view address) {
  const auto at = address.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= address.size() || address.size() > 254) return false;
  if (address.find('@', at + 1) != std::string_view::npos) return false;
  for (std::size_t i = 0; i < address.size(); ++i) {
    char c = address[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (letter || c == '@' || c == '.' || c == '-') continue;
    if (i < at && std::string_view("!#$%&'*+/=?^_`{|}~").find(c) != std::string_view::npos) continue;
    return false;
  }
  const auto domain = address.substr(at + 1);
  return domain.front() != '.' && domain.back() != '.' && domain.find("..") == std::string_view::npos &&
         address.substr(0, at).front() != '.' && address[at - 1] != '.';
}

std::string domain_of(std::string_view address) {
  const auto at = address.rfind('@');
  return at == std::string_view::npos ? std::string{} : std::string(address.substr(at + 1));
}

std::string message_id(std::string_view idempotency_key, std::string_view domain) {
  return "<" + sha256_hex(idempotency_key).substr(0, 32) + "@docket." + std::string(domain) + ">";
}

std::string header_text(std::string_view text, std::size_t used) {
  const std::string clean = without_controls(text);
  if (fits_as_ascii(clean)) return folded(clean, used);
  return encoded_words(clean, used);
}

std::string mailbox(std::string_view name, std::string_view address, std::size_t used) {
  const std::string clean = without_controls(name);
  const std::string angle = "<" + std::string(address) + ">";
  if (clean.empty()) return std::string(address);
  std::string phrase;
  if (fits_as_ascii(clean)) {
    phrase = "\"";
    for (char c : clean) {
      if (c == '"' || c == '\\') phrase += '\\';
      phrase += c;
    }
    phrase += '"';
  } else {
    phrase = encoded_words(clean, used);
  }
  const auto last_break = phrase.rfind("\r\n");
  const std::size_t last_line = last_break == std::string::npos ? used + phrase.size() : phrase.size() - last_break - 2;
  return phrase + (last_line + 1 + angle.size() > line_limit ? "\r\n " : " ") + angle;
}

std::string quoted_printable(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    auto line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = nl + 1;
  }
  std::string out;
  for (auto line : lines) {
    std::size_t width = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      const bool last = i + 1 == line.size();
      std::string token;
      if ((c == ' ' || c == '\t') && !last) {
        token = c;
      } else if (c > ' ' && c <= '~' && c != '=') {
        token = c;
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "=%02X", static_cast<unsigned>(static_cast<unsigned char>(c)));
        token = buf;
      }
      // 76 characters at most, counting the '=' of a soft break.
      if (width + token.size() > (last ? 76u : 75u)) {
        out += "=\r\n";
        width = 0;
      }
      out += token;
      width += token.size();
    }
    out += "\r\n";
  }
  return out.empty() ? "\r\n" : out;
}

std::string compose(const Message& message, const Sender& from, std::string_view subject, std::string_view text) {
  std::string m;
  m += "Date: " + date(message.created_at) + "\r\n";
  m += "From: " + mailbox(from.name, from.address, 6) + "\r\n";
  m += "To: " + mailbox(message.to.name, message.to.address, 4) + "\r\n";
  m += "Subject: " + header_text(subject, 9) + "\r\n";
  m += "Message-ID: " + message_id(message.idempotency_key, domain_of(from.address)) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: quoted-printable\r\n";
  m += "Auto-Submitted: auto-generated\r\n";
  m += "\r\n";
  m += quoted_printable(text);
  return m;
}

}  // namespace docket::notifiers::mail
