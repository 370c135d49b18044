#pragma once
// The dispatcher: delivers the outbox through the configured channels, off
// the event loop.
//
// The outbox table is the queue. On the io thread the dispatcher reads the
// rows that are ready (pending, next attempt due, not held by quiet hours),
// renders each into a message and hands it to a small pool of worker threads,
// at most `in_flight` per channel. A worker makes one attempt and reports the
// outcome back to the io thread, which turns it into the row's new delivery
// state and audit records; the commit pipeline commits those with its next
// group commit (daemon/delivery_pump.h). Until then the row stays "busy",
// so it is never attempted twice at once.
//
// A temporary failure is retried after an exponential backoff with full
// jitter; a permanent one, or one still failing after `dead_after_hours`,
// becomes a dead letter (`docket outbox --failed`, `docket outbox retry ID`).
// A crash between a delivery and its commit sends that message again on
// restart with the same idempotency key (and so the same Message-ID).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

#include "daemon/clock.h"
#include "daemon/delivery_pump.h"
#include "daemon/delivery_settings.h"
#include "daemon/engine.h"
#include "notifiers/notifier.h"
#include "store/store.h"

namespace docket::daemon {

class Dispatcher : public DeliveryPump {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  // `clock` is docket's (virtual when rehearsing): quiet hours and digests
  // follow it. Retries follow `wall`, the real time peers recover in (in a
  // rehearsal, the rehearsal's time: see docketd.cc).
  Dispatcher(boost::asio::io_context& io, store::Store& store, const Clock& clock, Setup setup,
             WallClock wall = {});
  ~Dispatcher() override;
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Asks for a commit (results are waiting in take()): docketd points it
  // at CommitPipeline::request_flush().
  void on_results(std::function<void()> request_commit) { request_commit_ = std::move(request_commit); }
  // A reloaded configuration: new channels, templates and pacing.
  void configure(Setup setup);

  // Starts delivering what the outbox holds (also what a previous run left).
  void start();
  // Moves every outcome, hold and digest since the last call into `batch`,
  // and routes the batch's new messages (route()).
  void take(store::Batch& batch) override;
  // Puts each message of `batch` not yet routed in the queue of the channel
  // its person is served by, at its priority (priority_of), due now.
  void route(store::Batch& batch) const;
  // Escalations (0) go before other notices (1), and those before reminders (2).
  static int priority_of(std::string_view kind);
  // The batch given to take() since the last launched() is being committed.
  // committed() says the oldest batch launched is on disk: the rows whose
  // outcomes it held are free again, and new rows may be ready. Batches are
  // committed in the order they were launched; several may be under way.
  void launched() override;
  void committed() override;
  // Stops taking new work and waits up to `grace` for attempts in flight;
  // their outcomes are in the next take(). Attempts still running after that
  // are abandoned: their rows stay pending and go again on the next start.
  void stop(std::chrono::milliseconds grace);

  // `docket outbox retry ID`: a dead letter goes back in the queue.
  Result retry(const Caller& who, std::int64_t id, store::Batch& batch);

  std::size_t in_flight() const { return busy_.size(); }
  // Outbox rows read so far (for tests: each ready row is read about once).
  std::int64_t rows_read() const { return rows_read_; }

 private:
  struct Job {
    std::int64_t id = 0;
    std::string channel;
    std::shared_ptr<notifiers::Notifier> notifier;
    notifiers::Message message;
  };
  struct Done {
    std::int64_t id = 0;
    std::string channel;
    notifiers::Delivery delivery;
  };
  // What the workers share with the io thread; it outlives the dispatcher if
  // a worker is abandoned mid-attempt.
  struct Shared {
    std::mutex mu;
    std::condition_variable work;
    std::condition_variable idle;
    std::deque<Job> jobs;
    std::vector<Done> done;
    int active = 0;
    bool stopping = false;
    std::function<void()> wake;  // posts drain() to the io thread; cleared by stop()
    bool drain_posted = false;   // one drain() at a time is enough: it settles all done
  };

  // A channel's queue as the pumps since the last commit have read it.
  struct Queue {
    store::QueuePosition cursor;  // every ready row before it is busy
    bool starved = false;         // read to its end: nothing more until a commit
  };
  // Reads ready rows and hands out attempts. After a finished attempt the
  // read goes on from each queue's cursor; a commit may have made earlier
  // rows ready (a new message, a retry), so then every read starts again.
  enum class Scan { from_start, from_cursor };
  static constexpr int kScanPage = 64;
  static constexpr int kScanLimit = 1024;
  void pump(Scan scan = Scan::from_start);
  // One channel's queue; true if a row changed (held, digested, rerouted).
  bool pump_queue(const std::string& channel, Queue& q, std::vector<Job>& jobs);
  // Moves the rows waiting in a route no channel serves to the right queues.
  bool reroute_queue(const std::string& route);
  void reroute(const store::OutboxMessage& row, const std::string& channel);
  void drain();
  // Settles every attempt the workers have finished; false if there were none.
  bool settle_finished();
  void settle(const store::OutboxMessage& row, const std::string& channel, const notifiers::Delivery& d);
  void hold(const store::OutboxMessage& row, Instant until);
  void gather_digests();
  void arm_timer();
  void grow_pool();
  bool quiet_now(Instant now) const;
  Instant quiet_ends(Instant now) const;
  std::int64_t wall_ms() const;
  void audit(const store::OutboxMessage& row, const std::string& kind, nlohmann::json details);

  boost::asio::io_context& io_;
  store::Store& store_;
  const Clock& clock_;
  Setup setup_;
  WallClock wall_;
  std::map<std::string, std::shared_ptr<notifiers::Notifier>, std::less<>> notifiers_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::thread> workers_;
  boost::asio::steady_timer timer_;
  std::function<void()> request_commit_;
  std::map<std::int64_t, store::OutboxMessage> busy_;  // rows attempted or changed, until committed
  std::map<std::string, Queue, std::less<>> queues_;  // one per channel
  std::int64_t rows_read_ = 0;
  std::map<std::string, int, std::less<>> in_flight_;  // attempts running per channel
  std::vector<store::OutboxUpdate> updates_;
  std::vector<store::OutboxMessage> new_rows_;  // digests
  std::vector<store::AuditEntry> audit_;
  std::vector<std::int64_t> taken_;                   // rows whose outcomes take() gave the open batch
  std::deque<std::vector<std::int64_t>> committing_;  // those of each batch launched, oldest first
  workflows::Day digest_day_{};  // the last day digests were gathered
  std::mt19937_64 rng_;
  bool started_ = false;
  bool stopping_ = false;
};

}  // namespace docket::daemon
