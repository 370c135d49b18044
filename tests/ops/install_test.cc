// `cmake --install` into a scratch root (DESTDIR): the executables, the
// configuration with installed paths, the unit and the sysusers file; a
// second install keeps what an operator edited.

#include <gtest/gtest.h>

#include "tests/support/daemon.h"

namespace docket::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

RunResult install_into(const TempDir& root) {
  ScopedEnv env({{"DESTDIR", root.path().string()}});
  return run_command({DOCKET_CMAKE_COMMAND, "--install", DOCKET_BINARY_DIR, "--prefix", "/usr"}, root.path(), 120s);
}

TEST(Install, PutsEverythingWhereADebianServerExpectsItAndKeepsEditedConfiguration) {
  TempDir root;
  auto first = install_into(root);
  ASSERT_EQ(first.code, 0) << first.how << "\n" << first.out << first.err;
  const fs::path r = root.path();
  EXPECT_TRUE(fs::exists(r / "usr/bin/docketd"));
  EXPECT_TRUE(fs::exists(r / "usr/bin/docket"));
  EXPECT_TRUE(fs::exists(r / "usr/lib/sysusers.d/docket.conf"));
  const fs::path unit = r / "lib/systemd/system/docketd.service";
  ASSERT_TRUE(fs::exists(unit)) << first.out;
  EXPECT_NE(slurp(unit).find("ExecStart=/usr/bin/docketd --config /etc/docket"), std::string::npos) << slurp(unit);

  const fs::path etc = r / "etc/docket";
  const std::string daemon_toml = slurp(etc / "docketd.toml");
  EXPECT_NE(daemon_toml.find("\"/var/lib/docket/docket.db\""), std::string::npos) << daemon_toml;
  EXPECT_NE(daemon_toml.find("\"/run/docket/docketd.sock\""), std::string::npos) << daemon_toml;
  EXPECT_TRUE(fs::exists(etc / "directory.toml"));
  EXPECT_TRUE(fs::exists(etc / "calendars/england-and-wales.toml"));
  EXPECT_TRUE(fs::exists(etc / "workflows/rapid-review.toml"));
  auto check = run_command({kDocketd.string(), "--config", etc.string(), "--check-config"}, r, 60s);
  EXPECT_EQ(check.code, 0) << check.out << check.err;

  // An operator edits a file and removes another; a reinstall (an upgrade)
  // keeps the edit and puts back only what is missing.
  std::ofstream(etc / "directory.toml", std::ios::app) << "\n# edited by the operator\n";
  const std::string edited = slurp(etc / "directory.toml");
  fs::remove(etc / "workflows/sar.toml");
  auto second = install_into(root);
  ASSERT_EQ(second.code, 0) << second.out << second.err;
  EXPECT_EQ(slurp(etc / "directory.toml"), edited);
  EXPECT_TRUE(fs::exists(etc / "workflows/sar.toml"));
  EXPECT_NE(second.out.find("Kept (already present): " + (etc / "directory.toml").string()), std::string::npos)
      << second.out;
}

}  // namespace
}  // namespace docket::testing
