#pragma once
// Reading a channel's table: the workflows Reader (typed getters, unknown
// keys with did-you-mean, positions) plus what channels share — timeouts,
// files and secrets, templates, the loopback rule. Used by the channels and
// by the daemon's [delivery] table.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "notifiers/registry.h"
#include "notifiers/template.h"
#include "workflows/toml_reader.h"

namespace docket::notifiers::detail {

// Held in memory only; deliberately not printable.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  const std::string& reveal() const { return value_; }
  bool empty() const { return value_.empty(); }

 private:
  std::string value_;
};

class ChannelReader : public workflows::detail::Reader {
 public:
  ChannelReader(const toml::table& table, const SettingsContext& context, Diagnostics& diags);
  // For tables beside the channels that share their rules (the daemon's
  // [delivery]); `what` names the table in messages.
  ChannelReader(const toml::table& table, const SettingsContext& context, Diagnostics& diags, std::string what);

  const SettingsContext& context() const { return context_; }

  // Seconds as a whole or decimal number, within (0, 600]; `fallback` if absent.
  std::chrono::milliseconds seconds(std::string_view key, std::chrono::milliseconds fallback);
  // A path resolved against the configuration directory, which must name a
  // readable file.
  std::optional<std::filesystem::path> file(std::string_view key);
  // The first line of the file named by `key`, stripped of surrounding
  // white space; must not be empty.
  std::optional<Secret> secret_file(std::string_view key);
  // The value of the environment variable named by `key`.
  std::optional<Secret> secret_env(std::string_view key);
  // A template whose placeholders are the context's plus the built-ins.
  std::optional<Template> templ(std::string_view key);
  // Refuses `key` if present, with `why` (for settings that must never be
  // written into the configuration, such as a password).
  void forbid(std::string_view key, const std::string& why);

  // The position of byte `offset` of a string value (single- or multi-line).
  workflows::SourcePos pos_in_string(const toml::node& n, std::size_t offset) const;

 private:
  const SettingsContext& context_;
};

// True for 127.0.0.0/8, ::1 and localhost.
bool is_loopback_host(std::string_view host);

}  // namespace docket::notifiers::detail
