// docket's scale benchmark: a country's reviews on one small machine.
//
//   build/bin/docket_bench [--reviews N] [--clients N] [--seconds S] [--dir DIR]
//                          [--refs sequential|interleaved] [--jump yes|no]
//
// 1. Generates a database of N open reviews of a five-stage review type
//    (about 5 N pending deadlines), planned by the engine itself, with start
//    days spread over the two months before the bench's virtual "now".
//    References follow the order the reviews started in, as a partnership
//    numbers them (RR-2026-001, RR-2026-002, ...), so reviews that fall due
//    together sit together in the tables. `--refs interleaved` deals the
//    start days out in turn instead (B-0 on day 0, B-1 on day 1, ...): the
//    worst case, where every batch of events touches pages all over them.
// 2. Starts the real docketd on it (rehearsal clock) and measures the time
//    from exec to the first answered request, and its resident memory.
// 3. Advances the rehearsal clock so a large batch of reminders falls due at
//    once, and counts reminders written to the outbox per second; then waits
//    while the dispatcher delivers them (to the log). `--jump no` leaves
//    this out, to measure the commands alone.
// 4. Sends `start` commands from many concurrent clients for S seconds and
//    counts acknowledged (committed) commands per second.
// Prints each figure beside its target. Not a test: it asserts nothing.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/engine.h"
#include "store/sqlite.h"
#include "store/store.h"

namespace fs = std::filesystem;
using namespace std::chrono;
using nlohmann::json;

extern char** environ;

namespace {

const char* kBenchReview = R"(# A five-stage review type for the scale benchmark: every stage opens at the
# start, each with reminders and an escalation ladder, like the shipped ones.
kind = "review"
id = "bench-review"
title = "Benchmark review"
[[stage]]
id = "one"
owner = "business-manager"
due = "5 working days after start"
reminders = ["2 working days", "1 working day"]
  [[stage.escalation]]
  after = "1 working day"
  to = ["executive-chair"]
[[stage]]
id = "two"
owner = "business-manager"
due = "15 working days after start"
reminders = ["5 working days", "2 working days"]
  [[stage.escalation]]
  after = "1 working day"
  to = ["executive-chair"]
[[stage]]
id = "three"
owner = "business-manager"
due = "1 month after start"
reminders = ["1 week"]
[[stage]]
id = "four"
owner = "business-manager"
due = "3 months after start"
reminders = ["2 weeks"]
[[stage]]
id = "five"
owner = "business-manager"
due = "6 months after start"
reminders = ["4 weeks", "1 week"]
)";

struct Options {
  long reviews = 1'000'000;
  int clients = 16;
  int seconds = 5;
  int depth = 32;  // requests each client keeps in flight (the protocol's ids allow it)
  bool keep = false;           // --keep yes: leave the database and docketd's log for a look
  bool generate_only = false;  // --generate-only yes: stop after writing the database (for profiling)
  bool interleaved = false;    // --refs interleaved: start days dealt out in turn across the references
  bool jump = true;            // --jump no: measure the commands alone (for profiling them)
  fs::path from;               // --from DIR: copy the database a --generate-only run left in DIR
  fs::path dir;
};

double since(steady_clock::time_point t0) { return duration<double>(steady_clock::now() - t0).count(); }

int connect_to(const fs::path& socket) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A connection with a read buffer: one request, one reply line.
struct Client {
  int fd = -1;
  std::string buffer;

  bool send(const std::string& line) {
    std::string out = line + "\n";
    return ::write(fd, out.data(), out.size()) == static_cast<ssize_t>(out.size());
  }

  // The reply line; empty on failure.
  std::string request(const std::string& line) { return send(line) ? receive() : std::string{}; }

  std::string receive() {
    for (;;) {
      auto nl = buffer.find('\n');
      if (nl != std::string::npos) {
        std::string reply = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        return reply;
      }
      char chunk[65536];
      ssize_t n = ::read(fd, chunk, sizeof chunk);
      if (n <= 0) return {};
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
  }
};

std::string request(int fd, const std::string& line) {
  Client c{fd, {}};
  return c.request(line);
}

long rss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) * 1024;
  }
  return 0;
}

// CPU seconds (user + system) of each of a process's threads, summed by
// thread name: which thread a phase kept busy.
std::map<std::string, double> thread_cpu(pid_t pid) {
  std::map<std::string, double> out;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stod(field);
      if (i == 15) stime = std::stod(field);
    }
    out[stat.substr(open + 1, close - open - 1)] += (utime + stime) / tick;
  }
  return out;
}

std::string cpu_used(const std::map<std::string, double>& before, const std::map<std::string, double>& after) {
  std::string out;
  for (const auto& [name, s] : after) {
    auto b = before.find(name);
    const double used = s - (b == before.end() ? 0.0 : b->second);
    if (used < 0.05) continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s %.1f s", out.empty() ? "" : ", ", name.c_str(), used);
    out += buf;
  }
  return out.empty() ? "none" : out;
}

// This process's CPU seconds, with threads that have ended.
double own_cpu() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Plans one review per start day with the engine, then writes N reviews
// cloned from those plans straight into the store's tables.
long generate(const fs::path& config_dir, const fs::path& db, long n, bool interleaved, docket::daemon::Instant now) {
  auto config = docket::workflows::load_config(config_dir).config;
  if (!config) throw std::runtime_error("the bench configuration does not load");
  docket::daemon::VirtualClock clock(now);
  docket::daemon::Engine engine(config, clock);
  docket::daemon::Caller admin{"a-morgan", {"administrator", "business-manager"}};
  std::vector<docket::store::Batch> by_day;
  const auto first = docket::workflows::Day{date::year{2026} / date::April / 1};
  for (int i = 0; i < 61; ++i) {
    docket::store::Batch b;
    docket::daemon::StartArgs a{"bench-review", "T-" + std::to_string(i), docket::workflows::iso(first + date::days{i}), "", {}, {}};
    auto r = engine.start(admin, a, b);
    if (!r.ok) throw std::runtime_error(r.error);
    by_day.push_back(std::move(b));
  }
  // Bring every plan up to "now" so the database is in a steady state (what
  // was due has been sent), as on a daemon that has been running all along.
  {
    docket::store::Batch caught_up;
    engine.fire_due(now, caught_up);
    for (auto& b : by_day) {
      for (auto& d : b.deadlines) {
        for (auto it = caught_up.deadlines.rbegin(); it != caught_up.deadlines.rend(); ++it) {
          if (it->ref == d.ref && it->stage == d.stage) {
            d = *it;
            break;
          }
        }
      }
    }
  }
  { docket::store::Store create(db, "virtual"); }  // schema and migrations
  docket::store::Connection c(db, docket::store::Connection::Mode::read_write);
  c.exec("PRAGMA journal_mode=WAL");
  c.exec("PRAGMA synchronous=OFF");
  c.exec("BEGIN");
  auto review = c.prepare(
      "INSERT INTO reviews (ref, workflow, version, title, state, start, assignments, dates, paused_on, parent_ref, "
      "created_at) VALUES (?1, ?2, ?3, '', 'open', ?4, '{}', '{}', '', '', ?5)");
  auto deadline = c.prepare(
      "INSERT OR REPLACE INTO deadlines (ref, stage, state, due, due_at, fixed_due, opened_on, reminders_sent, "
      "rungs_sent, repeats_sent, next_fire) VALUES (?1, ?2, ?3, ?4, '', '', ?5, ?6, ?7, ?8, ?9)");
  long deadlines = 0;
  for (long i = 0; i < n; ++i) {
    const auto& b = by_day[static_cast<std::size_t>(interleaved ? i % 61 : i * 61 / n)];
    char ref[32];
    std::snprintf(ref, sizeof ref, "B-%08ld", i);
    const auto& r = b.reviews.front();
    review.bind(1, ref).bind(2, r.workflow).bind(3, r.version).bind(4, r.start).bind(5, r.created_at);
    review.run();
    for (const auto& d : b.deadlines) {
      if (d.state == "met" || d.state == "waived") continue;
      deadline.bind(1, ref).bind(2, d.stage).bind(3, d.state).bind(4, d.due).bind(5, d.opened_on);
      deadline.bind(6, d.reminders_sent).bind(7, d.rungs_sent).bind(8, d.repeats_sent).bind(9, d.next_fire);
      deadline.run();
      ++deadlines;
    }
  }
  c.exec("COMMIT");
  return deadlines;
}

void row(const char* what, const std::string& achieved, const std::string& target, bool met) {
  if (target.empty()) {  // a figure shown beside the targets, with none of its own
    std::printf("  %-44s %16s\n", what, achieved.c_str());
    return;
  }
  std::printf("  %-44s %16s   target %-14s %s\n", what, achieved.c_str(), target.c_str(), met ? "met" : "NOT MET");
}

std::string fmt(double v, const char* unit) {
  char buf[64];
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f %s" : "%.2f %s", v, unit);
  return buf;
}

// The shipped docketd.toml mails 127.0.0.1:2525 and posts to a local webhook;
// the bench measures docketd, not a mail server nobody started, so it keeps
// the daemon settings above the notification channels and delivers to the log.
void log_delivery(const fs::path& docketd_toml) {
  std::ifstream in(docketd_toml, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto cut = text.find("# --- Notifications");
  if (cut == std::string::npos) throw std::runtime_error(docketd_toml.string() + " has no '# --- Notifications' section");
  std::ofstream(docketd_toml, std::ios::binary | std::ios::trunc)
      << text.substr(0, cut) << "[channels.mail]\ntype = \"log\"\n\n[channels.hook]\ntype = \"log\"\n\n[delivery]\nchannel = \"mail\"\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const char* usage =
      "usage: docket_bench [--reviews N] [--clients N] [--seconds S] [--depth N] [--dir DIR] "
      "[--keep yes] [--generate-only yes] [--from DIR] [--refs sequential|interleaved] [--jump yes|no]\n";
  for (int i = 1; i < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--help" || k == "-h") {
      std::cout << usage;
      return 0;
    }
    if (i + 1 == argc) {  // an option without its value is a mistake, not a full run
      std::cerr << "docket_bench: " << k << " needs a value\n" << usage;
      return 2;
    }
    if (k == "--reviews") o.reviews = std::stol(argv[i + 1]);
    else if (k == "--clients") o.clients = std::stoi(argv[i + 1]);
    else if (k == "--seconds") o.seconds = std::stoi(argv[i + 1]);
    else if (k == "--depth") o.depth = std::stoi(argv[i + 1]);
    else if (k == "--keep" && argv[i + 1] == std::string("yes")) o.keep = true;
    else if (k == "--generate-only" && argv[i + 1] == std::string("yes")) o.generate_only = true;
    else if (k == "--jump" && (argv[i + 1] == std::string("yes") || argv[i + 1] == std::string("no")))
      o.jump = argv[i + 1] == std::string("yes");
    else if (k == "--dir") o.dir = argv[i + 1];
    else if (k == "--from") o.from = argv[i + 1];
    else if (k == "--refs" && (argv[i + 1] == std::string("sequential") || argv[i + 1] == std::string("interleaved")))
      o.interleaved = argv[i + 1] == std::string("interleaved");
    else {
      std::cerr << "docket_bench: unknown option or value: " << k << ' ' << argv[i + 1] << '\n' << usage;
      return 2;
    }
  }
  const fs::path bin = fs::canonical("/proc/self/exe").parent_path();
  const fs::path source = DOCKET_SOURCE_DIR;
  if (o.dir.empty()) o.dir = fs::temp_directory_path() / ("docket-bench-" + std::to_string(::getpid()));
  fs::remove_all(o.dir);
  fs::create_directories(o.dir);
  const fs::path config = o.dir / "config", db = o.dir / "bench.db", sock = o.dir / "docketd.sock";
  fs::copy(source / "config", config, fs::copy_options::recursive);
  std::ofstream(config / "workflows/bench-review.toml") << kBenchReview;
  log_delivery(config / "docketd.toml");
  // The bench's virtual now: 08:00 (BST) on Monday 1 June 2026.
  const docket::daemon::Instant now =
      docket::daemon::Instant{duration_cast<seconds>(date::sys_days{date::year{2026} / date::June / 1}.time_since_epoch())} +
      hours{7};

  std::printf("docket scale benchmark: %ld reviews, %d clients with %d requests in flight each, %u cores\n",
              o.reviews, o.clients, o.depth, std::thread::hardware_concurrency());
  auto t0 = steady_clock::now();
  long deadlines = 0;
  if (o.from.empty()) {
    deadlines = generate(config, db, o.reviews, o.interleaved, now);
    std::printf("  generated %ld reviews and %ld deadline rows in %.1f s, references %s (%s)\n", o.reviews, deadlines,
                since(t0), o.interleaved ? "interleaved" : "in start order", db.c_str());
  } else {
    fs::copy_file(o.from / "bench.db", db);
    docket::store::Connection c(db, docket::store::Connection::Mode::read_only);
    auto count = [&](const char* sql) {
      auto s = c.prepare(sql);
      s.step();
      return s.integer(0);
    };
    o.reviews = count("SELECT count(*) FROM reviews");
    deadlines = count("SELECT count(*) FROM deadlines");
    std::printf("  copied %ld reviews and %ld deadline rows from %s\n", o.reviews, deadlines, o.from.c_str());
  }
  if (o.generate_only) return 0;
  // The database goes to disk before docketd starts, as a running daemon's
  // is: otherwise the kernel writes back the 2 GB just generated (or
  // copied) while the clock jump is measured.
  if (int fd = ::open(db.c_str(), O_RDONLY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }

  // Cold start to ready.
  t0 = steady_clock::now();
  pid_t pid = spawn({(bin / "docketd").string(), "--config", config.string(), "--db", db.string(), "--socket",
                     sock.string(), "--virtual-clock", "2026-06-01T08:00"},
                    o.dir / "docketd.log");
  double ready = -1;
  while (since(t0) < 600) {
    int fd = connect_to(sock);
    if (fd >= 0) {
      bool ok = !request(fd, R"({"id":0,"command":"clock"})").empty();
      ::close(fd);
      if (ok) {
        ready = since(t0);
        break;
      }
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  if (ready < 0) {
    std::cerr << "docketd did not become ready; see " << (o.dir / "docketd.log") << "\n";
    return 1;
  }
  const long rss = rss_bytes(pid);

  // A large batch falls due at once: jump the rehearsal clock. (Before the
  // commands, so that this measures the generated reviews alone: the rapid
  // reviews the commands start would add their own escalations, as many as
  // the command phase managed to start.)
  auto count_outbox = [&](const char* where) {
    docket::store::Connection c(db, docket::store::Connection::Mode::read_only);
    auto s = c.prepare(std::string("SELECT count(*) FROM outbox") + where);
    s.step();
    return s.integer(0);
  };
  long reminders = 0, messages = 0;
  double jump = 0, drained = 0;
  auto cpu_before_jump = thread_cpu(pid), cpu_after_jump = cpu_before_jump;
  if (o.jump) {
    const long reminders_before = count_outbox(" WHERE kind = 'reminder'");
    const long messages_before = count_outbox("");
    int fd = connect_to(sock);
    t0 = steady_clock::now();
    const std::string advanced = request(fd, R"({"id":1,"command":"clock","args":{"advance":"14d"}})");
    jump = since(t0);
    cpu_after_jump = thread_cpu(pid);
    ::close(fd);
    if (advanced.find("\"ok\":true") == std::string::npos) {
      std::cerr << "the clock advance failed: " << advanced << "\n";
      ::kill(pid, SIGTERM);
      return 1;
    }
    reminders = count_outbox(" WHERE kind = 'reminder'") - reminders_before;
    messages = count_outbox("") - messages_before;
    // The dispatcher delivers what the jump queued (to docketd's log here);
    // the commands are measured once it is done, as on a quiet daemon.
    // (Done means nothing pending, or nothing delivered for five seconds: a
    // message may wait for a retry, or a log restart may hold a commit up.)
    t0 = steady_clock::now();
    for (long delivered = -1; since(t0) < 600 && since(t0) - drained < 5;) {
      const long now_delivered = count_outbox(" WHERE state != 'pending'");
      if (now_delivered != delivered) drained = since(t0);
      delivered = now_delivered;
      if (count_outbox(" WHERE state = 'pending'") == 0) break;
      std::this_thread::sleep_for(seconds(1));
    }
  }

  // Acknowledged commands per second.
  std::atomic<long> acked{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  const auto cpu_before_commands = thread_cpu(pid);
  const double bench_before_commands = own_cpu();
  t0 = steady_clock::now();
  for (int c = 0; c < o.clients; ++c) {
    clients.emplace_back([&, c] {
      Client client{connect_to(sock), {}};
      if (client.fd < 0) return;
      // Each client keeps `depth` starts in flight and sends the next as
      // each reply comes back; every reply counted was sent after its commit.
      // A review starts now, on the clock as the jump left it (a start dated
      // two weeks back would fire its late reminders and escalations too).
      long sent = 0, answered = 0;
      auto next = [&](int count) {
        std::string lines;
        for (int i = 0; i < count; ++i, ++sent) {
          json req{{"id", sent},
                   {"command", "start"},
                   {"args", {{"workflow", "rapid-review"}, {"ref", "C-" + std::to_string(c) + "-" + std::to_string(sent)}}}};
          lines += req.dump() + (i + 1 < count ? "\n" : "");
        }
        return client.send(lines);
      };
      bool ok = true;
      ok = next(o.depth);
      while (ok && answered < sent) {
        // Every reply that has arrived is counted, then as many requests
        // go out again in one write.
        int replaced = 0;
        do {
          std::string reply = client.receive();
          if (reply.find("\"ok\":true") == std::string::npos) {
            ok = false;
            break;
          }
          ++answered;
          ++acked;
          ++replaced;
        } while (client.buffer.find('\n') != std::string::npos);
        if (!stop) ok = ok && next(replaced);
      }
      ::close(client.fd);
    });
  }
  std::this_thread::sleep_for(seconds(o.seconds));
  stop = true;
  for (auto& t : clients) t.join();
  const double commands_per_s = static_cast<double>(acked) / since(t0);
  const auto cpu_after_commands = thread_cpu(pid);
  const double clients_cpu = own_cpu() - bench_before_commands;

  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);

  const double per_deadline = static_cast<double>(rss) / static_cast<double>(deadlines);
  const double reminders_per_s = o.jump ? static_cast<double>(reminders) / jump : 0;
  std::printf("\n  %-44s %16s   %s\n", "figure", "achieved", "");
  row("cold start to ready (socket answering)", fmt(ready, "s"), "< 5 s", ready < 5);
  row("resident memory", fmt(static_cast<double>(rss) / 1048576.0, "MiB"), "", true);
  row("  per pending deadline", fmt(per_deadline, "bytes"), "< 300 bytes", per_deadline < 300);
  row("acknowledged durable commands per second", fmt(commands_per_s, "/s"), ">= 20000 /s", commands_per_s >= 20000);
  if (o.jump) {
    row("reminders into the outbox per second", fmt(reminders_per_s, "/s"), ">= 50000 /s", reminders_per_s >= 50000);
    row("  all messages, escalations too, per second", fmt(static_cast<double>(messages) / jump, "/s"), "", true);
    std::printf("  (%ld reminders and %ld messages in all in a %.2f s clock jump of 14 days, delivered to the log\n"
                "   in %.1f s more%s; then %ld commands acknowledged by %d clients in %d s)\n",
                reminders, messages, jump, drained, drained >= 599 ? ", not all" : "", acked.load(), o.clients,
                o.seconds);
  } else {
    std::printf("  (no clock jump: --jump no; %ld commands acknowledged by %d clients in %d s)\n", acked.load(),
                o.clients, o.seconds);
  }
  std::printf("  CPU by thread: commands %s (the bench's clients %.1f s); clock jump %s\n",
              cpu_used(cpu_before_commands, cpu_after_commands).c_str(), clients_cpu,
              o.jump ? cpu_used(cpu_before_jump, cpu_after_jump).c_str() : "not run");
  if (!o.keep) fs::remove_all(o.dir);
  return 0;
}
