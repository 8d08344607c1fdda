#!/usr/bin/env bats
# relaywatch check and policy validate: the intelligence, the country table
# and the policy as a user without root sees them.

RW="$BATS_TEST_DIRNAME/../../build/relaywatch"
POLICY="$BATS_TEST_DIRNAME/../../etc/policy.yaml"

setup() {
	TMP=$(mktemp -d)
	chmod 755 "$TMP"
}

teardown() {
	rm -rf "$TMP"
}

# run as nobody: check needs no privilege
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }

field() { jq -r ".$1" <<<"$output"; }

@test "api.openai.com is ai-overseas / OpenAI, denied by the shipped policy" {
	run nobody $RW check api.openai.com --policy "$POLICY" --json
	[ "$status" -eq 0 ]
	[ "$(field category)" = ai-overseas ]
	[ "$(field provider)" = OpenAI ]
	[ "$(field rule)" = deny-ai-overseas ]
	[ "$(field action)" = deny ]
}

@test "a relay station from the list is ai-relay" {
	run nobody $RW check api.aihubmix.com --policy "$POLICY" --json
	[ "$status" -eq 0 ]
	[ "$(field category)" = ai-relay ]
	[ "$(field rule)" = deny-ai-relay ]
}

@test "api.deepseek.com is ai-domestic and allowed" {
	run nobody $RW check api.deepseek.com --policy "$POLICY" --json
	[ "$status" -eq 0 ]
	[ "$(field category)" = ai-domestic ]
	[ "$(field action)" = alert ]
}

@test "8.8.8.8 is in the US, overseas; on port 53 it is only recorded" {
	run nobody $RW check 8.8.8.8 --policy "$POLICY" --port 53 --proto udp --json
	[ "$status" -eq 0 ]
	[ "$(field country)" = US ]
	[ "$(field overseas)" = true ]
	[ "$(field rule)" = alert-overseas ]
	run nobody $RW check 8.8.8.8 --policy "$POLICY" --port 443 --json
	[ "$(field rule)" = deny-dns-encrypted ]
}

@test "a Chinese address is domestic; private addresses are never overseas" {
	run nobody $RW check 114.114.114.114 --json
	[ "$(field country)" = CN ]
	[ "$(field overseas)" = false ]
	run nobody $RW check 10.1.2.3 --json
	[ "$(field overseas)" = false ]
	run nobody $RW check ::1 --json
	[ "$(field overseas)" = false ]
}

@test "text output names the rule with file:line and says why" {
	run nobody $RW check api.anthropic.com --policy "$POLICY"
	[ "$status" -eq 0 ]
	[[ "$output" == *"category  ai-overseas"* ]]
	[[ "$output" == *"rule      deny-ai-overseas ($POLICY:"* ]]
	[[ "$output" == *"why       category ai-overseas is listed"* ]]
}

@test "a user intel file re-classifies a name, a later entry wins" {
	printf 'version: 1\nentries:\n  - {domain: api.deepseek.com, category: ai-relay, provider: Test}\n' >"$TMP/i.yaml"
	run nobody $RW check api.deepseek.com --intel "$TMP/i.yaml" --policy "$POLICY" --json
	[ "$(field category)" = ai-relay ]
	[ "$(field provider)" = Test ]
	[ "$(field action)" = deny ]
}

@test "the binary exemption: only the approved exe and hash are allowed" {
	cp /bin/true "$TMP/agent"
	sha=$(sha256sum "$TMP/agent" | cut -d' ' -f1)
	cat >"$TMP/p.yaml" <<-YAML
	mode: enforce
	rules:
	  - name: approved
	    match: {category: ai-overseas, exe: $TMP/agent, sha256: $sha}
	    action: allow
	  - name: deny-ai
	    match: {category: ai-overseas}
	    action: deny
	YAML
	run nobody $RW check api.openai.com --policy "$TMP/p.yaml" --exe "$TMP/agent" --json
	[ "$(field rule)" = approved ]
	cp /bin/false "$TMP/other"
	run nobody $RW check api.openai.com --policy "$TMP/p.yaml" --exe "$TMP/other" --json
	[ "$(field rule)" = deny-ai ]
}

@test "validate: the shipped policies are clean" {
	run nobody $RW policy validate "$POLICY"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 warnings"* ]]
	run nobody $RW policy validate "$BATS_TEST_DIRNAME/../../etc/trace-policy.yaml"
	[ "$status" -eq 0 ]
}

@test "validate: an unknown category names the valid ones, with line:col" {
	printf 'rules:\n  - name: a\n    match: {category: ai-foo}\n    action: deny\n' >"$TMP/p.yaml"
	run nobody $RW policy validate "$TMP/p.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == "$TMP/p.yaml:3:"*"ai-foo"*"ai-overseas"* ]]
}

@test "validate: a shadowed rule is a warning, not an error" {
	printf 'rules:\n  - name: all-relay\n    match: {category: ai-relay}\n    action: deny\n  - name: one-relay\n    match: {category: ai-relay, port: 443}\n    action: alert\n' >"$TMP/p.yaml"
	run nobody $RW policy validate "$TMP/p.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"$TMP/p.yaml:5:"*"warning: rule 'one-relay' is unreachable: rule 'all-relay' (line 2)"* ]]
	[[ "$output" == *"1 warnings"* ]]
}

@test "check: bad input gets one sentence and exit 2" {
	run $RW check
	[ "$status" -eq 2 ]
	run $RW check api.openai.com --port 70000
	[ "$status" -eq 2 ]
	[[ "$output" == *"--port expects a number from 1 to 65535"* ]]
	run $RW check api.openai.com --policy "$TMP/missing.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"missing.yaml"* ]]
}

@test "validate: every bad rule is reported, each with its line" {
	printf 'rules:\n  - name: a\n    match: {cidr: 10.0.0.1/8}\n    action: deny\n  - name: b\n    match: {category: ai-foo}\n    action: deny\n' >"$TMP/p.yaml"
	run nobody $RW policy validate "$TMP/p.yaml"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == "$TMP/p.yaml:3:"*"host bits"* ]]
	[[ "${lines[1]}" == "$TMP/p.yaml:6:"*"ai-foo"* ]]
}
