// The power-cut recorder: a library loaded into the real docketd with
// LD_PRELOAD that journals every change docketd makes to the files of one
// directory, so that the test can rebuild what a disk could hold after a
// power cut at the moment docketd was killed (tests/support/powercut_disk.h).
//
// Only a recorder at the level of the C library sees all of it: SQLite writes
// through its VFS, but docketd syncs the log through a descriptor of its own
// (Store::sync_log). The journal's format is in powercut_journal.h.
//
//   DOCKET_POWERCUT_DIR  the directory watched (given to docketd under the
//                        same canonical path); its files, and the directory
//                        itself for fsync
//   DOCKET_POWERCUT_LOG  the journal, appended to
//
// Both are removed from the environment at start, so that a process docketd
// starts does not record too. Without them the library only passes calls on.
//
// Threads: a write at an offset is journalled under the lock as it starts
// and again with its result, and made outside it, so that a sync on another
// thread runs alongside it as without the recorder; a sync is journalled
// under the lock when it starts and again when it ends, so a write whose
// result comes before a sync's start had returned before that sync began.
// Other changes (writes at the descriptor's position, resizes, names, opens
// in the directory) hold the lock across the call, so that they are
// journalled in the order they happened. A descriptor's file is checked (device and inode) before each
// record, so a number reused behind the recorder's back (a close it did not
// see) is never taken for the file it once was.
//
// Nothing here allocates after start-up: a record is one writev(2) of a
// header and the caller's own buffers, so SIGKILL at any point leaves at
// worst a short last record, which the reader drops.
//
// Built without the sanitizers (it runs inside their interceptors); written
// as C in C++: no exceptions, no library beyond libc and libdl.

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tests/support/powercut_journal.h"

namespace {

using docket::testing::powercut::checksum_add;
using docket::testing::powercut::kAllFiles;
using docket::testing::powercut::kChecksumSeed;
using docket::testing::powercut::kDirectory;
using docket::testing::powercut::kRecordMagic;
using docket::testing::powercut::kSyncFailed;
using docket::testing::powercut::Record;
using docket::testing::powercut::RecordType;

constexpr int kMaxFds = 65536;
constexpr unsigned kMaxFiles = 256;
constexpr int kNameMax = 256;

// What a descriptor refers to: a file's number (from 1), kDirectory, or 0.
struct FdEntry {
  unsigned file;
  int flags;  // as opened (O_APPEND matters)
};

struct FileEntry {
  char name[kNameMax];
  bool named;  // still has that name (not removed, not renamed over)
  dev_t dev;
  ino_t ino;
};

FdEntry g_fds[kMaxFds];
FileEntry g_files[kMaxFiles + 1];  // [0] unused
unsigned g_file_count = 0;
char g_dir[PATH_MAX];
size_t g_dir_len = 0;
dev_t g_dir_dev = 0;
ino_t g_dir_ino = 0;
int g_journal = -1;
bool g_active = false;  // set once by the constructor
unsigned long long g_syncs = 0;
pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

struct Lock {
  Lock() { pthread_mutex_lock(&g_mu); }
  ~Lock() { pthread_mutex_unlock(&g_mu); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
};

// Keeps errno as the wrapped call left it, whatever the recording does.
struct KeepErrno {
  int saved = errno;
  ~KeepErrno() { errno = saved; }
};

bool active() { return __atomic_load_n(&g_active, __ATOMIC_ACQUIRE); }

// Says what went wrong on stderr (by system call: the write wrapper may be
// what is missing) and ends the process, so the test sees docketd fail.
[[noreturn]] void give_up(const char* why, int code) {
  static const char prefix[] = "powercut shim: ";
  syscall(SYS_write, 2, prefix, sizeof prefix - 1);
  syscall(SYS_write, 2, why, strlen(why));
  syscall(SYS_write, 2, "\n", 1);
  _exit(code);
}

// The next definition of a symbol after this library (the C library's, or a
// sanitizer's interceptor's when that comes first).
template <class F>
F next_symbol(F& slot, const char* name) {
  F f = __atomic_load_n(&slot, __ATOMIC_ACQUIRE);
  if (f == nullptr) {
    f = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
    if (f == nullptr) give_up(name, 70);
    __atomic_store_n(&slot, f, __ATOMIC_RELEASE);
  }
  return f;
}

#define DECLARE_REAL(fn, ...)  \
  using fn##_fn = __VA_ARGS__; \
  fn##_fn g_real_##fn = nullptr;
#define REAL(fn) next_symbol(g_real_##fn, #fn)

using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);
using Open2Fn = int (*)(const char*, int);
using Openat2Fn = int (*)(int, const char*, int);
using FcntlFn = int (*)(int, int, ...);
using PwriteFn = ssize_t (*)(int, const void*, size_t, off_t);
using PwritevFn = ssize_t (*)(int, const struct iovec*, int, off_t);
using Pwritev2Fn = ssize_t (*)(int, const struct iovec*, int, off_t, int);
using TruncateFn = int (*)(const char*, off_t);
using FtruncateFn = int (*)(int, off_t);
using FallocateFn = int (*)(int, int, off_t, off_t);
using PosixFallocateFn = int (*)(int, off_t, off_t);

DECLARE_REAL(open, OpenFn)
DECLARE_REAL(open64, OpenFn)
DECLARE_REAL(openat, OpenatFn)
DECLARE_REAL(openat64, OpenatFn)
DECLARE_REAL(__open_2, Open2Fn)
DECLARE_REAL(__open64_2, Open2Fn)
DECLARE_REAL(__openat_2, Openat2Fn)
DECLARE_REAL(__openat64_2, Openat2Fn)
DECLARE_REAL(creat, int (*)(const char*, mode_t))
DECLARE_REAL(creat64, int (*)(const char*, mode_t))
DECLARE_REAL(close, int (*)(int))
DECLARE_REAL(dup, int (*)(int))
DECLARE_REAL(dup2, int (*)(int, int))
DECLARE_REAL(dup3, int (*)(int, int, int))
DECLARE_REAL(fcntl, FcntlFn)
DECLARE_REAL(fcntl64, FcntlFn)
DECLARE_REAL(write, ssize_t (*)(int, const void*, size_t))
DECLARE_REAL(writev, ssize_t (*)(int, const struct iovec*, int))
DECLARE_REAL(pwrite, PwriteFn)
DECLARE_REAL(pwrite64, PwriteFn)
DECLARE_REAL(pwritev, PwritevFn)
DECLARE_REAL(pwritev64, PwritevFn)
DECLARE_REAL(pwritev2, Pwritev2Fn)
DECLARE_REAL(pwritev64v2, Pwritev2Fn)
DECLARE_REAL(truncate, TruncateFn)
DECLARE_REAL(truncate64, TruncateFn)
DECLARE_REAL(ftruncate, FtruncateFn)
DECLARE_REAL(ftruncate64, FtruncateFn)
DECLARE_REAL(fallocate, FallocateFn)
DECLARE_REAL(fallocate64, FallocateFn)
DECLARE_REAL(posix_fallocate, PosixFallocateFn)
DECLARE_REAL(posix_fallocate64, PosixFallocateFn)
DECLARE_REAL(fsync, int (*)(int))
DECLARE_REAL(fdatasync, int (*)(int))
DECLARE_REAL(sync, void (*)())
DECLARE_REAL(syncfs, int (*)(int))
DECLARE_REAL(unlink, int (*)(const char*))
DECLARE_REAL(link, int (*)(const char*, const char*))
DECLARE_REAL(linkat, int (*)(int, const char*, int, const char*, int))
DECLARE_REAL(unlinkat, int (*)(int, const char*, int))
DECLARE_REAL(remove, int (*)(const char*))
DECLARE_REAL(rename, int (*)(const char*, const char*))
DECLARE_REAL(renameat, int (*)(int, const char*, int, const char*))
DECLARE_REAL(renameat2, int (*)(int, const char*, int, const char*, unsigned))

// ---- the journal (callers hold g_mu) ----

void write_fully(struct iovec* v, int n) {
  while (n > 0) {
    ssize_t done = REAL(writev)(g_journal, v, n);
    if (done < 0) {
      if (errno == EINTR) continue;
      give_up("cannot append to the journal", 71);
    }
    while (n > 0 && static_cast<size_t>(done) >= v->iov_len) {
      done -= static_cast<ssize_t>(v->iov_len);
      ++v;
      --n;
    }
    if (n > 0) {
      v->iov_base = static_cast<char*>(v->iov_base) + done;
      v->iov_len -= static_cast<size_t>(done);
    }
  }
}

// A record whose payload is `parts` buffers one after the other.
constexpr int kMaxParts = 63;

void append(RecordType type, unsigned file, unsigned flags, unsigned long long offset, const struct iovec* parts,
            int count) {
  struct iovec v[kMaxParts + 1];
  Record r{kRecordMagic, static_cast<std::uint32_t>(type), file, flags, offset, 0, 0};
  unsigned long long length = 0;
  for (int i = 0; i < count; ++i) length += parts[i].iov_len;
  r.length = static_cast<std::uint32_t>(length);
  std::uint32_t h = checksum_add(kChecksumSeed, &r, sizeof r);
  for (int i = 0; i < count; ++i) h = checksum_add(h, parts[i].iov_base, parts[i].iov_len);
  r.checksum = h;
  v[0].iov_base = &r;
  v[0].iov_len = sizeof r;
  for (int i = 0; i < count; ++i) v[i + 1] = parts[i];
  write_fully(v, count + 1);
}

void append_text(RecordType type, unsigned file, const char* a, const char* b = nullptr) {
  struct iovec parts[3];
  int n = 0;
  parts[n].iov_base = const_cast<char*>(a);
  parts[n++].iov_len = strlen(a);
  if (b != nullptr) {
    static char nul = '\0';
    parts[n].iov_base = &nul;
    parts[n++].iov_len = 1;
    parts[n].iov_base = const_cast<char*>(b);
    parts[n++].iov_len = strlen(b);
  }
  append(type, file, 0, 0, parts, n);
}

void append_plain(RecordType type, unsigned file, unsigned flags, unsigned long long offset) {
  append(type, file, flags, offset, nullptr, 0);
}

// A change to a file's contents is journalled before the call (with the
// bytes, for a write) and its result after it: a change without a result was
// under way when docketd died, and may or may not have reached the file.
unsigned g_changes = 0;  // numbers changes, to pair each with its result

unsigned change(RecordType type, unsigned file, unsigned long long offset, const struct iovec* parts = nullptr,
                int count = 0) {
  const unsigned number = ++g_changes;
  append(type, file, number, offset, parts, count);
  return number;
}

// `result`: the bytes a write wrote, 1 for a resize done; 0 if it failed.
void change_done(unsigned file, unsigned number, unsigned long long result) {
  append(RecordType::done, file, number, result, nullptr, 0);
}

void change_made(RecordType type, unsigned file, unsigned long long offset) {
  change_done(file, change(type, file, offset), 1);
}

// ---- names and descriptors ----

// "/proc/self/fd/N" without printf.
void proc_fd_path(int fd, char* out) {
  static const char prefix[] = "/proc/self/fd/";
  memcpy(out, prefix, sizeof prefix);
  char digits[16];
  int n = 0;
  unsigned u = static_cast<unsigned>(fd);
  do {
    digits[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  char* p = out + sizeof prefix - 1;
  while (n > 0) *p++ = digits[--n];
  *p = '\0';
}

// Whether `full` (NUL-terminated) names an entry of the watched directory;
// its name goes to `name`.
bool entry_of_dir(const char* full, char* name) {
  if (strncmp(full, g_dir, g_dir_len) != 0 || full[g_dir_len] != '/') return false;
  const char* base = full + g_dir_len + 1;
  if (*base == '\0' || strchr(base, '/') != nullptr || strlen(base) >= kNameMax) return false;
  strcpy(name, base);
  return true;
}

// The name in the watched directory that `path` (relative to `dirfd`) would
// have, if it is in it. Paths are taken as spelled: the test gives docketd
// the directory's canonical path.
bool name_in_dir(int dirfd, const char* path, char* name) {
  char full[PATH_MAX];
  if (path[0] == '/') {
    if (strlen(path) >= sizeof full) return false;
    strcpy(full, path);
  } else {
    char link[64];
    if (dirfd == AT_FDCWD) {
      strcpy(link, "/proc/self/cwd");
    } else {
      proc_fd_path(dirfd, link);
    }
    ssize_t n = readlink(link, full, sizeof full - 1);
    if (n <= 0) return false;
    full[n] = '\0';
    const size_t path_len = strlen(path);
    if (static_cast<size_t>(n) + 1 + path_len >= sizeof full) return false;
    full[n] = '/';
    memcpy(full + n + 1, path, path_len + 1);
  }
  return entry_of_dir(full, name);
}

// Might this path be in the watched directory (so the open takes the lock)?
bool maybe_in_dir(int dirfd, const char* path) {
  if (path == nullptr) return false;
  if (path[0] != '/') return true;
  (void)dirfd;
  return strncmp(path, g_dir, g_dir_len) == 0 && (path[g_dir_len] == '/' || path[g_dir_len] == '\0');
}

unsigned file_named(const char* name) {
  for (unsigned i = 1; i <= g_file_count; ++i) {
    if (g_files[i].named && strcmp(g_files[i].name, name) == 0) return i;
  }
  return 0;
}

unsigned fd_file(int fd) {
  if (fd < 0 || fd >= kMaxFds) return 0;
  return __atomic_load_n(&g_fds[fd].file, __ATOMIC_ACQUIRE);
}

void set_fd(int fd, unsigned file, int flags) {
  if (fd < 0 || fd >= kMaxFds) return;
  g_fds[fd].flags = flags;
  __atomic_store_n(&g_fds[fd].file, file, __ATOMIC_RELEASE);
}

// The file `fd` refers to, checked against the file itself; 0 if none (and
// the stale entry is dropped). Under the lock.
unsigned checked_file(int fd) {
  const unsigned file = fd_file(fd);
  if (file == 0) return 0;
  struct stat st;
  if (fstat(fd, &st) != 0) return 0;
  const bool same = file == kDirectory ? st.st_dev == g_dir_dev && st.st_ino == g_dir_ino
                                       : st.st_dev == g_files[file].dev && st.st_ino == g_files[file].ino;
  if (!same) set_fd(fd, 0, 0);
  return same ? file : 0;
}

// After an open that returned `fd`: what it refers to. Under the lock.
void note_open(int fd, int flags, bool existed) {
  if (fd >= kMaxFds) {
    append_text(RecordType::unsupported, 0, "a descriptor beyond the recorder's table");
    return;
  }
  char link[64], full[PATH_MAX], name[kNameMax];
  proc_fd_path(fd, link);
  const ssize_t n = readlink(link, full, sizeof full - 1);
  if (n <= 0) {
    set_fd(fd, 0, 0);
    return;
  }
  full[n] = '\0';
  if (strcmp(full, g_dir) == 0) {
    set_fd(fd, kDirectory, flags);
    return;
  }
  if (!entry_of_dir(full, name)) {
    set_fd(fd, 0, 0);
    return;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    set_fd(fd, 0, 0);
    return;
  }
  unsigned file = file_named(name);
  if (file != 0 && (g_files[file].dev != st.st_dev || g_files[file].ino != st.st_ino)) {
    append_text(RecordType::unsupported, file, "a file replaced without a call the recorder saw: ", name);
    g_files[file].named = false;
    file = 0;
  }
  if (file == 0) {
    if (g_file_count == kMaxFiles) {
      append_text(RecordType::unsupported, 0, "more files than the recorder's table holds");
      set_fd(fd, 0, 0);
      return;
    }
    file = ++g_file_count;
    strcpy(g_files[file].name, name);
    g_files[file].named = true;
    g_files[file].dev = st.st_dev;
    g_files[file].ino = st.st_ino;
    append_text(existed ? RecordType::open : RecordType::create, file, name);
  }
  if ((flags & O_TRUNC) != 0 && existed && (flags & O_ACCMODE) != O_RDONLY) {
    change_made(RecordType::truncate, file, 0);
  }
  if ((flags & O_DSYNC) != 0 && (flags & O_ACCMODE) != O_RDONLY) {
    append_text(RecordType::unsupported, file, "opened for synchronous writes: ", name);
  }
  set_fd(fd, file, flags);
}

template <class Call>
int open_common(int dirfd, const char* path, int flags, Call call) {
  if (!active()) return call();
  if (!maybe_in_dir(dirfd, path)) {
    const int fd = call();
    if (fd >= 0) set_fd(fd, 0, 0);  // a number reused: whatever it was, it is not ours now
    return fd;
  }
  Lock lock;
  bool existed = true;
  if ((flags & O_CREAT) != 0) {
    struct stat st;
    existed = fstatat(dirfd, path, &st, 0) == 0;
  }
  const int fd = call();
  KeepErrno keep;
  if (fd >= 0) note_open(fd, flags, existed);
  return fd;
}

bool creates(int flags) {
#ifdef O_TMPFILE
  return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
#else
  return (flags & O_CREAT) != 0;
#endif
}

void copy_fd(int from, int to) {
  if (!active() || to < 0 || to >= kMaxFds) return;
  const unsigned file = fd_file(from);
  set_fd(to, file, file != 0 ? g_fds[from].flags : 0);
}

// ---- changes to a file's contents ----

bool appends(int fd) { return fd >= 0 && fd < kMaxFds && (g_fds[fd].flags & O_APPEND) != 0; }

// A write at the descriptor's position (write, writev, an O_APPEND file):
// its offset read before it, and the lock held across it.
template <class Call>
ssize_t positioned_write(int fd, Call call, const struct iovec* iov, int count) {
  Lock lock;
  const unsigned file = checked_file(fd);
  if (file == 0 || file == kDirectory) return call();
  if (count > kMaxParts) {
    append_text(RecordType::unsupported, file, "a write of more buffers than the recorder takes");
    return call();
  }
  struct stat st;
  const off_t at = appends(fd) ? (fstat(fd, &st) == 0 ? st.st_size : -1) : lseek(fd, 0, SEEK_CUR);
  if (at < 0) {
    append_text(RecordType::unsupported, file, "a write whose offset could not be read");
    return call();
  }
  const unsigned number = change(RecordType::write, file, static_cast<unsigned long long>(at), iov, count);
  const ssize_t done = call();
  KeepErrno keep;
  change_done(file, number, done > 0 ? static_cast<unsigned long long>(done) : 0);
  return done;
}

// A write at an offset: the lock is not held while it runs, so that a sync
// on another thread runs alongside it as it would without the recorder.
template <class Call>
ssize_t offset_write(int fd, off_t offset, Call call, const struct iovec* iov, int count) {
  if (!active() || fd_file(fd) == 0) return call();
  if (appends(fd) || offset < 0) return positioned_write(fd, call, iov, count);
  unsigned file, number;
  {
    Lock lock;
    file = checked_file(fd);
    if (file == 0 || file == kDirectory) return call();
    if (count > kMaxParts) {
      append_text(RecordType::unsupported, file, "a write of more buffers than the recorder takes");
      return call();
    }
    number = change(RecordType::write, file, static_cast<unsigned long long>(offset), iov, count);
  }
  const ssize_t done = call();
  KeepErrno keep;
  Lock lock;
  change_done(file, number, done > 0 ? static_cast<unsigned long long>(done) : 0);
  return done;
}

template <class Call>
int resize(int fd, RecordType type, unsigned long long size, Call call) {
  if (!active() || fd_file(fd) == 0) return call();
  Lock lock;
  const unsigned file = checked_file(fd);
  if (file == 0 || file == kDirectory) return call();
  const unsigned number = change(type, file, size);
  const int rc = call();
  KeepErrno keep;
  change_done(file, number, rc == 0 ? 1 : 0);
  return rc;
}

// ---- syncs ----

template <class Call>
int sync_of(unsigned file, Call call) {
  unsigned long long number;
  {
    Lock lock;
    number = ++g_syncs;
    append_plain(RecordType::sync_begin, file, 0, number);
  }
  const int rc = call();
  KeepErrno keep;
  Lock lock;
  append_plain(RecordType::sync_end, file, rc == 0 ? 0 : kSyncFailed, number);
  return rc;
}

template <class Call>
int fd_sync(int fd, Call call) {
  if (!active() || fd_file(fd) == 0) return call();
  unsigned file;
  {
    Lock lock;
    file = checked_file(fd);
  }
  if (file == 0) return call();
  return sync_of(file, call);
}

// ---- names ----

template <class Call>
int remove_name(int dirfd, const char* path, Call call) {
  if (!active() || !maybe_in_dir(dirfd, path)) return call();
  char name[kNameMax];
  Lock lock;
  const bool ours = name_in_dir(dirfd, path, name);
  const int rc = call();
  KeepErrno keep;
  if (rc == 0 && ours) {
    if (unsigned file = file_named(name); file != 0) g_files[file].named = false;
    append_text(RecordType::unlink, 0, name);
  }
  return rc;
}

template <class Call>
int rename_names(int olddirfd, const char* oldpath, int newdirfd, const char* newpath, Call call) {
  if (!active() || (!maybe_in_dir(olddirfd, oldpath) && !maybe_in_dir(newdirfd, newpath))) return call();
  char from[kNameMax], to[kNameMax];
  Lock lock;
  const bool from_ours = name_in_dir(olddirfd, oldpath, from);
  const bool to_ours = name_in_dir(newdirfd, newpath, to);
  const int rc = call();
  KeepErrno keep;
  if (rc != 0 || (!from_ours && !to_ours)) return rc;
  if (from_ours != to_ours) {
    append_text(RecordType::unsupported, 0, "a rename into or out of the directory: ", from_ours ? from : to);
    return rc;
  }
  if (unsigned replaced = file_named(to); replaced != 0) g_files[replaced].named = false;
  if (unsigned moved = file_named(from); moved != 0) strcpy(g_files[moved].name, to);
  append_text(RecordType::rename, 0, from, to);
  return rc;
}

// A hard link into the directory is not modelled: the test says so rather
// than miss a name.
template <class Call>
int link_name(int newdirfd, const char* newpath, Call call) {
  if (!active() || !maybe_in_dir(newdirfd, newpath)) return call();
  char to[kNameMax];
  Lock lock;
  const bool to_ours = name_in_dir(newdirfd, newpath, to);
  const int rc = call();
  KeepErrno keep;
  if (rc == 0 && to_ours) append_text(RecordType::unsupported, 0, "a hard link into the directory: ", to);
  return rc;
}

__attribute__((constructor)) void start_recording() {
  const char* dir = getenv("DOCKET_POWERCUT_DIR");
  const char* log = getenv("DOCKET_POWERCUT_LOG");
  if (dir == nullptr || log == nullptr) return;
  struct stat st;
  if (realpath(dir, g_dir) == nullptr || stat(g_dir, &st) != 0) give_up("DOCKET_POWERCUT_DIR is not a directory", 70);
  g_dir_len = strlen(g_dir);
  g_dir_dev = st.st_dev;
  g_dir_ino = st.st_ino;
  g_journal = REAL(open)(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (g_journal < 0) give_up("cannot open DOCKET_POWERCUT_LOG", 70);
  unsetenv("DOCKET_POWERCUT_DIR");
  unsetenv("DOCKET_POWERCUT_LOG");
  __atomic_store_n(&g_active, true, __ATOMIC_RELEASE);
}

mode_t mode_arg(int flags, va_list ap) { return creates(flags) ? static_cast<mode_t>(va_arg(ap, int)) : 0; }

}  // namespace

// ---- the interposed calls ----

extern "C" {

#define EXPORT __attribute__((visibility("default")))

EXPORT int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_common(AT_FDCWD, path, flags, [&] { return REAL(open)(path, flags, mode); });
}

EXPORT int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_common(AT_FDCWD, path, flags, [&] { return REAL(open64)(path, flags, mode); });
}

EXPORT int openat(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_common(dirfd, path, flags, [&] { return REAL(openat)(dirfd, path, flags, mode); });
}

EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  const mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return open_common(dirfd, path, flags, [&] { return REAL(openat64)(dirfd, path, flags, mode); });
}

EXPORT int __open_2(const char* path, int flags) {
  return open_common(AT_FDCWD, path, flags, [&] { return REAL(__open_2)(path, flags); });
}
EXPORT int __open64_2(const char* path, int flags) {
  return open_common(AT_FDCWD, path, flags, [&] { return REAL(__open64_2)(path, flags); });
}
EXPORT int __openat_2(int dirfd, const char* path, int flags) {
  return open_common(dirfd, path, flags, [&] { return REAL(__openat_2)(dirfd, path, flags); });
}
EXPORT int __openat64_2(int dirfd, const char* path, int flags) {
  return open_common(dirfd, path, flags, [&] { return REAL(__openat64_2)(dirfd, path, flags); });
}
EXPORT int creat(const char* path, mode_t mode) {
  return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, [&] { return REAL(creat)(path, mode); });
}
EXPORT int creat64(const char* path, mode_t mode) {
  return open_common(AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, [&] { return REAL(creat64)(path, mode); });
}

EXPORT int close(int fd) {
  if (active()) {
    if (fd == g_journal) {
      errno = EBADF;  // the journal stays open whatever the program closes
      return -1;
    }
    set_fd(fd, 0, 0);
  }
  return REAL(close)(fd);
}

EXPORT int dup(int fd) {
  const int r = REAL(dup)(fd);
  KeepErrno keep;
  if (r >= 0) copy_fd(fd, r);
  return r;
}

EXPORT int dup2(int fd, int to) {
  const int r = REAL(dup2)(fd, to);
  KeepErrno keep;
  if (r >= 0) copy_fd(fd, r);
  return r;
}

EXPORT int dup3(int fd, int to, int flags) {
  const int r = REAL(dup3)(fd, to, flags);
  KeepErrno keep;
  if (r >= 0) copy_fd(fd, r);
  return r;
}

// fcntl's third argument, when there is one, is an int or a pointer: passed
// on as a pointer-sized value, as the C library's own wrappers do.
EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  const int r = REAL(fcntl)(fd, cmd, arg);
  KeepErrno keep;
  if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) copy_fd(fd, r);
  return r;
}

EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  const int r = REAL(fcntl64)(fd, cmd, arg);
  KeepErrno keep;
  if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) copy_fd(fd, r);
  return r;
}

EXPORT ssize_t write(int fd, const void* buf, size_t n) {
  if (!active() || fd_file(fd) == 0) return REAL(write)(fd, buf, n);
  struct iovec part = {const_cast<void*>(buf), n};
  return positioned_write(
      fd, [&] { return REAL(write)(fd, buf, n); }, &part, 1);
}

EXPORT ssize_t writev(int fd, const struct iovec* iov, int count) {
  if (!active() || fd_file(fd) == 0) return REAL(writev)(fd, iov, count);
  return positioned_write(
      fd, [&] { return REAL(writev)(fd, iov, count); }, iov, count);
}

EXPORT ssize_t pwrite(int fd, const void* buf, size_t n, off_t offset) {
  struct iovec part = {const_cast<void*>(buf), n};
  return offset_write(
      fd, offset, [&] { return REAL(pwrite)(fd, buf, n, offset); }, &part, 1);
}

EXPORT ssize_t pwrite64(int fd, const void* buf, size_t n, off_t offset) {
  struct iovec part = {const_cast<void*>(buf), n};
  return offset_write(
      fd, offset, [&] { return REAL(pwrite64)(fd, buf, n, offset); }, &part, 1);
}

EXPORT ssize_t pwritev(int fd, const struct iovec* iov, int count, off_t offset) {
  return offset_write(
      fd, offset, [&] { return REAL(pwritev)(fd, iov, count, offset); }, iov, count);
}

EXPORT ssize_t pwritev64(int fd, const struct iovec* iov, int count, off_t offset) {
  return offset_write(
      fd, offset, [&] { return REAL(pwritev64)(fd, iov, count, offset); }, iov, count);
}

// pwritev2 with RWF_APPEND appends whatever the offset.
EXPORT ssize_t pwritev2(int fd, const struct iovec* iov, int count, off_t offset, int flags) {
  const off_t at = (flags & RWF_APPEND) != 0 ? -1 : offset;
  return offset_write(
      fd, at, [&] { return REAL(pwritev2)(fd, iov, count, offset, flags); }, iov, count);
}

EXPORT ssize_t pwritev64v2(int fd, const struct iovec* iov, int count, off_t offset, int flags) {
  const off_t at = (flags & RWF_APPEND) != 0 ? -1 : offset;
  return offset_write(
      fd, at, [&] { return REAL(pwritev64v2)(fd, iov, count, offset, flags); }, iov, count);
}

EXPORT int ftruncate(int fd, off_t size) {
  return resize(fd, RecordType::truncate, static_cast<unsigned long long>(size),
                [&] { return REAL(ftruncate)(fd, size); });
}

EXPORT int ftruncate64(int fd, off_t size) {
  return resize(fd, RecordType::truncate, static_cast<unsigned long long>(size),
                [&] { return REAL(ftruncate64)(fd, size); });
}

}  // extern "C"

namespace {

template <class Call>
int truncate_path(const char* path, off_t size, Call call) {
  if (!active() || !maybe_in_dir(AT_FDCWD, path)) return call();
  char name[kNameMax];
  Lock lock;
  const bool ours = name_in_dir(AT_FDCWD, path, name);
  const int rc = call();
  KeepErrno keep;
  if (rc == 0 && ours) {
    if (unsigned file = file_named(name); file != 0) {
      change_made(RecordType::truncate, file, static_cast<unsigned long long>(size));
    } else {
      append_text(RecordType::unsupported, 0, "a file truncated before it was opened: ", name);
    }
  }
  return rc;
}

// fallocate: a size change unless the size is kept; anything but a plain
// allocation changes contents the recorder does not model.
template <class Call>
int allocate(int fd, int mode, off_t offset, off_t length, Call call) {
  if ((mode & FALLOC_FL_KEEP_SIZE) != 0 && (mode & ~FALLOC_FL_KEEP_SIZE) == 0) return call();  // no change seen
  if ((mode & ~FALLOC_FL_KEEP_SIZE) != 0 && active() && fd_file(fd) != 0) {
    Lock lock;
    append_text(RecordType::unsupported, fd_file(fd), "fallocate that punches, zeroes or moves a range");
    return call();
  }
  return resize(fd, RecordType::extend, static_cast<unsigned long long>(offset + length), call);
}

}  // namespace

extern "C" {

EXPORT int truncate(const char* path, off_t size) {
  return truncate_path(path, size, [&] { return REAL(truncate)(path, size); });
}

EXPORT int truncate64(const char* path, off_t size) {
  return truncate_path(path, size, [&] { return REAL(truncate64)(path, size); });
}

EXPORT int fallocate(int fd, int mode, off_t offset, off_t length) {
  return allocate(fd, mode, offset, length, [&] { return REAL(fallocate)(fd, mode, offset, length); });
}

EXPORT int fallocate64(int fd, int mode, off_t offset, off_t length) {
  return allocate(fd, mode, offset, length, [&] { return REAL(fallocate64)(fd, mode, offset, length); });
}

// posix_fallocate returns an error number rather than setting errno.
EXPORT int posix_fallocate(int fd, off_t offset, off_t length) {
  return allocate(fd, 0, offset, length, [&] { return REAL(posix_fallocate)(fd, offset, length); });
}

EXPORT int posix_fallocate64(int fd, off_t offset, off_t length) {
  return allocate(fd, 0, offset, length, [&] { return REAL(posix_fallocate64)(fd, offset, length); });
}

EXPORT int fsync(int fd) {
  return fd_sync(fd, [&] { return REAL(fsync)(fd); });
}

EXPORT int fdatasync(int fd) {
  return fd_sync(fd, [&] { return REAL(fdatasync)(fd); });
}

EXPORT void sync() {
  if (!active()) return REAL(sync)();
  sync_of(kAllFiles, [] {
    REAL(sync)();
    return 0;
  });
}

EXPORT int syncfs(int fd) {
  if (!active()) return REAL(syncfs)(fd);
  return sync_of(kAllFiles, [&] { return REAL(syncfs)(fd); });
}

EXPORT int link(const char* from, const char* to) {
  return link_name(AT_FDCWD, to, [&] { return REAL(link)(from, to); });
}

EXPORT int linkat(int fromdir, const char* from, int todir, const char* to, int flags) {
  return link_name(todir, to, [&] { return REAL(linkat)(fromdir, from, todir, to, flags); });
}

EXPORT int unlink(const char* path) {
  return remove_name(AT_FDCWD, path, [&] { return REAL(unlink)(path); });
}

EXPORT int unlinkat(int dirfd, const char* path, int flags) {
  return remove_name(dirfd, path, [&] { return REAL(unlinkat)(dirfd, path, flags); });
}

EXPORT int remove(const char* path) {
  return remove_name(AT_FDCWD, path, [&] { return REAL(remove)(path); });
}

EXPORT int rename(const char* from, const char* to) {
  return rename_names(AT_FDCWD, from, AT_FDCWD, to, [&] { return REAL(rename)(from, to); });
}

EXPORT int renameat(int fromdir, const char* from, int todir, const char* to) {
  return rename_names(fromdir, from, todir, to, [&] { return REAL(renameat)(fromdir, from, todir, to); });
}

EXPORT int renameat2(int fromdir, const char* from, int todir, const char* to, unsigned flags) {
  if (active() && (flags & RENAME_EXCHANGE) != 0 && (maybe_in_dir(fromdir, from) || maybe_in_dir(todir, to))) {
    Lock lock;
    append_text(RecordType::unsupported, 0, "renameat2 with RENAME_EXCHANGE");
  }
  return rename_names(fromdir, from, todir, to, [&] { return REAL(renameat2)(fromdir, from, todir, to, flags); });
}

}  // extern "C"
