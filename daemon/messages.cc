#include "daemon/messages.h"

#include <nlohmann/json.hpp>

#include "workflows/date_math.h"
#include "workflows/dates.h"

namespace docket::daemon {

namespace {

using nlohmann::json;

std::string text_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  return it->dump();
}

std::string first_of(const json& j, const char* a, const char* b) {
  std::string v = text_of(j, a);
  return v.empty() ? text_of(j, b) : v;
}

std::string event_name(const std::string& kind) {
  if (kind == "reminder") return "Reminder";
  if (kind == "escalation") return "Escalation";
  if (kind == "paused") return "Paused";
  if (kind == "inquorate") return "Inquorate meeting";
  if (kind == "digest") return "Digest";
  if (kind == "audit-head") return "Audit trail head";
  return kind;
}

const workflows::Calendar& daemon_calendar(const workflows::Config& config) {
  return config.calendar(config.daemon.calendar);
}

}  // namespace

workflows::Day local_day(const workflows::Config& config, Instant now) {
  auto local = daemon_calendar(config).zone()->to_local(now);
  return workflows::Day{date::floor<date::days>(local).time_since_epoch()};
}

notifiers::Values message_values(const store::OutboxMessage& m, const workflows::Config& config,
                                 const DeliverySettings& delivery, Instant now) {
  json p = json::parse(m.payload, nullptr, false);
  if (!p.is_object()) p = json::object();
  notifiers::Values v;
  for (const auto& name : message_placeholders()) v[name] = "";
  const workflows::Day today = local_day(config, now);
  v["kind"] = m.kind;
  v["event"] = event_name(m.kind);
  v["today"] = workflows::long_date(today);
  v["workflow"] = first_of(p, "workflow", "body");
  v["workflow_title"] = first_of(p, "workflow_title", "body_title");
  v["stage"] = first_of(p, "stage", "milestone");
  v["stage_title"] = first_of(p, "stage_title", "milestone_title");
  const std::string meeting = text_of(p, "meeting");
  if (auto day = workflows::parse_day(meeting)) v["meeting_date"] = workflows::long_date(*day);
  // A meeting is named by its date ("Executive meeting on 2026-06-09" reads
  // from workflow_title and reference), not by the internal "@body/day".
  const bool is_meeting = m.ref.starts_with('@');
  v["reference"] = is_meeting ? "meeting on " + meeting : m.ref;
  const std::string due = text_of(p, "due");
  v["due_date"] = due;
  if (auto day = workflows::parse_day(due)) {
    v["due_date_long"] = workflows::long_date(*day);
    const int left = workflows::working_days_between(daemon_calendar(config), today, *day);
    v["days_left"] = std::to_string(std::max(left, 0));
    v["days_overdue"] = std::to_string(std::max(-left, 0));
  }
  const std::string due_at = text_of(p, "due_at");
  if (due_at.size() >= 16) v["due_time"] = due_at.substr(11, 5);
  v["role"] = m.role;
  const workflows::Role* role = config.directory.role(m.role);
  v["role_title"] = role != nullptr ? role->title : m.role;
  v["person"] = m.person;
  const workflows::Person* person = config.directory.person(m.person);
  v["person_name"] = person != nullptr ? person->name : m.person;
  v["rung"] = text_of(p, "rung");
  v["late"] = m.late ? "yes" : "no";
  v["note"] = text_of(p, "note");
  // A published head of the audit trail (daemon/audit_publisher.h).
  v["head_seq"] = text_of(p, "seq");
  v["head_hash"] = text_of(p, "hash");
  v["head_time"] = text_of(p, "published");
  v["signature"] = text_of(p, "signature");
  v["public_key"] = text_of(p, "public_key");
  v["key_id"] = text_of(p, "key_id");
  if (delivery.link && !is_meeting) v["link"] = delivery.link->render(v);  // meetings have no page of their own
  return v;
}

notifiers::Message render_message(const store::OutboxMessage& m, const workflows::Config& config,
                                  const DeliverySettings& delivery, Instant now) {
  notifiers::Message out;
  out.idempotency_key = m.key;
  if (const workflows::Person* p = config.directory.person(m.person)) out.to = {p->email, p->name};
  out.fields = message_values(m, config, delivery, now);
  const MessageTemplates& t = delivery.templates_for(m.kind);
  out.subject = t.subject.render(out.fields);
  out.text = t.body.render(out.fields);
  // What a generic webhook receiver gets.
  json doc{{"event", m.kind},
           {"reference", out.fields["reference"]},
           {"workflow", out.fields["workflow"]},
           {"stage", out.fields["stage"]},
           {"due", out.fields["due_date"]},
           {"days_left", out.fields["days_left"]},
           {"days_overdue", out.fields["days_overdue"]},
           {"rung", out.fields["rung"]},
           {"role", m.role},
           {"person", m.person},
           {"late", m.late},
           {"idempotency_key", m.key},
           {"link", out.fields["link"]},
           {"subject", out.subject}};
  if (m.kind == "audit-head") {
    doc["head"] = {{"seq", out.fields["head_seq"]},     {"hash", out.fields["head_hash"]},
                   {"published", out.fields["head_time"]}, {"signature", out.fields["signature"]},
                   {"public_key", out.fields["public_key"]}, {"key_id", out.fields["key_id"]}};
  }
  out.json = doc.dump();
  out.created_at = std::chrono::system_clock::time_point{std::chrono::seconds{m.created_at}};
  return out;
}

notifiers::Message render_digest(const std::string& key, const std::string& person,
                                 const std::vector<store::OutboxMessage>& items, const workflows::Config& config,
                                 const DeliverySettings& delivery, Instant now) {
  notifiers::Message out;
  out.idempotency_key = key;
  const workflows::Person* p = config.directory.person(person);
  if (p != nullptr) out.to = {p->email, p->name};
  notifiers::Values v;
  for (const auto& name : message_placeholders()) v[name] = "";
  v["kind"] = "digest";
  v["event"] = event_name("digest");
  v["person"] = person;
  v["person_name"] = p != nullptr ? p->name : person;
  v["today"] = workflows::long_date(local_day(config, now));
  v["count"] = std::to_string(items.size());
  json list = json::array();
  std::string lines;
  for (const auto& item : items) {
    auto iv = message_values(item, config, delivery, now);
    lines += "- " + iv["reference"] + " " + iv["stage_title"] + ": due " + iv["due_date_long"];
    if (iv["days_overdue"] != "0" && !iv["days_overdue"].empty()) {
      lines += ", " + iv["days_overdue"] + " working day(s) overdue";
    } else if (!iv["days_left"].empty()) {
      lines += ", " + iv["days_left"] + " working day(s) left";
    }
    lines += " (" + iv["role_title"] + ")";
    if (!iv["link"].empty()) lines += "\n  " + iv["link"];
    lines += "\n";
    list.push_back({{"event", item.kind}, {"reference", iv["reference"]}, {"stage", iv["stage"]},
                    {"due", iv["due_date"]}, {"idempotency_key", item.key}});
  }
  v["items"] = lines;
  const MessageTemplates& t = delivery.templates_for("digest");
  out.subject = t.subject.render(v);
  out.text = t.body.render(v);
  out.json = json{{"event", "digest"}, {"person", person}, {"items", list}, {"idempotency_key", key},
                  {"subject", out.subject}}
                 .dump();
  out.fields = std::move(v);
  if (!items.empty()) out.created_at = std::chrono::system_clock::time_point{std::chrono::seconds{items.front().created_at}};
  return out;
}

}  // namespace docket::daemon
