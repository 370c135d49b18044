#pragma once
// docketd's event loop: the control socket, group commit, and the one timer.
//
// One thread runs the io_context. Requests from every connection are queued;
// a posted flush applies all that are queued, commits their changes in ONE
// transaction and only then writes the replies, so commands that arrive
// together share an fsync. The transaction is written on the Committer's
// thread: while one batch is in flight the loop goes on reading requests and
// applying them to the next, which is launched as soon as the first has been
// written, while the first is synced. Replies leave in request order, each
// after its batch is on disk, and so do the messages a batch queued.
// One timer is armed for the earliest timed event of the engine (never one
// per deadline), and at most a minute ahead so that a jump of the wall clock
// is noticed.

#include <deque>
#include <map>
#include <filesystem>
#include <memory>
#include <optional>

#include <boost/asio.hpp>

#include "daemon/audit_publisher.h"
#include "daemon/commands.h"
#include "daemon/committer.h"
#include "daemon/dispatcher.h"
#include "daemon/engine.h"
#include "store/store.h"

namespace docket::daemon {

class Server {
 public:
  Server(boost::asio::io_context& io, Engine& engine, store::Store& store, Services services,
         std::filesystem::path socket_path);
  ~Server();

  // Binds the socket (refusing if another daemon answers on it) and starts
  // accepting and timing. Throws std::runtime_error with a clear message.
  void start();
  // Stops accepting, answers what is queued, and closes.
  void stop();
  // Writes and answers everything held, waiting for the writer: after a
  // stop nothing may be left in flight when the database is closed.
  void write_all();
  // Queues a command run by the daemon itself (e.g. `reload` on SIGHUP).
  void submit_internal(Request r);
  // The dispatcher whose outcomes join each group commit; may stay unset
  // (then the outbox is only filled).
  void attach(Dispatcher& dispatcher);
  // The publisher of the audit trail's head: told when batches are durable,
  // and its notices join the next group commit. May stay unset.
  void attach(AuditPublisher& publisher);

  std::size_t connections() const { return *connections_; }
  // Nothing queued to run or commit (a stop waits, bounded, for this).
  bool idle() const {
    return pending_.empty() && !flush_scheduled_ && refusals_.empty() && !flight_ && unsynced_.empty() &&
           open_.empty() && open_answered_.empty() && !advance_;
  }
  // A connection that sends nothing for this long is closed (default 60 s).
  void set_idle_timeout(std::chrono::seconds t) { idle_timeout_ = t; }
  // Timed events fired per batch when many fall due (default kFireChunk).
  void set_fire_chunk(std::size_t n) { fire_chunk_ = n; }

 private:
  class Connection;
  struct Pending {
    std::shared_ptr<Connection> from;
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

  void accept();
  void submit(std::shared_ptr<Connection> from, Request r);
  void schedule_flush();
  void flush();
  void arm_timer();
  // Seals the open batch and starts writing it; only with nothing being
  // written.
  void launch();
  // Fires the next chunk of the advance under way into the open batch, and
  // when the clock is there, records the advance and queues its answer.
  void advance_slice();
  // What written() launches, as soon as the writer is idle: nothing, or
  // the open batch and its replies.
  enum class Next { nothing, everything };
  // The write under way has returned: its replies wait for its sync, `next`
  // is launched, and then (while that is written) the engine may let the
  // reviews go and the batch is freed. Not `everything` while a command is
  // still filling the open batch.
  void written(Next next);
  // Answers the batches now synced, in order, and lets the dispatcher send
  // what they queued.
  void answer_synced();
  // Waits for the write under way, if any, and answers what is synced.
  void land_now();
  [[noreturn]] static void die(const std::string& error);
  void refused(const Caller& who, const Request& request, const Result& r, store::Batch& batch);

  boost::asio::io_context& io_;
  Engine& engine_;
  store::Store& store_;
  Services services_;
  CommandRegistry registry_;
  std::filesystem::path socket_path_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  boost::asio::system_timer timer_;
  std::deque<Pending> pending_;
  std::vector<store::AuditEntry> refusals_;  // callers refused at the door
  std::map<unsigned, Instant> refused_at_;   // uid -> when last audited
  Dispatcher* dispatcher_ = nullptr;
  AuditPublisher* publisher_ = nullptr;
  store::Batch open_;      // being filled
  Answered open_answered_;  // the replies to its commands
  bool open_fired_ = false;  // timed events fired into it
  bool more_due_ = false;    // and more are due
  bool catching_up_ = true;  // what fell due while stopped has not all fired yet
  std::optional<Advance> advance_;
  std::unique_ptr<Flight> flight_;  // being written
  std::deque<std::unique_ptr<Flight>> unsynced_;  // written (or with nothing to write), not yet synced, in order
  Committer committer_;
  bool flush_scheduled_ = false;
  bool stopping_ = false;
  std::chrono::seconds idle_timeout_{60};
  std::size_t fire_chunk_ = kFireChunk;
  std::shared_ptr<std::size_t> connections_;
};

}  // namespace docket::daemon
