#pragma once
// Writes batches to the store on a thread of its own, one at a time, so the
// event loop fills the next batch (parsing requests, running the engine)
// while the last is written and synced. docketd is otherwise CPU-bound on
// one core: a clock jump or a burst of commands spent half its time in
// SQLite with the engine waiting, and the other core idle.
//
// The caller keeps the batch alive and unchanged until the write has
// finished, and answers no command of it before then.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "store/store.h"

namespace docket::daemon {

class Committer {
 public:
  explicit Committer(store::Store& store);
  // Finishes a write under way, then stops the thread.
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // Starts writing `batch`; only when the last write has finished. `done`
  // runs on the writer thread once it has (post it to the event loop).
  void start(const store::Batch& batch, std::function<void()> done);
  // Blocks until the write started last has finished.
  void wait();
  bool finished() const;
  // Why the last write failed, if it did. The caller must then stop: memory
  // is ahead of the database.
  std::optional<std::string> error() const;

 private:
  void run();

  store::Store& store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  const store::Batch* job_ = nullptr;  // set from start() until the write has finished
  bool running_ = false;
  bool quit_ = false;
  std::function<void()> done_;
  std::optional<std::string> error_;
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace docket::daemon
