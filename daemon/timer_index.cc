#include "daemon/timer_index.h"

#include "daemon/owner.h"

namespace docket::daemon {

namespace {

store::TimerKey timer_key(Instant at, const std::string& owner, const std::string& stage) {
  return {at.time_since_epoch().count(), owner, stage};
}

}  // namespace

void TimerIndex::set(const std::string& owner, Deadline& d, Instant next) {
  if (d.next_fire != Instant{}) timed_.erase(timer_key(d.next_fire, owner, d.stage->id));
  d.next_fire = next;
  if (next != Instant{}) timed_.insert(timer_key(next, owner, d.stage->id));
}

const store::TimerKey* TimerIndex::earliest() {
  top_up();
  return timed_.empty() ? nullptr : &*timed_.begin();
}

void TimerIndex::forget(const std::string& owner, const Deadline& d) {
  if (d.next_fire == Instant{}) return;
  auto k = timer_key(d.next_fire, owner, d.stage->id);
  if (cursor_ < k && timed_.erase(k) > 0) drained_ = false;  // the store holds it now
}

void TimerIndex::top_up() {
  while (!drained_ && (timed_.empty() || cursor_ < *timed_.begin())) {
    auto rows = store_->timers_after(cursor_, chunk_);
    if (!rows.empty()) cursor_ = rows.back();
    for (auto& k : rows) {
      // Meetings have every timed event in memory. A review changed since the
      // last commit may have moved this one: the engine skips an event its
      // deadline no longer has.
      if (owner_kind(k.ref) == OwnerKind::review) timed_.insert(std::move(k));
    }
    // Everything stored is in memory now; what reviews change later is in
    // memory too, until the cache lets it go.
    drained_ = rows.size() < static_cast<std::size_t>(chunk_);
  }
}

}  // namespace docket::daemon
