#!/usr/bin/env bats
# The ways around a first-bytes decision, each tried by a real client in
# the test cgroup against real servers and proxies on loopback (the
# proxies outside the cgroup, as a relay's would be): a ClientHello split
# over writes or TLS records, proxies asked for an address (SOCKS5,
# SOCKS4, SOCKS4a, CONNECT, absolute URI), a socket handed to another
# process, and first bytes that never become readable. Each is seen,
# blamed on the process that sent the bytes and stopped with a prompt
# error; each has a control that must still pass.

load lib/fixtures
load lib/rw

SPLIT="$(dirname "$BATS_TEST_FILENAME")/lib/splitclient.py"

setup() {
	rw_setup bypass
	IP=$(pick_ip)      # unlisted endpoints
	LISTED=$(pick_ip)  # an address a cidr rule lists
	cat >"$TMP/policy.yaml" <<-EOF
	mode: enforce
	rules:
	  - name: deny-openai
	    match: {domain: api.openai.com}
	    action: deny
	  - name: kill-anthropic
	    match: {domain: api.anthropic.com}
	    action: kill
	  - name: deny-listed
	    match: {cidr: [$LISTED/32]}
	    action: deny
	EOF
}

teardown() {
	[ -n "${CG:-}" ] || return 0
	rw_teardown
	fixtures_cleanup
}

split() { in_cg /usr/bin/python3 "$SPLIT" "$@"; }

@test "a ClientHello split over two writes is read whole and denied; the caller fails at once" {
	start_tls "$IP" 443 api.openai.com
	start_daemon
	for n in 3 10 60; do
		run split "$IP" 443 api.openai.com "split:$n"
		[ "$status" -eq 3 ]            # an error, not a timeout (4)
		[[ "$output" == error* ]]
		wait_for ".event == \"tls\" and .domain == \"api.openai.com\" and .action == \"deny\"" >/dev/null
	done
	# nothing of the hello reached the server: no handshake began
	! grep -q '"sni"' "$TLS_LOG"
	# the peer saw a reset, not a hello
	grep -q '"ev":"tls-error"' "$TLS_LOG"
	[ "$(grep -c '"event":"tls"' "$LOG")" = 3 ]
}

@test "control: a split hello to an unlisted name completes its handshake" {
	start_tls "$IP" 443 example.internal
	start_daemon
	run split "$IP" 443 example.internal split:3
	[ "$status" -eq 0 ]
	[[ "$output" == "ok "*"200 OK" ]]
	run split "$IP" 443 example.internal both:7:3
	[ "$status" -eq 0 ]
	grep -q '"sni":"example.internal"' "$TLS_LOG"
	[ "$(grep -c '"event":"tls"' "$LOG")" = 0 ]
}

@test "a ClientHello spread over TLS records, in one write or split, is denied" {
	start_tls "$IP" 443 api.openai.com
	start_daemon
	run split "$IP" 443 api.openai.com records:2
	[ "$status" -eq 3 ]
	run split "$IP" 443 api.openai.com records:4
	[ "$status" -eq 3 ]
	run split "$IP" 443 api.openai.com both:5:3
	[ "$status" -eq 3 ]
	sleep 0.2
	[ "$(jq -c 'select(.event == "tls" and .domain == "api.openai.com" and .action == "deny")' "$LOG" | wc -l)" = 3 ]
	! grep -q '"sni"' "$TLS_LOG"
}

@test "a hello over more records than are joined gets the undecided action (deny)" {
	printf 'undecided: deny\n' >>"$TMP/policy.yaml"
	start_tls "$IP" 443 example.internal
	start_daemon
	run split "$IP" 443 example.internal records:40
	[ "$status" -eq 3 ]
	line=$(wait_for '.event == "tls" and .rule == "undecided"')
	[ "$(jq -r .action <<<"$line")" = deny ]
	[ "$(jq -r .undecided <<<"$line")" = true ]
	[ "$(jq -r .comm <<<"$line")" = python3 ]
	# control: the default (alert) lets the same flow through, reported
	sed -i '/^undecided:/d' "$TMP/policy.yaml"
	kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
	"$RW" detach --cgroup "$CG" >/dev/null
	PIDS=()
	: >"$LOG"
	start_daemon
	run split "$IP" 443 example.internal records:40
	[ "$status" -eq 0 ]
	line=$(wait_for '.event == "tls" and .rule == "undecided"')
	[ "$(jq -r .action <<<"$line")" = alert ]
}

@test "SOCKS5 and SOCKS4 asked for a listed address are denied; an unlisted one passes" {
	start_tls "$LISTED" 443 x.internal
	start_tls "$IP" 443 y.internal
	port=$(pick_port)
	start_socks5_proxy "$port"
	start_daemon
	run in_cg curl -q -s -k -m 5 --socks5 "$SOCKS5_PROXY" "https://$LISTED/"
	[ "$status" -ne 0 ]
	line=$(wait_for ".event == \"proxy\" and .target_addr == \"$LISTED\"")
	[ "$(jq -r .action <<<"$line")" = deny ]
	[ "$(jq -r .rule <<<"$line")" = deny-listed ]
	[ "$(jq -r .protocol <<<"$line")" = socks5 ]
	[ "$(jq -r .comm <<<"$line")" = curl ]
	run in_cg curl -q -s -k -m 5 --socks4 "$SOCKS5_PROXY" "https://$LISTED/"
	[ "$status" -ne 0 ]
	line=$(wait_for ".event == \"proxy\" and .protocol == \"socks4\"")
	[ "$(jq -r .target_addr <<<"$line")" = "$LISTED" ]
	[ "$(jq -r .target_port <<<"$line")" = 443 ]
	# the proxy never connected to the listed address
	! grep -q "\"host\":\"$LISTED\".*\"result\":\"ok\"" "$SOCKS5_PROXY_LOG"
	# controls
	run in_cg curl -q -s -k -m 5 --socks5 "$SOCKS5_PROXY" "https://$IP/"
	[ "$status" -eq 0 ]
	run in_cg curl -q -s -k -m 5 --socks4 "$SOCKS5_PROXY" "https://$IP/"
	[ "$status" -eq 0 ]
	[[ "$output" == tls-ok* ]]
}

@test "SOCKS4a by name, and nc -X 4/5/connect to a listed address, are denied" {
	start_tls "$LISTED" 443 api.openai.com
	sport=$(pick_port)
	start_socks5_proxy "$sport" "api.openai.com=$LISTED" "y.internal=$IP"
	cport=$(pick_port)
	start_connect_proxy "$cport"
	start_daemon
	run in_cg curl -q -s -k -m 5 --socks4a "$SOCKS5_PROXY" https://api.openai.com/
	[ "$status" -ne 0 ]
	line=$(wait_for '.event == "proxy" and .protocol == "socks4" and .domain == "api.openai.com"')
	[ "$(jq -r .rule <<<"$line")" = deny-openai ]
	for x in 4 5; do
		run in_cg timeout 5 nc -X "$x" -x "$SOCKS5_PROXY" "$LISTED" 443 </dev/null
		[ "$status" -ne 124 ]     # failed, did not hang
	done
	run in_cg timeout 5 nc -X connect -x "127.0.0.1:$cport" "$LISTED" 443 </dev/null
	[ "$status" -ne 124 ]
	[ "$(jq -c "select(.event == \"proxy\" and .target_addr == \"$LISTED\" and .action == \"deny\")" "$LOG" | wc -l)" = 3 ]
	[ "$(jq -r "select(.event == \"proxy\" and .target_addr == \"$LISTED\") | .protocol" "$LOG" | sort | tr '\n' ' ')" = "http-connect socks4 socks5 " ]
	# control: SOCKS4a to an unlisted name
	start_tls "$IP" 443 y.internal
	run in_cg curl -q -s -k -m 5 --socks4a "$SOCKS5_PROXY" https://y.internal/
	[ "$status" -eq 0 ]
}

@test "CONNECT to an address literal, and an absolute URI without Host, are judged" {
	start_tls "$LISTED" 443 x.internal
	start_http "$LISTED" 80
	start_http "$IP" 80
	port=$(pick_port)
	start_connect_proxy "$port" "api.openai.com=$IP"
	start_daemon
	run in_cg curl -q -s -k -m 5 -x "$CONNECT_PROXY" "https://$LISTED/"
	[ "$status" -ne 0 ]
	line=$(wait_for ".event == \"proxy\" and .protocol == \"http-connect\"")
	[ "$(jq -r .target_addr <<<"$line")" = "$LISTED" ]
	# a forward proxy's request, Host header removed: the URI names it
	run in_cg curl -q -s -m 5 -x "$CONNECT_PROXY" -H 'Host:' http://api.openai.com/v1/models
	[ "$status" -ne 0 ]
	line=$(wait_for '.event == "proxy" and .protocol == "http-proxy"')
	[ "$(jq -r .domain <<<"$line")" = api.openai.com ]
	[ "$(jq -r .action <<<"$line")" = deny ]
	run in_cg curl -q -s -m 5 -x "$CONNECT_PROXY" "http://$LISTED/"
	[ "$status" -ne 0 ]
	# controls
	run in_cg curl -q -s -m 5 -x "$CONNECT_PROXY" "http://$IP/"
	[ "$status" -eq 0 ]
	[[ "$output" == http-ok* ]]
}

@test "a socket passed over SCM_RIGHTS: the sender is blamed and killed, the connector lives" {
	# cgroup_skb programs may ask who sends from Linux 6.10 on
	v=$(uname -r | awk -F. '{ print $1 * 100 + $2 }')
	[ "$v" -ge 610 ] || skip "Linux $(uname -r): the packet hooks cannot ask who sends (6.10+)"
	start_tls "$IP" 443 api.anthropic.com
	start_daemon
	run split "$IP" 443 api.anthropic.com whole --via-child
	[ "$status" -eq 0 ]
	[[ "$output" == *"status -9"* ]]   # the child that sent was killed
	parent=$(sed -n 's/^parent \([0-9]*\) child \([0-9]*\).*/\1/p' <<<"$output")
	child=$(sed -n 's/^parent \([0-9]*\) child \([0-9]*\).*/\2/p' <<<"$output")
	line=$(wait_for '.event == "tls" and .domain == "api.anthropic.com"')
	[ "$(jq -r .pid <<<"$line")" = "$child" ]
	[ "$(jq -r .connector_pid <<<"$line")" = "$parent" ]
	[ "$(jq -r .connector_exe <<<"$line")" = "$(readlink -f /usr/bin/python3)" ]
	line=$(wait_for '.event == "kill"')
	[ "$(jq -r .pid <<<"$line")" = "$child" ]
	# control: without the hand-over the record has no connector
	start_tls "$IP" 8443 api.openai.com
	run split "$IP" 8443 api.openai.com whole
	line=$(wait_for '.event == "tls" and .domain == "api.openai.com"')
	[ "$(jq -r 'has("connector_pid")' <<<"$line")" = false ]
}

@test "the sender found as kernels before 6.10 allow (the current task's tgid read), and none: the connector" {
	start_tls "$IP" 443 api.anthropic.com
	RELAYWATCH_SENDER=task start_daemon
	run split "$IP" 443 api.anthropic.com whole --via-child
	[[ "$output" == *"status -9"* ]]
	child=$(sed -n 's/^parent \([0-9]*\) child \([0-9]*\).*/\2/p' <<<"$output")
	line=$(wait_for '.event == "tls" and .domain == "api.anthropic.com"')
	[ "$(jq -r .pid <<<"$line")" = "$child" ]
	kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
	"$RW" detach --cgroup "$CG" >/dev/null
	PIDS=()
	: >"$LOG"
	# a kernel that cannot ask: the connector is blamed and killed
	RELAYWATCH_SENDER=none start_daemon
	run split "$IP" 443 api.anthropic.com whole --via-child
	parent=$(sed -n 's/^parent \([0-9]*\) child.*/\1/p' <<<"$output")
	[ -z "$parent" ]   # the parent (connector) was killed: it printed nothing
	line=$(wait_for '.event == "tls" and .domain == "api.anthropic.com"')
	[ "$(jq -r 'has("connector_pid")' <<<"$line")" = false ]
}

# an HTTP request in pieces: PARTS written 50 ms apart (a stall: seconds);
# prints "ok <status line>" or "error <errno name>"
http_parts() {
	in_cg /usr/bin/python3 -c '
import errno, socket, sys, time
ip, port, stall = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((ip, port), timeout=10)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
try:
    for i, p in enumerate(sys.argv[4:]):
        if i:
            time.sleep(stall)
        s.sendall(p.encode().decode("unicode_escape").encode("latin1"))
    r = s.recv(4096)
    print("ok " + r.split(b"\r\n")[0].decode() if r else "error EOF")
except socket.timeout:
    print("timeout")
except OSError as e:
    print("error " + errno.errorcode.get(e.errno, str(e.errno)))
' "$@"
}

@test "an HTTP request split before its Host line is denied by Host; control passes" {
	start_http "$IP" 80
	start_daemon
	run http_parts "$IP" 80 0.05 'GET /v1/models HTTP/1.1\r\nHo' 'st: api.openai.com\r\n\r\n'
	[[ "$output" == "error ECONN"* ]]
	line=$(wait_for '.event == "http" and .domain == "api.openai.com"')
	[ "$(jq -r .action <<<"$line")" = deny ]
	! grep -q '"host":"api.openai.com"' "$HTTP_LOG"
	run http_parts "$IP" 80 0.05 'GET / HTTP/1.1\r\nHo' 'st: example.internal\r\n\r\n'
	[[ "$output" == "ok HTTP/1.1 200 OK" ]]
	grep -q '"host":"example.internal"' "$HTTP_LOG"
}

@test "first bytes that stall past the bound: undecided (alert passes, deny resets)" {
	start_http "$IP" 80
	start_daemon
	# 3 bytes, then nothing for 2.5 s: held 4 sends, then undecided
	run http_parts "$IP" 80 2.5 'GET' ' / HTTP/1.1\r\nHost: example.internal\r\n\r\n'
	[[ "$output" == "ok HTTP/1.1 200 OK" ]]
	line=$(wait_for '.event == "http" and .rule == "undecided"')
	[ "$(jq -r .action <<<"$line")" = alert ]
	printf 'undecided: deny\n' >>"$TMP/policy.yaml"
	kill -HUP "${PIDS[0]}"
	wait_for '.event == "reload"' >/dev/null
	run http_parts "$IP" 80 2.5 'GET' ' / HTTP/1.1\r\nHost: example.internal\r\n\r\n'
	[[ "$output" == "error ECONN"* ]]
	line=$(wait_for '.event == "http" and .rule == "undecided" and .action == "deny"')
	[ "$(jq -r .undecided <<<"$line")" = true ]
}

@test "IPv6 and IPv4-mapped sockets: a split hello is denied and reset too" {
	port=$(pick_port)
	start_tls ::1 "$port" api.openai.com
	start_tls "$IP" "$port" api.openai.com
	start_daemon
	run split ::1 "$port" api.openai.com split:3
	[ "$status" -eq 3 ]
	[[ "$output" == *ECONN* ]]
	run split "::ffff:$IP" "$port" api.openai.com split:3
	[ "$status" -eq 3 ]
	[[ "$output" == *ECONN* ]]
	[ "$(jq -c 'select(.event == "tls" and .action == "deny")' "$LOG" | wc -l)" = 2 ]
	# control: the same IPv6 client to another name
	start_tls ::1 "$((port + 1))" example.internal
	run split ::1 "$((port + 1))" example.internal split:3
	[ "$status" -eq 0 ]
}

@test "without SOCK_DESTROY the denied flow is disconnected in its owner's file table (ECONNRESET)" {
	start_tls "$IP" 443 api.openai.com
	RELAYWATCH_NO_SOCK_DESTROY=1 start_daemon
	run split "$IP" 443 api.openai.com split:3
	[ "$status" -eq 3 ]
	[[ "$output" == *ECONNRESET* ]]
	run split "$IP" 443 api.openai.com whole
	[[ "$output" == *ECONNRESET* ]]
	! grep -q '"sni"' "$TLS_LOG"
	grep -q '"ev":"tls-error"' "$TLS_LOG"   # the peer saw the reset
	kill -TERM "${PIDS[0]}"; wait "${PIDS[0]}" || true
	[ "$(jq -r 'select(.event == "stats") | .flow_resets' "$LOG" | tail -1)" = 2 ]
}
