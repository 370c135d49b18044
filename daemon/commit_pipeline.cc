#include "daemon/commit_pipeline.h"

#include "daemon/log.h"

#include <cstdlib>

#include <spdlog/spdlog.h>

namespace docket::daemon {

namespace asio = boost::asio;
using nlohmann::json;

CommitPipeline::CommitPipeline(asio::io_context& io, Engine& engine, store::Store& store, Services services)
    : io_(io),
      engine_(engine),
      store_(store),
      services_(std::move(services)),
      timer_(io),
      committer_(
          store, [this] { asio::post(io_, [this] { on_written(); }); },
          [this] { asio::post(io_, [this] { answer_synced(); }); }) {
  services_.advance_later = [this](const Caller& who, Instant from, Instant target) {
    return take_advance(who, from, target);
  };
}

CommitPipeline::~CommitPipeline() = default;

Result CommitPipeline::take_advance(const Caller& who, Instant from, Instant target) {
  if (advance_) {
    return Result::fail("a clock advance is already under way (to " + date::format("%FT%TZ", advance_->target) +
                        "); wait for its answer");
  }
  advance_ = Advance{{}, who, from, target};
  Result r;
  r.deferred = true;
  return r;
}

void CommitPipeline::start() {
  arm_timer();
  store_.end_reads();  // loading read the store; hold no snapshot until the first flush
  request_flush();     // what fell due while docketd was down fires first
}

void CommitPipeline::stop() {
  stopping_ = true;
  if (advance_) {
    // Cut short where it stands: what fired so far is committed with the
    // clock's position, and a restart resumes from there.
    const Instant reached = services_.clock.now();
    advance_recorded(engine_, advance_->who, advance_->from, advance_->target, reached, open_);
    if (advance_->asked.from) {
      advance_->asked.from->answer(reply_line(
          advance_->asked.request.id,
          Result::fail("docketd is stopping: the clock stopped at " + date::format("%FT%TZ", reached) +
                       " on its way to " + date::format("%FT%TZ", advance_->target) +
                       "; advance again once it is back")));
    }
    advance_.reset();
  }
  timer_.cancel();
  flush();  // writes everything queued, and answers it, before the stop returns
}

void CommitPipeline::write_all() {
  for (;;) {
    land_now();
    launch();
    if (flight_) continue;
    committer_.wait_synced();
    answer_synced();
    if (!flight_ && unsynced_.empty() && open_.empty() && open_answered_.empty()) return;
  }
}

bool CommitPipeline::idle() const {
  return pending_.empty() && !flush_scheduled_ && records_.empty() && !flight_ && unsynced_.empty() &&
         open_.empty() && open_answered_.empty() && !advance_;
}

void CommitPipeline::attach(DeliveryPump& pump) { pump_ = &pump; }

void CommitPipeline::attach(AuditPublisher& publisher) {
  publisher_ = &publisher;
  publisher.on_notice([this] { request_flush(); });
}

void CommitPipeline::submit(std::shared_ptr<Asker> from, Request r) {
  if (stopping_) {
    from->answer(reply_line(r.id, Result::fail("docketd is stopping; try again once it is back")));
    return;
  }
  pending_.push_back({std::move(from), std::move(r)});
  request_flush();
}

void CommitPipeline::submit_internal(Request r) {
  pending_.push_back({nullptr, std::move(r)});
  request_flush();
}

void CommitPipeline::record(store::AuditEntry e) {
  records_.push_back(std::move(e));
  request_flush();
}

void CommitPipeline::request_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  asio::post(io_, [this] { flush(); });
}

void CommitPipeline::flush() {
  flush_scheduled_ = false;
  for (auto& e : records_) open_.audit.push_back(std::move(e));
  records_.clear();
  run_pending();
  if (!open_fired_) fire_due();
  if (publisher_ != nullptr) publisher_->take(open_);  // a notice of the audit head
  if (!flight_) launch();  // else on_written() asks for another flush
  // Once stopping, the loop may run out of work while a batch is written
  // (the writer's completion is not work it waits for), and the database is
  // then closed: a flush then writes at once.
  if (stopping_) write_all();
  if (!stopping_) arm_timer();
  store_.end_reads();  // hold no snapshot while idle
}

void CommitPipeline::run_pending() {
  std::deque<Pending> work;
  work.swap(pending_);
  static const Caller daemon_itself{"system", {"administrator"}};
  for (auto& p : work) {
    const Caller& who = p.from ? p.from->caller() : daemon_itself;
    Result r = registry_.dispatch(services_, who, p.request, open_);
    if (r.deferred) {
      advance_->asked = std::move(p);  // answered when the advance ends
      continue;
    }
    if (!r.ok) refused(who, p.request, r, open_);
    open_answered_.emplace_back(std::move(p), std::move(r));
  }
}

// Commands may have made something due at once (a start dated in the past),
// and what fell due while docketd was down fires now. When many fall due
// together, a chunk goes with each batch. A rehearsal clock moves only with
// an advance, also a chunk at a time.
void CommitPipeline::fire_due() {
  const std::size_t before = open_.audit.size();
  if (advance_) {
    advance_slice();
  } else if (!services_.clock.is_virtual() || catching_up_) {
    more_due_ = engine_.fire_due(services_.clock.now(), open_, fire_chunk_);
    catching_up_ = catching_up_ && more_due_;
  }
  open_fired_ = open_.audit.size() != before;
}

void CommitPipeline::advance_slice() {
  auto& clock = *services_.virtual_clock;
  const bool more = engine_.fire_through(advance_->target, clock, open_, fire_chunk_);
  if (more) {
    open_.meta.emplace_back("virtual_now", std::to_string(clock.now().time_since_epoch().count()));
    log::server().info("clock.advancing reached={} to={}", date::format("%FT%TZ", clock.now()),
                 date::format("%FT%TZ", advance_->target));
    return;  // on_written() asks for the next slice
  }
  clock.set(std::max(advance_->from, advance_->target));
  Result r = advance_recorded(engine_, advance_->who, advance_->from, advance_->target, clock.now(), open_);
  open_answered_.emplace_back(std::move(advance_->asked), std::move(r));
  advance_.reset();
}

// A command that would have changed something, refused (not allowed, a bad
// argument, a review in the wrong state), is on the record with who asked:
// an inspector sees the attempt, not only what succeeded. Refused reads
// change nothing and are only logged.
void CommitPipeline::refused(const Caller& who, const Request& request, const Result& r, store::Batch& batch) {
  log::server().info("command.refused command={} by={} error={}", request.command, who.person, r.error);
  const bool known = registry_.args_of(request.command).has_value();
  if (known && !registry_.writes(request.command)) return;
  store::AuditSubject about;
  if (auto ref = request.args.find("ref"); ref != request.args.end() && ref->is_string()) about.ref = ref->get<std::string>();
  batch.audit.push_back(store::audit_entry(
      services_.clock.now(), who.person, "command.refused",
      json{{"command", request.command}, {"args", request.args}, {"error", r.error}}.dump(
          -1, ' ', false, json::error_handler_t::replace),
      std::move(about)));
}

void CommitPipeline::arm_timer() {
  if (services_.clock.is_virtual()) return;  // rehearsal time moves only with `clock advance`
  Instant now = services_.clock.now();
  Instant wake = now + std::chrono::minutes{1};
  if (auto next = engine_.next_fire()) wake = std::min(wake, std::max(*next, now));
  timer_.expires_at(std::chrono::system_clock::time_point{wake.time_since_epoch()});
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    request_flush();  // fire_due runs inside the flush, with any queued commands
  });
}

void CommitPipeline::launch() {
  if (publisher_ != nullptr) publisher_->take(open_);
  if (pump_ != nullptr) pump_->take(open_);  // routes the batch's messages, the publisher's too
  if (open_.empty() && open_answered_.empty()) return;
  auto f = std::make_unique<Flight>();
  if (open_fired_) refresh_replies();
  f->batch = std::move(open_);
  open_ = store::Batch{};
  f->answered = std::move(open_answered_);
  open_answered_.clear();
  open_fired_ = false;
  f->sealed = engine_.seal();
  if (pump_ != nullptr) pump_->launched();
  if (f->batch.empty()) {
    // Only replies to reads: they go once everything written before them
    // is on disk (what they show may come from it).
    f->write = committer_.started();
    unsynced_.push_back(std::move(f));
    answer_synced();
    return;
  }
  flight_ = std::move(f);
  flight_->write = committer_.start(flight_->batch);
}

void CommitPipeline::refresh_replies() {
  for (auto& [p, r] : open_answered_) {
    if (!r.text_shows.empty()) {
      if (auto now = engine_.review_text(r.text_shows); !now.empty()) r.text = std::move(now);
      continue;
    }
    if (!r.ok || !r.data.contains("ref") || !r.data.contains("stages")) continue;
    auto now = engine_.status(r.data["ref"].get<std::string>());
    if (now.ok) {
      for (const auto& [k, v] : now.data.items()) r.data[k] = v;
    }
  }
}

void CommitPipeline::on_written() {
  std::uint64_t sealed = 0;
  const std::optional<store::Batch> done = land(sealed);  // freed once the next is under way
  if (!done) return;
  // The writer is idle from here: what filled meanwhile goes at once, while
  // this batch is synced. That includes what delivery settled while the
  // batch was written: its request to commit found the writer busy, and
  // left in the dispatcher the delivery would wait for the next commit, which
  // in a rehearsal may never come (and a restart meanwhile would send it again).
  if (pump_ != nullptr) pump_->take(open_);
  if (!open_.empty() || !open_answered_.empty()) launch();
  landed(sealed);
}

void CommitPipeline::land_now() {
  if (flight_) {
    committer_.wait_written();
    std::uint64_t sealed = 0;
    if (land(sealed)) landed(sealed);
  }
  answer_synced();
}

std::optional<store::Batch> CommitPipeline::land(std::uint64_t& sealed) {
  if (!flight_ || committer_.writing()) return std::nullopt;  // landed already (land_now)
  if (auto error = committer_.error()) die(*error);
  auto f = std::move(flight_);
  store_.end_reads();                           // reads from here on see the batch
  if (store_.log_full()) store_.restart_log();  // nothing writes or reads now
  // Written: only the replies wait, for the sync.
  std::optional<store::Batch> done{std::move(f->batch)};
  sealed = f->sealed;
  unsynced_.push_back(std::move(f));
  return done;
}

void CommitPipeline::landed(std::uint64_t sealed) {
  engine_.committed(sealed);
  // What arrived while this batch was written goes next.
  if (!pending_.empty() || !open_.empty() || !open_answered_.empty() || !records_.empty() ||
      ((more_due_ || advance_) && !stopping_)) {
    request_flush();
  }
}

void CommitPipeline::answer_synced() {
  if (auto error = committer_.error()) die(*error);
  const std::uint64_t synced = committer_.synced();
  bool answered = false;
  while (!unsynced_.empty() && unsynced_.front()->write <= synced) {
    auto f = std::move(unsynced_.front());
    unsynced_.pop_front();
    // Its delivery outcomes are on disk, and its messages may go out.
    if (pump_ != nullptr) pump_->committed();
    for (auto& [p, r] : f->answered) {
      if (p.from) p.from->answer(reply_line(p.request.id, r));
    }
    answered = true;
  }
  if (answered && publisher_ != nullptr) publisher_->synced();
  if (answered && (!pending_.empty() || !records_.empty())) request_flush();
}

[[noreturn]] void CommitPipeline::die(const std::string& error) {
  // Memory may now be ahead of the database: stop, and let a restart
  // recover from what was committed. Nothing unacknowledged is lost.
  log::server().critical("store.commit_failed error=\"{}\" stopping so a restart recovers from the database", error);
  std::_Exit(70);
}

}  // namespace docket::daemon
