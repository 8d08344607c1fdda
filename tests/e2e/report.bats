#!/usr/bin/env bats
# relaywatch report over a log the real daemon wrote: curl and nc in the
# test cgroup to an alerted and a denied loopback address, the daemon
# stopped, then the report's figures checked against the same log
# counted with jq (golden-free: no expected output is stored).

load lib/rw

setup() {
	rw_setup report
	PORT=$(rw_port)
	# the loopback addresses classified, so records carry a category
	# and a provider as real relay and API addresses would
	cat > "$TMP/intel.yaml" <<-EOF
	version: 1
	entries:
	  - {cidr: $NET.1/32, category: ai-relay, provider: TestRelay}
	  - {cidr: $NET.2/32, category: ai-overseas, provider: TestAPI}
	EOF
	cat > "$TMP/policy.yaml" <<-EOF
	mode: enforce
	intel: [intel.yaml]
	rules:
	  - name: deny-relay
	    match: {cidr: [$NET.2/32]}
	    action: deny
	  - name: watch-local
	    match: {cidr: [$NET.1/32], port: $PORT}
	    action: alert
	  - name: kill-relay
	    match: {cidr: [$NET.3/32]}
	    action: kill
	EOF
}

teardown() {
	rw_teardown
}

# answer n HTTP requests on $NET.1:$PORT, one nc at a time
serve() {
	local n=$1
	(for _ in $(seq "$n"); do
		printf 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi' |
			nc -l $NET.1 "$PORT" >/dev/null
	done) &
	PIDS+=($!)
}

listening() {
	rw_listening "$PORT" nc
}

# a log of real events: 3 alerted curls that send a body (flows with
# bytes), 2 denied curls, 1 denied nc, 1 killed nc; the daemon stopped so
# the flows are written
make_log() {
	# with keys, the key client takes the first answer
	serve $([ "${1:-}" = keys ] && echo 4 || echo 3)
	start_daemon --dedup-ms 0
	DAEMON=${PIDS[-1]}
	[ "${1:-}" != keys ] || { listening && key_client; }
	for i in 1 2 3; do
		listening
		in_cg curl -s -m 3 -d "payload-$i-$(head -c 300 /dev/zero | tr '\0' x)" \
			"http://$NET.1:$PORT/v1/chat/completions" >/dev/null
		# the next nc of the loop replaces this one
		sleep 0.1
	done
	run in_cg curl -s -m 3 "http://$NET.2:$PORT/"
	[ "$status" -eq 7 ]
	run in_cg curl -s -m 3 "http://$NET.2:$PORT/"
	run in_cg nc -z -w 2 $NET.2 "$PORT"
	# killed at connect (SIGKILL before the call returns)
	run in_cg nc -z -w 2 $NET.3 "$PORT"
	[ "$status" -eq 137 ]
	wait_for '.event == "kill"' >/dev/null
	wait_for '.event == "flow"' >/dev/null
	wait_for '.event == "connect" and (.comm | startswith("nc"))' >/dev/null
	kill "$DAEMON"
	wait "$DAEMON" 2>/dev/null || true
	grep -q '"event":"stop"\|"event":"stats"' "$LOG"
	# RW_KEEP_LOG=FILE keeps a copy, to look at a real log
	[ -z "${RW_KEEP_LOG:-}" ] || cp "$LOG" "$RW_KEEP_LOG"
}

# a client holding a fake Anthropic key in its environment (credentials.
# bats' fakekeys.py) connects to the ai-relay address and lives 2 s, so
# the daemon reads its environment and writes a credential record
key_client() {
	/usr/bin/python3 "$BATS_TEST_DIRNAME/lib/fakekeys.py" "$TMP/keys"
	# shellcheck disable=SC1091
	. "$TMP/keys/env"
	in_cg env -i PATH=/usr/bin:/bin ANTHROPIC_API_KEY="$ANTHROPIC_KEY" \
		/usr/bin/python3 -c 'import socket, sys, time
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), 1)
except OSError:
    pass
time.sleep(2)' "$NET.1" "$PORT"
	wait_for '.event == "credential"' >/dev/null
}

# the report's figure: jq path F of the JSON report of the args
rj() {
	local f=$1
	shift
	"$RW" report --format json "$@" | jq -r "$f"
}

@test "report totals agree with the log counted by jq" {
	make_log keys
	"$RW" report --format json "$LOG" > "$TMP/r.json"
	# connects: connect and sendmsg records, each 1 + suppressed
	want=$(jq -s '[.[] | select(.event == "connect" or .event == "sendmsg") | 1 + (.suppressed // 0)] | add' "$LOG")
	[ "$want" -ge 6 ]
	[ "$(jq .totals.connects "$TMP/r.json")" = "$want" ]
	# bytes and flows: sums of the flow records
	want=$(jq -s '[.[] | select(.event == "flow") | .bytes] | add' "$LOG")
	[ "$want" -gt 900 ]
	[ "$(jq .totals.bytes "$TMP/r.json")" = "$want" ]
	want=$(jq -s '[.[] | select(.event == "flow") | .flows] | add' "$LOG")
	[ "$(jq .totals.flows "$TMP/r.json")" = "$want" ]
	# denied: the deny decisions
	want=$(jq -s '[.[] | select(.action == "deny" and (.event | IN("connect", "sendmsg", "existing", "tls", "http", "proxy"))) | 1 + (.suppressed // 0)] | add' "$LOG")
	[ "$want" -ge 3 ]
	[ "$(jq .totals.actions.deny "$TMP/r.json")" = "$want" ]
	[ "$(jq '[.denied_and_killed[] | select(.action == "deny") | .count] | add' "$TMP/r.json")" = "$want" ]
	# killed: the kill decisions, and the kill records
	want=$(jq -s '[.[] | select(.event == "connect" and .action == "kill") | 1 + (.suppressed // 0)] | add' "$LOG")
	[ "$want" -ge 1 ]
	[ "$(jq .totals.actions.kill "$TMP/r.json")" = "$want" ]
	[ "$(jq '[.denied_and_killed[] | select(.action == "kill" and .rule == "kill-relay") | .count] | add' "$TMP/r.json")" = "$want" ]
	want=$(jq -s '[.[] | select(.event == "kill")] | length' "$LOG")
	[ "$want" -ge 1 ]
	[ "$(jq .totals.kills "$TMP/r.json")" = "$want" ]
	# and they count for nc, whose pid they name (the daemon writes a
	# kill record without attribution when the process has gone)
	nc=$(readlink -f "$(command -v nc)")
	[ "$(jq --arg e "$nc" '.binaries[] | select(.exe == $e) | .stats.kills' "$TMP/r.json")" = "$want" ]
	# per binary: curl's and nc's connects, the sha256 the log gave
	curl=$(readlink -f "$(command -v curl)")
	want=$(jq -s --arg e "$curl" '[.[] | select(.event == "connect" and .exe == $e) | 1 + (.suppressed // 0)] | add' "$LOG")
	[ "$want" -ge 5 ]
	[ "$(jq --arg e "$curl" '.binaries[] | select(.exe == $e) | .stats.connects' "$TMP/r.json")" = "$want" ]
	[ "$(jq -r --arg e "$curl" '.binaries[] | select(.exe == $e) | .sha256' "$TMP/r.json")" = \
	  "$(sha256sum "$curl" | cut -d' ' -f1)" ]
	want=$(jq -s --arg e "$curl" '[.[] | select(.event == "flow" and .exe == $e) | .bytes] | add' "$LOG")
	[ "$(jq --arg e "$curl" '.binaries[] | select(.exe == $e) | .stats.bytes' "$TMP/r.json")" = "$want" ]
	nc=$(readlink -f "$(command -v nc)")
	want=$(jq -s --arg e "$nc" '[.[] | select(.event == "connect" and .exe == $e) | 1 + (.suppressed // 0)] | add' "$LOG")
	[ "$(jq --arg e "$nc" '.binaries[] | select(.exe == $e) | .stats.connects' "$TMP/r.json")" = "$want" ]
	# bytes by category and provider, as the flow records say
	want=$(jq -s '[.[] | select(.event == "flow" and .category == "ai-relay" and .provider == "TestRelay") | .bytes] | add' "$LOG")
	[ "$want" -gt 900 ]
	[ "$(jq '[.totals.destinations[] | select(.category == "ai-relay" and .provider == "TestRelay") | .bytes] | add' "$TMP/r.json")" = "$want" ]
	want=$(jq -s '[.[] | select(.event == "connect" and .category == "ai-overseas") | 1 + (.suppressed // 0)] | add' "$LOG")
	[ "$want" -ge 3 ]
	[ "$(jq '[.totals.destinations[] | select(.category == "ai-overseas") | .connects] | add' "$TMP/r.json")" = "$want" ]
	# the totals agree with each other: binaries, users, workloads
	for k in binaries users workloads; do
		for f in connects bytes flows records; do
			[ "$(jq "[.$k[].stats.$f] | add" "$TMP/r.json")" = "$(jq ".totals.$f" "$TMP/r.json")" ]
		done
	done
	# the workload is the test's cgroup
	[ "$(jq -r '.workloads[0].workload' "$TMP/r.json")" = "cgroup:/${CG#"$CGROOT"/}" ]
	# credentials: the key client's, per binary, the fingerprints the log
	# gave; nothing of the secret
	py=$(readlink -f /usr/bin/python3)
	want=$(jq -s --arg e "$py" '[.[] | select(.event == "credential" and .exe == $e and .error == null)] | length' "$LOG")
	[ "$want" -ge 1 ]
	[ "$(jq .totals.credentials "$TMP/r.json")" = "$want" ]
	[ "$(jq --arg e "$py" '[.binaries[] | select(.exe == $e) | .credentials[] | select(.key_provider != "(not inspected)") | .records] | add' "$TMP/r.json")" = "$want" ]
	[ "$(jq -r 'select(.event == "credential" and .fingerprint != null) | .fingerprint' "$LOG" | sort -u)" = \
	  "$(jq -r '.binaries[].credentials[] | select(.key_provider != "(not inspected)") | .fingerprint' "$TMP/r.json" | sort -u)" ]
	# the processes gone before the daemon read them: counted, not guessed
	want=$(jq -s '[.[] | select(.event == "credential" and .error != null)] | length' "$LOG")
	[ "$(jq .totals.credentials_not_inspected "$TMP/r.json")" = "$want" ]
	"$RW" report "$LOG" > "$TMP/r.txt"
	grep -q "rotate: Anthropic .* in env ANTHROPIC_API_KEY: .*…${ANTHROPIC_KEY: -4} hmac-sha256:" "$TMP/r.txt"
	! grep -qF "$ANTHROPIC_KEY" "$TMP/r.txt" "$TMP/r.json"
	# and where there are none, the report says so
	"$RW" report <(grep -v '"event":"credential"' "$LOG") > "$TMP/r0.txt"
	grep -q 'no credential records' "$TMP/r0.txt"
	grep -q "deny .*rule deny-relay .*$curl -> $NET.2:$PORT" "$TMP/r.txt"
	grep -q "kill .*rule kill-relay .*$nc -> $NET.3:$PORT" "$TMP/r.txt"
	[ "$(jq .bad_lines_total "$TMP/r.json")" = 0 ]
}

@test "truncated and garbage lines are named file:line; the rest is reported" {
	make_log
	n=$(wc -l < "$LOG")
	cp "$LOG" "$TMP/bad.jsonl"
	echo 'this is not json' >> "$TMP/bad.jsonl"
	tail -n 1 "$LOG" >> "$TMP/bad.jsonl"
	# a record cut off mid-way, no newline (a crash while writing)
	head -c 60 <(head -n 1 "$LOG") >> "$TMP/bad.jsonl"
	"$RW" report --format json "$TMP/bad.jsonl" > "$TMP/r.json"
	[ "$(jq .bad_lines_total "$TMP/r.json")" = 2 ]
	[ "$(jq -r '.bad_lines[0].where' "$TMP/r.json")" = "$TMP/bad.jsonl:$((n + 1))" ]
	[ "$(jq -r '.bad_lines[1].where' "$TMP/r.json")" = "$TMP/bad.jsonl:$((n + 3))" ]
	[ "$(jq -r '.bad_lines[1].reason' "$TMP/r.json")" = "truncated JSON" ]
	# the good lines all counted
	[ "$(jq .records "$TMP/r.json")" = $((n + 1)) ]
	run "$RW" report "$TMP/bad.jsonl"
	[ "$status" -eq 0 ]
	[[ "$output" == *"BAD LINES (2)"*"$TMP/bad.jsonl:$((n + 1)): not JSON"*"$TMP/bad.jsonl:$((n + 3)): truncated JSON"* ]]
	"$RW" report --format html "$TMP/bad.jsonl" > "$TMP/r.html"
	grep -q "<footer>.*Bad lines (2)" "$TMP/r.html"
	grep -q "$TMP/bad.jsonl:$((n + 3)): truncated JSON" "$TMP/r.html"
}

@test "a gzip'd rotated log is read with the current one" {
	make_log
	head -n 5 "$LOG" | gzip > "$TMP/log.jsonl.1.gz"
	tail -n +6 "$LOG" > "$TMP/log.jsonl.0"
	a=$(rj .totals.connects "$LOG")
	b=$(rj .totals.connects "$TMP/log.jsonl.1.gz" "$TMP/log.jsonl.0")
	[ "$a" = "$b" ]
	[ "$(rj .records "$TMP/log.jsonl.1.gz")" = 5 ]
	[ "$(rj .totals.bytes "$TMP/log.jsonl.1.gz" "$TMP/log.jsonl.0")" = "$(rj .totals.bytes "$LOG")" ]
}

@test "--since and --until filter by ts" {
	make_log
	# the ts of the third connect: records from it on
	t=$(jq -r 'select(.event == "connect") | .ts' "$LOG" | sed -n 3p)
	want=$(jq -s --arg t "$t" '[.[] | select(.ts >= $t and (.event == "connect" or .event == "sendmsg")) | 1 + (.suppressed // 0)] | add' "$LOG")
	all=$(rj .totals.connects "$LOG")
	[ "$(rj .totals.connects --since "$t" "$LOG")" = "$want" ]
	[ "$want" -lt "$all" ]
	before=$(jq -s --arg t "$t" '[.[] | select(.ts <= $t and (.event == "connect" or .event == "sendmsg")) | 1 + (.suppressed // 0)] | add' "$LOG")
	[ "$(rj .totals.connects --until "$t" "$LOG")" = "$before" ]
	# relative: everything was written in the last hour, nothing in the future
	[ "$(rj .totals.connects --since 1h "$LOG")" = "$all" ]
	[ "$(rj .in_range --since 2200-01-01T00:00:00Z "$LOG")" = 0 ]
}

@test "the HTML page renders in a headless browser and fetches nothing" {
	make_log
	"$RW" report --format html "$LOG" > "$TMP/r.html"
	# no external reference of any kind
	! grep -Eiq '(src|href)=["'"'"']?[a-z]+:|url\(|@import|https?://' "$TMP/r.html"
	grep -q '<svg id="timeline"' "$TMP/r.html"
	grep -q '<svg id="bytes"' "$TMP/r.html"
	command -v chromium >/dev/null || skip "chromium is not installed (apt-get install chromium)"
	chmod 755 "$TMP"; chmod 644 "$TMP/r.html"
	timeout 60 chromium --headless --no-sandbox --disable-gpu \
		--screenshot="$TMP/shot.png" --window-size=1200,900 \
		"file://$TMP/r.html" 2>/dev/null
	[ -s "$TMP/shot.png" ]
	# not blank, and the pictures drawn: many colours, blue event marks
	# and bars, red bins where curl and nc were denied
	read -r colours blue red < <(/usr/bin/python3 "$BATS_TEST_DIRNAME/lib/pngcolours.py" "$TMP/shot.png")
	echo "colours $colours, blue pixels $blue, red pixels $red"
	[ "$colours" -gt 8 ]
	[ "$blue" -gt 2000 ]
	[ "$red" -gt 100 ]
	# the SVG drawn: the DOM the browser built holds the event marks
	timeout 60 chromium --headless --no-sandbox --disable-gpu --dump-dom \
		"file://$TMP/r.html" 2>/dev/null > "$TMP/dom.html"
	[ "$(grep -c 'class="\?ev\|class="\?blk' "$TMP/dom.html")" -ge 2 ]
	grep -q 'class="\?bar' "$TMP/dom.html"
}
