#include "daemon/audit_anchor.h"

#include "daemon/log.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "store/sqlite.h"
#include "store/store.h"

namespace docket::daemon {

namespace fs = std::filesystem;
using store::AuditKeyError;

namespace {

fs::path beside(const fs::path& database, const char* name) {
  return (database.has_parent_path() ? database.parent_path() : fs::path(".")) / name;
}

// Whether the database holds a keyed trail; nullopt when it cannot be read.
std::optional<bool> has_keyed_trail(const fs::path& database) {
  std::error_code ec;
  if (!fs::exists(database, ec) || fs::file_size(database, ec) == 0) return false;
  try {
    store::Connection db(database, store::Connection::Mode::read_only);
    auto tables = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit'");
    if (!tables.step()) return false;
    auto s = db.prepare("SELECT 1 FROM audit WHERE kind = 'audit.keyed' LIMIT 1");
    return s.step();
  } catch (const store::StoreError&) {
    return std::nullopt;
  }
}

std::unique_ptr<store::AuditKey> load_or_make_key(const AuditPaths& paths, const fs::path& database,
                                                  const store::HeadFile& head, bool& created) {
  try {
    return store::load_audit_key(paths.key);
  } catch (const AuditKeyError& e) {
    if (e.why() != AuditKeyError::Why::missing) {
      throw std::runtime_error(std::string(e.what()) +
                               (e.why() == AuditKeyError::Why::denied
                                    ? "; docketd runs as the docket user, who must own it (chown docket: " +
                                          paths.key.string() + "; chmod 0600 " + paths.key.string() + ")"
                                    : ""));
    }
    if (paths.credential) {
      const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
      throw std::runtime_error(
          "[audit] credential names the audit key as a systemd credential, but " +
          (dir == nullptr ? std::string("$CREDENTIALS_DIRECTORY is not set (docketd was not started by systemd with "
                                        "LoadCredential=)")
                          : paths.key.string() + " does not exist") +
          ": add LoadCredential=" + paths.key.filename().string() + ":/etc/docket/audit.key to docketd.service");
    }
    const auto keyed = has_keyed_trail(database);
    const std::string restore = "restore the key from your backup to " + paths.key.string() +
                                " (owned by docket, mode 0600): the trail cannot be checked or continued without it";
    if (head.state != store::HeadFile::State::absent) {
      throw std::runtime_error("the audit key " + paths.key.string() + " is missing, but docketd has published the "
                               "head of a keyed trail in " + paths.head.string() + "; " + restore);
    }
    if (!keyed) {
      throw std::runtime_error("the audit key " + paths.key.string() + " is missing and the database " +
                               database.string() + " cannot be read to tell whether its trail is keyed; " + restore +
                               ", or restore the database (docket restore FILE)");
    }
    if (*keyed) {
      throw std::runtime_error("the audit key " + paths.key.string() + " is missing, but the audit trail in " +
                               database.string() + " is keyed; " + restore);
    }
    try {
      auto key = store::create_audit_key(paths.key);
      created = true;
      return key;
    } catch (const AuditKeyError& made) {
      throw std::runtime_error(std::string(made.what()) + "; make the directory writable by docketd, or make the "
                               "key yourself: (umask 077; head -c 32 /dev/urandom > " + paths.key.string() +
                               ") and give it to the docket user");
    }
  }
}

// The public half of the head-signing key, as PEM beside the head file, for
// the operator to hand to the recipient of the signed heads (docs/audit.md).
// Public, so a failure to write it only warns.
void write_public_key(const AuditAnchor& a) {
  const fs::path pem = (a.paths.head.has_parent_path() ? a.paths.head.parent_path() : fs::path(".")) / "audit.pub.pem";
  const std::string text = a.key->public_key_pem();
  {
    std::ifstream in(pem, std::ios::binary);
    std::stringstream was;
    was << in.rdbuf();
    if (in && was.str() == text) return;
  }
  try {
    store::write_file_atomically(pem, text, 0644);
  } catch (const std::exception& e) {
    log::audit().warn("audit.public_key_unwritten path={} error=\"{}\"", pem.string(), e.what());
    return;
  }
  log::audit().info("audit.public_key path={} key_id={}", pem.string(), a.key->id());
}

}  // namespace

AuditPaths audit_paths(const workflows::AuditSettings& s, const fs::path& database) {
  AuditPaths p;
  if (!s.credential.empty()) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    p.key = fs::path(dir != nullptr ? dir : "/run/credentials/docketd.service") / s.credential;
    p.credential = true;
  } else {
    p.key = s.key_file.empty() ? beside(database, "audit.key") : s.key_file;
  }
  p.head = s.head_file.empty() ? beside(database, "audit.head") : s.head_file;
  return p;
}

AuditAnchor open_audit_anchor(const workflows::AuditSettings& settings, const fs::path& database) {
  AuditAnchor a;
  a.paths = audit_paths(settings, database);
  const store::HeadFile unchecked = store::read_head_file(a.paths.head, nullptr);
  a.key = load_or_make_key(a.paths, database, unchecked, a.key_created);
  if (a.key_created) {
    log::audit().info("audit.key_created path={} key_id={} public_key={}", a.paths.key.string(), a.key->id(),
                 a.key->public_key());
  }
  write_public_key(a);
  a.head = store::read_head_file(a.paths.head, a.key.get());
  return a;
}

StartCheck check_database_at_start(const fs::path& database, const AuditAnchor& anchor) {
  StartCheck out;
  const bool published = anchor.head.state == store::HeadFile::State::authentic;
  const auto restore = [&] {
    return "docketd writes nothing to it. Stop here and restore the latest good backup (it is checked before it "
           "is put in place, and the file it replaces is kept beside it for investigation):\n"
           "  docket restore /var/backups/docket-YYYY-MM-DD.db --db " + database.string() +
           "\n`docket audit verify --db " + database.string() + "` (as the docket user) shows the trail's state.";
  };
  if (anchor.head.state == store::HeadFile::State::bad) {
    log::audit().critical("audit.head_rejected path={} problem={}", anchor.paths.head.string(), anchor.head.problem);
    out.problem = "the published audit head is not trustworthy: " + anchor.head.problem +
                  ".\nPut back the key and the head file docketd wrote (from your backup). Otherwise move " +
                  anchor.paths.head.string() + " aside and check the trail as the docket user with `docket audit "
                  "verify --expect-head SEQ:HASH` (the head from the recipient's latest signed notice): docketd then "
                  "verifies the whole trail, records audit.head_missing and publishes its head again.";
    return out;
  }
  std::error_code ec;
  if (!fs::exists(database, ec) || fs::file_size(database, ec) == 0) {
    if (published && anchor.head.head.seq > 0) {
      out.problem = "the database " + database.string() + " is missing or empty, but docketd published record " +
                    std::to_string(anchor.head.head.seq) + " of its audit trail on " +
                    store::utc_text(anchor.head.head.at) + " (" + anchor.paths.head.string() +
                    "): every record is gone.\n" + restore();
      log::audit().critical("database.missing path={} published_seq={}", database.string(), anchor.head.head.seq);
    }
    return out;
  }
  std::optional<store::PublishedHead> head;
  if (published) head = anchor.head.head;
  auto report = store::check_integrity(database, *anchor.key, head);
  if (report.problem) {
    log::audit().critical("{} path={} problem={}", report.event, database.string(), *report.problem);
    if (report.event == "audit.broken" && report.chain.broken) {
      const auto& b = *report.chain.broken;
      out.problem = "the audit trail in " + database.string() + " does not verify at record " + std::to_string(b.seq) +
                    ": " + b.what + ".\n" + restore();
    } else if (report.event == "audit.wrong_key") {
      out.problem = "the audit key " + anchor.paths.key.string() + " is not the trail's: " + *report.problem +
                    ".\nPut back the key docketd used (from your backup); if the database is the wrong one, " +
                    "restore the right one.\n" + restore();
    } else {
      out.problem = "the database " + database.string() + " is damaged: " + *report.problem + ".\n" + restore();
    }
  } else {
    log::audit().info("database.checked path={} quick_check_ms={} audit_records={} verified_from={} chain_ms={} keyed_from={}",
                 database.string(), report.quick_check_time.count(), report.chain.head_seq,
                 report.from_verified_point ? report.chain.head_seq - report.chain.records + 1 : 1,
                 report.chain_time.count(), report.chain.keyed_from);
  }
  out.report = std::move(report);
  return out;
}

}  // namespace docket::daemon
