// The shipped unit passes `systemd-analyze verify`, rates 2.0 or lower on
// `systemd-analyze security` (offline, as on an operator's machine before
// it runs), says what the operations issue asks of it, and its sysusers.d
// file makes the docket account and group.

#include <gtest/gtest.h>

#include <map>
#include <regex>

#include "tests/support/daemon.h"

namespace docket::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::optional<fs::path> find_tool(const std::string& name) {
  for (const char* dir : {"/usr/bin", "/bin", "/usr/sbin", "/sbin"}) {
    fs::path p = fs::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return std::nullopt;
}

// The unit as installed, but running the binaries of this build.
fs::path unit_copy(const TempDir& tmp) {
  std::string unit = slurp(source_dir() / "systemd" / "docketd.service");
  const std::string from = "/usr/bin/docketd";
  for (auto at = unit.find(from); at != std::string::npos; at = unit.find(from, at)) {
    unit.replace(at, from.size(), kDocketd.string());
    at += kDocketd.string().size();
  }
  const fs::path p = tmp.path() / "docketd.service";
  std::ofstream(p) << unit;
  return p;
}

// Key=value lines of the unit; a key given twice keeps both, joined by '\n'.
std::map<std::string, std::string> settings(const std::string& unit) {
  std::map<std::string, std::string> out;
  std::istringstream in(unit);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    auto& v = out[line.substr(0, eq)];
    v += (v.empty() ? "" : "\n") + line.substr(eq + 1);
  }
  return out;
}

TEST(SystemdUnit, SaysWhatTheServiceNeeds) {
  auto s = settings(slurp(source_dir() / "systemd" / "docketd.service"));
  EXPECT_EQ(s["Type"], "notify");
  EXPECT_FALSE(s["WatchdogSec"].empty());
  EXPECT_EQ(s["ExecReload"], "/bin/kill -HUP $MAINPID");
  EXPECT_EQ(s["Restart"], "on-failure");
  EXPECT_EQ(s["StartLimitBurst"], "5") << "a broken configuration must not restart forever";
  EXPECT_FALSE(s["StartLimitIntervalSec"].empty());
  EXPECT_EQ(s["User"], "docket");
  EXPECT_EQ(s["StateDirectory"], "docket");
  EXPECT_EQ(s["RuntimeDirectory"], "docket");
  EXPECT_EQ(s["ConfigurationDirectory"], "docket");
  EXPECT_EQ(s["UMask"], "0077");
  EXPECT_EQ(s["ProtectSystem"], "strict");
  EXPECT_EQ(s["NoNewPrivileges"], "yes");
  EXPECT_EQ(s["CapabilityBoundingSet"], "");
  EXPECT_EQ(s["RestrictAddressFamilies"], "AF_UNIX AF_INET AF_INET6");
  EXPECT_TRUE(s["SystemCallFilter"].starts_with("@system-service"));
  // Peer credentials on the socket name the caller; a private user namespace
  // would map every caller to nobody.
  EXPECT_TRUE(s["PrivateUsers"].empty() || s["PrivateUsers"] == "no");
}

TEST(SystemdUnit, VerifiesAndRatesTwoOrLowerOnSecurity) {
  auto analyze = find_tool("systemd-analyze");
  if (!analyze) GTEST_SKIP() << "systemd-analyze is not installed";
  TempDir tmp;
  const fs::path unit = unit_copy(tmp);

  auto verify = run_command({analyze->string(), "verify", "--man=no", unit.string()}, tmp.path(), 60s);
  EXPECT_EQ(verify.code, 0) << verify.how << "\n" << verify.out << verify.err;
  EXPECT_EQ((verify.out + verify.err).find("docketd.service:"), std::string::npos) << verify.out << verify.err;

  // --threshold is on the scale of 0 to 100: 20 is an exposure of 2.0.
  auto security = run_command(
      {analyze->string(), "security", "--offline=true", "--threshold=20", "--no-pager", unit.string()}, tmp.path(),
      60s);
  EXPECT_EQ(security.code, 0) << security.how << "\n" << security.out << security.err;
  std::smatch m;
  const std::string text = security.out + security.err;
  ASSERT_TRUE(std::regex_search(text, m, std::regex(R"(Overall exposure level for docketd\.service: ([0-9.]+))")))
      << text;
  EXPECT_LE(std::stod(m[1].str()), 2.0) << text;
}

TEST(SystemdUnit, SysusersMakesTheDocketUserAndGroup) {
  auto sysusers = find_tool("systemd-sysusers");
  if (!sysusers) GTEST_SKIP() << "systemd-sysusers is not installed";
  TempDir root;
  fs::create_directories(root.path() / "etc");
  auto r = run_command({sysusers->string(), "--root=" + root.path().string(),
                        (source_dir() / "systemd" / "docket.sysusers").string()},
                       root.path(), 60s);
  ASSERT_EQ(r.code, 0) << r.how << "\n" << r.out << r.err;
  const std::string passwd = slurp(root.path() / "etc" / "passwd");
  const std::string group = slurp(root.path() / "etc" / "group");
  EXPECT_NE(passwd.find("docket:x:"), std::string::npos) << passwd;
  EXPECT_NE(passwd.find(":/var/lib/docket:"), std::string::npos) << passwd;
  EXPECT_NE(group.find("docket:x:"), std::string::npos) << group;
}

}  // namespace
}  // namespace docket::testing
