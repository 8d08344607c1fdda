#!/bin/sh
# The smoke suite of the kernel matrix: runs inside the VM (busybox sh, as
# PID 1's child) against the kernel under test. Real calls from a cgroup of
# its own to loopback only (the VM has no network card). Prints TAP lines
# prefixed "RWK " for tests/kernels/run.sh to count, and "RWK-STAT" lines
# for the report. Expected-off features come from the kernel command line
# (rw.off=dns,first-bytes), so a feature that should work and does not
# fails its test instead of passing as "degraded".
set -u
RW=/rw/relaywatch
C=/rw/rwclient
CG=/sys/fs/cgroup/rwk
T=/tmp/rwk
mkdir -p $T $CG
n=0 daemon=

off=$(sed -n 's/.*rw\.off=\([^ ]*\).*/\1/p' /proc/cmdline)
expect_off() { case ",$off," in *",$1,"*) return 0 ;; esac; return 1; }

ok() { n=$((n + 1)); echo "RWK ok $n - $1"; }
notok() { n=$((n + 1)); echo "RWK not ok $n - $1${2:+ # $2}"; }
skip() { n=$((n + 1)); echo "RWK ok $n - $1 # skip $2"; }
check() { # check NAME COMMAND...: ok when the command succeeds
	t=$1; shift
	if "$@" >$T/why 2>&1; then ok "$t"; else notok "$t" "$(tail -3 $T/why | tr '\n' ' ')"; fi
}
# run a command inside the test cgroup; its exit status is returned
in_cg() { sh -c 'echo $$ > '$CG'/cgroup.procs && exec "$@"' sh "$@"; }
is() { # is WANT CMD...: the command exits WANT
	want=$1; shift
	"$@"; got=$?
	[ "$got" = "$want" ] || { echo "exit $got, want $want"; return 1; }
}
# reset CMD...: rwclient tls failed at once because the daemon reset the
# denied flow: ECONNABORTED (103) or ECONNRESET (104), not a timeout
reset() {
	"$@"; got=$?
	case $got in 103|104) return 0 ;; esac
	echo "exit $got, want 103 or 104 (a reset)"; return 1
}
# wait_log FILTER: a line of the daemon's log matches the jq FILTER
wait_log() {
	for _ in $(seq 100); do
		jq -e -c "select($1)" $T/log 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	echo "no log line with $1"; tail -5 $T/log; return 1
}
feature() { jq -r "select(.event == \"start\") | .features.\"$1\"" $T/log | head -1; }

start() { # start POLICY [ARGS]: the daemon on the test cgroup, until enforcing
	: >$T/log
	$RW run --policy "$1" --cgroup $CG --log $T/log -v 2>$T/err &
	daemon=$!
	for _ in $(seq 600); do
		grep -q '"event":"start"' $T/log && return 0
		kill -0 $daemon 2>/dev/null || break
		sleep 0.1
	done
	cat $T/err; return 1
}
stop() { # SIGTERM; the daemon exits 0
	kill -TERM $daemon; wait $daemon; rc=$?; daemon=
	[ $rc = 0 ] || { echo "daemon exited $rc"; tail -5 $T/err; return 1; }
}
# nothing of ours (or anyone's) is attached to the test cgroup
detached() { ! bpftool cgroup show $CG 2>/dev/null | grep '^[0-9]'; }

# a feature the kernel has must be on; one it lacks must be off and said so
feature_test() { # feature_test NAME PROG
	f=$(feature "$1")
	if expect_off "$1"; then
		[ "$f" = off ] || { echo "$1 is '$f', expected off on this kernel"; return 1; }
		grep -q "$1.*off.*$2" $T/err || { echo "no warning naming $2"; cat $T/err; return 1; }
	else
		[ "$f" = on ] || { echo "$1 is '$f'"; grep -i "off" $T/err; return 1; }
	fi
}

echo
echo "RWK-KERNEL $(uname -r)"
$C dns-server 127.0.0.1 api.openai.com=127.0.0.6 chat.example.net=127.0.0.1 &
# over TCP, each answer split in three segments; its own address for the
# name, so only the TCP answer can name it
$C dns-server-tcp 127.0.0.1 api.openai.com=127.0.0.9 &
$C sink 127.0.0.7 443 $T/sink443 &
$C sink 127.0.0.1 8080 $T/sink8080 &
$C sink 127.0.0.5 8080 $T/sink5 &
sleep 0.3

cp /rw/etc/suite-policy.yaml $T/policy.yaml

check "run loads and enforces on $(uname -r)" start $T/policy.yaml
check "the kernel's BTF is read by the loader, not left to libbpf" \
	sh -c "! grep 'libbpf parses the kernel' $T/err"
# for the report: instructions verified per program, start-up to enforcing
sed -n 's/^relaywatch: \([a-z0-9_]*\): on, \([0-9]*\) instructions verified$/RWK-STAT insns \1 \2/p' $T/err
sed -n 's/^relaywatch: start-up: policy in force at \([0-9]*\) ms$/RWK-STAT startup \1/p' $T/err
for f in connect sendmsg dns first-bytes flow-bytes proc-table kill; do
	echo "RWK-STAT feature $f $(feature $f)"
done

check "connect to a denied IPv4 address: EPERM" is 1 in_cg $C connect 127.0.0.2 80
check "the connect record names the rule and the binary" \
	wait_log '.event == "connect" and .action == "deny" and .rule == "deny-addr" and .daddr == "127.0.0.2" and .exe == "/rw/rwclient"'
check "connect to a denied IPv6 address: EPERM" is 1 in_cg $C connect ::1 7
check "connect under a kill rule: SIGKILL before it returns" is 137 in_cg $C connect 127.0.0.3 80
check "the kill record says the kernel did it" \
	wait_log '.event == "kill" and .rule == "kill-addr"'
check "UDP sendto to a denied address: EPERM" is 1 in_cg $C udp 127.0.0.4 9
check "the sendmsg record" wait_log '.event == "sendmsg" and .rule == "deny-udp"'
check "an allowed connect still connects" is 0 in_cg $C connect 127.0.0.1 8080

check "DNS answers feature" feature_test dns dns_ingress
if [ "$(feature dns)" = on ]; then
	check "DNS answer then connect by name: EPERM" is 1 in_cg $C dns-connect 127.0.0.1 api.openai.com 80
	check "the connect record carries the name" \
		wait_log '.event == "connect" and .rule == "deny-name" and .domain == "api.openai.com"'
	check "another name's address connects" is 0 in_cg $C dns-connect 127.0.0.1 chat.example.net 8080
	check "DNS over TCP, the answer split in three segments, then connect: EPERM" \
		is 1 in_cg $C dns-connect-tcp 127.0.0.1 api.openai.com 80
	check "the connect record carries the name from TCP" \
		wait_log '.event == "connect" and .domain == "api.openai.com" and .daddr == "127.0.0.9"'
else
	check "without DNS answers the address rules still deny" is 1 in_cg $C connect 127.0.0.2 81
fi

check "first-bytes feature" feature_test first-bytes flow_egress
if [ "$(feature first-bytes)" = on ]; then
	: >$T/sink443
	check "a ClientHello naming a denied host: the call fails at once (reset)" reset in_cg $C tls 127.0.0.7 443 api.openai.com
	check "the tls record says deny" wait_log '.event == "tls" and .action == "deny" and .domain == "api.openai.com"'
	sleep 1.2
	check "nothing of the denied flow reached the peer" grep -qx 0 $T/sink443
	check "a ClientHello naming another host is answered" is 0 in_cg $C tls 127.0.0.7 443 www.example.org
	: >$T/sink443
	check "a ClientHello split over two writes is denied (reset)" reset in_cg $C tls-split 127.0.0.7 443 api.openai.com 3
	sleep 1.2
	check "nothing of the split hello reached the peer" grep -qx 0 $T/sink443
	check "a split ClientHello naming another host is answered" is 0 in_cg $C tls-split 127.0.0.7 443 www.example.org 3
	# the socket inherited by a child that sends: blamed on the child where
	# the kernel lets the packet hook ask (the daemon says when it cannot)
	out=$(in_cg $C tls-child 127.0.0.7 443 api.openai.com)
	child=$(echo "$out" | sed -n 's/^child //p')
	if grep -q "blamed on the process that connected" $T/err; then
		check "the sender: this kernel blames the connector (said at start-up)" \
			wait_log ".event == \"tls\" and .pid != $child and (has(\"connector_pid\") | not)"
	else
		check "the sender: the child that wrote the hello is blamed" \
			wait_log ".event == \"tls\" and .pid == $child and .connector_pid != null"
	fi
else
	skip "first bytes (SNI) deny" "first-bytes is off on $(uname -r), as expected"
fi

# enforcement outlives the daemon: kill -9, then a restart adopts
kill -9 $daemon; wait $daemon 2>/dev/null; daemon=
check "after kill -9 of the daemon a denied connect is still EPERM" is 1 in_cg $C connect 127.0.0.2 80
check "after kill -9 the kill rule still kills in the kernel" is 137 in_cg $C connect 127.0.0.3 80
check "status: attached, no daemon (exit 3)" is 3 $RW status --cgroup $CG
check "a restart adopts the pinned state" start $T/policy.yaml
check "the gap record counts what happened meanwhile" \
	wait_log '.event == "gap" and .deny >= 1 and .drained >= 1 and .matched == .drained + .suppressed + .lost'
check "the start record says adopted" wait_log '.event == "start" and .adopted == "same-build"'
check "status: enforcing (exit 0)" is 0 $RW status --cgroup $CG
# a process that moves itself out of the watched cgroup (the ancestors'
# CO-RE shim differs before and after Linux 6.0)
mkdir -p $CG-out
in_cg sh -c "sleep 0.2; echo \$\$ > $CG-out/cgroup.procs"
check "a process leaving the cgroup is reported" \
	wait_log '.event == "cgroup_escape" and (.to_cgroup | endswith("rwk-out"))'
rmdir $CG-out
check "SIGTERM: the daemon exits 0" stop
check "SIGTERM leaves enforcement in force" is 1 in_cg $C connect 127.0.0.2 80
check "detach removes it" is 0 $RW detach --cgroup $CG
check "clean detach: nothing attached to the cgroup" detached
check "clean detach: nothing pinned" test ! -e /sys/fs/bpf/relaywatch/$(stat -c %i $CG)
check "after detach the address connects again (refused, not denied)" is 111 in_cg $C connect 127.0.0.2 80

# a program the kernel refuses turns off its feature only (RELAYWATCH_REFUSE
# plays a kernel that refuses flow_egress): one warning line, the start
# record says so, and the rest enforces; --require refuses to start
export RELAYWATCH_REFUSE=flow_egress
check "a refused program: the daemon still starts" start $T/policy.yaml
check "the warning names the feature, the program and why" \
	grep -q '^relaywatch: first-bytes: off on this kernel (flow_egress[a-z_]*: load failed' $T/err
check "the start record carries the feature as off" test "$(feature first-bytes)" = off
check "the start record carries the reason" \
	wait_log '.event == "start" and (.features_off."first-bytes" | startswith("flow_egress"))'
check "without first-bytes a denied address is still EPERM" is 1 in_cg $C connect 127.0.0.2 80
check "without first-bytes the kill rule still kills" is 137 in_cg $C connect 127.0.0.3 80
check "a refused program: SIGTERM exits 0" stop
$RW detach --cgroup $CG >/dev/null
$RW run --policy $T/policy.yaml --cgroup $CG --log $T/log --require names >$T/out 2>$T/err
check "--require names with first-bytes off: exit 1" is 1 sh -c "exit $?"
check "--require says which feature is missing" grep -q -- '--require first-bytes' $T/err
check "--require: nothing was attached" detached
unset RELAYWATCH_REFUSE

# the shipped policy, with the built-in intelligence
check "the shipped policy loads" start /rw/etc/policy.yaml
if [ "$(feature dns)" = on ]; then
	check "shipped policy: DNS then connect to an overseas AI API: EPERM" is 1 in_cg $C dns-connect 127.0.0.1 api.openai.com 443
	check "shipped policy: the record names the rule" \
		wait_log '.event == "connect" and .rule == "deny-ai-overseas" and .domain == "api.openai.com"'
else
	check "shipped policy: without names an allowed connect still connects" is 0 in_cg $C connect 127.0.0.1 8080
fi
check "shipped policy: SIGTERM exits 0" stop
$RW detach --cgroup $CG >/dev/null

# quic: deny-unnamed (UDP/443 to an address no DNS answer named); flow
# records: none for a connect the peer refused, and a flow's record, read
# after its process exited, still names the binary
cat >$T/quic.yaml <<EOF
mode: enforce
quic: deny-unnamed
rules:
  - name: watch-sink
    match: {cidr: [127.0.0.5/32]}
    action: alert
EOF
check "a quic policy loads" start $T/quic.yaml
check "quic deny-unnamed: UDP/443 to an unnamed address is EPERM" is 1 in_cg $C udp 127.0.0.9 443
check "the sendmsg record says quic-unnamed" \
	wait_log '.event == "sendmsg" and .rule == "quic-unnamed" and .action == "deny" and .dport == 443'
check "quic deny-unnamed: UDP to another port passes" is 0 in_cg $C udp 127.0.0.9 444
if [ "$(feature dns)" = on ]; then
	check "quic deny-unnamed: a DNS-named address's UDP/443 passes" is 0 in_cg $C dns-udp 127.0.0.1 chat.example.net 443
fi
check "a matched connect the peer refused: ECONNREFUSED" is 111 in_cg $C connect 127.0.0.5 8081
check "a matched flow that sends is answered" is 0 in_cg $C tls 127.0.0.5 8080 www.example.org
if [ "$(feature flow-bytes)" = on ]; then
	check "its flow record has the bytes, and the exited binary's exe and sha256" \
		wait_log '.event == "flow" and .dport == 8080 and .bytes > 0 and .exe == "/rw/rwclient" and .sha256 != null'
fi
check "quic policy: SIGTERM exits 0" stop
check "no flow record for the refused connect" \
	sh -c "! jq -c 'select(.event == \"flow\" and .dport == 8081)' $T/log | grep -q ."
$RW detach --cgroup $CG >/dev/null

# countries: the kernel's binary search of the country table the daemon
# writes (public addresses on this VM's own loopback: it has no network)
ip addr add 8.8.8.8/32 dev lo
ip addr add 114.114.114.114/32 dev lo
ip addr add 1.1.1.1/32 dev lo
ip addr add 2001:4860:4860::8888/128 dev lo
cat >$T/country.yaml <<EOF
mode: enforce
home_countries: [CN]
rules:
  - name: deny-us
    match: {country: [US]}
    action: deny
  - name: deny-overseas
    match: {overseas: true, port: 81}
    action: deny
EOF
check "a country policy loads" start $T/country.yaml
check "country: a US address is EPERM (IPv4)" is 1 in_cg $C connect 8.8.8.8 80
check "country: a US address is EPERM (IPv6)" is 1 in_cg $C connect 2001:4860:4860::8888 80
check "country: a CN address is not denied (refused)" is 111 in_cg $C connect 114.114.114.114 80
check "country: an AU address is not denied by the US rule" is 111 in_cg $C connect 1.1.1.1 80
check "overseas: an AU address is EPERM" is 1 in_cg $C connect 1.1.1.1 81
check "overseas: a home (CN) address is not denied" is 111 in_cg $C connect 114.114.114.114 81
check "overseas: loopback is never overseas" is 111 in_cg $C connect 127.0.0.1 81
check "country policy: SIGTERM exits 0" stop
$RW detach --cgroup $CG >/dev/null

# trace: monitor only, text lines, a summary on Ctrl-C
$RW trace --cgroup $CG >$T/trace 2>$T/terr &
tp=$!
for _ in $(seq 600); do grep -q 'tracing\|TIME\|EVENT' $T/trace $T/terr && break; sleep 0.1; done
sleep 0.5
check "trace does not block: the denied address is refused, not EPERM" is 111 in_cg $C connect 127.0.0.2 80
if [ "$(feature dns)" = on ]; then
	in_cg $C dns-connect 127.0.0.1 api.openai.com 443 >/dev/null 2>&1
	# the built-in trace policy alerts on overseas AI APIs
	check "trace shows the overseas AI API as an alert" sh -c "sleep 1; grep -q 'alert .*api.openai.com:443/tcp ai-overseas' $T/trace || { cat $T/trace $T/terr; exit 1; }"
fi
kill -INT $tp; wait $tp; rc=$?
check "trace exits 0 on Ctrl-C" is 0 test $rc = 0
check "trace prints its summary" grep -q 'events' $T/trace $T/terr
check "trace leaves nothing attached" detached

echo "RWK 1..$n"
