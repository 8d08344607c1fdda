# Loopback fixtures for the end-to-end tests: a DNS server (dnsmasq), a
# private resolver for one command, HTTP and TLS servers, an HTTP CONNECT
# proxy and a SOCKS5 proxy. Load it from a bats file with
#
#	load lib/fixtures
#	teardown() { fixtures_cleanup; }
#
# Everything listens on loopback only and the proxies reach loopback only;
# nothing touches the host's /etc/resolv.conf or /etc/hosts. Call the start_*
# functions directly, not through `run` or $(...): they record the pids they
# start in this shell (a watchdog stops them anyway when the shell that
# started them exits). Each start_* waits (FIX_WAIT seconds, default 5) until
# its server answers, else prints why on stderr and returns 1.
#
# Variables (set by the last call of each kind):
#	FIX_DIR             temporary directory: every log, certificate and pid file
#	FIX_PIDS            pids started (fixtures_cleanup stops them)
#	DNS_IP DNS_LOG      start_dns: its address; dnsmasq's query log
#	TLS_CERT TLS_KEY    start_tls: self-signed certificate (usable as --cacert) and key
#	TLS_LOG TLS_BODY    start_tls: request log (JSON lines, with "sni"); the body, "tls-ok NAME"
#	HTTP_LOG HTTP_BODY  start_http: request log; the body, "http-ok IP PORT"
#	CONNECT_PROXY CONNECT_PROXY_LOG  http://127.0.0.1:PORT; its log (JSON lines)
#	SOCKS5_PROXY SOCKS5_PROXY_LOG    127.0.0.1:PORT; its log (JSON lines)
#	FIX_LAST_PID        pid of the last server started
# Knobs: DNS_TTL (default 60), FIX_WAIT (default 5).
# shellcheck disable=SC2034 # those variables are for the tests that load this

# the tests must never go through a proxy of the environment (use curl -q to
# skip ~/.curlrc too)
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy NO_PROXY no_proxy

FIX_JS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/proxy.js"
FIX_PIDS=()

_fix_err() { printf 'fixtures: %s\n' "$*" >&2; }

_fix_is_loopback() {
	case $1 in
	127.*.*.*) [[ $1 =~ ^127(\.([0-9]{1,3})){3}$ ]] ;;
	::1 | ::ffff:127.*) return 0 ;;
	*) return 1 ;;
	esac
}

_fix_init() {
	if [ -z "${FIX_DIR:-}" ] || [ ! -d "$FIX_DIR" ]; then
		FIX_DIR=$(mktemp -d /tmp/rw-fixtures.XXXXXX) || return 1
		chmod 755 "$FIX_DIR"
		: >"$FIX_DIR/pids"
		FIX_PIDS=()
		FIX_OWNER=$BASHPID
	fi
}

_fix_starttime() {
	local s f
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	read -ra f <<<"${s##*) }"
	echo "${f[19]}"
}

# _fix_track PID WHAT: remember a pid (with its start time, so a recycled pid
# is never killed)
_fix_track() {
	FIX_PIDS+=("$1")
	FIX_LAST_PID=$1
	echo "$1 $(_fix_starttime "$1") $2" >>"$FIX_DIR/pids"
}

# _fix_spawn OUT WHAT CMD...: CMD in the background, stdin /dev/null, stdout
# and stderr to OUT, no other inherited descriptor (a leaked server must not
# hold bats's pipes open); its pid is tracked
_fix_spawn() {
	local out=$1 what=$2
	shift 2
	(
		for fd in "/proc/$BASHPID/fd/"*; do
			fd=${fd##*/}
			if [ "$fd" -gt 2 ] 2>/dev/null; then
				{ eval "exec $fd>&-"; } 2>/dev/null || true
			fi
		done
		exec "$@"
	) </dev/null >"$out" 2>&1 &
	_fix_track $! "$what"
}

# one watchdog per FIX_DIR: stops everything when the starting shell is gone
_fix_watchdog() {
	[ -e "$FIX_DIR/watchdog" ] && return 0
	_fix_spawn /dev/null watchdog node "$FIX_JS" watch "${FIX_OWNER:-$BASHPID}" "$FIX_DIR/pids" "$FIX_DIR"
	echo "$FIX_LAST_PID" >"$FIX_DIR/watchdog"
}

_fix_safe() { local s=${1//:/_}; echo "${s//\//_}"; }

# _fix_wait_listening PID LOG WHAT: wait for the server's "listening" line
_fix_wait_listening() {
	local pid=$1 log=$2 what=$3 i n=$((${FIX_WAIT:-5} * 20))
	for ((i = 0; i < n; i++)); do
		grep -q '"ev":"listening"' "$log" 2>/dev/null && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			_fix_err "$what exited before it listened; its log $log:"
			cat "$log" >&2
			return 1
		fi
		sleep 0.05
	done
	_fix_err "$what did not listen within ${FIX_WAIT:-5}s; its log $log:"
	cat "$log" >&2
	return 1
}

# _fix_node WHAT LOG ARGS...: start proxy.js in the background
_fix_node() {
	local what=$1 log=$2
	shift 2
	_fix_watchdog
	_fix_spawn "$log" "$what" node "$FIX_JS" "$@"
	_fix_wait_listening "$FIX_LAST_PID" "$log" "$what"
}

# pick_ip: a random 127.x.y.z address on which nothing listens (the DNS, HTTP
# and TLS servers of one test can share it: ports 53, 80, 443 ...)
pick_ip() {
	local ip i
	for ((i = 0; i < 50; i++)); do
		ip=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
		ss -Hltun | awk '{ print $5 }' | grep -q "^$ip:" || { echo "$ip"; return 0; }
	done
	_fix_err "pick_ip: no free loopback address"
	return 1
}

# pick_port: a random TCP port below the ephemeral range nobody listens on
pick_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$((${RW_PORT_LO:-20000} + RANDOM % (${RW_PORT_HI:-32000} - ${RW_PORT_LO:-20000})))
		[ -z "$(ss -Htan "sport = :$p")" ] && { echo "$p"; return 0; }
	done
	_fix_err "pick_port: no free port"
	return 1
}

# start_dns IP SPEC... — dnsmasq on IP:53 (UDP and TCP), answering only from
# SPECs, with TTL $DNS_TTL (default 60); any other name is NXDOMAIN, a known
# name without the asked type is NODATA; nothing is forwarded. SPEC:
#	NAME=ADDR            A or AAAA record (repeat NAME for several addresses)
#	cname:ALIAS=TARGET   CNAME; TARGET must itself be a NAME= (or cname:) SPEC:
#	                     an answer for ALIAS carries the chain then TARGET's records
#	*.DOMAIN=ADDR        DOMAIN and every name below it
# Addresses must be loopback. Log: $DNS_LOG (every query and answer).
# DNS_PORT (default 53) moves it to another port.
start_dns() {
	local ip=$1 spec name addr ttl=${DNS_TTL:-60} i port=${DNS_PORT:-53}
	shift
	_fix_is_loopback "$ip" || { _fix_err "start_dns: $ip is not a loopback address"; return 1; }
	[ $# -gt 0 ] || { _fix_err "usage: start_dns IP NAME=ADDR|cname:ALIAS=TARGET..."; return 1; }
	local args=(-k --conf-file=/dev/null --no-resolv --no-hosts --no-poll
		--bind-interfaces "--listen-address=$ip" "--port=$port" --user=root --pid-file=
		--local=/#/ "--local-ttl=$ttl" --log-queries=extra)
	for spec in "$@"; do
		name=${spec%%=*}
		addr=${spec#*=}
		if [ "$name" = "$spec" ] || [ -z "$name" ] || [ -z "$addr" ]; then
			_fix_err "start_dns: bad spec '$spec' (want NAME=ADDR or cname:ALIAS=TARGET)"
			return 1
		fi
		case $name in
		cname:*) args+=("--cname=${name#cname:},$addr,$ttl") ;;
		\*.*)
			_fix_is_loopback "$addr" || { _fix_err "start_dns: $addr is not loopback"; return 1; }
			args+=("--address=/${name#\*.}/$addr") ;;
		*)
			_fix_is_loopback "$addr" || { _fix_err "start_dns: $addr is not loopback"; return 1; }
			args+=("--host-record=$name,$addr,$ttl") ;;
		esac
	done
	local sa=$ip:$port
	[[ $ip == *:* ]] && sa="[$ip]:$port"
	if [ -n "$(ss -Hlun "sport = :$port" | awk -v a="$sa" '$4 == a')" ]; then
		_fix_err "start_dns: $sa is already in use:"
		ss -Hlunp "sport = :$port" >&2
		return 1
	fi
	_fix_init || return 1
	_fix_watchdog
	local f
	f=$FIX_DIR/dns-$(_fix_safe "$ip")
	DNS_LOG=$f.log
	args+=("--log-facility=$DNS_LOG")
	_fix_spawn "$f.out" "dnsmasq $ip" dnsmasq "${args[@]}"
	local pid=$FIX_LAST_PID
	for ((i = 0; i < ${FIX_WAIT:-5} * 10; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			_fix_err "start_dns: dnsmasq on $sa exited:"
			cat "$f.out" "$DNS_LOG" >&2 2>/dev/null
			return 1
		fi
		# our dnsmasq holds IP:53 (not another one), and any answer
		# (NXDOMAIN here) shows it serves
		if ss -Hlunp "sport = :$port" | awk -v a="$sa" -v p="pid=$pid," '$4 == a && index($0, p)' | grep -q . &&
			{ [ "$port" != 53 ] ||
			  DNSQ_TIMEOUT_MS=200 node "$FIX_JS" dnsq "$ip" fixtures-ready.invalid >/dev/null 2>&1; }; then
			DNS_IP=$ip
			return 0
		fi
		sleep 0.05
	done
	_fix_err "start_dns: dnsmasq on $sa did not answer within ${FIX_WAIT:-5}s:"
	cat "$f.out" "$DNS_LOG" >&2 2>/dev/null
	return 1
}

# dns_query IP NAME [TYPE] — one UDP query (default type A) straight to IP:53,
# without glibc; prints "rcode N" then "TYPE DATA TTL" per answer record
dns_query() { node "$FIX_JS" dnsq "$@"; }

# with_resolver IP CMD... — runs CMD in a private mount namespace where
# /etc/resolv.conf is "nameserver IP" (options attempts:1 timeout:1),
# /etc/nsswitch.conf says "hosts: files dns" and /etc/hosts names only
# localhost, so getaddrinfo() (curl, node, openssl, getent) asks IP
# (RESOLV_OPTIONS adds options, e.g. use-vc: over TCP). CMD is
# exec'd in the same process (unshare does not fork): a `bash -c 'echo $$ >
# CG/cgroup.procs; exec ...'` moves itself. The mounts vanish with CMD.
# Returns CMD's status (125 when the namespace could not be set up).
with_resolver() {
	local ip=$1 dir own=
	shift
	[ $# -gt 0 ] || { _fix_err "usage: with_resolver IP CMD..."; return 2; }
	if [ -n "${FIX_DIR:-}" ] && [ -d "$FIX_DIR" ]; then
		dir=$FIX_DIR
	else
		dir=$(mktemp -d /tmp/rw-resolver.XXXXXX) || return 125
		own=1
	fi
	local conf
	conf=$dir/resolv-$(_fix_safe "$ip").conf
	printf 'nameserver %s\noptions attempts:1 timeout:1%s\n' "$ip" \
		"${RESOLV_OPTIONS:+ $RESOLV_OPTIONS}" >"$conf"
	printf 'hosts: files dns\n' >"$dir/nsswitch.conf"
	printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$dir/hosts"
	chmod 644 "$conf" "$dir/nsswitch.conf" "$dir/hosts"
	local rc=0
	# shellcheck disable=SC2016 # expanded by that sh
	unshare --mount --propagation private -- /bin/sh -c '
		conf=$1 dir=$2
		shift 2
		for f in "$conf:/etc/resolv.conf" "$dir/nsswitch.conf:/etc/nsswitch.conf" "$dir/hosts:/etc/hosts"; do
			mount --bind "${f%%:*}" "${f#*:}" || { echo "with_resolver: cannot mount ${f#*:}" >&2; exit 125; }
		done
		# a running nscd would answer instead of resolv.conf
		if [ -S /run/nscd/socket ]; then mount --bind /dev/null /run/nscd/socket || exit 125; fi
		exec "$@"' with_resolver "$conf" "$dir" "$@" || rc=$?
	[ -z "$own" ] || rm -rf "$dir"
	return "$rc"
}

# start_tls IP PORT NAME [NAME...] — HTTPS server on IP:PORT with a fresh
# self-signed certificate for the NAMEs (CN the first; SAN every NAME and IP).
# Answers every request "HTTP/1.1 200 OK" with the body "tls-ok NAME\n".
start_tls() {
	local ip=$1 port=$2 name=$3
	[ $# -ge 3 ] || { _fix_err "usage: start_tls IP PORT NAME [NAME...]"; return 1; }
	_fix_is_loopback "$ip" || { _fix_err "start_tls: $ip is not a loopback address"; return 1; }
	shift 2
	_fix_init || return 1
	local f san="" n
	f=$FIX_DIR/tls-$(_fix_safe "$ip")-$port
	for n in "$@"; do san+="DNS:$n,"; done
	san+="IP:$ip"
	if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-days 2 -subj "/CN=$name" -addext "subjectAltName=$san" \
		-keyout "$f.key" -out "$f.crt" >"$f.openssl" 2>&1; then
		_fix_err "start_tls: openssl req failed:"
		cat "$f.openssl" >&2
		return 1
	fi
	TLS_CERT=$f.crt TLS_KEY=$f.key TLS_LOG=$f.log TLS_BODY="tls-ok $name"
	_fix_node "tls server $ip:$port" "$TLS_LOG" https "$ip" "$port" "$TLS_CERT" "$TLS_KEY" "$name"
}

# start_http IP PORT — HTTP server answering 200 with the body "http-ok IP PORT\n"
start_http() {
	local ip=$1 port=$2
	[ $# -eq 2 ] || { _fix_err "usage: start_http IP PORT"; return 1; }
	_fix_is_loopback "$ip" || { _fix_err "start_http: $ip is not a loopback address"; return 1; }
	_fix_init || return 1
	HTTP_LOG=$FIX_DIR/http-$(_fix_safe "$ip")-$port.log HTTP_BODY="http-ok $ip $port"
	_fix_node "http server $ip:$port" "$HTTP_LOG" http "$ip" "$port"
}

# start_connect_proxy PORT [NAME=ADDR...] — HTTP proxy on 127.0.0.1:PORT:
# CONNECT host:port tunnels, absolute-form http:// requests are forwarded.
# Names resolve only through the map (unknown: 502); a target that is not
# loopback is refused (403) before any connection is made.
start_connect_proxy() {
	local port=$1
	[ $# -ge 1 ] || { _fix_err "usage: start_connect_proxy PORT [NAME=ADDR...]"; return 1; }
	shift
	_fix_init || return 1
	CONNECT_PROXY_LOG=$FIX_DIR/connect-proxy-$port.log CONNECT_PROXY=http://127.0.0.1:$port
	_fix_node "connect proxy :$port" "$CONNECT_PROXY_LOG" connect "$port" "$@"
}

# start_socks5_proxy PORT [NAME=ADDR...] — SOCKS5 proxy on 127.0.0.1:PORT (no
# authentication; CONNECT; ATYP domain, IPv4, IPv6) with the same map and
# loopback-only rule (unknown name: reply 4; refused: reply 2).
start_socks5_proxy() {
	local port=$1
	[ $# -ge 1 ] || { _fix_err "usage: start_socks5_proxy PORT [NAME=ADDR...]"; return 1; }
	shift
	_fix_init || return 1
	SOCKS5_PROXY_LOG=$FIX_DIR/socks5-proxy-$port.log SOCKS5_PROXY=127.0.0.1:$port
	_fix_node "socks5 proxy :$port" "$SOCKS5_PROXY_LOG" socks5 "$port" "$@"
}

# _fix_state PID: its state letter (R, S, Z...); nothing when gone
_fix_state() { sed -n 's/.*) \(.\) .*/\1/p' "/proc/$1/stat" 2>/dev/null || true; }

# _fix_await ARRAY TICKS: wait (50 ms a tick) until the pids of ARRAY have
# exited, reaping those that are our children; ARRAY keeps those still running.
# Never `wait` on a running pid: that would block past any time limit.
_fix_await() {
	local -n _arr=$1
	local n=$2 i pid st
	for ((i = 0; i < n && ${#_arr[@]} > 0; i++)); do
		local still=()
		for pid in "${_arr[@]}"; do
			st=$(_fix_state "$pid")
			if [ "$st" = Z ]; then
				wait "$pid" 2>/dev/null || true # ours: reaped; else init's job
			elif [ -n "$st" ]; then
				still+=("$pid")
			fi
		done
		_arr=("${still[@]}")
		[ ${#_arr[@]} -eq 0 ] || sleep 0.05
	done
}

# fixtures_cleanup — stops every process started (TERM, then KILL after 2 s;
# only pids whose start time still matches), removes FIX_DIR. Idempotent.
fixtures_cleanup() {
	[ -n "${FIX_DIR:-}" ] || { FIX_PIDS=(); return 0; }
	local pid st what live=() i
	if [ -f "$FIX_DIR/pids" ]; then
		while read -r pid st what; do
			[ -n "$pid" ] || continue
			[ "$(_fix_starttime "$pid")" = "$st" ] || continue # gone or not ours
			if kill -TERM "$pid" 2>/dev/null; then live+=("$pid"); fi
		done <"$FIX_DIR/pids"
	fi
	_fix_await live 40 # 2 s
	if [ ${#live[@]} -gt 0 ]; then
		_fix_err "cleanup: pids ${live[*]} ignored SIGTERM, killing"
		kill -KILL "${live[@]}" 2>/dev/null || true
		_fix_await live 20
	fi
	rm -rf "$FIX_DIR"
	FIX_DIR='' FIX_PIDS=() FIX_LAST_PID=
	return 0
}
