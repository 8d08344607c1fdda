#!/usr/bin/env bats
# The end-to-end fixtures themselves (tests/e2e/lib), without relaywatch:
# dnsmasq, the private resolver, the HTTP and TLS servers, both proxies, the
# cleanup. Every address is a random one in 127.0.0.0/8 (or ::1), so two runs
# do not collide; the refused targets are documentation addresses.

bats_require_minimum_version 1.5.0

load lib/fixtures

setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (port 53, mount namespaces)"
	IP=$(pick_ip)
	PORT=$(pick_port)
	PPORT=$(pick_port)
	SPORT=$(pick_port)
	CG=
}

teardown() {
	fixtures_cleanup
	[ -z "$CG" ] || rmdir "$CG" 2>/dev/null || true
}

c() { curl -q -sS -m 5 "$@"; }

# a pid is gone: no /proc entry, or a zombie nobody has reaped yet
gone() { [ ! -e "/proc/$1" ] || [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

@test "start_dns: A, AAAA, CNAME chains, wildcards with DNS_TTL; other names NXDOMAIN" {
	DNS_TTL=42 start_dns "$IP" api.anthropic.com=127.0.0.7 api.anthropic.com=127.0.0.8 \
		v6.example=::1 'cname:api.openai.com=edge.cdn.example' edge.cdn.example=127.0.0.1 \
		'cname:chat.example=api.openai.com' '*.wild.example=127.0.0.9'
	run dns_query "$IP" api.anthropic.com
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output")" = "$(printf 'A 127.0.0.7 42\nA 127.0.0.8 42\nrcode 0')" ]
	run dns_query "$IP" v6.example AAAA
	[ "$output" = "$(printf 'rcode 0\nAAAA ::1 42')" ]
	# a known name without the asked type: NODATA, not REFUSED
	run dns_query "$IP" api.anthropic.com AAAA
	[ "$output" = "rcode 0" ]
	run dns_query "$IP" api.openai.com
	[ "$output" = "$(printf 'rcode 0\nCNAME edge.cdn.example 42\nA 127.0.0.1 42')" ]
	run dns_query "$IP" chat.example
	[ "$output" = "$(printf 'rcode 0\nCNAME api.openai.com 42\nCNAME edge.cdn.example 42\nA 127.0.0.1 42')" ]
	run dns_query "$IP" x.y.wild.example
	[ "$output" = "$(printf 'rcode 0\nA 127.0.0.9 42')" ]
	run dns_query "$IP" not-listed.example
	[ "$output" = "rcode 3" ]
	grep -q 'query\[A\] api.openai.com' "$DNS_LOG"
	# bound to IP:53 only
	[ "$(ss -Hlun "sport = :53" | awk '{ print $4 }' | grep -c "^$IP:53$")" = 1 ]
	[ -z "$(ss -Hlun "sport = :53" | awk '$4 == "0.0.0.0:53" || $4 == "*:53" || $4 == "[::]:53"')" ]
}

@test "with_resolver: curl, getent and node resolve through dnsmasq; the host's files stay untouched" {
	before=$(cat /etc/resolv.conf /etc/hosts /etc/nsswitch.conf | sha256sum)
	start_http "$IP" "$PORT"
	start_dns "$IP" svc.test.example="$IP"
	run -127 with_resolver "$IP" c "http://svc.test.example:$PORT/" # CMD must be a program, not a function
	run with_resolver "$IP" curl -q -sS -m 5 "http://svc.test.example:$PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = "$HTTP_BODY" ]
	[ "$output" = "http-ok $IP $PORT" ]
	grep -q 'query\[A\] svc.test.example' "$DNS_LOG"
	jq -e --arg h "svc.test.example:$PORT" 'select(.ev == "request" and .host == $h)' "$HTTP_LOG" >/dev/null
	run with_resolver "$IP" cat /etc/resolv.conf
	[ "${lines[0]}" = "nameserver $IP" ]
	run with_resolver "$IP" getent ahostsv4 svc.test.example
	[ "$status" -eq 0 ]
	[ "$(awk '{ print $1; exit }' <<<"$output")" = "$IP" ]
	run with_resolver "$IP" node -e '
		require("dns").lookup(process.argv[1], { all: true }, (e, a) => {
			if (e) throw e;
			console.log(a.map((x) => x.address).join(" "));
		})' svc.test.example
	[ "$status" -eq 0 ]
	[ "$output" = "$IP" ]
	# a name dnsmasq does not list does not resolve: no other DNS is asked
	run with_resolver "$IP" curl -q -sS -m 5 "http://not-listed.example:$PORT/"
	[ "$status" -eq 6 ]
	grep -q 'not-listed.example is NXDOMAIN' "$DNS_LOG"
	# outside: the host's files unchanged, nothing of ours mounted
	[ "$(cat /etc/resolv.conf /etc/hosts /etc/nsswitch.conf | sha256sum)" = "$before" ]
	[ "$(grep -c "$FIX_DIR" /proc/self/mountinfo)" = 0 ]
	[ "$(grep -c "$FIX_DIR" /proc/1/mountinfo)" = 0 ]
}

@test "with_resolver: the command can move itself into a cgroup first" {
	CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$CGROOT" ] || skip "no cgroup v2 mount"
	CG="$CGROOT/rw-fixtures-$$-$BATS_TEST_NUMBER"
	mkdir "$CG"
	start_http "$IP" "$PORT"
	start_dns "$IP" svc.test.example="$IP"
	run with_resolver "$IP" bash -c 'echo $$ > "$0/cgroup.procs"; grep ^0:: /proc/self/cgroup; exec curl -q -sS -m 5 "$1"' \
		"$CG" "http://svc.test.example:$PORT/"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0::/${CG#"$CGROOT"/}" ]
	[ "${lines[1]}" = "http-ok $IP $PORT" ]
}

@test "a CNAME chain resolves through getaddrinfo to the TLS server" {
	start_tls "$IP" 443 api.openai.com
	start_dns "$IP" 'cname:api.openai.com=edge.cdn.example' edge.cdn.example="$IP"
	run dns_query "$IP" api.openai.com
	[ "${lines[1]}" = "CNAME edge.cdn.example 60" ]
	[ "${lines[2]}" = "A $IP 60" ]
	# getent prints the canonical name: the chain was followed
	run with_resolver "$IP" getent ahostsv4 api.openai.com
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^"$IP"\ +STREAM\ edge\.cdn\.example$ ]]
	run with_resolver "$IP" curl -q -sS -m 5 --cacert "$TLS_CERT" https://api.openai.com/
	[ "$status" -eq 0 ]
	[ "$output" = "tls-ok api.openai.com" ]
}

@test "IPv6: an AAAA record for ::1 reaches a server on [::1]" {
	start_http ::1 "$PORT"
	start_dns "$IP" v6.test.example=::1
	run dns_query "$IP" v6.test.example AAAA
	[ "$output" = "$(printf 'rcode 0\nAAAA ::1 60')" ]
	run with_resolver "$IP" curl -q -sS -m 5 "http://v6.test.example:$PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = "http-ok ::1 $PORT" ]
	run with_resolver "$IP" getent ahostsv6 v6.test.example
	[ "$(awk '{ print $1; exit }' <<<"$output")" = ::1 ]
}

@test "IPv6: dnsmasq on ::1 serves a resolver that says nameserver ::1" {
	[ -z "$(ss -Hlun 'sport = :53' | awk '$4 == "[::1]:53"')" ] || skip "[::1]:53 is taken"
	start_http "$IP" "$PORT"
	start_dns ::1 svc6.test.example="$IP"
	run dns_query ::1 svc6.test.example
	[ "$output" = "$(printf 'rcode 0\nA %s 60' "$IP")" ]
	run with_resolver ::1 curl -q -sS -m 5 "http://svc6.test.example:$PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = "http-ok $IP $PORT" ]
}

@test "start_tls: HTTP/1.1 200 with a certificate valid for NAME; the log has the SNI" {
	start_tls "$IP" 443 api.anthropic.com
	[ -s "$TLS_CERT" ] && [ -s "$TLS_KEY" ]
	[ "$TLS_BODY" = "tls-ok api.anthropic.com" ]
	run c -i --cacert "$TLS_CERT" --resolve "api.anthropic.com:443:$IP" https://api.anthropic.com/v1/messages
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = $'HTTP/1.1 200 OK\r' ]
	[ "${lines[${#lines[@]} - 1]}" = "tls-ok api.anthropic.com" ]
	jq -e 'select(.ev == "request" and .sni == "api.anthropic.com" and .url == "/v1/messages")' "$TLS_LOG" >/dev/null
	# the certificate names api.anthropic.com only (and the IP)
	run c --cacert "$TLS_CERT" --resolve "other.example:443:$IP" https://other.example/
	[ "$status" -eq 60 ]
	# openssl finds the server through dnsmasq and verifies the name
	start_dns "$IP" api.anthropic.com="$IP"
	run with_resolver "$IP" openssl s_client -connect api.anthropic.com:443 -servername api.anthropic.com \
		-CAfile "$TLS_CERT" -verify_hostname api.anthropic.com -verify_return_error </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"Verify return code: 0 (ok)"* ]]
}

@test "CONNECT proxy: curl -x reaches the TLS server by name; http:// is forwarded" {
	start_tls "$IP" 443 api.anthropic.com
	start_http "$IP" "$PORT"
	start_connect_proxy "$PPORT" api.anthropic.com="$IP" plain.example="$IP"
	[ "$CONNECT_PROXY" = "http://127.0.0.1:$PPORT" ]
	run c -x "http://127.0.0.1:$PPORT" https://api.anthropic.com/ -k
	[ "$status" -eq 0 ]
	[ "$output" = "tls-ok api.anthropic.com" ]
	run c -x "$CONNECT_PROXY" --cacert "$TLS_CERT" https://api.anthropic.com/v1/models
	[ "$status" -eq 0 ]
	[ "$output" = "tls-ok api.anthropic.com" ]
	[ "$(jq -c 'select(.result == "ok" and .method == "CONNECT") | [.host, .port, .addr]' "$CONNECT_PROXY_LOG" | sort -u)" = \
		"[\"api.anthropic.com\",443,\"$IP\"]" ]
	jq -e 'select(.sni == "api.anthropic.com" and .url == "/v1/models")' "$TLS_LOG" >/dev/null
	run c -x "$CONNECT_PROXY" "http://plain.example:$PORT/x"
	[ "$status" -eq 0 ]
	[ "$output" = "http-ok $IP $PORT" ]
	jq -e --arg h "plain.example:$PORT" 'select(.url == "/x" and .host == $h)' "$HTTP_LOG" >/dev/null
}

@test "SOCKS5 proxy: domain (socks5-hostname), IPv4 and IPv6 targets" {
	start_tls "$IP" 443 api.openai.com
	P6=$(pick_port)
	start_tls ::1 "$P6" v6.example
	start_socks5_proxy "$SPORT" api.openai.com="$IP"
	[ "$SOCKS5_PROXY" = "127.0.0.1:$SPORT" ]
	run c --socks5-hostname "127.0.0.1:$SPORT" https://api.openai.com/ -k
	[ "$status" -eq 0 ]
	[ "$output" = "tls-ok api.openai.com" ]
	jq -e --arg a "$IP" 'select(.atyp == "domain" and .host == "api.openai.com" and .addr == $a and .result == "ok")' \
		"$SOCKS5_PROXY_LOG" >/dev/null
	run c --socks5 "$SOCKS5_PROXY" "https://$IP/" -k
	[ "$status" -eq 0 ]
	[ "$output" = "tls-ok api.openai.com" ]
	jq -e --arg a "$IP" 'select(.atyp == "ipv4" and .host == $a and .result == "ok")' "$SOCKS5_PROXY_LOG" >/dev/null
	run c --socks5 "$SOCKS5_PROXY" "https://[::1]:$P6/" -k
	[ "$status" -eq 0 ]
	[ "$output" = "tls-ok v6.example" ]
	jq -e 'select(.atyp == "ipv6" and .host == "::1" and .addr == "::1" and .result == "ok")' "$SOCKS5_PROXY_LOG" >/dev/null
}

@test "both proxies refuse non-loopback targets and unlisted names, before connecting" {
	start_connect_proxy "$PPORT" evil.example=192.0.2.10 evil6.example=2001:db8::10
	start_socks5_proxy "$SPORT" evil.example=192.0.2.10 evil6.example=2001:db8::10
	code() { curl -q -s -m 5 -o /dev/null "$@" -w '%{http_connect} %{http_code}' 2>/dev/null; true; }
	[ "$(code -x "$CONNECT_PROXY" https://192.0.2.1/ -k)" = "403 000" ]
	[ "$(code -x "$CONNECT_PROXY" https://evil.example/ -k)" = "403 000" ]
	[ "$(code -x "$CONNECT_PROXY" https://evil6.example/ -k)" = "403 000" ]
	[ "$(code -x "$CONNECT_PROXY" 'https://[2001:db8::1]/' -k)" = "403 000" ]
	[ "$(code -x "$CONNECT_PROXY" 'https://[::ffff:192.0.2.1]/' -k)" = "403 000" ]
	[ "$(code -x "$CONNECT_PROXY" https://not-listed.example/ -k)" = "502 000" ]
	[ "$(code -x "$CONNECT_PROXY" http://192.0.2.1/)" = "000 403" ]
	[ "$(jq -r .result "$CONNECT_PROXY_LOG" | grep -v null | sort | uniq -c | awk '{ print $2 "=" $1 }' | paste -sd' ')" = \
		"refused=6 unknown-name=1" ]
	for url in https://evil.example/ https://evil6.example/ https://not-listed.example/; do
		run curl -q -sS -m 5 --socks5-hostname "$SOCKS5_PROXY" "$url" -k
		[ "$status" -ne 0 ]
	done
	for url in https://192.0.2.1/ 'https://[2001:db8::1]/'; do
		run curl -q -sS -m 5 --socks5 "$SOCKS5_PROXY" "$url" -k
		[ "$status" -ne 0 ]
	done
	[ "$(jq -r 'select(.ev == "request") | "\(.atyp):\(.result)"' "$SOCKS5_PROXY_LOG" | sort | paste -sd' ')" = \
		"domain:refused domain:refused domain:unknown-name ipv4:refused ipv6:refused" ]
	[ "$(cat "$CONNECT_PROXY_LOG" "$SOCKS5_PROXY_LOG" | grep -c '"result":"ok"')" = 0 ]
}

@test "fixtures_cleanup stops every process by pid and removes its files" {
	start_dns "$IP" a.example="$IP"
	start_http "$IP" "$PORT"
	start_tls "$IP" 443 a.example
	start_connect_proxy "$PPORT" a.example="$IP"
	start_socks5_proxy "$SPORT" a.example="$IP"
	pids=("${FIX_PIDS[@]}")
	dir=$FIX_DIR
	[ "${#pids[@]}" = 6 ] # five servers and the watchdog
	for p in "${pids[@]}"; do kill -0 "$p"; done
	fixtures_cleanup
	for p in "${pids[@]}"; do gone "$p"; done
	[ ! -e "$dir" ]
	[ -z "$FIX_DIR" ] && [ ${#FIX_PIDS[@]} = 0 ]
	[ -z "$(ss -Htuln | awk '{ print $5 }' | grep -E "^$IP:|:($PORT|$PPORT|$SPORT)$")" ]
	fixtures_cleanup # twice is harmless
	# and the same addresses serve again at once
	start_dns "$IP" a.example="$IP"
	start_tls "$IP" 443 a.example
	start_connect_proxy "$PPORT" a.example="$IP"
	[ "$(c -x "$CONNECT_PROXY" https://a.example/ -k)" = "tls-ok a.example" ]
}

@test "a watchdog stops the servers when the shell that started them exits" {
	(
		start_http "$IP" "$PORT"
		echo "$FIX_LAST_PID $FIX_DIR" >"$BATS_TEST_TMPDIR/started"
	)
	read -r pid dir <"$BATS_TEST_TMPDIR/started"
	[ -n "$pid" ] && [ -n "$dir" ]
	for _ in $(seq 150); do gone "$pid" && [ ! -e "$dir" ] && break; sleep 0.1; done
	gone "$pid"
	[ ! -e "$dir" ]
	[ -z "$(pgrep -f "$dir")" ]
}

@test "start functions fail with a reason: not loopback, port taken, bad spec" {
	run start_http 192.0.2.1 "$PORT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"192.0.2.1 is not a loopback address"* ]]
	run start_dns "$IP" evil.example=192.0.2.1
	[ "$status" -eq 1 ]
	[[ "$output" == *"192.0.2.1 is not loopback"* ]]
	run start_dns "$IP" no-address
	[ "$status" -eq 1 ]
	[[ "$output" == *"bad spec"* ]]
	run start_connect_proxy
	[ "$status" -eq 1 ]
	start_http "$IP" "$PORT"
	run start_http "$IP" "$PORT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"exited before it listened"*"EADDRINUSE"* ]]
	start_dns "$IP" a.example="$IP"
	run start_dns "$IP" a.example="$IP"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$IP:53 is already in use"*"dnsmasq"* ]]
}
