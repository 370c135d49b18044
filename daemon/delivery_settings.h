#pragma once
// How notifications leave docketd: the channels of docketd.toml and the
// [delivery] table that routes, words, paces and holds messages.
//
//   [channels.mail]                 # any number; see notifiers/registry.h
//   type = "email"
//   ...
//
//   [delivery]
//   channel = "mail"                # for people with no `prefers` in directory.toml
//   link = "https://docket.example.org/reviews/{reference}"
//   in_flight = 4                   # attempts at once, per channel
//   first_retry_seconds = 30        # backoff with full jitter, doubling ...
//   max_retry_seconds = 3600        # ... up to this
//   dead_after_hours = 72           # then the message is a dead letter
//
//   [delivery.quiet_hours]          # optional: these kinds wait for working hours
//   working_hours = "08:00-18:00"   # local, on working days of the daemon's calendar
//   hold = ["reminder"]             # kinds not listed (escalations) go at once
//
//   [delivery.digest]               # optional: people with digest = true get
//   at = "08:30"                    # their reminders in one message a working day
//
//   [delivery.templates.reminder]   # optional; also escalation, paused,
//   subject = "..."                 # inquorate, digest, audit-head and default
//   body = """..."""
//
// Everything is checked when the configuration loads (docketd, reload and
// `docket validate`), every problem reported with its file:line:column: an
// unknown placeholder or channel is found by the administrator, not at 3 a.m.
// Without any [channels] every message goes to a `log` channel.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "notifiers/registry.h"
#include "notifiers/template.h"
#include "workflows/config.h"

namespace docket::daemon {

struct MessageTemplates {
  notifiers::Template subject;
  notifiers::Template body;
};

struct QuietHours {
  std::chrono::minutes from{8 * 60};  // local time working hours begin
  std::chrono::minutes to{18 * 60};   // and end
  std::set<std::string, std::less<>> hold;  // message kinds that wait
};

struct DigestSettings {
  std::chrono::minutes at{8 * 60 + 30};  // local time, on working days
  std::set<std::string, std::less<>> kinds{"reminder"};  // what a digest gathers
};

struct DeliverySettings {
  std::map<std::string, notifiers::Channel, std::less<>> channels;
  std::string default_channel;
  std::optional<notifiers::Template> link;
  std::map<std::string, MessageTemplates, std::less<>> templates;  // by kind, with "default" and "digest"
  int in_flight = 4;
  std::chrono::milliseconds first_retry{30'000};
  std::chrono::milliseconds max_retry{3'600'000};
  std::chrono::seconds dead_after{72 * 3600};
  std::optional<QuietHours> quiet;
  std::optional<DigestSettings> digest;

  const MessageTemplates& templates_for(std::string_view kind) const;
  // The channel a person's messages go to: their preference, else the default.
  const notifiers::Channel& channel_for(const workflows::Person* person) const;
};

// The placeholders the daemon fills for every message (besides the
// notifiers' built-ins): reference, workflow, stage, due_date, days_left ...
const std::vector<std::string>& message_placeholders();

// The configuration directory with its delivery settings: what docketd
// runs on, swapped whole on reload.
struct Setup {
  std::shared_ptr<const workflows::Config> config;
  std::shared_ptr<const DeliverySettings> delivery;
};

struct SetupResult {
  Setup setup;  // both null when there were errors
  workflows::Diagnostics diagnostics;
};

// load_config() and then the channels and [delivery]; every problem of both.
SetupResult load_setup(const std::filesystem::path& dir);

// The delivery settings of a loaded configuration; null on any error.
std::shared_ptr<const DeliverySettings> load_delivery(const workflows::Config& config,
                                                      workflows::Diagnostics& diags);

}  // namespace docket::daemon
