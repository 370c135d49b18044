#pragma once
// The control protocol and the command registry, apart from any transport.
//
// A request is one line of JSON: {"id": ANY, "command": NAME, "args": {...}}.
// The reply is one line: {"id": ANY, "ok": true, "result": {...}} or
// {"id": ANY, "ok": false, "error": "what is wrong and how to fix it"}.
// Commands are a registry (name -> handler, after Kea's command manager): a
// handler returns a Result and never throws past the dispatcher; an unknown
// name is an answer, not a crash.

#include <functional>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/engine.h"

namespace docket::daemon {

inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;
// Arrays and objects nested deeper than this are refused (no command needs more than 3).
inline constexpr int kMaxRequestDepth = 16;

struct Request {
  nlohmann::json id;
  std::string command;
  nlohmann::json args = nlohmann::json::object();
};

// Parses one request line; on failure returns the error to send back.
std::variant<Request, std::string> parse_request(const std::string& line);

std::string reply_line(const nlohmann::json& id, const Result& r);

// Deadlines fired per transaction when many fall due at once (catch-up after
// an outage, a rehearsal clock jump), so no batch grows without bound. At a
// million reviews each fired deadline dirties pages of its own in every
// index it touches; a larger chunk shares more of them per commit (20,000:
// some 40 MB of batch at its largest, and about a second of one core before
// waiting commands are served).
inline constexpr std::size_t kFireChunk = 20000;

// What a handler may reach besides the engine: the clock (for `clock`) and
// the daemon's reload (for `reload`).
struct Services {
  Engine& engine;
  const Clock& clock;
  VirtualClock* virtual_clock = nullptr;  // null unless rehearsing
  std::function<Result(const Caller&, store::Batch&)> reload;
  // Takes over a clock advance from `from` to `target` and runs it in slices
  // between other work, answering once the clock is there (docketd's
  // server; the returned Result is `deferred`). Null: the advance runs to
  // its end within the command (`docket simulate`, the fuzzer).
  std::function<Result(const Caller&, Instant from, Instant target)> advance_later;
  // `outbox retry ID` (the daemon's dispatcher); null where nothing is delivered.
  std::function<Result(const Caller&, std::int64_t, store::Batch&)> retry_outbox;
};

class CommandRegistry {
 public:
  using Handler = std::function<Result(Services&, const Caller&, const nlohmann::json& args, store::Batch&)>;

  CommandRegistry();
  // Runs `r` for `who`. Writes go to `batch`; the caller commits it before
  // sending the reply.
  Result dispatch(Services& s, const Caller& who, const Request& r, store::Batch& batch) const;
  bool writes(const std::string& command) const;
  // Every command's name, and the arguments it takes (nullopt for an unknown
  // command). An argument not listed is refused by dispatch.
  std::vector<std::string> names() const;
  std::optional<std::vector<std::string>> args_of(const std::string& command) const;

 private:
  struct Entry {
    Handler run;
    bool writes = false;
  };
  std::map<std::string, Entry> commands_;
};

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

// The longest single advance (about ten years): longer ones are refused.
inline constexpr std::chrono::days kMaxAdvance{3660};

// "3d", "12h", "30m", "2w" -> seconds; nullopt when malformed or longer
// than kMaxAdvance.
std::optional<std::chrono::seconds> parse_advance(const std::string& text);

}  // namespace docket::daemon
