#!/usr/bin/env bats
# Credential exposure: a process with planted fake keys (environment,
# credential files in its home, a .env in its working directory, its
# command line) connects to a listed relay address in the test cgroup.
# Each key is named by provider, place and a keyed fingerprint the test
# computes itself; no output holds any secret; a control destination
# names nothing; a process gone before it was looked at is said to be.

load lib/rw

setup() {
	rw_setup cred
	KEYS="$TMP/keys"
	/usr/bin/python3 "$BATS_TEST_DIRNAME/lib/fakekeys.py" "$KEYS"
	# shellcheck disable=SC1090
	. "$KEYS/env"
	head -c 32 /dev/urandom > "$TMP/fp.key"
	cat > "$TMP/intel.yaml" <<-EOF
	version: 1
	entries:
	  - {cidr: $NET.5/32, category: ai-relay, provider: Test Relay, confidence: likely}
	EOF
	cat > "$TMP/policy.yaml" <<-EOF
	mode: enforce
	intel: [$TMP/intel.yaml]
	credential_files: true
	fingerprint_key: $TMP/fp.key
	rules:
	  - name: watch-relay
	    match: {category: ai-relay}
	    action: alert
	EOF
	PORT=$(rw_port)
	for a in 5 7; do
		/usr/bin/python3 "$BATS_TEST_DIRNAME/lib/accept.py" "$NET.$a" "$PORT" > "$TMP/accept.$a" &
		PIDS+=($!)
	done
	for a in 5 7; do
		for _ in $(seq 100); do grep -q ready "$TMP/accept.$a" && break; sleep 0.05; done
	done
}

teardown() {
	rw_teardown
}

# the client: its environment and home planted, a key in its arguments;
# it connects to $1 and stays 2 s (a long-lived SDK client)
client() {
	(cd "$KEYS/work" && env -i PATH=/usr/bin:/bin HOME="$KEYS/home" \
		ANTHROPIC_API_KEY="$ANTHROPIC_KEY" DEEPSEEK_API_KEY="$DEEPSEEK_KEY" \
		AWS_SECRET_ACCESS_KEY="$AWS_SECRET" LANG=C \
		/usr/bin/python3 -c 'import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
time.sleep(2)' "$1" "$PORT" --api-key "$ARG_KEY")
}

fingerprint() {
	/usr/bin/python3 -c 'import hmac, hashlib, sys
k = open(sys.argv[1], "rb").read()
print("hmac-sha256:" + hmac.new(k, sys.argv[2].encode(), hashlib.sha256).hexdigest()[:16])' "$TMP/fp.key" "$1"
}

# the credential record of (where, name or path) whose fingerprint is
# the planted key's (so the test computes it itself): provider, scope,
# display and destination checked
expect() {
	local where=$1 place=$2 provider=$3 secret=$4 line
	line=$(jq -c --arg w "$where" --arg p "$place" --arg f "$(fingerprint "$secret")" \
		'select(.event == "credential" and .where == $w and .fingerprint == $f
			and ($p == "" or .name == $p or .path == $p))' "$LOG" | head -1)
	[ -n "$line" ] || { echo "no credential record for $where $place" >&2; jq -c 'select(.event == "credential")' "$LOG" >&2; return 1; }
	[ "$(jq -r .key_provider <<<"$line")" = "$provider" ] ||
		{ echo "$where $place: provider $(jq -r .key_provider <<<"$line"), want $provider" >&2; return 1; }
	[ "$(jq -r .fingerprint_scope <<<"$line")" = fleet ]
	[[ "$(jq -r .display <<<"$line")" == *"…${secret: -4}" ]]
	[ "$(jq -r .daddr <<<"$line")" = "$NET.5" ]
	[ "$(jq -r .category <<<"$line")" = ai-relay ]
	[ "$(jq -r .action <<<"$line")" = alert ]
}

@test "keys in the environment, the home's credential files, .env and argv are named, never written" {
	start_daemon
	in_cg bash -c "$(declare -f client); KEYS=$KEYS PORT=$PORT ANTHROPIC_KEY=$ANTHROPIC_KEY DEEPSEEK_KEY=$DEEPSEEK_KEY AWS_SECRET=$AWS_SECRET ARG_KEY=$ARG_KEY client $NET.5"
	wait_for '.event == "credential" and .where == "file"' >/dev/null
	sleep 0.5
	kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}"
	expect env ANTHROPIC_API_KEY Anthropic "$ANTHROPIC_KEY"
	expect env DEEPSEEK_API_KEY "DeepSeek or DashScope" "$DEEPSEEK_KEY"
	expect env AWS_SECRET_ACCESS_KEY AWS "$AWS_SECRET"
	expect file "$KEYS/home/.aws/credentials" AWS "$AWS_KEY_ID"
	expect file "$KEYS/home/.claude/.credentials.json" Anthropic "$CLAUDE_OAUTH"
	expect file '$CWD/.env' OpenAI "$OPENAI_KEY"
	expect cmdline "" Anthropic "$ARG_KEY"
	# the command line in the records carries the display form
	jq -s -e 'map(select(.event == "connect")) | length > 0 and all(.cmdline | contains("--api-key sk-ant-api03-…"))' "$LOG" >/dev/null || { jq -c 'select(.event == "connect")' "$LOG" >&2; false; }
	# no output holds a secret: the log, the daemon's messages
	for s in "$ANTHROPIC_KEY" "$DEEPSEEK_KEY" "$AWS_SECRET" "$AWS_KEY_ID" "$CLAUDE_OAUTH" "$OPENAI_KEY" "$ARG_KEY"; do
		! grep -qF -- "$s" "$LOG" "$TMP/err" || { echo "a secret was written: ${s:0:12}..." >&2; false; }
		! grep -qF -- "${s:4:24}" "$LOG" "$TMP/err"
	done
}

@test "the same client to a destination not listed: no credential record" {
	start_daemon
	in_cg bash -c "$(declare -f client); KEYS=$KEYS PORT=$PORT ANTHROPIC_KEY=$ANTHROPIC_KEY DEEPSEEK_KEY=$DEEPSEEK_KEY AWS_SECRET=$AWS_SECRET ARG_KEY=$ARG_KEY client $NET.7"
	sleep 0.5
	kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}"
	[ "$(jq -s 'map(select(.event == "credential")) | length' "$LOG")" = 0 ]
}

@test "a process gone before the daemon looked: the record says so, never a guess" {
	start_daemon
	# the daemon stopped while the client runs and exits
	kill -STOP "${PIDS[-1]}"
	in_cg env ANTHROPIC_API_KEY="$ANTHROPIC_KEY" /usr/bin/python3 -c 'import socket, sys
socket.create_connection((sys.argv[1], int(sys.argv[2])))' "$NET.5" "$PORT"
	kill -CONT "${PIDS[-1]}"
	line=$(wait_for '.event == "credential"')
	[ "$(jq -r .where <<<"$line")" = env ]
	[[ "$(jq -r .error <<<"$line")" == *"exited before its environment was read"* ]]
	[ "$(jq -r '.key_provider // "none"' <<<"$line")" = none ]
}
