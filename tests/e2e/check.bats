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

INTEL="$BATS_TEST_DIRNAME/../../etc/intel/endpoints.yaml"
DOCS_INTEL="$BATS_TEST_DIRNAME/../../docs/intel.md"

@test "check takes a URL: its host, and the scheme's port over TCP" {
	run nobody $RW check https://api.openai.com/v1/chat/completions --policy "$POLICY" --json
	[ "$status" -eq 0 ]
	[ "$(field host)" = api.openai.com ]
	[ "$(field port)" = 443 ]
	[ "$(field proto)" = tcp ]
	[ "$(field rule)" = deny-ai-overseas ]
	# the port decides: DoH on https's 443 is denied, http's 80 is not
	run nobody $RW check https://1.1.1.1/dns-query --policy "$POLICY" --json
	[ "$(field port)" = 443 ]
	[ "$(field rule)" = deny-dns-encrypted ]
	run nobody $RW check http://1.1.1.1/ --policy "$POLICY" --json
	[ "$(field port)" = 80 ]
	[ "$(field rule)" = alert-overseas ]
	# the URL's own port, and --port over it
	run nobody $RW check "https://[2606:4700:4700::1111]:853/" --policy "$POLICY" --json
	[ "$(field host)" = 2606:4700:4700::1111 ]
	[ "$(field rule)" = deny-dot ]
	run nobody $RW check https://1.1.1.1:853/ --port 443 --policy "$POLICY" --json
	[ "$(field rule)" = deny-dns-encrypted ]
	run nobody $RW check https://api.openai.com/v1 --policy "$POLICY"
	[[ "$output" == *"asked     api.openai.com port 443/tcp"* ]]
	run nobody $RW check "ftp://x.example/"
	[ "$status" -eq 2 ]
	[[ "$output" == *"scheme ftp has no port known"* ]]
}

@test "check: an earlier rule that needs a port or protocol is shown as would match" {
	run nobody $RW check 1.1.1.1 --policy "$POLICY"
	[ "$status" -eq 0 ]
	[[ "$output" == *"rule      alert-overseas ($POLICY:"* ]]
	[[ "$output" == *"also      deny-dns-encrypted ($POLICY:35) would match on port 443: deny"* ]]
	[[ "$output" == *"also      deny-dot ($POLICY:38) would match on port 853/tcp: deny"* ]]
	run nobody $RW check 1.1.1.1 --policy "$POLICY" --json
	[ "$(jq -r '.would_match | length' <<<"$output")" = 2 ]
	[ "$(jq -r '.would_match[1].on' <<<"$output")" = "port 853/tcp" ]
	[ "$(jq -r '.would_match[1].rule_source' <<<"$output")" = "$POLICY:38" ]
	# the question gives both: the rule decides, nothing is left open
	run nobody $RW check 1.1.1.1 --port 853 --proto tcp --policy "$POLICY" --json
	[ "$(field rule)" = deny-dot ]
	[ "$(jq -r '.would_match | length' <<<"$output")" = 0 ]
}

@test "check: quic deny-unnamed denies UDP/443 to an address (over an alert), not to a name, an exempt address, TCP or another port" {
	printf 'mode: enforce\nquic: deny-unnamed\nrules:\n  - name: exempt\n    match: {cidr: [1.1.1.1/32]}\n    action: allow\n  - name: watch\n    match: {overseas: true}\n    action: alert\n' > "$TMP/q.yaml"
	run nobody $RW check 8.8.8.8 --port 443 --proto udp --policy "$TMP/q.yaml" --json
	[ "$status" -eq 0 ]
	[ "$(field rule)" = quic-unnamed ]
	[ "$(field action)" = deny ]
	# the same address over TCP, or on another port: the alert rule
	run nobody $RW check 8.8.8.8 --port 443 --proto tcp --policy "$TMP/q.yaml" --json
	[ "$(field rule)" = watch ]
	[ "$(field action)" = alert ]
	run nobody $RW check 8.8.8.8 --port 444 --proto udp --policy "$TMP/q.yaml" --json
	[ "$(field rule)" = watch ]
	# an allow rule is an exemption
	run nobody $RW check 1.1.1.1 --port 443 --proto udp --policy "$TMP/q.yaml" --json
	[ "$(field rule)" = exempt ]
	[ "$(field action)" = allow ]
	# a name is judged by its name
	run nobody $RW check api.openai.com --port 443 --proto udp --policy "$TMP/q.yaml" --json
	[ "$(field rule)" != quic-unnamed ]
	# quic: allow (the default)
	sed -i 's/deny-unnamed/allow/' "$TMP/q.yaml"
	run nobody $RW check 8.8.8.8 --port 443 --proto udp --policy "$TMP/q.yaml" --json
	[ "$(field rule)" = watch ]
	# text output names it too
	sed -i 's/quic: allow/quic: deny-unnamed/' "$TMP/q.yaml"
	run nobody $RW check 8.8.8.8 --port 443 --proto udp --policy "$TMP/q.yaml"
	[[ "$output" == *"rule      quic-unnamed"* ]]
}

@test "check --json carries file:line of the rule and of the intelligence entry" {
	run nobody $RW check api.openai.com --policy "$POLICY" --json
	[ "$status" -eq 0 ]
	rs=$(field rule_source)
	[ "${rs%:*}" = "$POLICY" ]
	sed -n "${rs##*:}p" "$POLICY" | grep -q 'name: deny-ai-overseas'
	is=$(field intel_source)
	[ "${is%:*}" = etc/intel/endpoints.yaml ]
	sed -n "${is##*:}p" "$INTEL" | grep -q '{domain: api.openai.com,'
	# the text says the same
	run nobody $RW check api.openai.com --policy "$POLICY"
	[[ "$output" == *"source    $is"* ]]
	[[ "$output" == *"($rs)"* ]]
}

@test "intel show prints an entry with its notes and source line; unknown: exit 2" {
	run nobody $RW intel show api.openai.com
	[ "$status" -eq 0 ]
	[[ "$output" == *"category    ai-overseas"* ]]
	[[ "$output" == *"provider    OpenAI"* ]]
	[[ "$output" == *"confidence  verified"* ]]
	[[ "$output" == *"notes       S1; S2; https://developers.openai.com/api/reference/overview"* ]]
	# the source keys spelled out as docs/intel.md has them
	url=$(grep -oE '^ +S1: .*(https://[^ ]+)' <<<"$output" | grep -oE 'https://[^ ]+')
	grep -q "^| S1 |.*$url" "$DOCS_INTEL"
	src=$(grep -oE 'source +etc/intel/endpoints.yaml:[0-9]+' <<<"$output" | awk -F: '{ print $2 }')
	sed -n "${src}p" "$INTEL" | grep -q '{domain: api.openai.com,'
	run nobody $RW intel show 160.79.104.10 --json
	[ "$(field cidr)" = 160.79.104.0/23 ]
	[ "$(field provider)" = Anthropic ]
	[[ "$(field notes)" == *"https://platform.claude.com/docs/en/api/ip-addresses.md"* ]]
	run nobody $RW intel show nope.invalid
	[ "$status" -eq 2 ]
	[[ "$output" == *"nope.invalid is not in the intelligence"* ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "intel show: an entry of a user's file is named by that file and line" {
	printf 'version: 1\nentries:\n  - {domain: relay.example, category: ai-relay, provider: Test}  # seen at https://relay.example/pricing\n' >"$TMP/i.yaml"
	chmod 644 "$TMP/i.yaml"
	run nobody $RW intel show relay.example --intel "$TMP/i.yaml" --json
	[ "$status" -eq 0 ]
	[ "$(field source)" = "$TMP/i.yaml:3" ]
	[ "$(field notes)" = "seen at https://relay.example/pricing" ]
	[ "$(field category)" = ai-relay ]
}

@test "every source key intel show spells out is docs/intel.md's" {
	checked=0
	for k in $(seq 1 10); do
		# an entry whose notes name S<k>
		key=$(grep -m1 -E "^ *- \{(domain|cidr): [^#]*#.*\bS$k\b" "$INTEL" |
		      sed -E 's/^ *- \{(domain|cidr): "?([^,"]+).*/\2/')
		[ -n "$key" ] || continue
		run nobody $RW intel show "$key"
		[ "$status" -eq 0 ]
		said=$(grep -E "^ +S$k: " <<<"$output")
		[ -n "$said" ] || { echo "intel show $key does not spell out S$k"; false; }
		url=$(grep -oE 'https://[^ ]+' <<<"$said" || true)
		[ -z "$url" ] || grep -q "^| S$k |.*$url" "$DOCS_INTEL" ||
			{ echo "S$k: $url is not docs/intel.md's"; false; }
		checked=$((checked + 1))
	done
	[ "$checked" -ge 5 ]
}
