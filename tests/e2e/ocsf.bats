#!/usr/bin/env bats
# --output ocsf: the daemon's network records as OCSF 1.8.0 Network
# Activity (4001), each one validated (by rw_teardown, RW_OUTPUT=ocsf)
# against docs/schema/ocsf-1.8.0-network_activity.schema.json, compiled
# from the OCSF sources; the mapping (docs/ocsf.md) checked field by field.
# Real clients in a test cgroup: nc, curl (through a dnsmasq on loopback),
# curl's ClientHello (SNI) and HTTP Host.

load lib/fixtures
load lib/rw

OCSF_SCHEMA="$SCHEMA_DIR/ocsf-1.8.0-network_activity.schema.json"

setup() {
	rw_setup ocsf
	RW_OUTPUT=ocsf
	PORT=$(rw_port)
	rw_deny_policy
	cat >> "$TMP/policy.yaml" <<-EOF
	  - name: kill-relay
	    match: {cidr: [$NET.4/32]}
	    action: kill
	  - name: watch-local
	    match: {cidr: [$NET.3/32], port: $PORT}
	    action: alert
	  - name: deny-openai
	    match: {domain: api.openai.com}
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

# run --output ocsf; no start record in this format: waits for status
start_daemon_ocsf() {
	"$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" --log "$LOG" \
		--output ocsf 2>"$TMP/err" &
	PIDS+=($!)
	for _ in $(seq 200); do
		"$RW" status --cgroup "$CG" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	cat "$TMP/err" >&2
	return 1
}

# CMD inside the test cgroup, resolving through our dnsmasq
in_cg_dns() { with_resolver "$DNS_IP" bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$CG" "$@"; }

# jq FILTER on the record $1
field() { jq -r "$2" <<<"$1"; }

@test "deny, alert, flow and kill as OCSF Network Activity, valid against the vendored schema" {
	/usr/bin/python3 "$BATS_TEST_DIRNAME/lib/accept.py" "$NET.3" "$PORT" > "$TMP/accept" &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q ready "$TMP/accept" && break; sleep 0.05; done
	start_daemon_ocsf
	in_cg nc -z "$NET.2" 9 || true
	in_cg nc -z "$NET.3" "$PORT" || true
	in_cg nc -z "$NET.4" 9 || true
	nc_exe=$(readlink -f "$(type -P nc)")
	nc_sha=$(sha256sum "$nc_exe" | cut -d' ' -f1)
	deny=$(wait_for '.unmapped.rule == "deny-relay"')
	[ "$(field "$deny" .class_uid)" = 4001 ]
	[ "$(field "$deny" .category_uid)" = 4 ]
	[ "$(field "$deny" .type_uid)" = 400105 ]     # Refuse
	[ "$(field "$deny" .disposition)" = Blocked ]
	[ "$(field "$deny" .disposition_id)" = 2 ]
	[ "$(field "$deny" .action_id)" = 2 ]
	[ "$(field "$deny" .severity_id)" = 3 ]
	[ "$(field "$deny" .dst_endpoint.ip)" = "$NET.2" ]
	[ "$(field "$deny" .dst_endpoint.port)" = 9 ]
	[ "$(field "$deny" .connection_info.protocol_name)" = tcp ]
	[ "$(field "$deny" .actor.process.name)" = nc ]
	[ "$(field "$deny" .actor.process.file.path)" = "$nc_exe" ]
	[ "$(field "$deny" '.actor.process.file.hashes[0].value')" = "$nc_sha" ]
	[ "$(field "$deny" '.actor.process.file.hashes[0].algorithm_id')" = 3 ]
	[ "$(field "$deny" .metadata.version)" = "$(jq -r .ocsf_version "$OCSF_SCHEMA")" ]
	[ "$(field "$deny" .metadata.product.name)" = relaywatch ]
	[ "$(field "$deny" .src_endpoint.hostname)" = "$(hostname)" ]
	alert=$(wait_for '.unmapped.rule == "watch-local" and .activity_id == 1')
	[ "$(field "$alert" .disposition)" = Alert ]
	[ "$(field "$alert" .action_id)" = 1 ]
	[ "$(field "$alert" .dst_endpoint.port)" = "$PORT" ]
	# the flow closes the alerted connection: the same socket
	flow=$(wait_for '.activity_id == 2')
	[ "$(field "$flow" .metadata.log_name)" = flow ]
	[ "$(field "$flow" .metadata.correlation_uid)" = "$(field "$alert" .metadata.correlation_uid)" ]
	[ "$(field "$flow" .count)" -ge 1 ]
	[ "$(field "$flow" '.traffic | has("bytes_out")')" = true ]
	[ "$(field "$flow" '.start_time <= .time')" = true ]
	kill=$(wait_for '.metadata.log_name == "kill"')
	[ "$(field "$kill" .activity_id)" = 99 ]
	[ "$(field "$kill" .severity_id)" = 4 ]
	[ "$(field "$kill" .disposition)" = Blocked ]
	[ "$(field "$kill" .actor.process.name)" = nc ]
	# the daemon's own records are not network activity: not here
	[ "$(jq -s 'map(select(.class_uid != 4001)) | length' "$LOG")" = 0 ]
	! grep -q '"event":"start"' "$LOG"
}

@test "dns, tls (SNI) and http (Host) names as OCSF Network Activity" {
	IP=$(pick_ip)
	NSIP=$(pick_ip)
	start_tls "$IP" 443 api.openai.com
	start_http "$IP" 80
	start_dns "$NSIP" "api.openai.com=$IP"
	start_daemon_ocsf
	# resolved by our dnsmasq, then denied at connect by the name
	run in_cg_dns curl -q -s -k -m 3 https://api.openai.com/v1/models
	[ "$status" -eq 7 ]
	# no DNS: the ClientHello's SNI names it
	run in_cg curl -q -s -k -m 3 --resolve "api.openai.com:443:$IP" https://api.openai.com/
	[ "$status" -ne 0 ]
	# an HTTP Host of a relay station: alerted, and its bytes counted
	run in_cg curl -q -s -m 3 -H "Host: api.aihubmix.com" "http://$IP/v1/chat/completions" -d '{"model":"gpt-4o"}'
	[ "$status" -eq 0 ]
	curl_exe=$(readlink -f "$(type -P curl)")
	dns=$(wait_for '.metadata.log_name == "dns"')
	[ "$(field "$dns" .activity_id)" = 6 ]                  # Traffic
	[ "$(field "$dns" .type_uid)" = 400106 ]
	[ "$(field "$dns" .dst_endpoint.hostname)" = api.openai.com ]
	[ "$(field "$dns" .disposition)" = Logged ]
	[ "$(field "$dns" '.unmapped.addresses[0]')" = "$IP" ]
	[ "$(field "$dns" .actor.process.name)" = curl ]
	conn=$(wait_for '.metadata.log_name == "connect" and .dst_endpoint.hostname == "api.openai.com"')
	[ "$(field "$conn" .disposition)" = Blocked ]
	[ "$(field "$conn" .activity_name)" = Refuse ]
	[ "$(field "$conn" .dst_endpoint.ip)" = "$IP" ]
	[ "$(field "$conn" .dst_endpoint.port)" = 443 ]
	[ "$(field "$conn" .unmapped.rule)" = deny-openai ]
	[ "$(field "$conn" .actor.process.file.path)" = "$curl_exe" ]
	tls=$(wait_for '.metadata.log_name == "tls"')
	[ "$(field "$tls" .dst_endpoint.hostname)" = api.openai.com ]
	[ "$(field "$tls" .disposition_id)" = 2 ]
	[ "$(field "$tls" .type_uid)" = 400105 ]
	[ "$(field "$tls" .status)" = Failure ]
	http=$(wait_for '.metadata.log_name == "http"')
	[ "$(field "$http" .dst_endpoint.hostname)" = api.aihubmix.com ]
	[ "$(field "$http" .dst_endpoint.port)" = 80 ]
	[ "$(field "$http" .disposition)" = Alert ]
	[ "$(field "$http" .activity_name)" = Open ]
	[ "$(field "$http" .unmapped.category)" = ai-relay ]
	flow=$(wait_for '.metadata.log_name == "flow" and .dst_endpoint.hostname == "api.aihubmix.com"')
	[ "$(field "$flow" '.traffic.bytes_out > 100')" = true ]
	# first_seen, last_seen: when it opened, when it last sent
	[ "$(field "$flow" '.start_time <= .end_time and .end_time <= .time')" = true ]
	[ "$(field "$flow" .metadata.correlation_uid)" = "$(field "$http" .metadata.correlation_uid)" ]
	[ "$(field "$flow" .actor.process.file.path)" = "$curl_exe" ]
}

@test "every verdict, family and kind the sink maps is valid (the unit test's records)" {
	unit="$BATS_TEST_DIRNAME/../../build/tests/test_ocsf"
	[ -x "$unit" ] || skip "build/tests/test_ocsf is not built (make unit)"
	# would_deny, would_kill, allow, IPv6, a flow with both times, ...:
	# written to the log, so rw_teardown validates them too
	RW_OCSF_OUT="$LOG" run "$unit"
	[ "$status" = 0 ]
	[ "$(jq -s 'map(select(.class_uid == 4001)) | length' "$LOG")" -ge 10 ]
	run /usr/bin/python3 "$VALIDATE" "$OCSF_SCHEMA" "$LOG"
	[ "$status" = 0 ]
}

@test "--output with an unknown format: exit 2 with the list" {
	run "$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" --output xml
	[ "$status" = 2 ]
	[[ "$output" == *"--output: unknown format 'xml' (known: json, ocsf, text)"* ]]
	run "$RW" trace --output cef
	[ "$status" = 2 ]
	[[ "$output" == *"(known: json, ocsf, text)"* ]]
}
