#!/usr/bin/env bats
# The daemon as a service: the sd_notify protocol (READY only once the
# policy enforces, STATUS, WATCHDOG, STOPPING) against a stand-in for
# systemd's notification socket, and diagnostics carrying their level when
# standard error is the journal. PID 1 is not systemd on the test
# machines, so systemd itself is not run (the unit is checked with
# systemd-analyze in install.bats).

load lib/rw

NOTIFY_PY="$BATS_TEST_DIRNAME/lib/notify.py"

setup() {
	rw_setup svc
	rw_deny_policy
	python3 "$NOTIFY_PY" "$TMP/notify.sock" "$TMP/notify.log" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -S "$TMP/notify.sock" ] && break; sleep 0.05; done
	[ -S "$TMP/notify.sock" ]
}

teardown() {
	rw_teardown
}

@test "sd_notify: READY=1 with STATUS only once enforcing; WATCHDOG; STATUS on reload; STOPPING" {
	NOTIFY_SOCKET="$TMP/notify.sock" WATCHDOG_USEC=400000 \
		"$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" --log "$LOG" 2>"$TMP/err" &
	PIDS+=($!)
	# the moment READY arrives, the policy must already be in force
	for _ in $(seq 200); do grep -q 'READY=1' "$TMP/notify.log" && break; sleep 0.02; done
	run in_cg nc -zv $NET.2 9
	[[ "$output" == *"not permitted"* ]]
	grep -q "READY=1 | STATUS=enforcing 1 rules of $TMP/policy.yaml on $CG" "$TMP/notify.log"
	# READY is the first message: nothing claims readiness earlier
	[ "$(sed -n 2p "$TMP/notify.log" | cut -d' ' -f1)" = "READY=1" ]
	# the watchdog is pinged at half its interval
	sleep 1
	[ "$(grep -c '^WATCHDOG=1$' "$TMP/notify.log")" -ge 3 ]
	kill -HUP "${PIDS[-1]}"
	wait_for '.event == "reload"' >/dev/null
	for _ in $(seq 50); do grep -q 'reloaded: sighup' "$TMP/notify.log" && break; sleep 0.05; done
	grep -q 'STATUS=enforcing 1 rules .*(reloaded: sighup)' "$TMP/notify.log"
	echo 'rules: [' > "$TMP/policy.yaml"
	kill -HUP "${PIDS[-1]}"
	for _ in $(seq 50); do grep -q 'reload failed' "$TMP/notify.log" && break; sleep 0.05; done
	grep -q '^STATUS=reload failed, the previous policy stays' "$TMP/notify.log"
	kill -TERM "${PIDS[-1]}"
	wait "${PIDS[-1]}"
	[ "$(tail -1 "$TMP/notify.log")" = "STOPPING=1" ]
}

@test "no NOTIFY_SOCKET: nothing is sent, the daemon runs as before" {
	start_daemon
	run in_cg nc -zv $NET.2 9
	[[ "$output" == *"not permitted"* ]]
	[ "$(cat "$TMP/notify.log")" = "listening" ]
}

@test "stderr is the journal: each diagnostic carries its level (<4> warning, <6> info)" {
	# JOURNAL_STREAM names stderr's device and inode, as systemd sets it
	: > "$TMP/stderr"
	exec 7>"$TMP/stderr"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/stderr") \
		"$RW" run -v --policy "$TMP/policy.yaml" --cgroup "$CG" --log "$LOG" 2>&7 &
	PIDS+=($!)
	exec 7>&-
	wait_for '.event == "start"' >/dev/null
	grep -q '^<6>relaywatch: start-up: policy in force at' "$TMP/stderr"
	kill -TERM "${PIDS[-1]}"
	wait "${PIDS[-1]}"
	grep -q '^<4>relaywatch: stopped: enforcement stays attached' "$TMP/stderr"
	# every line has a level
	[ "$(grep -vc '^<[0-7]>' "$TMP/stderr")" = 0 ]
	# stderr not the stream JOURNAL_STREAM names: no prefixes
	run env JOURNAL_STREAM=1:1 "$RW" run --policy /nonexistent --cgroup "$CG"
	[ "$status" = 2 ]
	[[ "$output" == relaywatch:* ]]
}
