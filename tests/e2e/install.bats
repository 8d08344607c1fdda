#!/usr/bin/env bats
# Installing it: make install/uninstall into a DESTDIR, the systemd unit
# (systemd-analyze verify; its sandbox and capability set reproduced with
# a private mount namespace and setpriv, since PID 1 here is not systemd),
# and the Debian package installed into and purged from a clean root with
# dpkg --root.

load lib/rw

ROOT_DIR="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"

setup() {
	TMP=$(mktemp -d)
	R="$TMP/root"
}

teardown() {
	if [ -n "${CG:-}" ]; then rw_teardown; else rm -rf "$TMP"; fi
}

install_into() {
	make -C "$ROOT_DIR" --no-print-directory install DESTDIR="$1" PREFIX=/usr "${@:2}"
}

@test "make install DESTDIR: the files a service needs, where Debian keeps them" {
	install_into "$R" >/dev/null
	(cd "$R" && find . -mindepth 1 \( -type f -o -type d -empty \) | sort) > "$TMP/files"
	cat > "$TMP/want" <<-EOF
	./etc/logrotate.d/relaywatch
	./etc/relaywatch/intel.d/README
	./etc/relaywatch/policy.yaml
	./lib/systemd/system/relaywatch.service
	./usr/sbin/relaywatch
	./usr/share/bash-completion/completions/relaywatch
	./usr/share/man/man8/relaywatch.8
	./var/log/relaywatch
	EOF
	diff -u "$TMP/want" "$TMP/files"
	[ -x "$R/usr/sbin/relaywatch" ]
	"$R/usr/sbin/relaywatch" policy validate "$R/etc/relaywatch/policy.yaml"
	grep -q '^ExecStart=/usr/sbin/relaywatch run ' "$R/lib/systemd/system/relaywatch.service"
	# the installed policy reads the installed intel.d
	echo 'version: 1
entries:
  - {domain: local-relay.example, category: ai-relay, provider: Local}' > "$R/etc/relaywatch/intel.d/local.yaml"
	run "$R/usr/sbin/relaywatch" check local-relay.example --policy "$R/etc/relaywatch/policy.yaml"
	[[ "$output" == *"action    deny (enforce)"* ]]
	# PREFIX moves the program, and the unit follows it
	make -C "$ROOT_DIR" --no-print-directory install DESTDIR="$TMP/r2" PREFIX=/opt/rw >/dev/null
	[ -x "$TMP/r2/opt/rw/sbin/relaywatch" ]
	grep -q '^ExecStart=/opt/rw/sbin/relaywatch run ' "$TMP/r2/lib/systemd/system/relaywatch.service"
}

@test "install keeps an edited policy; uninstall removes the rest and keeps configuration and logs" {
	install_into "$R" >/dev/null
	echo '# mine' >> "$R/etc/relaywatch/policy.yaml"
	run install_into "$R"
	[[ "$output" == *"KEEP"*policy.yaml* ]]
	tail -1 "$R/etc/relaywatch/policy.yaml" | grep -qx '# mine'
	make -C "$ROOT_DIR" --no-print-directory uninstall DESTDIR="$R" PREFIX=/usr >/dev/null
	(cd "$R" && find . -type f | sort) > "$TMP/left"
	[ "$(cat "$TMP/left")" = "./etc/relaywatch/policy.yaml" ]
	[ -d "$R/var/log/relaywatch" ]
}

@test "the unit passes systemd-analyze verify, with nothing to warn about" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (package systemd)"
	install_into "$R" >/dev/null
	mkdir -p "$R/bin" && cp "$(type -P kill)" "$R/bin/kill"
	run systemd-analyze verify --root="$R" --man=no "$R/lib/systemd/system/relaywatch.service"
	echo "$output"
	[ "$status" = 0 ]
	[ -z "$output" ]
	unit="$R/lib/systemd/system/relaywatch.service"
	grep -qx 'Type=notify' "$unit"
	grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit"
	grep -qx 'Restart=always' "$unit"
	grep -q '^Before=network-pre.target' "$unit"
	grep -q '^CapabilityBoundingSet=CAP_' "$unit"
	grep -qx 'ProtectSystem=strict' "$unit"
	grep -qx 'NoNewPrivileges=yes' "$unit"
}

# The unit's sandbox, reproduced: / read-only (ProtectSystem=strict) but
# the bpffs and the log directory (ReadWritePaths=, LogsDirectory=), /sys
# and the cgroup tree read-only (ProtectKernelTunables=,
# ProtectControlGroups=), no new privileges, and only the unit's
# CapabilityBoundingSet. (PrivateTmp= is left out: the test's files live
# in /tmp; the daemon writes nothing there.) The installed binary enforces on a test
# cgroup from inside it.
@test "the installed daemon enforces inside the unit's sandbox and capability set" {
	command -v setpriv >/dev/null || skip "setpriv is not installed (util-linux)"
	install_into "$R" >/dev/null
	rw_setup unit
	unit="$R/lib/systemd/system/relaywatch.service"
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' |
		sed -e 's/cap_//g' -e 's/ /,+/g' -e 's/^/+/')
	mkdir -p "$TMP/logs"
	printf 'mode: enforce\nrules:\n  - name: deny-relay\n    match: {cidr: [%s/32]}\n    action: deny\n' "$NET.2" > "$TMP/policy.yaml"
	cat > "$TMP/sandbox.sh" <<-EOF
	set -e
	mount --make-rprivate /
	mount --bind "$TMP/logs" "$TMP/logs"
	mount --bind /sys/fs/bpf /sys/fs/bpf
	mount -o remount,bind,ro /
	mount -o remount,bind,ro /sys
	mount -o remount,bind,ro "$CGROOT"
	# the log directory stays writable, the rest of / does not: a log
	# elsewhere gets a sentence naming the unit's settings
	! touch /etc/rw-sandbox-probe 2>/dev/null
	"$R/usr/sbin/relaywatch" run --policy "$TMP/policy.yaml" --cgroup "$CG" \
		--no-persist --log /etc/rw-sandbox.jsonl 2>"$TMP/logs/rofs.err" && exit 9
	grep -q "Read-only file system (under systemd's ProtectSystem=strict the log must be in a ReadWritePaths= or LogsDirectory= directory" "$TMP/logs/rofs.err" || exit 8
	exec setpriv --no-new-privs --bounding-set=-all,$caps --inh-caps=-all \
		"$R/usr/sbin/relaywatch" run --policy "$TMP/policy.yaml" \
		--cgroup "$CG" --log "$TMP/logs/events.jsonl"
	EOF
	LOG="$TMP/logs/events.jsonl"
	unshare -m bash "$TMP/sandbox.sh" 2>"$TMP/err" &
	PIDS+=($!)
	for _ in $(seq 200); do grep -q '"event":"start"' "$LOG" 2>/dev/null && break; sleep 0.05; done
	cat "$TMP/err"
	grep -q '"event":"start"' "$LOG"
	run in_cg nc -zv $NET.2 9
	[[ "$output" == *"not permitted"* ]]
	wait_for '.event == "connect" and .action == "deny" and .comm == "nc"' >/dev/null
	# the daemon really ran without the capabilities outside the set
	pid=$(pgrep -f "relaywatch run --policy $TMP/policy.yaml" | head -1)
	bnd=$(awk '/^CapBnd/ { print $2 }' "/proc/$pid/status")
	[ "$bnd" != "000001ffffffffff" ]
	[ "$(awk '/^NoNewPrivs/ { print $2 }' "/proc/$pid/status")" = 1 ]
}

@test "make deb: installs into a clean root with dpkg --root, conffiles kept on remove, purge leaves nothing" {
	command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
	command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps is not installed (make test installs dpkg-dev)"
	run make -C "$ROOT_DIR" --no-print-directory deb
	[ "$status" = 0 ]
	deb=$(ls "$ROOT_DIR"/build/relaywatch_*.deb)
	dpkg-deb -f "$deb" Depends | grep -q libbpf
	dpkg-deb -f "$deb" Package | grep -qx relaywatch
	# conffiles: the policy, intel.d's README, logrotate's file
	dpkg-deb -e "$deb" "$TMP/ctl"
	grep -qx /etc/relaywatch/policy.yaml "$TMP/ctl/conffiles"
	grep -qx /etc/logrotate.d/relaywatch "$TMP/ctl/conffiles"
	mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
	: > "$R/var/lib/dpkg/status"
	# a clean root has none of the libraries: the dependencies are
	# checked above; the scripts run outside it with DPKG_ROOT set
	run dpkg --root="$R" --force-depends --force-script-chrootless -i "$deb"
	echo "$output"
	[ "$status" = 0 ]
	[[ "$output" == *"installed, not enabled"* ]]
	dpkg --root="$R" -L relaywatch > "$TMP/list"
	grep -qx /usr/sbin/relaywatch "$TMP/list"
	grep -qx /lib/systemd/system/relaywatch.service "$TMP/list"
	grep -qx /usr/share/man/man8/relaywatch.8.gz "$TMP/list"
	grep -qx /usr/share/doc/relaywatch/copyright "$TMP/list"
	[ "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status}' relaywatch)" = "install ok installed" ]
	"$R/usr/sbin/relaywatch" version | grep -q '^relaywatch '
	# nothing enabled: no symlink in any .wants directory
	[ -z "$(find "$R/etc" -path '*wants*' -name 'relaywatch*')" ]
	# an edited conffile survives remove; purge removes it and the logs
	echo '# mine' >> "$R/etc/relaywatch/policy.yaml"
	touch "$R/var/log/relaywatch/events.jsonl"
	dpkg --root="$R" --force-script-chrootless -r relaywatch >/dev/null
	[ ! -e "$R/usr/sbin/relaywatch" ]
	tail -1 "$R/etc/relaywatch/policy.yaml" | grep -qx '# mine'
	dpkg --root="$R" --force-script-chrootless --purge relaywatch >/dev/null
	left=$(cd "$R" && find . -mindepth 1 -not -path './var/lib/dpkg*' -not -path './var/lib' -not -path './var/log' -not -path './var')
	[ -z "$left" ] || { echo "left after purge: $left"; false; }
}
