#!/usr/bin/env bash
# Runs every test binary and bats file, and closes with the line
# "N passed, N failed, N skipped". Unit tests first (no root needed), then
# the integration tests (root, a cgroup of their own each), then end-to-end.
# A binary that dies without a cmocka summary counts as one failure.
set -u
cd "$(dirname "$0")/.."
# the loopback addresses and ports the tests use (RW_TEST_NET, RW_TEST_PORTS)
source tests/net.env

pass=0 fail=0 skip=0
failed=()

# cmocka prints "[  PASSED  ] N test(s)." and, when any, FAILED / SKIPPED lines
run_cmocka() {
	local bin=$1 out rc p f s
	out=$("$bin" 2>&1); rc=$?
	printf '%s\n' "$out" | grep -E '^\[ *(RUN|OK|FAILED|SKIPPED|ERROR|LINE) *\]|^burst:|^pending:|^skipping' |
		sed "s|^|  ${RELAYWATCH_COMPAT:+compat }$(basename "$bin"): |"
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1
		printf '  %s: exited %s without a failure summary\n' "$(basename "$bin")" "$rc"
	fi
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	[ "$f" = 0 ] || failed+=("$(basename "$bin")")
}

# run_bats FILE [REGEX]: the file's tests (only those whose names match)
run_bats() {
	local file=$1 out f tag
	tag="${RUN_TAG:-}${RELAYWATCH_COMPAT:+compat }$(basename "$file")"
	out=$(bats --tap ${2:+-f "$2"} "$file" 2>&1)
	printf '%s\n' "$out" | sed "s|^|  $tag: |"
	pass=$((pass + $(printf '%s\n' "$out" | grep -E '^ok ' | grep -vc '# skip')))
	skip=$((skip + $(printf '%s\n' "$out" | grep -E '^ok ' | grep -c '# skip')))
	f=$(printf '%s\n' "$out" | grep -c '^not ok ')
	fail=$((fail + f))
	[ "$f" = 0 ] || failed+=("$tag")
}

echo "== unit"
for t in build/tests/test_*; do [ -x "$t" ] && run_cmocka "$t"; done
echo "== integration"
for t in build/tests/integ_*; do [ -x "$t" ] && run_cmocka "$t"; done
echo "== end-to-end"
for t in tests/e2e/*.bats; do [ -f "$t" ] && run_bats "$t"; done
# Kernels before 5.17 load the other build of the connect, sendmsg and
# packet hooks (bounded loops, no bpf_loop): the tests of what those hooks
# decide run again with it, here on this kernel (make test-kernels runs
# it on a real 5.10).
echo "== the build for kernels without bpf_loop (RELAYWATCH_COMPAT=1)"
export RELAYWATCH_COMPAT=1
for t in enforce kill dns_ingress dns_tcp policy; do
	[ -x "build/tests/integ_$t" ] && run_cmocka "build/tests/integ_$t"
done
for t in names dns_tcp run; do run_bats "tests/e2e/$t.bats"; done
unset RELAYWATCH_COMPAT

# The suite's addresses move as one (tests/net.env): the tests of deny,
# alert and the log's fields again on another loopback /24
echo "== the suite's addresses moved (RW_TEST_NET=127.0.77)"
RW_TEST_NET_SAVED=$RW_TEST_NET
export RW_TEST_NET=127.0.77 RUN_TAG="moved "
[ -x build/tests/integ_enforce ] && run_cmocka build/tests/integ_enforce
run_bats tests/e2e/run.bats "curl to a denied address|nc over TCP and UDP"
export RW_TEST_NET=$RW_TEST_NET_SAVED RUN_TAG=

[ ${#failed[@]} -eq 0 ] || echo "failed in: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
