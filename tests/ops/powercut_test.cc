// Power cuts: the real docketd, with the power-cut recorder preloaded
// (tests/support/powercut_shim.cc), takes commands from several pipelining
// clients and is killed (SIGKILL) after a random number of them have been
// acknowledged. The disk a power cut at that moment could have left is
// rebuilt from the recorder's journal (tests/support/powercut_disk.h: what
// a completed sync covered is there, the rest dropped, kept or torn page by
// page), and on it: SQLite's quick_check says ok, every acknowledged command's
// review is stored, `docket audit verify` passes, and docketd starts again
// and answers. A control rebuilds the disk of a drive that ignores syncs and
// shows that the same checks then find acknowledged commands missing.
//
// DOCKET_POWERCUT_RUNS (cuts; make test runs 24, 6 under the sanitizers),
// DOCKET_POWERCUT_IMAGES (disks per cut, default 3) and DOCKET_POWERCUT_SEED
// (the first cut's seed; a failure names its cut's own) set the run; `make
// powercut` runs it long. A seed repeats a cut's choices (clients, when to
// kill, what the disk kept), not the daemon's own timing.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>

#include "store/sqlite.h"
#include "tests/support/daemon.h"
#include "tests/support/powercut_disk.h"

namespace docket::testing {
namespace {

namespace fs = std::filesystem;
namespace pc = powercut;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kClock = "2026-03-02T08:00";
constexpr int kMaxChain = 12;  // cuts in a row on one database

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::stoull(v) : fallback;
}

// ---- the disk model, on journals written by hand ----

// A journal written by the test, and the disks built from it.
class HandJournal {
 public:
  fs::path path() const { return dir_.path() / "journal"; }
  HandJournal& add(pc::RecordType type, std::uint32_t file, std::uint64_t offset = 0, std::string_view payload = {},
                   std::uint32_t flags = 0) {
    pc::append_record(path(), type, file, flags, offset, payload);
    return *this;
  }
  HandJournal& create(std::uint32_t file, std::string_view name) { return add(pc::RecordType::create, file, 0, name); }
  // A change to a file's contents that starts (its number returned), and
  // its result.
  std::uint32_t begin(pc::RecordType type, std::uint32_t file, std::uint64_t offset, std::string_view bytes = {}) {
    add(type, file, offset, bytes, ++changes_);
    return changes_;
  }
  HandJournal& done(std::uint32_t file, std::uint32_t change, std::uint64_t result) {
    return add(pc::RecordType::done, file, result, {}, change);
  }
  HandJournal& write(std::uint32_t file, std::uint64_t offset, const std::string& bytes) {
    return done(file, begin(pc::RecordType::write, file, offset, bytes), bytes.size());
  }
  HandJournal& truncate(std::uint32_t file, std::uint64_t size) {
    return done(file, begin(pc::RecordType::truncate, file, size), 1);
  }
  std::uint64_t sync_begin(std::uint32_t file) {
    add(pc::RecordType::sync_begin, file, ++syncs_);
    return syncs_;
  }
  HandJournal& sync_end(std::uint64_t number, std::uint32_t flags = 0) {
    return add(pc::RecordType::sync_end, 0, number, {}, flags);
  }
  HandJournal& sync(std::uint32_t file) { return sync_end(sync_begin(file)); }

  // The file `name` on the disk a cut at the journal's end left; nullopt
  // if it is not there.
  std::optional<std::string> file_on_disk(const std::string& name, const pc::DiskModel& model, std::uint64_t seed = 0,
                                          const fs::path& before = {}) {
    const pc::Journal journal(path());
    const fs::path out = dir_.path() / ("disk-" + std::to_string(++disks_));
    fs::create_directory(out);
    std::mt19937_64 rng(seed);
    pc::write_disk(journal, before, out, model, rng);
    if (!fs::exists(out / name)) return std::nullopt;
    return slurp(out / name);
  }

 private:
  TempDir dir_;
  std::uint32_t changes_ = 0;
  std::uint64_t syncs_ = 0;
  int disks_ = 0;
};

const pc::DiskModel kRandom = pc::DiskModel::power_cut();
const pc::DiskModel kDropped = pc::DiskModel::nothing_unsynced();
const pc::DiskModel kKept = pc::DiskModel::everything();
const std::string kPageA(4096, 'a'), kPageB(4096, 'b');

TEST(PowerCutDisk, ASyncCoversTheWritesThatReturnedBeforeItBegan) {
  HandJournal j;
  j.create(1, "f").sync(pc::kDirectory);
  j.write(1, 0, kPageA);
  const auto sync = j.sync_begin(1);
  j.write(1, 4096, kPageB);  // returned while the sync ran: not covered by it
  j.sync_end(sync);
  EXPECT_EQ(j.file_on_disk("f", kDropped), kPageA);
  EXPECT_EQ(j.file_on_disk("f", kKept), kPageA + kPageB);
  std::set<std::string> second_pages;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    auto f = j.file_on_disk("f", kRandom, seed);
    ASSERT_TRUE(f);
    ASSERT_GE(f->size(), 4096u);
    EXPECT_EQ(f->substr(0, 4096), kPageA) << "seed " << seed;
    second_pages.insert(f->substr(4096));
  }
  EXPECT_GE(second_pages.size(), 3u) << "gone, kept, torn or cut short: the unsynced page is not always the same";
}

TEST(PowerCutDisk, ASyncThatHadNotEndedOrFailedMakesNothingDurable) {
  HandJournal running;
  running.create(1, "f").sync(pc::kDirectory);
  running.write(1, 0, kPageA);
  running.sync_begin(1);
  EXPECT_EQ(running.file_on_disk("f", kDropped), "");

  HandJournal failed;
  failed.create(1, "f").sync(pc::kDirectory);
  failed.write(1, 0, kPageA);
  failed.sync_end(failed.sync_begin(1), pc::kSyncFailed);
  EXPECT_EQ(failed.file_on_disk("f", kDropped), "");
}

TEST(PowerCutDisk, AChangeUnderWayIsNeverDurableAndMayHaveBeenMade) {
  HandJournal j;
  j.create(1, "f").sync(pc::kDirectory);
  j.write(1, 0, kPageA);
  j.begin(pc::RecordType::write, 1, 4096, kPageB);  // docketd died before it returned
  j.sync(1);
  EXPECT_EQ(j.file_on_disk("f", kDropped), kPageA);
  EXPECT_EQ(j.file_on_disk("f", pc::DiskModel::everything(true)), kPageA + kPageB);
  EXPECT_EQ(j.file_on_disk("f", pc::DiskModel::everything(false)), kPageA);

  HandJournal failed;
  failed.create(1, "f").sync(pc::kDirectory);
  failed.write(1, 0, kPageA);
  failed.done(1, failed.begin(pc::RecordType::write, 1, 0, kPageB), 0);
  EXPECT_EQ(failed.file_on_disk("f", kKept), kPageA) << "a write that failed changed nothing";
  failed.done(1, failed.begin(pc::RecordType::write, 1, 0, kPageB), 100);
  EXPECT_EQ(failed.file_on_disk("f", kKept), kPageB.substr(0, 100) + kPageA.substr(100)) << "a short write";
}

TEST(PowerCutDisk, AnUnsyncedPageIsDroppedKeptOrTornBySector) {
  HandJournal j;
  j.create(1, "f").sync(pc::kDirectory);
  j.write(1, 0, std::string(4096, 'o'));
  j.sync(1);
  j.write(1, 0, std::string(4096, 'n'));
  bool dropped = false, kept = false, torn = false;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    auto f = j.file_on_disk("f", kRandom, seed);
    ASSERT_TRUE(f && f->size() == 4096u);
    int fresh = 0;
    for (std::size_t sector = 0; sector < 8; ++sector) {
      const std::string s = f->substr(sector * 512, 512);
      ASSERT_TRUE(s == std::string(512, 'o') || s == std::string(512, 'n')) << "a sector is old or new, whole";
      fresh += s[0] == 'n';
    }
    dropped |= fresh == 0;
    kept |= fresh == 8;
    torn |= fresh > 0 && fresh < 8;
  }
  EXPECT_TRUE(dropped && kept && torn) << dropped << kept << torn;
}

TEST(PowerCutDisk, NamesAreDurableOnceTheDirectoryIsSynced) {
  HandJournal j;
  j.create(1, "f").write(1, 0, kPageA).sync(1);
  EXPECT_EQ(j.file_on_disk("f", kDropped), std::nullopt) << "created, but the directory never synced";
  EXPECT_EQ(j.file_on_disk("f", kKept), kPageA);
  j.sync(pc::kDirectory);
  EXPECT_EQ(j.file_on_disk("f", kDropped), kPageA);
  j.add(pc::RecordType::rename, 0, 0, std::string("f\0g", 3));
  EXPECT_EQ(j.file_on_disk("f", kDropped), kPageA);
  EXPECT_EQ(j.file_on_disk("g", kDropped), std::nullopt);
  j.sync(pc::kDirectory);
  EXPECT_EQ(j.file_on_disk("f", kDropped), std::nullopt);
  EXPECT_EQ(j.file_on_disk("g", kDropped), kPageA);
  j.add(pc::RecordType::unlink, 0, 0, "g");
  EXPECT_EQ(j.file_on_disk("g", kDropped), kPageA);
  EXPECT_EQ(j.file_on_disk("g", kKept), std::nullopt);
}

TEST(PowerCutDisk, AFileThatWasThereStartsAsItWas) {
  TempDir before;
  std::ofstream(before.path() / "g", std::ios::binary) << kPageA;
  HandJournal j;
  j.add(pc::RecordType::open, 1, 0, "g");
  j.write(1, 4096, kPageB).truncate(1, 100);
  EXPECT_EQ(j.file_on_disk("g", kDropped, 0, before.path()), kPageA);
  EXPECT_EQ(j.file_on_disk("g", kKept, 0, before.path()), kPageA.substr(0, 100));
}

TEST(PowerCutDisk, ALyingDiskLosesWhatItsSyncsCovered) {
  HandJournal j;
  j.create(1, "f").sync(pc::kDirectory);
  j.write(1, 0, kPageA).sync(1);
  pc::append_mark(j.path(), "lie from here");
  j.write(1, 4096, kPageB).sync(1);
  EXPECT_EQ(j.file_on_disk("f", kDropped), kPageA + kPageB);
  EXPECT_EQ(j.file_on_disk("f", pc::DiskModel::lying_after("lie from here")), kPageA);
}

TEST(PowerCutDisk, AJournalCutShortLosesOnlyItsLastRecord) {
  HandJournal j;
  j.create(1, "f").write(1, 0, kPageA);
  const auto whole = fs::file_size(j.path());
  j.write(1, 4096, kPageB);
  fs::resize_file(j.path(), whole + 100);  // SIGKILL in the middle of the last append
  const pc::Journal cut(j.path());
  EXPECT_EQ(cut.records().size(), 3u);  // the file, and the first write begun and done
  EXPECT_EQ(cut.torn_tail(), 100u);

  std::string bytes = slurp(j.path());
  bytes[whole - 1] ^= 1;  // a damaged record with more after it is not a cut: it is an error
  std::ofstream(j.path(), std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_THROW(pc::Journal{j.path()}, std::runtime_error);
}

// ---- docketd under the recorder ----

json start_request(int id, const std::string& ref) {
  return {
      {"id", id}, {"command", "start"}, {"args", {{"workflow", "rapid-review"}, {"ref", ref}, {"on", "2026-03-02"}}}};
}

// What a client is to send: `count` starts with `depth` of them in flight.
struct ClientPlan {
  std::string prefix;  // refs are prefix + number
  int count = 0;
  int depth = 1;
};

// Copies the regular files of `from` (not sockets) into `to`, recursively.
void copy_files(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const auto& e : fs::recursive_directory_iterator(from)) {
    const fs::path target = to / fs::relative(e.path(), from);
    if (e.is_directory()) fs::create_directories(target);
    if (e.is_regular_file()) fs::copy_file(e.path(), target);
  }
}

// Copies docketd's durable state (docket.db and its log, the audit key and
// the published head) from one directory to another.
void copy_database(const fs::path& from, const fs::path& to) {
  for (const auto& e : fs::directory_iterator(from)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && (name.starts_with("docket.db") || name.starts_with("audit."))) {
      fs::copy_file(e.path(), to / e.path().filename());
    }
  }
}

// A docketd under the recorder, in a scratch directory: the database in
// data/ (watched; empty, or a copy of `before`), the journal, socket and
// logs beside.
class RecordedDaemon {
 public:
  // `extra`: more arguments for docketd.
  explicit RecordedDaemon(const fs::path& config, const fs::path& before = {},
                          const std::vector<std::string>& extra = {}) {
    fs::create_directory(box_.path() / "data");
    data_ = fs::canonical(box_.path() / "data");  // the recorder matches paths as spelled: no symbolic links
    if (!before.empty()) copy_files(before, data());
    std::vector<std::string> argv{
        kDocketd.string(), "--config",        config.string(),   "--db", (data() / "docket.db").string(),
        "--socket",        socket().string(), "--virtual-clock", kClock};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ScopedEnv env({{"LD_PRELOAD", DOCKET_POWERCUT_PRELOAD},
                   {"DOCKET_POWERCUT_DIR", data().string()},
                   {"DOCKET_POWERCUT_LOG", journal().string()}});
    daemon_ = std::make_unique<Daemon>(argv, socket(), box_.path() / "docketd.log");
  }

  const fs::path& data() const { return data_; }
  fs::path journal() const { return box_.path() / "journal"; }
  fs::path socket() const { return box_.path() / "docketd.sock"; }
  const fs::path& dir() const { return box_.path(); }
  Daemon& daemon() { return *daemon_; }

  // Runs the clients until all is acknowledged, or (kill_after > 0) until
  // that many commands have been, when docketd is killed at once. Returns
  // the refs acknowledged, and in `failures` anything a client did not
  // expect.
  std::vector<std::string> drive(const std::vector<ClientPlan>& plans, int kill_after,
                                 std::vector<std::string>& failures) {
    std::atomic<int> acks{0};
    std::atomic<bool> killed{false};
    std::mutex mu;
    std::vector<std::string> acknowledged;
    auto client = [&](const ClientPlan& plan) {
      LineClient c(socket());
      auto fail = [&](const std::string& why) {
        std::lock_guard lock(mu);
        failures.push_back(plan.prefix + ": " + why);
      };
      if (!c.connected()) {
        if (!killed) fail("cannot connect: " + c.error());  // else another client's reply came first
        return;
      }
      int sent = 0, answered = 0;
      auto send_next = [&] {
        if (killed || sent == plan.count) return true;
        const bool ok = c.send_line(start_request(sent, plan.prefix + std::to_string(sent)).dump(), 30s);
        ++sent;
        return ok;
      };
      for (int i = 0; i < plan.depth; ++i) {
        if (!send_next()) break;
      }
      while (answered < sent) {
        auto line = c.read_line(60s);
        if (!line) {
          if (!killed) fail("no reply: " + c.error());
          return;
        }
        ++answered;
        json reply = json::parse(*line, nullptr, false);
        if (!reply.is_object() || !reply.value("ok", false) || !reply["id"].is_number_integer()) {
          return fail("refused: " + *line);
        }
        {
          std::lock_guard lock(mu);
          acknowledged.push_back(plan.prefix + std::to_string(reply["id"].get<int>()));
        }
        if (++acks == kill_after) {
          killed = true;                    // first: the others may see the connection close at once
          ::kill(daemon_->pid(), SIGKILL);  // a reply already sent may still be read after this
        }
        if (!send_next() && !killed) return fail("cannot send: " + c.error());
      }
    };
    std::vector<std::thread> threads;
    for (const auto& plan : plans) threads.emplace_back(client, std::cref(plan));
    for (auto& t : threads) t.join();
    return acknowledged;
  }

 private:
  TempDir box_;
  fs::path data_;
  std::unique_ptr<Daemon> daemon_;
};

// What the checks found on one disk.
struct ImageReport {
  std::vector<std::string> lost;      // acknowledged, not stored
  std::vector<std::string> problems;  // anything else wrong
};

std::string joined(const std::vector<std::string>& v, std::size_t most = 10) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < most; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > most) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

// The checks on a disk after a cut, as an operator would run them after the
// reboot: the database opens and is sound, every acknowledged command is in
// it, the audit trail verifies with the docket CLI, docketd starts on it.
ImageReport check_image(const fs::path& image, const std::vector<std::string>& acknowledged, const fs::path& config,
                        bool restart) {
  ImageReport report;
  const fs::path db = image / "docket.db";
  auto forget_index = [&] { fs::remove(db.string() + "-shm"); };  // as a reboot leaves it: rebuilt from the log
  if (!fs::exists(db)) {
    report.problems.push_back("no database at all");
    report.lost = acknowledged;
    return report;
  }
  try {
    store::Connection c(db, store::Connection::Mode::read_only);
    auto check = c.prepare("PRAGMA quick_check");
    std::string verdict;
    while (check.step()) verdict += (verdict.empty() ? "" : "; ") + check.text(0);
    if (verdict != "ok") report.problems.push_back("quick_check: " + verdict);
    std::set<std::string> stored;
    auto refs = c.prepare("SELECT ref FROM reviews");
    while (refs.step()) stored.insert(refs.text(0));
    for (const auto& ref : acknowledged) {
      if (!stored.count(ref)) report.lost.push_back(ref);
    }
  } catch (const std::exception& e) {
    report.problems.push_back(std::string("cannot read the database: ") + e.what());
    report.lost = acknowledged;
    return report;
  }
  forget_index();
  auto verify =
      run_command({kDocket.string(), "--config", config.string(), "audit", "verify", "--db", db.string()}, image, 120s);
  if (verify.code != 0)
    report.problems.push_back("docket audit verify: " + verify.how + "\n" + verify.out + verify.err);
  forget_index();
  if (!restart) return report;

  const fs::path socket = image / "again.sock";
  Daemon again({kDocketd.string(), "--config", config.string(), "--db", db.string(), "--socket", socket.string(),
                "--virtual-clock", kClock},
               socket, image / "again.log");
  if (auto ready = again.wait_ready(60s); !ready) {
    report.problems.push_back(std::string("docketd does not start again: ") + ready.message());
    return report;
  }
  LineClient c(socket);
  json status = acknowledged.empty() ? call(c, "status", json::object(), 1, 30s)
                                     : call(c, "status", {{"ref", acknowledged.front()}}, 1, 30s);
  if (!replied_ok(status)) report.problems.push_back("status after the restart: " + status.dump());
  c.close();
  if (auto st = again.terminate(30s); !exited_zero(st, again.log())) {
    report.problems.push_back("docketd did not stop cleanly after the restart: " + describe_status(st) + "\n" +
                              again.log());
  }
  return report;
}

// The disk with every change made is the directory as docketd left it:
// else the recorder missed a change, and the model would stand on a partial
// record. A change under way when docketd died may have been made, in part
// or whole, or not at all, so each page may be as it was before it.
::testing::AssertionResult recorder_saw_everything(const pc::Journal& journal, const fs::path& before,
                                                   const fs::path& data, const fs::path& scratch) {
  const fs::path with = scratch / "with", without = scratch / "without";
  fs::create_directories(with);
  fs::create_directories(without);
  std::mt19937_64 unused(0);
  pc::write_disk(journal, before, with, pc::DiskModel::everything(true), unused);
  pc::write_disk(journal, before, without, pc::DiskModel::everything(false), unused);
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(data)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with("-shm")) continue;
    names.insert(name);
    if (!fs::exists(with / name)) return ::testing::AssertionFailure() << name << " is not in the journal";
    const std::string real = slurp(e.path()), a = slurp(with / name), b = slurp(without / name);
    if (real.size() < std::min(a.size(), b.size()) || real.size() > std::max(a.size(), b.size())) {
      return ::testing::AssertionFailure() << name << " is " << real.size() << " bytes, its replay " << a.size()
                                           << " (or " << b.size() << " without the changes under way)";
    }
    auto page = [](const std::string& bytes, std::size_t at) {
      std::string p = at < bytes.size() ? bytes.substr(at, 4096) : std::string();
      p.resize(4096, '\0');
      return p;
    };
    for (std::size_t at = 0; at < real.size(); at += 4096) {
      const std::string r = page(real, at);
      if (r != page(a, at) && r != page(b, at)) {
        return ::testing::AssertionFailure()
               << name << " differs from its replay at byte " << at << ": a change was not recorded";
      }
    }
  }
  for (const auto& e : fs::directory_iterator(with)) {
    if (!names.count(e.path().filename().string())) {
      return ::testing::AssertionFailure() << e.path().filename() << " is in the journal but not on disk";
    }
  }
  fs::remove_all(scratch);
  return ::testing::AssertionSuccess();
}

// Copies a failed cut's files where they outlive the test.
fs::path keep_for_study(const fs::path& dir, const fs::path& before, std::uint64_t cut_seed) {
  const fs::path keep = fs::temp_directory_path() / ("docket-powercut-" + std::to_string(cut_seed));
  fs::remove_all(keep);
  copy_files(dir, keep);
  if (!before.empty()) copy_files(before, keep / "before");
  return keep;
}

// What a journal shows of the log being copied back: syncs of the database
// file, and log headers written (each time the log begins again).
struct LogCopies {
  std::int64_t database_syncs = 0;
  std::int64_t log_starts = 0;
};

LogCopies log_copies(const pc::Journal& journal) {
  std::map<std::uint32_t, std::string> names;
  LogCopies c;
  for (const auto& r : journal.records()) {
    if (r.type == pc::RecordType::create || r.type == pc::RecordType::open) names[r.file] = std::string(r.payload);
    if (r.type == pc::RecordType::sync_begin && names[r.file] == "docket.db") ++c.database_syncs;
    if (r.type == pc::RecordType::write && r.offset == 0 && names[r.file] == "docket.db-wal") ++c.log_starts;
  }
  return c;
}

// Cuts in a row on one database: the next cut starts docketd on the disk the
// last one left (recovering a log with a torn end, then writing after it),
// and what was acknowledged before must survive that cut too.
struct Chain {
  std::unique_ptr<TempDir> disk;  // the disk the last cut left, as it left it
  std::vector<std::string> refs;  // acknowledged in the chain's earlier cuts
  int length = 0;
};

struct Totals {
  int cuts = 0;
  int chained = 0;  // cuts that started on the disk of the one before
  int images = 0;
  std::int64_t acknowledged = 0;  // commands acknowledged before the cuts
  std::int64_t checked = 0;       // acknowledged commands looked for, summed over the disks
  std::int64_t bytes = 0;         // written by docketd under the recorder
  std::int64_t syncs = 0;
  std::int64_t database_syncs = 0;  // of docket.db itself: a checkpoint, or a copy of the whole log
  std::int64_t log_starts = 0;      // log headers written: the log begun or begun again
  pc::DiskStats disk;
};

TEST(PowerCut, NoAcknowledgedCommandIsLost) {
  const auto started = std::chrono::steady_clock::now();
  const int runs = static_cast<int>(env_number("DOCKET_POWERCUT_RUNS", DOCKET_POWERCUT_CUTS));
  const int images = static_cast<int>(env_number("DOCKET_POWERCUT_IMAGES", 3));
  const std::uint64_t seed = env_number("DOCKET_POWERCUT_SEED", std::random_device{}());
  std::cout << "power-cut test: seed " << seed << ", " << runs << " cuts (DOCKET_POWERCUT_SEED repeats them)\n";
  TempConfig config;
  config.log_delivery();
  Totals totals;
  Chain chain;

  for (int run = 0; run < runs; ++run) {
    const std::uint64_t cut_seed = seed + static_cast<std::uint64_t>(run);
    std::mt19937_64 rng(cut_seed);
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    std::vector<ClientPlan> plans(static_cast<std::size_t>(pick(1, 4)));
    int total = 0;
    for (std::size_t i = 0; i < plans.size(); ++i) {
      plans[i] = {"PC-" + std::to_string(run) + "-" + std::to_string(i) + "-", pick(10, 120), pick(1, 24)};
      total += plans[i].count;
    }
    const int kill_after = pick(1, total);
    const bool fresh = pick(0, 3) == 0;  // drawn whatever the chain, so that a cut's draws follow from its seed
    if (fresh || chain.length >= kMaxChain) chain = {};
    const fs::path before = chain.disk ? chain.disk->path() : fs::path();
    // A chained cut is repeated from the first cut on its database.
    SCOPED_TRACE("cut seed " + std::to_string(cut_seed) + ", cut " + std::to_string(chain.length + 1) +
                 " on its database (repeat: DOCKET_POWERCUT_SEED=" +
                 std::to_string(cut_seed - static_cast<std::uint64_t>(chain.length)) +
                 " DOCKET_POWERCUT_RUNS=" + std::to_string(chain.length + 1) + ")");
    // Half the cuts copy the log back into the database and start it again
    // far sooner than by default (64 MiB, 1 GiB), so that they cross
    // checkpoints and restarts of the log.
    std::vector<std::string> wal;
    if (pick(0, 1) == 1) {
      wal = {"--wal-checkpoint-pages", std::to_string(pick(16, 1024)), "--wal-limit-pages",
             std::to_string(pick(64, 4096))};
    }

    RecordedDaemon rd(config.dir(), before, wal);
    ASSERT_TRUE(rd.daemon().wait_ready(60s));
    std::vector<std::string> failures;
    const auto acknowledged = rd.drive(plans, kill_after, failures);
    const auto status = rd.daemon().kill9();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "docketd " << describe_status(status) << " before the cut; its log:\n"
        << rd.daemon().log();
    ASSERT_TRUE(failures.empty()) << joined(failures) << "\n" << rd.daemon().log();
    ASSERT_GE(static_cast<int>(acknowledged.size()), kill_after);
    std::vector<std::string> expected = chain.refs;
    expected.insert(expected.end(), acknowledged.begin(), acknowledged.end());

    const pc::Journal journal(rd.journal());
    ASSERT_EQ(journal.unsupported(), std::vector<std::string>{});
    ASSERT_TRUE(recorder_saw_everything(journal, before, rd.data(), rd.dir() / "replayed"));
    totals.bytes += journal.bytes_written();
    totals.syncs += journal.syncs();
    const auto copies = log_copies(journal);
    totals.database_syncs += copies.database_syncs;
    totals.log_starts += copies.log_starts;

    // The next cut goes on from disk 0: as the cut left it, or as docketd
    // left it when it had started on it and stopped (the log copied back and
    // removed, so the next docketd starts a new one).
    const bool after_restart = pick(0, 1) == 1;
    auto next = std::make_unique<TempDir>();
    for (int i = 0; i < images; ++i) {
      const fs::path image = rd.dir() / ("disk-" + std::to_string(i));
      fs::create_directory(image);
      totals.disk += pc::write_disk(journal, before, image, pc::DiskModel::power_cut(), rng);
      if (i == 0 && !after_restart) copy_database(image, next->path());
      const auto report = check_image(image, expected, config.dir(), true);
      if (i == 0 && after_restart) copy_database(image, next->path());
      EXPECT_TRUE(report.lost.empty()) << report.lost.size() << " of " << expected.size()
                                       << " acknowledged commands lost on disk " << i << " (" << chain.length
                                       << " cuts before this one on the database): " << joined(report.lost);
      EXPECT_TRUE(report.problems.empty()) << "disk " << i << ": " << joined(report.problems);
      if (HasFailure()) {
        ADD_FAILURE() << "the journal, the logs and the disks are kept in "
                      << keep_for_study(rd.dir(), before, cut_seed);
        return;
      }
      ++totals.images;
      totals.checked += static_cast<std::int64_t>(expected.size());
    }
    ++totals.cuts;
    totals.acknowledged += static_cast<std::int64_t>(acknowledged.size());
    if (chain.length > 0) ++totals.chained;
    chain.disk = std::move(next);
    chain.refs = std::move(expected);
    ++chain.length;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "power-cut test: " << totals.cuts << " cuts (" << totals.chained << " on the disk of the cut before), "
            << totals.images << " disks; " << totals.acknowledged << " commands acknowledged, " << totals.checked
            << " looked for on the disks, none lost; " << totals.bytes / 1024 << " KiB written and " << totals.syncs
            << " syncs recorded (" << totals.database_syncs << " of the database file, " << totals.log_starts
            << " log headers written); unsynced pages " << totals.disk.pages_dropped << " dropped, "
            << totals.disk.pages_kept << " kept, " << totals.disk.pages_torn << " torn; name changes "
            << totals.disk.names_pending << " unsynced, " << totals.disk.names_kept << " kept; " << seconds << " s\n";
}

// The control: a drive that acknowledges syncs it does not make. Two bursts
// of commands are acknowledged in turn, then docketd is killed; the disk is
// rebuilt as if every sync that began after the first burst's last reply did
// nothing, and every unsynced write was dropped. The checks must find the
// second burst missing (and the first whole): they see a loss when there is
// one. The same journal on an honest disk loses nothing.
TEST(PowerCut, ControlADiskThatIgnoresSyncsLosesAcknowledgedCommands) {
  TempConfig config;
  config.log_delivery();
  constexpr int kCuts = 2;
  std::size_t lost_in_all = 0;
  for (int cut = 0; cut < kCuts; ++cut) {
    SCOPED_TRACE("control cut " + std::to_string(cut));
    RecordedDaemon rd(config.dir());
    ASSERT_TRUE(rd.daemon().wait_ready(60s));
    std::vector<std::string> failures;
    auto first = rd.drive(
        {{"CTL-A-" + std::to_string(cut) + "-", 40, 8}, {"CTL-B-" + std::to_string(cut) + "-", 40, 8}}, 0, failures);
    pc::append_mark(rd.journal(), "first burst acknowledged");
    auto second = rd.drive(
        {{"CTL-C-" + std::to_string(cut) + "-", 30, 6}, {"CTL-D-" + std::to_string(cut) + "-", 30, 6}}, 0, failures);
    rd.daemon().kill9();
    ASSERT_TRUE(failures.empty()) << joined(failures) << "\n" << rd.daemon().log();
    ASSERT_EQ(first.size(), 80u);
    ASSERT_EQ(second.size(), 60u);
    std::vector<std::string> all = first;
    all.insert(all.end(), second.begin(), second.end());

    const pc::Journal journal(rd.journal());
    ASSERT_EQ(journal.unsupported(), std::vector<std::string>{});
    std::mt19937_64 rng(static_cast<std::uint64_t>(cut));
    const fs::path lying = rd.dir() / "lying";
    fs::create_directory(lying);
    pc::write_disk(journal, {}, lying, pc::DiskModel::lying_after("first burst acknowledged"), rng);
    const auto report = check_image(lying, all, config.dir(), false);
    EXPECT_TRUE(report.problems.empty()) << joined(report.problems);
    const std::set<std::string> lost(report.lost.begin(), report.lost.end());
    EXPECT_EQ(lost, std::set<std::string>(second.begin(), second.end()))
        << "the checks should find exactly the second burst missing; missing: " << joined(report.lost);
    lost_in_all += lost.size();

    const fs::path honest = rd.dir() / "honest";
    fs::create_directory(honest);
    pc::write_disk(journal, {}, honest, pc::DiskModel::nothing_unsynced(), rng);
    const auto fine = check_image(honest, all, config.dir(), false);
    EXPECT_TRUE(fine.lost.empty() && fine.problems.empty()) << joined(fine.lost) << " " << joined(fine.problems);
  }
  EXPECT_GT(lost_in_all, 0u);
  std::cout << "power-cut control: " << kCuts << " cuts on a disk that ignores syncs, " << lost_in_all
            << " acknowledged commands found lost\n";
}

}  // namespace
}  // namespace docket::testing
