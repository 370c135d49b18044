#include "store/audit_head.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <sstream>
#include <vector>

namespace docket::store {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHeadComment = "# docket audit head: written by docketd; do not edit\n";

bool same_mac(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::optional<std::int64_t> number(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

bool is_hash(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string head_body(const PublishedHead& h) {
  return std::string(kHeadComment) + "seq " + std::to_string(h.seq) + "\nhash " + h.hash + "\nkeyed_from " +
         std::to_string(h.keyed_from) + "\nat " + std::to_string(h.at) + "\nnoticed_at " +
         std::to_string(h.noticed_at) + "\n";
}

std::string verified_body(const VerifiedPoint& p) {
  return "docket audit verified:" + std::to_string(p.seq) + ":" + p.hash + ":" + std::to_string(p.keyed_from);
}

}  // namespace

std::string utc_text(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string head_statement(std::int64_t seq, std::string_view hash, std::int64_t at) {
  return std::to_string(seq) + ":" + std::string(hash) + ":" + utc_text(at);
}

HeadFile read_head_file(const fs::path& file, const AuditKey* key) {
  HeadFile out;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return out;
    out.state = HeadFile::State::bad;
    out.problem = "cannot read " + file.string() + ": " + std::strerror(errno);
    return out;
  }
  std::string all;
  char buf[4096];
  ssize_t n = 0;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && all.size() < 65536) all.append(buf, static_cast<std::size_t>(n));
  const int read_errno = errno;
  ::close(fd);
  if (n < 0) {
    out.state = HeadFile::State::bad;
    out.problem = "cannot read " + file.string() + ": " + std::strerror(read_errno);
    return out;
  }
  out.state = HeadFile::State::bad;
  const auto mac_at = all.rfind("mac ");
  if (mac_at == std::string::npos || (mac_at > 0 && all[mac_at - 1] != '\n')) {
    out.problem = file.string() + " is not a docket audit head file (no mac line)";
    return out;
  }
  const std::string body = all.substr(0, mac_at);
  std::string mac = all.substr(mac_at + 4);
  if (!mac.empty() && mac.back() == '\n') mac.pop_back();
  PublishedHead h;
  bool seen[5] = {};
  std::istringstream lines(body);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.find(' ');
    const std::string name = line.substr(0, space);
    const std::string_view value =
        space == std::string::npos ? std::string_view{} : std::string_view(line).substr(space + 1);
    static const char* const kNames[] = {"seq", "hash", "keyed_from", "at", "noticed_at"};
    int which = -1;
    for (int i = 0; i < 5; ++i) {
      if (name == kNames[i]) which = i;
    }
    std::optional<std::int64_t> v = which == 1 ? std::optional<std::int64_t>(0) : number(value);
    if (which < 0 || seen[which] || !v || (which == 1 && !(is_hash(value) || value.empty()))) {
      out.problem = file.string() + " is garbled: line '" + line + "'";
      return out;
    }
    seen[which] = true;
    switch (which) {
      case 0: h.seq = *v; break;
      case 1: h.hash = std::string(value); break;
      case 2: h.keyed_from = *v; break;
      case 3: h.at = *v; break;
      default: h.noticed_at = *v; break;
    }
  }
  if (!seen[0] || !seen[1] || !seen[2] || !seen[3] || !seen[4] || (h.seq > 0) != !h.hash.empty()) {
    out.problem = file.string() + " is garbled: a line is missing";
    return out;
  }
  out.head = h;
  if (key == nullptr) {
    out.state = HeadFile::State::unauthenticated;
    return out;
  }
  if (!same_mac(key->mac_hex(body), mac)) {
    out.problem = file.string() + " was not written by docketd with this audit key (its MAC is wrong): it was "
                                  "edited, or the key is not the one docketd uses";
    return out;
  }
  out.state = HeadFile::State::authentic;
  return out;
}

void write_head_file(const fs::path& file, const PublishedHead& head, const AuditKey& key) {
  const std::string body = head_body(head);
  write_file_atomically(file, body + "mac " + key.mac_hex(body) + "\n", 0600);
}

void write_file_atomically(const fs::path& file, const std::string& text, unsigned mode) {
  const fs::path staged = file.parent_path() / (file.filename().string() + ".new-" + std::to_string(::getpid()));
  auto fail = [&](const std::string& what) {
    const int e = errno;
    ::unlink(staged.c_str());
    throw StoreError(what + ": " + std::strerror(e));
  };
  const int fd = ::open(staged.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0 || ::fchmod(fd, mode) != 0) fail("cannot create " + staged.string());
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) fail("cannot write " + staged.string());
  if (::rename(staged.c_str(), file.c_str()) != 0) fail("cannot put " + file.string() + " in place");
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    const bool synced = ::fsync(dfd) == 0;
    ::close(dfd);
    if (!synced) fail("cannot sync " + dir.string());
  }
}

std::string verified_point_text(const VerifiedPoint& point, const AuditKey& key) {
  return std::to_string(point.seq) + ":" + point.hash + ":" + std::to_string(point.keyed_from) + ":" +
         key.mac_hex(verified_body(point));
}

std::optional<VerifiedPoint> parse_verified_point(std::string_view text, const AuditKey& key) {
  std::vector<std::string_view> parts;
  for (std::size_t from = 0;;) {
    const auto colon = text.find(':', from);
    parts.push_back(text.substr(from, colon == std::string_view::npos ? std::string_view::npos : colon - from));
    if (colon == std::string_view::npos) break;
    from = colon + 1;
  }
  if (parts.size() != 4) return std::nullopt;
  auto seq = number(parts[0]), keyed_from = number(parts[2]);
  if (!seq || !keyed_from || *seq == 0 || !is_hash(parts[1])) return std::nullopt;
  VerifiedPoint p{*seq, std::string(parts[1]), *keyed_from};
  if (!same_mac(key.mac_hex(verified_body(p)), parts[3])) return std::nullopt;
  return p;
}

}  // namespace docket::store
