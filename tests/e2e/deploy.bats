#!/usr/bin/env bats
# deploy/kubernetes: every manifest valid against the Kubernetes API
# schemas, offline (npm's kubernetes-models, installed once into
# /var/cache/relaywatch/npm-k8s); the DaemonSet has what the daemon needs.

ROOT_DIR="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
NPM_DIR=/var/cache/relaywatch/npm-k8s

setup() {
	command -v node >/dev/null || skip "node is not installed (make test installs it)"
	if [ ! -d "$NPM_DIR/node_modules/kubernetes-models" ]; then
		command -v npm >/dev/null || skip "npm is not installed (make test installs it)"
		mkdir -p "$NPM_DIR"
		(cd "$NPM_DIR" && npm init -y >/dev/null &&
			npm install --no-audit --no-fund kubernetes-models@4 yaml@2 >/dev/null 2>&1) ||
			skip "npm could not install kubernetes-models (no registry reachable)"
	fi
	TMP=$(mktemp -d)
}

teardown() {
	rm -rf "$TMP"
}

validate() { NODE_PATH="$NPM_DIR/node_modules" node "$BATS_TEST_DIRNAME/lib/k8s_validate.js" "$@"; }

@test "the manifests are valid Kubernetes objects" {
	run validate "$ROOT_DIR"/deploy/kubernetes/*.yaml
	echo "$output"
	[ "$status" = 0 ]
	[[ "$output" == *"4 documents checked, 0 invalid"* ]]
}

@test "the validator refuses a broken DaemonSet (a control)" {
	sed 's/hostPID: true/hostPID: "yes"/' "$ROOT_DIR/deploy/kubernetes/relaywatch.yaml" > "$TMP/bad.yaml"
	run validate "$TMP/bad.yaml"
	[ "$status" = 1 ]
	[[ "$output" == *"hostPID must be boolean"* ]]
}

@test "the DaemonSet: host PID and network, bpffs, cgroups, the policy reloaded on change, the capability set of the unit" {
	y="$ROOT_DIR/deploy/kubernetes/relaywatch.yaml"
	grep -q 'hostPID: true' "$y"
	grep -q 'hostNetwork: true' "$y"
	grep -q 'seccompProfile: {type: Unconfined}' "$y"
	grep -q 'hostPath: {path: /sys/fs/bpf' "$y"
	grep -q 'hostPath: {path: /sys/fs/cgroup' "$y"
	grep -q -- '--reload-on-change' "$y"
	grep -q 'command: \[/usr/sbin/relaywatch, status\]' "$y"
	# the same capabilities as the systemd unit's bounding set
	unit=$(sed -n 's/^CapabilityBoundingSet=//p' "$ROOT_DIR/dist/relaywatch.service.in" | tr ' ' '\n' | sed 's/^CAP_//' | sort | tr '\n' ' ')
	ds=$(sed -n 's/.*add: \[\(.*\)\]/\1/p' "$y" | tr -d ' ' | tr ',' '\n' | sort | tr '\n' ' ')
	[ "$unit" = "$ds" ]
	# the policy in the ConfigMap is one relaywatch accepts
	sed -n '/policy.yaml: |/,/^---/p' "$y" | sed '1d;$d' | sed 's/^    //' > "$TMP/policy.yaml"
	"$ROOT_DIR/build/relaywatch" policy validate "$TMP/policy.yaml"
}
