# Shared by the end-to-end tests that run the daemon: a test cgroup of
# their own, the daemon attached only there, helpers to run a command in
# it and to wait for a log line. Load with `load lib/rw`; call rw_setup
# NAME in setup (after writing nothing) and rw_teardown in teardown.
#	RW      the binary          CG, CGROOT  the test cgroup, the v2 root
#	TMP     a temp directory    LOG         the daemon's JSON log
#	PIDS    pids rw_teardown stops (the daemon, helpers a test starts)

RW="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build/relaywatch"
# NET (the suite's loopback /24) and rw_port: tests/net.env
source "$(dirname "${BASH_SOURCE[0]}")/../../net.env"

rw_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$CGROOT" ] || skip "no cgroup v2 mount"
	CG="$CGROOT/rw-$1-$$-$BATS_TEST_NUMBER"
	mkdir "$CG"
	TMP=$(mktemp -d)
	LOG="$TMP/log.jsonl"
	PIDS=()
}

SCHEMA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/docs/schema"
VALIDATE="$(dirname "${BASH_SOURCE[0]}")/validate.py"

# every record a test's daemon wrote is valid against the native schema
# (docs/schema/relaywatch-record.schema.json); RW_OUTPUT=ocsf logs
# against the OCSF one. Run by rw_teardown once the daemon has stopped
# (its last records count too): an invalid record fails the test that
# wrote it. RW_VALIDATED=FILE collects the counts ("N records checked").
rw_validate_log() {
	local schema="$SCHEMA_DIR/relaywatch-record.schema.json"
	[ "${RW_OUTPUT:-json}" = ocsf ] && schema="$SCHEMA_DIR/ocsf-1.8.0-network_activity.schema.json"
	[ -s "${LOG:-}" ] || return 0
	# (no python3-jsonschema: validate.py says so and fails)
	/usr/bin/python3 "$VALIDATE" "$schema" "$LOG" >&2 2>"$TMP/validate.err" ||
		{ cat "$TMP/validate.err" >&2; return 1; }
	# the count, for the suite's record of what was checked
	cat "$TMP/validate.err" >> "${RW_VALIDATED:-/dev/null}" 2>/dev/null || true
}

rw_teardown() {
	[ -n "${CG:-}" ] || return 0
	local invalid=0
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rw_validate_log || invalid=1
	for p in $(cat "$CG/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done
	# what a run left pinned (run persists by default)
	"$RW" detach --cgroup "$CG" >/dev/null
	sleep 0.1
	rmdir "$CG"
	rm -rf "$TMP"
	return $invalid
}

# $TMP/policy.yaml: enforcing, deny-relay on $NET.2 (tests append rules)
rw_deny_policy() {
	printf 'mode: enforce\nrules:\n  - name: deny-relay\n    match: {cidr: [%s/32]}\n    action: deny\n' \
		"$NET.2" > "$TMP/policy.yaml"
}

# run a command inside the test cgroup
in_cg() { bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }

# relaywatch run with $TMP/policy.yaml on the test cgroup; waits for start
start_daemon() {
	"$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" --log "$LOG" "$@" 2>"$TMP/err" &
	PIDS+=($!)
	for _ in $(seq 200); do
		grep -q '"event":"start"' "$LOG" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$TMP/err" >&2
	return 1
}

# wait until something listens on TCP port $1 (what: $2, for the message)
rw_listening() {
	for _ in $(seq 100); do
		[ -n "$(ss -Hltn "sport = :$1")" ] && return 0
		sleep 0.05
	done
	echo "${2:-nothing} never listened on port $1" >&2
	return 1
}

# SIGHUP the daemon (PIDS[0]) $1 times, each time until its reload record
# is written (at most $2 polls of 50 ms)
rw_reloads() {
	for i in $(seq "$1"); do
		kill -HUP "${PIDS[0]}"
		for _ in $(seq "$2"); do
			[ "$(grep -c '"event":"reload"' "$LOG")" -ge "$i" ] && break
			sleep 0.05
		done
	done
}

# wait until jq filter F selects a line of file $2 (default the log)
wait_for() {
	local f=$1 file=${2:-$LOG}
	for _ in $(seq 100); do
		out=$(jq -c "select($f)" "$file" 2>/dev/null | head -1)
		[ -n "$out" ] && { echo "$out"; return 0; }
		sleep 0.05
	done
	echo "no line matching $f in $file:" >&2; cat "$file" >&2
	return 1
}
