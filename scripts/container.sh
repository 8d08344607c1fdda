#!/usr/bin/env bash
# The container image (deploy/container/Containerfile) with podman.
#   container.sh base    the Debian 12 runtime base, from Debian's mirror
#                        (debootstrap minbase + the runtime libraries),
#                        cached in /var/cache/relaywatch and imported as
#                        localhost/relaywatch-base:bookworm
#   container.sh build   base, `make`, then localhost/relaywatch:VERSION
#   container.sh rootfs DIR   the image's files in DIR (podman export):
#                        how the tests run its contents on a host where
#                        podman run cannot (docs/deploy.md)
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
	podman import "$tar" "$BASE" >/dev/null
	say "imported $BASE"
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
rootfs)
	[ -n "${2:-}" ] || { echo "usage: container.sh rootfs DIR" >&2; exit 2; }
	cid=$(podman create "$IMAGE")
	mkdir -p "$2"
	podman export "$cid" | tar -C "$2" -x
	podman rm "$cid" >/dev/null
	;;
*) echo "usage: container.sh base|build|rootfs DIR" >&2; exit 2 ;;
esac
