#include "cli/backup_commands.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <iomanip>
#include <ostream>
#include <sstream>

#include "cli/client.h"
#include "cli/commands.h"
#include "store/audit_key.h"
#include "store/backup.h"
#include "store/sqlite.h"
#include "store/store.h"

namespace docket::cli {

namespace fs = std::filesystem;

namespace {

// True when something accepts connections on the socket.
bool answers(const fs::path& socket) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string s = socket.string();
  if (s.empty() || s.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;  // NOLINT: sockets API
  ::close(fd);
  return ok;
}

std::string mebibytes(std::uintmax_t bytes) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
  return s.str();
}

std::string head_text(std::int64_t seq, const std::string& hash) {
  return seq == 0 ? "no audit records" : std::to_string(seq) + " audit records, head " + std::to_string(seq) + ":" +
                                             hash.substr(0, 16);
}

// The head docketd published for the database a restore replaced names
// records the restored one may not have: it goes aside with that database
// (`kept`), with the same suffix.
std::optional<fs::path> keep_published_head(const fs::path& head, const std::optional<fs::path>& kept) {
  std::error_code ec;
  if (!fs::exists(head, ec)) return std::nullopt;
  std::string suffix;
  if (kept) {
    const std::string name = kept->filename().string();
    suffix = name.substr(name.find(".before-restore-"));
  } else {
    suffix = ".before-restore-" + std::to_string(::time(nullptr));
  }
  fs::path aside = head;
  aside += suffix;
  if (::rename(head.c_str(), aside.c_str()) != 0) {
    throw store::StoreError("cannot move the published audit head " + head.string() + " aside: " +
                            std::strerror(errno));
  }
  return aside;
}

void add_common(CLI::App* sub, BackupOptions& o, std::string& config) {
  sub->add_option("--db", o.db, "The database (default: [daemon] database in docketd.toml)")->type_name("PATH");
  sub->add_option("--config", config, "Configuration directory (default: $DOCKET_CONFIG, ./config, /etc/docket)")
      ->type_name("DIR");
}

}  // namespace

int backup_command(const BackupOptions& o, std::ostream& out, std::ostream& err) {
  const fs::path db = resolve_database(o.db, o.config);
  const fs::path file = o.file;
  std::error_code ec;
  if (fs::equivalent(db, file, ec)) {
    err << "docket: " << file.string() << " is the database itself; give another file\n";
    return 2;
  }
  try {
    auto s = store::backup_database(db, file);
    out << "backed up " << db.string() << " to " << file.string() << ": schema " << s.schema_version << ", "
        << head_text(s.audit_records, s.head_hash) << ", " << mebibytes(s.bytes) << '\n';
    return 0;
  } catch (const store::StoreError& e) {
    err << "docket: backup failed: " << e.what() << '\n';
    return 2;
  }
}

int restore_command(const BackupOptions& o, std::ostream& out, std::ostream& err) {
  const fs::path db = resolve_database(o.db, o.config);
  const fs::path socket = resolve_socket(o.socket, o.config);
  const fs::path file = o.file;
  if (answers(socket)) {
    err << "docket: docketd is running (it answers on " << socket.string()
        << "); stop it first (systemctl stop docketd), then restore\n";
    return 1;
  }
  std::error_code ec;
  if (fs::equivalent(db, file, ec)) {
    err << "docket: " << file.string() << " is the database itself; nothing to restore\n";
    return 2;
  }
  const AuditFiles audit = audit_files(db, o.db, o.config);
  const fs::path key_path = o.key_file.empty() ? audit.key : fs::path(o.key_file);
  std::unique_ptr<store::AuditKey> key;
  std::string no_key;
  try {
    key = store::load_audit_key(key_path);
  } catch (const store::AuditKeyError& e) {
    no_key = e.what();
  }
  auto check = store::check_database(file, key.get());
  if (check.problem) {
    err << "docket: not restoring " << file.string() << ": " << *check.problem << '\n';
    return 1;
  }
  if (check.unchecked > 0) {
    err << "docket: not restoring " << file.string() << ": its audit trail is keyed from record " << check.keyed_from
        << ", and "
        << (key ? "the key " + key_path.string() + " (id " + key->id() + ") is not the one it was keyed with"
                : no_key)
        << "; restore checks every keyed record with the audit key first: run it as root or the docket user, or "
           "pass --key-file PATH\n";
    return 1;
  }
  out << "checked " << file.string() << ": integrity ok, schema " << check.schema_version << ", audit chain intact ("
      << head_text(check.audit_records, check.head_hash) << ")\n";
  try {
    auto kept = store::replace_database(file, db);
    out << "restored " << file.string() << " to " << db.string() << '\n';
    if (kept) out << "the database it replaced is kept as " << kept->string() << '\n';
    if (auto head = keep_published_head(audit.head, kept)) {
      out << "the audit head published for it is kept as " << head->string()
          << "; docketd records audit.head_missing when it starts and publishes the restored trail's head\n";
    }
    if (check.schema_version < store::kSchemaVersion) {
      out << "schema " << check.schema_version << " is upgraded to " << store::kSchemaVersion
          << " when docketd starts\n";
    }
    return 0;
  } catch (const store::StoreError& e) {
    err << "docket: restore failed: " << e.what() << '\n';
    return 2;
  }
}

BackupCommands::BackupCommands(CLI::App& app, std::string& config) : config_(config) {
  backup_ = app.add_subcommand("backup", "Copy the database to FILE while docketd runs (one consistent snapshot)");
  backup_->add_option("file", backup_options_.file, "Where the copy goes (replaced if it exists)")
      ->required()
      ->type_name("FILE");
  add_common(backup_, backup_options_, config_);
  restore_ = app.add_subcommand("restore", "Check FILE (integrity, schema, audit chain), then put it in place of "
                                           "the database; docketd must be stopped");
  restore_->add_option("file", restore_options_.file, "A backup made by docket backup")
      ->required()
      ->type_name("FILE")
      ->check(CLI::ExistingFile);
  add_common(restore_, restore_options_, config_);
  restore_->add_option("--key-file", restore_options_.key_file,
                       "The audit key, to check the backup's keyed records (default: as docketd finds it)")
      ->type_name("PATH");
  restore_->add_option("--socket", restore_options_.socket,
                       "docketd's control socket, to check that it is stopped (default: from docketd.toml)")
      ->type_name("PATH");
}

std::optional<int> BackupCommands::run(std::ostream& out, std::ostream& err) {
  if (backup_->parsed()) {
    backup_options_.config = config_;
    return backup_command(backup_options_, out, err);
  }
  if (restore_->parsed()) {
    restore_options_.config = config_;
    return restore_command(restore_options_, out, err);
  }
  return std::nullopt;
}

}  // namespace docket::cli
