// The `log` channel: one line per message in docketd's log, nothing sent.
// For development and for partnerships that read notifications off the
// journal. Settings: none besides `type`.
//
//   notify.delivered channel=log key=... to=... kind=reminder ref=RR-2026-014 ...

#include <spdlog/spdlog.h>

#include "notifiers/factory_base.h"

namespace docket::notifiers {
namespace {

struct LogSettings {
  std::string channel;
};

// key=value, the value quoted when it would not read as one word.
std::string pair(const std::string& key, const std::string& value) {
  bool plain = !value.empty();
  for (char c : value) {
    if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '=' || c == 0x7f) plain = false;
  }
  if (plain) return key + "=" + value;
  std::string quoted = key + "=\"";
  for (char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += static_cast<unsigned char>(c) < ' ' ? ' ' : c;
  }
  return quoted + "\"";
}

class LogNotifier final : public Notifier {
 public:
  LogNotifier(std::string channel, std::shared_ptr<spdlog::logger> logger)
      : channel_(std::move(channel)), logger_(std::move(logger)) {}

  Delivery deliver(const Message& m) override {
    std::string line = "notify.delivered " + pair("channel", channel_) + " " + pair("key", m.idempotency_key);
    if (!m.to.address.empty()) line += " " + pair("to", m.to.address);
    for (const auto& [k, v] : m.fields) line += " " + pair(k, v);
    (logger_ ? logger_ : spdlog::default_logger())->info(line);
    return {Outcome::delivered, "logged", {}};
  }

 private:
  std::string channel_;
  std::shared_ptr<spdlog::logger> logger_;
};

class LogFactory final : public FactoryBase<LogSettings> {
 public:
  std::string name() const override { return "log"; }

 private:
  LogSettings validate_typed(detail::ChannelReader& r) const override { return LogSettings{r.context().channel}; }

  std::unique_ptr<Notifier> create_typed(const LogSettings& settings, const Services& services) const override {
    return std::make_unique<LogNotifier>(settings.channel, services.logger);
  }
};

}  // namespace

std::unique_ptr<Factory> make_log_factory() { return std::make_unique<LogFactory>(); }

}  // namespace docket::notifiers
