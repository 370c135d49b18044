#include "cli/client.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include <boost/asio.hpp>

#include "cli/commands.h"
#include "daemon/audit_anchor.h"

namespace docket::cli {

namespace fs = std::filesystem;
namespace asio = boost::asio;

namespace {

// docketd.toml read as the loader reads it (workflows/daemon_settings.h):
// its settings hold even when the configuration has errors, so a broken
// configuration still names its socket, database and audit files; `docket
// validate` explains the errors.
workflows::DaemonSettings daemon_settings(const std::string& config_flag) {
  workflows::Diagnostics ignored;
  return workflows::read_daemon_settings(resolve_config_dir(config_flag), ignored);
}

// The group that may use the socket: the socket's, else its directory's
// (a caller outside the group cannot look into /run/docket at all).
std::string socket_group(const fs::path& socket) {
  struct stat st {};
  if (::stat(socket.c_str(), &st) != 0 && ::stat(socket.parent_path().c_str(), &st) != 0) return "docket";
  const group* g = ::getgrgid(st.st_gid);
  return g != nullptr ? g->gr_name : std::to_string(st.st_gid);
}

std::string user_name() {
  const passwd* p = ::getpwuid(::geteuid());
  return p != nullptr ? p->pw_name : "USER";
}

}  // namespace

fs::path resolve_socket(const std::string& flag, const std::string& config_flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("DOCKET_SOCKET"); env != nullptr && *env != '\0') return env;
  return daemon_settings(config_flag).socket;
}

fs::path resolve_database(const std::string& flag, const std::string& config_flag) {
  if (!flag.empty()) return flag;
  return daemon_settings(config_flag).database;
}

workflows::AuditSettings audit_settings(const std::string& config_flag) {
  return daemon_settings(config_flag).audit;
}

AuditFiles audit_files(const fs::path& db, const std::string& db_flag, const std::string& config_flag) {
  const auto settings = audit_settings(config_flag);
  const fs::path configured = resolve_database("", config_flag);
  std::error_code ec;
  const bool docketds = db_flag.empty() || fs::equivalent(db, configured, ec);
  return {daemon::audit_paths(settings, docketds ? configured : db).key,
          daemon::audit_paths(docketds ? settings : workflows::AuditSettings{}, docketds ? configured : db).head};
}

nlohmann::json call(const fs::path& socket, const std::string& command, const nlohmann::json& args) {
  asio::io_context io;
  asio::local::stream_protocol::socket s(io);
  boost::system::error_code ec;
  s.connect(asio::local::stream_protocol::endpoint(socket.string()), ec);
  if (ec == boost::system::errc::permission_denied) {
    // docketd runs; this account is not among those who may use it.
    const std::string g = socket_group(socket);
    throw ConnectionError("cannot reach docketd on " + socket.string() + " (" + ec.message() +
                          "): only members of the group " + g + " may use it; an administrator adds you with " +
                          "`usermod -aG " + g + " " + user_name() + "`, then you log in again");
  }
  if (ec) {
    throw ConnectionError("cannot reach docketd on " + socket.string() + " (" + ec.message() +
                          "); is it running? Start it with `systemctl start docketd` (or `make run` in a " +
                          "clone), or give --socket PATH");
  }
  nlohmann::json request{{"id", 1}, {"command", command}, {"args", args}};
  std::string line = request.dump() + "\n";
  asio::write(s, asio::buffer(line), ec);
  if (ec) throw ConnectionError("cannot send to docketd on " + socket.string() + ": " + ec.message());
  asio::streambuf buf;
  asio::read_until(s, buf, '\n', ec);
  if (ec && buf.size() == 0) throw ConnectionError("docketd closed the connection without answering: " + ec.message());
  std::string reply(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
  auto j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok")) {
    throw ConnectionError("docketd sent something that is not a reply: " + reply.substr(0, 200));
  }
  return j;
}

}  // namespace docket::cli
