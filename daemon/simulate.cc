// Running a scenario (daemon/simulate.h) on the daemon's engine, a virtual
// clock and an in-memory store, and `docket simulate` itself.

#include "daemon/simulate.h"

#include "daemon/notice.h"

#include <algorithm>
#include <ostream>

#include "daemon/commands.h"

namespace docket::daemon {

namespace fs = std::filesystem;
using nlohmann::json;
using workflows::Diagnostics;

namespace {

SimNotification notification_of(const store::OutboxMessage& m) {
  SimNotification n;
  n.at = Instant{std::chrono::seconds{m.created_at}};
  n.kind = m.kind;
  n.ref = m.ref;
  n.stage = m.stage;
  n.person = m.person;
  n.role = m.role;
  n.late = m.late;
  const Notice notice = read_notice(m);
  n.rung = notice.rung;
  n.repeat = notice.repeat;
  return n;
}

// Whether audit entry `e` is the record of sending `n` (the engine writes
// both in the same call).
bool accounts_for(const SimEvent& e, const SimNotification& n) {
  if (e.ref != n.ref || e.at != n.at || !e.details.is_object()) return false;
  if (n.kind == "reminder") return e.kind == "deadline.reminder" && e.stage == n.stage;
  if (n.kind == "escalation") {
    return e.kind == "deadline.escalated" && e.stage == n.stage && e.details.value("rung", 0) == n.rung &&
           e.details.value("repeat", 0) == n.repeat;
  }
  if (n.kind == "paused") return e.kind == "review.paused";
  return false;
}

// Adds what one committed batch holds to the transcript: its audit entries,
// and the outbox messages the store took as new, each with the entry that
// sent it.
void record(Transcript& t, const store::Batch& b, const std::vector<store::OutboxMessage>& fresh, int step) {
  const std::size_t first = t.events.size();
  for (const auto& a : b.audit) {
    SimEvent e;
    e.at = Instant{std::chrono::seconds{a.at}};
    e.actor = a.actor;
    e.kind = a.kind;
    e.ref = a.ref;
    e.stage = a.stage;
    e.details = json::parse(a.details, nullptr, false);
    if (e.details.is_discarded()) e.details = json::object();
    e.step = step;
    t.events.push_back(std::move(e));
  }
  std::vector<SimEntry> loose;
  for (const auto& m : fresh) {
    SimNotification n = notification_of(m);
    auto owner = std::find_if(t.events.begin() + static_cast<std::ptrdiff_t>(first), t.events.end(),
                              [&](const SimEvent& e) { return accounts_for(e, n); });
    if (owner != t.events.end()) {
      owner->notifications.push_back(std::move(n));
    } else {
      loose.push_back({SimEntry::Type::notification, t.loose.size()});
      t.loose.push_back(std::move(n));
    }
  }
  // A loose message goes after the entries of its moment. A clock advance
  // fires a review at a time (Engine::fire_through), so its entries are put
  // in time order, and those of one moment in the order of their references,
  // as stepping the clock fires them; a command's stay in its own order.
  std::vector<SimEntry> entries;
  for (std::size_t i = first; i < t.events.size(); ++i) entries.push_back({SimEntry::Type::event, i});
  entries.insert(entries.end(), loose.begin(), loose.end());
  auto when = [&](const SimEntry& x) {
    return x.type == SimEntry::Type::event ? t.events[x.index].at : t.loose[x.index].at;
  };
  auto ref = [&](const SimEntry& x) -> const std::string& {
    return x.type == SimEntry::Type::event ? t.events[x.index].ref : t.loose[x.index].ref;
  };
  std::stable_sort(entries.begin(), entries.end(), [&](const SimEntry& x, const SimEntry& y) {
    if (when(x) != when(y)) return when(x) < when(y);
    return step == 0 && ref(x) < ref(y);
  });
  t.order.insert(t.order.end(), entries.begin(), entries.end());
}

}  // namespace

std::size_t Transcript::notification_count() const {
  std::size_t n = loose.size();
  for (const auto& e : events) n += e.notifications.size();
  return n;
}

Transcript run_scenario(const Scenario& sc) {
  Transcript t;
  VirtualClock clock(sc.start_instant);
  store::Store st(":memory:", clock.mode());
  Engine engine(sc.config, clock, &st);
  const CommandRegistry registry;
  Services services{engine, clock, &clock, {}, {}, {}};
  auto commit = [&](store::Batch& b, int step) {
    if (b.empty()) return;
    auto fresh = st.commit(b);
    engine.committed();
    ++t.batches;
    record(t, b, fresh, step);
  };

  // As docketd starts: the definition texts go into the store, and what is
  // due at start-up (the meetings of every cycle) is created.
  store::Batch boot;
  boot.definitions = Engine::definitions_of(*sc.config, clock.now().time_since_epoch().count());
  engine.fire_due(clock.now(), boot);
  commit(boot, 0);

  t.steps.reserve(sc.steps.size());
  for (const auto& s : sc.steps) {
    store::Batch timed;
    advance_to(engine, clock, s.instant, timed);
    commit(timed, 0);

    const workflows::Person* person = sc.config->directory.person(s.as);
    const Caller who{s.as, person != nullptr ? person->roles : std::vector<std::string>{}};
    Request request{s.number, s.command, s.args};
    store::Batch batch;
    Result result = registry.dispatch(services, who, request, batch);
    // docketd on the system clock fires what a command made due at once
    // (a start dated in the past) in the same flush.
    engine.fire_due(clock.now(), batch);
    const bool as_expected = result.ok == s.expect_ok;
    if (!as_expected) ++t.mismatches;
    t.order.push_back({SimEntry::Type::step, t.steps.size()});
    t.steps.push_back({&s, std::move(result), as_expected});
    commit(batch, s.number);
  }
  store::Batch last;
  advance_to(engine, clock, sc.end_instant, last);
  commit(last, 0);

  t.reviews = st.reviews();
  t.deadlines = st.deadlines();
  t.audit_records = st.audit().size();
  return t;
}

int simulate(const fs::path& path, bool as_json, std::ostream& out, std::ostream& err) {
  Diagnostics diags;
  auto sc = load_scenario(path, diags);
  if (!sc) {
    auto list = diags.sorted();
    for (const auto& d : list) err << workflows::format(d) << '\n';
    err << path.string() << ": " << list.size() << (list.size() == 1 ? " error" : " errors") << "; nothing was run\n";
    return 2;
  }
  Transcript t;
  try {
    t = run_scenario(*sc);
  } catch (const std::exception& e) {
    err << path.string() << ": the simulation stopped: " << e.what() << '\n';
    return 1;
  }
  if (as_json) {
    out << transcript_json(*sc, t).dump(2, ' ', false, json::error_handler_t::replace) << '\n';
  } else {
    print_table(*sc, t, out);
  }
  if (t.mismatches > 0) {
    err << path.string() << ": " << t.mismatches << (t.mismatches == 1 ? " step" : " steps")
        << " did not go as expected\n";
    return 1;
  }
  return 0;
}

}  // namespace docket::daemon
