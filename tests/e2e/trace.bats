#!/usr/bin/env bats
# trace as an incident responder reads it: real curls in a test cgroup,
# a loopback HTTP server, trace's text on a pipe and on a pseudo-terminal
# (script), its filters, and the Ctrl-C summary against the lines shown.

load lib/rw

setup() {
	rw_setup trace
	PORT=$(rw_port)
	# short rule names: the terminal test needs the columns
	cat > "$TMP/policy.yaml" <<-EOF
	mode: enforce
	rules:
	  - name: d
	    match: {cidr: [$NET.2/32]}
	    action: deny
	  - name: w
	    match: {cidr: [$NET.1/32], port: $PORT}
	    action: alert
	EOF
	# a curl of our own, at a path longer than a terminal line
	CURL=$(readlink -f "$(command -v curl)")
	LONGDIR="$TMP/a-directory-name-long-enough-to-overflow-a-line/bin"
	mkdir -p "$LONGDIR"
	cp "$CURL" "$LONGDIR/curl"
	# the same named "c": a name short enough for a 60-column line
	cp "$CURL" "$LONGDIR/c"
}

teardown() {
	rw_teardown
}

# an HTTP server on $NET.1:$PORT for the whole test
http_server() {
	/usr/bin/python3 -m http.server "$PORT" --bind "$NET.1" \
		--directory "$TMP" >/dev/null 2>&1 &
	PIDS+=($!)
	rw_listening "$PORT" "the HTTP server"
}

# trace ARGS..., text on $TMP/trace (a pipe's file), summary on $TMP/err
start_trace() {
	"$RW" trace --policy "$TMP/policy.yaml" --cgroup "$CG" "$@" \
		>"$TMP/trace" 2>"$TMP/err" &
	TRACE=$!
	PIDS+=($TRACE)
	for _ in $(seq 200); do
		grep -q '^# start' "$TMP/trace" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$TMP/err" >&2
	return 1
}

# Ctrl-C, then trace's exit
stop_trace() {
	kill -INT "$TRACE"
	wait "$TRACE"
}

# the event lines (not the daemon's "# ..." records)
events() { grep -v '^#' "$TMP/trace" || true; }

# the summary's figure before WORD ("alert 3" -> 3)
summary() { grep -oE "$1 [0-9]+" "$TMP/err" | awk '{ print $NF }'; }
shown() { grep -oE '^[0-9]+ decisions shown' "$TMP/err" | awk '{ print $1 }'; }

@test "20 curls print 20 lines: each connect line carries its verdict and the bytes sent" {
	http_server
	start_trace
	for _ in $(seq 20); do
		in_cg curl -s -o /dev/null -m 3 "http://$NET.1:$PORT/"
	done
	sleep 1
	stop_trace
	events > "$TMP/lines"
	echo "lines for 20 curls: $(wc -l < "$TMP/lines")" >&3
	[ "$(grep -c "^alert  *curl\[[0-9]*\] $NET.1:$PORT/tcp w sent [1-9][0-9]* B $CURL\$" "$TMP/lines")" = 20 ]
	# anything else must add something: a flow's bytes sent later
	[ -z "$(grep -v '^alert ' "$TMP/lines" | grep -v '^flow .* sent [1-9]')" ]
	[ "$(wc -l < "$TMP/lines")" -le 20 ] || {
		cat "$TMP/lines" >&2; false; }
	# no exit lines for processes that ended by themselves
	[ "$(grep -c '^exit ' "$TMP/lines")" = 0 ]
	[ "$(shown)" = 20 ]
	[ "$(summary alert)" = 20 ]
}

@test "piped, nothing is cut: the whole path of a long binary ends the line" {
	start_trace
	in_cg "$LONGDIR/curl" -s -m 3 "http://$NET.2:$PORT/" || true
	for _ in $(seq 100); do grep -q would_deny "$TMP/trace" && break; sleep 0.05; done
	stop_trace
	line=$(events | grep would_deny)
	[[ "$line" == *" $LONGDIR/curl" ]]
	[ "${#line}" -gt 100 ]
	# the daemon's own records are whole too (the stats record is long)
	[ "$(grep -c '^# stats .*log_dropped=0$' "$TMP/trace")" = 1 ]
	[ "$(summary would_deny)" = 1 ]
	grep -q 'allow 0, alert 0, would_deny 1, would_kill 0' "$TMP/err"
}

@test "on a terminal 60 columns wide the binary's path loses its left part" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	# trace's standard output is the pseudo-terminal script makes
	script -qfec "stty cols 60; echo \$\$ > '$TMP/pid'; COLUMNS=60 exec '$RW' trace --policy '$TMP/policy.yaml' --cgroup '$CG'" \
		/dev/null > "$TMP/tty" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 200); do grep -q '# start' "$TMP/tty" && break; sleep 0.05; done
	TRACE=$(cat "$TMP/pid")
	in_cg "$LONGDIR/c" -s -m 3 "http://$NET.2:$PORT/" || true
	for _ in $(seq 100); do grep -q would_deny "$TMP/tty" && break; sleep 0.05; done
	kill -INT "$TRACE"
	for _ in $(seq 100); do kill -0 "$TRACE" 2>/dev/null || break; sleep 0.05; done
	line=$(tr -d '\r' < "$TMP/tty" | grep -m1 '^would_deny ')
	echo "on the terminal: $line" >&3
	# the left is gone, the binary's name and the line's end stay
	[[ "$line" == *" …/c" || "$line" == *" …/bin/c" ]]
	[[ "$line" != *"$TMP"* ]]
	[[ "$line" == *"$NET.2:$PORT/tcp d"* ]]
	[ "$(printf '%s' "$line" | LC_ALL=C.UTF-8 wc -m)" -le 60 ]
}

@test "--pid shows one process; the summary counts only its lines" {
	http_server
	# the process to watch: its pid is known before it connects
	bash -c 'echo $$ > "$0/cgroup.procs" &&
		 while [ ! -e "$1/go" ]; do sleep 0.05; done &&
		 exec curl -s -o /dev/null -m 3 "$2"' \
		"$CG" "$TMP" "http://$NET.1:$PORT/" &
	target=$!
	PIDS+=($target)
	start_trace -p "$target"
	for _ in 1 2 3; do in_cg curl -s -o /dev/null -m 3 "http://$NET.1:$PORT/"; done
	touch "$TMP/go"
	wait "$target"
	sleep 1
	stop_trace
	[ "$(events | wc -l)" = 1 ]
	events | grep -q "^alert  *curl\[$target\] "
	[ "$(shown)" = 1 ]
	[ "$(summary alert)" = 1 ]
	[ "$(summary 'hidden by filters')" -ge 3 ]
}

@test "--uid shows one user's processes; the summary agrees" {
	http_server
	start_trace --uid 65534
	in_cg curl -s -o /dev/null -m 3 "http://$NET.1:$PORT/"
	in_cg setpriv --reuid=65534 --regid=65534 --clear-groups \
		curl -s -o /dev/null -m 3 "http://$NET.1:$PORT/"
	in_cg curl -s -m 3 "http://$NET.2:$PORT/" || true
	sleep 1
	stop_trace
	[ "$(events | wc -l)" = 1 ]
	events | grep -q '^alert  *curl\['
	[ "$(shown)" = 1 ]
	[ "$(summary would_deny)" = 0 ]
	[ "$(summary 'hidden by filters')" -ge 2 ]
}

@test "--exe shows one binary; -T prints an HH:MM:SS column" {
	http_server
	start_trace --exe "$LONGDIR/curl" -T
	in_cg curl -s -o /dev/null -m 3 "http://$NET.1:$PORT/"
	in_cg "$LONGDIR/curl" -s -m 3 "http://$NET.2:$PORT/" || true
	in_cg "$LONGDIR/curl" -s -o /dev/null -m 3 "http://$NET.1:$PORT/"
	sleep 1
	stop_trace
	events > "$TMP/lines"
	[ "$(wc -l < "$TMP/lines")" = 2 ]
	[ "$(grep -c " $LONGDIR/curl\$" "$TMP/lines")" = 2 ]
	# every line starts with the time
	[ "$(grep -cE '^[0-2][0-9]:[0-5][0-9]:[0-5][0-9] (alert|would_deny) ' "$TMP/lines")" = 2 ]
	[ "$(shown)" = 2 ]
	[ "$(summary alert)" = 1 ]
	[ "$(summary would_deny)" = 1 ]
}

@test "--exe of a path that does not exist, --container that is not an id: one sentence, exit 2" {
	run "$RW" trace --exe "$TMP/no-such-binary" --cgroup "$CG"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$TMP/no-such-binary: No such file or directory"* ]]
	run "$RW" trace --container not-hex --cgroup "$CG"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--container expects a container id"* ]]
	run "$RW" run -p 1 --policy "$TMP/policy.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"run does not take -p"* ]]
}
