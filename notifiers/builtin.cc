#include "notifiers/registry.h"

namespace docket::notifiers {

// Each built-in channel's .cc file defines its maker.
std::unique_ptr<Factory> make_email_factory();
std::unique_ptr<Factory> make_log_factory();
std::unique_ptr<Factory> make_webhook_factory();

void register_builtin_notifiers(Registry& registry) {
  registry.add(make_email_factory());
  registry.add(make_log_factory());
  registry.add(make_webhook_factory());
}

}  // namespace docket::notifiers
