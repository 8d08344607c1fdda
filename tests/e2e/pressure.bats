#!/usr/bin/env bats
# Under a flood the daemon keeps control: a connect flood from the watched
# cgroup (every event written: --dedup-ms 0, a small ring so it overflows)
# must not hold a reload, a loss report or SIGTERM until it ends. The
# assertions are about order, not time: each must happen while the flood
# is still running; the latencies are printed for the record.

load lib/rw

FLOOD="$BATS_TEST_DIRNAME/lib/flood.py"

setup() {
	rw_setup flood
	cat > "$TMP/policy.yaml" <<-EOF
	mode: enforce
	rules:
	  - name: deny-relay
	    match: {cidr: [$NET.2/32]}
	    action: deny
	EOF
}

teardown() {
	rw_teardown
}

ms() { date +%s%3N; }

@test "a flood holds neither a reload, nor the loss report, nor SIGTERM" {
	start_daemon --dedup-ms 0 --ringbuf-kb 64
	for i in 1 2; do
		in_cg /usr/bin/python3 "$FLOOD" "$NET.2" 9 8 > "$TMP/flood.$i" 2>"$TMP/flood.err.$i" &
		FLOODS+=($!)
	done
	PIDS+=("${FLOODS[@]}")
	sleep 1.5
	# a rule added while the flood goes on
	cat >> "$TMP/policy.yaml" <<-EOF
	  - name: deny-second
	    match: {cidr: [$NET.3/32]}
	    action: deny
	EOF
	t0=$(ms)
	kill -HUP "${PIDS[0]}"
	until in_cg nc -zv "$NET.3" 9 2>&1 | grep -q "not permitted"; do
		kill -0 "${FLOODS[0]}" || { echo "the flood ended before the reload took effect" >&2; cat "$TMP"/flood.* >&2; tail -3 "$TMP/err" >&2; false; }
		sleep 0.01
	done
	t_reload=$(( $(ms) - t0 ))
	kill -0 "${FLOODS[0]}"
	# losses are reported while they happen, by type
	until grep -m1 -q '"event":"lost"' "$LOG"; do
		kill -0 "${FLOODS[0]}" || { echo "no lost record during the flood" >&2; false; }
		sleep 0.05
	done
	grep -m1 '"event":"lost"' "$LOG" | jq -e '.by_type.connect > 0 and .lost > 0' >/dev/null
	# SIGTERM: the daemon leaves while the flood goes on
	t0=$(ms)
	kill -TERM "${PIDS[0]}"
	wait "${PIDS[0]}"
	t_term=$(( $(ms) - t0 ))
	kill -0 "${FLOODS[0]}"
	echo "# reload in force after ${t_reload} ms, SIGTERM took ${t_term} ms, during the flood" >&3
	# the stats record is written, and counts what it could not read
	tail -c 20000 "$LOG" | grep '"event":"stats"' | jq -e '.lost > 0 and (.unread_bytes | type) == "number"' >/dev/null
	for p in "${FLOODS[@]}"; do wait "$p"; done
	echo "# flood: $(cat "$TMP/flood.1") + $(cat "$TMP/flood.2") calls in 8 s" >&3
}
