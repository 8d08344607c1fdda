// SPDX-License-Identifier: MIT
/* check's DEST (target.c: URLs, HOST:PORT, addresses), the rules a port
 * or protocol would have made match (policy_hint), and a path fitted to
 * a terminal's columns from the left (textfit.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "policy.h"
#include "target.h"
#include "textfit.h"

static struct check_target parse_ok(const char *s)
{
	struct check_target t;
	char err[256] = "";

	if (check_target_parse(s, &t, err, sizeof(err)))
		fail_msg("'%s' rejected: %s", s, err);
	return t;
}

static void parse_bad(const char *s, const char *says)
{
	struct check_target t;
	char err[256] = "";

	assert_int_equal(check_target_parse(s, &t, err, sizeof(err)), -EINVAL);
	if (!strstr(err, says))
		fail_msg("'%s': error '%s' does not say '%s'", s, err, says);
}

/* a URL: its host, the scheme's port, TCP; path, query, user dropped */
static void test_url(void **state)
{
	struct check_target t;

	(void)state;
	t = parse_ok("https://api.openai.com/v1/chat");
	assert_string_equal(t.host, "api.openai.com");
	assert_int_equal(t.port, 443);
	assert_int_equal(t.proto, IPPROTO_TCP);
	assert_string_equal(t.scheme, "https");
	t = parse_ok("http://API.Example.COM");
	assert_string_equal(t.host, "api.example.com");
	assert_int_equal(t.port, 80);
	t = parse_ok("wss://x.example:8443/socket?a=b#c");
	assert_string_equal(t.host, "x.example");
	assert_int_equal(t.port, 8443);
	t = parse_ok("https://user:p@ss@relay.example/v1");
	assert_string_equal(t.host, "relay.example");
	t = parse_ok("https://[2001:db8::1]:853/dns-query");
	assert_string_equal(t.host, "2001:db8::1");
	assert_int_equal(t.port, 853);
	t = parse_ok("https://1.1.1.1?x");
	assert_string_equal(t.host, "1.1.1.1");
	assert_int_equal(t.port, 443);
	/* another scheme names its port */
	t = parse_ok("tls://dns.example:853");
	assert_int_equal(t.port, 853);
}

/* not a URL: a name, an address, HOST:PORT (no protocol said) */
static void test_plain(void **state)
{
	struct check_target t;

	(void)state;
	t = parse_ok("api.openai.com");
	assert_string_equal(t.host, "api.openai.com");
	assert_int_equal(t.port, 0);
	assert_int_equal(t.proto, 0);
	assert_string_equal(t.scheme, "");
	t = parse_ok("2001:db8::1");
	assert_string_equal(t.host, "2001:db8::1");
	assert_int_equal(t.port, 0);
	t = parse_ok("8.8.8.8:53");
	assert_string_equal(t.host, "8.8.8.8");
	assert_int_equal(t.port, 53);
	assert_int_equal(t.proto, 0);
	t = parse_ok("[::1]:8080");
	assert_string_equal(t.host, "::1");
	assert_int_equal(t.port, 8080);
}

static void test_bad(void **state)
{
	(void)state;
	parse_bad("https://", "no host");
	parse_bad("https:///v1", "no host");
	parse_bad("https://x.example:0/", "from 1 to 65535");
	parse_bad("https://x.example:65536/", "from 1 to 65535");
	parse_bad("https://x.example:44a/", "from 1 to 65535");
	parse_bad("x.example:", "from 1 to 65535");
	parse_bad("ftp://x.example/", "give it");
	parse_bad("https://2001:db8::1/", "in [ ]");
	parse_bad("[2001:db8::1", "']'");
	parse_bad("://x", "not a URL scheme");
}

static const char hint_policy[] =
	"mode: enforce\n"
	"rules:\n"
	"  - name: deny-doh\n"
	"    match: {cidr: [1.1.1.1/32], port: 443}\n"
	"    action: deny\n"
	"  - name: deny-dot\n"
	"    match: {cidr: [1.1.1.1/32], port: 853, proto: tcp}\n"
	"    action: deny\n"
	"  - name: udp-only\n"
	"    match: {cidr: [1.1.1.1/32], proto: udp}\n"
	"    action: alert\n"
	"  - name: other-address\n"
	"    match: {cidr: [9.9.9.9/32], port: 853}\n"
	"    action: deny\n"
	"  - name: any\n"
	"    match: {cidr: [1.1.1.1/32]}\n"
	"    action: alert\n";

static struct policy *load(const char *text)
{
	struct policy *p = NULL;
	char err[256] = "";

	if (policy_load_string(text, strlen(text), "t.yaml", &p, err,
			       sizeof(err)))
		fail_msg("policy: %s", err);
	return p;
}

/* the rules before the decision that a port or protocol would have made
 * match, with what they need; none for another address */
static void test_hint(void **state)
{
	struct policy *p = load(hint_policy);
	struct policy_query q = { .family = AF_INET, .overseas = -1 };
	int action, idx, port, proto;

	(void)state;
	inet_pton(AF_INET, "1.1.1.1", q.addr);
	idx = policy_decide(p, &q, &action);
	assert_int_equal(idx, 4);
	assert_int_equal(policy_hint(p, &q, 0, idx, &port, &proto), 0);
	assert_int_equal(port, 443);
	assert_int_equal(proto, 0);
	assert_int_equal(policy_hint(p, &q, 1, idx, &port, &proto), 1);
	assert_int_equal(port, 853);
	assert_int_equal(proto, IPPROTO_TCP);
	assert_int_equal(policy_hint(p, &q, 2, idx, &port, &proto), 2);
	assert_int_equal(port, 0);
	assert_int_equal(proto, IPPROTO_UDP);
	/* rule 3 is for another address: no hint */
	assert_int_equal(policy_hint(p, &q, 3, idx, &port, &proto), -1);

	/* a port given: only a protocol can still be filled in */
	q.port = 853;
	idx = policy_decide(p, &q, &action);
	assert_int_equal(idx, 4);
	assert_int_equal(policy_hint(p, &q, 0, idx, &port, &proto), 1);
	assert_int_equal(proto, IPPROTO_TCP);
	assert_int_equal(policy_hint(p, &q, 2, idx, &port, &proto), 2);
	/* port and protocol given: nothing is left open */
	q.proto = IPPROTO_TCP;
	idx = policy_decide(p, &q, &action);
	assert_int_equal(idx, 1);
	assert_int_equal(policy_hint(p, &q, 0, idx, &port, &proto), -1);
	policy_free(p);
}

/* a path fits, or keeps its longest tail from a '/' after "…" */
static void test_textfit(void **state)
{
	(void)state;
	assert_string_equal(textfit_path("/usr/bin/curl", 13), "/usr/bin/curl");
	assert_string_equal(textfit_path("/usr/bin/curl", 12), "…/bin/curl");
	assert_string_equal(textfit_path("/usr/bin/curl", 10), "…/bin/curl");
	assert_string_equal(textfit_path("/usr/bin/curl", 9), "…/curl");
	/* too narrow for any tail: the name stays, the line wraps */
	assert_string_equal(textfit_path("/usr/bin/curl", 2), "…/curl");
	assert_string_equal(textfit_path("curl", 2), "curl");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_hint),
		cmocka_unit_test(test_textfit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
