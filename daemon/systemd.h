#pragma once
// docketd under systemd: the service manager's notifications, the watchdog,
// and logs to journald with structured fields.
//
// All of it is inert outside systemd: sd_notify() does nothing without
// $NOTIFY_SOCKET, the watchdog runs only when $WATCHDOG_USEC asks for it,
// and logs go to stderr unless stderr is the journal ($JOURNAL_STREAM, as
// systemd.exec(5) says to check it).
//
//   READY=1     once the store is recovered and the socket accepts
//   STATUS=...  what the daemon holds, refreshed with each watchdog ping
//   WATCHDOG=1  from a timer on the event loop, at half of WatchdogSec=, so a
//               loop that stops turning is restarted by systemd
//   STOPPING=1  as soon as SIGTERM is taken

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/sinks/base_sink.h>

namespace docket::daemon {

// Talks to the service manager; every call is a no-op without it.
class ServiceManager {
 public:
  // `status` is asked for the STATUS= text with READY=1 and at each ping.
  ServiceManager(boost::asio::io_context& io, std::function<std::string()> status);

  // READY=1 with the status, then the watchdog starts if systemd wants one.
  void ready();
  void stopping();
  // The watchdog interval systemd asked for ($WATCHDOG_USEC), if any.
  std::optional<std::chrono::microseconds> watchdog_interval() const { return watchdog_; }

 private:
  void ping();
  void notify(const std::string& state);

  std::function<std::string()> status_;
  std::optional<std::chrono::microseconds> watchdog_;
  boost::asio::steady_timer timer_;
  std::string last_status_;
  bool stopping_ = false;
};

// The fields of one journal entry for a log line that follows the project's
// convention `event.name key=value ...`: EVENT from the first word when it
// has a dot, REF and STAGE from `ref=` and `stage=`, and the whole line as
// MESSAGE. `priority` is syslog's (3 error ... 7 debug).
std::vector<std::string> journal_fields(std::string_view message, int priority);

// An spdlog sink that writes each line to journald with journal_fields().
// `send` is sd_journal_sendv by default; tests pass their own.
class JournalSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  using Send = std::function<void(const std::vector<std::string>& fields)>;
  explicit JournalSink(Send send = {});

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  Send send_;
};

// True when stderr is connected to the journal: $JOURNAL_STREAM names its
// device and inode.
bool stderr_is_journal();

// Points the default logger at journald (stderr_is_journal()) or at stderr.
void install_logging();

// Database files and the socket. The process umask becomes 0077, so the
// database, its WAL and its shared-memory file are created 0600 whoever
// starts docketd; an existing database file readable by others is narrowed
// to 0600 (with a warning). The socket is made 0660 and given to the
// `docket` group when that group exists, so its members (staff, managers)
// can talk to docketd. Under systemd (Group=docket) the socket is the
// group's already and no chown is tried: the unit's system call filter
// refuses chown (@privileged).
void restrict_file_creation();
void secure_database_file(const std::filesystem::path& db);
void secure_socket(const std::filesystem::path& socket, const std::string& group = "docket");

}  // namespace docket::daemon
