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
	rw_deny_policy
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
	echo "# flood: $(cut -d" " -f1 "$TMP/flood.1") + $(cut -d" " -f1 "$TMP/flood.2") calls in 8 s" >&3
}

five_countries() {
	cat > "$1" <<-EOF
	mode: enforce
	rules:
	  - name: five-largest
	    match: {country: [US, DE, JP, GB, SG]}
	    action: alert
	  - name: deny-relay
	    match: {cidr: [$NET.2/32]}
	    action: deny
	EOF
}

# a policy of 150,000 IPv4 and 150,000 IPv6 prefixes (an intelligence
# file of relay ranges), and its own deny rule
big_prefixes() {
	/usr/bin/python3 "$BATS_TEST_DIRNAME/lib/bigintel.py" 150000 "$TMP/big"
	cat > "$1" <<-EOF
	mode: enforce
	intel: [$TMP/big4.yaml, $TMP/big6.yaml]
	rules:
	  - name: relays
	    match: {category: ai-relay}
	    action: alert
	  - name: deny-relay
	    match: {cidr: [$NET.2/32]}
	    action: deny
	EOF
}

@test "a five-country policy costs no prefix: validate says so, it starts and reloads 10 times" {
	five_countries "$TMP/policy.yaml"
	run "$RW" policy validate "$TMP/policy.yaml"
	[ "$status" = 0 ]
	# the deny rule's one /32: the countries are in the country table
	[[ "$output" == *"prefixes 1 IPv4, 0 IPv6"* ]]
	start_daemon -v
	rw_reloads 10 200
	[ "$(jq -s 'map(select(.event == "reload" and .ok)) | length' "$LOG")" = 10 ]
	run in_cg nc -zv "$NET.2" 9
	[[ "$output" == *"not permitted"* ]]
	grep -q "prefixes: 1 IPv4, 0 IPv6" "$TMP/err"
}

@test "a policy of 300,000 prefixes starts and reloads 10 times; validate reports its prefixes" {
	big_prefixes "$TMP/policy.yaml"
	run "$RW" policy validate "$TMP/policy.yaml"
	[ "$status" = 0 ]
	[[ "$output" =~ prefixes\ ([0-9]+)\ IPv4,\ ([0-9]+)\ IPv6 ]]
	n4=${BASH_REMATCH[1]} n6=${BASH_REMATCH[2]}
	# the rule's own /32 and the relays'
	[ "$n4" = 150001 ] && [ "$n6" = 150000 ]
	start_daemon -v
	rw_reloads 10 400
	[ "$(jq -s 'map(select(.event == "reload" and .ok)) | length' "$LOG")" = 10 ]
	run in_cg nc -zv "$NET.2" 9
	[[ "$output" == *"not permitted"* ]]
	# the tries were sized for two generations of it
	grep -q "prefixes: $n4 IPv4, $n6 IPv6 (tries sized $((2 * n4 + n4 / 4 + 1024)), $((2 * n6 + n6 / 4 + 1024)))" "$TMP/err"
}

@test "a reload that outgrows the tries sized at start-up: a clear error, the policy in force stays" {
	start_daemon
	big_prefixes "$TMP/policy.yaml"
	# the first fits beside the small policy (the tries' default size,
	# 262,144); the second cannot fit beside the first
	kill -HUP "${PIDS[0]}"
	wait_for '.event == "reload" and .ok' >/dev/null
	kill -HUP "${PIDS[0]}"
	line=$(wait_for '.event == "reload" and .ok == false')
	[[ "$(jq -r .error <<<"$line")" == *"prefix trie is full: this policy needs"*"Restart the daemon"* ]]
	run in_cg nc -zv "$NET.2" 9
	[[ "$output" == *"not permitted"* ]]
	# restarted, it makes a set sized for this policy beside the old one
	kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}"
	: > "$LOG"
	start_daemon
	jq -e 'select(.event == "start") | .adopted == "beside"' "$LOG" >/dev/null
	kill -HUP "${PIDS[-1]}"
	wait_for '.event == "reload" and .ok' >/dev/null
}

@test "a policy over the prefix limit: validate and run fail naming it, nothing attached" {
	big_prefixes "$TMP/policy.yaml"
	# the limit (2^20 per family) lowered for the test
	run env RELAYWATCH_PREFIX_LIMIT=100000 "$RW" policy validate "$TMP/policy.yaml"
	[ "$status" = 2 ]
	[[ "$output" == *"needs 150001 IPv4 and 150000 IPv6 prefixes; the limit is 100000 per family"* ]]
	run env RELAYWATCH_PREFIX_LIMIT=100000 "$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG"
	[ "$status" = 2 ]
	[[ "$output" == *"the limit is 100000 per family"* ]]
	[ "$(bpftool cgroup show "$CG" | grep -c connect)" = 0 ]
}

@test "a flood of watched connections: the log stays small and the totals add up" {
	cat > "$TMP/policy.yaml" <<-EOF
	mode: enforce
	rules:
	  - name: watch-local
	    match: {cidr: [$NET.3/32]}
	    action: alert
	EOF
	port=$(rw_port)
	/usr/bin/python3 "$BATS_TEST_DIRNAME/lib/accept.py" "$NET.3" "$port" > "$TMP/accept" &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q ready "$TMP/accept" && break; sleep 0.05; done
	start_daemon
	in_cg /usr/bin/python3 "$BATS_TEST_DIRNAME/lib/flood.py" "$NET.3" "$port" 6 > "$TMP/flood"
	read -r calls connected < "$TMP/flood"
	[ "$connected" -gt 1000 ]
	sleep 2.5   # the last window's folded flows are written when it ends
	kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}"
	bytes=$(stat -c %s "$LOG")
	echo "# $calls connects in 6 s: a log of $bytes bytes, $((bytes * 10)) a minute" >&3
	# under 1 MB a minute of flood
	[ $((bytes * 10)) -lt 1000000 ]
	# every connection is in a flow record, folded or not, or counted
	# lost (a busy machine may fill the ring: the lost records say so)
	flows=$(jq -s 'map(select(.event == "flow") | .flows) | add' "$LOG")
	lost=$(jq -s 'map(select(.event == "lost") | .by_type.flow // 0) | add // 0' "$LOG")
	[ $((flows + lost)) = "$connected" ] ||
		{ echo "flows $flows + lost $lost != connected $connected" >&2; false; }
	# every matched connect: read (and written: nothing was capped) or
	# folded by the kernel (README: matched = received + suppressed + lost)
	jq -se '(map(select(.event == "connect")) | length) as $written
		| map(select(.event == "stats"))[0]
		| .matched == .received_connect + .suppressed + .lost
		  and .received_connect == $written and .rate_capped == 0' "$LOG" >/dev/null
}

# one process connects to $NET.1 ... $NET.200, port 9
connect_200() {
	in_cg /usr/bin/python3 -c '
import socket, sys
for i in range(1, 201):
    s = socket.socket()
    try: s.connect((sys.argv[1] + "." + str(i), 9))
    except OSError: pass
    s.close()' "$NET"
}

@test "one process, 200 destinations in a second: 20 records, the rest counted in rate_limited" {
	cat > "$TMP/policy.yaml" <<-EOF
	mode: enforce
	rules:
	  - name: watch-net
	    match: {cidr: [$NET.0/24]}
	    action: alert
	EOF
	start_daemon
	connect_200
	line=$(wait_for '.event == "rate_limited"')
	kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}"
	written=$(jq -s 'map(select(.event == "connect" and .comm == "python3")) | length' "$LOG")
	capped=$(jq -s 'map(select(.event == "rate_limited") | .by_type.connect // 0) | add' "$LOG")
	echo "# $written connect records, $capped counted in rate_limited" >&3
	[ "$written" -le 40 ]      # 20 a second; the loop may span two
	[ $((written + capped)) = 200 ]
	[ "$(jq -r .comm <<<"$line")" = python3 ]
	[ "$(jq -r .exe <<<"$line")" != null ]
	# the cap holds back records, never decisions: with it off, all 200
	: > "$LOG"
	start_daemon --process-rate 0
	connect_200
	for _ in $(seq 100); do
		[ "$(jq -s 'map(select(.event == "connect")) | length' "$LOG")" = 200 ] && break
		sleep 0.05
	done
	[ "$(jq -s 'map(select(.event == "connect")) | length' "$LOG")" = 200 ]
}
