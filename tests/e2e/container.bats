#!/usr/bin/env bats
# The container image, built with podman (deploy/container/Containerfile)
# and run as a container would: its rootfs (podman export) under a mount
# namespace and chroot, with the host's /proc (hostPID) and /sys (the
# bpffs, the cgroup v2 tree, BTF) bound in, and only the capabilities
# docs/deploy.md lists. `podman run` itself cannot start a container on
# the test machines: crun and runc both fail setting RLIMIT_NOFILE/NPROC
# (EPERM, no CAP_SYS_RESOURCE here) and crun refuses cgroups in hybrid
# mode; docs/deploy.md says so.

load lib/rw

ROOT_DIR="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"

setup() {
	command -v podman >/dev/null || skip "podman is not installed (make test installs it)"
	command -v debootstrap >/dev/null || skip "debootstrap is not installed (make test installs it)"
	rw_setup container
}

teardown() {
	rw_teardown
}

@test "the image builds, and its contents enforce on a test cgroup as a container" {
	run bash "$ROOT_DIR/scripts/container.sh" build
	echo "$output"
	[ "$status" = 0 ]
	img=$(podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/relaywatch:' | head -1)
	[ -n "$img" ]
	# what the image declares
	[ "$(podman image inspect "$img" --format '{{index .Config.Entrypoint 0}}')" = /usr/sbin/relaywatch ]
	size=$(podman image inspect "$img" --format '{{.Size}}')
	echo "# image $img: $((size / 1000000)) MB" >&3
	root="$TMP/rootfs"
	bash "$ROOT_DIR/scripts/container.sh" rootfs "$root"
	[ -x "$root/usr/sbin/relaywatch" ]
	[ -f "$root/etc/relaywatch/policy.yaml" ]
	cat > "$root/etc/relaywatch/policy.yaml" <<-EOF
	mode: enforce
	rules:
	  - name: deny-relay
	    match: {cidr: [$NET.2/32]}
	    action: deny
	EOF
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT_DIR/dist/relaywatch.service.in" |
		tr 'A-Z' 'a-z' | sed -e 's/cap_//g' -e 's/ /,+/g' -e 's/^/+/')
	unshare -m --propagation private bash -c '
		root=$0
		mount --rbind /proc "$root/proc"
		mount --rbind /sys "$root/sys"
		mount --rbind /dev "$root/dev"
		exec chroot "$root" "$@"' "$root" \
		setpriv --bounding-set=-all,$caps --inh-caps=-all \
		/usr/sbin/relaywatch run --policy /etc/relaywatch/policy.yaml \
		--cgroup "$CG" --log /var/log/relaywatch/events.jsonl 2>"$TMP/err" &
	PIDS+=($!)
	LOG="$root/var/log/relaywatch/events.jsonl"
	for _ in $(seq 200); do grep -q '"event":"start"' "$LOG" 2>/dev/null && break; sleep 0.05; done
	cat "$TMP/err"
	grep -q '"event":"start"' "$LOG"
	run in_cg nc -zv "$NET.2" 9
	[[ "$output" == *"not permitted"* ]]
	wait_for '.event == "connect" and .action == "deny" and .comm == "nc"' >/dev/null
	# the binary that ran is the image's, not the build tree's
	pid=$(pgrep -f "relaywatch run --policy /etc/relaywatch/policy.yaml --cgroup $CG" | head -1)
	[ "$(readlink "/proc/$pid/root")" = "$root" ]
	kill -TERM "$pid"
	wait "${PIDS[-1]}" || true
}
