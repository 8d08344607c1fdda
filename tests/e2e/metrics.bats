#!/usr/bin/env bats
# run --metrics: scraped with curl and parsed with prometheus_client's
# text-format parser; the figures agree with the log; labels stay bounded
# however many destinations are seen; a port in use fails before
# anything attaches.

load lib/rw

PARSE="$BATS_TEST_DIRNAME/lib/promparse.py"

setup() {
	/usr/bin/python3 -c 'import prometheus_client' 2>/dev/null ||
		skip "python3-prometheus-client is not installed (make test installs it)"
	rw_setup metrics
	rw_deny_policy
	cat >> "$TMP/policy.yaml" <<-EOF
	  - name: watch-lab
	    match: {cidr: [$NET.128/25]}
	    action: alert
	EOF
	MPORT=$(rw_port)
}

teardown() {
	rw_teardown
}

scrape() {
	curl -sf "http://$NET.1:$MPORT/metrics" > "$TMP/metrics.txt"
	/usr/bin/python3 "$PARSE" < "$TMP/metrics.txt" > "$TMP/samples"
}

# value of sample $1 with labels matching jq filter $2 (default: any)
value() {
	jq -s -r --arg n "$1" "map(select(.name == \$n and (.labels | ${2:-true}))) | map(.value) | add // 0" "$TMP/samples"
}

@test "--metrics: valid text format, kernel counters and records agree with the log" {
	start_daemon --metrics "$NET.1:$MPORT" --dedup-ms 0
	for _ in 1 2 3; do in_cg nc -z $NET.2 9 || true; done
	in_cg nc -z $NET.135 9 || true
	wait_for '.event == "connect" and .action == "alert"' >/dev/null
	for _ in $(seq 50); do [ "$(grep -c '"action":"deny"' "$LOG")" = 3 ] && break; sleep 0.05; done
	for _ in $(seq 20); do
		scrape
		[ "$(value relaywatch_records_total '.action == "alert"')" = 1 ] && break
		sleep 0.05
	done
	grep -q '^# TYPE relaywatch_kernel_decisions_total counter' "$TMP/metrics.txt"
	[ "$(value relaywatch_kernel_decisions_total '.action == "deny"')" = 3 ]
	[ "$(value relaywatch_kernel_decisions_total '.action == "alert"')" = 1 ]
	[ "$(value relaywatch_kernel_blocked_total)" = 3 ]
	# records by label: what the log holds
	deny_log=$(jq -s 'map(select(.event == "connect" and .action == "deny" and .rule == "deny-relay")) | length' "$LOG")
	[ "$(value relaywatch_records_total '.event == "connect" and .action == "deny" and .rule == "deny-relay" and .category == "none"')" = "$deny_log" ]
	[ "$(value relaywatch_records_total '.event == "start"')" = 1 ]
	[ "$(value relaywatch_policy_rules)" = 2 ]
	[ "$(value relaywatch_events_lost_total)" = 0 ]
	[ "$(value relaywatch_reloads_total '.result == "ok"')" = 0 ]
	rss=$(value process_resident_memory_bytes)
	awk -v r="$rss" 'BEGIN { exit !(r > 1e6 && r < 1e9) }'
	fill=$(value relaywatch_ringbuf_fill_ratio)
	awk -v f="$fill" 'BEGIN { exit !(f >= 0 && f <= 1) }'
	# a reload is counted, ok and failed
	kill -HUP "${PIDS[-1]}"
	wait_for '.event == "reload"' >/dev/null
	echo 'rules: [' > "$TMP/policy.yaml"
	kill -HUP "${PIDS[-1]}"
	wait_for '.event == "reload" and .ok == false' >/dev/null
	scrape
	[ "$(value relaywatch_reloads_total '.result == "ok"')" = 1 ]
	[ "$(value relaywatch_reloads_total '.result == "failed"')" = 1 ]
	# not /metrics: 404
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$NET.1:$MPORT/")" = 404 ]
}

@test "--metrics: 60 destinations from 60 processes add no label values" {
	start_daemon --metrics "$NET.1:$MPORT" --dedup-ms 0
	in_cg nc -z $NET.128 9 || true
	wait_for '.event == "connect" and .action == "alert"' >/dev/null
	scrape
	before=$(grep -c '^relaywatch_' "$TMP/metrics.txt")
	for i in $(seq 129 188); do in_cg nc -z "$NET.$i" 9 || true; done
	for _ in $(seq 100); do
		[ "$(jq -s 'map(select(.event == "connect" and .action == "alert")) | length' "$LOG")" -ge 61 ] && break
		sleep 0.05
	done
	# a record is counted just after the log has it: scrape until it is
	for _ in $(seq 20); do
		scrape
		[ "$(value relaywatch_records_total '.event == "connect" and .rule == "watch-lab"')" = 61 ] && break
		sleep 0.05
	done
	[ "$(value relaywatch_records_total '.event == "connect" and .rule == "watch-lab"')" = 61 ]
	[ "$(grep -c '^relaywatch_' "$TMP/metrics.txt")" = "$before" ]
	# no address, pid or path in any label
	! grep -E "${NET//./\\.}\\.|pid=|exe=" "$TMP/metrics.txt"
}

@test "--metrics on a port in use: one sentence, exit 1, nothing attached" {
	nc -l $NET.1 "$MPORT" &
	PIDS+=($!)
	for _ in $(seq 50); do ss -Hltn "sport = :$MPORT" | grep -q . && break; sleep 0.05; done
	run "$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" --metrics "$NET.1:$MPORT"
	[ "$status" = 1 ]
	[[ "$output" == *"--metrics $NET.1:$MPORT: cannot listen: Address already in use"* ]]
	[ "${#lines[@]}" = 1 ]
	[ "$(bpftool cgroup show "$CG" | grep -c connect)" = 0 ]
	run "$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" --metrics nope
	[ "$status" = 1 ]
	[[ "$output" == *"expected ADDR:PORT"* ]]
}
