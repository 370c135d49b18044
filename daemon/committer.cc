#include "daemon/committer.h"

#include <pthread.h>

namespace docket::daemon {

Committer::Committer(store::Store& store) : store_(store), thread_([this] { run(); }) {}

Committer::~Committer() {
  {
    std::lock_guard l(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Committer::start(const store::Batch& batch, std::function<void()> done) {
  {
    std::lock_guard l(mu_);
    job_ = &batch;
    done_ = std::move(done);
    error_.reset();
  }
  cv_.notify_all();
}

void Committer::wait() {
  std::unique_lock l(mu_);
  cv_.wait(l, [this] { return job_ == nullptr; });
}

bool Committer::finished() const {
  std::lock_guard l(mu_);
  return job_ == nullptr;
}

std::optional<std::string> Committer::error() const {
  std::lock_guard l(mu_);
  return error_;
}

void Committer::run() {
  ::pthread_setname_np(::pthread_self(), "docketd-commit");  // for top -H and perf
  std::unique_lock l(mu_);
  for (;;) {
    cv_.wait(l, [this] { return quit_ || (job_ != nullptr && !running_); });
    if (job_ == nullptr) return;  // quitting, nothing under way
    const store::Batch* batch = job_;
    running_ = true;
    l.unlock();
    std::optional<std::string> error;
    try {
      store_.write(*batch, store::Store::Fresh::skip);
    } catch (const std::exception& e) {
      error = e.what();
    }
    l.lock();
    error_ = std::move(error);
    job_ = nullptr;
    running_ = false;
    auto done = std::move(done_);
    done_ = nullptr;
    cv_.notify_all();
    l.unlock();
    if (done) done();
    l.lock();
  }
}

}  // namespace docket::daemon
