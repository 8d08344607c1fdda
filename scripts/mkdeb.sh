#!/usr/bin/env bash
# Builds build/relaywatch_VERSION_ARCH.deb from this build (make deb):
# stages `make install` with PREFIX=/usr into a directory, adds the
# control file (Depends from dpkg-shlibdeps), conffiles and the maintainer
# scripts of dist/debian/, and packs it with dpkg-deb.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
version=$(sed -n 's/^#define VERSION "\(.*\)"/\1/p' user/cli/watch.h)
arch=$(dpkg --print-architecture)
stage=$build/deb/root
rm -rf "$build/deb"
mkdir -p "$stage/DEBIAN"
make --no-print-directory install DESTDIR="$PWD/$stage" PREFIX=/usr >/dev/null
# Debian policy: man pages compressed, a copyright file
gzip -9n "$stage/usr/share/man/man8/relaywatch.8"
install -D -m 0644 dist/debian/copyright "$stage/usr/share/doc/relaywatch/copyright"

# shared-library dependencies, as Debian's tools compute them
mkdir -p "$build/deb/src/debian"
printf 'Source: relaywatch\n\nPackage: relaywatch\nArchitecture: any\n' \
	> "$build/deb/src/debian/control"
depends=$(cd "$build/deb/src" &&
	dpkg-shlibdeps -O -e "../root/usr/sbin/relaywatch" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "mkdeb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: relaywatch
Version: $version
Architecture: $arch
Maintainer: relaywatch developers <relaywatch@localhost>
Installed-Size: $size
Depends: $depends
Recommends: logrotate
Section: admin
Priority: optional
Description: eBPF egress monitor for AI relay stations and overseas AI APIs
 relaywatch recognises connections to AI relay stations (resellers of
 foreign models behind one OpenAI-compatible endpoint) and overseas AI
 APIs and decides in the kernel: allow, alert, deny (EPERM) or kill.
 A daemon attributes every event to a binary and writes JSON lines.
 The service is installed but not enabled.
CONTROL
(cd "$stage" && find etc -type f | sed 's|^|/|' | sort) > "$stage/DEBIAN/conffiles"
install -m 0755 dist/debian/postinst dist/debian/prerm dist/debian/postrm "$stage/DEBIAN/"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print0 |
	xargs -0 md5sum | sed 's|\./||') > "$stage/DEBIAN/md5sums"
out="$build/relaywatch_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$out" >/dev/null
echo "  DEB      $out"
