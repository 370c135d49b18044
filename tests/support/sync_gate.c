/* A latch for tests, loaded with LD_PRELOAD into the real docketd or docket.
 * While another process holds an exclusive flock on the file named by
 * $DOCKET_TEST_SYNC_GATE:
 *   - every fsync and fdatasync waits (and so every reply of docketd's, which
 *     waits for its batch's sync): a command "still being written" for as
 *     long as the test needs;
 *   - with $DOCKET_TEST_GATE_WRITES_TO naming a file, every pwrite to that
 *     file waits too (`docket backup` holds its snapshot of the database
 *     while it waits to write the first page of the copy).
 * A call about to wait first creates "$DOCKET_TEST_SYNC_GATE.waiting", so
 * the test waits for that event, never for time. Without the variables the
 * calls go straight through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static int enter_gate(void) {
  const char* path = getenv("DOCKET_TEST_SYNC_GATE");
  if (path == NULL || *path == '\0') return -1;
  int saved = errno;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    errno = saved;
    return -1;
  }
  if (flock(fd, LOCK_SH | LOCK_NB) != 0) {
    char waiting[PATH_MAX];
    snprintf(waiting, sizeof waiting, "%s.waiting", path);
    int w = open(waiting, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (w >= 0) close(w);
    while (flock(fd, LOCK_SH) != 0 && errno == EINTR) {
    }
  }
  errno = saved;
  return fd;
}

static void leave_gate(int fd) {
  if (fd < 0) return;
  int saved = errno;
  close(fd); /* releases the lock */
  errno = saved;
}

/* Whether `fd` is the file writes to which are held. */
static int gated_file(int fd) {
  const char* target = getenv("DOCKET_TEST_GATE_WRITES_TO");
  if (target == NULL || *target == '\0') return 0;
  int saved = errno;
  char link[64], name[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, name, sizeof name - 1);
  errno = saved;
  if (n <= 0) return 0;
  name[n] = '\0';
  return strcmp(name, target) == 0;
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

ssize_t pwrite64(int fd, const void* buf, size_t n, off64_t offset) {
  static ssize_t (*real)(int, const void*, size_t, off64_t) = NULL;
  if (real == NULL) real = (ssize_t(*)(int, const void*, size_t, off64_t))dlsym(RTLD_NEXT, "pwrite64");
  int gate = gated_file(fd) ? enter_gate() : -1;
  ssize_t r = real(fd, buf, n, offset);
  leave_gate(gate);
  return r;
}

ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) { return pwrite64(fd, buf, n, offset); }
