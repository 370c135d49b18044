// The meeting commands: recording a meeting's steps (papers, held, notes,
// amendments, approval, a move), appointing a body's chair for a year, and
// listing the meetings and chairs.

#include <algorithm>
#include <cassert>

#include "daemon/engine.h"
#include "daemon/input_rules.h"
#include "daemon/owner.h"

namespace docket::daemon {

using namespace docket::workflows;
using nlohmann::json;

namespace {

std::vector<std::string> cycle_ids(const Config& config) {
  std::vector<std::string> ids;
  for (const auto& [id, c] : config.cycles) ids.push_back(id);
  return ids;
}

std::string describe(const Meeting& m) { return "the " + m.cycle->id + " meeting on " + short_date(m.date); }

}  // namespace

// --- commands ------------------------------------------------------------------

Meeting* Engine::find_meeting(const std::string& body, const std::string& day, std::string& error) {
  auto cycle = config_->cycles.find(body);
  if (cycle == config_->cycles.end()) {
    error = unknown("body", body, cycle_ids(*config_));
    return nullptr;
  }
  auto d = parse_day(day);
  if (!d) {
    error = "the meeting date must be YYYY-MM-DD, found '" + day + "'";
    return nullptr;
  }
  Meeting* found = nullptr;
  std::vector<std::string> dates;
  for (auto& [id, m] : meetings_) {
    if (m.cycle->id != body) continue;
    dates.push_back(iso(m.date));
    if (m.date == *d || (found == nullptr && m.planned == *d)) found = &m;
  }
  if (found == nullptr) {
    error = "no " + body + " meeting on " + short_date(*d) +
            (dates.empty() ? std::string{} : "; its meetings are on " + one_of(dates));
  }
  return found;
}

std::optional<Engine::MeetingRunner> Engine::meeting_runner(const Caller& who, const std::string& body,
                                                           const std::string& day) {
  std::string error;
  const Meeting* m = find_meeting(body, day, error);
  if (m == nullptr) return std::nullopt;
  return MeetingRunner{describe(*m), who.holds(m->cycle->chair) || who.holds(m->cycle->secretariat)};
}

Result Engine::step(const Caller& who, const std::string& body, const std::string& day, MeetingEvent e,
                    const std::string& marks, store::Batch& batch) {
  std::string error;
  Meeting* m = find_meeting(body, day, error);
  if (m == nullptr) return Result::fail(error);
  return step(who, *m, e, marks, batch, json::object());
}

Result Engine::step(const Caller& who, Meeting& m, MeetingEvent e, const std::string& marks, store::Batch& batch,
                    json details) {
  auto t = meeting_transition(m.state, e);
  if (!t.ok) return Result::fail(describe(m) + ": " + t.error);
  m.state = t.to;
  const Calendar& cal = m.config->calendar_of(*m.cycle);
  if (!marks.empty()) {
    if (Deadline* d = m.milestone_marking(marks); d != nullptr && !is_final(d->state)) {
      auto dt = deadline_transition(d->state, DeadlineEvent::meet);
      assert(dt.ok && "every state but met and waived accepts meet");
      d->state = dt.to;
      d->completed_on = today(cal);
      index(m.id, *d, Instant{});
      audit(batch, who.person, "milestone.met", m, d->stage->id,
            {{"on", iso(*d->completed_on)}, {"due", iso(d->due)},
             {"working_days_late", std::max(0, working_days_between(cal, d->due, *d->completed_on))}});
    }
  }
  std::string name = to_string(e);
  std::replace(name.begin(), name.end(), ' ', '_');
  audit(batch, who.person, "meeting." + name, m, "", std::move(details));
  refresh(m);
  save(batch, m);
  for (const auto& d : m.milestones) save_milestone(batch, m, d);
  return {true, "", meeting_json(m)};
}

Result Engine::meeting_papers(const Caller& who, const std::string& body, const std::string& day, store::Batch& batch) {
  return step(who, body, day, MeetingEvent::publish_papers, "papers-published", batch);
}

Result Engine::meeting_held(const Caller& who, const std::string& body, const std::string& day,
                            const std::vector<std::string>& attended, store::Batch& batch) {
  std::string error;
  Meeting* m = find_meeting(body, day, error);
  if (m == nullptr) return Result::fail(error);
  for (const auto& a : attended) {
    if (config_->directory.person(a) == nullptr) return Result::fail(unknown("person", a, config_->directory.person_ids()) + " in --attended");
  }
  if (m->date > today(m->config->calendar_of(*m->cycle))) {
    return Result::fail(describe(*m) + " is in the future; record it as held on or after the day");
  }
  // Quorum: each agency named by the body is present through a member or a
  // member's named deputy from the same agency.
  const Directory& dir = config_->directory;
  auto member = [&](const Person& p) { return m->cycle->members.empty() || std::count(p.roles.begin(), p.roles.end(), m->cycle->members) > 0; };
  std::vector<std::string> missing;
  for (const auto& agency : m->cycle->quorum) {
    bool present = std::any_of(attended.begin(), attended.end(), [&](const std::string& id) {
      const Person* p = dir.person(id);
      if (p == nullptr || p->agency != agency) return false;
      if (member(*p)) return true;
      const Person* principal = p->deputy_for.empty() ? nullptr : dir.person(p->deputy_for);
      return principal != nullptr && principal->agency == agency && member(*principal);
    });
    if (!present) missing.push_back(agency);
  }
  auto t = meeting_transition(m->state, MeetingEvent::hold);
  if (!t.ok) return Result::fail(describe(*m) + ": " + t.error);
  m->attended = attended;
  m->quorate = m->cycle->quorum.empty() ? -1 : (missing.empty() ? 1 : 0);
  json details{{"attended", attended}};
  if (!m->cycle->quorum.empty()) details["quorate"] = missing.empty();
  if (!missing.empty()) details["not_represented"] = missing;
  Result r = step(who, *m, MeetingEvent::hold, "", batch, details);
  if (m->quorate == 0) {
    notify(*m, nullptr, "inquorate", 0, 0, {m->cycle->chair}, clock_.now(), clock_.now(), batch);
    audit(batch, who.person, "meeting.inquorate", *m, "", {{"not_represented", missing}});
  }
  // The notes of the bodies that report here are presented at this meeting.
  for (auto& [id, other] : meetings_) {
    if (other.cycle->reports_to != m->cycle->id || other.state != MeetingState::notes_stand || other.date >= m->date) {
      continue;
    }
    Result presented = step(who, other, MeetingEvent::present, "presented", batch,
                            {{"at", m->id}});
    (void)presented;
  }
  r.data = meeting_json(*m);
  return r;
}

Result Engine::meeting_notes(const Caller& who, const std::string& body, const std::string& day, store::Batch& batch) {
  return step(who, body, day, MeetingEvent::draft_notes, "notes-drafted", batch);
}

Result Engine::meeting_amend(const Caller& who, const std::string& body, const std::string& day, const std::string& by,
                             store::Batch& batch) {
  std::string error;
  Meeting* m = find_meeting(body, day, error);
  if (m == nullptr) return Result::fail(error);
  const Person* p = config_->directory.person(by);
  if (p == nullptr) {
    return Result::fail(unknown("person", by, config_->directory.person_ids()) + " in --by");
  }
  auto t = meeting_transition(m->state, MeetingEvent::amend);
  if (!t.ok) return Result::fail(describe(*m) + ": " + t.error);
  m->amendments.push_back(by);
  return step(who, *m, MeetingEvent::amend, "", batch, {{"by", by}});
}

Result Engine::meeting_approve(const Caller& who, const std::string& body, const std::string& day, store::Batch& batch) {
  return step(who, body, day, MeetingEvent::stand, "notes-stand", batch);
}

Result Engine::meeting_move(const Caller& who, const std::string& body, const std::string& day, const std::string& to,
                            const std::string& reason, store::Batch& batch) {
  std::string error;
  Meeting* m = find_meeting(body, day, error);
  if (m == nullptr) return Result::fail(error);
  if (reason.empty()) return Result::fail("moving a meeting needs --reason");
  if (auto bad = text_problem(reason, kMaxReason, "the reason")) return Result::fail(*bad);
  auto next = parse_day(to);
  if (!next) return Result::fail("--to must be YYYY-MM-DD, found '" + to + "'");
  const Calendar& cal = m->config->calendar_of(*m->cycle);
  if (*next < today(cal)) return Result::fail("--to " + to + " is in the past");
  if (auto bad = day_problem(cal, *next, today(cal), "--to")) return Result::fail(*bad);
  if (!cal.is_working_day(*next)) {
    return Result::fail("--to " + to + " is not a working day (" + short_date(*next) + ")");
  }
  const Day from = m->date;
  auto t = meeting_transition(m->state, MeetingEvent::move);
  if (!t.ok) return Result::fail(describe(*m) + ": " + t.error);
  m->date = *next;
  m->moved_reason = reason;
  return step(who, *m, MeetingEvent::move, "", batch, {{"from", iso(from)}, {"to", iso(*next)}, {"reason", reason}});
}

Result Engine::chair_appoint(const Caller& who, const std::string& body, const std::string& person,
                             const std::string& year, store::Batch& batch) {
  auto cycle = config_->cycles.find(body);
  if (cycle == config_->cycles.end()) {
    return Result::fail(unknown("body", body, cycle_ids(*config_)));
  }
  const MeetingCycle& c = cycle->second;
  if (c.chair_term != "financial-year") {
    return Result::fail("the chair of " + body + " is not appointed each financial year (no chair_term in " + c.file + ")");
  }
  auto fy = FinancialYear::parse(year);
  if (!fy) return Result::fail("--year must look like 2026/27, found '" + year + "'");
  const Directory& dir = config_->directory;
  const Person* p = dir.person(person);
  if (p == nullptr) {
    return Result::fail(unknown("person", person, dir.person_ids()));
  }
  const Agency* agency = dir.agency(p->agency);
  const std::string agency_name = agency != nullptr ? agency->name : p->agency;
  if (!c.chair_same_partner_twice) {
    if (agency == nullptr || !agency->statutory) {
      return Result::fail("the chair of " + c.body + " comes from a statutory partner (" + one_of(dir.statutory_agencies()) +
                          "); " + p->name + " is from " + agency_name);
    }
    for (int neighbour : {fy->first_year - 1, fy->first_year + 1}) {
      auto other = chairs_.find({body, FinancialYear{neighbour}.label()});
      if (other == chairs_.end() || other->second.agency != p->agency) continue;
      const Person* holder = dir.person(other->second.person);
      return Result::fail(p->name + " cannot chair the " + c.body + " in " + fy->label() + ": the chair in " +
                          other->second.year + " is " + (holder != nullptr ? holder->name : other->second.person) +
                          ", also from " + agency_name +
                          ", and the chair cannot come from the same statutory partner two years running");
    }
  }
  store::ChairRecord rec{body, fy->label(), person, p->agency, clock_.now().time_since_epoch().count()};
  chairs_[{body, fy->label()}] = rec;
  batch.chairs.push_back(rec);
  record(batch, who.person, "chair.appointed", body_key(body), "",
         {{"year", fy->label()}, {"person", person}, {"agency", p->agency}}, c.version);
  return {true, "", {{"body", body}, {"year", fy->label()}, {"person", person}, {"agency", p->agency}}};
}

// --- queries ---------------------------------------------------------------------

json Engine::meeting_json(const Meeting& m) const {
  json milestones = json::array();
  for (const auto& d : m.milestones) {
    json j{{"id", d.stage->id}, {"title", d.stage->title}, {"due", iso(d.due)}, {"state", to_string(d.state)}};
    if (!d.stage->marks.empty()) j["marks"] = d.stage->marks;
    if (d.completed_on) j["completed_on"] = iso(*d.completed_on);
    milestones.push_back(j);
  }
  json j{{"id", m.id},
         {"body", m.cycle->id},
         {"body_title", m.cycle->body},
         {"date", iso(m.date)},
         {"state", to_string(m.state)},
         {"milestones", milestones}};
  if (m.planned != m.date) {
    j["planned"] = iso(m.planned);
    j["moved_reason"] = m.moved_reason;
  }
  if (!m.attended.empty()) j["attended"] = m.attended;
  if (m.quorate >= 0) j["quorate"] = m.quorate == 1;
  if (!m.amendments.empty()) j["amendments"] = m.amendments;
  return j;
}

Result Engine::meeting_list(const std::string& body) const {
  if (!body.empty() && config_->cycles.count(body) == 0) {
    return Result::fail(unknown("body", body, cycle_ids(*config_)));
  }
  std::vector<const Meeting*> list;
  for (const auto& [id, m] : meetings_) {
    if (body.empty() || m.cycle->id == body) list.push_back(&m);
  }
  std::sort(list.begin(), list.end(), [](const Meeting* a, const Meeting* b) {
    return std::tie(a->date, a->cycle->id) < std::tie(b->date, b->cycle->id);
  });
  json out = json::array();
  for (const auto* m : list) out.push_back(meeting_json(*m));
  json chairs = json::array();
  for (const auto& [key, c] : chairs_) {
    if (body.empty() || c.body == body) chairs.push_back({{"body", c.body}, {"year", c.year}, {"person", c.person}});
  }
  return {true, "", {{"meetings", out}, {"chairs", chairs}}};
}

}  // namespace docket::daemon
