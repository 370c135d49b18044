#include "daemon/database_files.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace docket::daemon {

namespace fs = std::filesystem;

namespace {

std::string owner_name(uid_t uid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) return pw.pw_name;
  return "uid " + std::to_string(uid);
}

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

}  // namespace

fs::path DatabaseLock::path_for(const fs::path& db) { return fs::path(db.string() + ".lock"); }

DatabaseLock::DatabaseLock(const fs::path& db, const fs::path& socket) {
  const fs::path path = path_for(db);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error("cannot create the lock file " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    char buf[512];
    const ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
    if (n > 0) holder.assign(buf, static_cast<std::size_t>(n));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (err != EWOULDBLOCK) throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(err));
    throw std::runtime_error("another docketd (" + (holder.empty() ? std::string("pid unknown") : holder) +
                             ") is using " + db.string() + "; stop it first (systemctl stop docketd), or give this one "
                             "a database of its own with --db");
  }
  const std::string me = "pid " + std::to_string(::getpid()) + ", socket " + socket.string() + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size())) {
    // The lock holds all the same; only the message a second daemon gives is poorer.
  }
}

DatabaseLock::~DatabaseLock() {
  if (fd_ >= 0) ::close(fd_);
}

void check_socket_path(const fs::path& socket) {
  struct stat st {};
  if (::lstat(socket.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    throw std::runtime_error(socket.string() + " exists and is not a socket; docketd removes only a stale socket "
                             "there. Choose another --socket (or socket in docketd.toml), or move that file away");
  }
}

void check_database_files(const fs::path& db) {
  for (const std::string suffix : {"", "-wal", "-shm"}) {
    const fs::path file = db.string() + suffix;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) continue;  // SQLite creates it
    if (S_ISDIR(st.st_mode)) {
      throw std::runtime_error(file.string() + " is a directory; --db (or database in docketd.toml) names the "
                               "database file, e.g. /var/lib/docket/docket.db");
    }
    if (::access(file.c_str(), R_OK | W_OK) != 0) {
      throw std::runtime_error("cannot write " + file.string() + " (mode " + octal(st.st_mode) + ", owner " +
                               owner_name(st.st_uid) + "): " + std::strerror(errno) +
                               "; docketd must own its database files (chown docket: " + file.string() + ")");
    }
  }
}

}  // namespace docket::daemon
