#pragma once
// docketd's transport: the control socket, its connections and who is on
// the other end. Each request line is parsed and handed, with the
// connection to answer it, to the commit pipeline (daemon/commit_pipeline.h),
// which runs it, commits it and answers it in order; this layer only gets
// the bytes in and out.
//
// A caller is known by the socket's peer credentials (SO_PEERCRED) and the
// directory's unix_user; anyone else is refused at the door, and audited at
// most once a minute per account. A client that sends nothing is closed
// after the idle timeout, and one that does not read its replies costs only
// itself (Connection in server.cc: backpressure, then a hang-up).

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>

#include <boost/asio.hpp>

#include "daemon/clock.h"
#include "daemon/commit_pipeline.h"
#include "daemon/engine.h"

namespace docket::daemon {

class Server {
 public:
  // `engine` gives the directory callers are looked up in (reloads included),
  // `clock` dates the refusals.
  Server(boost::asio::io_context& io, CommitPipeline& pipeline, const Engine& engine, const Clock& clock,
         std::filesystem::path socket_path);
  ~Server();

  // Binds the socket (refusing if another daemon answers on it), starts
  // accepting, and starts the pipeline. Throws std::runtime_error with a
  // clear message.
  void start();
  // Stops accepting, stops the pipeline (which answers what is queued), and
  // removes the socket.
  void stop();

  std::size_t connections() const { return *connections_; }
  // A connection that sends nothing for this long is closed (default 60 s).
  void set_idle_timeout(std::chrono::seconds t) { idle_timeout_ = t; }

 private:
  class Connection;

  void accept();

  boost::asio::io_context& io_;
  CommitPipeline& pipeline_;
  const Engine& engine_;
  const Clock& clock_;
  std::filesystem::path socket_path_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::map<unsigned, Instant> refused_at_;  // uid -> when last audited
  bool stopping_ = false;
  std::chrono::seconds idle_timeout_{60};
  std::shared_ptr<std::size_t> connections_;
};

}  // namespace docket::daemon
