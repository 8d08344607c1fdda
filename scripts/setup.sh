#!/usr/bin/env bash
# Installs what relaywatch needs to build and test (Debian 12 packages) and
# mounts bpffs and tracefs when they are missing. Idempotent: installs only
# missing packages, mounts only what is not mounted. Needs root.
set -euo pipefail

# `setup.sh` (make run): what builds and runs relaywatch, nothing more;
# `setup.sh test` (make test, make bench) adds the tests' clients, servers
# and tools; `setup.sh kernels` (make test-kernels) what boots the matrix
PKGS=(make gcc clang llvm pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev
      libyaml-dev libssl-dev libjson-c-dev liburing-dev libsystemd-dev
      libmicrohttpd-dev
      util-linux mount)
case "${1:-}" in
test) PKGS+=(libcmocka-dev bats jq curl netcat-openbsd openssl iproute2
	     dnsmasq-base procps nodejs libclang-rt-14-dev python3 scdoc
	     systemd dpkg-dev rsyslog python3-prometheus-client python3-jsonschema
	     python3-dnspython
	     podman runc libcap2-bin debootstrap chromium) ;;
kernels) PKGS+=(qemu-system-x86 busybox-static cpio jq) ;;
'') ;;
*) echo "usage: setup.sh [test|kernels]" >&2; exit 2 ;;
esac

say() { printf 'setup: %s\n' "$*" >&2; }

if [ "$(id -u)" != 0 ]; then
	say "needs root (installs packages, mounts bpffs): run it with sudo"
	exit 1
fi

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm (deploy.bats installs the Kubernetes schemas with it): Debian's
# package, unless a node of another origin brought its own (Debian's npm
# would conflict with it)
if [ "${1:-}" = test ] && ! command -v npm >/dev/null; then
	say "installing npm"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends npm >/dev/null
fi

mounted() { awk -v t="$1" '$3 == t { f = 1 } END { exit !f }' /proc/mounts; }

if ! mounted bpf; then
	mkdir -p /sys/fs/bpf
	mount -t bpf bpf /sys/fs/bpf && say "mounted bpffs on /sys/fs/bpf"
fi
if ! mounted tracefs; then
	mkdir -p /sys/kernel/tracing
	mount -t tracefs tracefs /sys/kernel/tracing &&
		say "mounted tracefs on /sys/kernel/tracing"
fi
if ! mounted cgroup2; then
	say "no cgroup v2 mount in /proc/mounts: mount one, e.g." \
	    "mount -t cgroup2 none /sys/fs/cgroup/unified"
	exit 1
fi
if [ ! -r /sys/kernel/btf/vmlinux ]; then
	say "this kernel has no BTF (/sys/kernel/btf/vmlinux): relaywatch" \
	    "needs CONFIG_DEBUG_INFO_BTF=y"
	exit 1
fi
