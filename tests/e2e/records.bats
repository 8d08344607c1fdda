#!/usr/bin/env bats
# Records, end to end (issue 11 item 7): one record per denied connect, no
# 0-byte flow record for a connect the peer refused, and the binary (exe,
# sha256) on the records of processes that exited or whose binary was
# deleted. Real python clients in a test cgroup, listeners on loopback.

load lib/rw

CLIENT="$BATS_TEST_DIRNAME/lib/client.py"

setup() {
	rw_setup records
	PY=$(readlink -f /usr/bin/python3)
	cat >"$TMP/policy.yaml" <<-EOF
	mode: enforce
	rules:
	  - name: deny-relay
	    match: {cidr: [$NET.2/32]}
	    action: deny
	  - name: watch-local
	    match: {cidr: [$NET.3/32]}
	    action: alert
	  - name: kill-relay
	    match: {cidr: [$NET.4/32]}
	    action: kill
	EOF
}

teardown() { rw_teardown; }

# accept.py on ADDR:PORT until the test ends
listen() {
	/usr/bin/python3 "$BATS_TEST_DIRNAME/lib/accept.py" "$1" "$2" > "$TMP/accept-$2" &
	PIDS+=($!)
	rw_listening "$2" accept.py
}

# the daemon, started last; stopped, it reads and writes what the kernel
# queued
start() { start_daemon && DAEMON=${PIDS[-1]}; }
stop_daemon() {
	kill -TERM "$DAEMON"
	wait "$DAEMON" 2>/dev/null || true
	grep -q '"event":"stop"' "$LOG"
}

# the records of jq filter F, one per line
records() { jq -c "select($1)" "$LOG"; }

@test "a connect denied by a rule writes one record, and no flow record" {
	port=$(rw_port)
	listen "$NET.2" "$port"
	start
	run in_cg /usr/bin/python3 "$CLIENT" "$NET.2" "$port" --send 100
	[ "$output" = 1 ]   # EPERM
	wait_for ".event == \"connect\" and .dport == $port" >/dev/null
	stop_daemon
	n=$(records ".daddr == \"$NET.2\" and .dport == $port" | wc -l)
	[ "$n" = 1 ] || { records ".daddr == \"$NET.2\"" >&2; false; }
	[ -z "$(records '.event == "flow"')" ]
}

@test "a connect the peer refused writes no flow record; one that sent bytes keeps its own" {
	refused=$(rw_port)
	open=$(rw_port)
	listen "$NET.3" "$open"
	start
	run in_cg /usr/bin/python3 "$CLIENT" "$NET.3" "$refused" --send 100
	[ "$output" = 111 ]   # ECONNREFUSED: nothing listens there
	run in_cg /usr/bin/python3 "$CLIENT" "$NET.3" "$open" --send 100
	[ "$output" = 0 ]
	wait_for ".event == \"flow\" and .dport == $open" >/dev/null
	stop_daemon
	# both connects were matched and recorded (alert) ...
	[ "$(records ".event == \"connect\" and .dport == $refused" | wc -l)" = 1 ]
	[ "$(records ".event == \"connect\" and .dport == $open" | wc -l)" = 1 ]
	# ... only the one that sent has a flow record, with its bytes
	[ -z "$(records ".event == \"flow\" and .dport == $refused")" ]
	line=$(records ".event == \"flow\" and .dport == $open")
	[ "$(jq -r .bytes <<<"$line")" -ge 100 ]
	# control: a live process's record has its binary
	line=$(records ".event == \"connect\" and .dport == $open")
	[ "$(jq -r .exe <<<"$line")" = "$PY" ]
	[ "$(jq -r .sha256 <<<"$line")" = "$(sha256sum "$PY" | cut -d' ' -f1)" ]
}

@test "the flow record of a process that exited has its exe and sha256" {
	port=$(rw_port)
	listen "$NET.3" "$port"
	start
	# the socket closes at the process's exit: its flow record is read
	# after the exit record, when the process table has let it go
	run in_cg /usr/bin/python3 "$CLIENT" "$NET.3" "$port" --send 100
	[ "$output" = 0 ]
	line=$(wait_for ".event == \"flow\" and .dport == $port")
	[ "$(jq -r .attribution <<<"$line")" = snapshot ]
	[ "$(jq -r .exe <<<"$line")" = "$PY" ]
	[ "$(jq -r .sha256 <<<"$line")" = "$(sha256sum "$PY" | cut -d' ' -f1)" ]
	[ "$(jq -r .exe_deleted <<<"$line")" = false ]
}

@test "the kill record of a killed process has its exe and sha256" {
	port=$(rw_port)
	listen "$NET.4" "$port"
	start
	run in_cg /usr/bin/python3 "$CLIENT" "$NET.4" "$port"
	[ "$status" -eq 137 ]
	line=$(wait_for '.event == "kill"')
	[ "$(jq -r .exe <<<"$line")" = "$PY" ]
	[ "$(jq -r .sha256 <<<"$line")" = "$(sha256sum "$PY" | cut -d' ' -f1)" ]
}

@test "a binary deleted after exec: exe_deleted, and its sha256 taken while it ran" {
	port=$(rw_port)
	listen "$NET.3" "$port"
	mkdir "$TMP/bin"
	cp "$PY" "$TMP/bin/py"
	sha=$(sha256sum "$TMP/bin/py" | cut -d' ' -f1)
	start
	# alive for 1 s after its connect: the daemon reads that while it
	# runs; its flow record comes after its exit
	run in_cg "$TMP/bin/py" "$CLIENT" "$NET.3" "$port" --unlink --send 100 --live 1
	[ "$output" = 0 ]
	[ ! -e "$TMP/bin/py" ]
	for ev in connect flow; do
		line=$(wait_for ".event == \"$ev\" and .dport == $port")
		[ "$(jq -r .exe <<<"$line")" = "$TMP/bin/py" ]
		[ "$(jq -r .exe_deleted <<<"$line")" = true ]
		[ "$(jq -r .sha256 <<<"$line")" = "$sha" ] ||
			{ echo "$ev: $line" >&2; false; }
	done
}
