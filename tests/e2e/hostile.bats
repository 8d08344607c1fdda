#!/usr/bin/env bats
# Records stay valid JSON text (strict UTF-8) whatever a process does with
# its path and command line: invalid bytes, quotes, newlines, a 1 MB
# command line, a long or relative path seen after exit. Invalid bytes
# read as U+FFFD with the original bytes in <field>_raw (base64).

load lib/rw

STRICT="$BATS_TEST_DIRNAME/lib/strict_json.py"

setup() {
	rw_setup hostile
	rw_deny_policy
	start_daemon
}

teardown() {
	rw_teardown
}

@test "a binary whose path has invalid UTF-8, a quote and a newline" {
	bad=$'bad\xff\xfe"q\nname'
	cp "$(type -P nc)" "$TMP/$bad"
	in_cg "$TMP/$bad" -z "$NET.2" 9 2>/dev/null || true
	line=$(wait_for '.event == "connect" and .action == "deny"')
	/usr/bin/python3 "$STRICT" "$LOG"
	exe=$(jq -r .exe <<<"$line")
	[[ "$exe" == *$'bad\xef\xbf\xbd\xef\xbf\xbd"q\nname' ]]
	# the original bytes, reversibly
	[ "$(jq -r .exe_raw <<<"$line" | base64 -d)" = "$TMP/$bad" ]
	[ "$(jq -r .exe_truncated <<<"$line")" = false ]
	wait_for '.event == "exit"' >/dev/null
	/usr/bin/python3 "$STRICT" "$LOG"
}

@test "a command line with invalid bytes, quotes and newlines; 1 MB of it cut on a character" {
	# alive a while after the call: attributed from /proc, not the
	# kernel's 256-byte copy
	py='import socket,sys,time
s=socket.socket()
try: s.connect((sys.argv[1], 9))
except OSError: time.sleep(1)'
	in_cg /usr/bin/python3 -c "$py" "$NET.2" $'\xff\xfe' 'say "hi"' $'two\nlines' 2>/dev/null || true
	line=$(wait_for '.event == "connect" and .comm == "python3"')
	[ "$(jq -r .attribution <<<"$line")" = proc ]
	[[ "$(jq -r .cmdline <<<"$line")" == *$'\xef\xbf\xbd\xef\xbf\xbd say "hi" two\nlines' ]]
	jq -r .cmdline_raw <<<"$line" | base64 -d | grep -q $'\xff\xfe'
	[ "$(jq -r .cmdline_truncated <<<"$line")" = false ]
	# ten arguments of 100 KB of a 3-byte character: 1 MB
	big=$(head -c 34000 /dev/zero | tr '\0' 'x' | sed 's/x/中/g')
	args=(); for _ in $(seq 10); do args+=("$big"); done
	in_cg /usr/bin/python3 -c "$py" "$NET.2" "${args[@]}" 2>/dev/null || true
	for _ in $(seq 100); do
		line=$(jq -c 'select(.event == "connect" and .cmdline_truncated)' "$LOG" | head -1)
		[ -n "$line" ] && break
		sleep 0.05
	done
	[ "$(jq -r .cmdline_truncated <<<"$line")" = true ]
	len=$(jq -r '.cmdline | utf8bytelength' <<<"$line")
	[ "$len" -le 4095 ] && [ "$len" -gt 4000 ]
	# cut on a character: no U+FFFD at the end, no _raw field
	[ "$(jq -r 'has("cmdline_raw")' <<<"$line")" = false ]
	[[ "$(jq -r .cmdline <<<"$line")" == *中 ]]
	/usr/bin/python3 "$STRICT" "$LOG"
}

@test "after exit: a relative exec is marked relative; a path over 255 bytes is marked truncated" {
	mkdir -p "$TMP/wd"
	cp "$(type -P nc)" "$TMP/wd/ncrel"
	# execve("./ncrel"): the kernel keeps the name as given
	(cd "$TMP/wd" && in_cg /usr/bin/python3 -c 'import os,sys; os.execv("./ncrel", ["ncrel", "-z", sys.argv[1], "9"])' "$NET.2" 2>/dev/null) || true
	line=$(wait_for '.event == "exit" and .comm == "ncrel"')
	[ "$(jq -r .attribution <<<"$line")" = snapshot ]
	[ "$(jq -r .exe <<<"$line")" = ./ncrel ]
	[ "$(jq -r .exe_relative <<<"$line")" = true ]
	long="$TMP/$(printf 'd%.0s' $(seq 120))/$(printf 'é%.0s' $(seq 100))"
	mkdir -p "$(dirname "$long")"
	cp "$(type -P nc)" "$long"
	in_cg "$long" -z "$NET.2" 9 2>/dev/null || true
	line=$(wait_for '.event == "exit" and .exe_truncated')
	exe=$(jq -r .exe <<<"$line")
	[ "$(printf %s "$exe" | wc -c)" -le 255 ]
	[[ "$exe" == *é ]]    # cut between characters, not inside one
	[ "$(jq -r 'has("exe_raw")' <<<"$line")" = false ]
	[ "$(jq -r .exe_deleted <<<"$line")" = false ]
	/usr/bin/python3 "$STRICT" "$LOG"
}
