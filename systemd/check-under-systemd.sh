#!/usr/bin/env bash
# A manual check, not part of `make test`: installs docket as the README's
# "Install on a Debian server" says, runs it under a real systemd, checks what
# issue 7 asks (the service runs hardened as `docket` with an exposure of 2.0
# or less, a member of the group `docket` uses it, the audit trail checked
# against its published head, backup and restore
# round-trip, a broken reload keeps it running and says why, stop exits 0,
# the watchdog is fed and does restart a stalled loop), then removes
# everything it installed.
#
#   sudo systemd/check-under-systemd.sh [BUILD_DIR]     (default: build)
#
# As root on Debian 12 with systemd installed, after `make build`. Where
# systemd is PID 1 it uses that systemd; elsewhere (a container, a VM whose
# init is something else) it boots systemd as PID 1 of new PID, mount, UTS,
# IPC and cgroup namespaces, with its own /run, /tmp and /dev, /sys and
# /proc/sys read-only and a cgroup2 hierarchy of its own, and stops it again
# at the end. It refuses to run where docket is installed already (the
# binaries, /etc/docket, /var/lib/docket, the unit, the docket user or
# group), since it removes all of those when it is done.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE="$(dirname "$HERE")"
TEST_USER=docket-check
NS_ENV=docket-check   # the container= value systemd sees in the namespace

# ---------------------------------------------------------------------------
# PID 1 of the namespaces: make the mounts a systemd in a container expects,
# then become systemd. Runs via unshare from boot_systemd below.
if [[ "${1:-}" == "--pid1" ]]; then
  set -e
  work="$2"
  mount --make-rprivate /
  mount -t proc proc /proc
  mount --bind /proc/sys /proc/sys
  mount -o remount,bind,ro /proc/sys
  umount -R /sys/fs/cgroup 2>/dev/null || true
  mount -o remount,bind,ro,nosuid,nodev,noexec /sys
  mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
  mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
  mount -t tmpfs -o mode=755,nosuid tmpfs /dev
  for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
    set -- $n
    mknod -m 666 "/dev/$1" c "$2" "$3"
  done
  mkdir /dev/pts /dev/shm /dev/mqueue
  mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts
  ln -s pts/ptmx /dev/ptmx
  mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
  mount -t mqueue mqueue /dev/mqueue
  ln -s /proc/self/fd /dev/fd
  ln -s /proc/self/fd/0 /dev/stdin
  ln -s /proc/self/fd/1 /dev/stdout
  ln -s /proc/self/fd/2 /dev/stderr
  : >"$work/console.log"
  touch /dev/console
  mount --bind "$work/console.log" /dev/console
  mkdir -p /run/systemd/system
  cat >/run/systemd/system/docket-check.target <<'EOF'
[Unit]
Description=docket check under systemd (a minimal boot: the journal and what docketd pulls in)
Wants=systemd-journald.service systemd-journald.socket
EOF
  # Nothing that would reach outside the namespaces (kernel settings, udev,
  # the clock, /var/tmp clean-up, timers that run apt) or is real-boot work.
  for u in systemd-tmpfiles-setup.service systemd-tmpfiles-setup-dev.service systemd-tmpfiles-clean.timer \
    systemd-binfmt.service proc-sys-fs-binfmt_misc.automount systemd-sysctl.service systemd-modules-load.service \
    kmod-static-nodes.service systemd-timesyncd.service systemd-pstore.service systemd-random-seed.service \
    systemd-update-utmp.service systemd-journal-flush.service systemd-sysusers.service systemd-firstboot.service \
    systemd-machine-id-commit.service systemd-repart.service systemd-remount-fs.service systemd-udevd.service \
    systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service \
    systemd-udevd-control.socket systemd-udevd-kernel.socket systemd-pcrphase.service \
    systemd-pcrphase-sysinit.service sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
    sys-fs-fuse-connections.mount dev-hugepages.mount systemd-journald-audit.socket timers.target getty.target \
    console-getty.service remote-fs.target cryptsetup.target veritysetup.target integritysetup.target \
    systemd-ask-password-console.path systemd-ask-password-wall.path swap.target apparmor.service \
    systemd-update-done.service ldconfig.service systemd-journal-catalog-update.service; do
    ln -sf /dev/null "/run/systemd/system/$u"
  done
  export container="$NS_ENV"
  exec /lib/systemd/systemd --system --unit=docket-check.target --log-target=journal
fi

# ---------------------------------------------------------------------------
BUILD="$(cd "${1:-$SOURCE/build}" 2>/dev/null && pwd)" || { echo "no build directory ${1:-$SOURCE/build}" >&2; exit 2; }
[[ $EUID -eq 0 ]] || { echo "run as root" >&2; exit 2; }
[[ -x "$BUILD/bin/docketd" && -x "$BUILD/bin/docket" ]] || { echo "build first: $BUILD/bin/docketd is missing" >&2; exit 2; }
[[ -x /lib/systemd/systemd ]] || { echo "systemd is not installed" >&2; exit 2; }

UNIT_DIR="$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || true)"
UNIT_DIR="${UNIT_DIR:-/lib/systemd/system}"
present=()
for p in /usr/bin/docket /usr/bin/docketd /etc/docket /var/lib/docket "$UNIT_DIR/docketd.service" \
  /usr/lib/sysusers.d/docket.conf; do
  [[ -e "$p" ]] && present+=("$p")
done
getent passwd docket >/dev/null && present+=("user docket")
getent group docket >/dev/null && present+=("group docket")
getent passwd "$TEST_USER" >/dev/null && present+=("user $TEST_USER")
if ((${#present[@]})); then
  echo "docket is installed here already (${present[*]}); this check installs and removes it, so it stops" >&2
  exit 2
fi

WORK="$(mktemp -d /var/tmp/docket-check.XXXXXX)"
SD_PID=""
CGROUP=""
failures=0
ok() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }
step() { printf '\n== %s\n' "$*"; }

if [[ "$(cat /proc/1/comm)" == systemd && -d /run/systemd/system ]]; then
  MODE=host
  inside() { (cd / && env -u DOCKET_CONFIG -u DOCKET_SOCKET "$@"); }
else
  MODE=namespace
  inside() { nsenter -t "$SD_PID" -m -u -i -p -C --wd=/ -- env -u DOCKET_CONFIG -u DOCKET_SOCKET "$@"; }
fi
as_user() { inside runuser -u "$TEST_USER" -- "$@"; }
prop() { inside systemctl show docketd -p "$1" --value; }

boot_systemd() {
  local unified
  if [[ "$(stat -f -c %T /sys/fs/cgroup)" == cgroup2fs ]]; then
    unified=/sys/fs/cgroup
  elif [[ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" == cgroup2fs ]]; then
    unified=/sys/fs/cgroup/unified
  else
    echo "no cgroup2 hierarchy (neither /sys/fs/cgroup nor /sys/fs/cgroup/unified): systemd cannot be booted here" >&2
    return 1
  fi
  CGROUP="$unified/docket-check-$$"
  mkdir "$CGROUP" || return 1
  # The subshell moves itself into the new cgroup, which becomes the root of
  # the cgroup namespace systemd sees.
  bash -c 'echo $$ >"$1/cgroup.procs" && exec unshare --cgroup --pid --fork --mount --uts --ipc \
      --propagation private --kill-child "$2" --pid1 "$3"' _ "$CGROUP" "$HERE/$(basename "$0")" "$WORK" \
    </dev/null >"$WORK/boot.log" 2>&1 &
  local unshare_pid=$! i
  for i in $(seq 1 100); do
    SD_PID="$(pgrep -P "$unshare_pid" -x systemd || true)"
    [[ -n "$SD_PID" ]] && break
    sleep 0.2
  done
  if [[ -z "$SD_PID" ]]; then
    echo "systemd did not start:" >&2
    cat "$WORK/boot.log" >&2
    return 1
  fi
  for i in $(seq 1 60); do
    case "$(inside systemctl is-system-running 2>/dev/null)" in
      running | degraded) return 0 ;;
    esac
    sleep 1
  done
  echo "systemd (pid $SD_PID) did not come up:" >&2
  inside systemctl list-units --failed --no-pager >&2
  return 1
}

cleanup() {
  step "cleaning up"
  if [[ "$MODE" == host || -n "$SD_PID" ]]; then
    inside systemctl disable --now docketd >/dev/null 2>&1
    inside systemctl daemon-reload >/dev/null 2>&1
  fi
  if [[ -n "$SD_PID" ]]; then
    # Powering off a systemd that knows it is in a container (container=)
    # only ends its PID namespace.
    inside systemctl poweroff >/dev/null 2>&1
    for _ in $(seq 1 60); do
      kill -0 "$SD_PID" 2>/dev/null || break
      sleep 0.5
    done
    kill -0 "$SD_PID" 2>/dev/null && kill -KILL "$SD_PID"
    SD_PID=""
  fi
  if [[ -n "$CGROUP" && -d "$CGROUP" ]]; then
    sleep 0.5
    find "$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null
  fi
  if [[ -f "$BUILD/install_manifest.txt" ]]; then
    while read -r f; do rm -f -- "$f"; done <"$BUILD/install_manifest.txt"
  fi
  rm -f /usr/bin/docket /usr/bin/docketd /usr/lib/sysusers.d/docket.conf "$UNIT_DIR/docketd.service" \
    /etc/systemd/system/multi-user.target.wants/docketd.service
  rm -rf /usr/share/doc/docket /etc/docket /var/lib/docket /run/docket
  rm -rf /var/tmp/systemd-private-*-docketd.service-* 2>/dev/null
  getent passwd "$TEST_USER" >/dev/null && userdel "$TEST_USER"
  getent passwd docket >/dev/null && userdel docket
  getent group docket >/dev/null && groupdel docket
  rm -rf "$WORK"
  echo "removed the install, the users, and the systemd instance"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
step "systemd"
if [[ "$MODE" == namespace ]]; then
  boot_systemd || { fail "booting systemd in a namespace"; exit 1; }
  ok "systemd $(inside systemctl --version | head -1 | cut -d' ' -f2) booted as PID 1 of a namespace (host pid $SD_PID)"
else
  ok "systemd is PID 1 here"
fi

step "install, as the README says"
(cd "$SOURCE" && cmake --install "$BUILD" --prefix /usr) >"$WORK/install.log" 2>&1 &&
  ok "cmake --install $BUILD --prefix /usr" || { fail "cmake --install"; cat "$WORK/install.log"; exit 1; }
systemd-sysusers >/dev/null && getent passwd docket >/dev/null && ok "systemd-sysusers made the docket user" ||
  { fail "systemd-sysusers"; exit 1; }
start_time="$(date '+%Y-%m-%d %H:%M:%S')"
if inside sh -c 'systemctl daemon-reload && systemctl enable --now docketd' >"$WORK/enable.log" 2>&1; then
  ok "systemctl daemon-reload && systemctl enable --now docketd"
else
  fail "systemctl enable --now docketd: $(cat "$WORK/enable.log")"
  inside journalctl -u docketd --no-pager -o cat | tail -20
  exit 1
fi
useradd -M -s /usr/sbin/nologin "$TEST_USER" && usermod -aG docket "$TEST_USER" &&
  ok "usermod -aG docket $TEST_USER" || fail "making the test user"
# directory.toml: the partnership team's Sam Patel is this account.
sed -i '/^\[people\.s-patel\]/,/^roles/ s/^roles = \(.*\)$/roles = \1\nunix_user = "'"$TEST_USER"'"/' \
  /etc/docket/directory.toml
grep -q "unix_user = \"$TEST_USER\"" /etc/docket/directory.toml && inside systemctl reload docketd &&
  ok "unix_user = \"$TEST_USER\" in /etc/docket/directory.toml; systemctl reload docketd" ||
  fail "mapping the test user in directory.toml"

step "the service"
[[ "$(prop ActiveState)/$(prop SubState)" == active/running ]] && ok "active (running)" ||
  fail "not running: $(prop ActiveState)/$(prop SubState)"
[[ "$(prop Type)" == notify ]] && ok "Type=notify, and active means READY=1 came" || fail "Type=$(prop Type)"
main_pid="$(prop MainPID)"
user="$(inside ps -o user= -p "$main_pid" | tr -d ' ')"
[[ "$user" == docket ]] && ok "docketd (pid $main_pid) runs as docket" || fail "docketd runs as '$user'"
status_text="$(prop StatusText)"
[[ "$status_text" == *"open reviews"* ]] && ok "STATUS: $status_text" || fail "no STATUS line ('$status_text')"
exposure="$(inside systemd-analyze security docketd --no-pager 2>&1 |
  sed -n 's/.*Overall exposure level for docketd\.service: \([0-9.]*\).*/\1/p')"
if [[ -n "$exposure" ]] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }'; then
  ok "systemd-analyze security docketd: exposure $exposure"
else
  fail "systemd-analyze security docketd: exposure '${exposure:-?}' (more than 2.0, or not found)"
fi
sock_mode="$(inside stat -c '%a %U:%G' /run/docket/docketd.sock)"
[[ "$sock_mode" == "660 docket:docket" ]] && ok "/run/docket/docketd.sock $sock_mode" || fail "socket is $sock_mode"
db_mode="$(stat -c '%a %U:%G' /var/lib/docket /var/lib/docket/docket.db | tr '\n' ' ')"
[[ "$db_mode" == "700 docket:docket 600 docket:docket " ]] && ok "/var/lib/docket and the database: $db_mode" ||
  fail "/var/lib/docket and the database: $db_mode"
warnings="$(inside journalctl -u docketd --since "$start_time" -p warning --no-pager -o cat 2>/dev/null)"
[[ -z "$warnings" ]] && ok "no warnings in the journal since the start" || fail "the journal has warnings: $warnings"
ready="$(inside journalctl -u docketd EVENT=daemon.ready --no-pager -o cat | tail -1)"
[[ -n "$ready" ]] && ok "journal field EVENT=daemon.ready: $ready" || fail "no entry with EVENT=daemon.ready"

step "a member of the group docket"
out="$(as_user docket status 2>&1)" && ok "docket status: ${out%%$'\n'*}" || fail "docket status: $out"
out="$(as_user docket start rapid-review --ref RR-CHECK-1 2>&1)" && ok "docket start rapid-review --ref RR-CHECK-1" ||
  fail "docket start: $out"
out="$(as_user docket status RR-CHECK-1 2>&1)" && ok "docket status RR-CHECK-1: ${out%%$'\n'*}" ||
  fail "docket status RR-CHECK-1: $out"
out="$(inside runuser -u nobody -- docket status 2>&1)"
[[ "$out" == *"only members of the group docket"* ]] && ok "someone outside the group is told why: $out" ||
  fail "nobody: $out"

step "backup and restore"
backup="$WORK/docket-backup.db"
out="$(inside docket backup "$backup" 2>&1)" && ok "$out" || fail "docket backup: $out"
as_user docket start rapid-review --ref RR-CHECK-2 >/dev/null 2>&1 && ok "RR-CHECK-2 started after the backup" ||
  fail "starting RR-CHECK-2"
out="$(inside docket restore "$backup" 2>&1)"
[[ $? -ne 0 && "$out" == *"docketd is running"* ]] && ok "restore refused while docketd runs" || fail "restore while running: $out"
inside systemctl stop docketd && ok "systemctl stop docketd" || fail "systemctl stop docketd"
[[ "$(prop Result)" == success && "$(prop ExecMainStatus)" == 0 ]] && ok "docketd exited 0 (Result=success)" ||
  fail "stop: Result=$(prop Result) ExecMainStatus=$(prop ExecMainStatus)"
out="$(inside docket restore "$backup" 2>&1)" && ok "docket restore: ${out##*$'\n'}" || fail "docket restore: $out"
inside systemctl start docketd && ok "systemctl start docketd" || fail "systemctl start docketd"
as_user docket status RR-CHECK-1 >/dev/null 2>&1 && ok "RR-CHECK-1 is there after the restore" ||
  fail "RR-CHECK-1 is missing after the restore"
as_user docket status RR-CHECK-2 >/dev/null 2>&1 && fail "RR-CHECK-2 (after the backup) survived the restore" ||
  ok "RR-CHECK-2, started after the backup, is gone"
owner="$(stat -c '%U:%G %a' /var/lib/docket/docket.db)"
[[ "$owner" == "docket:docket 600" ]] && ok "the restored database is $owner" || fail "the restored database is $owner"

step "the audit trail"
out="$(inside runuser -u docket -- docket audit verify 2>&1)" && ok "${out%%$'\n'*}" || fail "docket audit verify: $out"
[[ "$out" == *"published head: record "* ]] && ok "checked against the head docketd published" ||
  fail "no published head: $out"
inside journalctl -u docketd --no-pager -o cat EVENT=audit.head | grep -q 'signature=' &&
  ok "the journal carries the signed heads (EVENT=audit.head)" || fail "no audit.head in the journal"

step "restore onto a server where docketd never ran"
inside systemctl stop docketd
cp -p /var/lib/docket/audit.key "$WORK/audit.key"   # kept with the backups, apart from the database
rm -rf /var/lib/docket
out="$(inside docket restore "$backup" 2>&1)"
[[ $? -ne 0 && "$out" == *"pass --key-file PATH"* ]] && ok "restore wants the audit key to check the backup" ||
  fail "restore without the key: $out"
out="$(inside docket restore "$backup" --key-file "$WORK/audit.key" 2>&1)" && ok "docket restore with no /var/lib/docket" ||
  fail "docket restore: $out"
install -o docket -g docket -m 0600 "$WORK/audit.key" /var/lib/docket/audit.key
inside systemctl start docketd && as_user docket status RR-CHECK-1 >/dev/null 2>&1 &&
  ok "started on it; RR-CHECK-1 is there" || fail "starting on the restored database"

step "reload"
pid_before="$(prop MainPID)"
printf '[workflow\nid = "broken"\n' >/etc/docket/workflows/check-broken.toml
inside systemctl reload docketd
sleep 1
why="$(inside journalctl -u docketd --no-pager -o cat -n 20 | grep config.reload_refused | tail -1)"
[[ "$(prop ActiveState)" == active && "$(prop MainPID)" == "$pid_before" ]] &&
  ok "a reload with a broken workflow file keeps docketd running" || fail "docketd did not survive a broken reload"
[[ "$why" == *check-broken.toml* ]] && ok "the journal says why: $why" || fail "the journal does not say why"
rm -f /etc/docket/workflows/check-broken.toml
inside systemctl reload docketd
sleep 1
inside journalctl -u docketd --no-pager -o cat -n 5 | grep -q config.reloaded && ok "fixed, the next reload takes" ||
  fail "the reload after the fix did not take"

step "watchdog"
sleep 20  # more than half of WatchdogSec
[[ "$(prop NRestarts)" == 0 && "$(prop ActiveState)" == active ]] &&
  ok "not triggered (NRestarts=0), last ping $(prop WatchdogTimestamp)" || fail "NRestarts=$(prop NRestarts)"
inside systemctl kill -s SIGSTOP docketd
for _ in $(seq 1 60); do
  [[ "$(prop NRestarts)" != 0 ]] && break
  sleep 1
done
[[ "$(prop NRestarts)" == 1 ]] && inside journalctl -u docketd --no-pager -o cat | grep -q "result 'watchdog'" &&
  ok "a stalled event loop (SIGSTOP) is killed by the watchdog and restarted" || fail "the watchdog did not fire"
for _ in $(seq 1 30); do
  [[ "$(prop ActiveState)" == active ]] && break
  sleep 1
done
as_user docket status RR-CHECK-1 >/dev/null 2>&1 && ok "running again after the restart" ||
  fail "not answering after the watchdog restart"

step "stop"
inside systemctl stop docketd && [[ "$(prop Result)" == success && "$(prop ExecMainStatus)" == 0 ]] &&
  ok "systemctl stop docketd: exit 0" || fail "stop: Result=$(prop Result) ExecMainStatus=$(prop ExecMainStatus)"
inside journalctl -u docketd --no-pager -o cat -n 3 | grep -q "daemon.stopped signal=15" && ok "daemon.stopped logged" ||
  fail "no daemon.stopped in the journal"

echo
if ((failures)); then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
