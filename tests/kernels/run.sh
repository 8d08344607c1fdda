#!/usr/bin/env bash
# make test-kernels: boots each kernel of kernels.conf under qemu (TCG: this
# machine's nested KVM cannot boot stock kernels) with an initramfs that
# carries the build, runs suite.sh inside, and counts its TAP lines. Closes
# with "N passed, N failed, N skipped" over all kernels; the per-kernel
# figures (verifier instructions, start-up) go to build/kernels/report.txt.
#
# Kernels come from Debian's mirror through a private apt configuration
# (the host's sources are not touched) and are cached in $RW_KERNEL_CACHE
# (default /var/cache/relaywatch/kernels); a cached kernel is used when
# the mirror cannot be reached. RW_KERNELS="6.1 6.12" runs a subset;
# RW_SUITE=FILE runs another script in place of suite.sh (debugging).
set -u
cd "$(dirname "$0")/../.."
top=$PWD
out=$top/build/kernels
cache=${RW_KERNEL_CACHE:-/var/cache/relaywatch/kernels}
mirror=${RW_DEBIAN_MIRROR:-http://deb.debian.org}
timeout=${RW_KERNEL_TIMEOUT:-600}
mkdir -p "$out" "$cache/apt/lists/partial" "$cache/apt/archives/partial"

say() { printf 'kernels: %s\n' "$*" >&2; }

# ---- the kernels: resolve each series' newest image, download, extract
apt_opts=(-o "Dir::Etc::sourcelist=$cache/apt/sources.list"
	-o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$cache/apt/lists"
	-o "Dir::Cache::archives=$cache/apt/archives"
	-o Dir::State::status=/dev/null -o APT::Sandbox::User=root
	-o Debug::NoLocking=1)
: >"$cache/apt/sources.list"
while read -r series suites _; do
	case $series in ''|'#'*) continue ;; esac
	for s in ${suites//,/ }; do
		case $s in
		*-security) echo "deb $mirror/debian-security $s main" ;;
		*) echo "deb $mirror/debian $s main" ;;
		esac
	done >>"$cache/apt/sources.list"
done <tests/kernels/kernels.conf
online=1
apt-get "${apt_opts[@]}" -qq update >"$out/apt.log" 2>&1 || {
	online=0
	say "the mirror did not answer (see $out/apt.log): using cached kernels"
}

# newest linux-image-<series>.N-amd64 the lists offer, by package version
resolve() {
	apt-cache "${apt_opts[@]}" show linux-image-amd64 2>/dev/null |
		awk -v s="$1" '/^Version:/ { v = $2 }
			/^Depends:/ && $2 ~ "^linux-image-" s "[.]" { print v, $2 }' |
		sort -V | tail -1 | cut -d' ' -f2
}

fetch() { # fetch SERIES: prints the cache directory of its newest image
	local pkg dir deb
	if [ "$online" = 1 ] && pkg=$(resolve "$1") && [ -n "$pkg" ]; then
		dir=$cache/$pkg
		if [ ! -f "$dir/vmlinuz" ]; then
			(cd "$cache/apt/archives" &&
				apt-get "${apt_opts[@]}" -qq download "$pkg") >>"$out/apt.log" 2>&1 ||
				{ say "cannot download $pkg"; return 1; }
			deb=$(ls -t "$cache/apt/archives/${pkg}_"*.deb | head -1)
			mkdir -p "$dir.tmp"
			dpkg-deb --fsys-tarfile "$deb" |
				tar -x -C "$dir.tmp" --wildcards './boot/vmlinuz-*' './boot/config-*' &&
				mv "$dir.tmp"/boot/vmlinuz-* "$dir.tmp/vmlinuz" &&
				mv "$dir.tmp"/boot/config-* "$dir.tmp/config" &&
				rm -rf "$dir.tmp/boot" "$deb" && mv "$dir.tmp" "$dir" ||
				{ rm -rf "$dir.tmp"; say "cannot unpack $deb"; return 1; }
		fi
		echo "$dir"
		return 0
	fi
	# offline: the newest cached image of the series
	dir=$(ls -d "$cache"/linux-image-"$1".*/ 2>/dev/null | sort -V | tail -1)
	[ -n "$dir" ] && [ -f "$dir/vmlinuz" ] && echo "${dir%/}"
}

# ---- the initramfs: busybox, the build and its libraries, the suite
root=$out/root
rm -rf "$root"
mkdir -p "$root"/{bin,rw/etc,proc,sys,dev,tmp,etc,lib64,usr/lib}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
! ldd /bin/busybox >/dev/null 2>&1 ||
	{ say "busybox is not static (install busybox-static)"; exit 1; }
add() { # a binary and every library it loads
	local b=$1
	cp "$b" "$root/rw/"
	ldd "$b" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		while read -r l; do
			mkdir -p "$root$(dirname "$l")"
			cp -L "$l" "$root$l"
		done
}
add build/relaywatch
add "$(command -v bpftool)"
add "$(command -v jq)"
cp build/kernels/rwclient "$root/rw/"
cp "${RW_SUITE:-tests/kernels/suite.sh}" "$root/rw/suite.sh"
cp tests/kernels/init "$root/init"
cp -r etc/policy.yaml etc/intel.d "$root/rw/etc/"
cp tests/kernels/policy.yaml "$root/rw/etc/suite-policy.yaml"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.gz"

# ---- the same start-up on this machine's kernel, for the report's ratios:
# `run` with the suite's policy on a cgroup of our own, until enforcing
host_stats() {
	local cg cgroot pid
	cgroot=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$cgroot" ] || return 0
	cg=$cgroot/rwk-host-$$
	mkdir "$cg" || return 0
	build/relaywatch run --policy tests/kernels/policy.yaml --cgroup "$cg" \
		--log /dev/null -v 2>"$out/host.err" &
	pid=$!
	for _ in $(seq 100); do
		grep -q 'policy in force' "$out/host.err" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	kill -TERM $pid 2>/dev/null; wait $pid
	# run persists, as in the VMs: its pins go with the cgroup
	build/relaywatch detach --cgroup "$cg" >/dev/null
	rmdir "$cg"
	sed -n 's/^relaywatch: \([a-z0-9_]*\): on, \([0-9]*\) instructions verified$/insns \1 \2/p
		s/^relaywatch: start-up: policy in force at \([0-9]*\) ms$/startup \1/p' \
		"$out/host.err" >"$out/host.stats"
}
host_stats

# ---- boot each kernel, count what its suite says
pass=0 fail=0 skip=0
failed=() series_done=()
: >"$out/report.txt"
while read -r series _ off; do
	case $series in ''|'#'*) continue ;; esac
	if [ -n "${RW_KERNELS:-}" ] && [[ " $RW_KERNELS " != *" $series "* ]]; then
		continue
	fi
	if ! dir=$(fetch "$series") || [ -z "$dir" ]; then
		say "no $series kernel (mirror unreachable, nothing cached)"
		fail=$((fail + 1)); failed+=("$series:no-kernel")
		continue
	fi
	name=$(basename "$dir")
	say "booting $name under qemu (TCG)"
	t0=$(date +%s)
	timeout "$timeout" qemu-system-x86_64 -accel tcg -m 2048 -smp 2 \
		-nographic -no-reboot -nic none -kernel "$dir/vmlinuz" \
		-initrd "$out/initramfs.gz" \
		-append "console=ttyS0 panic=-1 quiet rw.off=$off" \
		</dev/null 2>&1 | tr -d '\r' >"$out/$series.log"
	secs=$(( $(date +%s) - t0 ))
	k=$(sed -n 's/^RWK-KERNEL //p' "$out/$series.log")
	p=$(grep -c '^RWK ok ' "$out/$series.log" | head -1)
	s=$(grep -c '^RWK ok .*# skip' "$out/$series.log")
	f=$(grep -c '^RWK not ok ' "$out/$series.log")
	p=$((p - s))
	sed -n 's/^RWK \(.*\)/  '"$series"': \1/p' "$out/$series.log"
	if ! grep -q '^RWK-END' "$out/$series.log"; then
		say "$series: the suite did not finish (${secs}s); last lines:"
		tail -20 "$out/$series.log" >&2
		f=$((f + 1))
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	[ "$f" = 0 ] || failed+=("$series")
	echo "== $series: ${k:-?} ($name), ${secs}s, $p passed, $f failed, $s skipped" >>"$out/report.txt"
	sed -n 's/^RWK-STAT //p' "$out/$series.log" >"$out/$series.stats"
	sed -n 's/^feature /  /p' "$out/$series.stats" | paste -sd' ' >>"$out/report.txt"
	series_done+=("$series")
done <tests/kernels/kernels.conf

# verifier instructions per program and start-up, each kernel beside the
# host's (under TCG a VM runs ~10x slower: the ratio is what compares)
{
	printf '%-16s %10s' "instructions" "host"
	for s in "${series_done[@]}"; do printf ' %10s' "$s"; done
	echo
	for prog in connect4 connect6 sendmsg4 sendmsg6 dns_ingress flow_egress \
		sock_release handle_exec handle_fork handle_exit sys_exit; do
		printf '%-16s' "$prog"
		for f in host "${series_done[@]}"; do
			v=$(awk -v p="$prog" '$1 == "insns" && ($2 == p || $2 == p "_compat") {
				print $3 ($2 == p ? "" : "*") }' "$out/$f.stats" 2>/dev/null)
			printf ' %10s' "${v:--}"
		done
		echo
	done
	hs=$(awk '$1 == "startup" { print $2 }' "$out/host.stats" 2>/dev/null)
	printf '%-16s %8s ms' "start-up" "${hs:--}"
	for s in "${series_done[@]}"; do
		v=$(awk '$1 == "startup" { print $2 }' "$out/$s.stats")
		if [ -n "$v" ] && [ -n "$hs" ] && [ "$hs" -gt 0 ]; then
			printf ' %6s (%sx)' "$v" "$(awk -v a="$v" -v b="$hs" 'BEGIN { printf "%.1f", a / b }')"
		else
			printf ' %10s' "${v:--}"
		fi
	done
	echo
	echo "(* the build for kernels without bpf_loop; start-up: launch to policy in force, ms, and its ratio to the host's)"
} >>"$out/report.txt"

cat "$out/report.txt"
[ ${#failed[@]} -eq 0 ] || echo "failed on: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
