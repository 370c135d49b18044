#pragma once
// A real docketd on a scratch database and socket, for the operations tests
// (systemd notifications, stop, backup and restore, the socket's limits).
// Every wait is a bounded poll.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/process.h"
#include "tests/support/temp_config.h"

namespace docket::testing {

inline const std::filesystem::path kDocketdBinary = std::filesystem::path(DOCKET_BINARY_DIR) / "bin" / "docketd";
inline const std::filesystem::path kDocketBinary = std::filesystem::path(DOCKET_BINARY_DIR) / "bin" / "docket";

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
inline nlohmann::json call_line(LineClient& c, const std::string& command,
                                const nlohmann::json& args = nlohmann::json::object(), const nlohmann::json& id = 1,
                                std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  nlohmann::json req{{"id", id}, {"command", command}, {"args", args}};
  if (!c.send_line(req.dump(), limit)) return nullptr;
  auto line = c.read_line(limit);
  if (!line) return nullptr;
  auto j = nlohmann::json::parse(*line, nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

class RunningDocketd {
 public:
  RunningDocketd(const std::vector<std::string>& argv, std::filesystem::path socket, std::filesystem::path log)
      : socket_(std::move(socket)), log_(std::move(log)), process_(argv, log_, log_) {}

  // Ready once a connection is accepted and answered.
  ::testing::AssertionResult wait_ready(std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (!process_.running()) {
        return ::testing::AssertionFailure() << "docketd exited before it was ready; its log:\n" << log();
      }
      LineClient probe(socket_);
      if (probe.connected()) {
        if (probe.send_line(R"({"id":"ready?","command":"clock"})") && probe.read_line(std::chrono::seconds(5))) {
          return ::testing::AssertionSuccess();
        }
        return ::testing::AssertionFailure() << "docketd accepted but did not answer; log:\n" << log();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return ::testing::AssertionFailure() << "docketd not reachable on " << socket_ << "; its log:\n" << log();
  }

  // SIGTERM and wait (bounded); the wait status, or nullopt if it hung.
  std::optional<int> terminate(std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    process_.signal(SIGTERM);
    auto st = process_.wait(limit);
    if (!st) process_.kill_now();
    return st;
  }

  void signal_term() { process_.signal(SIGTERM); }
  // Waits (bounded) for an exit already asked for; nullopt if it hung.
  std::optional<int> wait_exit(std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    auto st = process_.wait(limit);
    if (!st) process_.kill_now();
    return st;
  }

  pid_t pid() const { return process_.pid(); }
  bool running() { return process_.running(); }
  std::string log() const { return slurp(log_); }

 private:
  std::filesystem::path socket_;
  std::filesystem::path log_;
  Process process_;
};

inline ::testing::AssertionResult exited_zero(const std::optional<int>& st, const std::string& log) {
  if (st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "docketd " << describe_status(st) << " after SIGTERM; its log:\n" << log;
}

// A scratch directory holding a database, a socket and the logs.
class OpsSandbox {
 public:
  explicit OpsSandbox(std::filesystem::path config = shipped_config()) : config_(std::move(config)) {}

  std::filesystem::path db() const { return tmp_.path() / "docket.db"; }
  std::filesystem::path socket() const { return tmp_.path() / "docketd.sock"; }
  const std::filesystem::path& dir() const { return tmp_.path(); }

  std::unique_ptr<RunningDocketd> daemon(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{kDocketdBinary.string(), "--config", config_.string(), "--db", db().string(),
                                  "--socket", socket().string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    const auto log = tmp_.path() / ("docketd-" + std::to_string(++spawns_) + ".log");
    return std::make_unique<RunningDocketd>(argv, socket(), log);
  }

  RunResult docket(const std::vector<std::string>& args,
                   std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    std::vector<std::string> argv{kDocketBinary.string(), "--config", config_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, tmp_.path(), limit);
  }

 private:
  TempDir tmp_;
  std::filesystem::path config_;
  int spawns_ = 0;
};

}  // namespace docket::testing
