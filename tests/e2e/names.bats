#!/usr/bin/env bats
# Names, end to end: a real DNS server (dnsmasq) on loopback, real clients
# (curl, openssl s_client, node) in a test cgroup with their resolver
# pointed at it, TLS and HTTP servers and CONNECT/SOCKS5 proxies on
# loopback. Decisions by the name at connect (after DNS), at the
# ClientHello (no DNS), and through proxies.

load lib/fixtures
load lib/rw

setup() {
	rw_setup names
	IP=$(pick_ip)      # the endpoints
	NSIP=$(pick_ip)    # the DNS server: not an answer to a listed name
	cat >"$TMP/policy.yaml" <<-EOF
	mode: enforce
	rules:
	  - name: deny-openai
	    match: {domain: api.openai.com}
	    action: deny
	  - name: deny-ai-overseas
	    match: {category: ai-overseas}
	    action: deny
	  - name: watch-relay
	    match: {category: ai-relay}
	    action: alert
	EOF
}

teardown() {
	[ -n "${CG:-}" ] || return 0
	rw_teardown
	fixtures_cleanup
}

# CMD inside the test cgroup, resolving through our dnsmasq
in_cg_dns() { with_resolver "$DNS_IP" bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }

@test "after DNS, connect() to api.openai.com is denied by name (curl)" {
	start_tls "$IP" 443 api.openai.com
	start_dns "$NSIP" "api.openai.com=$IP"
	start_daemon
	run in_cg_dns curl -q -s -k -m 3 https://api.openai.com/v1/models
	[ "$status" -eq 7 ]   # could not connect: EPERM at connect()
	line=$(wait_for '.event == "connect" and .domain == "api.openai.com"')
	[ "$(jq -r .action <<<"$line")" = deny ]
	[ "$(jq -r .rule <<<"$line")" = deny-openai ]
	[ "$(jq -r .daddr <<<"$line")" = "$IP" ]
	[ "$(jq -r .comm <<<"$line")" = curl ]
	line=$(wait_for '.event == "dns" and .domain == "api.openai.com"')
	[ "$(jq -r '.addresses[0]' <<<"$line")" = "$IP" ]
	[ "$(jq -r .comm <<<"$line")" = curl ]
}

@test "a CNAME chain maps the addresses to the asked name" {
	start_tls "$IP" 443 api.openai.com
	start_dns "$NSIP" "cname:api.openai.com=edge.cdn.example" "edge.cdn.example=$IP"
	start_daemon
	run in_cg_dns curl -q -s -k -m 3 https://api.openai.com/
	[ "$status" -eq 7 ]
	wait_for '.event == "connect" and .domain == "api.openai.com" and .action == "deny"' >/dev/null
}

@test "without DNS (curl --resolve) the ClientHello's SNI stops it" {
	start_tls "$IP" 443 api.openai.com
	start_daemon
	run in_cg curl -q -s -k -m 3 --resolve "api.openai.com:443:$IP" https://api.openai.com/
	[ "$status" -ne 0 ]
	[[ "$output" != *tls-ok* ]]
	line=$(wait_for '.event == "tls"')
	[ "$(jq -r .domain <<<"$line")" = api.openai.com ]
	[ "$(jq -r .action <<<"$line")" = deny ]
	# the server never saw a complete handshake
	! grep -q '"sni"' "$TLS_LOG"
}

@test "openssl s_client -servername to an unlisted address is stopped by SNI" {
	start_tls "$IP" 443 api.anthropic.com
	start_daemon
	run in_cg timeout 5 openssl s_client -connect "$IP:443" -servername api.anthropic.com </dev/null
	# reset, not a hang: openssl fails at once, and no certificate came
	[ "$status" -ne 0 ]
	[ "$status" -ne 124 ]
	[[ "$output" != *"BEGIN CERTIFICATE"* ]]
	! grep -q '"sni"' "$TLS_LOG"
	line=$(wait_for '.event == "tls" and .domain == "api.anthropic.com"')
	[ "$(jq -r .rule <<<"$line")" = deny-ai-overseas ]
	[ "$(jq -r .category <<<"$line")" = ai-overseas ]
	[ "$(jq -r .provider <<<"$line")" = Anthropic ]
}

@test "HTTP Host of a relay station is recorded, and its bytes counted" {
	start_http "$IP" 80
	start_daemon
	run in_cg curl -q -s -m 3 -H "Host: api.aihubmix.com" "http://$IP/v1/chat/completions" -d '{"model":"gpt-4o"}'
	[ "$status" -eq 0 ]
	[[ "$output" == http-ok* ]]
	line=$(wait_for '.event == "http" and .domain == "api.aihubmix.com"')
	[ "$(jq -r .action <<<"$line")" = alert ]
	[ "$(jq -r .category <<<"$line")" = ai-relay ]
	line=$(wait_for '.event == "flow" and .domain == "api.aihubmix.com"')
	[ "$(jq -r '.bytes > 100' <<<"$line")" = true ]
	[ "$(jq -r '.packets >= 1' <<<"$line")" = true ]
	bytes=$(jq -r .bytes <<<"$line")
	# the process's total, at its exit
	line=$(wait_for '.event == "exit" and .comm == "curl"')
	[ "$(jq -r .bytes_sent <<<"$line")" = "$bytes" ]
}

@test "through an HTTP CONNECT proxy: stopped at CONNECT" {
	start_tls "$IP" 443 api.anthropic.com
	port=$(pick_port)
	start_connect_proxy "$port" "api.anthropic.com=$IP"
	start_daemon
	run in_cg curl -q -s -k -m 3 -x "$CONNECT_PROXY" https://api.anthropic.com/v1/messages
	[ "$status" -ne 0 ]
	[[ "$output" != *tls-ok* ]]
	line=$(wait_for '.event == "proxy" and .domain == "api.anthropic.com"')
	[ "$(jq -r .action <<<"$line")" = deny ]
	[ "$(jq -r .target_port <<<"$line")" = 443 ]
}

@test "through a SOCKS5 proxy with a domain name: stopped at the request" {
	start_tls "$IP" 443 api.openai.com
	port=$(pick_port)
	start_socks5_proxy "$port" "api.openai.com=$IP"
	start_daemon
	run in_cg curl -q -s -k -m 3 --socks5-hostname "$SOCKS5_PROXY" https://api.openai.com/
	[ "$status" -ne 0 ]
	[[ "$output" != *tls-ok* ]]
	line=$(wait_for '.event == "proxy" and .domain == "api.openai.com"')
	[ "$(jq -r .action <<<"$line")" = deny ]
}

@test "an unlisted name passes and is not reported" {
	start_tls "$IP" 443 example.internal
	start_dns "$NSIP" "example.internal=$IP"
	start_daemon
	run in_cg_dns curl -q -s -k -m 3 https://example.internal/
	[ "$status" -eq 0 ]
	[[ "$output" == tls-ok* ]]
	sleep 0.3
	[ "$(grep -c -E '"event":"(connect|tls|dns)"' "$LOG")" = 0 ]
}

@test "1,000 resolve-then-connect rounds: every connect judged by name" {
	start_dns "$NSIP" "api.openai.com=$IP"
	start_daemon
	cat >"$TMP/rounds.js" <<-'JS'
	const dns = require('dns').promises, net = require('net');
	(async () => {
	  let denied = 0, other = 0;
	  for (let i = 0; i < 1000; i++) {
	    const { address } = await dns.lookup('api.openai.com', { family: 4 });
	    const code = await new Promise(res => {
	      const s = net.connect(443, address);
	      s.on('connect', () => { s.destroy(); res('connected'); });
	      s.on('error', e => res(e.code));
	    });
	    if (code === 'EPERM') denied++; else other++;
	  }
	  console.log(`${denied} ${other}`);
	})();
	JS
	run in_cg_dns node "$TMP/rounds.js"
	[ "$status" -eq 0 ]
	[ "$output" = "1000 0" ]
}
