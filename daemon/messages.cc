#include "daemon/messages.h"

#include <nlohmann/json.hpp>

#include "daemon/notice.h"
#include "workflows/date_math.h"
#include "workflows/dates.h"

namespace docket::daemon {

namespace {

using nlohmann::json;

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
  const Notice n = read_notice(m);
  notifiers::Values v;
  for (const auto& name : message_placeholders()) v[name] = "";
  const workflows::Day today = local_day(config, now);
  v["kind"] = m.kind;
  v["event"] = event_name(m.kind);
  v["today"] = workflows::long_date(today);
  v["workflow"] = n.type;
  v["workflow_title"] = n.type_title;
  v["stage"] = n.item;
  v["stage_title"] = n.item_title;
  if (n.meeting) v["meeting_date"] = workflows::long_date(*n.meeting);
  // A meeting is named by its date ("Executive meeting on 2026-06-09" reads
  // from workflow_title and reference), not by its stored key.
  const bool is_meeting = n.about == OwnerKind::meeting;
  v["reference"] = is_meeting ? "meeting on " + (n.meeting ? workflows::iso(*n.meeting) : std::string{}) : m.ref;
  if (n.due) {
    v["due_date"] = workflows::iso(*n.due);
    v["due_date_long"] = workflows::long_date(*n.due);
    const int left = n.days_left(daemon_calendar(config), today);
    v["days_left"] = std::to_string(std::max(left, 0));
    v["days_overdue"] = std::to_string(std::max(-left, 0));
  }
  if (n.due_at) v["due_time"] = workflows::iso(*n.due_at).substr(11, 5);
  v["role"] = m.role;
  const workflows::Role* role = config.directory.role(m.role);
  v["role_title"] = role != nullptr ? role->title : m.role;
  v["person"] = m.person;
  const workflows::Person* person = config.directory.person(m.person);
  v["person_name"] = person != nullptr ? person->name : m.person;
  if (n.rung > 0) v["rung"] = std::to_string(n.rung);
  v["late"] = m.late ? "yes" : "no";
  v["note"] = n.note;
  if (m.kind == "audit-head") {
    const AuditHeadNotice head = read_audit_head(m);
    v["head_seq"] = head.seq;
    v["head_hash"] = head.hash;
    v["head_time"] = head.published;
    v["signature"] = head.signature;
    v["public_key"] = head.public_key;
    v["key_id"] = head.key_id;
  }
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
