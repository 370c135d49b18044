#pragma once
// Publishes the head of the audit trail (the newest durable record's number
// and hash) where someone who can write only the database cannot change it:
//
//   - the journal: `audit.head seq=1234 hash=3f1c... at=2026-03-02T08:00:00Z
//     keyed_from=57 signature=... reason=start`;
//   - the head file (store/audit_head.h) that `docket audit verify` and the
//     next start of docketd check the trail against;
//   - the [audit] recipient (the independent chair, say), at most every
//     notice_hours: an `audit-head` notice through the outbox and their
//     channel, carrying the head and its Ed25519 signature over
//     "SEQ:HASH:TIME" (store/audit_key.h), which they check with the public
//     key alone and keep for `docket audit verify --expect-head`.
//
// When: at every start (after the start-up check) and stop, every
// publish_minutes while the head moves, and as soon as publish_records
// records were added since the last publication. Only durable records are
// published: a head file never names a record a power cut could take back.
// [audit] is read at start; a reload does not change it.

#include <functional>
#include <string>

#include <boost/asio.hpp>

#include "daemon/audit_anchor.h"
#include "daemon/clock.h"
#include "store/store.h"
#include "workflows/config.h"

namespace docket::daemon {

class AuditPublisher {
 public:
  // `anchor` gives the key, the head file and the head last published (for
  // the time of the recipient's last notice). `clock` is docket's (virtual
  // when rehearsing): it dates the notice's outbox row; publication times
  // are the wall clock's.
  AuditPublisher(boost::asio::io_context& io, store::Store& store, const Clock& clock,
                 const workflows::AuditSettings& settings, const AuditAnchor& anchor);

  // Publishes the durable head now, saying why ("start", "stop"); a notice
  // due to the recipient goes into `batch`, for the caller to commit.
  void publish(const char* reason, store::Batch& batch);
  // Starts and stops the timer of publish_minutes.
  void start();
  void stop();
  // After batches became durable: publishes once publish_records were added.
  void synced();
  // A notice waiting to be committed goes into the batch being filled;
  // `request_commit` is called when one is waiting.
  void take(store::Batch& batch);
  void on_notice(std::function<void()> request_commit) { request_commit_ = std::move(request_commit); }

  const store::PublishedHead& last() const { return last_; }

 private:
  void arm();
  void publish_later(const char* reason);

  store::Store& store_;
  const Clock& clock_;
  workflows::AuditSettings settings_;
  AuditPaths paths_;
  std::shared_ptr<const store::AuditKey> key_;
  store::PublishedHead last_;
  store::Batch waiting_;
  std::function<void()> request_commit_;
  boost::asio::steady_timer timer_;
};

}  // namespace docket::daemon
