// The `email` channel: one SMTP transaction per message through libcurl.
//
//   [channels.staff-mail]
//   type = "email"
//   host = "smtp.example.org"
//   port = 587                      # default 587 (starttls), 465 (implicit), 25 (none)
//   tls = "starttls"                # default; or "implicit"; "none" only for a loopback relay
//   from = "docket@example.org"
//   from_name = "Safeguarding Partnership"
//   username = "docket"
//   password_file = "/etc/docket/smtp-password"   # or password_env = "DOCKET_SMTP_PASSWORD"
//   connect_timeout = 10            # seconds
//   timeout = 60                    # seconds, the whole transaction
//   ca_file = "/etc/docket/ca.pem"  # optional, instead of the system's trust store
//   helo = "docket.example.org"     # optional EHLO name
//   subject = "{reference}: {stage}"   # optional templates; default the Message's own
//   body = "..."

#include <curl/curl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "notifiers/curl_util.h"
#include "notifiers/factory_base.h"
#include "notifiers/mail_format.h"

namespace docket::notifiers {
namespace {

enum class Tls { starttls, implicit, none };

struct EmailSettings {
  std::string host;
  long port = 587;
  Tls tls = Tls::starttls;
  mail::Sender from;
  std::string helo;
  std::string username;
  detail::Secret password;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{60'000};
  std::string ca_file;
  std::optional<Template> subject;
  std::optional<Template> body;
};

class EmailNotifier final : public Notifier {
 public:
  explicit EmailNotifier(const EmailSettings& s) : s_(s) {}
  Delivery deliver(const Message& message) override;

 private:
  std::string where() const { return "smtp " + s_.host + ":" + std::to_string(s_.port); }
  EmailSettings s_;
};

struct Upload {
  std::string_view data;
  std::size_t sent = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  std::size_t n = std::min(size * count, up->data.size() - up->sent);
  std::memcpy(buffer, up->data.data() + up->sent, n);
  up->sent += n;
  return n;
}

// What the server said: its last reply line and its last refusal (4xx or
// 5xx; the QUIT that follows a refusal must not hide it). Only replies: the
// commands curl sends, AUTH among them, are never kept.
struct Replies {
  std::string last;
  std::string refusal;
  long refusal_code() const { return refusal.size() >= 3 ? std::strtol(refusal.substr(0, 3).c_str(), nullptr, 10) : 0; }
};

int keep_reply(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  if (type != CURLINFO_HEADER_IN) return 0;
  std::string line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.empty()) return 0;
  auto* r = static_cast<Replies*>(user);
  if (line[0] == '4' || line[0] == '5') r->refusal = line;
  r->last = std::move(line);
  return 0;
}

Delivery EmailNotifier::deliver(const Message& message) {
  if (!mail::plain_address(message.to.address)) {
    return {Outcome::permanent, "recipient address '" + message.to.address + "' is not a plain address", {}};
  }
  const Values values = template_values(message);
  const std::string subject = s_.subject ? s_.subject->render(values) : message.subject;
  const std::string text = s_.body ? s_.body->render(values) : message.text;
  const std::string mail = mail::compose(message, s_.from, subject, text);

  detail::Easy easy = detail::new_easy("smtp,smtps");
  CURL* h = easy.get();
  std::string host = s_.host.find(':') != std::string::npos ? "[" + s_.host + "]" : s_.host;
  std::string url = (s_.tls == Tls::implicit ? "smtps://" : "smtp://") + host + ":" + std::to_string(s_.port) + "/" +
                    s_.helo;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(s_.tls == Tls::none ? CURLUSESSL_NONE : CURLUSESSL_ALL));
  if (!s_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, s_.ca_file.c_str());
  if (!s_.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, s_.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, s_.password.reveal().c_str());
  }
  const std::string mail_from = "<" + s_.from.address + ">";
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  detail::List rcpt;
  detail::append(rcpt, "<" + message.to.address + ">");
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
  Upload up{mail};
  curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(h, CURLOPT_READDATA, &up);
  curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(s_.timeout.count()));
  Replies replies;
  curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, keep_reply);
  curl_easy_setopt(h, CURLOPT_DEBUGDATA, &replies);
  curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
  char error_buffer[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);

  const CURLcode rc = curl_easy_perform(h);
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  if (rc == CURLE_OK) return {Outcome::delivered, where() + ": " + replies.last, {}};
  const std::string& said = replies.refusal.empty() ? replies.last : replies.refusal;
  std::string detail = where() + ": " + (said.empty() ? "" : "'" + said + "'; ") + detail::describe(rc, error_buffer);
  if (code < 400 || code >= 600) code = replies.refusal_code();
  // A reply code decides when there is one; otherwise what went wrong does.
  if (code >= 500 && code < 600) return {Outcome::permanent, detail, {}};
  if (code >= 400 && code < 500) return {Outcome::temporary, detail, {}};
  return {detail::classify(rc), detail, {}};
}

// host, tls and port: where the mail goes, and how it is protected.
void read_server(detail::ChannelReader& r, EmailSettings& s) {
  auto host = r.string("host", true, "\"smtp.example.org\"");
  if (host) {
    if (host->find_first_of(" /@") != std::string::npos) {
      r.error(*r.get("host"), "'host' must be a host name or address, not '" + *host + "'");
    }
    s.host = *host;
  }
  const std::vector<std::string> modes{"starttls", "implicit", "none"};  // in Tls's order
  if (auto tls = r.string("tls")) {
    const auto mode = std::find(modes.begin(), modes.end(), *tls);
    if (mode == modes.end()) {
      r.error(*r.get("tls"), workflows::unknown("tls mode", *tls, modes));
    } else {
      s.tls = static_cast<Tls>(mode - modes.begin());
    }
    if (s.tls == Tls::none && host && !detail::is_loopback_host(*host)) {
      r.error(*r.get("tls"), "tls = \"none\" is only for a relay on this machine (127.0.0.1, ::1 or localhost); "
                             "use tls = \"starttls\" or \"implicit\" for '" + *host + "'");
    }
  }
  s.port = s.tls == Tls::implicit ? 465 : s.tls == Tls::none ? 25 : 587;
  if (auto port = r.integer("port")) {
    if (*port < 1 || *port > 65535) {
      r.error(*r.get("port"), "'port' must be between 1 and 65535");
    } else {
      s.port = static_cast<long>(*port);
    }
  }
}

// from, from_name and helo: who the mail says it comes from.
void read_sender(detail::ChannelReader& r, EmailSettings& s) {
  if (auto from = r.string("from", true, "\"docket@example.org\"")) {
    if (!mail::plain_address(*from)) {
      r.error(*r.get("from"), "'from' must be a plain address such as \"docket@example.org\", not '" + *from + "'");
    }
    s.from.address = *from;
  }
  s.from.name = r.string("from_name").value_or("");
  if (auto helo = r.string("helo")) {
    if (helo->find_first_of(" /\r\n") != std::string::npos || helo->empty()) {
      r.error(*r.get("helo"), "'helo' must be this machine's host name, e.g. helo = \"docket.example.org\"");
    }
    s.helo = *helo;
  }
}

// username, with its password from password_file or password_env (never
// password itself).
void read_login(detail::ChannelReader& r, EmailSettings& s) {
  r.forbid("password", "a password never goes into the configuration; put it in a file readable only by "
                       "docketd and write password_file = \"/etc/docket/smtp-password\", or name an environment "
                       "variable with password_env = \"DOCKET_SMTP_PASSWORD\"");
  const toml::node* password_file = r.get("password_file");
  const toml::node* password_env = r.get("password_env");
  if (auto user = r.string("username")) {
    s.username = *user;
    if (password_file != nullptr && password_env != nullptr) {
      r.error(*password_env, "give either 'password_file' or 'password_env', not both");
    } else if (password_file != nullptr) {
      if (auto p = r.secret_file("password_file")) s.password = *p;
    } else if (password_env != nullptr) {
      if (auto p = r.secret_env("password_env")) s.password = *p;
    } else {
      r.error(*r.get("username"), "'username' needs a password: add password_file = \"/etc/docket/smtp-password\" "
                                  "or password_env = \"DOCKET_SMTP_PASSWORD\"");
    }
    if (s.tls == Tls::none) {
      r.error(*r.get("username"), "'username' with tls = \"none\" would send the password in clear; "
                                  "use tls = \"starttls\" or \"implicit\"");
    }
  } else {
    for (const toml::node* n : {password_file, password_env}) {
      if (n != nullptr) r.error(*n, "a password without 'username' is never used; add username = \"...\"");
    }
  }
}

class EmailFactory final : public FactoryBase<EmailSettings> {
 public:
  std::string name() const override { return "email"; }

 private:
  EmailSettings validate_typed(detail::ChannelReader& r) const override {
    EmailSettings s;
    read_server(r, s);
    read_sender(r, s);
    read_login(r, s);
    s.connect_timeout = r.seconds("connect_timeout", s.connect_timeout);
    s.timeout = r.seconds("timeout", s.timeout);
    if (auto ca = r.file("ca_file")) s.ca_file = ca->string();
    s.subject = r.templ("subject");
    s.body = r.templ("body");
    return s;
  }

  std::unique_ptr<Notifier> create_typed(const EmailSettings& settings, const Services&) const override {
    return std::make_unique<EmailNotifier>(settings);
  }
};

}  // namespace

std::unique_ptr<Factory> make_email_factory() { return std::make_unique<EmailFactory>(); }

}  // namespace docket::notifiers
