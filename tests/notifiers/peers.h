#pragma once
// Real peers on loopback for the notifier tests: the SMTP and HTTP servers in
// tests/notifiers/*.py run by Debian's python3, a self-signed certificate made
// here with libcrypto, and ports where nobody answers. Every wait is a
// bounded poll.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <toml++/toml.h>

#include "notifiers/registry.h"
#include "tests/support/process.h"

namespace docket::notifiers::testing {

using docket::testing::Process;
using docket::testing::slurp;
using docket::testing::TempDir;
namespace fs = std::filesystem;

inline std::string python3() { return DOCKET_PYTHON3; }
inline fs::path script(const std::string& name) { return fs::path(DOCKET_SOURCE_DIR) / "tests" / "notifiers" / name; }

using docket::testing::eventually;

// A self-signed certificate for 127.0.0.1 and localhost (EC P-256), usable as
// its own trust anchor through ca_file.
struct Certificate {
  fs::path cert;
  fs::path key;
};

inline Certificate make_certificate(const fs::path& dir) {
  auto fail = [](const char* what) { throw std::runtime_error(std::string("test certificate: ") + what); };
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (key == nullptr) fail("EVP_EC_gen");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 20260305);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("docket test peer"), -1,
                             -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : std::vector<std::pair<int, const char*>>{
           {NID_basic_constraints, "critical,CA:TRUE"},
           {NID_key_usage, "critical,digitalSignature,keyCertSign"},
           {NID_ext_key_usage, "serverAuth"},
           {NID_subject_key_identifier, "hash"},
           {NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) fail("extension");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, key, EVP_sha256()) == 0) fail("X509_sign");
  Certificate c{dir / "peer-cert.pem", dir / "peer-key.pem"};
  FILE* f = std::fopen(c.cert.c_str(), "w");
  if (f == nullptr) fail("open cert");
  PEM_write_X509(f, x);
  std::fclose(f);
  f = std::fopen(c.key.c_str(), "w");
  if (f == nullptr) fail("open key");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
  return c;
}

// A loopback port held for the object's life, so that no other process can
// take it meanwhile. Bound and never listened on, a connection to it is
// refused at once, as by a server that is down (ClosedPort); listened on and
// never accepted, a connection completes in the kernel and then hears
// nothing, like a wedged server (SilentListener).
class HeldPort {
 public:
  enum class Listen { no, yes };
  explicit HeldPort(Listen listen) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||  // NOLINT: the sockets API
        (listen == Listen::yes && ::listen(fd_, 8) != 0) ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {  // NOLINT
      throw std::runtime_error("HeldPort: cannot bind a loopback port");
    }
    port_ = ntohs(a.sin_port);
  }
  ~HeldPort() { ::close(fd_); }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

struct ClosedPort : HeldPort {
  ClosedPort() : HeldPort(Listen::no) {}
};
struct SilentListener : HeldPort {
  SilentListener() : HeldPort(Listen::yes) {}
};

// One of the Python servers, running until the object goes away. The
// received messages land in dir()/received/.
class PythonPeer {
 public:
  PythonPeer(const std::string& script_name, std::vector<std::string> args) {
    fs::create_directories(received());
    std::vector<std::string> argv{python3(), script(script_name).string(), "--out", received().string(),
                                  "--port-file", (dir_.path() / "port").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    process_.emplace(argv, dir_.path() / "peer.log", dir_.path() / "peer.log");
    const bool up = eventually([&] { return fs::exists(dir_.path() / "port") || !process_->running(); },
                               docket::testing::kPatience);
    if (!up || !fs::exists(dir_.path() / "port")) {
      throw std::runtime_error(script_name + " did not start: " + slurp(dir_.path() / "peer.log"));
    }
    port_ = std::stoi(slurp(dir_.path() / "port"));
  }
  ~PythonPeer() {
    if (process_ && process_->running()) {
      process_->signal(SIGTERM);
      if (!process_->wait(docket::testing::kPatience)) process_->kill_now();
    }
  }
  PythonPeer(const PythonPeer&) = delete;
  PythonPeer& operator=(const PythonPeer&) = delete;

  int port() const { return port_; }
  // A peer started with --down begins listening (smtp_server.py); returns
  // once it does.
  void come_up() {
    process_->signal(SIGUSR1);
    const fs::path up = dir_.path() / "port.up";
    if (!eventually([&] { return fs::exists(up) || !process_->running(); }) || !fs::exists(up)) {
      throw std::runtime_error("the peer did not come up: " + log());
    }
  }
  fs::path received() const { return dir_.path() / "received"; }
  std::string log() const { return slurp(dir_.path() / "peer.log"); }
  bool running() { return process_->running(); }

  // How many records (N.json) have arrived.
  std::size_t count() const {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(received())) n += e.path().extension() == ".json";
    return n;
  }
  nlohmann::json record(int n) const { return nlohmann::json::parse(slurp(received() / (std::to_string(n) + ".json"))); }
  std::string raw(int n, const std::string& ext) const { return slurp(received() / (std::to_string(n) + ext)); }

 private:
  TempDir dir_;
  std::optional<Process> process_;
  int port_ = 0;
};

// Loads one channel from TOML text the way the daemon will.
struct Loaded {
  std::optional<Channel> channel;
  std::vector<std::string> errors;  // formatted file:line:col: message
};

inline Loaded load_channel(const std::string& toml_text, const fs::path& dir = fs::current_path(),
                           std::vector<std::string> placeholders = {"reference", "stage", "due_date", "days_left",
                                                                    "role", "link"}) {
  Registry registry;
  register_builtin_notifiers(registry);
  Loaded out;
  toml::table doc = toml::parse(std::string_view(toml_text), std::string_view("docketd.toml"));
  SettingsContext ctx;
  ctx.file = "docketd.toml";
  ctx.dir = dir;
  ctx.placeholders = std::move(placeholders);
  Diagnostics diags;
  const toml::table* channels = doc["channels"].as_table();
  if (channels == nullptr || channels->size() != 1) throw std::invalid_argument("load_channel: one [channels.X]");
  for (auto&& [name, node] : *channels) {
    out.channel = registry.load(std::string(name.str()), *node.as_table(), ctx, diags);
  }
  for (const auto& d : diags.sorted()) out.errors.push_back(workflows::format(d));
  return out;
}

}  // namespace docket::notifiers::testing
