#!/usr/bin/env bash
# Regenerate etc/geo/country.bin.z (and etc/geo/SOURCE) from the npm
# package @ip-location-db/geo-whois-asn-country.
#
#   scripts/refresh-geo.sh            # latest version
#   scripts/refresh-geo.sh 2.3.2026061719
#
# Needs npm, a C compiler and zlib (the build's own dependencies). Same
# package version + same zlib = same bytes. Review etc/geo/README.md (the
# version, date and licence lines) before committing a refreshed table.
set -euo pipefail

pkg=@ip-location-db/geo-whois-asn-country
want=${1:-latest}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$top/etc/geo
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

die() { echo "refresh-geo: $*" >&2; exit 1; }
field() { sed -n "s/^ *\"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$2" | head -n1; }

command -v npm >/dev/null || die "npm not found (apt-get install npm)"
cd "$tmp"
npm pack --silent --loglevel=error "$pkg@$want" >/dev/null ||
	die "npm pack $pkg@$want failed"
tar xzf ./*.tgz
[ -f package/package.json ] || die "package.json missing from the tarball"
version=$(field version package/package.json)
license=$(field license package/package.json)
v4=package/geo-whois-asn-country-ipv4.csv
v6=package/geo-whois-asn-country-ipv6.csv
[ -f "$v4" ] && [ -f "$v6" ] || die "$pkg@$version has no ipv4/ipv6 csv"
[ -f package/NRO_LICENSE ] ||
	echo "refresh-geo: warning: NRO_LICENSE is gone: re-check the data licence" >&2
[ "$license" = CC0-1.0 ] ||
	echo "refresh-geo: warning: package licence is now '$license': re-check etc/geo/README.md" >&2
published=$(npm view --loglevel=error "$pkg" time --json 2>/dev/null |
	sed -n "s/^ *\"$version\": *\"\\([^\"]*\\)\".*/\\1/p")
integrity=$(npm view --loglevel=error "$pkg@$version" dist.integrity 2>/dev/null || true)

"${CC:-cc}" -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -DGEO_NO_EMBED \
	-I"$top/include" -I"$top/user" -I"$top/user/policy" "$top/scripts/geo-convert.c" \
	"$top/user/policy/geo.c" "$top/user/policy/geo_data.c" \
	"$top/user/policy/geo_tab.c" -lz -o geo-convert
./geo-convert "geo-whois-asn-country $version" "$v4" "$v6" country.bin.z

mkdir -p "$out"
install -m 0644 country.bin.z "$out/country.bin.z"
{
	echo "package=$pkg"
	echo "version=$version"
	echo "published=${published:-unknown}"
	echo "integrity=${integrity:-unknown}"
	echo "license=$license (package.json); NRO data: CC-BY-4.0 (NRO_LICENSE)"
	echo "sha256=$(sha256sum country.bin.z | cut -d' ' -f1)"
	echo "bytes=$(stat -c %s country.bin.z)"
} >"$out/SOURCE"
echo "refresh-geo: wrote $out/country.bin.z from $pkg@$version"
