#include "daemon/systemd.h"

#include "daemon/log.h"

#include <grp.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

namespace docket::daemon {

namespace fs = std::filesystem;

ServiceManager::ServiceManager(boost::asio::io_context& io, std::function<std::string()> status)
    : status_(std::move(status)), timer_(io) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) watchdog_ = std::chrono::microseconds(usec);
}

void ServiceManager::notify(const std::string& state) { sd_notify(0, state.c_str()); }

void ServiceManager::ready() {
  if (stopping_) return;  // a SIGTERM that came first wins
  last_status_ = status_ ? status_() : std::string();
  notify("READY=1\nSTATUS=" + last_status_);
  if (watchdog_) {
    log::daemon().info("daemon.watchdog interval_ms={}",
                 std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog_).count());
    ping();
  }
}

void ServiceManager::stopping() {
  stopping_ = true;
  timer_.cancel();
  notify("STOPPING=1\nSTATUS=stopping");
}

// The ping runs as a handler of the event loop, so it stops when the loop
// stops turning: that is what the watchdog is for.
void ServiceManager::ping() {
  if (stopping_) return;
  std::string state = "WATCHDOG=1";
  if (status_) {
    std::string now = status_();
    if (now != last_status_) {
      last_status_ = now;
      state += "\nSTATUS=" + now;
    }
  }
  notify(state);
  timer_.expires_after(*watchdog_ / 2);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) ping();
  });
}

namespace {

bool is_event_name(std::string_view word) {
  if (word.empty() || word.find('.') == std::string_view::npos || word.front() == '.' || word.back() == '.') {
    return false;
  }
  for (char c : word) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::critical: return 2;
    case spdlog::level::err: return 3;
    case spdlog::level::warn: return 4;
    case spdlog::level::info: return 6;
    default: return 7;
  }
}

}  // namespace

std::vector<std::string> journal_fields(std::string_view message, int priority) {
  std::vector<std::string> fields{"MESSAGE=" + std::string(message), "PRIORITY=" + std::to_string(priority),
                                  "SYSLOG_IDENTIFIER=docketd"};
  std::size_t at = 0;
  bool first = true;
  while (at < message.size()) {
    const std::size_t end = std::min(message.find(' ', at), message.size());
    const std::string_view word = message.substr(at, end - at);
    at = end + 1;
    if (first && is_event_name(word)) fields.push_back("EVENT=" + std::string(word));
    first = false;
    for (const auto& [key, field] : {std::pair{"ref=", "REF="}, std::pair{"stage=", "STAGE="}}) {
      const std::string_view k = key;
      if (word.size() > k.size() && word.starts_with(k)) fields.push_back(field + std::string(word.substr(k.size())));
    }
  }
  return fields;
}

JournalSink::JournalSink(Send send) : send_(std::move(send)) {
  if (!send_) {
    send_ = [](const std::vector<std::string>& fields) {
      std::vector<iovec> iov;
      iov.reserve(fields.size());
      for (const auto& f : fields) iov.push_back({const_cast<char*>(f.data()), f.size()});  // NOLINT: C API
      sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    };
  }
}

void JournalSink::sink_it_(const spdlog::details::log_msg& msg) {
  send_(journal_fields(std::string_view(msg.payload.data(), msg.payload.size()), syslog_priority(msg.level)));
}

bool stderr_is_journal() {
  const char* env = std::getenv("JOURNAL_STREAM");
  if (env == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;  // NOLINT: a fixed, simple format
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

void install_logging() {
  std::shared_ptr<spdlog::logger> logger;
  if (stderr_is_journal()) {
    logger = std::make_shared<spdlog::logger>("docketd", std::make_shared<JournalSink>());
  } else {
    logger = std::make_shared<spdlog::logger>("docketd", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S%z %^%l%$ %v");
  }
  spdlog::set_default_logger(std::move(logger));
  log::make_parts();
}

void restrict_file_creation() { ::umask(0077); }

void secure_database_file(const fs::path& db) {
  struct stat st {};
  if (::stat(db.c_str(), &st) != 0) return;  // created by SQLite under the umask
  if ((st.st_mode & 0077) != 0) {
    log::daemon().warn("store.permissions file={} mode={:o} narrowed to 600", db.string(), st.st_mode & 0777);
    ::chmod(db.c_str(), 0600);
  }
}

void secure_socket(const fs::path& socket, const std::string& group_name) {
  ::chmod(socket.c_str(), 0660);
  std::vector<char> buf(16384);
  group gr{};
  group* found = nullptr;
  if (getgrnam_r(group_name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || found == nullptr) return;
  // Started by systemd the socket is the group's already (Group=docket), and
  // chown is outside the unit's system call filter: only a docketd started
  // by hand (as root, say) hands it over.
  struct stat st {};
  if (::stat(socket.c_str(), &st) == 0 && st.st_gid == gr.gr_gid) return;
  if (::chown(socket.c_str(), static_cast<uid_t>(-1), gr.gr_gid) != 0) {
    log::daemon().warn("socket.permissions path={} group={} error={}", socket.string(), group_name, std::strerror(errno));
  }
}

}  // namespace docket::daemon
