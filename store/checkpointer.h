#pragma once
// Copies the write-ahead log back into the database file on a thread of its
// own, so that the writer's thread never waits for it.
//
// SQLite's automatic checkpoint runs inside the COMMIT that crosses its
// threshold: the committing thread copies every page in the log into the
// database file and then syncs that file, and only then can the daemon
// answer. The Checkpointer runs the same PASSIVE checkpoint from a second
// connection of its own instead, when the writer asks (Store asks after a
// commit that leaves the log past a number of frames). Durability does not
// change: a commit is on disk once the log is synced, as before; a
// checkpoint only moves committed pages, and SQLite's locks keep readers and
// the writer consistent while it does.

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

#include "store/sqlite.h"

namespace docket::store {

class Checkpointer {
 public:
  // Opens a second connection to the database at `path` (already in WAL
  // mode) and starts the thread, which waits for requests.
  explicit Checkpointer(const std::filesystem::path& path);
  // Finishes a checkpoint in progress, then stops the thread.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Asks for a checkpoint soon; returns at once. Requests made while one
  // runs are served by one more run after it.
  void request();

  // Holds the thread between runs: while a Pause lives, no background
  // checkpoint runs, so its owner may checkpoint on its own connection.
  class Pause {
   public:
    explicit Pause(Checkpointer& c) : lock_(c.run_mu_) {}
    // Only if no checkpoint is running now; held() says whether it is.
    Pause(Checkpointer& c, std::try_to_lock_t) : lock_(c.run_mu_, std::try_to_lock) {}
    bool held() const { return lock_.owns_lock(); }

   private:
    std::unique_lock<std::mutex> lock_;
  };

  // Checkpoints completed on the thread so far, and requests made (for
  // tests and logs).
  std::int64_t runs() const;
  std::int64_t requests() const;
  // Blocks until every request made so far has been served (for tests).
  void wait_idle() const;

 private:
  void loop();

  Connection db_;
  mutable std::mutex mu_;
  mutable std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  bool running_ = false;
  std::int64_t runs_ = 0;
  std::int64_t requests_ = 0;
  std::mutex run_mu_;  // held for the length of each checkpoint
  std::thread thread_;
};

}  // namespace docket::store
