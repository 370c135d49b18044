#include "daemon/docketd.h"

#include "daemon/log.h"

#include "daemon/build_info.h"

#include <malloc.h>

#include <charconv>

#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "daemon/audit_anchor.h"
#include "daemon/audit_publisher.h"
#include "daemon/commit_pipeline.h"
#include "daemon/database_files.h"
#include "daemon/delivery_settings.h"
#include "daemon/dispatcher.h"
#include "daemon/server.h"
#include "daemon/systemd.h"
#include "store/wal_vfs.h"

namespace docket::daemon {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// How long a stop waits for delivery attempts already under way.
constexpr std::chrono::milliseconds kDeliveryGrace{5000};
// How long a stop waits for what the loop still holds after the last commit.
constexpr std::chrono::seconds kStopGrace{10};
// Bad arguments or configuration.
constexpr int kExitUsage = 2;
// The database is damaged, or its audit trail does not verify: restarting
// will not help (EX_DATAERR; docketd.service does not restart on it).
constexpr int kExitDamaged = 65;

// A step that failed: `message` (whole lines) goes to stderr and docketd
// exits with `code`. Not a std::exception, so that no step's own handler
// takes it for a failure of its work.
struct StepFailed {
  int code;
  std::string message;
};

StepFailed failed(int code, const std::string& why) { return {code, "docketd: " + why + "\n"}; }

// The command line.
struct Options {
  std::string config_dir, db_path, socket_path, virtual_clock;
  bool check_only = false;
  int idle_timeout = 60;
  store::WalSettings wal{.sync_in_write = false};  // the Committer syncs each batch while the next is written
  std::size_t fire_chunk = kFireChunk;
};

fs::path default_config_dir() {
  if (const char* env = std::getenv("DOCKET_CONFIG"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  if (fs::exists("config/docketd.toml", ec)) return "config";
  return "/etc/docket";
}

store::AuditEntry system_record(const Clock& clock, const std::string& kind, json details) {
  return store::audit_entry(clock.now(), "system", kind, details.dump());
}

// What the start-up check leaves in the first batch: the point the chain is
// verified up to (the next start reads only the records after it) and, for
// a keyed trail whose published head has gone, a record saying so.
void record_start_check(store::Batch& boot, const Clock& clock, const AuditAnchor& anchor,
                        const std::optional<store::IntegrityReport>& checked) {
  if (!checked) return;
  const store::ChainReport& chain = checked->chain;
  if (chain.head_seq > 0) {
    boot.meta.emplace_back(store::kVerifiedMetaKey,
                           store::verified_point_text(store::verified_point(chain), *anchor.key));
  }
  if (chain.keyed_from > 0 && anchor.head.state == store::HeadFile::State::absent) {
    log::daemon().warn("audit.head_missing path={} verified_to={}", anchor.paths.head.string(), chain.head_seq);
    boot.audit.push_back(system_record(clock, "audit.head_missing",
                                       {{"head_file", anchor.paths.head.string()}, {"verified_to", chain.head_seq}}));
  }
}

// Publishes the durable head (journal, head file, a notice due to the
// recipient committed at once).
void publish_audit_head(AuditPublisher& publisher, store::Store& st, const char* reason) {
  store::Batch notice;
  publisher.publish(reason, notice);
  if (notice.empty()) return;
  try {
    st.commit(notice);
  } catch (const std::exception& e) {
    throw failed(1, std::string("cannot write to the database: ") + e.what());
  }
}

// glibc gives freed memory back to the system as soon as 128 KiB lie free at
// the top of a heap, and maps every block of 128 KiB or more on its own. A
// batch of some thousand commands, or of a clock jump, is tens of megabytes
// built and freed again each commit, so memory went back and forth to the
// kernel on every batch: heap growth and a page fault for each page touched
// were a sixth of the writer thread's profile. Keep up to 256 MiB of freed
// memory for the next batch.
void tune_memory() {
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
}

// docketd from its arguments to its stop: launch() runs the steps in order.
// What a step builds is kept here for the steps after it, and torn down in
// reverse when docketd ends.
class Docketd {
 public:
  int launch(int argc, const char* const* argv);

 private:
  // The steps. Each throws StepFailed.
  bool parse_arguments(int argc, const char* const* argv);  // false: --help was answered
  void load_configuration();
  void start_clock();
  void open_store();
  void recover();
  int serve();

  // Parts of serving.
  Result reload(const Caller& who, store::Batch& batch, Dispatcher& dispatcher);
  Dispatcher::WallClock delivery_wall() const;
  int shut_down(boost::asio::io_context& io, CommitPipeline& pipeline, Dispatcher& dispatcher,
                AuditPublisher& publisher, int stop_signal);

  Options options_;
  fs::path dir_;
  SetupResult loaded_;
  std::shared_ptr<const workflows::Config> config_;
  SystemClock system_clock_;
  std::unique_ptr<VirtualClock> rehearsal_;
  const Clock* clock_ = &system_clock_;
  fs::path db_;
  fs::path sock_;
  std::unique_ptr<DatabaseLock> lock_;  // one daemon per database, for as long as this one runs
  AuditAnchor anchor_;
  std::optional<store::IntegrityReport> checked_;
  std::unique_ptr<store::Store> st_;
  std::unique_ptr<Engine> engine_;
};

int Docketd::launch(int argc, const char* const* argv) {
  try {
    if (!parse_arguments(argc, argv)) return 0;
    restrict_file_creation();
    install_logging();
    tune_memory();
    load_configuration();
    if (options_.check_only) {
      std::cout << dir_.string() << " is valid (configuration " << config_->hash.substr(0, 12) << ")\n";
      return 0;
    }
    start_clock();
    open_store();
    recover();
    return serve();
  } catch (const StepFailed& f) {
    std::cerr << f.message;
    return f.code;
  }
}

bool Docketd::parse_arguments(int argc, const char* const* argv) {
  CLI::App app{"docketd keeps a Safeguarding Partnership's statutory clocks.", "docketd"};
  Options& o = options_;
  app.add_option("--config", o.config_dir, "Configuration directory (default: $DOCKET_CONFIG, ./config, /etc/docket)")
      ->type_name("DIR");
  app.add_option("--db", o.db_path, "SQLite database (default: from docketd.toml)")->type_name("PATH");
  app.add_option("--socket", o.socket_path, "Control socket (default: from docketd.toml)")->type_name("PATH");
  app.add_option("--virtual-clock", o.virtual_clock,
                 "Rehearse on a virtual clock starting at this local time (YYYY-MM-DDTHH:MM); it moves only with "
                 "`docket clock advance`. A database rehearsed before resumes where its clock stopped, unless TIME "
                 "is later")
      ->type_name("TIME");
  app.add_flag("--check-config", o.check_only, "Load and validate the configuration, then exit");
  app.set_version_flag("--version", version_line("docketd"), "Show docketd's version and the git commit it was built from");
  app.add_option("--idle-timeout", o.idle_timeout, "Close a connection that sends nothing for this many seconds")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 86400));
  // For tests, not in --help: a short power-cut run copies the log back and
  // starts it again only with these far below their defaults.
  app.add_option("--wal-checkpoint-pages", o.wal.checkpoint_frames, "Ask for a checkpoint at this many pages of log")
      ->check(CLI::Range(1, 1 << 30))
      ->group("");
  app.add_option("--wal-limit-pages", o.wal.limit_frames, "Copy the whole log back between writes at this many pages")
      ->check(CLI::Range(1, 1 << 30))
      ->group("");
  // For tests, not in --help: many small chunks make a long advance's stop
  // land mid-way on any machine.
  app.add_option("--fire-chunk", o.fire_chunk, "Timed events fired per batch when many fall due")
      ->check(CLI::Range(1, 1 << 24))
      ->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return false;
  } catch (const CLI::CallForVersion&) {
    std::cout << version_line("docketd") << '\n';
    return false;
  } catch (const CLI::ParseError& e) {
    throw failed(kExitUsage, std::string(e.what()) + " (try 'docketd --help')");
  }
  return true;
}

// The whole configuration directory, checked (--check-config stops after).
void Docketd::load_configuration() {
  dir_ = options_.config_dir.empty() ? default_config_dir() : fs::path(options_.config_dir);
  loaded_ = load_setup(dir_);
  if (!loaded_.setup.config) {
    std::string lines;
    for (const auto& d : loaded_.diagnostics.sorted()) lines += workflows::format(d, dir_.string()) + "\n";
    throw StepFailed{kExitUsage, lines + "docketd: the configuration in " + dir_.string() +
                                     " has errors; not starting\n"};
  }
  config_ = loaded_.setup.config;
}

// The system clock, or a rehearsal's from --virtual-clock (local to the
// daemon's calendar).
void Docketd::start_clock() {
  if (options_.virtual_clock.empty()) return;
  auto t = workflows::parse_local_time(options_.virtual_clock);
  if (!t) {
    throw failed(kExitUsage, "--virtual-clock must be YYYY-MM-DDTHH:MM, found '" + options_.virtual_clock + "'");
  }
  const auto& zone = config_->calendar(config_->daemon.calendar);
  rehearsal_ = std::make_unique<VirtualClock>(workflows::to_utc(zone.zone(), *t));
  clock_ = rehearsal_.get();
}

// The database's lock and files, its check against the audit key and the
// head last published (daemon/audit_anchor.h) before anything is written to
// it, and then the store.
void Docketd::open_store() {
  db_ = options_.db_path.empty() ? config_->daemon.database : fs::path(options_.db_path);
  sock_ = options_.socket_path.empty() ? config_->daemon.socket : fs::path(options_.socket_path);
  try {
    std::error_code ec;
    if (db_.has_parent_path()) fs::create_directories(db_.parent_path(), ec);
    lock_ = std::make_unique<DatabaseLock>(db_, sock_);
    check_socket_path(sock_);
    check_database_files(db_);
  } catch (const std::exception& e) {
    throw failed(1, e.what());
  }
  try {
    anchor_ = open_audit_anchor(config_->daemon.audit, db_);
  } catch (const std::exception& e) {
    throw failed(1, std::string("not starting: ") + e.what());
  }
  auto check = check_database_at_start(db_, anchor_);
  if (check.problem) throw failed(kExitDamaged, "not starting: " + *check.problem);
  checked_ = std::move(check.report);
  try {
    secure_database_file(db_);
    if (auto why = store::gathering_vfs_unavailable()) log::daemon().warn("store.vfs name=system reason=\"{}\"", *why);
    st_ = std::make_unique<store::Store>(db_, clock_->mode(), options_.wal, anchor_.key);
  } catch (const std::exception& e) {
    throw failed(1, std::string("cannot open the database: ") + e.what());
  }
}

// The engine from the store, and a first batch that says so. Reviews are
// read when needed; only meetings are loaded now. What fell due while
// stopped fires once the socket is open, a chunk at a time
// (CommitPipeline::flush), so that a stop is heard meanwhile.
void Docketd::recover() {
  // A rehearsal goes on from where it stopped: its clock never runs back
  // over events already fired. --virtual-clock can only move it forward.
  if (rehearsal_) {
    std::int64_t seconds = 0;
    if (auto stored = st_->meta("virtual_now");
        stored && std::from_chars(stored->data(), stored->data() + stored->size(), seconds).ec == std::errc{}) {
      const Instant was{std::chrono::seconds{seconds}};
      if (was > rehearsal_->now()) {
        log::daemon().info("clock.resumed at={} asked={}", date::format("%FT%TZ", was),
                     date::format("%FT%TZ", rehearsal_->now()));
        rehearsal_->set(was);
      }
    }
  }
  const Clock& clock = *clock_;
  engine_ = std::make_unique<Engine>(config_, clock, st_.get());
  engine_->load_meetings(st_->meetings(), st_->meeting_deadlines(), st_->chairs());
  store::Batch boot;
  boot.definitions = Engine::definitions_of(*config_, clock.now().time_since_epoch().count());
  boot.audit.push_back(system_record(clock, "daemon.started",
                                     {{"clock", clock.mode()},
                                      {"config", config_->hash},
                                      {"config_dir", fs::absolute(dir_).lexically_normal().string()},
                                      {"reviews", engine_->review_count()}}));
  record_start_check(boot, clock, anchor_, checked_);
  try {
    st_->commit(boot);
    engine_->committed();
  } catch (const std::exception& e) {
    throw failed(1, std::string("cannot write to the database: ") + e.what());
  }
}

// The event loop: delivery, the commit pipeline and the socket on it, until
// SIGTERM or SIGINT; then what is held is written and the stop recorded.
int Docketd::serve() {
  const Clock& clock = *clock_;
  Engine& engine = *engine_;
  boost::asio::io_context io;
  AuditPublisher publisher(io, *st_, clock, config_->daemon.audit, anchor_);
  publish_audit_head(publisher, *st_, "start");
  // Delivery: messages left undelivered by an earlier run go out first.
  auto dispatcher = std::make_unique<Dispatcher>(io, *st_, clock, loaded_.setup, delivery_wall());
  Services services{engine, clock, rehearsal_.get(),
                    [&](const Caller& who, store::Batch& batch) { return reload(who, batch, *dispatcher); }, {}, {}};
  services.retry_outbox = [&](const Caller& who, std::int64_t id, store::Batch& batch) {
    return dispatcher->retry(who, id, batch);
  };
  CommitPipeline pipeline(io, engine, *st_, services);
  pipeline.attach(*dispatcher);
  dispatcher->on_results([&] { pipeline.request_flush(); });
  pipeline.attach(publisher);
  pipeline.set_fire_chunk(options_.fire_chunk);
  Server server(io, pipeline, engine, clock, sock_);
  server.set_idle_timeout(std::chrono::seconds(options_.idle_timeout));
  ServiceManager systemd(io, [&] {
    return std::to_string(st_->open_count()) + " open reviews, " + std::to_string(engine.timed_in_memory()) +
           " timed events near, " + std::to_string(server.connections()) + " connections";
  });
  // Signals are caught before the socket opens: a stop asked for as soon as
  // clients can connect is still a clean stop.
  boost::asio::signal_set hangup(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hangup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log::daemon().info("config.reload signal=SIGHUP");
    pipeline.submit_internal(Request{"sighup", "reload", json::object()});
    hangup.async_wait(on_hangup);
  };
  hangup.async_wait(on_hangup);
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  int stop_signal = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log::daemon().info("daemon.stopping signal={}", sig);
    systemd.stopping();
    hangup.cancel();
    stop_signal = sig;
    server.stop();
    // Attempts in flight get a few seconds; their outcomes are committed below.
    dispatcher->stop(kDeliveryGrace);
    publisher.stop();
    io.stop();
  });
  try {
    server.start();
  } catch (const std::exception& e) {
    throw failed(1, e.what());
  }
  secure_socket(sock_);
  dispatcher->start();
  publisher.start();
  log::daemon().info("daemon.ready socket={} database={} clock={} reviews={} timed={} config={} version={} commit={}",
               sock_.string(), db_.string(), clock.mode(), engine.review_count(), engine.timed_in_memory(),
               config_->hash.substr(0, 12), kVersion, kCommit);
  // READY=1 from inside the loop: the store is recovered and the socket accepts.
  boost::asio::post(io, [&] { systemd.ready(); });
  io.run();
  return shut_down(io, pipeline, *dispatcher, publisher, stop_signal);
}

// Stopped: no new connections, the queued commands committed and answered.
// What the loop still holds (replies being written, delivered messages to
// mark) gets a bounded time, then the database is closed.
int Docketd::shut_down(boost::asio::io_context& io, CommitPipeline& pipeline, Dispatcher& dispatcher,
                       AuditPublisher& publisher, int stop_signal) {
  io.restart();
  const auto until = std::chrono::steady_clock::now() + kStopGrace;
  while (!pipeline.idle() && io.run_one_until(until) > 0) {
  }
  if (!pipeline.idle()) log::daemon().warn("daemon.stop_grace_expired seconds={}", kStopGrace.count());
  try {
    pipeline.write_all();  // no batch may still be in the writer's hands
    store::Batch bye;
    dispatcher.take(bye);  // the outcomes of the last attempts
    bye.audit.push_back(system_record(*clock_, "daemon.stopped", {{"signal", stop_signal}}));
    st_->commit(bye);
    publish_audit_head(publisher, *st_, "stop");
    st_.reset();
  } catch (const std::exception& e) {
    log::daemon().error("daemon.stopped_uncleanly error={}", e.what());
    return 1;
  }
  log::daemon().info("daemon.stopped signal={}", stop_signal);
  return 0;
}

// Reload: load and check the whole directory; on any error keep the running
// configuration and say why; else swap it in at once.
Result Docketd::reload(const Caller& who, store::Batch& batch, Dispatcher& dispatcher) {
  auto next = load_setup(dir_);
  if (!next.setup.config) {
    std::string why;
    auto list = next.diagnostics.sorted();
    for (const auto& d : list) {
      log::daemon().error("config.reload_refused {}", workflows::format(d, dir_.string()));
      why += "\n" + workflows::format(d, dir_.string());
    }
    return Result::fail("the configuration in " + dir_.string() + " has " + std::to_string(list.size()) +
                        (list.size() == 1 ? " error" : " errors") + "; the running configuration is unchanged:" + why);
  }
  Engine& engine = *engine_;
  const std::string previous = engine.config().hash;
  const auto& fresh = *next.setup.config;
  json summary = engine.reload(next.setup.config);
  dispatcher.configure(next.setup);
  engine.ensure_meetings(batch);
  batch.definitions = Engine::definitions_of(fresh, clock_->now().time_since_epoch().count());
  store::AuditEntry e = system_record(*clock_, "config.reloaded",
                                      {{"config", fresh.hash}, {"previous", previous},
                                       {"changed", summary["changed"]}});
  e.actor = who.person;
  batch.audit.push_back(std::move(e));
  log::daemon().info("config.reloaded config={} previous={} changed={}", fresh.hash.substr(0, 12),
               previous.substr(0, 12), summary["changed"].size());
  return Result{true, "", summary};
}

// Retries are timed by the real clock, the time a mail server recovers in.
// In a rehearsal they follow the rehearsal's time and the time docketd has
// run: `clock advance 1h` brings due every retry within that hour.
Dispatcher::WallClock Docketd::delivery_wall() const {
  if (!rehearsal_) return {};
  return [rehearsal = rehearsal_.get(), booted = std::chrono::steady_clock::now()] {
    return std::chrono::system_clock::time_point{rehearsal->now().time_since_epoch()} +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::steady_clock::now() - booted);
  };
}

}  // namespace

int run_docketd(int argc, const char* const* argv) { return Docketd{}.launch(argc, argv); }

}  // namespace docket::daemon
