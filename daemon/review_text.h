#pragma once
// A review as docket answers for it: `status`, and every command that
// changes a review, reply with this. One writer, straight to JSON text (every
// `start` answers with it, so it skips building a tree); where a caller needs
// the JSON as a value it parses the text, so the two never drift apart.
//
// Keys are written in sorted order and invalid UTF-8 becomes U+FFFD, so the
// text is byte for byte what nlohmann's dump() of the parsed value gives, as
// replies are written (json_text.h).

#include <string>

#include <nlohmann/json.hpp>

#include "daemon/review.h"

namespace docket::daemon {

// `today` is the day on the review's calendar: open deadlines count their
// working days left from it.
std::string review_text(const Review& r, workflows::Day today);
nlohmann::json review_json(const Review& r, workflows::Day today);

// One stage of a review, as it appears in the review's "stages".
std::string deadline_text(const Review& r, const Deadline& d, workflows::Day today);
nlohmann::json deadline_json(const Review& r, const Deadline& d, workflows::Day today);

}  // namespace docket::daemon
