#pragma once
// Helpers for tests that drive the real binaries: a scratch directory, child
// processes that are always reaped (and killed if still running) when their
// owner goes away, and a line-oriented Unix-socket client with bounded waits.
// Every wait here is a bounded poll; nothing sleeps to let time pass.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace docket::testing {

// A fresh directory under $TMPDIR (short, so socket paths stay under the
// 108-byte limit), removed with everything in it when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "docket-it-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// How long a test waits for something that should happen before it calls
// it missing: long enough for the sanitized build on a machine kept busy.
// A passing test never waits it out; only a failing one does.
inline constexpr std::chrono::milliseconds kPatience = std::chrono::seconds(60);

// Polls `ready` every 10 ms until it holds or `limit` passes.
template <class Pred>
bool eventually(Pred ready, std::chrono::milliseconds limit = kPatience) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A child process. The destructor SIGKILLs it if it is still running and
// reaps it, so a failing test never leaves one behind; the child also gets
// SIGKILL if the test process itself dies (PR_SET_PDEATHSIG).
class Process {
 public:
  // Runs argv (argv[0] an absolute path) with stdin from /dev/null, stdout
  // appended to `out` and stderr appended to `err` (the same file if equal).
  Process(const std::vector<std::string>& argv, const std::filesystem::path& out, const std::filesystem::path& err) {
    if (argv.empty()) throw std::invalid_argument("Process: empty argv");
    // Everything the child needs is prepared before fork: after it, only
    // async-signal-safe calls.
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT: execv's signature
    args.push_back(nullptr);
    const std::string out_s = out.string(), err_s = err.string();
    const bool same = out == err;
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed: " + std::string(std::strerror(errno)));
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      sigset_t none;
      ::sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGPIPE, SIG_DFL);
      int in = ::open("/dev/null", O_RDONLY);
      if (in >= 0) ::dup2(in, 0);
      int o = ::open(out_s.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (o < 0) ::_exit(126);
      ::dup2(o, 1);
      if (same) {
        ::dup2(o, 2);
      } else {
        int e = ::open(err_s.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (e < 0) ::_exit(126);
        ::dup2(e, 2);
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    pid_ = pid;
  }
  ~Process() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
      }
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }

  // True while the child has not exited (reaps it if it has).
  bool running() {
    if (status_) return false;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) status_ = st;
    return !status_;
  }

  void signal(int sig) {
    if (!status_) ::kill(pid_, sig);
  }

  // The raw wait status once the child has exited, polling up to `limit`.
  std::optional<int> wait(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (running()) {
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return status_;
  }

  // SIGKILL and reap.
  int kill_now() {
    signal(SIGKILL);
    while (!status_) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, 0);
      if (r == pid_) status_ = st;
      if (r < 0 && errno != EINTR) break;
    }
    return status_.value_or(-1);
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

inline std::string describe_status(std::optional<int> st) {
  if (!st) return "still running";
  if (WIFEXITED(*st)) return "exited " + std::to_string(WEXITSTATUS(*st));
  if (WIFSIGNALED(*st)) return "killed by signal " + std::to_string(WTERMSIG(*st));
  return "status " + std::to_string(*st);
}

// Runs a short-lived command to completion (killing it after `limit`).
struct RunResult {
  int code = -1;  // exit code, or -1 if it did not exit normally
  std::string out;
  std::string err;
  std::string how;  // describe_status of the end
};

inline RunResult run_command(const std::vector<std::string>& argv, const std::filesystem::path& scratch,
                             std::chrono::milliseconds limit = kPatience) {
  static int counter = 0;
  const std::string stem = "run-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  const auto out = scratch / (stem + ".out"), err = scratch / (stem + ".err");
  RunResult r;
  {
    Process p(argv, out, err);
    auto st = p.wait(limit);
    if (!st) st = p.kill_now();
    r.how = describe_status(st);
    if (WIFEXITED(*st)) r.code = WEXITSTATUS(*st);
  }
  r.out = slurp(out);
  r.err = slurp(err);
  std::error_code ec;
  std::filesystem::remove(out, ec);
  std::filesystem::remove(err, ec);
  return r;
}

// A close-on-exec Unix stream socket connected to (connect) or bound at
// (bind) `socket_path`; -1 (errno set) on failure.
inline int unix_socket(const std::filesystem::path& socket_path, bool connect) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string s = socket_path.string();
  if (s.size() >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  const auto* a = reinterpret_cast<const sockaddr*>(&addr);  // NOLINT: the sockets API
  if ((connect ? ::connect(fd, a, sizeof addr) : ::bind(fd, a, sizeof addr)) != 0) {
    int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// Connects to a Unix stream socket; -1 (errno set) on failure.
inline int connect_unix(const std::filesystem::path& socket_path) { return unix_socket(socket_path, true); }

// A Unix stream socket bound (not yet listening) at `socket_path`; -1 on failure.
inline int bind_unix(const std::filesystem::path& socket_path) { return unix_socket(socket_path, false); }

// One connection; sends lines and reads newline-terminated replies, each
// wait bounded.
class LineClient {
 public:
  explicit LineClient(const std::filesystem::path& socket_path) : fd_(connect_unix(socket_path)) {
    if (fd_ < 0) error_ = std::strerror(errno);
  }
  ~LineClient() { close(); }
  LineClient(const LineClient&) = delete;
  LineClient& operator=(const LineClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  const std::string& error() const { return error_; }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Half-closes: the peer reads the end of the stream; replies still come.
  void shutdown_write() {
    if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
  }

  // Sends all of `data` (no newline added); false on any error (EPIPE is
  // reported, never raised as a signal).
  bool send_all(std::string_view data, std::chrono::milliseconds limit = kPatience) {
    if (fd_ < 0) return false;
    const auto until = std::chrono::steady_clock::now() + limit;
    std::size_t done = 0;
    while (done < data.size()) {
      pollfd p{fd_, POLLOUT, 0};
      int left = remaining_ms(until);
      if (left <= 0) {
        error_ = "send timed out";
        return false;
      }
      int pr = ::poll(&p, 1, left);
      if (pr < 0 && errno == EINTR) continue;
      if (pr <= 0) {
        error_ = pr == 0 ? "send timed out" : std::strerror(errno);
        return false;
      }
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        error_ = std::strerror(errno);
        return false;
      }
      done += static_cast<std::size_t>(n);
    }
    return true;
  }

  bool send_line(const std::string& line, std::chrono::milliseconds limit = kPatience) {
    return send_all(line + "\n", limit);
  }

  // The next line without its newline; nullopt on EOF, error or timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds limit = kPatience) {
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      if (fd_ < 0) return std::nullopt;
      int left = remaining_ms(until);
      if (left <= 0) {
        error_ = "read timed out";
        return std::nullopt;
      }
      pollfd p{fd_, POLLIN, 0};
      int pr = ::poll(&p, 1, left);
      if (pr < 0 && errno == EINTR) continue;
      if (pr <= 0) {
        error_ = pr == 0 ? "read timed out" : std::strerror(errno);
        return std::nullopt;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        error_ = std::strerror(errno);
        return std::nullopt;
      }
      if (n == 0) {
        error_ = "connection closed by peer";
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // True when the peer has closed the connection (EOF) within `limit`.
  bool closed_by_peer(std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (fd_ >= 0 && remaining_ms(until) > 0) {
      pollfd p{fd_, POLLIN, 0};
      int pr = ::poll(&p, 1, remaining_ms(until));
      if (pr < 0 && errno == EINTR) continue;
      if (pr <= 0) return false;
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, MSG_DONTWAIT);
      if (n == 0) return true;
      if (n < 0) return errno != EAGAIN && errno != EINTR;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
    return false;
  }

 private:
  static int remaining_ms(std::chrono::steady_clock::time_point until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(left);
  }

  int fd_ = -1;
  std::string buffer_;
  std::string error_;
};

}  // namespace docket::testing
