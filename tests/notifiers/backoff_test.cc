// Exponential backoff with full jitter.

#include <gtest/gtest.h>

#include <random>

#include "notifiers/backoff.h"

namespace docket::notifiers {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, CeilingDoublesFromBaseUpToTheCap) {
  const milliseconds base(1000), cap(60'000);
  EXPECT_EQ(backoff_ceiling(1, base, cap), milliseconds(1000));
  EXPECT_EQ(backoff_ceiling(2, base, cap), milliseconds(2000));
  EXPECT_EQ(backoff_ceiling(3, base, cap), milliseconds(4000));
  EXPECT_EQ(backoff_ceiling(6, base, cap), milliseconds(32'000));
  EXPECT_EQ(backoff_ceiling(7, base, cap), milliseconds(60'000));
  EXPECT_EQ(backoff_ceiling(0, base, cap), milliseconds(1000));
  EXPECT_EQ(backoff_ceiling(1'000'000, base, cap), cap) << "no overflow for huge attempt counts";
  EXPECT_EQ(backoff_ceiling(100, milliseconds(3), milliseconds::max()), milliseconds::max());
}

TEST(Backoff, DelayIsWithinZeroAndTheCeilingAndSpreadsOut) {
  std::mt19937_64 rng(42);
  const milliseconds base(1000), cap(60'000);
  for (int attempt = 1; attempt <= 12; ++attempt) {
    milliseconds lo = milliseconds::max(), hi(0);
    double sum = 0;
    constexpr int draws = 2000;
    for (int i = 0; i < draws; ++i) {
      auto d = next_attempt_delay(attempt, base, cap, rng);
      ASSERT_GE(d.count(), 0);
      ASSERT_LE(d, backoff_ceiling(attempt, base, cap));
      lo = std::min(lo, d);
      hi = std::max(hi, d);
      sum += static_cast<double>(d.count());
    }
    const double ceiling = static_cast<double>(backoff_ceiling(attempt, base, cap).count());
    EXPECT_LT(static_cast<double>(lo.count()), ceiling * 0.05) << "full jitter reaches near zero";
    EXPECT_GT(static_cast<double>(hi.count()), ceiling * 0.95) << "and near the ceiling";
    EXPECT_NEAR(sum / draws, ceiling / 2, ceiling * 0.05) << "uniform: mean about half the ceiling";
  }
}

TEST(Backoff, SameSeedSameDelays) {
  std::mt19937_64 a(7), b(7);
  for (int i = 1; i < 20; ++i) {
    EXPECT_EQ(next_attempt_delay(i, milliseconds(500), milliseconds(3'600'000), a),
              next_attempt_delay(i, milliseconds(500), milliseconds(3'600'000), b));
  }
}

TEST(Backoff, ZeroBaseOrCapMeansNoWait) {
  std::mt19937_64 rng(1);
  EXPECT_EQ(next_attempt_delay(5, milliseconds(0), milliseconds(1000), rng), milliseconds(0));
  EXPECT_EQ(next_attempt_delay(5, milliseconds(1000), milliseconds(0), rng), milliseconds(0));
}

}  // namespace
}  // namespace docket::notifiers
