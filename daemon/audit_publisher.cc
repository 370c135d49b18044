#include "daemon/audit_publisher.h"

#include "daemon/log.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace docket::daemon {

namespace {

std::int64_t wall_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

AuditPublisher::AuditPublisher(boost::asio::io_context& io, store::Store& store, const Clock& clock,
                               const workflows::AuditSettings& settings, const AuditAnchor& anchor)
    : store_(store), clock_(clock), settings_(settings), paths_(anchor.paths), key_(anchor.key), timer_(io) {
  if (anchor.head.state == store::HeadFile::State::authentic) last_ = anchor.head.head;
}

void AuditPublisher::publish(const char* reason, store::Batch& batch) {
  const store::ChainHead head = store_.durable_head();
  const std::int64_t now = wall_seconds();
  store::PublishedHead p{head.seq, head.hash, store_.keyed_from(), now, last_.noticed_at};
  const bool notice = !settings_.recipient.empty() && head.seq > 0 &&
                      now - last_.noticed_at >= std::chrono::seconds(settings_.notice_every).count();
  if (notice) p.noticed_at = now;
  try {
    store::write_head_file(paths_.head, p, *key_);
  } catch (const std::exception& e) {
    // The head file lags; the next publication tries again. The trail is
    // only ever longer than the file says, which is no alarm.
    log::audit().error("audit.head_unwritten path={} error={}", paths_.head.string(), e.what());
  }
  const std::string statement = store::head_statement(p.seq, p.hash, p.at);
  const std::string signature = key_->sign(statement);
  log::audit().info("audit.head seq={} hash={} at={} keyed_from={} signature={} reason={}", p.seq, p.hash,
               store::utc_text(p.at), p.keyed_from, signature, reason);
  last_ = p;
  if (!notice) return;
  store::OutboxMessage m;
  m.key = "audit-head/" + std::to_string(p.seq) + "/" + std::to_string(p.at);
  m.created_at = clock_.now().time_since_epoch().count();
  m.kind = "audit-head";
  m.person = settings_.recipient;
  m.payload = nlohmann::json{{"seq", p.seq},
                             {"hash", p.hash},
                             {"published", store::utc_text(p.at)},
                             {"statement", statement},
                             {"signature", signature},
                             {"public_key", key_->public_key()},
                             {"key_id", key_->id()}}
                  .dump();
  batch.outbox.push_back(std::move(m));
}

void AuditPublisher::start() { arm(); }

void AuditPublisher::stop() { timer_.cancel(); }

void AuditPublisher::arm() {
  timer_.expires_after(settings_.publish_every);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (store_.durable_head().seq != last_.seq) publish_later("timer");
    arm();
  });
}

void AuditPublisher::synced() {
  if (store_.durable_head().seq - last_.seq >= settings_.publish_records) publish_later("records");
}

void AuditPublisher::publish_later(const char* reason) {
  const std::size_t before = waiting_.outbox.size();
  publish(reason, waiting_);
  if (waiting_.outbox.size() != before && request_commit_) request_commit_();
}

void AuditPublisher::take(store::Batch& batch) {
  for (auto& m : waiting_.outbox) batch.outbox.push_back(std::move(m));
  waiting_.outbox.clear();
}

}  // namespace docket::daemon
