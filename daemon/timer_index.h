#pragma once
// The timed events (a reminder, the moment a deadline passes, an escalation
// rung) in firing order: which owner's deadline fires next, and when.
//
// With a store, memory holds only what is needed now: stored events are read
// in firing order, a chunk at a time, up to a cursor. Every stored event up
// to the cursor is in memory, and so is every one a meeting has or a review
// was given since it was read. Without a store (unit tests) everything
// stays in memory. Firing is the engine's (engine.h); this is the index.

#include <cstddef>
#include <set>
#include <string>

#include "daemon/review.h"
#include "store/store.h"

namespace docket::daemon {

class TimerIndex {
 public:
  explicit TimerIndex(store::Store* store) : store_(store), drained_(store == nullptr) {}

  // Stored events read at once.
  void set_chunk(int chunk) { chunk_ = chunk; }

  // Moves the event of `owner`'s deadline `d` to `next` (epoch: none) and
  // records it in `d.next_fire`.
  void set(const std::string& owner, Deadline& d, Instant next);
  // The earliest event, reading the store up to it; nullptr when none.
  const store::TimerKey* earliest();
  // Removes the earliest event (after earliest() found one).
  void pop_earliest() { timed_.erase(timed_.begin()); }
  // A review leaving the cache: its event goes too, unless the store will
  // not be read again for it (it is at or before the cursor).
  void forget(const std::string& owner, const Deadline& d);

  std::size_t size() const { return timed_.size(); }

 private:
  // Reads stored events up to the earliest one in memory.
  void top_up();

  store::Store* store_ = nullptr;
  int chunk_ = 20000;
  std::set<store::TimerKey> timed_;
  store::TimerKey cursor_;  // every stored event up to here is in timed_
  bool drained_ = false;    // and there is none beyond it that is not in timed_
};

}  // namespace docket::daemon
