#pragma once
// Writes batches to the store on a thread of its own, one at a time, so the
// event loop fills the next batch (parsing requests, running the engine)
// while the last is written. docketd is otherwise CPU-bound on one core: a
// clock jump or a burst of commands spent half its time in SQLite with the
// engine waiting, and the other core idle.
//
// A write returns unsynced (WalSettings::sync_in_write off) and a second
// thread syncs the log, so that the next batch is written while the last is
// synced: a sync takes about as long as writing a few hundred commands, and
// with the two in turn each waited for the other. Writes are numbered from 1
// in the order they were started; one sync makes every write returned before
// it durable.
//
// The caller keeps each batch alive and unchanged until its write has
// returned, and answers no command of it, sends none of its messages, before
// it is synced.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "store/store.h"

namespace docket::daemon {

class Committer {
 public:
  // `written` runs on the writer thread when a write has returned (or
  // failed), `synced` on the syncing thread when a sync has finished (or
  // failed): both should post to the event loop. Each runs after the counts
  // below have moved and the waits have returned, not before. A write's
  // `synced` never comes before its `written` has returned: posted to one
  // loop, the caller learns a batch is written before that it is durable
  // (else, the syncer being quicker than the writer's post, the replies of
  // a batch synced before it landed waited for some later sync).
  Committer(store::Store& store, std::function<void()> written, std::function<void()> synced);
  // Finishes the write and the sync under way, then stops both threads.
  ~Committer();
  Committer(const Committer&) = delete;
  Committer& operator=(const Committer&) = delete;

  // Starts writing `batch`, only when writing() is false; returns its number.
  std::uint64_t start(const store::Batch& batch);
  // A write has been started and has not returned.
  bool writing() const;
  // The number of writes started; of those returned; of those durable.
  std::uint64_t started() const;
  std::uint64_t written() const;
  std::uint64_t synced() const;
  // Block until the write under way has returned; until every write started
  // is durable (or a write or sync has failed).
  void wait_written();
  void wait_synced();
  // The writes returned when the syncer last found nothing it may sync and
  // went to wait: a write it has seen and left until its notice is posted.
  // For tests of that order, which cannot otherwise tell "held back" from
  // "not yet looked".
  std::uint64_t sync_waited_at() const;
  // Why a write or a sync failed, if one did. The caller must then stop:
  // memory is ahead of the database.
  std::optional<std::string> error() const;

 private:
  void write_loop();
  void sync_loop();

  store::Store& store_;
  std::function<void()> on_written_;
  std::function<void()> on_synced_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  const store::Batch* job_ = nullptr;  // set from start() until its write has returned
  std::uint64_t started_ = 0;
  std::uint64_t written_ = 0;
  std::uint64_t announced_ = 0;  // writes whose on_written_ has returned: what a sync may cover
  std::uint64_t synced_ = 0;
  std::uint64_t sync_waited_at_ = 0;
  bool quit_ = false;
  std::optional<std::string> error_;
  std::thread writer_;  // last: start once everything above is ready
  std::thread syncer_;
};

}  // namespace docket::daemon
