#pragma once
// The real docketd and docket binaries for end-to-end tests (integration,
// delivery, operations): a daemon on a scratch database and socket, requests
// on its socket, and a sandbox holding both. Every wait is a bounded poll.

#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/temp_config.h"

namespace docket::testing {

namespace daemon_support {
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using nlohmann::json;

inline const fs::path kDocketd = fs::path(DOCKET_BINARY_DIR) / "bin" / "docketd";
inline const fs::path kDocket = fs::path(DOCKET_BINARY_DIR) / "bin" / "docket";

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// Sets environment variables for the children spawned while it lives (the
// test process runs one test at a time), and restores them after.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::string>& vars) {
    for (const auto& [k, v] : vars) {
      const char* old = std::getenv(k.c_str());
      saved_.emplace_back(k, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
      ::setenv(k.c_str(), v.c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (const auto& [k, v] : saved_) {
      if (v) {
        ::setenv(k.c_str(), v->c_str(), 1);
      } else {
        ::unsetenv(k.c_str());
      }
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// One request on an open connection; the parsed reply, or null on failure.
inline json call(LineClient& c, const std::string& command, const json& args = json::object(), const json& id = 1,
                 std::chrono::milliseconds limit = kPatience) {
  json req{{"id", id}, {"command", command}, {"args", args}};
  if (!c.send_line(req.dump(), limit)) return nullptr;
  auto line = c.read_line(limit);
  if (!line) return nullptr;
  json j = json::parse(*line, nullptr, false);
  return j.is_discarded() ? json(nullptr) : j;
}

// The arguments of a `start` of a Rapid Review, on the day the sandboxes'
// rehearsal clocks begin unless `on` says otherwise.
inline json rapid_review_start(const std::string& ref, const std::string& on = "2026-03-02") {
  return {{"workflow", "rapid-review"}, {"ref", ref}, {"on", on}};
}

// Whether a reply from call() says ok; false for no reply at all.
inline bool replied_ok(const json& reply) { return reply.is_object() && reply.value("ok", false); }

// A running docketd. Killed and reaped when it goes away.
class Daemon {
 public:
  Daemon(const std::vector<std::string>& argv, fs::path socket, fs::path log)
      : socket_(std::move(socket)), log_(std::move(log)), process_(argv, log_, log_) {}

  // Ready once a connection is accepted AND answered: an answer means the
  // event loop (and with it the SIGTERM handler) is running.
  ::testing::AssertionResult wait_ready(std::chrono::milliseconds limit = kPatience) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (!process_.running()) {
        return ::testing::AssertionFailure() << "docketd " << describe_status(process_.wait(0ms))
                                             << " before it was ready; its log:\n" << log();
      }
      LineClient probe(socket_);
      if (probe.connected()) {
        if (probe.send_line(R"({"id":"ready?","command":"clock"})") && probe.read_line(kPatience)) {
          return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure() << "docketd accepted but did not answer: " << probe.error() << "; log:\n"
                                             << log();
      }
      std::this_thread::sleep_for(20ms);
    }
    return ::testing::AssertionFailure() << "docketd not reachable on " << socket_ << " within " << limit.count()
                                         << " ms; its log:\n" << log();
  }

  // Ready in the weaker sense: connect() succeeds (the socket is listening).
  ::testing::AssertionResult wait_connectable(std::chrono::milliseconds limit = kPatience) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (!process_.running()) return ::testing::AssertionFailure() << "docketd exited; log:\n" << log();
      if (LineClient(socket_).connected()) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(100us);
    }
    return ::testing::AssertionFailure() << "docketd not reachable on " << socket_;
  }

  // SIGTERM and wait (bounded); the raw wait status, or nullopt if it hung
  // (it is then killed).
  std::optional<int> terminate(std::chrono::milliseconds limit = kPatience) {
    process_.signal(SIGTERM);
    auto st = process_.wait(limit);
    if (!st) process_.kill_now();
    return st;
  }

  // Waits (bounded) for an exit already asked for (signal()); nullopt if it
  // hung (it is then killed).
  std::optional<int> wait_exit(std::chrono::milliseconds limit = kPatience) {
    auto st = process_.wait(limit);
    if (!st) process_.kill_now();
    return st;
  }

  int kill9() { return process_.kill_now(); }
  void signal(int sig) { process_.signal(sig); }
  pid_t pid() const { return process_.pid(); }
  bool running() { return process_.running(); }
  std::string log() const { return slurp(log_); }

 private:
  fs::path socket_;
  fs::path log_;
  Process process_;
};

inline ::testing::AssertionResult exited_zero(const std::optional<int>& st, const std::string& log) {
  if (st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "docketd " << describe_status(st) << " after SIGTERM; its log:\n" << log;
}

// A scratch directory holding the database, the socket and the logs.
class Sandbox {
 public:
  explicit Sandbox(fs::path config = shipped_config()) : config_(std::move(config)) {}

  fs::path db() const { return tmp_.path() / "docket.db"; }
  fs::path socket() const { return tmp_.path() / "docketd.sock"; }
  const fs::path& dir() const { return tmp_.path(); }

  // docketd on the sandbox's database and socket; on a rehearsal clock
  // starting at `virtual_clock` (e.g. "2026-03-02T08:00") unless it is empty.
  std::unique_ptr<Daemon> daemon(const std::string& virtual_clock = {}, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{kDocketd.string(), "--config", config_.string(), "--db", db().string(),
                                  "--socket", socket().string()};
    if (!virtual_clock.empty()) {
      argv.emplace_back("--virtual-clock");
      argv.push_back(virtual_clock);
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    last_log_ = tmp_.path() / ("docketd-" + std::to_string(++spawns_) + ".log");
    return std::make_unique<Daemon>(argv, socket(), last_log_);
  }

  // The docket client on the sandbox's configuration and socket.
  RunResult docket(const std::vector<std::string>& args, std::chrono::milliseconds limit = kPatience) {
    std::vector<std::string> argv{kDocket.string(), "--config", config_.string(), "--socket", socket().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, tmp_.path(), limit);
  }

  // `docket outbox --json` on the sandbox's database (read-only, so also
  // while docketd runs): the messages not yet delivered, or only the dead
  // letters; {"error": ...} if the command failed.
  json outbox(bool failed = false) {
    std::vector<std::string> args{"outbox", "--json", "--db", db().string()};
    if (failed) args.emplace_back("--failed");
    auto r = docket(args);
    if (r.code != 0) return json{{"error", r.err}};
    json j = json::parse(r.out, nullptr, false);
    return j.is_object() && j.contains("rows") ? j["rows"] : json{{"error", "not JSON: " + r.out}};
  }

  // Waits (bounded) until the outbox holds nothing undelivered.
  ::testing::AssertionResult outbox_empties(const Daemon& d, std::chrono::milliseconds limit = kPatience) {
    if (eventually(
            [&] {
              json waiting = outbox();
              return waiting.is_array() && waiting.empty();
            },
            limit)) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "still undelivered: " << outbox().dump(2) << "\ndocketd log:\n" << d.log();
  }

 private:
  TempDir tmp_;
  fs::path config_;
  int spawns_ = 0;
  fs::path last_log_;
};

}  // namespace daemon_support

using daemon_support::call;
using daemon_support::contains;
using daemon_support::Daemon;
using daemon_support::exited_zero;
using daemon_support::rapid_review_start;
using daemon_support::kDocket;
using daemon_support::kDocketd;
using daemon_support::Sandbox;
using daemon_support::replied_ok;
using daemon_support::ScopedEnv;

}  // namespace docket::testing
