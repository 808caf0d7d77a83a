#!/bin/sh
# /init of make vmtest's VM (busybox ash as PID 1; vmtest/initramfs.go
# writes the files it uses).
#
# Stage 1 copies the initramfs into a tmpfs and switch_roots into it:
# pivot_root(2), which nook uses, fails with EINVAL while / is the initial
# rootfs. Stage 2 sets the VM up as a systemd host would leave it for a
# logged-in user, then runs each test binary of /vmtest/plan as that user
# and powers off.
#
# Two serial ports: ttyS0 is the console (kernel messages and the
# "VMTEST:" progress lines the host echoes); ttyS1 carries only the test
# binaries' output, between markers, for the host to parse:
#
#	##vmtest## begin NAME
#	...the output of NAME.test -test.v=test2json...
#	(newline)##vmtest## end NAME rc=STATUS secs=SECONDS
#	##vmtest## leftover NAME WHAT...       (only if something outlived it)
#	##vmtest## done
#
# A line "##vmtest## fatal MESSAGE" means the VM could not be set up.

PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { echo "VMTEST: $*"; }
uptime_s() { read -r u _ </proc/uptime && echo "$u"; }

if [ "$VMTEST_STAGE" != 2 ]; then
	/bin/busybox mount -t proc proc /proc
	read -r VMTEST_T_INIT _ </proc/uptime
	# One process here instead of hundreds of links in the archive.
	/bin/busybox --install -s
	umount /proc
	mkdir -p /newroot
	mount -t tmpfs -o mode=0755 root /newroot
	for d in /*; do
		case "$d" in /newroot | /proc | /sys | /dev) ;; *) cp -a "$d" /newroot/ ;; esac
	done
	mkdir -p /newroot/proc /newroot/sys /newroot/dev
	VMTEST_STAGE=2
	export VMTEST_STAGE VMTEST_T_INIT
	# switch_root empties the initial rootfs, moves /newroot onto / and
	# execs /init again.
	exec switch_root /newroot /init
fi

# --- results port --------------------------------------------------------------
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
if [ -c /dev/ttyS1 ]; then
	# raw: no newline translation, no echo; the host gets the bytes as
	# written.
	stty -F /dev/ttyS1 raw -echo
	exec 3>/dev/ttyS1
else
	exec 3>/dev/null
fi

# finish: closing the port waits until the UART has sent everything, then
# the VM powers off (qemu exits: it runs with -no-reboot).
finish() {
	exec 3>&-
	sync
	poweroff -f
	# Not reached unless poweroff failed.
	echo o >/proc/sysrq-trigger
	sleep 2
	reboot -f
}

fatal() {
	say "FATAL: $*"
	echo "##vmtest## fatal $*" >&3
	dmesg | tail -n 30
	finish
}

# --- filesystems ---------------------------------------------------------------
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp /tmp
mount -t tmpfs -o nosuid,nodev,mode=0755 run /run
ln -sf /proc/self/fd /dev/fd
hostname vmtest
ip link set lo up
say "kernel_to_init_s=$VMTEST_T_INIT root_switched_s=$(uptime_s) kernel=$(uname -r) cpus=$(nproc) clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"

# --- the user: uid 1000 with a subordinate id range ------------------------------
cat >/etc/passwd <<'EOF'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:vmtest user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >/etc/group <<'EOF'
root:x:0:
tty:x:5:
disk:x:6:
user:x:1000:
nogroup:x:65534:
EOF
echo "user:100000:65536" >/etc/subuid
echo "user:100000:65536" >/etc/subgid
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tvmtest\n' >/etc/hosts
mkdir -p /home/user /run/user/1000
chown 1000:1000 /home/user /run/user/1000
chmod 0700 /run/user/1000

# --- modules and devices -------------------------------------------------------
# Plain .ko files in dependency order, with their parameters: busybox
# insmod needs no modules.dep then.
while read -r name params; do
	# $params unquoted: each parameter is a word.
	insmod "/lib/modules/vmtest/$name.ko" $params || fatal "insmod $name failed"
done </lib/modules/vmtest/order
# devtmpfs makes these 0600; udev would make them 0666.
chmod 0666 /dev/fuse /dev/net/tun || fatal "no /dev/fuse or /dev/net/tun"
# A RAM disk of the user's, for io.max.
chown 1000:1000 /dev/ram0 || fatal "no /dev/ram0"

# --- cgroup v2, delegated as systemd's Delegate=yes does ------------------------------
CG=/sys/fs/cgroup
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 $CG || fatal "mount cgroup2"
CTRL="+cpuset +cpu +io +memory +pids"
echo "$CTRL" >$CG/cgroup.subtree_control || fatal "enable $CTRL at the root"
mkdir $CG/user.slice
echo "$CTRL" >$CG/user.slice/cgroup.subtree_control || fatal "enable $CTRL in user.slice"
# user-1000 offers the controllers; the user enables them for its children
# (its cgroup.subtree_control is the user's). Its own limits (memory.max,
# ...) stay root's, as systemd leaves them.
U=$CG/user.slice/user-1000
mkdir $U
chown 1000:1000 $U
for f in $(cat /sys/kernel/cgroup/delegate); do
	[ -e "$U/$f" ] && chown 1000:1000 "$U/$f"
done
# The leaf each test binary starts in, as a login's processes sit in
# user@1000.service/init.scope: made fresh per package.
LEAF=$U/payload
say "cgroup2 controllers $(cat $U/cgroup.controllers) delegated at ${U#$CG} to uid 1000"

# leftovers lists, on one line, the cgroups and processes a test binary
# left behind in the user's subtree.
leftovers() {
	for d in $(find $U -mindepth 1 -type d | sort); do
		[ "$d" = "$LEAF" ] || printf 'cgroup:%s ' "${d#$CG}"
	done
	for p in $(cat $LEAF/cgroup.procs); do
		printf 'process:%s(%s) ' "$p" "$(cat /proc/$p/comm 2>/dev/null)"
	done
}

# clean kills what is left in the user's subtree and removes its cgroups,
# children first, so the next package starts as the first did.
clean() {
	for d in $(find $U -mindepth 1 -depth -type d); do
		echo 1 >"$d/cgroup.kill"
	done
	for d in $(find $U -mindepth 1 -depth -type d); do
		# The killed processes take a moment to leave; bounded.
		n=0
		until rmdir "$d" 2>/dev/null; do
			n=$((n + 1))
			[ $n -lt 200 ] || fatal "cannot remove cgroup $d"
			sleep 0.05
		done
	done
}

# --- payload -----------------------------------------------------------------
# The test binaries run as the user in a fresh leaf of the delegated subtree.
make_leaf() { mkdir $LEAF && chown 1000:1000 $LEAF $LEAF/*; }
PAYLOAD_ENV="XDG_RUNTIME_DIR=/run/user/1000"
. /vmtest/payload.sh
run_plan
finish
