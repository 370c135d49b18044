#include "daemon/server.h"

#include "daemon/log.h"

#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "daemon/database_files.h"

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
// each), hands them to the pipeline, and writes replies in request order.
// A client that sends nothing for the idle timeout is closed, unless it is
// waiting for an answer. A client that does not read its replies costs only
// itself: past kPauseBytes of unsent replies (or kMaxWaiting requests
// unanswered) nothing more is read from it until it has caught up, and past
// kCloseBytes it is closed. A client that half-closes is still answered.
class Server::Connection : public Asker, public std::enable_shared_from_this<Connection> {
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
  ~Connection() override { --*count_; }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const Caller& caller() const override { return caller_; }

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
      log::server().warn("connection.closed reason=replies_unread bytes={}", unsent());
      close();
      return;
    }
    queued_ += line;
    if (writing_.empty()) write_next();
  }

  // The reply to a request handed to the pipeline.
  void answer(std::string line) override {
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
      const Instant now = server_.clock_.now();
      auto [last, fresh] = server_.refused_at_.try_emplace(cred.uid, now);
      if (fresh || now - last->second >= std::chrono::minutes{1}) {
        last->second = now;
        server_.pipeline_.record(
            store::audit_entry(now, "system", "access.refused", json{{"uid", cred.uid}, {"user", name}}.dump()));
      }
      log::server().warn("access.refused uid={} user={}", cred.uid, name);
      return;
    }
    known_ = true;
    caller_ = Caller{p->id, p->roles};
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
        log::server().info("connection.idle_kept waiting={}", self->waiting_);
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
        log::server().info("connection.paused unsent={} waiting={}", unsent(), waiting_);
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
    if (!known_) {
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
      server_.pipeline_.submit(shared_from_this(), std::move(std::get<Request>(parsed)));
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
  Caller caller_;
  bool known_ = false;
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
  int waiting_ = 0;  // requests handed to the pipeline and not yet answered
};

Server::Server(asio::io_context& io, CommitPipeline& pipeline, const Engine& engine, const Clock& clock,
               std::filesystem::path socket_path)
    : io_(io),
      pipeline_(pipeline),
      engine_(engine),
      clock_(clock),
      socket_path_(std::move(socket_path)),
      acceptor_(io),
      connections_(std::make_shared<std::size_t>(0)) {}

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
  pipeline_.start();
}

void Server::stop() {
  stopping_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  pipeline_.stop();  // writes everything queued, and answers it, before the stop returns
  std::error_code fec;
  std::filesystem::remove(socket_path_, fec);
}

void Server::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, local::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) log::server().warn("socket.accept error={}", ec.message());
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

}  // namespace docket::daemon
