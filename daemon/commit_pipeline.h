#pragma once
// docketd's commit pipeline: group commit, replies in order, and the engine's
// one timer. It knows nothing of sockets: the transport (daemon/server.h)
// hands it requests with someone to answer them (an Asker).
//
// One thread runs the io_context. Requests are queued; a posted flush runs
// all that are queued against the open batch, commits their changes in ONE
// transaction and only then answers them, so commands that arrive together
// share an fsync. The transaction is written on the Committer's thread
// (daemon/committer.h): while one batch is in flight the loop goes on
// running requests into the next, which is launched as soon as the first
// has been written, while the first is synced. Replies leave in request
// order, each after its batch is on disk, and so do the messages a batch
// queued (delivery is told through daemon/delivery_pump.h).
//
// When many timed events fall due together (catch-up after an outage, a
// rehearsal's `clock advance`), a chunk fires with each batch, so that other
// commands, a stop and the watchdog are served in between; an advance is
// answered once the clock is there. One timer is armed for the earliest
// timed event of the engine (never one per deadline), and at most a minute
// ahead so that a jump of the wall clock is noticed.
//
// A write or sync that fails leaves memory ahead of the database: the
// process logs store.commit_failed and exits with 70, and a restart recovers
// from what was committed. Nothing unanswered is lost.

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio.hpp>

#include "daemon/audit_publisher.h"
#include "daemon/commands.h"
#include "daemon/committer.h"
#include "daemon/delivery_pump.h"
#include "daemon/engine.h"
#include "store/store.h"

namespace docket::daemon {

// Who sent a request, as the transport knows them: a connection, answered
// once the reply may go.
class Asker {
 public:
  virtual ~Asker() = default;
  virtual const Caller& caller() const = 0;
  // One reply line, in the order the requests were submitted.
  virtual void answer(std::string line) = 0;
};

class CommitPipeline {
 public:
  // Fills in `services.advance_later`: a clock advance runs here, a chunk
  // per batch.
  CommitPipeline(boost::asio::io_context& io, Engine& engine, store::Store& store, Services services);
  ~CommitPipeline();
  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  // Arms the timer and flushes at once: what fell due while docketd was
  // down fires first.
  void start();
  // Cuts an advance under way short where it stands, then writes and
  // answers everything queued before it returns.
  void stop();
  // Writes and answers everything held, waiting for the writer: after a
  // stop nothing may be left in flight when the database is closed.
  void write_all();
  // Nothing queued to run or commit (a stop waits, bounded, for this).
  bool idle() const;

  // A request to run and answer; `from` is answered once its batch is on disk.
  void submit(std::shared_ptr<Asker> from, Request r);
  // A command run by the daemon itself (e.g. `reload` on SIGHUP); no answer.
  void submit_internal(Request r);
  // An audit record for the next batch (a caller refused at the door).
  void record(store::AuditEntry e);
  // Something waits to join a batch (delivery's outcomes, say): a flush is
  // posted unless one already is.
  void request_flush();

  // Delivery, told of each batch (daemon/delivery_pump.h); may stay unset
  // (then the outbox is only filled). It asks for commits itself, through
  // request_flush().
  void attach(DeliveryPump& pump);
  // The publisher of the audit trail's head: told when batches are durable,
  // and its notices join the next batch. May stay unset.
  void attach(AuditPublisher& publisher);
  // Timed events fired per batch when many fall due (default kFireChunk).
  void set_fire_chunk(std::size_t n) { fire_chunk_ = n; }

 private:
  struct Pending {
    std::shared_ptr<Asker> from;  // null: the daemon itself
    Request request;
  };
  using Answered = std::vector<std::pair<Pending, Result>>;
  // A clock advance under way, a chunk of events per batch.
  struct Advance {
    Pending asked;  // answered when the clock is there
    Caller who;
    Instant from;
    Instant target;
  };
  // A batch being written, and the replies that wait for it.
  struct Flight {
    store::Batch batch;        // emptied once written
    std::uint64_t sealed = 0;  // Engine::seal() of its changes
    std::uint64_t write = 0;   // the Committer's number: answered once that write is synced
    Answered answered;
  };

  Result take_advance(const Caller& who, Instant from, Instant target);
  void flush();
  // Runs the queued requests into the open batch.
  void run_pending();
  // Fires what is due into the open batch: a chunk of an advance, or of
  // what fell due on the real clock.
  void fire_due();
  // Fires the next chunk of the advance under way into the open batch, and
  // when the clock is there, records the advance and queues its answer.
  void advance_slice();
  void refused(const Caller& who, const Request& request, const Result& r, store::Batch& batch);
  void arm_timer();
  // Seals the open batch and starts writing it; only with nothing being
  // written.
  void launch();
  // A review in a reply is shown as it will be committed, after anything
  // that fired into its batch.
  void refresh_replies();
  // The Committer says the write under way has returned: its replies wait
  // for the sync, what filled meanwhile is launched at once, and then
  // (while that is written) the engine lets the reviews go and the batch
  // is freed.
  void on_written();
  // Moves the landed flight to those waiting for their sync and returns its
  // batch; nothing if it has landed already (land_now). Stops the process
  // if the write failed.
  std::optional<store::Batch> land(std::uint64_t& sealed);
  // After landing: the engine tidied, a flush asked for what waits.
  void landed(std::uint64_t sealed);
  // Answers the batches now synced, in order, and lets delivery send what
  // they queued.
  void answer_synced();
  // Waits for the write under way, if any, and answers what is synced.
  void land_now();
  [[noreturn]] static void die(const std::string& error);

  boost::asio::io_context& io_;
  Engine& engine_;
  store::Store& store_;
  Services services_;
  CommandRegistry registry_;
  boost::asio::system_timer timer_;
  std::deque<Pending> pending_;
  std::vector<store::AuditEntry> records_;  // records for the next batch (refusals at the door)
  DeliveryPump* pump_ = nullptr;
  AuditPublisher* publisher_ = nullptr;
  store::Batch open_;        // being filled
  Answered open_answered_;   // the replies to its commands
  bool open_fired_ = false;  // timed events fired into it
  bool more_due_ = false;    // and more are due
  bool catching_up_ = true;  // what fell due while stopped has not all fired yet
  std::optional<Advance> advance_;
  std::unique_ptr<Flight> flight_;                // being written
  std::deque<std::unique_ptr<Flight>> unsynced_;  // written (or with nothing to write), not yet synced, in order
  Committer committer_;
  bool flush_scheduled_ = false;
  bool stopping_ = false;
  std::size_t fire_chunk_ = kFireChunk;
};

}  // namespace docket::daemon
