#!/usr/bin/env bash
# The container image (deploy/container/Containerfile) with podman.
#   container.sh base    the Debian 12 runtime base, from Debian's mirror
#                        (debootstrap minbase + the runtime libraries),
#                        cached in /var/cache/relaywatch and imported as
#                        localhost/relaywatch-base:bookworm
#   container.sh build   base, `make`, then localhost/relaywatch:VERSION
#   container.sh seccomp FILE  podman's default seccomp profile with
#                        bpf(2) allowed to CAP_BPF and perf_event_open(2)
#                        to CAP_PERFMON (it allows them to CAP_SYS_ADMIN only)
#   container.sh run [ARG...]  podman run -d of the image with the host's
#                        PID and network namespaces, bpffs and cgroup v2
#                        tree, the capability set of docs/deploy.md and
#                        nothing else; ARGs go to `relaywatch run`.
#                        RW_NAME (relaywatch), RW_POLICY_DIR
#                        (/etc/relaywatch), RW_LOG_DIR (/var/log/relaywatch),
#                        RW_SECCOMP (a profile instead of the one above)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=/var/cache/relaywatch
BASE=localhost/relaywatch-base:bookworm
VERSION=$(sed -n 's/^#define VERSION "\(.*\)"/\1/p' user/cli/watch.h)
IMAGE=localhost/relaywatch:$VERSION
LIBS=libbpf1,libelf1,zlib1g,libyaml-0-2,libssl3,libjson-c5,liburing2,libsystemd0,libmicrohttpd12

say() { printf 'container: %s\n' "$*" >&2; }

base() {
	podman image exists "$BASE" && return 0
	local tar=$CACHE/relaywatch-base-bookworm.tar root
	if [ ! -s "$tar" ]; then
		root=$(mktemp -d)
		say "debootstrap bookworm minbase with $LIBS (about a minute)"
		debootstrap --variant=minbase --include="$LIBS" bookworm "$root" \
			http://deb.debian.org/debian >"$root.log" 2>&1 ||
			{ tail -5 "$root.log" >&2; rm -rf "$root" "$root.log"; exit 1; }
		mkdir -p "$CACHE"
		tar -C "$root" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
		rm -rf "$root" "$root.log"
	fi
	podman import -q "$tar" "$BASE" >/dev/null
	say "imported $BASE"
}

seccomp() {
	jq '.syscalls |= (map(if (.names | index("bpf")) then
			.names -= ["bpf", "perf_event_open"] else . end) +
		[{names: ["bpf"], action: "SCMP_ACT_ALLOW", includes: {caps: ["CAP_BPF"]}},
		 {names: ["perf_event_open"], action: "SCMP_ACT_ALLOW", includes: {caps: ["CAP_PERFMON"]}}])' \
		/usr/share/containers/seccomp.json > "$1"
}

# the lower of the host's hard limit and CAP
hard() { local h; h=$(ulimit -H "$1"); [ "$h" = unlimited ] || [ "$h" -gt "$2" ] && h=$2; echo "$h"; }

run() {
	local caps cgroot profile nofile nproc
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' dist/relaywatch.service.in | tr ' ' ,)
	cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	profile=$(mktemp)
	trap 'rm -f "$profile"' RETURN
	if [ -n "${RW_SECCOMP:-}" ]; then cp "$RW_SECCOMP" "$profile"; else seccomp "$profile"; fi
	# podman asks for RLIMIT_NOFILE/NPROC of 1048576, which a host whose
	# hard limits are lower refuses without CAP_SYS_RESOURCE; podman 4.3
	# itself runs with RLIMIT_NPROC 32768 (docs/deploy.md)
	nofile=$(hard -n 1048576) nproc=$(hard -u 32768)
	podman run -d --name "${RW_NAME:-relaywatch}" --runtime runc \
		--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" \
		--pid host --network host --cgroupns host --read-only \
		--cap-drop all --cap-add "$caps" \
		--security-opt "seccomp=$profile" --security-opt no-new-privileges \
		-v /sys/fs/bpf:/sys/fs/bpf -v "$cgroot:$cgroot:ro" \
		-v "${RW_POLICY_DIR:-/etc/relaywatch}:/etc/relaywatch:ro" \
		-v "${RW_LOG_DIR:-/var/log/relaywatch}:/var/log/relaywatch" \
		"$IMAGE" run --policy /etc/relaywatch/policy.yaml \
		--log /var/log/relaywatch/events.jsonl "$@"
}

case "${1:-}" in
base) base ;;
build)
	base
	make --no-print-directory all >/dev/null
	podman build --isolation chroot -q -f deploy/container/Containerfile \
		-t "$IMAGE" . >/dev/null
	say "built $IMAGE"
	;;
seccomp)
	[ -n "${2:-}" ] || { echo "usage: container.sh seccomp FILE" >&2; exit 2; }
	seccomp "$2"
	;;
run)
	shift
	run "$@"
	;;
*) echo "usage: container.sh base|build|seccomp FILE|run [ARG...]" >&2; exit 2 ;;
esac
