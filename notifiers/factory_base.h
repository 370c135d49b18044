#pragma once
// The base of every channel's factory, after Envoy's FactoryBase<ConfigProto>
// (source/extensions/filters/http/common/factory_base.h). A channel reads its
// table into a settings struct of its own, a plain value, and makes its
// notifier from that struct; the base keeps the struct, typed, beside the
// factory that read it, so nothing ever casts a Settings back:
//
//   struct LogSettings { std::string channel; };
//   class LogFactory final : public FactoryBase<LogSettings> {
//     std::string name() const override { return "log"; }
//     LogSettings validate_typed(detail::ChannelReader& r) const override;
//     std::unique_ptr<Notifier> create_typed(const LogSettings& s, const Services& services) const override;
//   };
//
// The base refuses the settings when the channel reported any problem, and
// reports the keys it did not read (ChannelReader::finish), so a channel's
// reader only reads.

#include <memory>
#include <utility>

#include "notifiers/registry.h"
#include "notifiers/settings_reader.h"

namespace docket::notifiers {

template <typename ChannelSettings>
class FactoryBase : public Factory {
 public:
  std::unique_ptr<const Settings> validate(const toml::table& table, const SettingsContext& context,
                                           Diagnostics& diags) const final {
    const std::size_t problems_before = diags.size();
    detail::ChannelReader reader(table, context, diags);
    ChannelSettings checked = validate_typed(reader);
    reader.finish();
    if (diags.size() != problems_before) return nullptr;
    return std::make_unique<const Checked>(*this, std::move(checked));
  }

 protected:
  // Reads every key of the channel's table (`type` is already read),
  // reporting each problem through the reader. What it returns is used only
  // if it reported none.
  virtual ChannelSettings validate_typed(detail::ChannelReader& reader) const = 0;
  // A notifier for settings validate_typed() returned.
  virtual std::unique_ptr<Notifier> create_typed(const ChannelSettings& settings, const Services& services) const = 0;

 private:
  class Checked final : public Settings {
   public:
    Checked(const FactoryBase& factory, ChannelSettings settings)
        : factory_(factory), settings_(std::move(settings)) {}
    std::unique_ptr<Notifier> create(const Services& services) const override {
      return factory_.create_typed(settings_, services);
    }

   private:
    const FactoryBase& factory_;  // a Channel holds the factory as long as these settings
    ChannelSettings settings_;
  };
};

}  // namespace docket::notifiers
