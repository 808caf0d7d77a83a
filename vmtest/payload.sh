# payload.sh: the part of /init both flavours share (init.sh for the
# busybox VM, systemd.sh for the systemd one), sourced by each. It runs
# every test binary of /vmtest/plan and reports over fd 3 (the results
# port; init.sh documents the markers). The sourcing script defines:
#
#	LEAF          the cgroup each package runs in, made afresh for it
#	make_leaf     makes $LEAF, writable by the user
#	leftovers     prints what a test binary left behind, on one line
#	clean         kills that and removes $LEAF
#	say, fatal, uptime_s
#	PAYLOAD_ENV   the flavour's own environment for the tests (K=V ...)

# run_package NAME REL RUN TIMEOUT runs /vmtest/bin/NAME.test as the user,
# in the package directory's copy (where go test would run it), in a new
# leaf cgroup, with nothing of root's environment.
run_package() {
	name=$1 rel=$2 run=$3 timeout=$4
	make_leaf || fatal "make $LEAF"
	say "$name: start"
	t0=$(uptime_s)
	echo "##vmtest## begin $name" >&3
	# The output goes through a FIFO, not straight to the port: the tests
	# must not see a terminal. The test binary is waited for by its pid,
	# not by the end of its output, which a process it left behind could
	# hold open for ever; clean kills those, and then cat ends.
	rm -f /run/vmtest.out
	mkfifo /run/vmtest.out
	cat /run/vmtest.out >&3 &
	cat_pid=$!
	# shellcheck disable=SC2086 # PAYLOAD_ENV is words on purpose
	env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/user USER=user LOGNAME=user \
		TMPDIR=/tmp $PAYLOAD_ENV NOOK_TEST_STRICT=1 NOOK_VMTEST=1 \
		/vmtest/runas -uid 1000 -gid 1000 -cgroup $LEAF -dir "/vmtest/src/$rel" -- \
		"/vmtest/bin/$name.test" -test.v=test2json -test.count=1 \
		-test.timeout="$timeout" -test.run="$run" </dev/null >/run/vmtest.out 2>&1 &
	wait $!
	rc=$?
	secs=$(awk "BEGIN { print $(uptime_s) - $t0 }")
	left=$(leftovers)
	clean
	wait $cat_pid
	printf '\n##vmtest## end %s rc=%s secs=%s\n' "$name" "$rc" "$secs" >&3
	if [ -n "$left" ]; then
		echo "##vmtest## leftover $name $left" >&3
		say "$name: left behind: $left"
	fi
	say "$name: exit status $rc after ${secs} s"
}

# run_plan runs every package of the plan, in order.
run_plan() {
	T_START=$(uptime_s)
	say "ready at_s=$T_START"
	tab=$(printf '\t')
	while IFS=$tab read -r name rel run timeout; do
		run_package "$name" "$rel" "$run" "$timeout"
	done </vmtest/plan
	say "done payload_s=$(awk "BEGIN { print $(uptime_s) - $T_START }")"
	echo "##vmtest## done" >&3
}
