#!/bin/busybox sh
# /init of make vmtest's systemd VM (go run ./vmtest -systemd;
# vmtest/systemd.go writes the files it uses).
#
# Stage 1, as PID 1 on the initial rootfs: load the modules, copy the
# Debian root filesystem into a tmpfs and switch_root into it with systemd
# as init (pivot_root(2), which nook uses, fails on the initial rootfs).
#
# "/init payload", run by vmtest.service once user@1000.service (lingering,
# Delegate=yes) and the buses are up: runs each test binary of
# /vmtest/plan as uid 1000 from a cgroup of that system service, which is
# not delegated, with the user's session bus in its environment; then
# powers off. The results port and its markers are init.sh's.

PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
bb=/bin/busybox
say() { echo "VMTEST: $*"; }
uptime_s() { read -r u _ </proc/uptime && echo "$u"; }

if [ "$1" != payload ]; then
	$bb mount -t proc proc /proc
	read -r VMTEST_T_INIT _ </proc/uptime
	$bb mount -t devtmpfs devtmpfs /dev
	while read -r name params; do
		# $params unquoted: each parameter is a word.
		$bb insmod "/vmtest/modules/$name.ko" $params || echo "VMTEST: FATAL: insmod $name failed"
	done </vmtest/modules/order
	$bb umount /dev
	$bb mkdir -p /newroot
	$bb mount -t tmpfs -o mode=0755 root /newroot
	for d in /*; do
		case "$d" in /newroot | /proc | /sys | /dev) ;; *) $bb cp -a "$d" /newroot/ ;; esac
	done
	$bb mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/run /newroot/tmp
	$bb chmod 1777 /newroot/tmp
	echo "VMTEST: kernel_to_init_s=$VMTEST_T_INIT root_switched_s=$(uptime_s); starting systemd"
	$bb umount /proc
	exec $bb switch_root /newroot /lib/systemd/systemd
fi

# --- payload, under systemd ---------------------------------------------------
exec >/dev/console 2>&1
if [ -c /dev/ttyS1 ]; then
	stty -F /dev/ttyS1 raw -echo
	exec 3>/dev/ttyS1
else
	exec 3>/dev/null
fi

finish() {
	exec 3>&-
	sync
	systemctl poweroff --force --force
	echo o >/proc/sysrq-trigger
}

fatal() {
	say "FATAL: $*"
	echo "##vmtest## fatal $*" >&3
	finish
}

CG=/sys/fs/cgroup
UID_=1000
RUNDIR=/run/user/$UID_
MANAGER=$CG/user.slice/user-$UID_.slice/user@$UID_.service
[ -d "$MANAGER" ] || fatal "no $MANAGER: user@$UID_.service did not start"
# The user manager's session bus: its socket unit is up once the manager
# said it was ready; the bus starts on the first connection.
[ -S "$RUNDIR/bus" ] || fatal "no session bus at $RUNDIR/bus (dbus-user-session)"
[ -S "$RUNDIR/systemd/private" ] || fatal "no $RUNDIR/systemd/private"
chmod 0666 /dev/fuse /dev/net/tun || fatal "no /dev/fuse or /dev/net/tun"
OWN=$(sed -n 's/^0:://p' /proc/self/cgroup)
say "systemd $(systemctl --version | sed -n 1p); user@$UID_.service $(systemctl is-active user@$UID_.service), delegates: $(cat $MANAGER/cgroup.subtree_control); payload from $OWN"
LEAF=$CG$OWN/payload

# leftovers lists, on one line, what a test binary left: processes in its
# leaf and nook's cgroups and scopes in the user manager's tree.
leftovers() {
	for d in $(find $MANAGER -mindepth 1 -type d -name 'nook-*' | sort); do
		printf 'cgroup:%s ' "${d#$CG}"
	done
	for p in $(cat $LEAF/cgroup.procs); do
		printf 'process:%s(%s) ' "$p" "$(cat /proc/$p/comm 2>/dev/null)"
	done
}

# clean kills what is left; systemd removes the scopes once they are empty.
clean() {
	for d in $(find $MANAGER -mindepth 1 -depth -type d -name 'nook-*') $LEAF; do
		[ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill"
	done
	n=0
	until rmdir $LEAF 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 200 ] || fatal "cannot remove cgroup $LEAF"
		sleep 0.05
	done
}

# The test binaries run as the user from a root-owned, undelegated cgroup,
# with the user session's bus, so that nook has to ask systemd.
make_leaf() { mkdir $LEAF; }
PAYLOAD_ENV="XDG_RUNTIME_DIR=$RUNDIR DBUS_SESSION_BUS_ADDRESS=unix:path=$RUNDIR/bus NOOK_VMTEST_SYSTEMD=1"
. /vmtest/payload.sh
run_plan
finish
