#!/usr/bin/env bash
# make test-systemd: prove the units under a real systemd.
#
# Boots a throwaway Debian 12 (systemd 252) with systemd-nspawn and runs
# the checks in
# deploy/systemd/systemdtest (a Go test behind the systemdtest build tag)
# against it: the test installs a `make dist` tarball in the guest with
# `make install-units` and points the programs at fake Telegram and fake
# Correios servers on the host's 127.0.0.1 (the guest shares the host's
# network).
#
# Needs root. Installs mmdebstrap and systemd-container with apt when they
# are missing and caches the guest's root file system under
# $RASTREIO_TEST_CACHE (default /var/cache/rastreio-test).
#
# While working on it: `test-systemd.sh rootfs` only prepares the cache;
# `test-systemd.sh hold` boots the guest and keeps it up (its init PID in
# /tmp/rastreio-guest.pid) until the script is killed;
# RASTREIO_SKIP_WATCHDOG=1 skips the slow watchdog check (it then fails).
set -euo pipefail

cd "$(dirname "$0")/../.."
REPO=$(pwd)

SUITE=bookworm
PACKAGES=systemd,systemd-sysv,dbus,make,ca-certificates,procps,sqlite3
STAMP="rastreio-test rootfs v1 suite=$SUITE include=$PACKAGES"
CACHE=${RASTREIO_TEST_CACHE:-/var/cache/rastreio-test}
ROOTFS=$CACHE/$SUITE
BOX=rastreio-systemd-test # machine name and cgroup directory name
GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

T0=${EPOCHREALTIME/[.,]/}
log() {
	local us=$((${EPOCHREALTIME/[.,]/} - T0))
	printf 'test-systemd: [%3d.%ds] %s\n' $((us / 1000000)) $((us % 1000000 / 100000)) "$*"
}
die() {
	echo "test-systemd: FAIL: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root (boots a container with systemd-nspawn)"

# --- cgroups -----------------------------------------------------------------
# No systemd runs as PID 1 here, so nothing creates a scope for nspawn: give
# it a cgroup of its own in every hierarchy nspawn cares about.
if [ -d /sys/fs/cgroup/unified ]; then # hybrid: cgroup2 beside v1 hierarchies
	CGROUPS="/sys/fs/cgroup/unified/$BOX /sys/fs/cgroup/systemd/$BOX"
elif [ -f /sys/fs/cgroup/cgroup.controllers ]; then # pure cgroup2
	CGROUPS="/sys/fs/cgroup/$BOX"
else
	die "no cgroup2 hierarchy found under /sys/fs/cgroup"
fi

# pid_ns1 PID: true when PID is PID 1 of its own pid namespace and runs systemd.
is_guest_init() {
	local pid=$1 nspid
	[ -r "/proc/$pid/status" ] || return 1
	nspid=$(awk '/^NSpid:/ { print $NF }' "/proc/$pid/status" 2>/dev/null) || return 1
	[ "$nspid" = 1 ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ]
}

# kill_box: remove whatever a previous (possibly SIGKILLed) run left in our
# cgroups: the guest's init first (that ends its whole pid namespace), then
# any other process, by PID; then the cgroup directories, deepest first.
kill_box() {
	local cg pid
	for cg in $CGROUPS; do
		[ -d "$cg" ] || continue
		for pid in $(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); do
			if is_guest_init "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
		done
	done
	local i
	for i in $(seq 1 50); do
		local left=""
		for cg in $CGROUPS; do
			[ -d "$cg" ] || continue
			for pid in $(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null); do
				kill -9 "$pid" 2>/dev/null || true
				left=1
			done
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
			[ -d "$cg" ] && left=1
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	for cg in $CGROUPS; do
		[ -d "$cg" ] && echo "test-systemd: warning: cannot remove cgroup $cg" >&2
	done
	rm -rf "/run/systemd/nspawn/propagate/$BOX" 2>/dev/null || true
}

# --- host packages and the cached root file system --------------------------
install_host_packages() {
	local missing=""
	command -v mmdebstrap >/dev/null || missing="$missing mmdebstrap"
	command -v systemd-nspawn >/dev/null || missing="$missing systemd-container"
	command -v nsenter >/dev/null || missing="$missing util-linux"
	[ -z "$missing" ] && return 0
	log "installing$missing"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# remove_tree DIR: unmount whatever a killed mmdebstrap left below DIR, then
# delete it without crossing into another file system.
remove_tree() {
	local dir=$1 m
	[ -e "$dir" ] || return 0
	for m in $(awk -v d="$dir" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$dir"
}

build_rootfs() {
	mkdir -p "$CACHE"
	exec 8>"$CACHE/.lock"
	flock 8
	if [ -f "$ROOTFS/.rastreio-stamp" ] && [ "$(cat "$ROOTFS/.rastreio-stamp")" = "$STAMP" ]; then
		exec 8>&-
		return 0
	fi
	local tmp
	for tmp in "$CACHE"/.build.*; do remove_tree "$tmp"; done
	tmp=$CACHE/.build.$$
	# The host's own apt sources for this suite (mmdebstrap pastes a file
	# argument into the guest's sources), so no mirror is named here.
	local sources=() f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && grep -q "$SUITE" "$f" && sources+=("$f")
	done
	log "building the $SUITE root file system in $ROOTFS (once)"
	if ! mmdebstrap --quiet --variant=minbase --include="$PACKAGES" "$SUITE" "$tmp" "${sources[@]}" >"$CACHE/.build.log" 2>&1; then
		tail -20 "$CACHE/.build.log" >&2
		remove_tree "$tmp"
		die "mmdebstrap failed"
	fi
	rm -f "$tmp/etc/hostname"
	ln -sf /dev/null "$tmp/etc/systemd/system/console-getty.service"
	echo "$STAMP" >"$tmp/.rastreio-stamp"
	remove_tree "$ROOTFS"
	mv "$tmp" "$ROOTFS"
	exec 8>&-
}

# --- boot and shutdown -------------------------------------------------------
WORK=""
NSPAWN_PID=""
LEADER=""

cleanup() {
	local rc=$?
	set +e
	if [ -n "$LEADER" ] && is_guest_init "$LEADER"; then
		nsenter -t "$LEADER" -a env -i PATH=$GUEST_PATH systemctl poweroff --no-block >/dev/null 2>&1 ||
			kill -s RTMIN+4 "$LEADER" 2>/dev/null
	fi
	if [ -n "$NSPAWN_PID" ]; then
		local i
		for i in $(seq 1 50); do
			kill -0 "$NSPAWN_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$NSPAWN_PID" 2>/dev/null; then
			[ -n "$LEADER" ] && kill -9 "$LEADER" 2>/dev/null
			sleep 0.2
			kill -9 "$NSPAWN_PID" 2>/dev/null
		fi
	fi
	kill_box
	if [ -n "$WORK" ]; then
		if [ "$rc" != 0 ] && [ -f "$WORK/console.log" ]; then
			echo "--- guest console (tail) ---" >&2
			tail -15 "$WORK/console.log" >&2
		fi
		rm -rf "$WORK"
	fi
	exit "$rc"
}

boot() {
	kill_box # a previous run killed with SIGKILL leaves its guest running
	local cg
	for cg in $CGROUPS; do mkdir -p "$cg"; done
	(
		for cg in $CGROUPS; do echo "$BASHPID" >"$cg/cgroup.procs"; done
		# Close inherited descriptors above 2 (locks, the caller's pipes).
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
		done
		SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 exec systemd-nspawn -q -b -D "$ROOTFS" \
			--machine="$BOX" --register=no --keep-unit --volatile=overlay --console=passive \
			--bind-ro="$WORK/share:/mnt/rastreio" \
			</dev/null >"$WORK/console.log" 2>&1
	) &
	NSPAWN_PID=$!
	disown
	local deadline=$((SECONDS + 30)) pid state
	while [ -z "$LEADER" ]; do
		[ $SECONDS -lt $deadline ] || die "guest init did not appear"
		kill -0 "$NSPAWN_PID" 2>/dev/null || die "systemd-nspawn exited"
		for pid in $(cat "/proc/$NSPAWN_PID/task/$NSPAWN_PID/children" 2>/dev/null); do
			if is_guest_init "$pid"; then LEADER=$pid; fi
		done
		[ -n "$LEADER" ] || sleep 0.05
	done
	while :; do
		[ $SECONDS -lt $deadline ] || die "guest did not finish booting"
		kill -0 "$NSPAWN_PID" 2>/dev/null || die "systemd-nspawn exited"
		state=$(nsenter -t "$LEADER" -a env -i PATH=$GUEST_PATH timeout 10 systemctl is-system-running --wait 2>/dev/null) || true
		case $state in
		running) break ;;
		degraded)
			nsenter -t "$LEADER" -a env -i PATH=$GUEST_PATH systemctl --failed --no-legend >&2 || true
			break
			;;
		esac
		sleep 0.1
	done
}

main() {
	install_host_packages
	# One run at a time: runs share the machine name and the cgroups.
	mkdir -p "$CACHE"
	exec 9>"$CACHE/.run.lock"
	flock -w 900 9 || die "another test-systemd run holds $CACHE/.run.lock"
	rm -rf /tmp/rastreio-systemd.* # left by a run that was SIGKILLed
	build_rootfs
	log "root file system ready"
	[ "${1:-}" = rootfs ] && return 0 # only prepare the cache

	WORK=$(mktemp -d /tmp/rastreio-systemd.XXXXXX)
	chmod 755 "$WORK"
	mkdir -m 755 "$WORK/share"
	trap cleanup EXIT

	# The release tarball the guest installs from: no Go in the guest.
	make --no-print-directory dist DISTDIR="$WORK/dist" >/dev/null
	cp "$WORK"/dist/rastreio-*.tar.gz "$WORK/share/rastreio.tar.gz"
	chmod 644 "$WORK/share/rastreio.tar.gz"
	log "built the release tarball"
	# The driver, built before the guest boots so the boot is not slowed by it.
	# It also runs in the guest, as the short-lived logger of the issue-2913 check.
	go test -c -tags "systemdtest ${TAGS:-sqlite_omit_load_extension}" -o "$WORK/share/systemdtest.test" ./deploy/systemd/systemdtest
	chmod 755 "$WORK/share/systemdtest.test"
	log "built the test driver"

	boot
	log "guest booted (init pid $LEADER, $(nsenter -t "$LEADER" -a env -i PATH=$GUEST_PATH systemctl --version | head -1))"

	if [ "${1:-}" = hold ]; then # debugging: keep the guest up until killed
		echo "$LEADER" >"${HOLD_PIDFILE:-/tmp/rastreio-guest.pid}"
		log "holding the guest: nsenter -t $LEADER -a …; kill $$ to stop"
		while :; do sleep 1; done
	fi
	RASTREIO_GUEST_PID=$LEADER RASTREIO_GUEST_TARBALL=/mnt/rastreio/rastreio.tar.gz \
		RASTREIO_REPO="$REPO" "$WORK/share/systemdtest.test" -test.count=1 -test.timeout=20m ${TESTFLAGS:-}
	log "done"
}

main "$@"
