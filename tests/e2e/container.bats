#!/usr/bin/env bats
# The container image (deploy/container/Containerfile), built with podman
# and run by `podman run` (scripts/container.sh run): the host's PID and
# network namespaces, its bpffs and cgroup v2 tree, a read-only root,
# --cap-drop all and the capability set of docs/deploy.md, podman's
# seccomp profile with bpf(2) and perf_event_open(2) opened to CAP_BPF and
# CAP_PERFMON. It denies a connect from a process in the test cgroup.
# runc, not crun: crun refuses hosts that mount cgroup v2 beside v1.

load lib/rw

ROOT_DIR="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"

setup() {
	local c
	for c in podman runc debootstrap jq capsh; do
		command -v $c >/dev/null || skip "$c is not installed (make test installs it)"
	done
	rw_setup container
	# podman (runc, cgroupfs) makes libpod_parent in every hierarchy:
	# teardown removes it again when this test made it
	LIBPOD_NEW=$(find /sys/fs/cgroup -maxdepth 3 -name libpod_parent -type d | wc -l)
	NAME="rw-test-$$-$BATS_TEST_NUMBER"
	mkdir "$TMP/etc" "$TMP/log"
	rw_deny_policy
	cp "$TMP/policy.yaml" "$TMP/etc/policy.yaml"
	LOG="$TMP/log/events.jsonl"
	bash "$ROOT_DIR/scripts/container.sh" build
	IMAGE=$(podman images --format '{{.Repository}}:{{.Tag}}' | grep -m1 '^localhost/relaywatch:')
}

teardown() {
	podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
	if [ "${LIBPOD_NEW:-1}" = 0 ]; then
		# its conmon/ child first (depth first)
		find /sys/fs/cgroup -maxdepth 4 -depth -type d \
			-path '*/libpod_parent*' -exec rmdir {} + 2>/dev/null || true
	fi
	rw_teardown
}

# container.sh run with the test's policy, log and cgroup
ctr_run() {
	RW_NAME=$NAME RW_POLICY_DIR=$TMP/etc RW_LOG_DIR=$TMP/log \
		bash "$ROOT_DIR/scripts/container.sh" run --cgroup "$CG" >/dev/null
}

# the capabilities a process holds (CapEff of /proc/PID/status), by name
caps_of() {
	capsh --decode="$(awk '/^CapEff/ { print $2 }' "/proc/$1/status")" |
		sed 's/.*=//' | tr , '\n' | sort | tr '\n' ' '
}

@test "podman run of the image denies a connect in the test cgroup, holding only the capability set" {
	[ "$(podman image inspect "$IMAGE" --format '{{index .Config.Entrypoint 0}}')" = /usr/sbin/relaywatch ]
	size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
	echo "# image $IMAGE: $((size / 1000000)) MB" >&3
	ctr_run
	for _ in $(seq 200); do grep -q '"event":"start"' "$LOG" 2>/dev/null && break; sleep 0.05; done
	podman logs "$NAME" >&2
	grep -q '"event":"start"' "$LOG"
	run in_cg nc -zv "$NET.2" 9
	[[ "$output" == *"not permitted"* ]]
	wait_for '.event == "connect" and .action == "deny" and .comm == "nc"' >/dev/null
	# the daemon is the container's process: root in the host's PID
	# namespace, the image's binary, exactly the unit's bounding set
	pid=$(podman inspect "$NAME" --format '{{.State.Pid}}')
	[ "$(cat "/proc/$pid/comm")" = relaywatch ]
	[ "$(readlink "/proc/$pid/exe")" = /usr/sbin/relaywatch ]
	[ "$(awk '/^Uid/ { print $2 }' "/proc/$pid/status")" = 0 ]
	# (less any this host withholds from its own root: CAP_SYS_RESOURCE
	# on the test machine)
	bnd=$(capsh --decode="$(awk '/^CapBnd/ { print $2 }' /proc/self/status)" | sed 's/.*=//')
	want=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT_DIR/dist/relaywatch.service.in" |
		tr 'A-Z ' 'a-z\n' | grep -xF "$(tr , '\n' <<<"$bnd")" | sort | tr '\n' ' ')
	[ "$(caps_of "$pid")" = "$want" ]
	grep -q '^NoNewPrivs:.*1' "/proc/$pid/status"
	# the DaemonSet's readiness probe, inside the container
	podman exec "$NAME" /usr/sbin/relaywatch status --cgroup "$CG"
	# a stopped container leaves enforcement pinned: status says so (3)
	podman stop -t 10 "$NAME" >/dev/null
	run "$RW" status --cgroup "$CG"
	[ "$status" = 3 ]
	run in_cg nc -zv "$NET.2" 9
	[[ "$output" == *"not permitted"* ]]
}

@test "under podman's own seccomp profile (bpf(2) for CAP_SYS_ADMIN only) it cannot start, and says why" {
	RW_SECCOMP=/usr/share/containers/seccomp.json ctr_run
	run podman wait "$NAME"
	[ "$output" = 1 ]
	run podman logs "$NAME"
	[[ "$output" == *"not permitted to use BPF"* ]]
	[ ! -s "$LOG" ]
}
