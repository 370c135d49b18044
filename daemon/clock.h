#pragma once
// The clock is injected: docketd runs on the system clock; a rehearsal
// daemon (--virtual-clock) and the tests run on a virtual one that moves only
// when told to.

#include <chrono>
#include <string>

namespace docket::daemon {

using Instant = std::chrono::sys_seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
  virtual bool is_virtual() const = 0;
  std::string mode() const { return is_virtual() ? "virtual" : "system"; }
};

class SystemClock final : public Clock {
 public:
  Instant now() const override {
    return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  }
  bool is_virtual() const override { return false; }
};

class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(Instant start) : now_(start) {}
  Instant now() const override { return now_; }
  bool is_virtual() const override { return true; }
  void set(Instant t) { now_ = t; }

 private:
  Instant now_;
};

}  // namespace docket::daemon
