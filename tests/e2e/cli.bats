#!/usr/bin/env bats
# What a user's mistakes get: one clear sentence and a non-zero exit code,
# never a wall of libbpf output.

RW="$BATS_TEST_DIRNAME/../../build/relaywatch"

setup() {
	TMP=$(mktemp -d)
	CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
}

teardown() {
	rm -rf "$TMP"
}

@test "--help has examples for every command" {
	for c in trace run check "intel show" "policy validate" report; do
		run $RW $c --help
		[ "$status" -eq 0 ]
		[[ "$output" == *EXAMPLES* ]]
	done
}

@test "an unknown flag is a usage error (exit 2) naming the flag" {
	run $RW trace --frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown option '--frobnicate'"* ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "an unknown command is a usage error" {
	run $RW frobnicate
	[ "$status" -eq 2 ]
	[[ "$output" == *"unknown command 'frobnicate'"* ]]
}

@test "run without --policy says so" {
	run $RW run
	[ "$status" -eq 2 ]
	[[ "$output" == *"needs --policy"* ]]
}

@test "a missing policy file: one sentence, exit 2" {
	run $RW run --policy "$TMP/nope.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"nope.yaml"*"No such file or directory"* ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "a bad policy line gives file:line:col and exit 2, nothing loaded" {
	printf 'mode: enforce\nrules:\n  - name: x\n    match: {cidr: [10.0.0.1/8]}\n    action: deny\n' >"$TMP/p.yaml"
	run $RW run --policy "$TMP/p.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$TMP/p.yaml:4:"* ]]
	[ "${#lines[@]}" -eq 1 ]
	run $RW policy validate "$TMP/p.yaml"
	[ "$status" -eq 2 ]
	[[ "$output" == *"$TMP/p.yaml:4:"* ]]
}

@test "policy validate accepts a good file without root" {
	printf 'mode: enforce\nrules:\n  - name: x\n    match: {cidr: [10.0.0.0/8]}\n    action: deny\n' >"$TMP/p.yaml"
	chmod 644 "$TMP/p.yaml"
	chmod 755 "$TMP"
	run setpriv --reuid=65534 --regid=65534 --clear-groups $RW policy validate "$TMP/p.yaml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok, 1 rules"* ]]
}

@test "a number out of range is rejected with its range" {
	run $RW trace --pid 0
	[ "$status" -eq 2 ]
	[[ "$output" == *"--pid expects a number from 1 to"* ]]
	run $RW trace --dedup-ms lots
	[ "$status" -eq 2 ]
}

@test "a path that is not a cgroup v2 directory: one sentence" {
	[ "$(id -u)" = 0 ] || skip "needs root"
	run $RW trace --cgroup "$TMP"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$TMP is not a cgroup v2 directory"* ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "without root: one sentence saying so" {
	[ -n "$CGROOT" ] || skip "no cgroup v2 mount"
	run setpriv --reuid=65534 --regid=65534 --clear-groups $RW trace --cgroup "$CGROOT"
	[ "$status" -eq 1 ]
	[[ "$output" == *"needs root"* ]]
	[ "${#lines[@]}" -eq 1 ]
}

@test "version prints the version" {
	run $RW version
	[ "$status" -eq 0 ]
	[[ "$output" == "relaywatch "[0-9]* ]]
}

# the options a command's --help names (usage, table and prose), sorted
help_opts() {
	$RW $1 --help | grep -oE -- '(^|[ [,])--?[a-z][a-z0-9-]*' |
		sed -E 's/^[ [,]//' | grep -vx -- '--help' | grep -vx -- '-vv' |
		sort -u
}

# the options the man page defines under "## CMD" (definition lines only)
man_opts() {
	awk -v h="## $1" '$0 == h { on = 1; next } /^#/ { on = 0 } on' \
		"$BATS_TEST_DIRNAME/../../user/cli/relaywatch.8.scd" |
		grep -E '^\*-' | grep -oE -- '\*--?[a-z][a-z0-9-]*\*' |
		tr -d '*' | grep -vx -- '-vv' | sort -u
}

@test "the man page and --help name the same options, command by command" {
	for c in trace run status detach check "intel show" probe report; do
		help_opts "$c" > "$TMP/help"
		man_opts "$c" > "$TMP/man"
		# a command with options has them in both
		[ -s "$TMP/help" ] || { echo "no options in $c --help"; false; }
		diff -u --label "$c --help" --label "man page ## $c" \
			"$TMP/help" "$TMP/man"
	done
	# every command of the main help has its heading
	for c in $($RW --help | awk '/^COMMANDS/ { on = 1; next } /^$/ { on = 0 } on { print $1 }'); do
		grep -qx "## $c.*" "$BATS_TEST_DIRNAME/../../user/cli/relaywatch.8.scd" ||
			{ echo "no ## $c in the man page"; false; }
	done
}

@test "the man page builds with scdoc and renders" {
	command -v scdoc >/dev/null || skip "scdoc is not installed (make test installs it)"
	scdoc < "$BATS_TEST_DIRNAME/../../user/cli/relaywatch.8.scd" > "$TMP/relaywatch.8"
	grep -q '^\.TH "relaywatch" "8"' "$TMP/relaywatch.8"
	MANWIDTH=80 man -l "$TMP/relaywatch.8" > "$TMP/out" 2>/dev/null || \
		groff -man -Tutf8 "$TMP/relaywatch.8" > "$TMP/out"
	grep -q -- '--reload-on-change' "$TMP/out"
}

@test "root without the BPF capabilities: one sentence naming them, not 'old kernel'" {
	command -v setpriv >/dev/null || skip "setpriv is not installed (util-linux)"
	[ "$(id -u)" = 0 ] || skip "needs root"
	run setpriv --bounding-set=-all,+net_admin --inh-caps=-all $RW probe
	[ "$status" = 1 ]
	[[ "$output" == *"not permitted to use BPF"*"CAP_BPF, CAP_PERFMON"* ]]
	[[ "$output" != *"Linux 5.10 or later"* ]]
}

@test "report: --format bogus, a missing file, a bad time: exit 2, one sentence" {
	run $RW report --format bogus /dev/null
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"unknown format 'bogus'"* ]]
	run $RW report "$TMP/nope.jsonl"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"$TMP/nope.jsonl"*"No such file or directory"* ]]
	run $RW report --since yesterday /dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--since expects an RFC 3339 time"* ]]
	run $RW report
	[ "$status" -eq 2 ]
	[[ "$output" == *"at least one LOG"* ]]
	run $RW report "$TMP"
	[ "$status" -eq 2 ]
	[[ "$output" == *"is a directory"* ]]
	run $RW report --since 2h --until 3h /dev/null
	[ "$status" -eq 2 ]
	[[ "$output" == *"--since 2h is after --until 3h"* ]]
}
