// The `webhook` channel: an HTTP(S) POST of a JSON document, signed.
//
//   [channels.teams]
//   type = "webhook"
//   url_file = "/etc/docket/teams-url"   # or url = "https://hooks.example.org/docket"
//   secret_file = "/etc/docket/webhook-secret"
//   connect_timeout = 10
//   timeout = 30
//   ca_file = "/etc/docket/ca.pem"
//   template = '{"text": "{subject}\n\n{body}"}'
//
// Without `template` the body is the Message's JSON, or a generic document
// made from the Message. Placeholder values are JSON-escaped; a template must
// put them inside strings. Plain http:// only to a receiver on this machine.
// `secret_file` is optional but recommended: without it no X-Docket-Signature
// is sent. Teams and Slack incoming webhooks ignore the signature and trust
// the secret in their URL instead, so give theirs with `url_file`.

#include <curl/curl.h>
#include <curl/urlapi.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "notifiers/curl_util.h"
#include "notifiers/factory_base.h"
#include "notifiers/signing.h"

namespace docket::notifiers {
namespace {

struct WebhookSettings {
  detail::Secret url;  // may carry a token (Teams, Slack): never shown
  std::string shown;   // scheme://host:port, for details and logs
  detail::Secret secret;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds timeout{30'000};
  std::string ca_file;
  std::optional<Template> body;
};

class WebhookNotifier final : public Notifier {
 public:
  WebhookNotifier(const WebhookSettings& s, const Services& services) : s_(s), clock_(services.wall_clock) {
    if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
  }
  Delivery deliver(const Message& message) override;

 private:
  std::string document(const Message& message) const;
  WebhookSettings s_;
  std::function<std::chrono::system_clock::time_point()> clock_;
};

std::string WebhookNotifier::document(const Message& m) const {
  if (s_.body) return s_.body->render(template_values(m), Escape::json);
  if (m.json) return *m.json;
  nlohmann::json doc{
      {"idempotency_key", m.idempotency_key},
      {"to", {{"address", m.to.address}, {"name", m.to.name}}},
      {"subject", m.subject},
      {"text", m.text},
      {"created_at", std::chrono::duration_cast<std::chrono::seconds>(m.created_at.time_since_epoch()).count()},
      {"fields", m.fields},
  };
  return doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct Response {
  std::string body;  // the first bytes only
};

std::size_t keep_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* r = static_cast<Response*>(user);
  const std::size_t n = size * count;
  if (r->body.size() < 200) r->body.append(data, std::min(n, 200 - r->body.size()));
  return n;
}

// The receiver's Retry-After, in seconds or as an HTTP-date (libcurl reads
// both), if it sent one.
std::optional<std::chrono::seconds> retry_after(CURL* h) {
  curl_off_t seconds = 0;
  if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &seconds) != CURLE_OK || seconds <= 0) return std::nullopt;
  return std::chrono::seconds(seconds);
}

std::string printable(std::string s) {
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

Delivery WebhookNotifier::deliver(const Message& message) {
  for (char c : message.idempotency_key) {
    if (c < 0x21 || c > 0x7e) return {Outcome::permanent, "idempotency key is not printable ASCII", {}};
  }
  const std::string body = document(message);
  const std::string timestamp =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(clock_().time_since_epoch()).count());

  detail::Easy easy = detail::new_easy("http,https");
  CURL* h = easy.get();
  detail::List headers;
  detail::append(headers, "Content-Type: application/json");
  detail::append(headers, "Idempotency-Key: " + message.idempotency_key);
  detail::append(headers, "X-Docket-Timestamp: " + timestamp);
  if (!s_.secret.empty()) {
    detail::append(headers, "X-Docket-Signature: " + webhook_signature(s_.secret.reveal(), timestamp, body));
  }
  detail::append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(h, CURLOPT_URL, s_.url.reveal().c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_USERAGENT, "docket-notifier/1");
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  if (!s_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, s_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(s_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(s_.timeout.count()));
  Response response;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
  char error_buffer[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);

  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) return {detail::classify(rc), "POST " + s_.shown + ": " + detail::describe(rc, error_buffer), {}};
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  std::string detail = "POST " + s_.shown + ": HTTP " + std::to_string(status);
  if (!response.body.empty()) detail += " " + printable(response.body);
  if (status >= 200 && status < 300) return {Outcome::delivered, detail, {}};
  if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
    return {Outcome::temporary, detail, retry_after(h)};
  }
  if (status >= 300 && status < 400) detail += " (redirects are not followed: configure the final address)";
  return {Outcome::permanent, detail, {}};
}

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// Checks `url` and returns "scheme://host:port" for messages, or an error.
std::optional<std::string> check_url(const std::string& url, std::string& error) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    error = "is not a URL, e.g. \"https://hooks.example.org/docket\"";
    return std::nullopt;
  }
  auto part = [&](CURLUPart which, unsigned flags) {
    char* p = nullptr;
    std::string out;
    if (curl_url_get(u.get(), which, &p, flags) == CURLUE_OK && p != nullptr) out = p;
    curl_free(p);
    return out;
  };
  const std::string scheme = part(CURLUPART_SCHEME, 0);
  const std::string host = part(CURLUPART_HOST, 0);
  const std::string port = part(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (scheme != "https" && scheme != "http") {
    error = "must start with https:// (or http:// for a receiver on this machine)";
    return std::nullopt;
  }
  if (scheme == "http" && !detail::is_loopback_host(host)) {
    error = "uses plain http:// to '" + host + "'; use https:// (http:// is only for a receiver on this machine)";
    return std::nullopt;
  }
  if (!part(CURLUPART_USER, 0).empty()) {
    error = "must not carry a user name or password; use secret_file for signing";
    return std::nullopt;
  }
  return scheme + "://" + host + ":" + port;
}

// url or url_file: where the document goes (the URL itself never shown).
void read_url(detail::ChannelReader& r, WebhookSettings& s) {
  const toml::node* url_node = r.get("url");
  const toml::node* url_file_node = r.get("url_file");
  std::optional<std::string> url;
  if (url_node != nullptr && url_file_node != nullptr) {
    r.error(*url_file_node, "give either 'url' or 'url_file', not both");
  } else if (url_file_node != nullptr) {
    if (auto secret = r.secret_file("url_file")) url = secret->reveal();
  } else {
    url = r.string("url", true, "\"https://hooks.example.org/docket\" (or url_file = \"/etc/docket/hook-url\")");
  }
  if (url) {
    std::string problem;
    if (auto shown = check_url(*url, problem)) {
      s.url = detail::Secret(*url);
      s.shown = *shown;
    } else {
      // The URL itself is not repeated: it may hold a token.
      r.error(url_node != nullptr ? *url_node : *url_file_node,
              std::string(url_node != nullptr ? "'url' " : "the URL in 'url_file' ") + problem);
    }
  }
}

// template: the document, which must be JSON whatever the placeholders hold.
void read_body(detail::ChannelReader& r, WebhookSettings& s) {
  if (auto t = r.templ("template")) {
    // Rendered with a value needing escapes, the template must be JSON;
    // a placeholder outside a string shows up here too.
    Values probe;
    for (const auto& name : t->placeholders()) probe[name] = "a\"b\n";
    const std::string sample = t->render(probe, Escape::json);
    try {
      [[maybe_unused]] const auto parsed = nlohmann::json::parse(sample);
      s.body = std::move(t);
    } catch (const nlohmann::json::parse_error& e) {
      r.error(*r.get("template"), "'template' does not make a JSON document (placeholders belong inside "
                                  "\"strings\"): " + std::string(e.what()).substr(std::string(e.what()).find(':') + 2));
    }
  }
}

class WebhookFactory final : public FactoryBase<WebhookSettings> {
 public:
  std::string name() const override { return "webhook"; }

 private:
  WebhookSettings validate_typed(detail::ChannelReader& r) const override {
    WebhookSettings s;
    read_url(r, s);
    r.forbid("secret", "a secret never goes into the configuration; put it in a file readable only by docketd "
                       "and write secret_file = \"/etc/docket/webhook-secret\"");
    if (r.get("secret_file") != nullptr) {
      if (auto secret = r.secret_file("secret_file")) s.secret = *secret;
    }
    s.connect_timeout = r.seconds("connect_timeout", s.connect_timeout);
    s.timeout = r.seconds("timeout", s.timeout);
    if (auto ca = r.file("ca_file")) s.ca_file = ca->string();
    read_body(r, s);
    return s;
  }

  std::unique_ptr<Notifier> create_typed(const WebhookSettings& settings, const Services& services) const override {
    return std::make_unique<WebhookNotifier>(settings, services);
  }
};

}  // namespace

std::unique_ptr<Factory> make_webhook_factory() { return std::make_unique<WebhookFactory>(); }

}  // namespace docket::notifiers
