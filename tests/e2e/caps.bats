#!/usr/bin/env bats
# The capability set (docs/deploy.md, Capabilities; the unit's
# CapabilityBoundingSet=, the DaemonSet's capabilities.add): the daemon as
# root held to exactly that set by setpriv, then to the set less one
# capability at a time, and what each removal breaks. The other user is
# uid 65534 running a copy of bash only it may read (mode 0700).

load lib/rw

ROOT_DIR="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"

setup() {
	command -v setpriv >/dev/null || skip "setpriv is not installed (util-linux)"
	rw_setup caps
	SET=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT_DIR/dist/relaywatch.service.in" |
		tr 'A-Z ' 'a-z\n' | sed 's/^cap_//')
	# the other user's binary: a directory it may enter, a file only it reads
	chmod 0755 "$TMP"
	mkdir "$TMP/nobody"
	cp /bin/bash "$TMP/nobody/rwsh"
	chown -R 65534:65534 "$TMP/nobody"
	chmod 0700 "$TMP/nobody/rwsh"
	PORT=$(rw_port)
	rw_deny_policy
	printf '  - name: kill-relay\n    match: {cidr: [%s/32]}\n    action: kill\n' "$NET.3" >> "$TMP/policy.yaml"
}

teardown() {
	rw_teardown
}

# the set less the capabilities named, as setpriv's +a,+b
caps_without() {
	local c out=""
	for c in $SET; do
		[[ " $* " == *" $c "* ]] || out+=",+$c"
	done
	echo "${out#,}"
}

# relaywatch run held to the capabilities given; 0 once started, 1 if it
# exited first (its stderr in $TMP/err)
start_with() {
	setpriv --bounding-set=-all,"$1" --inh-caps=-all \
		"$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" --log "$LOG" 2>"$TMP/err" &
	PIDS+=($!)
	for _ in $(seq 200); do
		grep -q '"event":"start"' "$LOG" 2>/dev/null && return 0
		kill -0 "${PIDS[-1]}" 2>/dev/null || { cat "$TMP/err"; return 1; }
		sleep 0.05
	done
	return 1
}

# uid 65534's 0700 bash, in the test cgroup, running script $1
nobody_in_cg() {
	bash -c 'echo $$ > "$0/cgroup.procs" &&
		exec setpriv --reuid=65534 --regid=65534 --clear-groups "$1" -c "$2"' \
		"$CG" "$TMP/nobody/rwsh" "$1"
}

# the other user's process holds a connection to $NET.3 (a kill rule's)
# from before the daemon starts
hold_connection() {
	nc -l "$NET.3" "$PORT" >/dev/null &
	PIDS+=($!)
	rw_listening "$PORT" nc || true
	# `; :` keeps bash itself waiting, so the connection stays its own
	nobody_in_cg "exec 3<>/dev/tcp/$NET.3/$PORT && sleep 30; :" &
	PIDS+=($!)
	for _ in $(seq 100); do
		[ -n "$(ss -Htn "dst $NET.3 and dport = :$PORT")" ] && return 0
		sleep 0.05
	done
	return 1
}

# the pid of the connection open before start, once the daemon judged it
existing_pid() {
	wait_for '.event == "existing" and .action == "kill" and .uid == 65534' | jq -r .pid
}

# a denied connect by the other user, whose process stays alive to be read
denied_connect() {
	nobody_in_cg "exec 3<>/dev/tcp/$NET.2/9; sleep 2; :" 2>/dev/null &
	PIDS+=($!)
	wait_for '.event == "connect" and .action == "deny" and .uid == 65534'
}

@test "the set: it denies, kills a connection open before start, attributes another user's 0700 binary in full" {
	hold_connection
	start_with "$(caps_without)"
	pid=$(existing_pid)
	wait_for '.event == "kill" and .by == "userspace" and .pid == '"$pid" >/dev/null
	line=$(denied_connect)
	[ "$(jq -r .attribution <<<"$line")" = proc ]
	[ "$(jq -r .exe <<<"$line")" = "$TMP/nobody/rwsh" ]
	[ "$(jq -r .sha256 <<<"$line")" = "$(sha256sum "$TMP/nobody/rwsh" | cut -d' ' -f1)" ]
}

@test "without CAP_BPF, CAP_PERFMON or CAP_NET_ADMIN it does not start, and says so" {
	! start_with "$(caps_without bpf)"
	grep -q 'not permitted to use BPF' "$TMP/err"
	! start_with "$(caps_without perfmon)"
	# the verifier of an unprivileged-pointer program, the tracing hooks
	grep -q 'connect4: load failed (Permission denied)' "$TMP/err"
	grep -q 'handle_exec: load failed (Operation not permitted)' "$TMP/err"
	grep -q 'nothing can be enforced' "$TMP/err"
	! start_with "$(caps_without net_admin)"
	grep -q 'connect4: load failed (Operation not permitted)' "$TMP/err"
	grep -q 'nothing can be enforced' "$TMP/err"
	[ ! -s "$LOG" ]
}

@test "without CAP_SYS_PTRACE: another user's live process is attributed from the kernel's snapshot" {
	start_with "$(caps_without sys_ptrace)"
	line=$(denied_connect)
	[ "$(jq -r .attribution <<<"$line")" = snapshot ]
}

@test "without CAP_DAC_READ_SEARCH: another user's 0700 binary is read from /proc but not hashed" {
	start_with "$(caps_without dac_read_search)"
	line=$(denied_connect)
	[ "$(jq -r .attribution <<<"$line")" = proc ]
	[ "$(jq -r .exe <<<"$line")" = "$TMP/nobody/rwsh" ]
	[ "$(jq -r .sha256 <<<"$line")" = null ]
}

@test "without CAP_KILL: another user's connection open before start is not killed, and it is said" {
	hold_connection
	start_with "$(caps_without kill)"
	pid=$(existing_pid)
	for _ in $(seq 20); do grep -q 'cannot kill' "$TMP/err" && break; sleep 0.05; done
	grep -q "cannot kill pid $pid, .*needs CAP_KILL" "$TMP/err"
	kill -0 "$pid"
	! grep -q '"event":"kill"' "$LOG"
}

@test "without CAP_SYS_RESOURCE: nothing changes on 5.11 and later (BPF memory is charged to the cgroup, not RLIMIT_MEMLOCK)" {
	v=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
	[ "$v" -ge 5011 ] || skip "kernel $(uname -r): BPF maps are charged to RLIMIT_MEMLOCK, CAP_SYS_RESOURCE raises it"
	hold_connection
	start_with "$(caps_without sys_resource)"
	pid=$(existing_pid)
	wait_for '.event == "kill" and .by == "userspace" and .pid == '"$pid" >/dev/null
	line=$(denied_connect)
	[ "$(jq -r .sha256 <<<"$line")" != null ]
}
