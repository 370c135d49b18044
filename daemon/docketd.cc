#include "daemon/docketd.h"

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
// The database is damaged, or its audit trail does not verify: restarting
// will not help (EX_DATAERR; docketd.service does not restart on it).
constexpr int kExitDamaged = 65;

fs::path default_config_dir() {
  if (const char* env = std::getenv("DOCKET_CONFIG"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  if (fs::exists("config/docketd.toml", ec)) return "config";
  return "/etc/docket";
}

store::AuditEntry system_record(const Clock& clock, const std::string& kind, json details) {
  store::AuditEntry e;
  e.at = clock.now().time_since_epoch().count();
  e.actor = "system";
  e.kind = kind;
  e.details = details.dump();
  return e;
}

// The audit key and the head last published, and the check of the database
// against them before anything is written to it (daemon/audit_anchor.h).
// Returns the exit code when docketd must not start, else 0.
int check_before_writing(const workflows::AuditSettings& settings, const fs::path& db, AuditAnchor& anchor,
                         std::optional<store::IntegrityReport>& checked) {
  try {
    anchor = open_audit_anchor(settings, db);
  } catch (const std::exception& e) {
    std::cerr << "docketd: not starting: " << e.what() << '\n';
    return 1;
  }
  auto check = check_database_at_start(db, anchor);
  if (check.problem) {
    std::cerr << "docketd: not starting: " << *check.problem << '\n';
    return kExitDamaged;
  }
  checked = std::move(check.report);
  return 0;
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
    spdlog::warn("audit.head_missing path={} verified_to={}", anchor.paths.head.string(), chain.head_seq);
    boot.audit.push_back(system_record(clock, "audit.head_missing",
                                       {{"head_file", anchor.paths.head.string()}, {"verified_to", chain.head_seq}}));
  }
}

// Publishes the durable head (journal, head file, a notice due to the
// recipient committed at once); false if that commit failed.
bool publish_audit_head(AuditPublisher& publisher, store::Store& st, const char* reason) {
  store::Batch notice;
  publisher.publish(reason, notice);
  if (notice.empty()) return true;
  try {
    st.commit(notice);
    return true;
  } catch (const std::exception& e) {
    std::cerr << "docketd: cannot write to the database: " << e.what() << '\n';
    return false;
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

}  // namespace

int run_docketd(int argc, const char* const* argv) {
  CLI::App app{"docketd keeps a Safeguarding Partnership's statutory clocks.", "docketd"};
  std::string config_dir, db_path, socket_path, virtual_clock;
  bool check_only = false;
  int idle_timeout = 60;
  app.add_option("--config", config_dir, "Configuration directory (default: $DOCKET_CONFIG, ./config, /etc/docket)")
      ->type_name("DIR");
  app.add_option("--db", db_path, "SQLite database (default: from docketd.toml)")->type_name("PATH");
  app.add_option("--socket", socket_path, "Control socket (default: from docketd.toml)")->type_name("PATH");
  app.add_option("--virtual-clock", virtual_clock,
                 "Rehearse on a virtual clock starting at this local time (YYYY-MM-DDTHH:MM); it moves only with "
                 "`docket clock advance`. A database rehearsed before resumes where its clock stopped, unless TIME "
                 "is later")
      ->type_name("TIME");
  app.add_flag("--check-config", check_only, "Load and validate the configuration, then exit");
  app.add_option("--idle-timeout", idle_timeout, "Close a connection that sends nothing for this many seconds")
      ->type_name("SECONDS")
      ->check(CLI::Range(1, 86400));
  // For tests, not in --help: a short power-cut run copies the log back and
  // starts it again only with these far below their defaults.
  store::WalSettings wal{.sync_in_write = false};  // the Committer syncs each batch while the next is written
  app.add_option("--wal-checkpoint-pages", wal.checkpoint_frames, "Ask for a checkpoint at this many pages of log")
      ->check(CLI::Range(1, 1 << 30))
      ->group("");
  app.add_option("--wal-limit-pages", wal.limit_frames, "Copy the whole log back between writes at this many pages")
      ->check(CLI::Range(1, 1 << 30))
      ->group("");
  // For tests, not in --help: many small chunks make a long advance's stop
  // land mid-way on any machine.
  std::size_t fire_chunk = kFireChunk;
  app.add_option("--fire-chunk", fire_chunk, "Timed events fired per batch when many fall due")
      ->check(CLI::Range(1, 1 << 24))
      ->group("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << "docketd: " << e.what() << " (try 'docketd --help')\n";
    return 2;
  }
  restrict_file_creation();
  install_logging();
  tune_memory();

  // Configuration.
  const fs::path dir = config_dir.empty() ? default_config_dir() : fs::path(config_dir);
  auto loaded = load_setup(dir);
  if (!loaded.setup.config) {
    for (const auto& d : loaded.diagnostics.sorted()) std::cerr << workflows::format(d, dir.string()) << '\n';
    std::cerr << "docketd: the configuration in " << dir.string() << " has errors; not starting\n";
    return 2;
  }
  auto config = loaded.setup.config;
  if (check_only) {
    std::cout << dir.string() << " is valid (configuration " << config->hash.substr(0, 12) << ")\n";
    return 0;
  }

  // The clock.
  SystemClock system_clock;
  std::unique_ptr<VirtualClock> rehearsal;
  if (!virtual_clock.empty()) {
    auto t = workflows::parse_local_time(virtual_clock);
    if (!t) {
      std::cerr << "docketd: --virtual-clock must be YYYY-MM-DDTHH:MM, found '" << virtual_clock << "'\n";
      return 2;
    }
    const auto& zone = config->calendar(config->daemon.calendar);
    auto info = zone.zone()->get_info(*t);
    Instant start = date::floor<std::chrono::seconds>(
        info.result == date::local_info::nonexistent ? info.first.end : zone.zone()->to_sys(*t, date::choose::earliest));
    rehearsal = std::make_unique<VirtualClock>(start);
  }
  const Clock& clock = rehearsal ? static_cast<const Clock&>(*rehearsal) : system_clock;

  // The store.
  const fs::path db = db_path.empty() ? config->daemon.database : fs::path(db_path);
  const fs::path sock = socket_path.empty() ? config->daemon.socket : fs::path(socket_path);
  std::unique_ptr<DatabaseLock> lock;  // one daemon per database, for as long as this one runs
  try {
    std::error_code ec;
    if (db.has_parent_path()) fs::create_directories(db.parent_path(), ec);
    lock = std::make_unique<DatabaseLock>(db, sock);
    check_socket_path(sock);
    check_database_files(db);
  } catch (const std::exception& e) {
    std::cerr << "docketd: " << e.what() << '\n';
    return 1;
  }
  // The audit key and the head last published; the database is checked
  // against them before anything is written to it.
  AuditAnchor anchor;
  std::optional<store::IntegrityReport> checked;
  if (const int refused = check_before_writing(config->daemon.audit, db, anchor, checked)) return refused;
  std::unique_ptr<store::Store> st;
  try {
    secure_database_file(db);
    if (auto why = store::gathering_vfs_unavailable()) spdlog::warn("store.vfs name=system reason=\"{}\"", *why);
    st = std::make_unique<store::Store>(db, clock.mode(), wal, anchor.key);
  } catch (const std::exception& e) {
    std::cerr << "docketd: cannot open the database: " << e.what() << '\n';
    return 1;
  }

  // A rehearsal goes on from where it stopped: its clock never runs back
  // over events already fired. --virtual-clock can only move it forward.
  if (rehearsal) {
    std::int64_t seconds = 0;
    if (auto stored = st->meta("virtual_now");
        stored && std::from_chars(stored->data(), stored->data() + stored->size(), seconds).ec == std::errc{}) {
      const Instant was{std::chrono::seconds{seconds}};
      if (was > rehearsal->now()) {
        spdlog::info("clock.resumed at={} asked={}", date::format("%FT%TZ", was),
                     date::format("%FT%TZ", rehearsal->now()));
        rehearsal->set(was);
      }
    }
  }

  // Recovery and catch-up: everything that fell due while stopped fires once,
  // marked late.
  // Reviews are read when needed; only meetings are loaded now.
  Engine engine(config, clock, st.get());
  engine.load_meetings(st->meetings(), st->meeting_deadlines(), st->chairs());
  store::Batch boot;
  boot.definitions = Engine::definitions_of(*config, clock.now().time_since_epoch().count());
  boot.audit.push_back(system_record(clock, "daemon.started",
                                     {{"clock", clock.mode()},
                                      {"config", config->hash},
                                      {"config_dir", fs::absolute(dir).lexically_normal().string()},
                                      {"reviews", engine.review_count()}}));
  record_start_check(boot, clock, anchor, checked);
  try {
    // What fell due while stopped fires once the socket is open, a chunk at
    // a time (CommitPipeline::flush), so that a stop is heard meanwhile.
    st->commit(boot);
    engine.committed();
  } catch (const std::exception& e) {
    std::cerr << "docketd: cannot write to the database: " << e.what() << '\n';
    return 1;
  }
  boost::asio::io_context io;
  AuditPublisher publisher(io, *st, clock, config->daemon.audit, anchor);
  if (!publish_audit_head(publisher, *st, "start")) return 1;
  std::unique_ptr<Dispatcher> dispatcher;
  // Reload: load and check the whole directory; on any error keep the running
  // configuration and say why; else swap it in at once.
  auto reload = [&](const Caller& who, store::Batch& batch) -> Result {
    auto next = load_setup(dir);
    if (!next.setup.config) {
      std::string why;
      auto list = next.diagnostics.sorted();
      for (const auto& d : list) {
        spdlog::error("config.reload_refused {}", workflows::format(d, dir.string()));
        why += "\n" + workflows::format(d, dir.string());
      }
      return Result::fail("the configuration in " + dir.string() + " has " + std::to_string(list.size()) +
                          (list.size() == 1 ? " error" : " errors") + "; the running configuration is unchanged:" + why);
    }
    const std::string previous = engine.config().hash;
    const auto& fresh = *next.setup.config;
    json summary = engine.reload(next.setup.config);
    dispatcher->configure(next.setup);
    engine.ensure_meetings(batch);
    batch.definitions = Engine::definitions_of(fresh, clock.now().time_since_epoch().count());
    store::AuditEntry e = system_record(clock, "config.reloaded",
                                        {{"config", fresh.hash}, {"previous", previous},
                                         {"changed", summary["changed"]}});
    e.actor = who.person;
    batch.audit.push_back(std::move(e));
    spdlog::info("config.reloaded config={} previous={} changed={}", fresh.hash.substr(0, 12),
                 previous.substr(0, 12), summary["changed"].size());
    return Result{true, "", summary};
  };
  // Delivery: messages left undelivered by an earlier run go out first.
  // Retries are timed by the real clock, the time a mail server recovers in.
  // In a rehearsal they follow the rehearsal's time and the time docketd has
  // run: `clock advance 1h` brings due every retry within that hour.
  Dispatcher::WallClock wall;
  if (rehearsal) {
    wall = [&rehearsal, booted = std::chrono::steady_clock::now()] {
      return std::chrono::system_clock::time_point{rehearsal->now().time_since_epoch()} +
             std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::steady_clock::now() - booted);
    };
  }
  dispatcher = std::make_unique<Dispatcher>(io, *st, clock, loaded.setup, wall);
  Services services{engine, clock, rehearsal.get(), reload, {}, {}};
  services.retry_outbox = [&](const Caller& who, std::int64_t id, store::Batch& batch) {
    return dispatcher->retry(who, id, batch);
  };
  CommitPipeline pipeline(io, engine, *st, services);
  pipeline.attach(*dispatcher);
  dispatcher->on_results([&] { pipeline.request_flush(); });
  pipeline.attach(publisher);
  pipeline.set_fire_chunk(fire_chunk);
  Server server(io, pipeline, engine, clock, sock);
  server.set_idle_timeout(std::chrono::seconds(idle_timeout));
  ServiceManager systemd(io, [&] {
    return std::to_string(st->open_count()) + " open reviews, " + std::to_string(engine.timed_in_memory()) +
           " timed events near, " + std::to_string(server.connections()) + " connections";
  });
  // Signals are caught before the socket opens: a stop asked for as soon as
  // clients can connect is still a clean stop.
  boost::asio::signal_set hangup(io, SIGHUP);
  std::function<void(const boost::system::error_code&, int)> on_hangup = [&](const boost::system::error_code& ec, int) {
    if (ec) return;
    spdlog::info("config.reload signal=SIGHUP");
    pipeline.submit_internal(Request{"sighup", "reload", json::object()});
    hangup.async_wait(on_hangup);
  };
  hangup.async_wait(on_hangup);
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  int stop_signal = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("daemon.stopping signal={}", sig);
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
    std::cerr << "docketd: " << e.what() << '\n';
    return 1;
  }
  secure_socket(sock);
  dispatcher->start();
  publisher.start();
  spdlog::info("daemon.ready socket={} database={} clock={} reviews={} timed={} config={}", sock.string(), db.string(),
               clock.mode(), engine.review_count(), engine.timed_in_memory(), config->hash.substr(0, 12));
  // READY=1 from inside the loop: the store is recovered and the socket accepts.
  boost::asio::post(io, [&] { systemd.ready(); });
  io.run();

  // Stopped: no new connections, the queued commands committed and
  // answered. What the loop still holds (replies being written, delivered
  // messages to mark) gets a bounded time, then the database is closed.
  io.restart();
  const auto until = std::chrono::steady_clock::now() + kStopGrace;
  while (!pipeline.idle() && io.run_one_until(until) > 0) {
  }
  if (!pipeline.idle()) spdlog::warn("daemon.stop_grace_expired seconds={}", kStopGrace.count());
  try {
    pipeline.write_all();  // no batch may still be in the writer's hands
    store::Batch bye;
    dispatcher->take(bye);  // the outcomes of the last attempts
    bye.audit.push_back(system_record(clock, "daemon.stopped", {{"signal", stop_signal}}));
    st->commit(bye);
    if (!publish_audit_head(publisher, *st, "stop")) return 1;
    st.reset();
  } catch (const std::exception& e) {
    spdlog::error("daemon.stopped_uncleanly error={}", e.what());
    return 1;
  }
  spdlog::info("daemon.stopped signal={}", stop_signal);
  return 0;
}

}  // namespace docket::daemon
