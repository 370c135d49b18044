#include "notifiers/backoff.h"

#include <algorithm>

namespace docket::notifiers {

std::chrono::milliseconds backoff_ceiling(int attempts, std::chrono::milliseconds base,
                                          std::chrono::milliseconds cap) {
  if (base.count() <= 0 || cap.count() <= 0) return std::chrono::milliseconds(0);
  std::int64_t ceiling = base.count();
  // Doubling stops as soon as the cap is reached, so nothing overflows.
  for (int i = 1; i < attempts && ceiling < cap.count(); ++i) {
    ceiling = ceiling > cap.count() / 2 ? cap.count() : ceiling * 2;
  }
  return std::chrono::milliseconds(std::min(ceiling, cap.count()));
}

}  // namespace docket::notifiers
