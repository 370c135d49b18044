#pragma once
// A latch on a process's syncs (and, if asked, its writes to one file), for
// tests that need something to stay unfinished for as long as they say: the
// process (docketd, docket) is started with env(), which preloads
// tests/support/sync_gate.c, and while the gate is closed every fsync and
// fdatasync in it waits (and so every reply of docketd's, which waits for its
// batch's sync). Nothing is timed: the test closes the gate, waits for the
// event it wants to see meanwhile (waiting() is one), and opens it.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>

namespace docket::testing {

class SyncGate {
 public:
  explicit SyncGate(std::filesystem::path file) : file_(std::move(file)) {
    fd_ = ::open(file_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("SyncGate: cannot create " + file_.string());
  }
  ~SyncGate() { ::close(fd_); }
  SyncGate(const SyncGate&) = delete;
  SyncGate& operator=(const SyncGate&) = delete;

  // The environment for the daemon: the preloaded gate, and (under
  // AddressSanitizer) leave to load it before the sanitizer's runtime.
  // With `writes_to`, writes to that file (its canonical path) wait too.
  std::map<std::string, std::string> env(const std::filesystem::path& writes_to = {}) const {
    const char* asan = std::getenv("ASAN_OPTIONS");
    std::string options = asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : std::string();
    std::map<std::string, std::string> vars{{"LD_PRELOAD", DOCKET_SYNC_GATE_LIB},
                                            {"DOCKET_TEST_SYNC_GATE", file_.string()},
                                            {"ASAN_OPTIONS", options + "verify_asan_link_order=0"}};
    if (!writes_to.empty()) vars["DOCKET_TEST_GATE_WRITES_TO"] = writes_to.string();
    return vars;
  }

  // Whether a call has found the gate closed and waits (or waited) at it.
  bool waiting() const { return std::filesystem::exists(file_.string() + ".waiting"); }

  // Blocks until no sync is under way; from then on every sync waits.
  void close() { ::flock(fd_, LOCK_EX); }
  void open() { ::flock(fd_, LOCK_UN); }

 private:
  std::filesystem::path file_;
  int fd_ = -1;
};

}  // namespace docket::testing
