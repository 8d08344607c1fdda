#!/usr/bin/env bats
# --output ocsf: the daemon's network records as OCSF 1.8.0 Network
# Activity (4001), each one validated (by rw_teardown, RW_OUTPUT=ocsf)
# against docs/schema/ocsf-1.8.0-network_activity.schema.json, compiled
# from the OCSF sources; the mapping (docs/ocsf.md) checked field by field.

load lib/rw

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
	EOF
}

teardown() {
	rw_teardown
}

@test "deny, alert, flow and kill as OCSF Network Activity, valid against the vendored schema" {
	/usr/bin/python3 "$BATS_TEST_DIRNAME/lib/accept.py" "$NET.3" "$PORT" > "$TMP/accept" &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q ready "$TMP/accept" && break; sleep 0.05; done
	start_daemon_ocsf() {
		"$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" --log "$LOG" \
			--output ocsf 2>"$TMP/err" &
		PIDS+=($!)
		for _ in $(seq 200); do
			"$RW" status --cgroup "$CG" >/dev/null 2>&1 && return 0
			sleep 0.05
		done
		return 1
	}
	start_daemon_ocsf
	in_cg nc -z "$NET.2" 9 || true
	in_cg nc -z "$NET.3" "$PORT" || true
	in_cg nc -z "$NET.4" 9 || true
	nc_sha=$(sha256sum "$(readlink -f "$(type -P nc)")" | cut -d' ' -f1)
	deny=$(wait_for '.unmapped.rule == "deny-relay"')
	[ "$(jq -r .class_uid <<<"$deny")" = 4001 ]
	[ "$(jq -r .category_uid <<<"$deny")" = 4 ]
	[ "$(jq -r .type_uid <<<"$deny")" = 400105 ]     # Refuse
	[ "$(jq -r .disposition <<<"$deny")" = Blocked ]
	[ "$(jq -r .disposition_id <<<"$deny")" = 2 ]
	[ "$(jq -r .action_id <<<"$deny")" = 2 ]
	[ "$(jq -r .severity_id <<<"$deny")" = 3 ]
	[ "$(jq -r .dst_endpoint.ip <<<"$deny")" = "$NET.2" ]
	[ "$(jq -r .dst_endpoint.port <<<"$deny")" = 9 ]
	[ "$(jq -r .connection_info.protocol_name <<<"$deny")" = tcp ]
	[ "$(jq -r .actor.process.name <<<"$deny")" = nc ]
	[ "$(jq -r .actor.process.file.path <<<"$deny")" = "$(readlink -f "$(type -P nc)")" ]
	[ "$(jq -r '.actor.process.file.hashes[0].value' <<<"$deny")" = "$nc_sha" ]
	[ "$(jq -r '.actor.process.file.hashes[0].algorithm_id' <<<"$deny")" = 3 ]
	[ "$(jq -r .metadata.version <<<"$deny")" = 1.8.0 ]
	[ "$(jq -r .metadata.product.name <<<"$deny")" = relaywatch ]
	[ "$(jq -r .src_endpoint.hostname <<<"$deny")" = "$(hostname)" ]
	alert=$(wait_for '.unmapped.rule == "watch-local" and .activity_id == 1')
	[ "$(jq -r .disposition <<<"$alert")" = Alert ]
	[ "$(jq -r .action_id <<<"$alert")" = 1 ]
	flow=$(wait_for '.activity_id == 2')
	[ "$(jq -r .metadata.log_name <<<"$flow")" = flow ]
	[ "$(jq -r .count <<<"$flow")" -ge 1 ]
	[ "$(jq -r '.traffic | has("bytes_out")' <<<"$flow")" = true ]
	kill=$(wait_for '.metadata.log_name == "kill"')
	[ "$(jq -r .activity_id <<<"$kill")" = 99 ]
	[ "$(jq -r .severity_id <<<"$kill")" = 4 ]
	# the daemon's own records are not network activity: not here
	[ "$(jq -s 'map(select(.class_uid != 4001)) | length' "$LOG")" = 0 ]
	! grep -q '"event":"start"' "$LOG"
}

@test "--output with an unknown format: exit 2 with the list" {
	run "$RW" run --policy "$TMP/policy.yaml" --cgroup "$CG" --output xml
	[ "$status" = 2 ]
	[[ "$output" == *"--output: unknown format 'xml' (known: json, ocsf, text)"* ]]
	run "$RW" trace --output cef
	[ "$status" = 2 ]
}
