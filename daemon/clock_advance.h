#pragma once
// Moving a rehearsal's virtual clock: `docket clock advance`, `docket
// simulate` and docketd's sliced advance share these, so a rehearsal fires
// exactly what the system clock would have.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "daemon/engine.h"

namespace docket::daemon {

// Deadlines fired per transaction when many fall due at once (catch-up after
// an outage, a rehearsal clock jump), so no batch grows without bound. At a
// million reviews each fired deadline dirties pages of its own in every
// index it touches; a larger chunk shares more of them per commit (20,000:
// some 40 MB of batch at its largest, and about a second of one core before
// waiting commands are served).
inline constexpr std::size_t kFireChunk = 20000;

// Moves a virtual clock to `target`, firing every timed event on the way at
// its own time, exactly as the system clock would have (Engine::fire_through:
// a review at a time, so each is read once). The one implementation behind
// `docket clock advance` and `docket simulate`; docketd's server runs the
// same fire_through a kFireChunk at a time.
void advance_to(Engine& engine, VirtualClock& clock, Instant target, store::Batch& batch);

// The end of a clock advance from `from`: the audit record (with who asked,
// and where the clock stopped if not at `target`) and the stored rehearsal
// time, and the reply: the clock as it now stands.
Result advance_recorded(const Engine& engine, const Caller& who, Instant from, Instant target, Instant reached,
                        store::Batch& batch);

// The clock as `docket clock` shows it: {"now": UTC, "local": "Mon
// 2026-03-02 09:00 Europe/London", "mode": "system" | "virtual"}.
nlohmann::json clock_json(const Engine& engine, Instant t, const std::string& mode);

// The longest single advance (about ten years): longer ones are refused.
inline constexpr std::chrono::days kMaxAdvance{3660};

// "3d", "12h", "30m", "2w" -> seconds; nullopt when malformed or longer
// than kMaxAdvance.
std::optional<std::chrono::seconds> parse_advance(const std::string& text);

}  // namespace docket::daemon
