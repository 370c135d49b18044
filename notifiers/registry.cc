#include "notifiers/registry.h"

#include <stdexcept>

namespace docket::notifiers {

std::string to_string(Outcome o) {
  switch (o) {
    case Outcome::delivered: return "delivered";
    case Outcome::temporary: return "temporary";
    case Outcome::permanent: return "permanent";
  }
  return "unknown";
}

const std::vector<std::string>& builtin_placeholders() {
  static const std::vector<std::string> names{"subject", "body", "recipient", "recipient_name", "idempotency_key"};
  return names;
}

Values template_values(const Message& message) {
  Values v = message.fields;
  v["subject"] = message.subject;
  v["body"] = message.text;
  v["recipient"] = message.to.address;
  v["recipient_name"] = message.to.name;
  v["idempotency_key"] = message.idempotency_key;
  return v;
}

Channel::Channel(std::string name, std::shared_ptr<const Factory> factory, std::shared_ptr<const Settings> settings)
    : name_(std::move(name)), factory_(std::move(factory)), settings_(std::move(settings)) {}

void Registry::add(std::shared_ptr<const Factory> factory) {
  std::string name = factory->name();
  if (!factories_.emplace(name, std::move(factory)).second) {
    throw std::invalid_argument("notifier type '" + name + "' is registered twice");
  }
}

const Factory* Registry::find(std::string_view type) const {
  auto it = factories_.find(type);
  return it == factories_.end() ? nullptr : it->second.get();
}

std::vector<std::string> Registry::types() const {
  std::vector<std::string> out;
  for (const auto& [name, f] : factories_) out.push_back(name);
  return out;
}

std::optional<Channel> Registry::load(const std::string& name, const toml::table& table, SettingsContext context,
                                      Diagnostics& diags) const {
  context.channel = name;
  const auto& b = table.source().begin;
  workflows::SourcePos where{context.file, b.line, b.column};
  const toml::node* type = table.get("type");
  if (type == nullptr) {
    diags.error(where, "channel '" + name + "' has no 'type' (expected " + workflows::one_of(types()) +
                           "), e.g. type = \"email\"");
    return std::nullopt;
  }
  const auto& tb = type->source().begin;
  where = {context.file, tb.line, tb.column};
  const auto* type_name = type->as_string();
  if (type_name == nullptr) {
    diags.error(where, "'type' of channel '" + name + "' must be a string, e.g. type = \"email\"");
    return std::nullopt;
  }
  auto it = factories_.find(type_name->get());
  if (it == factories_.end()) {
    diags.error(where, workflows::unknown("channel type", type_name->get(), types()));
    return std::nullopt;
  }
  Diagnostics mine;
  auto settings = it->second->validate(table, context, mine);
  diags.append(mine);
  if (!mine.empty() || !settings) return std::nullopt;
  return Channel(name, it->second, std::shared_ptr<const Settings>(std::move(settings)));
}

}  // namespace docket::notifiers
