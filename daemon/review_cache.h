#pragma once
// The reviews in memory: read from the store when a command or a timed
// event needs one, kept in a bounded cache, and let go once committed.
//
// A review changed since the last commit stays cached until the batch that
// holds the change is on disk: the engine stamps each change with the
// generation it went into (changed()), a caller that commits one batch
// while the engine fills the next seals the generation (seal()) and reports
// it committed (committed()). Without a store (unit tests) every review
// stays in memory.
//
// A review whose definition has changed since it started keeps its own
// version, read once from the stored definition text.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/review.h"
#include "daemon/timer_index.h"
#include "store/store.h"
#include "workflows/config.h"

namespace docket::daemon {

class ReviewCache {
 public:
  // `store` is read for reviews not in memory; null keeps everything here.
  ReviewCache(std::shared_ptr<const workflows::Config> config, store::Store* store)
      : config_(std::move(config)), store_(store) {}

  // The configuration reviews read from now on start from; earlier
  // versions' definitions are read again against it when next needed.
  void reload(std::shared_ptr<const workflows::Config> config);
  // Reviews left cached after a commit.
  void set_limit(std::size_t cached) { limit_ = cached; }

  // The review, from memory or else from the store; nullptr if there is none.
  Review* find(const std::string& ref);
  // Whether a review `ref` exists, without reading it when it does not.
  bool exists(const std::string& ref) const;
  // A review new to docket, changed in this generation.
  Review& add(Review r);

  // The review is changed in the current generation.
  void changed(Review& r) const { r.changed_in = generation_; }
  bool uncommitted(const Review& r) const { return r.changed_in > committed_through_; }
  std::uint64_t seal() { return generation_++; }
  // Every change so far is on disk (or those up to `sealed`): committed
  // reviews may leave the cache, and their timed events with them.
  void committed(TimerIndex& timers);
  void committed(std::uint64_t sealed, TimerIndex& timers);

  // The reviews named by `stored` (refs from a store query) and those changed
  // since the last commit, each once, in ref order.
  std::vector<Review*> among(const std::vector<std::string>& stored);
  // Every review in memory (all of them, without a store).
  const std::map<std::string, Review>& in_memory() const { return reviews_; }

  std::size_t size() const { return reviews_.size(); }
  // Reviews read from the store since the cache was made.
  std::size_t reads() const { return reads_; }

 private:
  Review* load(const store::ReviewRecord& rec, const std::vector<store::DeadlineRecord>& rows);
  const workflows::ReviewDefinition* definition_for(const store::ReviewRecord& rec, Review& r);
  void evict(TimerIndex& timers);

  std::shared_ptr<const workflows::Config> config_;
  store::Store* store_ = nullptr;
  std::size_t limit_ = 20000;
  std::map<std::string, Review> reviews_;
  std::uint64_t generation_ = 1;         // the generation changes go into now
  std::uint64_t committed_through_ = 0;  // every generation up to here is on disk
  std::size_t reads_ = 0;
  // Definitions of earlier versions, read from the stored text once each.
  std::map<std::string, std::shared_ptr<const workflows::ReviewDefinition>> pinned_;
};

}  // namespace docket::daemon
