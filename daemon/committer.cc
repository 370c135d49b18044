#include "daemon/committer.h"

#include <pthread.h>

namespace docket::daemon {

Committer::Committer(store::Store& store, std::function<void()> written, std::function<void()> synced)
    : store_(store),
      on_written_(std::move(written)),
      on_synced_(std::move(synced)),
      writer_([this] { write_loop(); }),
      syncer_([this] { sync_loop(); }) {}

Committer::~Committer() {
  {
    std::lock_guard l(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  writer_.join();
  syncer_.join();
}

std::uint64_t Committer::start(const store::Batch& batch) {
  std::uint64_t number = 0;
  {
    std::lock_guard l(mu_);
    job_ = &batch;
    number = ++started_;
  }
  cv_.notify_all();
  return number;
}

bool Committer::writing() const {
  std::lock_guard l(mu_);
  return job_ != nullptr;
}

std::uint64_t Committer::started() const {
  std::lock_guard l(mu_);
  return started_;
}

std::uint64_t Committer::written() const {
  std::lock_guard l(mu_);
  return written_;
}

std::uint64_t Committer::synced() const {
  std::lock_guard l(mu_);
  return synced_;
}

void Committer::wait_written() {
  std::unique_lock l(mu_);
  cv_.wait(l, [this] { return job_ == nullptr; });
}

void Committer::wait_synced() {
  std::unique_lock l(mu_);
  cv_.wait(l, [this] { return error_ || (job_ == nullptr && synced_ == started_); });
}

std::uint64_t Committer::sync_waited_at() const {
  std::lock_guard l(mu_);
  return sync_waited_at_;
}

std::optional<std::string> Committer::error() const {
  std::lock_guard l(mu_);
  return error_;
}

void Committer::write_loop() {
  ::pthread_setname_np(::pthread_self(), "docketd-commit");  // for top -H and perf
  std::unique_lock l(mu_);
  for (;;) {
    cv_.wait(l, [this] { return quit_ || job_ != nullptr; });
    if (job_ == nullptr) return;  // quitting, nothing under way
    const store::Batch* batch = job_;
    l.unlock();
    std::optional<std::string> error;
    try {
      store_.write(*batch, store::Store::Fresh::skip);
    } catch (const std::exception& e) {
      error = e.what();
    }
    l.lock();
    if (error) error_ = std::move(error);
    else ++written_;
    job_ = nullptr;
    cv_.notify_all();
    l.unlock();
    on_written_();
    l.lock();
    announced_ = written_;
    cv_.notify_all();
  }
}

void Committer::sync_loop() {
  ::pthread_setname_np(::pthread_self(), "docketd-sync");
  std::unique_lock l(mu_);
  for (;;) {
    // Quitting waits for the write under way, to sync it too.
    cv_.wait(l, [this] {
      const bool go = error_ || announced_ > synced_ || (quit_ && job_ == nullptr && announced_ == written_);
      if (!go) sync_waited_at_ = written_;
      return go;
    });
    if (error_ || announced_ == synced_) return;
    const std::uint64_t target = announced_;
    l.unlock();
    std::optional<std::string> error;
    try {
      store_.sync_log();
    } catch (const std::exception& e) {
      error = e.what();
    }
    l.lock();
    if (error) error_ = std::move(error);
    else synced_ = target;
    cv_.notify_all();
    l.unlock();
    on_synced_();
    l.lock();
  }
}

}  // namespace docket::daemon
