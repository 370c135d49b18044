#pragma once
// How long to wait before the next delivery attempt: exponential backoff with
// "full jitter" (a uniformly random delay between zero and the exponential
// ceiling), which spreads the retries of many messages that failed together
// instead of sending them back in synchronised waves.

#include <chrono>
#include <cstdint>
#include <random>

namespace docket::notifiers {

// The ceiling for the delay after `attempts` failed attempts (1 for the first
// failure): min(cap, base * 2^(attempts - 1)), without overflow however large
// `attempts` grows. Zero or negative `attempts` count as 1.
std::chrono::milliseconds backoff_ceiling(int attempts, std::chrono::milliseconds base, std::chrono::milliseconds cap);

// A delay drawn uniformly from [0, backoff_ceiling(attempts, base, cap)].
// Depends on nothing but its arguments: a seeded `rng` gives the same delays.
template <class Rng>
std::chrono::milliseconds next_attempt_delay(int attempts, std::chrono::milliseconds base,
                                             std::chrono::milliseconds cap, Rng& rng) {
  const auto ceiling = backoff_ceiling(attempts, base, cap);
  std::uniform_int_distribution<std::int64_t> pick(0, ceiling.count());
  return std::chrono::milliseconds(pick(rng));
}

}  // namespace docket::notifiers
