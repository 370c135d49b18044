#include "workflows/plan.h"

#include <algorithm>
#include <functional>

#include "workflows/recurrence.h"

namespace docket::workflows {
namespace {

// A computed point in time: a day, and a wall-clock time for clock hours.
struct Point {
  Day day;
  std::optional<LocalTime> at;
};

LocalTime at_midnight(Day d) { return LocalTime{d.time_since_epoch()}; }
Day day_of(LocalTime t) { return Day{date::floor<date::days>(t).time_since_epoch()}; }

std::string non_working_reason(const Calendar& cal, Day d) {
  if (const Holiday* h = cal.holiday(d)) return h->name;
  return "a " + weekday_name(d);
}

// Applies a duration to a point, explaining what happened on the way.
Point apply(const Calendar& cal, Point base, const Duration& d, Direction dir, std::vector<std::string>& notes) {
  if (d.unit == Unit::hours) {
    LocalTime from = base.at.value_or(at_midnight(base.day));
    LocalTime t = shift_hours(cal, from, d.count, dir);
    return {day_of(t), t};
  }
  Shifted s = shift(cal, base.day, d, dir);
  if (!s.skipped.empty()) notes.push_back("skipped " + describe_holidays(s.skipped));
  if (s.clamped) {
    notes.push_back("no such day in " + date::format("%B %Y", s.day) + ", so the last day of the month");
  }
  return {s.day, std::nullopt};
}

std::string anchor_words(const Anchor& a) {
  switch (a.kind) {
    case AnchorKind::start: return "start";
    case AnchorKind::meeting: return "the meeting";
    case AnchorKind::supplied_date: return "date." + a.name;
    case AnchorKind::item_due: return a.name;
    case AnchorKind::item_completed: return a.name + " completed";
  }
  return {};
}

std::string point_words(const Point& p) {
  return p.at ? short_date(p.day) + date::format(" %H:%M", *p.at) : short_date(p.day);
}

class Planner {
 public:
  Planner(const Config& config, const Calendar& cal, const std::vector<Stage>& stages, bool lenient)
      : config_(config), cal_(cal), stages_(stages), lenient_(lenient), items_(stages.size()), done_(stages.size()) {}

  // Base points for the anchors that are not other items.
  std::optional<Point> start;
  std::optional<Point> meeting;
  const std::map<std::string, Day>* dates = nullptr;
  const std::map<std::string, Day>* completed = nullptr;
  const std::map<std::string, Day>* fixed_due = nullptr;

  std::vector<PlannedItem> run() {
    for (std::size_t i = 0; i < stages_.size(); ++i) compute(i);
    return items_;
  }

 private:
  std::size_t index(const std::string& id) const {
    for (std::size_t i = 0; i < stages_.size(); ++i) {
      if (stages_[i].id == id) return i;
    }
    return stages_.size();
  }

  const PlannedItem& compute(std::size_t i) {
    if (done_[i]) return items_[i];
    done_[i] = true;  // the loader rejected cycles, so this only guards recursion
    const Stage& s = stages_[i];
    PlannedItem& item = items_[i];
    item.stage = &s;
    item.opens = opens_words(s);
    std::vector<std::string> notes;
    std::optional<Point> base;
    std::string base_words;
    const Anchor& a = s.due.anchor;
    switch (a.kind) {
      case AnchorKind::start:
        base = start;
        base_words = start ? point_words(*start) : "";
        break;
      case AnchorKind::meeting:
        base = meeting;
        base_words = meeting ? short_date(meeting->day) : "";
        break;
      case AnchorKind::supplied_date: {
        if (dates != nullptr && dates->count(a.name) > 0) {
          base = Point{dates->at(a.name), std::nullopt};
          base_words = short_date(base->day);
        } else if (!lenient_) {
          throw PlanError("the deadline of stage '" + s.id + "' counts from date." + a.name +
                          ": give it with --date " + a.name + "=YYYY-MM-DD");
        }
        break;
      }
      case AnchorKind::item_due:
      case AnchorKind::item_completed: {
        std::size_t t = index(a.name);
        const PlannedItem& other = compute(t);
        if (a.kind == AnchorKind::item_completed && completed != nullptr && completed->count(a.name) > 0) {
          base = Point{completed->at(a.name), std::nullopt};
          base_words = "completed " + short_date(base->day);
        } else if (other.due) {
          base = Point{*other.due, other.due_at};
          if (a.kind == AnchorKind::item_completed) {
            base_words = "assuming it is completed on its due day, " + point_words(*base);
          } else {
            base_words = "due " + point_words(*base);
          }
        }
        break;
      }
    }
    if (!s.due.next_meeting_of.empty() && base) {
      auto it = config_.cycles.find(s.due.next_meeting_of);
      if (it != config_.cycles.end()) {
        auto next = meeting_dates(config_, it->second, base->day + date::days{1}, base->day + date::days{730});
        if (next.empty()) {
          notes.push_back("no meeting of " + s.due.next_meeting_of + " is scheduled within two years of " +
                          short_date(base->day));
          base.reset();
        } else {
          std::string after = anchor_words(a) + " " + base_words;
          base = Point{next.front().first, std::nullopt};
          item.due = base->day;
          item.why = "next meeting of " + s.due.next_meeting_of + " after " + after;
        }
      }
      if (item.due) finish(item, s, notes);
      else item.notes = notes;
      return items_[i];
    }
    if (fixed_due != nullptr && fixed_due->count(s.id) > 0) {
      item.due = fixed_due->at(s.id);
      item.why = "moved to " + short_date(*item.due) + " (extended, or shifted by a pause); the rule was " + s.due_text;
      finish(item, s, notes);
      return items_[i];
    }
    if (!base) {
      item.why = s.due_text + " (not yet known)";
      item.notes = notes;
      return items_[i];
    }
    Point due = apply(cal_, *base, s.due.offset, s.due.direction, notes);
    if (s.due.offset.unit != Unit::hours && !cal_.is_working_day(due.day)) {
      Day rolled = roll(cal_, due.day, s.roll);
      if (rolled != due.day) {
        notes.push_back("fell on " + non_working_reason(cal_, due.day) + " " + short_date(due.day) + ", moved to the " +
                        to_string(s.roll));
        due.day = rolled;
      } else {
        notes.push_back("falls on " + non_working_reason(cal_, due.day) + ", not a working day");
      }
    }
    item.due = due.day;
    item.due_at = due.at;
    item.why = s.due_text + " (" + base_words + ")";
    finish(item, s, notes);
    return items_[i];
  }

  void finish(PlannedItem& item, const Stage& s, std::vector<std::string>& notes) {
    for (const auto& n : notes) item.why += "; " + n;
    notes.clear();
    Point due{*item.due, item.due_at};
    const Day earliest = start ? start->day : Day::min();
    for (const auto& r : s.reminders) {
      std::vector<std::string> ignored;
      Point p = apply(cal_, due, r.before, Direction::before, ignored);
      PlannedNotice n{p.day, p.at, to_string(r.before) + " before the deadline", r.to, std::nullopt};
      if (n.to.empty()) n.to = {s.owner};
      if (!p.at && !cal_.is_working_day(p.day)) {
        Day rolled = roll(cal_, p.day, Roll::previous_working_day);
        n.why += "; " + short_date(p.day) + " is " + non_working_reason(cal_, p.day) + ", so the working day before";
        n.day = rolled;
      }
      if (n.day < earliest) {
        item.notes.push_back("the reminder " + to_string(r.before) + " before would fall before the start, so it is not sent");
        continue;
      }
      item.reminders.push_back(std::move(n));
    }
    for (const auto& rung : s.escalations) {
      std::vector<std::string> ignored;
      Point p = apply(cal_, due, rung.after, Direction::after, ignored);
      PlannedNotice n{p.day, p.at, to_string(rung.after) + " overdue", rung.to, rung.repeat};
      if (!p.at && !cal_.is_working_day(p.day)) {
        n.why += "; " + short_date(p.day) + " is " + non_working_reason(cal_, p.day) + ", so the next working day";
        n.day = roll(cal_, p.day, Roll::next_working_day);
      }
      if (rung.repeat) n.why += ", then every " + to_string(*rung.repeat) + " until met";
      item.escalations.push_back(std::move(n));
    }
  }

  std::string opens_words(const Stage& s) const {
    if (s.opens_after.empty()) return meeting ? "" : "opens when the review starts";
    if (s.opens_on_outcome.empty()) return "opens when " + s.opens_after + " is completed";
    return "opens only if " + s.opens_after + " has outcome '" + s.opens_on_outcome + "'";
  }

  const Config& config_;
  const Calendar& cal_;
  const std::vector<Stage>& stages_;
  bool lenient_;
  std::vector<PlannedItem> items_;
  std::vector<bool> done_;
};

}  // namespace

std::string describe_holidays(const std::vector<const Holiday*>& holidays) {
  std::string out;
  for (std::size_t i = 0; i < holidays.size(); ++i) {
    if (i > 0) out += (i + 1 == holidays.size()) ? " and " : ", ";
    out += holidays[i]->name + " (" + short_date(holidays[i]->day) + ")";
  }
  return out;
}

ReviewPlan plan_review(const Config& config, const ReviewDefinition& def, const PlanInputs& inputs) {
  ReviewPlan plan{&def, inputs, {}};
  Planner p(config, config.calendar_of(def), def.stages, false);
  p.start = Point{day_of(inputs.start), inputs.start_has_time ? std::optional<LocalTime>(inputs.start) : std::nullopt};
  p.dates = &inputs.dates;
  p.completed = &inputs.completed;
  p.fixed_due = &inputs.fixed_due;
  plan.stages = p.run();
  return plan;
}

std::vector<std::pair<Day, std::string>> meeting_dates(const Config& config, const MeetingCycle& cycle, Day from,
                                                       Day to) {
  const Calendar& cal = config.calendar_of(cycle);
  const MeetingSchedule& sch = cycle.schedule;
  std::vector<std::pair<Day, std::string>> raw;
  // Widen the window so a date rolled into [from, to] is not missed.
  const date::days margin{10};
  if (!sch.dates.empty()) {
    for (Day d : sch.dates) {
      if (d >= from - margin && d <= to + margin) raw.emplace_back(d, "listed in " + cycle.file);
    }
  } else if (!sch.rrule.empty()) {
    for (Day d : expand_rrule(sch.rrule, sch.rrule_start, from - margin, to + margin)) {
      raw.emplace_back(d, "RRULE " + sch.rrule);
    }
  } else if (!sch.sequenced_with.empty()) {
    auto other = config.cycles.find(sch.sequenced_with);
    if (other != config.cycles.end()) {
      const date::days span{static_cast<int>(approximate_days(sch.sequenced_offset)) + 40};
      for (const auto& [d, why] : meeting_dates(config, other->second, from - span, to + span)) {
        std::vector<std::string> ignored;
        Point p = apply(cal, {d, std::nullopt}, sch.sequenced_offset, sch.sequenced_direction, ignored);
        raw.emplace_back(p.day, to_string(sch.sequenced_offset) +
                                    (sch.sequenced_direction == Direction::before ? " before " : " after ") +
                                    sch.sequenced_with + " on " + short_date(d));
      }
    }
  }
  std::vector<std::pair<Day, std::string>> out;
  for (auto& [d, why] : raw) {
    Day moved = roll(cal, d, sch.on_non_working_day);
    if (moved != d) why += "; moved from " + short_date(d) + " (" + non_working_reason(cal, d) + ")";
    if (moved >= from && moved <= to) out.emplace_back(moved, why);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
            out.end());
  return out;
}

CyclePlan plan_cycle(const Config& config, const MeetingCycle& cycle, Day from, Day to) {
  CyclePlan plan{&cycle, from, to, {}};
  for (const auto& [d, why] : meeting_dates(config, cycle, from, to)) {
    Planner p(config, config.calendar_of(cycle), cycle.milestones, true);
    p.meeting = Point{d, std::nullopt};
    plan.meetings.push_back({d, why, p.run()});
  }
  return plan;
}

std::vector<PlannedItem> plan_meeting(const Config& config, const MeetingCycle& cycle, Day date,
                                      const std::map<std::string, Day>& completed) {
  Planner p(config, config.calendar_of(cycle), cycle.milestones, true);
  p.meeting = Point{date, std::nullopt};
  p.completed = &completed;
  return p.run();
}

void check_dates_before_start(const Config& config, Diagnostics& diags) {
  const Day first{date::year{2026} / date::January / 1};
  for (const auto& [id, def] : config.reviews) {
    std::vector<bool> reported(def.stages.size(), false);
    // A reminder that falls before the start for every start day can never be sent.
    std::vector<std::vector<bool>> reminder_ever_sent(def.stages.size());
    for (std::size_t i = 0; i < def.stages.size(); ++i) reminder_ever_sent[i].assign(def.stages[i].reminders.size(), false);
    for (Day start = first; start < first + date::days{730}; start += date::days{1}) {
      Planner p(config, config.calendar_of(def), def.stages, true);
      p.start = Point{start, std::nullopt};
      auto items = p.run();
      for (std::size_t i = 0; i < items.size(); ++i) {
        const Stage& s = def.stages[i];
        if (!items[i].due) {
          reminder_ever_sent[i].assign(s.reminders.size(), true);  // counted from a supplied date: unknowable
          continue;
        }
        for (std::size_t r = 0; r < s.reminders.size(); ++r) {
          for (const auto& n : items[i].reminders) {
            if (n.why.starts_with(to_string(s.reminders[r].before) + " before")) reminder_ever_sent[i][r] = true;
          }
        }
        if (reported[i] || *items[i].due >= start) continue;
        reported[i] = true;
        diags.error(s.due_anchor_where, "stage '" + s.id + "' would fall due before the review starts: a review started on " +
                                            short_date(start) + " would have it due on " + short_date(*items[i].due) +
                                            " ('" + s.due_text + "'); count it from something later or shorten the distance");
      }
    }
    for (std::size_t i = 0; i < def.stages.size(); ++i) {
      for (std::size_t r = 0; r < def.stages[i].reminders.size(); ++r) {
        if (reminder_ever_sent[i][r] || reported[i]) continue;
        diags.error(def.stages[i].due_where, "the reminder " + to_string(def.stages[i].reminders[r].before) +
                                                 " before stage '" + def.stages[i].id +
                                                 "' always falls before the review starts, so it would never be sent; "
                                                 "shorten it or remove it");
      }
    }
  }
}

}  // namespace docket::workflows
