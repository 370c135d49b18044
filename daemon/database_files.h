#pragma once
// The files docketd keeps beside its database, checked before the store is
// opened: one daemon per database (a lock held for the process's life), and
// every file SQLite will write (the database, its -wal and -shm) writable
// by this process, or an error that names the file.

#include <filesystem>
#include <string>

namespace docket::daemon {

// An exclusive flock on DB.lock, which holds the pid and socket of the
// daemon that holds it. Released when the process ends, however it ends.
class DatabaseLock {
 public:
  // Throws std::runtime_error naming the daemon that holds the lock
  // ("another docketd (pid 1234, socket ...) is using ...").
  DatabaseLock(const std::filesystem::path& db, const std::filesystem::path& socket);
  ~DatabaseLock();
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

  static std::filesystem::path path_for(const std::filesystem::path& db);

 private:
  int fd_ = -1;
};

// Throws std::runtime_error if something other than a socket is at the
// control socket's path: docketd removes only a stale socket, so a path
// given by mistake (the database's, say) is refused before anything is
// written anywhere.
void check_socket_path(const std::filesystem::path& socket);

// Throws std::runtime_error naming the first of the database's files that
// exists and this process may not read and write (a -shm left 0400 by a
// copy, a database owned by another user), with its mode and owner.
void check_database_files(const std::filesystem::path& db);

}  // namespace docket::daemon
