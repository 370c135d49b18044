#include "cli/client.h"

#include <cstdlib>

#include <boost/asio.hpp>
#include <toml++/toml.h>

#include "cli/commands.h"

namespace docket::cli {

namespace fs = std::filesystem;
namespace asio = boost::asio;

fs::path resolve_socket(const std::string& flag, const std::string& config_flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("DOCKET_SOCKET"); env != nullptr && *env != '\0') return env;
  fs::path dir = resolve_config_dir(config_flag);
  fs::path file = dir / "docketd.toml";
  try {
    auto t = toml::parse_file(file.string());
    if (auto s = t.at_path("daemon.socket").value<std::string>()) return (dir / *s).lexically_normal();
  } catch (const toml::parse_error&) {
    // Fall through to the default; `docket validate` explains the error.
  }
  return (dir / "../var/docketd.sock").lexically_normal();
}

nlohmann::json call(const fs::path& socket, const std::string& command, const nlohmann::json& args) {
  asio::io_context io;
  asio::local::stream_protocol::socket s(io);
  boost::system::error_code ec;
  s.connect(asio::local::stream_protocol::endpoint(socket.string()), ec);
  if (ec) {
    throw ConnectionError("cannot reach docketd on " + socket.string() + " (" + ec.message() +
                          "); is it running? Start it with `make run`, or give --socket PATH");
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
