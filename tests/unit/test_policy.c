// SPDX-License-Identifier: MIT
/* policy.c, policy_match.c: loading (every field, every error with its
 * position, warnings) and the userspace twin of the kernel's decision. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "intel.h"
#include "policy.h"
#include "relaywatch.h"

static struct policy sentinel;

static struct policy *load(const char *text)
{
	struct policy *p = NULL;
	char err[256] = "";
	int ret;

	ret = policy_load_string(text, strlen(text), "t.yaml", &p, err,
				 sizeof(err));
	if (ret)
		fail_msg("unexpected error %d: %s", ret, err);
	assert_non_null(p);
	return p;
}

static void assert_cidr(const struct cidr *c, const char *text)
{
	char buf[CIDR_STRLEN];

	assert_int_equal(cidr_format(c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, text);
}

static const char full_policy[] =
	"# every field once\n"
	"mode: enforce\n"
	"rules:\n"
	"  - name: block-relay\n"
	"    match:\n"
	"      cidr: [203.0.113.0/24, \"2001:db8::/32\",\n"
	"             \"::ffff:10.0.0.0/104\"]\n"
	"      port: 443\n"
	"      proto: tcp\n"
	"      exe: /usr/bin/curl\n"
	"      uid: 1000\n"
	"    action: deny\n"
	"    mode: monitor\n"
	"  - name: dns.udp_1\n"
	"    match: {cidr: 192.0.2.53, proto: udp, uid: 0}\n"
	"    action: alert\n"
	"  - name: kill-smtp\n"
	"    match:\n"
	"      port: 25\n"
	"    action: kill\n"
	"  - action: allow\n"
	"    name: allow-any\n"
	"    match: {uid: 4294967294}\n";

/* A policy using every field loads into exactly those values. */
static void test_full_policy(void **state)
{
	struct policy *p = load(full_policy);
	const struct policy_rule *r;

	(void)state;
	assert_string_equal(p->path, "t.yaml");
	assert_int_equal(p->mode, POLICY_ENFORCE);
	assert_int_equal(p->nr_rules, 4);

	r = &p->rules[0];
	assert_string_equal(r->name, "block-relay");
	assert_int_equal(r->line, 4);
	assert_int_equal(r->action, RW_ACT_DENY);
	assert_int_equal(r->mode, POLICY_MONITOR);
	assert_int_equal(r->nr_cidrs, 3);
	assert_cidr(&r->cidrs[0], "203.0.113.0/24");
	assert_cidr(&r->cidrs[1], "2001:db8::/32");
	assert_cidr(&r->cidrs[2], "10.0.0.0/8");
	assert_int_equal(r->port, 443);
	assert_int_equal(r->proto, IPPROTO_TCP);
	assert_string_equal(r->exe, "/usr/bin/curl");
	assert_true(r->has_uid);
	assert_int_equal(r->uid, 1000);
	assert_int_equal(r->col, 5);
	/* keys not given: the "any" values */
	assert_false(r->exe_glob);
	assert_int_equal(r->overseas, -1);
	assert_string_equal(r->sha256, "");
	assert_int_equal(r->nr_categories + r->nr_providers + r->nr_domains +
				 r->nr_countries, 0);
	assert_null(r->cgroup);
	assert_null(r->container);
	assert_int_equal(p->default_action, RW_ACT_ALLOW);
	assert_int_equal(p->nr_warnings, 0);

	r = &p->rules[1];
	assert_string_equal(r->name, "dns.udp_1");
	assert_int_equal(r->line, 14);
	assert_int_equal(r->action, RW_ACT_ALERT);
	assert_int_equal(r->mode, -1);
	assert_int_equal(r->nr_cidrs, 1);
	assert_cidr(&r->cidrs[0], "192.0.2.53/32");
	assert_int_equal(r->port, 0);
	assert_int_equal(r->proto, IPPROTO_UDP);
	assert_null(r->exe);
	assert_true(r->has_uid);
	assert_int_equal(r->uid, 0);

	r = &p->rules[2];
	assert_string_equal(r->name, "kill-smtp");
	assert_int_equal(r->action, RW_ACT_KILL);
	assert_int_equal(r->nr_cidrs, 0);
	assert_null(r->cidrs);
	assert_int_equal(r->port, 25);
	assert_int_equal(r->proto, 0);
	assert_false(r->has_uid);

	r = &p->rules[3];
	assert_string_equal(r->name, "allow-any");
	assert_int_equal(r->line, 21);
	assert_int_equal(r->action, RW_ACT_ALLOW);
	assert_int_equal(r->uid, 4294967294u);
	policy_free(p);
}

/* Defaults: monitor mode; an empty rule list is a valid (idle) policy; only
 * len bytes of the text are read. */
static void test_defaults(void **state)
{
	static const char text[] = "rules: []\nbogus: 1\n";
	struct policy *p = NULL;

	(void)state;
	assert_int_equal(policy_load_string(text, strlen("rules: []\n"), NULL,
					    &p, NULL, 0), 0);
	assert_int_equal(p->mode, POLICY_MONITOR);
	assert_int_equal(p->nr_rules, 0);
	assert_string_equal(p->path, "<string>");
	assert_int_equal(p->deadman_ns, 0); /* on_daemon_loss: keep */
	assert_int_equal(p->quic, RW_QUIC_ALLOW);
	policy_free(p);
	policy_free(NULL);
}

/* on_daemon_loss: deny-alerts after daemon_loss_after seconds (10 when
 * not given); the policy's identity is the SHA-256 of its text */
static void test_daemon_loss(void **state)
{
	static const char a[] = "on_daemon_loss: deny-alerts\nrules: []\n";
	static const char b[] = "on_daemon_loss: deny-alerts\n"
				"daemon_loss_after: 3\nrules: []\n";
	static const __u8 sha_a[4] = { 0, 0, 0, 0 };
	struct policy *p = NULL, *q = NULL;

	(void)state;
	assert_int_equal(policy_load_string(a, strlen(a), NULL, &p, NULL, 0), 0);
	assert_int_equal(p->deadman_ns, 10000000000ULL);
	assert_int_equal(policy_load_string(b, strlen(b), NULL, &q, NULL, 0), 0);
	assert_int_equal(q->deadman_ns, 3000000000ULL);
	assert_memory_not_equal(p->sha256, q->sha256, 32);
	assert_memory_not_equal(p->sha256, sha_a, 4);
	policy_free(q);
	q = NULL;
	assert_int_equal(policy_load_string(a, strlen(a), NULL, &q, NULL, 0), 0);
	assert_memory_equal(p->sha256, q->sha256, 32);
	policy_free(p);
	policy_free(q);
}

/* dns_ports: [53, 5353] when absent; a list or one port as given */
static void test_dns_ports(void **state)
{
	struct policy *p;

	(void)state;
	p = load("rules: []\n");
	assert_int_equal(p->nr_dns_ports, 2);
	assert_int_equal(p->dns_ports[0], 53);
	assert_int_equal(p->dns_ports[1], 5353);
	policy_free(p);
	p = load("dns_ports: [53, 5353, 8053, 1, 65535, 2, 3, 4]\nrules: []\n");
	assert_int_equal(p->nr_dns_ports, POLICY_DNS_PORTS);
	assert_int_equal(p->dns_ports[2], 8053);
	assert_int_equal(p->dns_ports[4], 65535);
	policy_free(p);
	p = load("dns_ports: 5300\nrules: []\n");
	assert_int_equal(p->nr_dns_ports, 1);
	assert_int_equal(p->dns_ports[0], 5300);
	policy_free(p);
}

/* undecided: alert unless told; allow, alert, deny */
static void test_undecided(void **state)
{
	static const char *const v[] = { "allow", "alert", "deny" };
	char text[64];
	struct policy *p;

	(void)state;
	p = load("rules: []\n");
	assert_int_equal(p->undecided, RW_ACT_ALERT);
	policy_free(p);
	for (int i = 0; i < 3; i++) {
		snprintf(text, sizeof(text), "undecided: %s\nrules: []\n", v[i]);
		p = load(text);
		assert_int_equal(p->undecided, RW_ACT_ALLOW + i);
		policy_free(p);
	}
}

/* quic: deny-unnamed and allow, as the kernel's settings carry them */
static void test_quic(void **state)
{
	static const char a[] = "quic: deny-unnamed\nrules: []\n";
	static const char b[] = "quic: allow\nrules: []\n";
	struct policy *p = NULL, *q = NULL;

	(void)state;
	assert_int_equal(policy_load_string(a, strlen(a), NULL, &p, NULL, 0), 0);
	assert_int_equal(p->quic, RW_QUIC_DENY_UNNAMED);
	assert_int_equal(policy_load_string(b, strlen(b), NULL, &q, NULL, 0), 0);
	assert_int_equal(q->quic, RW_QUIC_ALLOW);
	policy_free(p);
	policy_free(q);
}

struct bad {
	const char *text;
	const char *where; /* "LINE:COL" */
	const char *why;   /* substring of the reason */
};

#define RULE_HEAD "rules:\n  - name: a\n"
#define SHA_X "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
#define SHA_G "gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg"
#define MATCH(m) RULE_HEAD "    match:\n      " m "\n    action: deny\n"

static const struct bad bad[] = {
	/* YAML itself */
	{ "rules: [\n", "2:1",
	  "invalid YAML: did not find expected node content" },
	{ "mode: a: b\n", "1:8",
	  "invalid YAML: mapping values are not allowed" },
	{ "mode: monitor\nrules: \xff\n", "2:8",
	  "invalid YAML: invalid leading UTF-8 octet" },
	{ "rules: *nope\n", "1:8", "invalid YAML: found undefined alias" },
	{ "rules: []\n---\nrules: []\n", "3:1", "more than one YAML document" },
	/* top level */
	{ "", "1:1", "empty policy" },
	{ "# just a comment\n", "1:1", "empty policy" },
	{ "- a\n", "1:1", "top level must be a mapping" },
	{ "mode: monitor\nrulez: []\n", "2:1",
	  "unknown key 'rulez' at top level (allowed: mode, default, intel, home_countries, rules, on_daemon_loss, daemon_loss_after, credential_files, fingerprint_key, undecided, dns_ports, quic)" },
	{ "undecided: kill\nrules: []\n", "1:12",
	  "bad undecided 'kill' (expected allow, alert or deny)" },
	{ "undecided: [deny]\nrules: []\n", "1:12", "undecided" },
	{ "credential_files: maybe\nrules: []\n", "1:19", "bad credential_files" },
	{ "fingerprint_key: key.bin\nrules: []\n", "1:18",
	  "fingerprint_key 'key.bin' is not an absolute path" },
	{ "mode: monitor\n", "1:1", "missing 'rules'" },
	{ "mode: enforcing\nrules: []\n", "1:7",
	  "bad mode 'enforcing' (expected monitor or enforce)" },
	{ "mode: [enforce]\nrules: []\n", "1:7",
	  "'mode' must be a single value" },
	{ "rules: []\nrules: []\n", "2:1",
	  "duplicate key 'rules' (first at line 1)" },
	{ "rules: {name: a}\n", "1:8", "'rules' must be a list" },
	{ "rules:\n", "1:1", "'rules' must be a list" },
	{ "rules:\n  - just-a-string\n", "2:5", "rule 1 must be a mapping" },
	/* rule keys */
	{ RULE_HEAD "    match: {port: 1}\n    action: deny\n    acton: deny\n",
	  "5:5",
	  "unknown key 'acton' in rule (allowed: name, match, action, mode)" },
	{ "rules:\n  - match: {port: 1}\n    action: deny\n", "2:5",
	  "rule 1: missing 'name'" },
	{ RULE_HEAD "    match: {port: 1}\n", "2:5",
	  "rule 'a': missing 'action'" },
	{ RULE_HEAD "    action: deny\n", "2:5", "rule 'a': missing 'match'" },
	{ RULE_HEAD "    name: b\n", "3:5",
	  "duplicate key 'name' (first at line 2)" },
	{ RULE_HEAD "    match: {port: 1}\n    action: deny\n"
		    "  - name: a\n    match: {port: 2}\n    action: deny\n",
	  "5:11", "duplicate rule name 'a' (first at line 2)" },
	{ "rules:\n  - name: \"has space\"\n    match: {port: 1}\n"
	  "    action: deny\n", "2:11",
	  "rule name 'has space' may hold only letters" },
	{ "rules:\n  - name:\n    match: {port: 1}\n    action: deny\n",
	  "2:5", "'name' needs a value" },
	{ RULE_HEAD "    match: {port: 1}\n    action: block\n", "4:13",
	  "bad action 'block' (expected allow, alert, deny or kill)" },
	{ RULE_HEAD "    match: {port: 1}\n    action: deny\n"
		    "    mode: strict\n", "5:11",
	  "bad mode 'strict' (expected monitor or enforce)" },
	/* match */
	{ RULE_HEAD "    match: {}\n    action: deny\n", "3:5",
	  "rule 'a': empty match" },
	{ RULE_HEAD "    match:\n    action: deny\n", "3:5",
	  "rule 'a': empty match" },
	{ RULE_HEAD "    match: port\n    action: deny\n", "3:12",
	  "'match' must be a mapping" },
	{ MATCH("port: 1\n      ports: 2"), "5:7",
	  "unknown key 'ports' in match (allowed: cidr, port, proto, exe, uid, user, sha256, category, provider, domain, country, overseas, cgroup, container)" },
	{ RULE_HEAD "    match: {cidr: [10.0.0.0/8, 10.0.0.1/8]}\n"
		    "    action: deny\n", "3:32",
	  "bad cidr: host bits set in '10.0.0.1/8' (the network is 10.0.0.0/8)" },
	{ MATCH("cidr: example.com"), "4:13",
	  "bad cidr: 'example.com' is not an IPv4 or IPv6 address" },
	{ MATCH("cidr: 10.0.0.0/33"), "4:13", "bad cidr: prefix length /33" },
	{ MATCH("cidr: []"), "4:13", "empty cidr list" },
	{ MATCH("cidr:\n        - 10.0.0.0/8\n        - {a: 1}"), "6:11",
	  "cidr entries must be addresses or prefixes" },
	{ MATCH("cidr: {a: 1}"), "4:13", "'cidr' must be a prefix or a list" },
	{ MATCH("port: 65536"), "4:13",
	  "bad port '65536' (expected a number 1..65535)" },
	{ MATCH("port: 0"), "4:13", "bad port '0'" },
	{ MATCH("port: https"), "4:13", "bad port 'https'" },
	{ MATCH("port: 0443"), "4:13", "bad port '0443'" },
	{ MATCH("port: 99999999999999999999999"), "4:13", "bad port" },
	{ MATCH("port: [1, 2]"), "4:13",
	  "'port' must be a single value, not a list" },
	{ MATCH("proto: icmp"), "4:14",
	  "bad proto 'icmp' (expected tcp or udp)" },
	{ MATCH("exe: curl"), "4:12", "exe 'curl' is not an absolute path" },
	{ MATCH("exe: ~"), "4:7", "'exe' needs a value" },
	{ MATCH("uid: root"), "4:12", "bad uid 'root' (expected a number" },
	{ MATCH("uid: -1"), "4:12", "bad uid '-1'" },
	{ MATCH("uid: 4294967295"), "4:12", "bad uid '4294967295'" },
	{ MATCH("uid: \"10\\n00\""), "4:12", "bad uid '10?00'" },
	/* new match keys */
	{ MATCH("category: [ai-relay, ai-foo]"), "4:28",
	  "unknown category 'ai-foo' (known: ai-overseas, ai-relay, ai-domestic, ai-domestic-intl, ai-telemetry, dns-encrypted)" },
	{ MATCH("category: []"), "4:17", "empty category list" },
	{ MATCH("category: {a: 1}"), "4:17",
	  "'category' must be a category or a list of them" },
	{ MATCH("provider: [OpenAI, \"\"]"), "4:26",
	  "provider must be 1 to 128 printable characters" },
	{ MATCH("country: USA"), "4:16",
	  "bad country 'USA' (expected a two-letter ISO 3166 code such as US)" },
	{ MATCH("country: [US, \"1A\"]"), "4:21", "bad country '1A'" },
	{ MATCH("domain: \"*.a.*.b\""), "4:15",
	  "bad domain '*.a.*.b': a wildcard must be a leading '*.'" },
	{ MATCH("domain: [a.example, 10.0.0.1]"), "4:27",
	  "bad domain '10.0.0.1': an address, use cidr" },
	{ MATCH("domain: a..example"), "4:15",
	  "bad domain 'a..example': empty label" },
	{ MATCH("exe: /bin/x\n      sha256: abc"), "5:15",
	  "bad sha256 'abc' (expected 64 hex digits)" },
	{ MATCH("exe: /bin/x\n      sha256: " SHA_G), "5:15", "bad sha256 'gg" },
	{ MATCH("port: 443\n      sha256: " SHA_X), "5:7",
	  "sha256 needs exe: the kernel knows binaries by path" },
	{ MATCH("exe: \"*/curl\""), "4:12",
	  "exe '*/curl' is not an absolute path" },
	{ MATCH("uid: 0\n      user: root"), "5:7",
	  "give uid or user, not both" },
	{ MATCH("cgroup: /a\n      container: abcdef012345"), "5:7",
	  "give cgroup or container, not both" },
	{ MATCH("user: no-such-user-rw"), "4:13",
	  "unknown user 'no-such-user-rw'" },
	{ MATCH("cgroup: system.slice/app.service"), "4:15",
	  "cgroup 'system.slice/app.service' is not an absolute path" },
	{ MATCH("cgroup: /system.slice/../x"), "4:15",
	  "cgroup '/system.slice/../x' holds '.' or '..'" },
	{ MATCH("cgroup: /sys/fs/cgroup/x"), "4:15",
	  "cgroup '/sys/fs/cgroup/x' is a file system path" },
	{ MATCH("container: abc123"), "4:18",
	  "bad container 'abc123' (expected 12 to 64 hex digits of a container id)" },
	{ MATCH("container: 0123456789abcdefg"), "4:18",
	  "bad container '0123456789abcdefg'" },
	{ MATCH("overseas: maybe"), "4:17",
	  "bad overseas 'maybe' (expected true or false)" },
	{ MATCH("overseas: [true]"), "4:17",
	  "'overseas' must be a single value, not a list" },
	/* new top-level keys */
	{ "default: block\nrules: []\n", "1:10",
	  "bad default 'block' (expected allow, alert, deny or kill)" },
	{ "default: [deny]\nrules: []\n", "1:10",
	  "'default' must be a single value, not a list" },
	{ "home_countries: [CN, China]\nrules: []\n", "1:22",
	  "bad home_countries 'China' (expected a two-letter ISO 3166 code" },
	{ "home_countries: []\nrules: []\n", "1:17",
	  "empty home_countries list" },
	{ "intel: {a: 1}\nrules: []\n", "1:8",
	  "'intel' must be a file name or a list of them" },
	{ "intel: [a.yaml, \"\"]\nrules: []\n", "1:17",
	  "intel entries must be file names" },
	{ "on_daemon_loss: deny\nrules: []\n", "1:17",
	  "bad on_daemon_loss 'deny' (expected keep or deny-alerts)" },
	{ "mode: enforce\nquic: deny\nrules: []\n", "2:7",
	  "bad quic 'deny' (expected allow or deny-unnamed)" },
	{ "quic: [deny-unnamed]\nrules: []\n", "1:7",
	  "'quic' must be a single value" },
	{ "daemon_loss_after: 0\nrules: []\n", "1:20",
	  "daemon_loss_after" },
	{ "daemon_loss_after: 7200\nrules: []\n", "1:20",
	  "daemon_loss_after" },
	{ "dns_ports: [53, 0]\nrules: []\n", "1:17",
	  "bad dns_ports '0' (expected a number 1..65535)" },
	{ "dns_ports: [53, 65536]\nrules: []\n", "1:17",
	  "bad dns_ports '65536' (expected a number 1..65535)" },
	{ "dns_ports: domain\nrules: []\n", "1:12",
	  "bad dns_ports 'domain'" },
	{ "dns_ports: []\nrules: []\n", "1:12", "empty dns_ports list" },
	{ "dns_ports: [53, 53]\nrules: []\n", "1:12",
	  "dns_ports lists port 53 twice" },
	{ "dns_ports: [1, 2, 3, 4, 5, 6, 7, 8, 9]\nrules: []\n", "1:12",
	  "too many dns_ports: 9 (at most 8)" },
};

/* Each mistake is refused with -EINVAL and one line "t.yaml:L:C: reason",
 * and *out is not written. */
static void test_errors(void **state)
{
	struct policy *p;
	char err[512], where[32];
	size_t i;
	int ret;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = &sentinel;
		err[0] = '\0';
		ret = policy_load_string(bad[i].text, strlen(bad[i].text),
					 "t.yaml", &p, err, sizeof(err));
		snprintf(where, sizeof(where), "t.yaml:%s: ", bad[i].where);
		if (ret != -EINVAL || strncmp(err, where, strlen(where)) ||
		    !strstr(err, bad[i].why) || strchr(err, '\n'))
			fail_msg("case %zu: ret %d, err '%s'; want '%s%s...'",
				 i, ret, err, where, bad[i].why);
		assert_ptr_equal(p, &sentinel);
	}
}

static char *many_rules(int n)
{
	size_t cap = 64 + (size_t)n * 64, off;
	char *s = malloc(cap);
	int i;

	assert_non_null(s);
	off = (size_t)snprintf(s, cap, "rules:\n");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, cap - off,
					"  - name: r%d\n    match: {port: %d}\n"
					"    action: alert\n", i, i + 1);
	return s;
}

/* RW_MAX_RULES rules load; one more is refused at the first extra rule. */
static void test_rule_limit(void **state)
{
	struct policy *p = NULL;
	char err[256];
	char *text;

	(void)state;
	text = many_rules(RW_MAX_RULES);
	p = load(text);
	assert_int_equal(p->nr_rules, RW_MAX_RULES);
	assert_int_equal(p->rules[RW_MAX_RULES - 1].port, RW_MAX_RULES);
	policy_free(p);
	free(text);

	p = NULL;
	text = many_rules(RW_MAX_RULES + 1);
	assert_int_equal(policy_load_string(text, strlen(text), "t.yaml", &p,
					    err, sizeof(err)), -EINVAL);
	/* rule 65 starts on line 2 + 3 * 64 */
	assert_string_equal(err,
			    "t.yaml:194:5: too many rules: 65 (at most 64)");
	assert_null(p);
	free(text);
}

/* Files: the path names the policy and prefixes messages; unreadable files
 * report the errno. */
static void test_file(void **state)
{
	char path[] = "/tmp/test_policy.XXXXXX", err[512], want[600];
	static const char text[] = "rules:\n  - name: x\n"
				   "    match: {port: 70000}\n"
				   "    action: deny\n";
	struct policy *p = NULL;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(full_policy, f);
	fclose(f);
	assert_int_equal(policy_load_file(path, &p, err, sizeof(err)), 0);
	assert_string_equal(p->path, path);
	assert_int_equal(p->nr_rules, 4);
	policy_free(p);

	p = NULL;
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(policy_load_file(path, &p, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3:19: bad port '70000'", path);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_null(p);
	unlink(path);

	assert_int_equal(policy_load_file(path, &p, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want),
		 "cannot read %s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_int_equal(policy_load_file("/", &p, err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "cannot read /: Is a directory");
	assert_null(p);
}

static const char match_policy[] =
	"mode: enforce\n"
	"rules:\n"
	"  - name: allow-dns\n"
	"    match: {cidr: 10.0.0.53, port: 53, proto: udp}\n"
	"    action: allow\n"
	"  - name: curl-only\n"
	"    match: {cidr: 10.0.0.0/8, exe: /usr/bin/curl}\n"
	"    action: alert\n"
	"  - name: uid-1000\n"
	"    match: {cidr: 10.0.0.0/8, uid: 1000}\n"
	"    action: deny\n"
	"  - name: net10\n"
	"    match: {cidr: [10.0.0.0/8, \"2001:db8::/32\"], proto: tcp}\n"
	"    action: kill\n"
	"  - name: smtp\n"
	"    match: {port: 25}\n"
	"    action: deny\n";

struct query {
	const char *addr; /* passed raw: v6 text stays AF_INET6, even mapped */
	int port;
	int proto;
	__u32 uid;
	const char *exe;
	int rule;
};

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

static const struct query queries[] = {
	{ "10.0.0.53", 53, UDP, 0, NULL, 0 },
	{ "::ffff:10.0.0.53", 53, UDP, 0, NULL, 0 },  /* mapped judged as v4 */
	{ "10.0.0.53", 53, TCP, 0, NULL, 3 },         /* proto differs */
	{ "10.0.0.53", 54, UDP, 1000, NULL, 2 },      /* port differs */
	{ "10.0.0.54", 53, UDP, 0, NULL, -1 },        /* addr differs, udp */
	{ "10.1.1.1", 443, TCP, 1000, "/usr/bin/curl", 1 }, /* earlier wins */
	{ "10.1.1.1", 443, TCP, 1000, "/usr/bin/curl2", 2 },
	{ "10.1.1.1", 443, TCP, 1000, "/usr/bin", 2 },
	{ "10.1.1.1", 443, TCP, 1000, NULL, 2 },      /* unknown exe */
	{ "10.1.1.1", 443, TCP, 1001, NULL, 3 },      /* uid differs */
	{ "::ffff:10.1.1.1", 443, TCP, 1001, NULL, 3 },
	{ "10.255.255.255", 443, TCP, 0, NULL, 3 },
	{ "11.0.0.0", 443, TCP, 0, NULL, -1 },
	{ "2001:db8::1", 443, TCP, 0, NULL, 3 },
	{ "2001:db9::1", 443, TCP, 0, NULL, -1 },
	{ "192.0.2.1", 25, TCP, 0, NULL, 4 },         /* no cidr: any address */
	{ "2001:db9::1", 25, UDP, 0, NULL, 4 },
	{ "::ffff:192.0.2.1", 25, TCP, 0, NULL, 4 },
	{ "192.0.2.1", 443, TCP, 0, NULL, -1 },
};

/* First match in file order, every condition must hold. */
static void test_match(void **state)
{
	struct policy *p = load(match_policy);
	struct policy_query q;
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		const struct query *t = &queries[i];

		memset(&q, 0, sizeof(q));
		q.family = strchr(t->addr, ':') ? AF_INET6 : AF_INET;
		assert_int_equal(inet_pton(q.family, t->addr, q.addr), 1);
		q.port = t->port;
		q.proto = t->proto;
		q.uid = t->uid;
		q.exe = t->exe;
		got = policy_match(p, &q);
		if (got != t->rule)
			fail_msg("query %zu (%s:%d): rule %d, want %d", i,
				 t->addr, t->port, got, t->rule);
	}
	policy_free(p);
}

/* A rule's own mode wins; otherwise the policy's (default monitor). */
static void test_modes(void **state)
{
	static const char text[] =
		"rules:\n"
		"  - {name: a, match: {port: 1}, action: deny}\n"
		"  - {name: b, match: {port: 2}, action: deny, mode: enforce}\n"
		"  - {name: c, match: {port: 3}, action: deny, mode: monitor}\n";
	struct policy *p = load(text);

	(void)state;
	assert_int_equal(p->mode, POLICY_MONITOR);
	assert_int_equal(policy_rule_mode(p, &p->rules[0]), POLICY_MONITOR);
	assert_int_equal(policy_rule_mode(p, &p->rules[1]), POLICY_ENFORCE);
	assert_int_equal(policy_rule_mode(p, &p->rules[2]), POLICY_MONITOR);
	p->mode = POLICY_ENFORCE;
	assert_int_equal(policy_rule_mode(p, &p->rules[0]), POLICY_ENFORCE);
	assert_int_equal(policy_rule_mode(p, &p->rules[1]), POLICY_ENFORCE);
	assert_int_equal(policy_rule_mode(p, &p->rules[2]), POLICY_MONITOR);
	policy_free(p);

	assert_string_equal(mode_name(POLICY_MONITOR), "monitor");
	assert_string_equal(mode_name(POLICY_ENFORCE), "enforce");
	assert_int_equal(mode_parse("enforce"), POLICY_ENFORCE);
	assert_int_equal(mode_parse("Enforce"), -1);
}

/* Names and values of enum rw_action round-trip; others are refused. */
static void test_actions(void **state)
{
	static const struct { int act; const char *name; } acts[] = {
		{ RW_ACT_ALLOW, "allow" }, { RW_ACT_ALERT, "alert" },
		{ RW_ACT_DENY, "deny" },   { RW_ACT_KILL, "kill" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		assert_string_equal(action_name(acts[i].act), acts[i].name);
		assert_int_equal(action_parse(acts[i].name), acts[i].act);
	}
	assert_int_equal(action_parse("none"), -1);
	assert_int_equal(action_parse("DENY"), -1);
	assert_int_equal(action_parse(""), -1);
	assert_string_equal(action_name(RW_ACT__MAX), "unknown");
	assert_string_equal(action_name(-1), "unknown");
}

static const char keys_policy[] =
	"default: alert\n"
	"home_countries: [cn, HK]\n"
	"intel: extra.yaml\n"
	"rules:\n"
	"  - name: lists\n"
	"    match:\n"
	"      category: [ai-overseas, AI-Relay]\n"
	"      provider: [OpenAI, Anthropic]\n"
	"      domain: [\"*.Example.COM.\", API.x.org.]\n"
	"      country: [us, GB]\n"
	"      overseas: true\n"
	"      exe: \"/usr/bin/python3*\"\n"
	"      sha256: " SHA_X "\n"
	"      user: root\n"
	"      cgroup: /system.slice//app.service/\n"
	"    action: deny\n"
	"  - {name: strings, match: {category: dns-encrypted, provider: Google,\n"
	"     domain: dns.google, country: de, overseas: False, exe: /bin/sh,\n"
	"     container: ABCDEF0123456789}, action: kill}\n";

/* Every new match key, as a list and as one string, and the new top-level
 * keys load normalised: lower-case names and hashes, upper-case countries,
 * clean cgroup paths. */
/* every bad rule is reported, one line each, in file order */
static void test_all_errors(void **state)
{
	static const char text[] =
		"rules:\n"
		"  - {name: a, match: {cidr: 10.0.0.1/8}, action: deny}\n"
		"  - {name: ok, match: {port: 443}, action: alert}\n"
		"  - {name: b, match: {category: ai-foo}, action: deny}\n"
		"  - {name: c, match: {port: 443}, action: block}\n";
	struct policy *p = NULL;
	char err[2048], *l2, *l3;

	(void)state;
	assert_int_equal(policy_load_string(text, sizeof(text) - 1, "t.yaml",
					    &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	l2 = strchr(err, '\n');
	assert_non_null(l2);
	l3 = strchr(l2 + 1, '\n');
	assert_non_null(l3);
	assert_null(strchr(l3 + 1, '\n'));
	assert_true(!strncmp(err, "t.yaml:2:", 9));
	assert_true(!strncmp(l2 + 1, "t.yaml:4:", 9));
	assert_true(!strncmp(l3 + 1, "t.yaml:5:", 9));
	assert_non_null(strstr(l3, "bad action 'block'"));
}

/* every error of one rule too: a bad name, a bad key in match, another
 * bad key, and a bad action each get their line, in file order; a good
 * rule after it still loads nothing (the file is refused) */
static void test_all_errors_of_a_rule(void **state)
{
	static const char text[] =
		"rules:\n"
		"  - name: 'bad name'\n"
		"    match:\n"
		"      cidr: 10.0.0.1/8\n"
		"      port: 70000\n"
		"      country: [USA]\n"
		"      container: abc\n"
		"    action: block\n"
		"    mode: loud\n"
		"  - {name: ok, match: {port: 443}, action: alert}\n";
	static const char *const want[] = {
		"t.yaml:2:11: rule name 'bad name' may hold only",
		"t.yaml:4:13: bad cidr",
		"t.yaml:6:17: bad country 'USA'",
		"t.yaml:5:13: ",
		"t.yaml:7:18: ",
		"t.yaml:8:13: bad action 'block'",
		"t.yaml:9:11: ",
	};
	struct policy *p = NULL;
	char err[4096], *line = err;

	(void)state;
	assert_int_equal(policy_load_string(text, sizeof(text) - 1, "t.yaml",
					    &p, err, sizeof(err)), -EINVAL);
	assert_null(p);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		char *nl = strchr(line, '\n');

		if (strncmp(line, want[i], strlen(want[i])))
			fail_msg("line %zu: '%.*s', want '%s...'", i + 1,
				 nl ? (int)(nl - line) : (int)strlen(line),
				 line, want[i]);
		assert_true(nl || i + 1 == sizeof(want) / sizeof(want[0]));
		line = nl ? nl + 1 : line + strlen(line);
	}
	assert_int_equal(*line, 0);
}

static void test_new_keys(void **state)
{
	struct policy *p = load(keys_policy);
	const struct policy_rule *r = &p->rules[0];

	(void)state;
	assert_int_equal(p->default_action, RW_ACT_ALERT);
	assert_int_equal(p->nr_home_countries, 2);
	assert_string_equal(p->home_countries[0], "CN");
	assert_string_equal(p->home_countries[1], "HK");
	assert_int_equal(p->nr_intel_files, 1);
	assert_string_equal(p->intel_files[0], "extra.yaml");

	assert_int_equal(r->col, 5);
	assert_int_equal(r->nr_categories, 2);
	assert_int_equal(r->categories[0], INTEL_CAT_AI_OVERSEAS);
	assert_int_equal(r->categories[1], INTEL_CAT_AI_RELAY);
	assert_int_equal(r->nr_providers, 2);
	assert_string_equal(r->providers[0], "OpenAI");
	assert_string_equal(r->providers[1], "Anthropic");
	assert_int_equal(r->nr_domains, 2);
	assert_string_equal(r->domains[0], "*.example.com");
	assert_string_equal(r->domains[1], "api.x.org");
	assert_int_equal(r->nr_countries, 2);
	assert_string_equal(r->countries[0], "US");
	assert_string_equal(r->countries[1], "GB");
	assert_int_equal(r->overseas, 1);
	assert_string_equal(r->exe, "/usr/bin/python3*");
	assert_true(r->exe_glob);
	assert_string_equal(r->sha256, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	assert_true(r->has_uid);
	assert_int_equal(r->uid, 0);
	assert_string_equal(r->cgroup, "/system.slice/app.service");
	assert_null(r->container);

	r = &p->rules[1];
	assert_int_equal(r->line, 17);
	assert_int_equal(r->col, 5);
	assert_int_equal(r->nr_categories, 1);
	assert_int_equal(r->categories[0], INTEL_CAT_DNS_ENCRYPTED);
	assert_int_equal(r->nr_providers, 1);
	assert_string_equal(r->providers[0], "Google");
	assert_int_equal(r->nr_domains, 1);
	assert_string_equal(r->domains[0], "dns.google");
	assert_int_equal(r->nr_countries, 1);
	assert_string_equal(r->countries[0], "DE");
	assert_int_equal(r->overseas, 0);
	assert_false(r->exe_glob);
	assert_false(r->has_uid);
	assert_null(r->cgroup);
	assert_string_equal(r->container, "abcdef0123456789");
	assert_int_equal(r->action, RW_ACT_KILL);
	policy_free(p);
}

/* Without the new top-level keys: default allow, home countries [CN], no
 * intel files. */
static void test_top_defaults(void **state)
{
	struct policy *p = load("rules: []\n");

	(void)state;
	assert_int_equal(p->default_action, RW_ACT_ALLOW);
	assert_int_equal(p->nr_home_countries, 1);
	assert_string_equal(p->home_countries[0], "CN");
	assert_int_equal(p->nr_intel_files, 0);
	assert_null(p->intel_files);
	assert_int_equal(p->nr_warnings, 0);
	policy_free(p);
}

/* Relative intel paths are taken from the policy file's directory; absolute
 * ones are kept; a name without a directory leaves them as written. */
static void test_intel_paths(void **state)
{
	static const char text[] =
		"intel: [extra.yaml, /abs/x.yaml, sub/y.yaml]\nrules: []\n";
	char dir[] = "/tmp/test_policy.XXXXXX", path[64], want[96];
	struct policy *p = NULL;
	char err[256];
	FILE *f;

	(void)state;
	assert_int_equal(policy_load_string(text, strlen(text),
					    "/etc/rw/p.yaml", &p, err,
					    sizeof(err)), 0);
	assert_int_equal(p->nr_intel_files, 3);
	assert_string_equal(p->intel_files[0], "/etc/rw/extra.yaml");
	assert_string_equal(p->intel_files[1], "/abs/x.yaml");
	assert_string_equal(p->intel_files[2], "/etc/rw/sub/y.yaml");
	policy_free(p);

	p = load(text);
	assert_string_equal(p->intel_files[0], "extra.yaml");
	assert_string_equal(p->intel_files[2], "sub/y.yaml");
	policy_free(p);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	p = NULL;
	assert_int_equal(policy_load_file(path, &p, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/extra.yaml", dir);
	assert_string_equal(p->intel_files[0], want);
	policy_free(p);
	unlink(path);
	rmdir(dir);
}

struct shadow {
	const char *a, *b; /* match: of rule a (first) and rule b */
	bool shadowed;
};

static const struct shadow shadows[] = {
	/* each condition kind: b inside a */
	{ "cidr: 10.0.0.0/8", "cidr: [10.1.0.0/16, 10.255.255.255]", true },
	{ "cidr: [\"2001:db8::/32\", 10.0.0.0/8]", "cidr: \"2001:db8:1::/48\"",
	  true },
	{ "category: [ai-relay, ai-overseas]", "category: ai-relay", true },
	{ "provider: [OpenAI, Anthropic]", "provider: openai", true },
	{ "country: [US, GB]", "country: us", true },
	{ "domain: \"*.example.com\"",
	  "domain: [api.example.com, \"*.x.example.com\"]", true },
	{ "domain: example.com", "domain: EXAMPLE.com.", true },
	{ "port: 443", "{port: 443, cidr: 10.0.0.0/8}", true },
	{ "proto: udp", "{proto: udp, port: 53}", true },
	{ "uid: 1000", "{uid: 1000, port: 22}", true },
	{ "user: root", "uid: 0", true },
	{ "overseas: true", "{overseas: true, category: ai-relay}", true },
	{ "exe: /usr/bin/curl", "{exe: /usr/bin/curl, port: 80}", true },
	{ "exe: \"/usr/bin/*\"", "exe: /usr/bin/wget", true },
	{ "{exe: /bin/a, sha256: " SHA_X "}",
	  "{exe: /bin/a, sha256: " SHA_X ", port: 1}", true },
	{ "cgroup: /system.slice", "cgroup: /system.slice/app.service", true },
	{ "cgroup: /", "cgroup: /user.slice", true },
	{ "container: 0123456789ab", "container: 0123456789abcdef", true },
	/* and not */
	{ "cidr: 10.1.0.0/16", "cidr: 10.0.0.0/8", false },
	{ "cidr: 10.0.0.0/8", "cidr: 10.0.0.0/7", false },
	{ "cidr: 10.0.0.0/8", "port: 443", false },
	{ "port: 443", "port: 444", false },
	{ "{port: 443, proto: tcp}", "port: 443", false },
	{ "category: ai-relay", "category: [ai-relay, ai-overseas]", false },
	{ "provider: OpenAI", "provider: Anthropic", false },
	{ "country: US", "country: [US, GB]", false },
	{ "domain: \"*.example.com\"", "domain: example.com", false },
	{ "domain: api.example.com", "domain: \"*.example.com\"", false },
	{ "uid: 1000", "uid: 1001", false },
	{ "overseas: true", "overseas: false", false },
	{ "overseas: false", "category: ai-relay", false },
	{ "exe: /usr/bin/curl", "exe: /usr/bin/curl2", false },
	{ "exe: \"/usr/bin/*\"", "exe: /usr/bin/x/curl", false },
	{ "exe: \"/usr/bin/*\"", "exe: \"/usr/bin/c*\"", false },
	{ "{exe: /bin/a, sha256: " SHA_X "}", "exe: /bin/a", false },
	{ "cgroup: /system.slice", "cgroup: /system.slice2", false },
	{ "container: 0123456789abcdef", "container: 0123456789ab", false },
};

/* A rule that an earlier one covers gets one warning at its own position;
 * a rule that is narrower, different or broader does not. */
static void test_shadowing(void **state)
{
	char text[512], want[160];
	struct policy *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(shadows) / sizeof(shadows[0]); i++) {
		const struct shadow *t = &shadows[i];

		snprintf(text, sizeof(text),
			 "rules:\n"
			 "  - {name: a, match: %s%s%s, action: deny}\n"
			 "  - {name: b, match: %s%s%s, action: alert}\n",
			 t->a[0] == '{' ? "" : "{", t->a,
			 t->a[0] == '{' ? "" : "}", t->b[0] == '{' ? "" : "{",
			 t->b, t->b[0] == '{' ? "" : "}");
		p = load(text);
		if (p->nr_warnings != t->shadowed)
			fail_msg("case %zu (%s / %s): %zu warnings, want %d%s%s",
				 i, t->a, t->b, p->nr_warnings, t->shadowed,
				 p->nr_warnings ? ": " : "",
				 p->nr_warnings ? p->warnings[0] : "");
		assert_int_equal(policy_shadowed_by(p, 1), t->shadowed ? 0 : -1);
		assert_int_equal(policy_shadowed_by(p, 0), -1);
		policy_free(p);
	}
	p = load("rules:\n"
		 "  - {name: a, match: {port: 443}, action: deny}\n"
		 "  - {name: b, match: {port: 80}, action: deny}\n"
		 "  - name: c\n    match: {port: 443, proto: tcp}\n"
		 "    action: alert\n");
	snprintf(want, sizeof(want),
		 "t.yaml:4:5: warning: rule 'c' is unreachable: rule 'a' (line 2) matches everything it matches");
	assert_int_equal(p->nr_warnings, 1);
	assert_string_equal(p->warnings[0], want);
	policy_free(p);
}

/* overseas: false with ai-overseas: that category cannot hold. */
static void test_contradiction(void **state)
{
	struct policy *p = load(
		"rules:\n"
		"  - {name: a, match: {overseas: false, category: [ai-relay, ai-overseas]}, action: deny}\n"
		"  - {name: b, match: {overseas: true, category: ai-overseas}, action: deny}\n");

	(void)state;
	assert_int_equal(p->nr_warnings, 1);
	assert_string_equal(p->warnings[0],
			    "t.yaml:2:5: warning: rule 'a': category ai-overseas never holds with overseas: false");
	policy_free(p);
}

static const char decide_policy[] =
	"default: alert\n"
	"rules:\n"
	"  - {name: doh, match: {category: [dns-encrypted, ai-telemetry]}, action: deny}\n"
	"  - {name: oai, match: {provider: openai, domain: \"*.openai.com\"}, action: kill}\n"
	"  - {name: us-ai, match: {country: US, overseas: true, port: 443}, action: deny}\n"
	"  - {name: py, match: {exe: \"/usr/bin/python3*\", cidr: 192.0.2.0/24}, action: deny}\n"
	"  - {name: svc, match: {cgroup: /system.slice/app.service}, action: allow}\n"
	"  - {name: ctr, match: {container: 0123456789ab}, action: deny}\n"
	"  - {name: home, match: {overseas: false}, action: allow}\n";

/* A query with nothing known except the address: the default action. */
static struct policy_query bare_query(void)
{
	struct policy_query q = { .family = AF_INET, .port = 443,
				  .proto = IPPROTO_TCP, .uid = 1000,
				  .overseas = -1 };

	inet_pton(AF_INET, "198.51.100.7", q.addr);
	return q;
}

/* Each condition holds only on a known, matching input; destination keys
 * are ANDed; an unmatched query gets the policy's default action. */
static void test_decide(void **state)
{
	static const int doh[] = { INTEL_CAT_AI_RELAY, INTEL_CAT_DNS_ENCRYPTED };
	struct policy *p = load(decide_policy);
	struct policy_query q = bare_query();
	int act = -1;

	(void)state;
	assert_int_equal(policy_decide(p, &q, &act), -1);
	assert_int_equal(act, RW_ACT_ALERT);
	q.categories = doh;
	q.nr_categories = 2;
	assert_int_equal(policy_decide(p, &q, &act), 0);
	assert_int_equal(act, RW_ACT_DENY);
	q.nr_categories = 1; /* ai-relay only */
	assert_int_equal(policy_match(p, &q), -1);

	q = bare_query();
	q.provider = "OpenAI";
	assert_int_equal(policy_match(p, &q), -1);  /* domain unknown */
	q.domain = "api.openai.com";
	assert_int_equal(policy_decide(p, &q, &act), 1);
	assert_int_equal(act, RW_ACT_KILL);
	q.domain = "openai.com";                    /* not below the suffix */
	assert_int_equal(policy_match(p, &q), -1);
	q.domain = "x.api.openai.com.";
	q.provider = NULL;
	assert_int_equal(policy_match(p, &q), -1);  /* provider unknown */

	q = bare_query();
	q.country = "US";
	assert_int_equal(policy_match(p, &q), -1);  /* overseas unknown */
	q.overseas = 1;
	assert_int_equal(policy_match(p, &q), 2);
	q.port = 80;
	assert_int_equal(policy_match(p, &q), -1);

	q = bare_query();
	inet_pton(AF_INET, "192.0.2.1", q.addr);
	q.exe = "/usr/bin/python3.12";
	assert_int_equal(policy_match(p, &q), 3);
	q.exe = "/usr/bin/python3/x";               /* '*' stops at '/' */
	assert_int_equal(policy_match(p, &q), -1);
	q.exe = NULL;
	assert_int_equal(policy_match(p, &q), -1);

	q = bare_query();
	q.cgroup = "/system.slice/app.service/sub";
	assert_int_equal(policy_decide(p, &q, &act), 4);
	assert_int_equal(act, RW_ACT_ALLOW);
	q.cgroup = "/system.slice/app.service2";
	assert_int_equal(policy_match(p, &q), -1);
	q.container = "0123456789abcdef0123";
	assert_int_equal(policy_match(p, &q), 5);
	q.container = "0123456789a";
	assert_int_equal(policy_match(p, &q), -1);

	q = bare_query();
	q.overseas = 0;
	assert_int_equal(policy_match(p, &q), 6);
	policy_free(p);
}

/* "Only /usr/local/bin/approved-agent with this sha256 may reach
 * ai-overseas": an allow rule naming exe, sha256 and category, then a deny
 * on the category. Neither warns. */
static void test_exemption(void **state)
{
	static const int cat[] = { INTEL_CAT_AI_OVERSEAS };
	static const char text[] =
		"mode: enforce\n"
		"rules:\n"
		"  - name: approved-agent\n"
		"    match:\n"
		"      exe: /usr/local/bin/approved-agent\n"
		"      sha256: " SHA_X "\n"
		"      category: ai-overseas\n"
		"    action: allow\n"
		"  - name: no-ai-overseas\n"
		"    match: {category: ai-overseas}\n"
		"    action: deny\n";
	struct policy *p = load(text);
	struct policy_query q = bare_query();
	int act;

	(void)state;
	assert_int_equal(p->nr_warnings, 0);
	q.categories = cat;
	q.nr_categories = 1;
	q.exe = "/usr/local/bin/approved-agent";
	q.sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	assert_int_equal(policy_decide(p, &q, &act), 0);
	assert_int_equal(act, RW_ACT_ALLOW);
	q.exe = "/usr/bin/curl";
	assert_int_equal(policy_decide(p, &q, &act), 1);
	assert_int_equal(act, RW_ACT_DENY);
	q.exe = "/usr/local/bin/approved-agent";
	q.sha256 = "0000000000000000000000000000000000000000000000000000000000000000";
	assert_int_equal(policy_decide(p, &q, &act), 1);
	assert_int_equal(act, RW_ACT_DENY);
	q.sha256 = NULL;
	assert_int_equal(policy_decide(p, &q, &act), 1);
	q.nr_categories = 0;
	assert_int_equal(policy_decide(p, &q, &act), -1);
	assert_int_equal(act, RW_ACT_ALLOW);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_policy),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_daemon_loss),
		cmocka_unit_test(test_dns_ports),
		cmocka_unit_test(test_undecided),
		cmocka_unit_test(test_quic),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_rule_limit),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_all_errors),
		cmocka_unit_test(test_all_errors_of_a_rule),
		cmocka_unit_test(test_new_keys),
		cmocka_unit_test(test_top_defaults),
		cmocka_unit_test(test_intel_paths),
		cmocka_unit_test(test_shadowing),
		cmocka_unit_test(test_contradiction),
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_exemption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
