#include "daemon/delivery_settings.h"

#include <algorithm>

#include "notifiers/settings_reader.h"
#include "workflows/dates.h"

namespace docket::daemon {

namespace {

using notifiers::detail::ChannelReader;
using workflows::Diagnostics;

// The wording when docketd.toml sets none; each kind may be reworded in
// [delivery.templates.KIND].
const std::map<std::string, std::pair<const char*, const char*>, std::less<>>& default_texts() {
  static const std::map<std::string, std::pair<const char*, const char*>, std::less<>> texts{
      {"reminder",
       {"Reminder: {reference} {stage_title} is due {due_date_long}",
        "Dear {person_name},\n\n"
        "{workflow_title} {reference}: \"{stage_title}\" is due on {due_date_long}, "
        "{days_left} working day(s) from today.\n"
        "You receive this as {role_title}.\n\n{link}\n{note}\n"
        "-- \nSent by docket for the Safeguarding Partnership. Replies are not read.\n"}},
      {"escalation",
       {"Overdue: {reference} {stage_title} was due {due_date_long}",
        "Dear {person_name},\n\n"
        "{workflow_title} {reference}: \"{stage_title}\" was due on {due_date_long} and is "
        "{days_overdue} working day(s) overdue.\n"
        "You receive this as {role_title} (escalation step {rung}).\n\n{link}\n{note}\n"
        "-- \nSent by docket for the Safeguarding Partnership. Replies are not read.\n"}},
      {"paused",
       {"Paused: {reference} ({workflow_title})",
        "Dear {person_name},\n\n"
        "{workflow_title} {reference} has been paused; its time limits stop until it resumes.\n"
        "You receive this as {role_title}.\n\n{link}\n"
        "-- \nSent by docket for the Safeguarding Partnership. Replies are not read.\n"}},
      {"inquorate",
       {"Inquorate: {workflow_title} on {meeting_date}",
        "Dear {person_name},\n\n"
        "The meeting of the {workflow_title} on {meeting_date} was not quorate: not every statutory "
        "partner was present by its member or a named deputy.\n"
        "You receive this as {role_title}.\n\n"
        "-- \nSent by docket for the Safeguarding Partnership. Replies are not read.\n"}},
      {"digest",
       {"docket: {count} item(s) for {today}",
        "Dear {person_name},\n\nYour items from docket today:\n\n{items}\n"
        "-- \nSent by docket for the Safeguarding Partnership. Replies are not read.\n"}},
      {"audit-head",
       {"docket audit trail: record {head_seq}, published {head_time}",
        "Dear {person_name},\n\n"
        "docket has published the head of its audit trail, signed. Please keep this message where docket's "
        "operators cannot change it: with it an inspector can check later that no record up to this one was "
        "edited, removed or rewritten.\n\n"
        "  record:     {head_seq}\n"
        "  hash:       {head_hash}\n"
        "  published:  {head_time}\n"
        "  signature:  {signature}\n"
        "  public key: {public_key} (key id {key_id})\n\n"
        "The signature is Ed25519 over the text \"{head_seq}:{head_hash}:{head_time}\". Check it with the public "
        "key you were given when docket was installed (not only with the one above); docs/audit.md shows how.\n"
        "To check the trail against this head: docket audit verify --expect-head {head_seq}:{head_hash}\n\n"
        "You receive this as the recipient of docket's audit heads.\n"
        "-- \nSent by docket for the Safeguarding Partnership. Replies are not read.\n"}},
      {"default",
       {"{event}: {reference} {stage_title}",
        "Dear {person_name},\n\n{event} for {workflow_title} {reference}, \"{stage_title}\", due {due_date_long}.\n"
        "You receive this as {role_title}.\n\n{link}\n"
        "-- \nSent by docket for the Safeguarding Partnership. Replies are not read.\n"}},
  };
  return texts;
}

notifiers::Template parse_default(const char* text) {
  std::vector<notifiers::TemplateError> errors;
  auto t = notifiers::Template::parse(text, message_placeholders(), errors);
  if (!errors.empty()) throw std::logic_error("a built-in message template is broken: " + errors.front().message);
  return t;
}

std::optional<std::chrono::minutes> clock_time(std::string_view text) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9' ? text[i] - '0' : -1; };
  int h1 = digit(0), h2 = digit(1), m1 = digit(3), m2 = digit(4);
  if (h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0) return std::nullopt;
  int h = h1 * 10 + h2, m = m1 * 10 + m2;
  if (h > 23 || m > 59) return std::nullopt;
  return std::chrono::minutes{h * 60 + m};
}

// A whole number within [low, high], else `fallback` and an error.
template <class T>
T bounded(ChannelReader& r, std::string_view key, std::int64_t low, std::int64_t high, T fallback) {
  auto v = r.integer(key);
  if (!v) return fallback;
  if (*v < low || *v > high) {
    r.error(*r.get(key), "'" + std::string(key) + "' must be a whole number from " + std::to_string(low) + " to " +
                             std::to_string(high) + ", found " + std::to_string(*v));
    return fallback;
  }
  return T(*v);
}

std::set<std::string, std::less<>> kinds(ChannelReader& r, std::string_view key,
                                         std::set<std::string, std::less<>> fallback) {
  static const std::vector<std::string> known{"reminder", "escalation", "paused", "inquorate"};
  auto list = r.strings(key);
  if (!list) return fallback;
  std::set<std::string, std::less<>> out;
  for (const auto& k : *list) {
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      r.error(*r.get(key), "'" + k + "' in '" + std::string(key) +
                               "' is not a kind of message; the kinds are reminder, escalation, paused and inquorate");
    }
    out.insert(k);
  }
  return out;
}

void read_quiet_hours(ChannelReader& parent, DeliverySettings& s, const notifiers::SettingsContext& ctx,
                      Diagnostics& diags) {
  const toml::table* t = parent.subtable("quiet_hours");
  if (t == nullptr) return;
  ChannelReader r(*t, ctx, diags, "[delivery.quiet_hours]");
  QuietHours q;
  if (auto hours = r.string("working_hours", true, "\"08:00-18:00\"")) {
    auto dash = hours->find('-');
    auto from = dash == std::string::npos ? std::nullopt : clock_time(std::string_view(*hours).substr(0, dash));
    auto to = dash == std::string::npos ? std::nullopt : clock_time(std::string_view(*hours).substr(dash + 1));
    if (!from || !to || *from >= *to) {
      r.error(*r.get("working_hours"), "'working_hours' must be two local times HH:MM-HH:MM, the first earlier, "
                                       "e.g. \"08:00-18:00\"; found \"" + *hours + "\"");
    } else {
      q.from = *from;
      q.to = *to;
    }
  }
  q.hold = kinds(r, "hold", {"reminder"});
  r.finish();
  s.quiet = q;
}

void read_digest(ChannelReader& parent, DeliverySettings& s, const notifiers::SettingsContext& ctx,
                 Diagnostics& diags) {
  const toml::table* t = parent.subtable("digest");
  if (t == nullptr) return;
  ChannelReader r(*t, ctx, diags, "[delivery.digest]");
  DigestSettings d;
  if (auto at = r.string("at", true, "\"08:30\"")) {
    if (auto m = clock_time(*at)) {
      d.at = *m;
    } else {
      r.error(*r.get("at"), "'at' must be a local time HH:MM, e.g. \"08:30\", found \"" + *at + "\"");
    }
  }
  d.kinds = kinds(r, "kinds", d.kinds);
  r.finish();
  s.digest = d;
}

void read_templates(ChannelReader& parent, DeliverySettings& s, const notifiers::SettingsContext& ctx,
                    Diagnostics& diags) {
  for (const auto& [kind, texts] : default_texts()) {
    s.templates[kind] = MessageTemplates{parse_default(texts.first), parse_default(texts.second)};
  }
  const toml::table* t = parent.subtable("templates");
  if (t == nullptr) return;
  ChannelReader all(*t, ctx, diags, "[delivery.templates]");
  for (auto&& [k, v] : *t) {
    std::string kind(k.str());
    all.known({kind});
    const toml::table* table = v.as_table();
    if (default_texts().count(kind) == 0 || table == nullptr) {
      all.error(v, "[delivery.templates." + kind + "] is not a kind of message: use reminder, escalation, paused, "
                   "inquorate, digest, audit-head or default, each a table with subject and body");
      continue;
    }
    ChannelReader r(*table, ctx, diags, "[delivery.templates." + kind + "]");
    auto& mine = s.templates[kind];
    if (auto subject = r.templ("subject")) mine.subject = *subject;
    if (auto body = r.templ("body")) mine.body = *body;
    r.finish();
  }
  all.finish();
}

}  // namespace

const std::vector<std::string>& message_placeholders() {
  static const std::vector<std::string> names{
      "kind",         "event",      "reference", "workflow", "workflow_title", "stage",      "stage_title",
      "due_date",     "due_date_long", "due_time", "days_left", "days_overdue", "role",     "role_title",
      "person",       "person_name", "rung",     "link",     "late",           "note",       "meeting_date",
      "today",        "count",      "items",    "head_seq", "head_hash",      "head_time",  "signature",
      "public_key",   "key_id"};
  return names;
}

const MessageTemplates& DeliverySettings::templates_for(std::string_view kind) const {
  auto it = templates.find(kind);
  return it != templates.end() ? it->second : templates.at("default");
}

const notifiers::Channel& DeliverySettings::channel_for(const workflows::Person* person) const {
  if (person != nullptr && !person->prefers.empty()) {
    auto it = channels.find(person->prefers);
    if (it != channels.end()) return it->second;
  }
  return channels.at(default_channel);
}

namespace {

const notifiers::Registry& builtin_registry() {
  static const notifiers::Registry registry = [] {
    notifiers::Registry r;
    notifiers::register_builtin_notifiers(r);
    return r;
  }();
  return registry;
}

// [channels.NAME] tables, each checked by its type's factory. Returns every
// name declared, also those with errors.
std::vector<std::string> read_channels(const toml::table& doc, const notifiers::SettingsContext& ctx,
                                       DeliverySettings& s, Diagnostics& diags) {
  std::vector<std::string> declared;
  const toml::node* n = doc.get("channels");
  if (n == nullptr) return declared;
  const toml::table* channels = n->as_table();
  if (channels == nullptr) {
    const auto& b = n->source().begin;
    diags.error({ctx.file, b.line, b.column}, "'channels' must be tables, e.g. [channels.mail]");
    return declared;
  }
  for (auto&& [k, v] : *channels) {
    const std::string name(k.str());
    declared.push_back(name);
    const toml::table* t = v.as_table();
    const auto& b = v.source().begin;
    if (t == nullptr) {
      diags.error({ctx.file, b.line, b.column},
                  "channel '" + name + "' must be a table, e.g. [channels." + name + "] with type = \"email\"");
      continue;
    }
    if (auto channel = builtin_registry().load(name, *t, ctx, diags)) s.channels.emplace(name, std::move(*channel));
  }
  return declared;
}

// [delivery] `channel`: the default channel, which must be one of `names`
// (and may be left out when there is only one).
void read_default_channel(ChannelReader& r, bool table_given, const std::vector<std::string>& names,
                          DeliverySettings& s, Diagnostics& diags) {
  s.default_channel = names.size() == 1 ? names.front() : "";
  if (auto channel = r.string("channel")) {
    if (std::find(names.begin(), names.end(), *channel) == names.end()) {
      r.error(*r.get("channel"), workflows::unknown("channel", *channel, names));
    } else {
      s.default_channel = *channel;
    }
  } else if (s.default_channel.empty() && !names.empty()) {
    std::string listed;
    for (const auto& n : names) listed += (listed.empty() ? "" : ", ") + n;
    diags.error(table_given ? r.pos() : workflows::SourcePos{r.context().file, 0, 0},
                "with several channels, [delivery] must name the default one: channel = \"" + names.front() +
                    "\" (one of " + listed + ")");
  }
}

// The [delivery] table: the default channel, the link, the pace of
// attempts, quiet hours, the digest and the message templates.
void read_delivery(const toml::table& doc, const notifiers::SettingsContext& ctx, const std::vector<std::string>& names,
                   DeliverySettings& s, Diagnostics& diags) {
  toml::table no_delivery;
  const toml::table* delivery = doc.get("delivery") != nullptr ? doc.get("delivery")->as_table() : nullptr;
  if (doc.get("delivery") != nullptr && delivery == nullptr) {
    const auto& b = doc.get("delivery")->source().begin;
    diags.error({ctx.file, b.line, b.column}, "'delivery' must be a table: [delivery]");
  }
  ChannelReader r(delivery != nullptr ? *delivery : no_delivery, ctx, diags, "[delivery]");
  read_default_channel(r, delivery != nullptr, names, s, diags);
  s.link = r.templ("link");
  s.in_flight = bounded(r, "in_flight", 1, 64, 4);
  s.first_retry = std::chrono::seconds(bounded(r, "first_retry_seconds", 1, 86'400, 30));
  s.max_retry = std::chrono::seconds(bounded(r, "max_retry_seconds", 1, 7 * 86'400, 3600));
  s.dead_after = std::chrono::hours(bounded(r, "dead_after_hours", 1, 90 * 24, 72));
  if (s.max_retry < s.first_retry) {
    r.error(*r.get("max_retry_seconds"), "'max_retry_seconds' must not be less than 'first_retry_seconds'");
  }
  read_quiet_hours(r, s, ctx, diags);
  read_digest(r, s, ctx, diags);
  read_templates(r, s, ctx, diags);
  r.finish();
}

}  // namespace

std::shared_ptr<const DeliverySettings> load_delivery(const workflows::Config& config, Diagnostics& diags) {
  const std::size_t errors_before = diags.size();
  auto s = std::make_shared<DeliverySettings>();
  notifiers::SettingsContext ctx;
  ctx.file = config.daemon.file;
  ctx.dir = config.dir;
  ctx.placeholders = message_placeholders();
  static const toml::table empty;
  const toml::table& doc = config.daemon.document ? *config.daemon.document : empty;

  const std::vector<std::string> declared = read_channels(doc, ctx, *s, diags);
  if (declared.empty()) {
    // Without a channel people would hear nothing, silently. Only logging
    // them is a choice to write down.
    diags.error({ctx.file, 0, 0}, "there is no channel for people's notices: add one, e.g. [channels.mail] with "
                                  "type = \"email\", host and from (or [channels.log] with type = \"log\" to only log "
                                  "them, for a trial)");
  }
  std::vector<std::string> names = declared;
  if (names.empty()) {
    for (const auto& [name, c] : s->channels) names.push_back(name);
  }
  read_delivery(doc, ctx, names, *s, diags);

  // A person's preferred channel must be one of these (without channels
  // everything goes to the log, whatever anyone prefers).
  for (const auto& p : config.directory.people) {
    if (!p.prefers.empty() && !declared.empty() && std::find(names.begin(), names.end(), p.prefers) == names.end()) {
      diags.error(p.prefers_at, "person '" + p.id + "' prefers " + workflows::unknown("channel", p.prefers, names));
    }
  }
  if (diags.size() != errors_before) return nullptr;
  return s;
}

SetupResult load_setup(const std::filesystem::path& dir) {
  auto loaded = workflows::load_config(dir);
  SetupResult out;
  out.diagnostics = std::move(loaded.diagnostics);
  if (!loaded.config) return out;
  auto delivery = load_delivery(*loaded.config, out.diagnostics);
  if (!delivery) return out;
  out.setup = Setup{loaded.config, delivery};
  return out;
}

}  // namespace docket::daemon
