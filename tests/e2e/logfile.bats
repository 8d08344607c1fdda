#!/usr/bin/env bats
# The log cannot fail silently: a full disk (a small tmpfs in a mount
# namespace of the test's own) costs one warning, the records dropped are
# counted and said in a log_error record once writing works again, and
# every line stays whole and valid; a deleted or renamed log is reopened;
# --log-max-mb rotates.

load lib/rw

setup() {
	rw_setup logfile
	rw_deny_policy
}

teardown() {
	rw_teardown
}

deny_n() { for _ in $(seq "$1"); do in_cg nc -z "$NET.2" 9 2>/dev/null || true; done; }

@test "a full disk: one warning, records counted, log_error when it frees, every line whole" {
	mkdir "$TMP/small"
	# the daemon in a mount namespace with a 256 KiB tmpfs for its log;
	# its log is copied out when it has ended
	unshare -m --propagation private bash -c \
		'mount -t tmpfs -o size=256k rwtest "$0" || exit 1
		 "$@" & echo $! > "$0.pid"; wait $!; cp "$0/log.jsonl" "$0.final"' \
		"$TMP/small" "$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" \
		--no-persist --dedup-ms 0 --log "$TMP/small/log.jsonl" 2>"$TMP/err" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$TMP/small.pid" ] && break; sleep 0.05; done
	pid=$(cat "$TMP/small.pid")
	PIDS=("$pid" "${PIDS[@]}")   # teardown stops the daemon first
	LOG="/proc/$pid/root$TMP/small/log.jsonl"
	wait_for '.event == "start"' >/dev/null
	deny_n 3
	wait_for '.event == "connect"' >/dev/null
	# fill what is left of the tmpfs
	nsenter -t "$pid" -m dd if=/dev/zero of="$TMP/small/fill" bs=4k 2>/dev/null || true
	deny_n 30
	sleep 1.2
	[ "$(grep -c 'cannot write the log' "$TMP/err")" = 1 ]
	grep -q 'No space left on device' "$TMP/err"
	# free it: the next record gets in, then the count
	nsenter -t "$pid" -m rm "$TMP/small/fill"
	deny_n 1
	wait_for '.event == "log_error"' > "$TMP/log_error"
	dropped=$(jq .dropped "$TMP/log_error")
	# each nc: a connect record and an exit record
	[ "$dropped" -ge 30 ]
	grep -q "writing the log works again; $dropped records were dropped" "$TMP/err"
	kill -TERM "$pid"
	wait "${PIDS[-1]}"
	cp "$TMP/small.final" "$TMP/copy.jsonl"
	# every line whole and valid JSON (no partial record spliced in)
	while IFS= read -r line; do
		jq -e . <<<"$line" >/dev/null || { echo "bad line: $line"; false; }
	done < "$TMP/copy.jsonl"
	# the stats record is written after the failure and adds up: the
	# lines before it are the records written
	jq -se 'map(select(.event == "stats"))[0] | .log_dropped' "$TMP/copy.jsonl" > "$TMP/stats_dropped"
	[ "$(cat "$TMP/stats_dropped")" = "$dropped" ]
	written=$(jq -se 'map(select(.event == "stats"))[0] | .log_written' "$TMP/copy.jsonl")
	[ "$(grep -c . "$TMP/copy.jsonl")" = $((written + 1)) ]
}

@test "a deleted log is reopened within a second, with a log_reopened record" {
	start_daemon --no-persist
	rm "$LOG"
	for _ in $(seq 60); do [ -e "$LOG" ] && break; sleep 0.05; done
	wait_for '.event == "log_reopened" and .why == "deleted"' >/dev/null
	deny_n 1
	wait_for '.event == "connect" and .action == "deny"' >/dev/null
	grep -q 'was deleted without SIGUSR1: reopened' "$TMP/err"
}

@test "a log renamed and not followed by SIGUSR1 is reopened after 5 s; with SIGUSR1 at once and silently" {
	start_daemon --no-persist
	mv "$LOG" "$LOG.old"
	sleep 2
	# within the grace logrotate's SIGUSR1 would come: still the old file
	[ ! -e "$LOG" ]
	deny_n 1
	wait_for '.event == "connect"' "$LOG.old" >/dev/null
	for _ in $(seq 120); do [ -e "$LOG" ] && break; sleep 0.05; done
	wait_for '.event == "log_reopened" and .why == "renamed"' >/dev/null
	# logrotate's way: rename, SIGUSR1: no log_reopened record
	mv "$LOG" "$LOG.1"
	kill -USR1 "${PIDS[-1]}"
	deny_n 1
	wait_for '.event == "connect"' >/dev/null
	[ "$(grep -c log_reopened "$LOG")" = 0 ]
}

@test "--log-max-mb 1: rotated to FILE.1 before passing 1 MiB, every line whole" {
	start_daemon --no-persist --dedup-ms 0 --process-rate 0 --log-max-mb 1
	# ~1,600 records of ~700 bytes
	in_cg /usr/bin/python3 "$BATS_TEST_DIRNAME/lib/flood.py" "$NET.2" 9 0.3 >/dev/null
	for _ in $(seq 100); do [ -e "$LOG.1" ] && break; sleep 0.05; done
	[ -e "$LOG.1" ]
	[ "$(stat -c %s "$LOG.1")" -le 1048576 ]
	jq -c . "$LOG.1" "$LOG" > /dev/null
	run "$RW" run --policy "$TMP/policy.yaml" --log-max-mb 1
	[ "$status" = 2 ]
	[[ "$output" == *"--log-max-mb rotates a log file: give --log FILE too"* ]]
}
