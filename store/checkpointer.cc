#include "store/checkpointer.h"

#include <pthread.h>
#include <sqlite3.h>

namespace docket::store {

Checkpointer::Checkpointer(const std::filesystem::path& path)
    : db_(path, Connection::Mode::read_write) {
  // The checkpoint syncs the database file before the log may be reused.
  db_.exec("PRAGMA synchronous=FULL");
  thread_ = std::thread([this] { loop(); });
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Checkpointer::request() {
  {
    std::lock_guard lock(mu_);
    requested_ = true;
    ++requests_;
  }
  wake_.notify_all();
}

std::int64_t Checkpointer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void Checkpointer::wait_idle() const {
  std::unique_lock lock(mu_);
  wake_.wait(lock, [&] { return stopping_ || (!requested_ && !running_); });
}

std::int64_t Checkpointer::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}

void Checkpointer::loop() {
  ::pthread_setname_np(::pthread_self(), "docketd-ckpt");  // for top -H and perf
  for (;;) {
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || requested_; });
      if (stopping_) return;
      requested_ = false;
      running_ = true;
    }
    {
      std::lock_guard running(run_mu_);
      // PASSIVE: copies what no reader still needs, waits for nobody. A
      // busy or failed run leaves the log as it is; the next request, or the
      // writer's own checkpoint at its limit, catches up.
      sqlite3_wal_checkpoint_v2(db_.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    {
      std::lock_guard lock(mu_);
      ++runs_;
      running_ = false;
    }
    wake_.notify_all();
  }
}

}  // namespace docket::store
