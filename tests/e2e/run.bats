#!/usr/bin/env bats
# End-to-end: the real binary, real clients (curl, nc) in a test cgroup,
# loopback listeners; the JSON log is checked field by field.

load lib/rw

setup() {
	rw_setup e2e
	PORT=$(rw_port)
	cat > "$TMP/policy.yaml" <<-EOF
	mode: enforce
	rules:
	  - name: deny-relay
	    match: {cidr: [$NET.2/32]}
	    action: deny
	  - name: watch-local
	    match: {cidr: [$NET.1/32], port: $PORT}
	    action: alert
	EOF
}

teardown() {
	rw_teardown
}

http_once() {
	# one canned HTTP answer on $NET.1:$PORT
	printf 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi' |
		nc -l $NET.1 "$PORT" >/dev/null &
	PIDS+=($!)
	# listening before curl connects (a fixed sleep lost that race)
	rw_listening "$PORT" nc
}

@test "curl to a denied address fails, the log names curl field by field" {
	start_daemon
	run in_cg curl -s -m 3 "http://$NET.2:$PORT/v1/chat/completions"
	[ "$status" -eq 7 ]
	line=$(wait_for '.event == "connect" and .comm == "curl"')
	[ "$(jq -r .action <<<"$line")" = deny ]
	[ "$(jq -r .rule <<<"$line")" = deny-relay ]
	[ "$(jq -r .family <<<"$line")" = ipv4 ]
	[ "$(jq -r .proto <<<"$line")" = tcp ]
	[ "$(jq -r .daddr <<<"$line")" = $NET.2 ]
	[ "$(jq -r .dport <<<"$line")" = "$PORT" ]
	[ "$(jq -r .uid <<<"$line")" = 0 ]
	[ "$(jq -r .user <<<"$line")" = root ]
	[ "$(jq -r .exe <<<"$line")" = "$(readlink -f "$(command -v curl)")" ]
	[ "$(jq -r .sha256 <<<"$line")" = "$(sha256sum "$(readlink -f "$(command -v curl)")" | cut -d' ' -f1)" ]
	[[ "$(jq -r .cmdline <<<"$line")" == *"http://$NET.2:$PORT/v1/chat/completions"* ]]
	[ "$(jq -r .cgroup <<<"$line")" = "/${CG#"$CGROOT"/}" ]
	[ "$(jq -r '.pid > 1' <<<"$line")" = true ]
	[ "$(jq -r '.ppid > 1' <<<"$line")" = true ]
	[ "$(jq -r '.parents | length > 0' <<<"$line")" = true ]
	[[ "$(jq -r .ts <<<"$line")" =~ ^20[0-9-]{8}T[0-9:]{8}\.[0-9]{9}Z$ ]]
}

@test "curl to a watched address succeeds and is recorded as alert" {
	http_once
	start_daemon
	run in_cg curl -s -m 3 "http://$NET.1:$PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	line=$(wait_for '.event == "connect" and .comm == "curl"')
	[ "$(jq -r .action <<<"$line")" = alert ]
	[ "$(jq -r .rule <<<"$line")" = watch-local ]
}

@test "nc over TCP and UDP to a denied address is stopped and recorded" {
	start_daemon
	run in_cg nc -z -w 2 $NET.2 "$PORT"
	[ "$status" -ne 0 ]
	run in_cg nc -u -w 1 $NET.2 "$PORT" <<<"x"
	line=$(wait_for '.event == "connect" and .proto == "tcp" and (.comm | startswith("nc"))')
	[ "$(jq -r .action <<<"$line")" = deny ]
	[ "$(jq -r .exe <<<"$line")" = "$(readlink -f "$(command -v nc)")" ]
	line=$(wait_for '.proto == "udp" and (.comm | startswith("nc"))')
	[ "$(jq -r .action <<<"$line")" = deny ]
}

@test "trace --json sees the same connection, monitor only" {
	"$RW" trace --json --policy "$TMP/policy.yaml" --cgroup "$CG" >"$TMP/trace" 2>"$TMP/err" &
	PIDS+=($!)
	wait_for '.event == "start"' "$TMP/trace" >/dev/null
	# nothing listens there: monitor lets the connect through to a refusal
	run in_cg curl -s -m 3 "http://$NET.2:$PORT/"
	[ "$status" -eq 7 ]
	line=$(wait_for '.event == "connect" and .comm == "curl"' "$TMP/trace")
	[ "$(jq -r .action <<<"$line")" = would_deny ]
	[ "$(jq -r .exe <<<"$line")" = "$(readlink -f "$(command -v curl)")" ]
	[ "$(jq -r .enforced <<<"$line")" = false ]
}

@test "trace text lines are whole when piped; Ctrl-C prints a summary" {
	"$RW" trace --policy "$TMP/policy.yaml" --cgroup "$CG" >"$TMP/trace" 2>"$TMP/err" &
	pid=$!
	PIDS+=($pid)
	for _ in $(seq 100); do grep -q '^# start' "$TMP/trace" && break; sleep 0.05; done
	in_cg curl -s -m 3 "http://$NET.2:$PORT/a/very/long/path/to/make/the/cmdline/long" || true
	for _ in $(seq 100); do grep -q 'would_deny' "$TMP/trace" && break; sleep 0.05; done
	kill -INT "$pid"
	wait "$pid"
	grep -q 'would_deny *curl\[[0-9]*\] '"$NET.2:$PORT"'/tcp deny-relay' "$TMP/trace"
	# not a terminal: nothing is cut, the binary's full path ends the line
	grep -q "deny-relay.* $(readlink -f "$(command -v curl)")\$" "$TMP/trace"
	grep -q 'allow 0, alert 0, would_deny 1, would_kill 0' "$TMP/err"
}

@test "SIGUSR1 reopens the log (logrotate); SIGHUP only reloads" {
	start_daemon
	mv "$LOG" "$LOG.1"
	kill -HUP "${PIDS[-1]}"
	# the reload is written to the file still open: the renamed one
	for _ in $(seq 100); do grep -q '"event":"reload"' "$LOG.1" && break; sleep 0.05; done
	jq -e 'select(.event == "reload") | .ok' "$LOG.1" >/dev/null
	[ ! -e "$LOG" ]
	kill -USR1 "${PIDS[-1]}"
	sleep 0.3
	in_cg curl -s -m 3 "http://$NET.2:$PORT/" || true
	wait_for '.event == "connect" and .comm == "curl"' "$LOG" >/dev/null
	[ "$(grep -c '"event":"connect"' "$LOG.1")" = 0 ]
}

@test "--no-persist: SIGTERM detaches, nothing stays attached to the cgroup" {
	start_daemon --no-persist
	[ "$(bpftool cgroup show "$CG" | grep -c connect4)" = 1 ]
	kill -TERM "${PIDS[-1]}"
	wait "${PIDS[-1]}"
	[ "$(bpftool cgroup show "$CG" | grep -c -E 'connect|sendmsg')" = 0 ]
	jq -e 'select(.event == "stats")' "$LOG" >/dev/null
	run "$RW" status --cgroup "$CG"
	[ "$status" = 4 ]
}

@test "SIGTERM leaves enforcement in force; detach removes it" {
	start_daemon
	kill -TERM "${PIDS[-1]}"
	wait "${PIDS[-1]}"
	jq -e 'select(.event == "stop" and .persist)' "$LOG" >/dev/null
	grep -q 'enforcement stays attached' "$TMP/err"
	[ "$(bpftool cgroup show "$CG" | grep -c connect4)" = 1 ]
	# still denied with no daemon: EPERM, not a refused connection
	run in_cg nc -zv $NET.2 9
	[[ "$output" == *"not permitted"* ]]
	run "$RW" status --cgroup "$CG"
	[ "$status" = 3 ]
	run "$RW" detach --cgroup "$CG"
	[ "$status" = 0 ]
	[[ "$output" == *"detached (1 set"* ]]
	[ "$(bpftool cgroup show "$CG" | grep -c -E '^[0-9]')" = 0 ]
	CGID=$(stat -c %i "$CG")
	[ ! -e "/sys/fs/bpf/relaywatch/$CGID" ]
	run "$RW" detach --cgroup "$CG"
	[ "$status" = 0 ]
	[[ "$output" == *"nothing pinned"* ]]
}

@test "detach of a daemon that cannot stop says what it is doing; once it runs again, the detach it was asked for happens" {
	start_daemon
	kill -STOP "${PIDS[-1]}"
	run "$RW" detach --cgroup "$CG"
	[ "$status" = 1 ]
	[[ "$output" == *"did not stop: stop it (pid ${PIDS[-1]}, state T, in "* ]]
	# nothing was removed while it could not stop: still enforced
	[ "$(bpftool cgroup show "$CG" | grep -c connect4)" = 1 ]
	# the SIGUSR2 it got while stopped is handled now: it detaches itself
	kill -CONT "${PIDS[-1]}"
	wait "${PIDS[-1]}"
	[ "$(bpftool cgroup show "$CG" | grep -c -E '^[0-9]')" = 0 ]
	run "$RW" detach --cgroup "$CG"
	[ "$status" = 0 ]
	[[ "$output" == *"nothing pinned"* ]]
}

@test "--reload-on-change: a ConfigMap-style swap reloads; a touch or a bad file does not replace the policy" {
	# kubelet's layout: policy.yaml -> ..data/policy.yaml, ..data -> ..TS
	mkdir -p "$TMP/cm/..1"
	sed 's/action: deny/action: alert/' "$TMP/policy.yaml" > "$TMP/cm/..1/policy.yaml"
	ln -s ..1 "$TMP/cm/..data"
	ln -s ..data/policy.yaml "$TMP/cm/policy.yaml"
	"$RW" run --policy "$TMP/cm/policy.yaml" --cgroup "$CG" --log "$LOG" \
		--reload-on-change 2>"$TMP/err" &
	PIDS+=($!)
	wait_for '.event == "start"' >/dev/null
	run in_cg nc -zv $NET.2 9
	[[ "$output" != *"not permitted"* ]]
	# the same contents again: no reload
	touch "$TMP/cm/..1/policy.yaml"
	sleep 0.8
	[ "$(grep -c '"event":"reload"' "$LOG")" = 0 ]
	# the swap kubelet makes: a new directory, ..data renamed over
	mkdir "$TMP/cm/..2"
	cp "$TMP/policy.yaml" "$TMP/cm/..2/policy.yaml"
	ln -s ..2 "$TMP/cm/..data_tmp"
	mv -T "$TMP/cm/..data_tmp" "$TMP/cm/..data"
	wait_for '.event == "reload" and .reason == "file-changed" and .ok' >/dev/null
	run in_cg nc -zv $NET.2 9
	[[ "$output" == *"not permitted"* ]]
	# a broken file: the reload fails, the policy in force stays
	echo 'rules: [' > "$TMP/cm/..2/policy.yaml"
	wait_for '.event == "reload" and .ok == false' >/dev/null
	run in_cg nc -zv $NET.2 9
	[[ "$output" == *"not permitted"* ]]
}
