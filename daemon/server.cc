#include "daemon/server.h"

#include "daemon/database_files.h"

#include <pwd.h>
#include <cassert>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace docket::daemon {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxConnections = 512;

std::string user_name(uid_t uid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) return pw.pw_name;
  return {};
}

}  // namespace

// One client. Reads newline-delimited requests (at most kMaxRequestBytes
// each), hands them to the server, and writes replies in request order.
// A client that sends nothing for the idle timeout is closed, unless it is
// waiting for an answer. A client that does not read its replies costs only
// itself: past kPauseBytes of unsent replies (or kMaxWaiting requests
// unanswered) nothing more is read from it until it has caught up, and past
// kCloseBytes it is closed. A client that half-closes is still answered.
class Server::Connection : public std::enable_shared_from_this<Connection> {
 public:
  static constexpr std::size_t kPauseBytes = 1024 * 1024;
  static constexpr std::size_t kCloseBytes = 64 * 1024 * 1024;
  static constexpr int kMaxWaiting = 1024;

  Connection(Server& server, local::socket socket)
      : server_(server),
        count_(server.connections_),
        socket_(std::move(socket)),
        buffer_(kMaxRequestBytes + 1),
        idle_(server.io_) {
    ++*count_;
  }
  ~Connection() { --*count_; }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Caller caller;
  bool known = false;

  void start() {
    identify();
    read();
  }

  void send(std::string line) {
    if (closed_) return;
    // Replies queued while a write is in flight go out together in the next.
    // One reply may be large (`status` of every review); it is a client
    // already this far behind that is dropped.
    if (unsent() > kCloseBytes) {
      spdlog::warn("connection.closed reason=replies_unread bytes={}", unsent());
      close();
      return;
    }
    queued_ += line;
    if (writing_.empty()) write_next();
  }

  // The reply to a request handed to the server.
  void answer(std::string line) {
    --waiting_;
    send(std::move(line));
    maybe_finish();
  }

  void close() {
    boost::system::error_code ec;
    closed_ = true;
    idle_.cancel();
    socket_.shutdown(local::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  std::size_t unsent() const { return queued_.size() + writing_.size(); }
  bool backlogged() const { return unsent() >= kPauseBytes || waiting_ >= kMaxWaiting; }

  void identify() {
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(socket_.native_handle(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return;
    std::string name = user_name(cred.uid);
    const auto& dir = server_.engine_.config().directory;
    const workflows::Person* p = name.empty() ? nullptr : dir.person_by_unix_user(name);
    if (p == nullptr) {
      refused_reason_ = "you (uid " + std::to_string(cred.uid) + (name.empty() ? "" : ", user " + name) +
                        ") are not in directory.toml; ask the administrator to add unix_user = \"" +
                        (name.empty() ? std::to_string(cred.uid) : name) + "\" to your entry";
      // Audited at most once a minute per account, so refused connections
      // cannot flood the audit trail.
      const Instant now = server_.services_.clock.now();
      auto [last, fresh] = server_.refused_at_.try_emplace(cred.uid, now);
      if (fresh || now - last->second >= std::chrono::minutes{1}) {
        last->second = now;
        store::AuditEntry e;
        e.at = now.time_since_epoch().count();
        e.actor = "system";
        e.kind = "access.refused";
        e.details = json{{"uid", cred.uid}, {"user", name}}.dump();
        server_.refusals_.push_back(std::move(e));
        server_.schedule_flush();
      }
      spdlog::warn("access.refused uid={} user={}", cred.uid, name);
      return;
    }
    known = true;
    caller = Caller{p->id, p->roles};
  }

  // A client that sends nothing for the idle timeout is closed, unless it is
  // waiting for an answer (a long clock advance, a batch being written).
  void arm_idle() {
    idle_.expires_after(server_.idle_timeout_);
    idle_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      if (ec) return;
      auto self = weak.lock();
      if (!self || self->closed_) return;
      if (self->waiting_ > 0) {
        spdlog::info("connection.idle_kept waiting={}", self->waiting_);
        self->arm_idle();
      } else {
        self->close();
      }
    });
  }

  void read() {
    if (closed_ || read_closed_) return;
    arm_idle();
    asio::async_read_until(socket_, buffer_, '\n',
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                             self->on_read(ec, n);
                           });
  }

  void on_read(const boost::system::error_code& ec, std::size_t n) {
    if (closed_) return;
    if (ec == asio::error::not_found) {
      // The line outgrew the buffer: answer once, then hang up.
      send(reply_line(nullptr, Result::fail("the request is larger than " + std::to_string(kMaxRequestBytes) +
                                            " bytes")));
      closing_ = true;
      maybe_finish();
      return;
    }
    if (ec == asio::error::eof) {
      // Half-closed: what came before the end is answered, a last line
      // without its newline too, and the connection closes after.
      read_closed_ = true;
      std::string rest(asio::buffers_begin(buffer_.data()), asio::buffers_end(buffer_.data()));
      buffer_.consume(buffer_.size());
      if (!rest.empty()) take(std::move(rest));
      maybe_finish();
      return;
    }
    if (ec) {
      close();
      return;
    }
    // Every complete line that has arrived is taken now, also what is still
    // in the socket, so that requests a client pipelines join one group
    // commit instead of one line per commit; until the client is too far
    // behind in reading its replies.
    for (;;) {
      std::string line(asio::buffers_begin(buffer_.data()), asio::buffers_begin(buffer_.data()) + static_cast<long>(n));
      buffer_.consume(n);
      if (!take(std::move(line))) return;
      if (backlogged()) {
        paused_ = true;  // write_next() reads on once the client has caught up
        spdlog::info("connection.paused unsent={} waiting={}", unsent(), waiting_);
        return;
      }
      n = next_line();
      if (n == 0 && read_available()) n = next_line();
      if (n == 0) break;
    }
    read();
  }

  // The length of the next complete line in the buffer, with its newline; 0 if none.
  std::size_t next_line() const {
    auto data = buffer_.data();
    auto end = std::find(asio::buffers_begin(data), asio::buffers_end(data), '\n');
    return end == asio::buffers_end(data) ? 0 : static_cast<std::size_t>(end - asio::buffers_begin(data)) + 1;
  }

  // Reads what the socket holds without waiting; false if nothing was read.
  bool read_available() {
    boost::system::error_code ec;
    const std::size_t ready = socket_.available(ec);
    const std::size_t room = kMaxRequestBytes + 1 - std::min(buffer_.size(), kMaxRequestBytes + 1);
    if (ec || ready == 0 || room == 0) return false;
    const std::size_t got = socket_.read_some(buffer_.prepare(std::min(ready, room)), ec);
    buffer_.commit(got);
    return !ec && got > 0;
  }

  // Handles one request line; false when the connection is to close. A
  // caller docket does not know is refused before anything is made of what
  // it sent.
  bool take(std::string line) {
    if (!known) {
      send(reply_line(nullptr, Result::fail(refused_reason_)));
      closing_ = true;
      maybe_finish();
      return false;
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.empty()) return true;
    auto parsed = parse_request(line);
    if (auto* err = std::get_if<std::string>(&parsed)) {
      send(reply_line(nullptr, Result::fail(*err)));
    } else {
      ++waiting_;
      server_.submit(shared_from_this(), std::move(std::get<Request>(parsed)));
    }
    return true;
  }

  // Closes once everything owed has been written: after a refusal, or once
  // a half-closed client has had every answer.
  void maybe_finish() {
    if (closed_ || unsent() > 0) return;
    if (closing_ || (read_closed_ && waiting_ == 0)) close();
  }

  void write_next() {
    writing_.swap(queued_);
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->writing_.clear();
                        if (!self->queued_.empty()) {
                          self->write_next();
                        } else {
                          self->maybe_finish();
                        }
                        if (self->paused_ && !self->closed_ && self->unsent() < kPauseBytes / 2 &&
                            self->waiting_ < kMaxWaiting / 2) {
                          self->paused_ = false;
                          self->read();
                        }
                      });
  }

  Server& server_;
  std::shared_ptr<std::size_t> count_;  // outlives the server if a handler does
  local::socket socket_;
  asio::streambuf buffer_;
  asio::steady_timer idle_;
  std::string writing_;  // the bytes of the write in flight
  std::string queued_;   // replies waiting for it
  std::string refused_reason_ = "you are not known to docket";
  bool closing_ = false;     // refused: close once the refusal is written
  bool read_closed_ = false; // the client half-closed
  bool paused_ = false;      // not reading until the client reads its replies
  bool closed_ = false;
  int waiting_ = 0;  // requests handed to the server and not yet answered
};

Server::Server(asio::io_context& io, Engine& engine, store::Store& store, Services services,
               std::filesystem::path socket_path)
    : io_(io),
      engine_(engine),
      store_(store),
      services_(services),
      socket_path_(std::move(socket_path)),
      acceptor_(io),
      timer_(io),
      committer_(
          store, [this] { asio::post(io_, [this] { written(Next::everything); }); },
          [this] { asio::post(io_, [this] { answer_synced(); }); }),
      connections_(std::make_shared<std::size_t>(0)) {
  services_.advance_later = [this](const Caller& who, Instant from, Instant target) {
    if (advance_) {
      return Result::fail("a clock advance is already under way (to " + date::format("%FT%TZ", advance_->target) +
                          "); wait for its answer");
    }
    advance_ = Advance{{}, who, from, target};
    Result r;
    r.deferred = true;
    return r;
  };
}

Server::~Server() = default;

void Server::start() {
  const std::string path = socket_path_.string();
  std::error_code fec;
  std::filesystem::create_directories(socket_path_.parent_path(), fec);
  // Only a socket nobody answers on is taken over; anything else at the
  // path (a database, a directory, a file) is someone's and stays.
  check_socket_path(socket_path_);
  if (std::filesystem::exists(std::filesystem::symlink_status(socket_path_, fec))) {
    local::socket probe(io_);
    boost::system::error_code ec;
    probe.connect(local::endpoint(path), ec);
    if (!ec) throw std::runtime_error("another docketd is already listening on " + path);
    std::filesystem::remove(socket_path_, fec);
  }
  boost::system::error_code ec;
  auto fail = [&](const char* doing) {
    throw std::runtime_error("cannot " + std::string(doing) + " the control socket " + path + ": " + ec.message());
  };
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    throw std::runtime_error("the control socket path " + path + " is longer than " +
                             std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes; choose a shorter one");
  }
  if (acceptor_.open(local(), ec)) fail("open");
  if (acceptor_.bind(local::endpoint(path), ec)) fail("bind");
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec)) fail("listen on");
  ::chmod(socket_path_.c_str(), 0660);
  accept();
  arm_timer();
  store_.end_reads();  // loading read the store; hold no snapshot until the first flush
  schedule_flush();    // what fell due while docketd was down fires first
}

void Server::stop() {
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
  boost::system::error_code ec;
  acceptor_.close(ec);
  timer_.cancel();
  flush();  // writes everything queued, and answers it, before the stop returns
  std::error_code fec;
  std::filesystem::remove(socket_path_, fec);
}

void Server::write_all() {
  for (;;) {
    land_now();
    launch();
    if (flight_) continue;
    committer_.wait_synced();
    answer_synced();
    if (!flight_ && unsynced_.empty() && open_.empty() && open_answered_.empty()) return;
  }
}

void Server::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, local::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) spdlog::warn("socket.accept error={}", ec.message());
      if (!stopping_ && ec != asio::error::operation_aborted) accept();
      return;
    }
    if (*connections_ >= kMaxConnections) {
      boost::system::error_code ignored;
      socket.close(ignored);
    } else {
      std::make_shared<Connection>(*this, std::move(socket))->start();
    }
    if (!stopping_) accept();
  });
}

void Server::attach(Dispatcher& dispatcher) {
  dispatcher_ = &dispatcher;
  dispatcher.on_results([this] { schedule_flush(); });
  services_.retry_outbox = [this](const Caller& who, std::int64_t id, store::Batch& batch) {
    return dispatcher_->retry(who, id, batch);
  };
}

void Server::attach(AuditPublisher& publisher) {
  publisher_ = &publisher;
  publisher.on_notice([this] { schedule_flush(); });
}

void Server::submit_internal(Request r) {
  pending_.push_back({nullptr, std::move(r)});
  schedule_flush();
}

void Server::submit(std::shared_ptr<Connection> from, Request r) {
  if (stopping_) {
    from->answer(reply_line(r.id, Result::fail("docketd is stopping; try again once it is back")));
    return;
  }
  pending_.push_back({std::move(from), std::move(r)});
  schedule_flush();
}

void Server::schedule_flush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  asio::post(io_, [this] { flush(); });
}

// A command that would have changed something, refused (not allowed, a bad
// argument, a review in the wrong state), is on the record with who asked:
// an inspector sees the attempt, not only what succeeded. Refused reads
// change nothing and are only logged.
void Server::refused(const Caller& who, const Request& request, const Result& r, store::Batch& batch) {
  spdlog::info("command.refused command={} by={} error={}", request.command, who.person, r.error);
  const bool known = registry_.args_of(request.command).has_value();
  if (known && !registry_.writes(request.command)) return;
  store::AuditEntry e;
  e.at = services_.clock.now().time_since_epoch().count();
  e.actor = who.person;
  e.kind = "command.refused";
  if (auto ref = request.args.find("ref"); ref != request.args.end() && ref->is_string()) e.ref = ref->get<std::string>();
  e.details = json{{"command", request.command}, {"args", request.args}, {"error", r.error}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
  batch.audit.push_back(std::move(e));
}

void Server::flush() {
  flush_scheduled_ = false;
  for (auto& e : refusals_) open_.audit.push_back(std::move(e));
  refusals_.clear();
  std::deque<Pending> work;
  work.swap(pending_);
  static const Caller daemon_itself{"system", {"administrator"}};
  for (auto& p : work) {
    const Caller& who = p.from ? p.from->caller : daemon_itself;
    Result r = registry_.dispatch(services_, who, p.request, open_);
    if (r.deferred) {
      advance_->asked = std::move(p);  // answered when the advance ends
      continue;
    }
    if (!r.ok) refused(who, p.request, r, open_);
    open_answered_.emplace_back(std::move(p), std::move(r));
  }
  // Commands may have made something due at once (a start dated in the past),
  // and what fell due while docketd was down fires now. When many fall due
  // together, a chunk goes with each batch, so that other commands, a stop
  // and the watchdog are served in between. A rehearsal clock moves only with
  // an advance, also a chunk at a time.
  if (!open_fired_) {
    const std::size_t before = open_.audit.size();
    if (advance_) {
      advance_slice();
    } else if (!services_.clock.is_virtual() || catching_up_) {
      more_due_ = engine_.fire_due(services_.clock.now(), open_, fire_chunk_);
      catching_up_ = catching_up_ && more_due_;
    }
    open_fired_ = open_.audit.size() != before;
  }
  if (publisher_ != nullptr) publisher_->take(open_);  // a notice of the audit head
  if (!flight_) launch();  // else written() asks for another flush
  // Once stopping, the loop may run out of work while a batch is written
  // (the writer's completion is not work it waits for), and the database is
  // then closed: a flush then writes at once.
  if (stopping_) write_all();
  if (!stopping_) arm_timer();
  store_.end_reads();  // hold no snapshot while idle
}

void Server::advance_slice() {
  auto& clock = *services_.virtual_clock;
  const bool more = engine_.fire_through(advance_->target, clock, open_, fire_chunk_);
  if (more) {
    open_.meta.emplace_back("virtual_now", std::to_string(clock.now().time_since_epoch().count()));
    spdlog::info("clock.advancing reached={} to={}", date::format("%FT%TZ", clock.now()),
                 date::format("%FT%TZ", advance_->target));
    return;  // written() asks for the next slice
  }
  clock.set(std::max(advance_->from, advance_->target));
  Result r = advance_recorded(engine_, advance_->who, advance_->from, advance_->target, clock.now(), open_);
  open_answered_.emplace_back(std::move(advance_->asked), std::move(r));
  advance_.reset();
}

void Server::launch() {
  if (publisher_ != nullptr) publisher_->take(open_);
  if (dispatcher_ != nullptr) dispatcher_->take(open_);  // routes the batch's messages, the publisher's too
  if (open_.empty() && open_answered_.empty()) return;
  auto f = std::make_unique<Flight>();
  if (open_fired_) {
    // A review in a reply is shown as it will be committed, after anything that fired.
    for (auto& [p, r] : open_answered_) {
      if (!r.text.empty()) {
        r.data = r.body();
        r.text.clear();
      }
      if (!r.ok || !r.data.contains("ref") || !r.data.contains("stages")) continue;
      auto now = engine_.status(r.data["ref"].get<std::string>());
      if (now.ok) {
        for (const auto& [k, v] : now.data.items()) r.data[k] = v;
      }
    }
  }
  f->batch = std::move(open_);
  open_ = store::Batch{};
  f->answered = std::move(open_answered_);
  open_answered_.clear();
  open_fired_ = false;
  f->sealed = engine_.seal();
  if (dispatcher_ != nullptr) dispatcher_->launched();
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

void Server::land_now() {
  if (flight_) {
    committer_.wait_written();
    written(Next::nothing);
  }
  answer_synced();
}

[[noreturn]] void Server::die(const std::string& error) {
  // Memory may now be ahead of the database: stop, and let a restart
  // recover from what was committed. Nothing unacknowledged is lost.
  spdlog::critical("store.commit failed: {}; stopping so a restart recovers from the database", error);
  std::_Exit(70);
}

void Server::written(Next next) {
  if (!flight_ || committer_.writing()) return;  // landed already (land_now)
  if (auto error = committer_.error()) die(*error);
  auto f = std::move(flight_);
  store_.end_reads();  // reads from here on see the batch
  if (store_.log_full()) store_.restart_log();  // nothing writes or reads now
  // Written: only the replies wait, for the sync. The batch is freed and the
  // engine tidied once the next is under way.
  const store::Batch done = std::move(f->batch);
  const std::uint64_t sealed = f->sealed;
  unsynced_.push_back(std::move(f));
  // The writer is idle from here: what filled meanwhile goes at once, while
  // this batch is synced. That includes what the dispatcher settled while
  // the batch was written: its request to commit found the writer busy, and
  // left in the dispatcher the delivery would wait for the next commit, which
  // in a rehearsal may never come (and a restart meanwhile would send it again).
  if (next == Next::everything) {
    if (dispatcher_ != nullptr) dispatcher_->take(open_);
    if (!open_.empty() || !open_answered_.empty()) launch();
  }
  engine_.committed(sealed);
  // What arrived while this batch was written goes next.
  if (!pending_.empty() || !open_.empty() || !open_answered_.empty() || !refusals_.empty() ||
      ((more_due_ || advance_) && !stopping_)) {
    schedule_flush();
  }
}

void Server::answer_synced() {
  if (auto error = committer_.error()) die(*error);
  const std::uint64_t synced = committer_.synced();
  bool answered = false;
  while (!unsynced_.empty() && unsynced_.front()->write <= synced) {
    auto f = std::move(unsynced_.front());
    unsynced_.pop_front();
    // Its delivery outcomes are on disk, and its messages may go out.
    if (dispatcher_ != nullptr) dispatcher_->committed();
    for (auto& [p, r] : f->answered) {
      if (p.from) p.from->answer(reply_line(p.request.id, r));
    }
    answered = true;
  }
  if (answered && publisher_ != nullptr) publisher_->synced();
  if (answered && (!pending_.empty() || !refusals_.empty())) schedule_flush();
}

void Server::arm_timer() {
  if (services_.clock.is_virtual()) return;  // rehearsal time moves only with `clock advance`
  Instant now = services_.clock.now();
  Instant wake = now + std::chrono::minutes{1};
  if (auto next = engine_.next_fire()) wake = std::min(wake, std::max(*next, now));
  timer_.expires_at(std::chrono::system_clock::time_point{wake.time_since_epoch()});
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    schedule_flush();  // fire_due runs inside the flush, with any queued commands
  });
}

}  // namespace docket::daemon
