#!/usr/bin/env bats
# run --syslog: every record reaches a real syslog daemon (rsyslog, on
# loopback ports and a unix socket of the test's own) as RFC 5424, parsed
# by it into MSGID, structured data and the JSON message; a receiver that
# is missing costs a warning, never the log file.

load lib/rw

setup() {
	command -v rsyslogd >/dev/null || skip "rsyslog is not installed (make test installs it)"
	rw_setup syslog
	rw_deny_policy
	cat >> "$TMP/policy.yaml" <<-EOF
	  - name: watch-local
	    match: {cidr: [$NET.3/32]}
	    action: alert
	EOF
	UPORT=$(rw_port); TPORT=$(rw_port)
}

teardown() {
	rw_teardown
}

# rsyslogd in the foreground, its own config, work directory and socket;
# writes what it parsed, tab-separated, to $TMP/rsyslog.out
start_rsyslog() {
	mkdir -p "$TMP/rsy"
	cat > "$TMP/rsy/conf" <<-EOF
	global(workDirectory="$TMP/rsy")
	module(load="imudp")
	module(load="imtcp")
	module(load="imuxsock" SysSock.Use="off")
	input(type="imudp" address="$NET.1" port="$UPORT")
	input(type="imtcp" address="$NET.1" port="$TPORT")
	input(type="imuxsock" Socket="$TMP/rsy/log.sock" UseSpecialParser="off" ParseHostname="on")
	template(name="t" type="list") {
	  property(name="inputname") constant(value="\t")
	  property(name="syslogfacility") constant(value="\t")
	  property(name="syslogseverity") constant(value="\t")
	  property(name="app-name") constant(value="\t")
	  property(name="procid") constant(value="\t")
	  property(name="msgid") constant(value="\t")
	  property(name="structured-data") constant(value="\t")
	  property(name="msg") constant(value="\n")
	}
	if \$app-name == "relaywatch" then action(type="omfile" file="$TMP/rsyslog.out" template="t")
	EOF
	rsyslogd -n -f "$TMP/rsy/conf" -i "$TMP/rsy/pid" 2>"$TMP/rsy/err" &
	PIDS+=($!)
	for _ in $(seq 100); do
		[ -S "$TMP/rsy/log.sock" ] && ss -Hltn "sport = :$TPORT" | grep -q . && return 0
		sleep 0.05
	done
	cat "$TMP/rsy/err" >&2
	return 1
}

# every record of the log file is in rsyslog's output, same event and
# JSON, from input $1; deny records at severity warning (4)
same_records() {
	local input=$1 n
	n=$(wc -l < "$LOG")
	for _ in $(seq 100); do
		[ "$(grep -c "^$input	" "$TMP/rsyslog.out" 2>/dev/null)" -ge "$n" ] && break
		sleep 0.05
	done
	awk -F'\t' -v i="$input" '$1 == i { print $8 }' "$TMP/rsyslog.out" |
		jq -c . > "$TMP/via-syslog"
	jq -c . "$LOG" > "$TMP/via-file"
	diff "$TMP/via-file" "$TMP/via-syslog"
	# MSGID is the event, app-name and facility daemon (3)
	awk -F'\t' -v i="$input" '$1 == i { print $6 }' "$TMP/rsyslog.out" > "$TMP/msgids"
	jq -r .event "$LOG" | diff - "$TMP/msgids"
	awk -F'\t' -v i="$input" '$1 == i && $2 != 3 { bad = 1 } END { exit bad }' "$TMP/rsyslog.out"
	awk -F'\t' -v i="$input" '$1 == i && $6 == "connect" && $7 ~ /action="deny"/ && $3 != 4 { bad = 1 } END { exit bad }' "$TMP/rsyslog.out"
}

@test "--syslog=udp: every record reaches rsyslog as RFC 5424 with structured data" {
	start_rsyslog
	start_daemon --syslog="udp:$NET.1:$UPORT"
	in_cg nc -z $NET.2 9 || true
	in_cg nc -z $NET.3 9 || true
	wait_for '.event == "connect" and .action == "alert"' >/dev/null
	same_records imudp
	# the fields a SIEM filters on are structured data, parsed by rsyslog
	line=$(awk -F'\t' '$1 == "imudp" && $6 == "connect" && $7 ~ /action="deny"/' "$TMP/rsyslog.out" | head -1)
	[[ "$line" == *'[origin software="relaywatch" swVersion="'* ]]
	[[ "$line" == *'[relaywatch@32473 '*'rule="deny-relay"'*"daddr=\"$NET.2\""*'comm="nc"'* ]]
	[[ "$line" == *'exe="'*'/nc'* ]]
	alert=$(awk -F'\t' '$1 == "imudp" && $6 == "connect" && $7 ~ /action="alert"/ { print $3 }' "$TMP/rsyslog.out" | head -1)
	[ "$alert" = 5 ]
}

@test "--syslog=tcp (octet counting) and --syslog=unix: the same records" {
	start_rsyslog
	start_daemon --syslog="tcp:$NET.1:$TPORT"
	in_cg nc -z $NET.2 9 || true
	wait_for '.event == "connect"' >/dev/null
	same_records imtcp
	kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}"
	unset 'PIDS[-1]'
	: > "$LOG"
	start_daemon --syslog="unix:$TMP/rsy/log.sock"
	in_cg nc -z $NET.2 9 || true
	wait_for '.event == "connect"' >/dev/null
	same_records imuxsock
}

@test "a syslog receiver that is missing: a warning, the log file goes on; it is used once it is there" {
	start_daemon --syslog="unix:$TMP/rsy/log.sock"
	grep -q "syslog unix:$TMP/rsy/log.sock: No such file or directory; records go to the log file" "$TMP/err"
	in_cg nc -z $NET.2 9 || true
	wait_for '.event == "connect" and .action == "deny"' >/dev/null
	start_rsyslog
	in_cg nc -z $NET.3 9 || true
	wait_for '.event == "connect" and .action == "alert"' >/dev/null
	for _ in $(seq 100); do grep -q 'action="alert"' "$TMP/rsyslog.out" 2>/dev/null && break; sleep 0.05; done
	grep -q 'action="alert"' "$TMP/rsyslog.out"
	grep -q "delivering again" "$TMP/err"
	# warned once while it was missing, not once per record
	[ "$(grep -c 'No such file or directory' "$TMP/err")" = 1 ]
	# the stats record counts what syslog missed
	kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}"
	jq -se 'map(select(.event == "stats"))[0] | .syslog_dropped >= 1 and .syslog_sent >= 1' "$LOG"
}

@test "--syslog with a bad target is a usage error before anything attaches" {
	run "$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" --syslog=ftp:x
	[ "$status" = 2 ]
	[[ "$output" == *"unknown target 'ftp:x'"* ]]
	[ "$(bpftool cgroup show "$CG" | grep -c connect)" = 0 ]
}
