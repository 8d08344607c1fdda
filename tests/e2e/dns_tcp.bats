#!/usr/bin/env bats
# DNS everywhere it flows, end to end: answers over TCP (glibc's
# `options use-vc` asking dnsmasq; a server that splits each answer
# across segments) and from the policy's other dns_ports (a resolver
# library asking dnsmasq on 5353) name the address, so the connect()
# that follows is judged by name. Controls: a port dns_ports does not
# list is not read.

load lib/fixtures
load lib/rw

setup() {
	rw_setup dnstcp
	IP=$(pick_ip)      # the endpoint
	NSIP=$(pick_ip)    # the DNS server
	LIB="$BATS_TEST_DIRNAME/lib"
	cat >"$TMP/policy.yaml" <<-EOF
	mode: enforce
	rules:
	  - name: deny-openai
	    match: {domain: api.openai.com}
	    action: deny
	EOF
}

teardown() {
	[ -n "${CG:-}" ] || return 0
	rw_teardown
	fixtures_cleanup
}

in_cg_dns() { with_resolver "$DNS_IP" bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }

# the TCP connections to the resolver that ended (TIME-WAIT on the
# client side, which closes first)
tcp_to_dns() { ss -Htan state time-wait "dst $NSIP" "dport = :$1" | wc -l; }

@test "glibc over TCP (options use-vc): connect() after getaddrinfo is judged by name" {
	start_tls "$IP" 443 api.openai.com
	start_dns "$NSIP" "api.openai.com=$IP"
	start_daemon
	before=$(tcp_to_dns 53)
	RESOLV_OPTIONS=use-vc run in_cg_dns curl -q -s -k -m 3 https://api.openai.com/v1/models
	[ "$status" -eq 7 ]   # could not connect: EPERM at connect()
	# getaddrinfo asked over TCP
	[ "$(tcp_to_dns 53)" -gt "$before" ]
	line=$(wait_for '.event == "connect" and .domain == "api.openai.com"')
	[ "$(jq -r .action <<<"$line")" = deny ]
	[ "$(jq -r .daddr <<<"$line")" = "$IP" ]
	line=$(wait_for '.event == "dns" and .domain == "api.openai.com"')
	[ "$(jq -r '.addresses[0]' <<<"$line")" = "$IP" ]
	[ "$(jq -r .comm <<<"$line")" = curl ]
	# the server never saw a handshake
	! grep -q '"sni"' "$TLS_LOG"
}

@test "an answer split across three TCP segments is reassembled" {
	port=$(pick_port)
	_fix_init
	_fix_spawn "$TMP/split.out" "split dns" /usr/bin/python3 "$LIB/dns_split.py" "$NSIP" "$port" api.openai.com "$IP"
	rw_listening "$port" "dns_split.py"
	# the split server on a port of its own: listed for this test
	printf 'dns_ports: [53, %s]\n' "$port" >>"$TMP/policy.yaml"
	start_daemon
	tport=$(pick_port)
	run in_cg /usr/bin/python3 "$LIB/dnsask.py" "$NSIP" "$port" api.openai.com tcp "$tport"
	[ "$status" -eq 0 ]
	[[ "$output" == *"answer $IP"* ]]
	[[ "$output" == *"connect errno 1"* ]]   # EPERM
	grep -q answered "$TMP/split.out"
	line=$(wait_for '.event == "connect" and .domain == "api.openai.com"')
	[ "$(jq -r .action <<<"$line")" = deny ]
	kill -TERM "${PIDS[0]}"
	line=$(wait_for '.event == "stats"')
	[ "$(jq -r .dns_tcp_lost <<<"$line")" = 0 ]
}

@test "dnspython asking dnsmasq on 5353, over UDP and TCP: judged by name" {
	DNS_PORT=5353 start_dns "$NSIP" "api.openai.com=$IP"
	start_daemon
	tport=$(pick_port)
	run in_cg /usr/bin/python3 "$LIB/dnsask.py" "$NSIP" 5353 api.openai.com udp "$tport"
	[ "$status" -eq 0 ]
	[[ "$output" == *"connect errno 1"* ]]
	run in_cg /usr/bin/python3 "$LIB/dnsask.py" "$NSIP" 5353 api.openai.com tcp "$tport"
	[ "$status" -eq 0 ]
	[[ "$output" == *"connect errno 1"* ]]
	[ "$(tcp_to_dns 5353)" -ge 1 ]
	line=$(wait_for '.event == "connect" and .domain == "api.openai.com"')
	[ "$(jq -r .action <<<"$line")" = deny ]
}

@test "control: answers from a port dns_ports does not list are not read" {
	port=$(pick_port)
	DNS_PORT=$port start_dns "$NSIP" "api.openai.com=$IP"
	start_tls "$IP" 443 api.openai.com
	start_daemon
	run in_cg /usr/bin/python3 "$LIB/dnsask.py" "$NSIP" "$port" api.openai.com udp 443
	[ "$status" -eq 0 ]
	[[ "$output" == *"connect ok"* ]]   # no name: the connect passes
	run in_cg /usr/bin/python3 "$LIB/dnsask.py" "$NSIP" "$port" api.openai.com tcp 443
	[ "$status" -eq 0 ]
	[[ "$output" == *"connect ok"* ]]
	sleep 0.3
	[ "$(grep -c -E '"event":"(connect|dns)"' "$LOG")" = 0 ]
}

@test "policy validate names a bad dns_ports entry, file:line:col" {
	printf 'mode: enforce\ndns_ports: [53, 0]\nrules: []\n' >"$TMP/bad.yaml"
	run "$RW" policy validate "$TMP/bad.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"bad.yaml:2:17: bad dns_ports '0' (expected a number 1..65535)"* ]]
	printf 'dns_ports: [1, 2, 3, 4, 5, 6, 7, 8, 9]\nrules: []\n' >"$TMP/many.yaml"
	run "$RW" policy validate "$TMP/many.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"too many dns_ports: 9 (at most 8)"* ]]
	printf 'dns_ports: [53, 8053]\nrules: []\n' >"$TMP/ok.yaml"
	run "$RW" policy validate "$TMP/ok.yaml"
	[ "$status" -eq 0 ]
}
