// docketd's journald sink: the structured fields of each entry, and when
// stderr counts as the journal; the control socket's permissions under the
// unit's system call filter.

#include <gtest/gtest.h>

#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "daemon/systemd.h"
#include "tests/support/process.h"

namespace docket::daemon {
namespace {

bool has(const std::vector<std::string>& fields, const std::string& f) {
  return std::find(fields.begin(), fields.end(), f) != fields.end();
}

TEST(Journal, EventReferenceAndStageBecomeFields) {
  auto f = journal_fields("deadline.overdue ref=RR-2026-014 stage=publish late=false", 4);
  EXPECT_TRUE(has(f, "MESSAGE=deadline.overdue ref=RR-2026-014 stage=publish late=false"));
  EXPECT_TRUE(has(f, "PRIORITY=4"));
  EXPECT_TRUE(has(f, "SYSLOG_IDENTIFIER=docketd"));
  EXPECT_TRUE(has(f, "EVENT=deadline.overdue"));
  EXPECT_TRUE(has(f, "REF=RR-2026-014"));
  EXPECT_TRUE(has(f, "STAGE=publish"));
  EXPECT_EQ(f.size(), 6u);
}

TEST(Journal, OnlyAFirstWordWithADotIsAnEvent) {
  auto f = journal_fields("docketd: cannot open ref=", 3);
  EXPECT_FALSE(std::any_of(f.begin(), f.end(), [](const std::string& s) { return s.starts_with("EVENT="); }));
  EXPECT_FALSE(std::any_of(f.begin(), f.end(), [](const std::string& s) { return s.starts_with("REF="); }))
      << "an empty value is no field";
  auto g = journal_fields("notify.delivered channel=log key=k ref=@executive/2026-06-09 stage=papers", 6);
  EXPECT_TRUE(has(g, "EVENT=notify.delivered"));
  EXPECT_TRUE(has(g, "REF=@executive/2026-06-09"));
  EXPECT_TRUE(has(g, "STAGE=papers"));
}

TEST(Journal, TheSinkSendsOneEntryPerLineWithSyslogPriorities) {
  std::vector<std::vector<std::string>> sent;
  auto sink = std::make_shared<JournalSink>([&](const std::vector<std::string>& f) { sent.push_back(f); });
  spdlog::logger log("journal-test", sink);
  log.set_level(spdlog::level::debug);
  log.info("review.started ref={} stage={}", "RR-1", "rapid-review");
  log.warn("access.refused uid={}", 1000);
  log.error("store.commit failed");
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_TRUE(has(sent[0], "PRIORITY=6"));
  EXPECT_TRUE(has(sent[0], "REF=RR-1"));
  EXPECT_TRUE(has(sent[0], "STAGE=rapid-review"));
  EXPECT_TRUE(has(sent[1], "PRIORITY=4"));
  EXPECT_TRUE(has(sent[1], "EVENT=access.refused"));
  EXPECT_TRUE(has(sent[2], "PRIORITY=3"));
  EXPECT_TRUE(has(sent[2], "MESSAGE=store.commit failed"));
}

TEST(Journal, StderrIsTheJournalOnlyWhenJournalStreamNamesIt) {
  struct stat st {};
  ASSERT_EQ(::fstat(STDERR_FILENO, &st), 0);
  const char* old = std::getenv("JOURNAL_STREAM");
  const std::string saved = old != nullptr ? old : "";
  ::unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(stderr_is_journal());
  ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino)).c_str(), 1);
  EXPECT_TRUE(stderr_is_journal());
  ::setenv("JOURNAL_STREAM", (std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino + 1)).c_str(), 1);
  EXPECT_FALSE(stderr_is_journal()) << "a stream inherited from elsewhere is not ours";
  ::setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(stderr_is_journal());
  if (old != nullptr) {
    ::setenv("JOURNAL_STREAM", saved.c_str(), 1);
  } else {
    ::unsetenv("JOURNAL_STREAM");
  }
}

#if defined(__x86_64__) || defined(__aarch64__)
// What docketd.service's SystemCallFilter=~@privileged with
// SystemCallErrorNumber=EPERM does to the chown family, for this process:
// each call fails with EPERM.
bool refuse_chown_like_the_unit() {
#if defined(__x86_64__)
  constexpr std::uint32_t arch = AUDIT_ARCH_X86_64;
  const std::vector<long> calls{SYS_chown, SYS_fchown, SYS_lchown, SYS_fchownat};
#else
  constexpr std::uint32_t arch = AUDIT_ARCH_AARCH64;
  const std::vector<long> calls{SYS_fchown, SYS_fchownat};
#endif
  std::vector<sock_filter> f{
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arch, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
  };
  for (long nr : calls) {
    f.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<std::uint32_t>(nr), 0, 1));
    f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)));
  }
  f.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  sock_fprog prog{static_cast<unsigned short>(f.size()), f.data()};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

// Under systemd docketd runs with Group=docket, so the socket it binds is
// the group's already, and chown is refused by the unit's filter: asking for
// it anyway put a warning in the journal at every start.
TEST(Socket, AlreadyTheGroupsUnderTheUnitsFilterNoChownNoWarning) {
  docket::testing::TempDir tmp;
  const std::filesystem::path sock = tmp.path() / "d.sock";
  int fd = docket::testing::bind_unix(sock);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  struct stat st {};
  ASSERT_EQ(::stat(sock.c_str(), &st), 0);
  const group* g = ::getgrgid(st.st_gid);
  if (g == nullptr) GTEST_SKIP() << "the socket's group " << st.st_gid << " has no name";
  const std::string group_name = g->gr_name;

  // In a child: the filter cannot be taken off again.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!refuse_chown_like_the_unit()) ::_exit(10);
    if (::chown(sock.c_str(), static_cast<uid_t>(-1), st.st_gid) == 0 || errno != EPERM) ::_exit(11);
    std::ostringstream log;
    auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_st>(log));
    spdlog::set_default_logger(logger);
    secure_socket(sock, group_name);
    struct stat after {};
    if (::stat(sock.c_str(), &after) != 0 || (after.st_mode & 0777) != 0660) ::_exit(12);
    ::_exit(log.str().find("socket.permissions") == std::string::npos ? 0 : 13);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ::close(fd);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 10) << "could not install the seccomp filter";
  EXPECT_NE(WEXITSTATUS(status), 11) << "the filter did not refuse chown";
  EXPECT_NE(WEXITSTATUS(status), 12) << "the socket is not mode 0660";
  EXPECT_NE(WEXITSTATUS(status), 13) << "secure_socket tried chown and warned";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}
#endif

}  // namespace
}  // namespace docket::daemon
