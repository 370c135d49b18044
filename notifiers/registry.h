#pragma once
// Channels by type: `email`, `webhook`, `log`, each a Factory in the Registry.
//
// A channel is a table in the daemon's settings, e.g.
//
//   [channels.staff-mail]
//   type = "email"
//   host = "smtp.example.org"
//   ...
//
// Registry::load() looks up the factory for `type` and lets it check every
// other key, reporting each problem at its file:line:column (unknown keys get
// a did-you-mean). Only checked settings ever reach a notifier, so it never
// meets a configuration it has to second-guess.
//
// Adding a channel is one new .cc file defining a FactoryBase over its own
// settings struct (notifiers/factory_base.h), and one line in
// register_builtin_notifiers() (builtin.cc). Built-ins are registered
// explicitly rather than by static initialisers, which silently vanish when
// the library is linked statically.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "notifiers/notifier.h"
#include "workflows/diagnostics.h"

namespace spdlog {
class logger;
}

namespace docket::notifiers {

using workflows::Diagnostics;

// What a factory needs besides the table itself.
struct SettingsContext {
  std::string file = "docketd.toml";  // the file named in diagnostics
  std::filesystem::path dir;          // relative password_file, secret_file and ca_file resolve here
  std::string channel;                // the channel's name, set by Registry::load
  // The names the daemon fills in Message::fields; templates may use these
  // and the built-ins (builtin_placeholders()).
  std::vector<std::string> placeholders;
};

// Placeholders every template may use, filled from the Message itself:
// subject, body, recipient, recipient_name, idempotency_key.
const std::vector<std::string>& builtin_placeholders();

// `message.fields` plus the built-ins, ready for Template::render.
Values template_values(const Message& message);

// What a notifier may use from its surroundings, so tests can replace it.
struct Services {
  // The wall clock for webhook timestamps (receivers compare it with theirs,
  // so even a rehearsal daemon on a virtual clock passes the real one).
  std::function<std::chrono::system_clock::time_point()> wall_clock;
  // The logger of the `log` channel; null for spdlog's default logger.
  std::shared_ptr<spdlog::logger> logger;
};

// A channel's settings after its factory has checked them, ready to make the
// channel's notifiers. Only FactoryBase (notifiers/factory_base.h) makes one.
class Settings {
 public:
  virtual ~Settings() = default;
  virtual std::unique_ptr<Notifier> create(const Services& services) const = 0;
};

class Factory {
 public:
  virtual ~Factory() = default;
  // The channel `type` this factory makes.
  virtual std::string name() const = 0;
  // Checks every key of `table` (`type` is already read), reporting each
  // problem into `diags`; null when there was any.
  virtual std::unique_ptr<const Settings> validate(const toml::table& table, const SettingsContext& context,
                                                   Diagnostics& diags) const = 0;
};

// A configured channel whose settings passed validation.
class Channel {
 public:
  Channel(std::string name, std::shared_ptr<const Factory> factory, std::shared_ptr<const Settings> settings);

  const std::string& name() const { return name_; }
  std::string type() const { return factory_->name(); }
  std::unique_ptr<Notifier> create(const Services& services = {}) const { return settings_->create(services); }

 private:
  std::string name_;
  std::shared_ptr<const Factory> factory_;
  std::shared_ptr<const Settings> settings_;
};

class Registry {
 public:
  // Throws std::invalid_argument if a factory of that name is already there.
  void add(std::shared_ptr<const Factory> factory);
  const Factory* find(std::string_view type) const;
  std::vector<std::string> types() const;

  // Reads `type` from `table` and has its factory check the rest. Every
  // problem goes to `diags` with its position; nullopt if there was any.
  std::optional<Channel> load(const std::string& name, const toml::table& table, SettingsContext context,
                              Diagnostics& diags) const;

 private:
  std::map<std::string, std::shared_ptr<const Factory>, std::less<>> factories_;
};

// Adds the built-in channels: email, webhook and log.
void register_builtin_notifiers(Registry& registry);

}  // namespace docket::notifiers
