#include "daemon/dispatcher.h"

#include "daemon/log.h"

#include <pthread.h>

#include <limits>

#include <spdlog/spdlog.h>

#include "daemon/messages.h"
#include "notifiers/backoff.h"
#include "workflows/dates.h"

namespace docket::daemon {

namespace asio = boost::asio;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

// How often the dispatcher looks at the outbox when nothing is scheduled
// sooner, so rows written by another path are never left waiting long.
constexpr milliseconds kIdleWake{60'000};

store::OutboxUpdate as_update(const store::OutboxMessage& m) {
  store::OutboxUpdate u;
  u.id = m.id;
  u.state = m.state;
  u.channel = m.channel;
  u.attempts = m.attempts;
  u.next_attempt = m.next_attempt;
  u.hold_until = m.hold_until;
  u.first_attempt = m.first_attempt;
  u.last_error = m.last_error;
  u.delivered_at = m.delivered_at;
  u.route = m.route;
  return u;
}

std::string iso_ms(std::int64_t unix_ms) {
  return workflows::iso_utc(std::chrono::sys_seconds{std::chrono::seconds{unix_ms / 1000}});
}

}  // namespace

Dispatcher::Dispatcher(asio::io_context& io, store::Store& store, const Clock& clock, Setup setup, WallClock wall)
    : io_(io),
      store_(store),
      clock_(clock),
      wall_(std::move(wall)),
      shared_(std::make_shared<Shared>()),
      timer_(io),
      rng_(std::random_device{}()) {
  if (!wall_) wall_ = [] { return std::chrono::system_clock::now(); };
  shared_->wake = [this] { asio::post(io_, [this] { drain(); }); };
  configure(std::move(setup));
}

Dispatcher::~Dispatcher() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->stopping = true;
    shared_->wake = nullptr;
  }
  shared_->work.notify_all();
  for (auto& t : workers_) {
    if (t.joinable()) t.detach();  // a worker still in an attempt finishes on its own; it holds `shared_`
  }
}

void Dispatcher::configure(Setup setup) {
  setup_ = std::move(setup);
  notifiers::Services services;
  // A message is dated by the real clock, also in a rehearsal.
  services.wall_clock = [] { return std::chrono::system_clock::now(); };
  // Attempts in flight keep the notifier they started with.
  notifiers_.clear();
  queues_.clear();
  for (const auto& [name, channel] : setup_.delivery->channels) {
    notifiers_.emplace(name, std::shared_ptr<notifiers::Notifier>(channel.create(services)));
    queues_.emplace(name, Queue{});
  }
  grow_pool();
}

void Dispatcher::grow_pool() {
  const std::size_t wanted =
      std::min<std::size_t>(32, static_cast<std::size_t>(setup_.delivery->in_flight) * notifiers_.size());
  while (workers_.size() < wanted) {
    workers_.emplace_back([shared = shared_] {
      ::pthread_setname_np(::pthread_self(), "docketd-send");  // for top -H and perf
      for (;;) {
        Job job;
        {
          std::unique_lock lock(shared->mu);
          shared->work.wait(lock, [&] { return shared->stopping || !shared->jobs.empty(); });
          if (shared->stopping) return;  // queued jobs are abandoned: their rows stay pending
          job = std::move(shared->jobs.front());
          shared->jobs.pop_front();
          ++shared->active;
        }
        notifiers::Delivery d;
        try {
          d = job.notifier->deliver(job.message);
        } catch (const std::exception& e) {
          d = {notifiers::Outcome::temporary, std::string("the channel failed: ") + e.what(), {}};
        }
        std::lock_guard lock(shared->mu);
        shared->done.push_back({job.id, job.channel, std::move(d)});
        --shared->active;
        shared->idle.notify_all();
        if (shared->wake && !shared->drain_posted) {
          shared->drain_posted = true;
          shared->wake();
        }
      }
    });
  }
}

std::int64_t Dispatcher::wall_ms() const {
  return std::chrono::duration_cast<milliseconds>(wall_().time_since_epoch()).count();
}

void Dispatcher::start() {
  started_ = true;
  pump();
}

int Dispatcher::priority_of(std::string_view kind) {
  if (kind == "escalation") return 0;
  if (kind == "reminder") return 2;
  return 1;
}

void Dispatcher::take(store::Batch& batch) {
  for (auto& u : updates_) {
    taken_.push_back(u.id);
    batch.outbox_updates.push_back(std::move(u));
  }
  updates_.clear();
  for (auto& m : new_rows_) batch.outbox.push_back(std::move(m));
  new_rows_.clear();
  for (auto& e : audit_) batch.audit.push_back(std::move(e));
  audit_.clear();
  route(batch);
}

void Dispatcher::launched() {
  committing_.push_back(std::move(taken_));
  taken_.clear();
}

void Dispatcher::committed() {
  if (!committing_.empty()) {
    for (auto id : committing_.front()) busy_.erase(id);
    committing_.pop_front();
  }
  pump();
}

void Dispatcher::audit(const store::OutboxMessage& row, const std::string& kind, json details) {
  audit_.push_back(store::audit_entry(clock_.now(), "system", kind, details.dump(), {.ref = row.ref, .stage = row.stage}));
}

bool Dispatcher::quiet_now(Instant now) const {
  const auto& q = *setup_.delivery->quiet;
  const workflows::Config& config = *setup_.config;
  const auto& cal = config.calendar(config.daemon.calendar);
  const auto local = cal.zone()->to_local(now);
  const workflows::Day day = local_day(config, now);
  const auto minute = std::chrono::duration_cast<std::chrono::minutes>(local - date::floor<date::days>(local));
  return !cal.is_working_day(day) || minute < q.from || minute >= q.to;
}

Instant Dispatcher::quiet_ends(Instant now) const {
  const auto& q = *setup_.delivery->quiet;
  const workflows::Config& config = *setup_.config;
  const auto& cal = config.calendar(config.daemon.calendar);
  const auto local = cal.zone()->to_local(now);
  workflows::Day day = local_day(config, now);
  const auto minute = std::chrono::duration_cast<std::chrono::minutes>(local - date::floor<date::days>(local));
  if (!(cal.is_working_day(day) && minute < q.from)) {
    do {
      day += date::days{1};
    } while (!cal.is_working_day(day));
  }
  const date::local_seconds start{(day.time_since_epoch() + q.from)};
  return workflows::to_utc(cal.zone(), start);
}

void Dispatcher::hold(const store::OutboxMessage& row, Instant until) {
  store::OutboxUpdate u = as_update(row);
  u.hold_until = until.time_since_epoch().count();
  updates_.push_back(u);
  busy_.emplace(row.id, row);
  log::delivery().info("notify.held key={} kind={} until={} reason=quiet_hours", row.key, row.kind,
               workflows::iso_utc(until));
}

void Dispatcher::gather_digests() {
  const auto& digest = setup_.delivery->digest;
  if (!digest) return;
  const Instant now = clock_.now();
  const workflows::Config& config = *setup_.config;
  const auto& cal = config.calendar(config.daemon.calendar);
  const workflows::Day day = local_day(config, now);
  if (day == digest_day_ || !cal.is_working_day(day)) return;
  const auto local = cal.zone()->to_local(now);
  if (local - date::floor<date::days>(local) < digest->at) return;
  digest_day_ = day;
  std::map<std::string, std::vector<store::OutboxMessage>> by_person;
  for (auto& m : store_.outbox("digest")) {
    if (busy_.count(m.id) == 0) by_person[m.person].push_back(std::move(m));
  }
  for (const auto& [person, items] : by_person) {
    store::OutboxMessage d;
    // The first item's id makes the key unique even after a restart the same day.
    d.key = "digest:" + person + ":" + workflows::iso(day) + ":" + std::to_string(items.front().id);
    d.created_at = now.time_since_epoch().count();
    d.kind = "digest";
    d.person = person;
    json ids = json::array();
    for (const auto& item : items) {
      ids.push_back(item.id);
      store::OutboxUpdate u = as_update(item);
      u.state = "digested";
      u.last_error = "sent in " + d.key;
      updates_.push_back(u);
      busy_.emplace(item.id, item);
    }
    d.payload = json{{"items", ids}}.dump();
    log::delivery().info("notify.digest person={} items={} key={}", person, items.size(), d.key);
    new_rows_.push_back(std::move(d));
  }
  if (!by_person.empty() && request_commit_) request_commit_();
}

void Dispatcher::pump(Scan scan) {
  if (!started_ || stopping_) return;
  gather_digests();
  bool changed = false;
  if (scan == Scan::from_start) {
    for (auto& [name, q] : queues_) q = Queue{};
    // Rows not yet routed (stored before routing), or waiting for a channel
    // a reload took away, are routed afresh: they join their queues with
    // the next commit.
    for (const auto& route : store_.outbox_routes()) {
      if (notifiers_.count(route) == 0) changed |= reroute_queue(route);
    }
  }
  std::vector<Job> jobs;
  for (auto& [name, q] : queues_) {
    if (!q.starved) changed |= pump_queue(name, q, jobs);
  }
  if (!jobs.empty()) {
    {
      std::lock_guard lock(shared_->mu);
      for (auto& j : jobs) shared_->jobs.push_back(std::move(j));
    }
    shared_->work.notify_all();
  }
  if (changed && request_commit_) request_commit_();
  arm_timer();
}

// Reads one channel's queue on from where the last pump left it, and hands
// out as many attempts as the channel has free slots. The rows before the
// cursor are all busy (being tried, held, or waiting for their commit) until
// the next commit, when every queue is read from its start again: with a
// backlog of a million, reading every busy row again at each finished
// attempt made delivery quadratic. A queue is the channel's alone, so a
// backlog for a mail server that is down never stands in front of a
// webhook's messages.
bool Dispatcher::pump_queue(const std::string& channel, Queue& q, std::vector<Job>& jobs) {
  const DeliverySettings& delivery = *setup_.delivery;
  const workflows::Config& config = *setup_.config;
  int& running = in_flight_[channel];
  const Instant now = clock_.now();
  const std::int64_t wall = wall_ms();
  bool changed = false;
  int scanned = 0;
  while (running < delivery.in_flight && scanned < kScanLimit) {
    // About as many rows as there are free slots: after a finished attempt
    // one slot is free, and reading a page for it cost a page per message.
    const int page = std::min(kScanPage, delivery.in_flight - running);
    auto rows = store_.outbox_queue(channel, wall, now.time_since_epoch().count(), page, q.cursor);
    scanned += static_cast<int>(rows.size());
    rows_read_ += static_cast<std::int64_t>(rows.size());
    for (auto& row : rows) {
      if (running >= delivery.in_flight) return changed;  // the rest waits for a free slot
      q.cursor = {row.priority, row.next_attempt, row.id};
      if (busy_.count(row.id) != 0) continue;
      const workflows::Person* person = config.directory.person(row.person);
      if (row.kind != "digest" && delivery.digest && person != nullptr && person->digest &&
          delivery.digest->kinds.count(row.kind) != 0) {
        store::OutboxUpdate u = as_update(row);
        u.state = "digest";
        updates_.push_back(u);
        busy_.emplace(row.id, row);
        changed = true;
        continue;
      }
      if (delivery.quiet && delivery.quiet->hold.count(row.kind) != 0 && quiet_now(now)) {
        hold(row, quiet_ends(now));
        changed = true;
        continue;
      }
      if (const std::string& wanted = delivery.channel_for(person).name(); wanted != channel) {
        reroute(row, wanted);  // the person prefers another channel since a reload
        changed = true;
        continue;
      }
      Job job;
      job.id = row.id;
      job.channel = channel;
      job.notifier = notifiers_.at(channel);
      if (row.kind == "digest") {
        std::vector<store::OutboxMessage> items;
        json payload = json::parse(row.payload, nullptr, false);
        if (payload.is_object() && payload["items"].is_array()) {
          for (const auto& id : payload["items"]) {
            if (auto item = store_.outbox_message(id.get<std::int64_t>())) items.push_back(std::move(*item));
          }
        }
        job.message = render_digest(row.key, row.person, items, config, delivery, now);
      } else {
        job.message = render_message(row, config, delivery, now);
      }
      ++running;
      busy_.emplace(row.id, std::move(row));
      jobs.push_back(std::move(job));
    }
    if (rows.size() < static_cast<std::size_t>(page)) {
      q.starved = true;  // nothing more is ready until the next commit
      break;
    }
  }
  return changed;
}

bool Dispatcher::reroute_queue(const std::string& route) {
  const DeliverySettings& delivery = *setup_.delivery;
  const workflows::Config& config = *setup_.config;
  bool changed = false;
  store::QueuePosition at;
  for (int scanned = 0; scanned < kScanLimit;) {
    // Routed now, whenever they fall due.
    auto rows = store_.outbox_queue(route, std::numeric_limits<std::int64_t>::max(),
                                    std::numeric_limits<std::int64_t>::max(), kScanPage, at);
    scanned += static_cast<int>(rows.size());
    rows_read_ += static_cast<std::int64_t>(rows.size());
    for (const auto& row : rows) {
      at = {row.priority, row.next_attempt, row.id};
      if (busy_.count(row.id) != 0) continue;
      reroute(row, delivery.channel_for(config.directory.person(row.person)).name());
      changed = true;
    }
    if (rows.size() < static_cast<std::size_t>(kScanPage)) break;
  }
  return changed;
}

void Dispatcher::reroute(const store::OutboxMessage& row, const std::string& channel) {
  store::OutboxUpdate u = as_update(row);
  u.route = channel;
  updates_.push_back(std::move(u));
  busy_.emplace(row.id, row);
}

void Dispatcher::route(store::Batch& batch) const {
  const DeliverySettings& delivery = *setup_.delivery;
  const workflows::Config& config = *setup_.config;
  const std::int64_t wall = wall_ms();
  for (auto& m : batch.outbox) {
    if (!m.route.empty()) continue;
    m.route = delivery.channel_for(config.directory.person(m.person)).name();
    m.priority = priority_of(m.kind);
    m.next_attempt = wall;  // due now: after the retries already due, before those still waiting
  }
}

bool Dispatcher::settle_finished() {
  std::vector<Done> done;
  {
    std::lock_guard lock(shared_->mu);
    done.swap(shared_->done);
    shared_->drain_posted = false;
  }
  for (const auto& d : done) {
    auto it = busy_.find(d.id);
    if (it == busy_.end()) continue;
    --in_flight_[d.channel];
    settle(it->second, d.channel, d.delivery);
  }
  return !done.empty();
}

void Dispatcher::drain() {
  if (!settle_finished()) return;
  if (request_commit_) request_commit_();
  pump(Scan::from_cursor);
}

void Dispatcher::settle(const store::OutboxMessage& row, const std::string& channel, const notifiers::Delivery& d) {
  const DeliverySettings& delivery = *setup_.delivery;
  const std::int64_t wall = wall_ms();
  store::OutboxUpdate u = as_update(row);
  u.channel = channel;
  u.attempts = row.attempts + 1;
  if (u.first_attempt == 0) u.first_attempt = wall;
  json details{{"id", row.id},
               {"key", row.key},
               {"kind", row.kind},
               {"person", row.person},
               {"channel", channel},
               {"attempt", u.attempts},
               {"outcome", notifiers::to_string(d.outcome)},
               {"detail", d.detail}};
  std::string dead_reason;
  if (d.outcome == notifiers::Outcome::delivered) {
    u.state = "delivered";
    u.delivered_at = wall / 1000;
    u.last_error.clear();
  } else {
    u.last_error = d.detail;
    if (d.outcome == notifiers::Outcome::permanent) {
      dead_reason = "the channel refused it for good";
    } else {
      milliseconds delay = notifiers::next_attempt_delay(u.attempts, delivery.first_retry, delivery.max_retry, rng_);
      if (d.retry_after) delay = std::max<milliseconds>(delay, *d.retry_after);
      const std::int64_t next = wall + delay.count();
      if (next - u.first_attempt > std::chrono::duration_cast<milliseconds>(delivery.dead_after).count()) {
        dead_reason = "still failing after " + std::to_string(delivery.dead_after.count() / 3600) + " hours";
      } else {
        u.next_attempt = next;
        details["next_attempt"] = iso_ms(next);
      }
    }
    if (!dead_reason.empty()) u.state = "dead";
  }
  // The trail keeps the first failure of a message and how it ended (with
  // the attempts it took and the last error), not every retry: an outage of
  // a minute once wrote thousands of records. Each attempt is in the log.
  const bool first_failure = d.outcome != notifiers::Outcome::delivered && row.first_attempt == 0;
  if (d.outcome == notifiers::Outcome::delivered && u.attempts > 1) {
    details["attempts"] = u.attempts;
    details["last_error"] = row.last_error;
  }
  if (first_failure || d.outcome == notifiers::Outcome::delivered) audit(row, "notification.attempt", details);
  if (!dead_reason.empty()) {
    audit(row, "notification.dead",
          {{"id", row.id}, {"key", row.key}, {"channel", channel}, {"attempts", u.attempts}, {"reason", dead_reason},
           {"detail", d.detail}});
    log::delivery().error("notify.dead key={} channel={} attempts={} reason=\"{}\" detail=\"{}\"", row.key, channel,
                  u.attempts, dead_reason, d.detail);
  } else if (d.outcome != notifiers::Outcome::delivered) {
    log::delivery().warn("notify.retry key={} channel={} attempt={} next={} detail=\"{}\"", row.key, channel, u.attempts,
                 iso_ms(u.next_attempt), d.detail);
  } else {
    log::delivery().info("notify.delivered key={} channel={} attempt={} kind={} ref={} person={} late={}", row.key, channel,
                 u.attempts, row.kind, row.ref, row.person, row.late);
  }
  updates_.push_back(std::move(u));
}

void Dispatcher::arm_timer() {
  if (stopping_) return;
  const std::int64_t wall = wall_ms();
  std::int64_t wake = wall + kIdleWake.count();
  if (auto next = store_.outbox_next_attempt(wall)) wake = std::min(wake, *next);
  if (!clock_.is_virtual()) {
    // Docket's clock is the wall clock here: a hold or a digest is a time too.
    const std::int64_t now_s = clock_.now().time_since_epoch().count();
    if (auto held = store_.outbox_next_hold(now_s)) wake = std::min(wake, *held * 1000);
  }
  timer_.expires_after(milliseconds(std::max<std::int64_t>(wake - wall, 1)));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) pump();
  });
}

void Dispatcher::stop(milliseconds grace) {
  stopping_ = true;
  timer_.cancel();
  {
    std::unique_lock lock(shared_->mu);
    shared_->jobs.clear();  // not started: their rows stay pending for the next start
    shared_->idle.wait_for(lock, grace, [&] { return shared_->active == 0; });
    shared_->stopping = true;
    shared_->wake = nullptr;
  }
  shared_->work.notify_all();
  settle_finished();  // committed by the caller's last take()
  for (auto& t : workers_) {
    if (t.joinable()) t.detach();
  }
  workers_.clear();
}

Result Dispatcher::retry(const Caller& who, std::int64_t id, store::Batch& batch) {
  auto row = store_.outbox_message(id);
  if (!row) return Result::fail("there is no message " + std::to_string(id) + " in the outbox");
  if (row->state != "dead") {
    return Result::fail("message " + std::to_string(id) + " is " + row->state +
                        "; only a dead letter can be retried (see docket outbox --failed)");
  }
  store::OutboxUpdate u = as_update(*row);
  u.state = "pending";
  u.channel.clear();
  // Routed afresh: the person may prefer another channel now.
  u.route = setup_.delivery->channel_for(setup_.config->directory.person(row->person)).name();
  u.next_attempt = 0;
  u.hold_until = 0;
  u.first_attempt = 0;  // a new maximum age
  batch.outbox_updates.push_back(u);
  // Pending once written, but it goes only once the retry is on disk.
  busy_.emplace(id, *row);
  taken_.push_back(id);
  batch.audit.push_back(store::audit_entry(
      clock_.now(), who.person, "notification.retried",
      json{{"id", id}, {"key", row->key}, {"attempts", row->attempts}, {"last_error", row->last_error}}.dump(),
      {.ref = row->ref, .stage = row->stage}));
  return {true, "", json{{"id", id}, {"key", row->key}, {"state", "pending"}}};
}

}  // namespace docket::daemon
