/* A latch on docketd's syncs, for tests: loaded with LD_PRELOAD into the real
 * docketd, fsync and fdatasync take a shared flock on the file named by
 * $DOCKET_TEST_SYNC_GATE first. A test that holds an exclusive flock on that
 * file holds every sync (and so every reply, which waits for its batch's
 * sync) until it lets go: a command that is "still being written" for as
 * long as the test needs, on any machine, without a hook in docketd itself.
 * Without the variable the calls go straight through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

static int enter_gate(void) {
  const char* path = getenv("DOCKET_TEST_SYNC_GATE");
  if (path == NULL || *path == '\0') return -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  while (flock(fd, LOCK_SH) != 0 && errno == EINTR) {
  }
  return fd;
}

static void leave_gate(int fd) {
  if (fd < 0) return;
  int saved = errno;
  close(fd); /* releases the lock */
  errno = saved;
}

int fdatasync(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  int gate = enter_gate();
  int r = real(fd);
  leave_gate(gate);
  return r;
}

int fsync(int fd) {
  static int (*real)(int) = NULL;
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  int gate = enter_gate();
  int r = real(fd);
  leave_gate(gate);
  return r;
}
