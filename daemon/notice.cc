#include "daemon/notice.h"

#include <nlohmann/json.hpp>

#include "daemon/json_text.h"
#include "workflows/date_math.h"

namespace docket::daemon {

namespace {

using nlohmann::json;

json object_of(const std::string& payload) {
  json p = json::parse(payload, nullptr, false);
  return p.is_object() ? p : json::object();
}

std::string text_of(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
  return it->dump();
}

int int_of(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
}

// Keys in sorted order: the text is what nlohmann's dump() of the same
// object gives, as rows have always been written.
std::string review_payload(const Notice& n) {
  JsonObject p;
  if (n.due) p.add("due", workflows::iso(*n.due));
  if (n.due_at) p.add("due_at", workflows::iso(*n.due_at));
  p.add("kind", n.kind).add("late", n.late);
  if (!n.note.empty()) p.add("note", n.note);
  p.add("ref", n.ref);
  if (n.repeat > 0) p.add("repeat", n.repeat);
  p.add("role", n.role);
  if (n.rung > 0) p.add("rung", n.rung);
  p.add("stage", n.item).add("stage_title", n.item_title).add("workflow", n.type).add("workflow_title", n.type_title);
  if (n.working_days_left) p.add("working_days_left", *n.working_days_left);
  return p.done();
}

std::string meeting_payload(const Notice& n) {
  JsonObject p;
  p.add("body", n.type).add("body_title", n.type_title);
  if (n.due) p.add("due", workflows::iso(*n.due));
  p.add("kind", n.kind).add("late", n.late).add("meeting", n.meeting ? workflows::iso(*n.meeting) : std::string{});
  if (!n.item.empty()) p.add("milestone", n.item).add("milestone_title", n.item_title);
  if (n.repeat > 0) p.add("repeat", n.repeat);
  p.add("role", n.role);
  if (n.rung > 0) p.add("rung", n.rung);
  return p.done();
}

}  // namespace

int Notice::days_left(const workflows::Calendar& cal, workflows::Day today) const {
  return due ? workflows::working_days_between(cal, today, *due) : 0;
}

std::string notice_payload(const Notice& n) {
  return n.about == OwnerKind::meeting ? meeting_payload(n) : review_payload(n);
}

Notice read_notice(const store::OutboxMessage& row) {
  const json p = object_of(row.payload);
  Notice n;
  n.kind = row.kind;
  n.about = owner_kind(row.ref);
  n.ref = row.ref;
  n.role = row.role;
  n.late = row.late;
  const bool meeting = n.about == OwnerKind::meeting;
  n.type = text_of(p, meeting ? "body" : "workflow");
  n.type_title = text_of(p, meeting ? "body_title" : "workflow_title");
  n.item = text_of(p, meeting ? "milestone" : "stage");
  n.item_title = text_of(p, meeting ? "milestone_title" : "stage_title");
  n.meeting = workflows::parse_day(text_of(p, "meeting"));
  n.due = workflows::parse_day(text_of(p, "due"));
  n.due_at = workflows::parse_local_time(text_of(p, "due_at"));
  n.rung = int_of(p, "rung");
  n.repeat = int_of(p, "repeat");
  n.note = text_of(p, "note");
  if (auto it = p.find("working_days_left"); it != p.end() && it->is_number_integer()) n.working_days_left = it->get<int>();
  return n;
}

AuditHeadNotice read_audit_head(const store::OutboxMessage& row) {
  const json p = object_of(row.payload);
  return {text_of(p, "seq"),       text_of(p, "hash"),       text_of(p, "published"),
          text_of(p, "signature"), text_of(p, "public_key"), text_of(p, "key_id")};
}

}  // namespace docket::daemon
