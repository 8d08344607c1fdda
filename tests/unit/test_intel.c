// SPDX-License-Identifier: MIT
/* intel.c: the embedded set, name and address matching, merging, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "intel.h"

static struct intel *load(const char *text)
{
	struct intel *in;
	char err[256];

	assert_int_equal(intel_new(&in), 0);
	if (text) {
		assert_int_equal(intel_add_string(in, text, strlen(text),
						  "t.yaml", err, sizeof(err)), 0);
		assert_string_equal(err, "");
	} else {
		assert_int_equal(intel_add_embedded(in, err, sizeof(err)), 0);
	}
	return in;
}

/* name -> category and provider; NULL category means no match */
static void expect_name(const struct intel *in, const char *name, int cat,
			const char *provider)
{
	const struct intel_entry *e = intel_lookup_name(in, name);

	if (!cat) {
		if (e)
			fail_msg("%s matched %s (%s)", name, e->domain,
				 e->provider);
		return;
	}
	if (!e)
		fail_msg("%s did not match", name);
	assert_string_equal(intel_category_name(e->category),
			    intel_category_name(cat));
	if (provider)
		assert_string_equal(e->provider, provider);
}

static void expect_addr(const struct intel *in, const char *ip,
			const char *provider)
{
	const struct intel_entry *e;
	__u8 a[16];
	int fam;

	assert_int_equal(inet_pton(strchr(ip, ':') ? AF_INET6 : AF_INET, ip, a), 1);
	fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
	e = intel_lookup_addr(in, fam, a);
	if (!provider) {
		if (e)
			fail_msg("%s matched %s", ip, e->provider);
		return;
	}
	if (!e)
		fail_msg("%s did not match", ip);
	assert_true(e->is_cidr);
	assert_string_equal(e->provider, provider);
}

/* The compiled-in data parses cleanly, fills every category and carries the
 * headline classifications. */
static void test_embedded(void **state)
{
	const struct intel_source *src;
	struct intel *in = load(NULL);
	size_t n, sum = 0;
	int cat;

	(void)state;
	assert_int_equal(strlen(intel_yaml), intel_yaml_len);
	for (cat = INTEL_CAT_NONE + 1; cat < INTEL_CAT__MAX; cat++) {
		if (!intel_count(in, cat))
			fail_msg("no %s entries", intel_category_name(cat));
		sum += intel_count(in, cat);
	}
	assert_int_equal(sum, intel_count(in, INTEL_CAT_NONE));
	src = intel_sources(in, &n);
	assert_int_equal(n, 1);
	assert_string_equal(src[0].name, "<embedded>");
	assert_int_equal(src[0].added, sum);
	assert_int_equal(src[0].replaced, 0);
	assert_non_null(src[0].updated);

	expect_name(in, "api.openai.com", INTEL_CAT_AI_OVERSEAS, "OpenAI");
	expect_name(in, "API.OpenAI.com.", INTEL_CAT_AI_OVERSEAS, "OpenAI");
	assert_ptr_equal(intel_lookup_name(in, "API.OpenAI.com."),
			 intel_lookup_name(in, "api.openai.com"));
	assert_false(intel_lookup_name(in, "api.openai.com")->wildcard);
	expect_name(in, "api.anthropic.com", INTEL_CAT_AI_OVERSEAS, "Anthropic");
	expect_name(in, "openrouter.ai", INTEL_CAT_AI_RELAY, "OpenRouter");
	expect_name(in, "api.aihubmix.com", INTEL_CAT_AI_RELAY, "AiHubMix");
	expect_name(in, "anyrouter.top", INTEL_CAT_AI_RELAY, NULL);
	expect_name(in, "api.deepseek.com", INTEL_CAT_AI_DOMESTIC, "DeepSeek");
	expect_name(in, "dashscope-intl.aliyuncs.com",
		    INTEL_CAT_AI_DOMESTIC_INTL, "Alibaba Cloud");
	expect_name(in, "api.z.ai", INTEL_CAT_AI_DOMESTIC_INTL, "Zhipu");
	expect_name(in, "dns.google", INTEL_CAT_DNS_ENCRYPTED, NULL);
	expect_name(in, "mozilla.cloudflare-dns.com", INTEL_CAT_DNS_ENCRYPTED,
		    "Cloudflare");
	/* exact telemetry host inside Anthropic's wildcard */
	expect_name(in, "statsig.anthropic.com", INTEL_CAT_AI_TELEMETRY,
		    "Anthropic");
	expect_name(in, "www.anthropic.com", INTEL_CAT_AI_OVERSEAS, "Anthropic");
	/* shared hosts are deliberately absent */
	expect_name(in, "sentry.io", 0, NULL);
	expect_name(in, "api.github.com", 0, NULL);
	expect_name(in, "example.com", 0, NULL);
	expect_addr(in, "8.8.8.8", "Google Public DNS");
	expect_addr(in, "2606:4700:4700::1111", "Cloudflare");
	intel_free(in);
}

/* "*.suffix" covers names below the suffix at any depth, not the suffix. */
static void test_wildcard(void **state)
{
	struct intel *in = load(NULL);
	const struct intel_entry *e;

	(void)state;
	e = intel_lookup_name(in, "x.openai.azure.com");
	assert_non_null(e);
	assert_true(e->wildcard);
	assert_string_equal(e->domain, "openai.azure.com");
	assert_int_equal(e->category, INTEL_CAT_AI_OVERSEAS);
	expect_name(in, "a.b.OPENAI.azure.com.", INTEL_CAT_AI_OVERSEAS,
		    "Microsoft");
	expect_name(in, "openai.azure.com", 0, NULL);
	expect_name(in, "xopenai.azure.com", 0, NULL);
	expect_name(in, "azure.com", 0, NULL);
	intel_free(in);
}

static const char *const nested =
	"version: 1\n"
	"entries:\n"
	"  - {domain: \"*.example.com\", category: ai-relay, provider: A}\n"
	"  - {domain: \"*.eu.example.com\", category: ai-overseas, provider: B}\n"
	"  - {domain: api.eu.example.com, category: ai-domestic, provider: C}\n"
	"  - {domain: Example.COM., category: ai-telemetry, provider: D}\n";

/* Exact beats wildcard; among wildcards the longest suffix wins. */
static void test_precedence(void **state)
{
	struct intel *in = load(nested);

	(void)state;
	expect_name(in, "x.example.com", INTEL_CAT_AI_RELAY, "A");
	expect_name(in, "eu.example.com", INTEL_CAT_AI_RELAY, "A");
	expect_name(in, "x.eu.example.com", INTEL_CAT_AI_OVERSEAS, "B");
	expect_name(in, "a.b.eu.example.com", INTEL_CAT_AI_OVERSEAS, "B");
	expect_name(in, "x.api.eu.example.com", INTEL_CAT_AI_OVERSEAS, "B");
	expect_name(in, "api.eu.example.com", INTEL_CAT_AI_DOMESTIC, "C");
	expect_name(in, "example.com", INTEL_CAT_AI_TELEMETRY, "D");
	expect_name(in, "EXAMPLE.com.", INTEL_CAT_AI_TELEMETRY, "D");
	expect_name(in, "example.org", 0, NULL);
	expect_name(in, "com", 0, NULL);
	expect_name(in, "", 0, NULL);
	expect_name(in, ".", 0, NULL);
	expect_name(in, "x..example.com", 0, NULL);
	intel_free(in);
}

/* Exact and wildcard forms of one name are distinct keys, also when many
 * of them share the table (and it grows while loading). */
static void test_exact_and_wildcard_keys(void **state)
{
	size_t i, off = 0, cap = 1 << 17;
	char *text = malloc(cap), name[64];
	struct intel *in;

	(void)state;
	assert_non_null(text);
	off += (size_t)snprintf(text + off, cap - off, "version: 1\nentries:\n");
	for (i = 0; i < 500; i++)
		off += (size_t)snprintf(text + off, cap - off,
			"  - {domain: h%zu.example, category: ai-relay, provider: E}\n"
			"  - {domain: \"*.h%zu.example\", category: ai-overseas, provider: W}\n",
			i, i);
	assert_true(off < cap);
	in = load(text);
	free(text);
	assert_int_equal(intel_count(in, INTEL_CAT_NONE), 1000);
	for (i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "h%zu.example", i);
		expect_name(in, name, INTEL_CAT_AI_RELAY, "E");
		snprintf(name, sizeof(name), "www.h%zu.example", i);
		expect_name(in, name, INTEL_CAT_AI_OVERSEAS, "W");
	}
	intel_free(in);
}

static const char *const prefixes =
	"version: 1\n"
	"entries:\n"
	"  - {cidr: 0.0.0.0/0, category: ai-relay, provider: any4}\n"
	"  - {cidr: 10.0.0.0/8, category: ai-relay, provider: wide}\n"
	"  - {cidr: 10.1.0.0/16, category: ai-relay, provider: narrow}\n"
	"  - {cidr: 10.1.2.3/32, category: ai-relay, provider: host}\n"
	"  - {cidr: \"2001:db8::/32\", category: ai-relay, provider: wide6}\n"
	"  - {cidr: \"2001:db8:1::/48\", category: ai-relay, provider: narrow6}\n"
	"  - {cidr: \"2001:db8:1::1/128\", category: ai-relay, provider: host6}\n";

/* Range edges of the published Anthropic prefixes, and longest-prefix
 * selection across nested prefixes of both families. */
static void test_cidr(void **state)
{
	struct intel *in = load(NULL);
	const struct intel_entry *e;
	__u8 a[16];

	(void)state;
	expect_addr(in, "160.79.104.0", "Anthropic");
	expect_addr(in, "160.79.105.255", "Anthropic");
	expect_addr(in, "160.79.106.0", NULL);
	expect_addr(in, "160.79.103.255", NULL);
	expect_addr(in, "2607:6bc0::", "Anthropic");
	expect_addr(in, "2607:6bc0:0:ffff:ffff:ffff:ffff:ffff", "Anthropic");
	expect_addr(in, "2607:6bc0:1::", NULL);
	expect_addr(in, "2607:6bbf:ffff:ffff:ffff:ffff:ffff:ffff", NULL);
	/* a v4-mapped v6 destination is judged as v4 */
	inet_pton(AF_INET6, "::ffff:160.79.105.1", a);
	e = intel_lookup_addr(in, AF_INET6, a);
	assert_non_null(e);
	assert_string_equal(e->provider, "Anthropic");
	/* the `check` entry point takes either form */
	assert_ptr_equal(intel_lookup(in, "160.79.104.7"), e);
	assert_ptr_equal(intel_lookup(in, "API.anthropic.com"),
			 intel_lookup_name(in, "api.anthropic.com"));
	assert_null(intel_lookup_addr(in, AF_UNIX, a));
	intel_free(in);

	in = load(prefixes);
	expect_addr(in, "10.1.2.3", "host");
	expect_addr(in, "10.1.2.4", "narrow");
	expect_addr(in, "10.1.255.255", "narrow");
	expect_addr(in, "10.2.0.0", "wide");
	expect_addr(in, "9.255.255.255", "any4");
	expect_addr(in, "2001:db8:1::1", "host6");
	expect_addr(in, "2001:db8:1::2", "narrow6");
	expect_addr(in, "2001:db8:2::", "wide6");
	expect_addr(in, "2001:db9::", NULL);
	intel_free(in);
}

static const char *const user_file =
	"version: 1\n"
	"updated: 2026-12-01\n"
	"entries:\n"
	"  - {domain: api.openai.com, category: ai-relay, provider: Corp Gateway}\n"
	"  - {domain: new.example.org, category: ai-relay, provider: Example}\n"
	"  - {cidr: 160.79.104.0/23, category: ai-relay, provider: Corp}\n";

static const char *const bad_last =
	"version: 1\n"
	"entries:\n"
	"  - {domain: chatgpt.com, category: ai-relay, provider: X}\n"
	"  - {domain: y.example, category: nope, provider: X}\n";

/* A later file re-classifies entries in place and adds new ones; the merge
 * reports both per source; a bad file changes nothing. */
static void test_merge(void **state)
{
	struct intel *in = load(NULL);
	size_t total, over, relay, n;
	const struct intel_source *src;
	const struct intel_entry *e;
	char err[256], path[] = "/tmp/test_intel.XXXXXX";
	int fd;

	(void)state;
	total = intel_count(in, INTEL_CAT_NONE);
	over = intel_count(in, INTEL_CAT_AI_OVERSEAS);
	relay = intel_count(in, INTEL_CAT_AI_RELAY);
	assert_string_equal(intel_entry(in, 0)->domain, "api.openai.com");

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, user_file, strlen(user_file)),
			 (ssize_t)strlen(user_file));
	close(fd);
	assert_int_equal(intel_add_file(in, path, err, sizeof(err)), 0);
	unlink(path);

	src = intel_sources(in, &n);
	assert_int_equal(n, 2);
	assert_string_equal(src[1].name, path);
	assert_string_equal(src[1].updated, "2026-12-01");
	assert_int_equal(src[1].added, 1);
	assert_int_equal(src[1].replaced, 2);
	assert_int_equal(intel_count(in, INTEL_CAT_NONE), total + 1);
	assert_int_equal(intel_count(in, INTEL_CAT_AI_OVERSEAS), over - 2);
	assert_int_equal(intel_count(in, INTEL_CAT_AI_RELAY), relay + 3);

	e = intel_lookup_name(in, "api.openai.com");
	assert_int_equal(e->category, INTEL_CAT_AI_RELAY);
	assert_string_equal(e->provider, "Corp Gateway");
	assert_string_equal(e->source, path);
	assert_int_equal(e->line, 4);
	assert_ptr_equal(intel_entry(in, 0), e); /* kept its place */
	assert_ptr_equal(intel_entry(in, total), intel_lookup_name(in, "new.example.org"));
	assert_null(intel_entry(in, total + 1));
	expect_addr(in, "160.79.105.255", "Corp");
	expect_name(in, "chatgpt.com", INTEL_CAT_AI_OVERSEAS, "OpenAI");

	/* bad at the last entry: nothing of the file may be merged */
	assert_int_equal(intel_add_string(in, bad_last, strlen(bad_last),
					  "bad.yaml", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad.yaml:4:35: unknown category 'nope' (known: ai-overseas, ai-relay, ai-domestic, ai-domestic-intl, ai-telemetry, dns-encrypted)");
	expect_name(in, "chatgpt.com", INTEL_CAT_AI_OVERSEAS, "OpenAI");
	assert_int_equal(intel_count(in, INTEL_CAT_NONE), total + 1);
	intel_sources(in, &n);
	assert_int_equal(n, 2);

	assert_int_equal(intel_add_file(in, "/nonexistent/intel.yaml", err,
					sizeof(err)), -ENOENT);
	assert_string_equal(err, "cannot read /nonexistent/intel.yaml: No such file or directory");
	intel_free(in);
}

/* an intel directory: its *.yaml files in name order (a later file wins),
 * other and hidden files skipped, an error names the file */
static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_dir(void **state)
{
	char dir[] = "/tmp/rw-inteldir-XXXXXX", err[256], cmd[300];
	const struct intel_entry *e;
	struct intel *in;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "20-b.yaml", "version: 1\nentries:\n"
		   "  - {domain: x.example, category: ai-relay, provider: B}\n");
	write_file(dir, "10-a.yaml", "version: 1\nentries:\n"
		   "  - {domain: x.example, category: ai-overseas, provider: A}\n"
		   "  - {domain: only-a.example, category: ai-relay, provider: A}\n");
	write_file(dir, "README.md", "not intel\n");
	write_file(dir, ".hidden.yaml", "not: [valid\n");
	assert_int_equal(intel_new(&in), 0);
	assert_int_equal(intel_add_file(in, dir, err, sizeof(err)), 0);
	e = intel_lookup_name(in, "x.example");
	assert_non_null(e);
	assert_string_equal(e->provider, "B");
	assert_non_null(intel_lookup_name(in, "only-a.example"));
	write_file(dir, "30-bad.yaml", "version: 1\nentries: 3\n");
	assert_int_equal(intel_add_file(in, dir, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "30-bad.yaml:2"));
	intel_free(in);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

struct bad {
	const char *text;
	const char *err; /* whole message, or its start when it ends in '*' */
};

static const struct bad bad[] = {
	{ "version: 1\nentries:\n"
	  "  - {domain: a.example, category: ai-relay, provider: X, colour: red}\n",
	  "t.yaml:3:58: unknown key 'colour' in entry (allowed: domain, cidr, category, provider, confidence)" },
	{ "version: 1\nentries:\n"
	  "  - domain: a.example\n"
	  "    category: ai-unknown\n"
	  "    provider: X\n",
	  "t.yaml:4:15: unknown category 'ai-unknown' (known: *" },
	{ "version: 1\nentries:\n"
	  "  - {cidr: 10.0.0.0/33, category: ai-relay, provider: X}\n",
	  "t.yaml:3:12: bad cidr: *" },
	{ "version: 1\nentries:\n"
	  "  - {cidr: 10.0.0.1/8, category: ai-relay, provider: X}\n",
	  "t.yaml:3:12: bad cidr: host bits set*" },
	{ "version: 1\nentries:\n"
	  "  - {domain: a.example, cidr: 10.0.0.0/8, category: ai-relay, provider: X}\n",
	  "t.yaml:3:5: entry has both domain and cidr" },
	{ "version: 1\nentries:\n"
	  "  - category: ai-relay\n"
	  "    provider: X\n",
	  "t.yaml:3:5: entry has neither domain nor cidr" },
	{ "version: 1\nentries:\n"
	  "  - {domain: a.example, provider: X}\n",
	  "t.yaml:3:5: entry has no category" },
	{ "version: 1\nentries:\n"
	  "  - {domain: a.example, category: ai-relay, provider: \"\"}\n",
	  "t.yaml:3:55: provider must be 1 to 128 printable characters" },
	{ "version: 1\nentries:\n"
	  "  - {domain: api.example.com, category: ai-relay, provider: X}\n"
	  "  - {domain: API.example.com., category: ai-overseas, provider: Y}\n",
	  "t.yaml:4:14: duplicate entry 'api.example.com' (first at line 3)" },
	{ "version: 1\nentries:\n"
	  "  - {domain: \"*.a.*.b\", category: ai-relay, provider: X}\n",
	  "t.yaml:3:14: bad domain '*.a.*.b': a wildcard must be a leading '*.'" },
	{ "version: 1\nentries:\n"
	  "  - {domain: 1.2.3.4, category: ai-relay, provider: X}\n",
	  "t.yaml:3:14: bad domain '1.2.3.4': an address, use cidr" },
	{ "version: 1\nentries:\n"
	  "  - {domain: a.example, category: ai-relay, provider: X, confidence: sure}\n",
	  "t.yaml:3:70: bad confidence 'sure' (verified or likely)" },
	{ "entries: []\n", "t.yaml:1:1: missing 'version'" },
	{ "version: 2\nentries: []\n",
	  "t.yaml:1:10: unsupported version '2' (this relaywatch reads 1)" },
	{ "version: 1\nentries:\n  - {domain: a\n", "t.yaml:4:1: invalid YAML: *" },
	{ "version: 1\nentries:\n"
	  "  - {domain: *.x.example, category: ai-relay, provider: X}\n",
	  "t.yaml:3:15: invalid YAML: did not find expected alphabetic or numeric character while scanning an alias (quote wildcards: \"*.example.com\")" },
	{ "", "t.yaml:1:1: empty file: expected version and entries" },
	/* entries are streamed one by one: an alias cannot reach back */
	{ "version: 1\nentries:\n"
	  "  - &a {domain: a.example, category: ai-relay, provider: X}\n"
	  "  - *a\n",
	  "t.yaml:4:5: an alias (*a) here: write the entry out" },
	{ "version: 1\nentries:\n  - " "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	  "t.yaml:3:38: nested more than 32 levels" },
	{ "version: 1\nentries: []\n---\nversion: 1\n",
	  "t.yaml:4:1: more than one YAML document (one intel set per file)" },
};

/* Each mistake is refused with its kind and exact line:column, and leaves
 * the set untouched. */
static void test_errors(void **state)
{
	struct intel *in;
	char err[256];
	size_t i, n;

	(void)state;
	assert_int_equal(intel_new(&in), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *want = bad[i].err;
		size_t len = strlen(want);

		err[0] = 'x';
		assert_int_equal(intel_add_string(in, bad[i].text,
						  strlen(bad[i].text), "t.yaml",
						  err, sizeof(err)), -EINVAL);
		if (want[len - 1] == '*') {
			if (strncmp(err, want, len - 1))
				fail_msg("case %zu: got \"%s\", want \"%s\"", i,
					 err, want);
		} else if (strcmp(err, want)) {
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err,
				 want);
		}
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(intel_count(in, INTEL_CAT_NONE), 0);
	intel_sources(in, &n);
	assert_int_equal(n, 0);
	intel_free(in);
}

/* Category ids and names map both ways; unknown ones are refused. */
static void test_categories(void **state)
{
	int cat;

	(void)state;
	for (cat = INTEL_CAT_NONE + 1; cat < INTEL_CAT__MAX; cat++)
		assert_int_equal(intel_category_parse(intel_category_name(cat)),
				 cat);
	assert_int_equal(intel_category_parse("AI-Relay"), INTEL_CAT_AI_RELAY);
	assert_int_equal(intel_category_parse("ai-domestic-intl"), 4);
	assert_int_equal(intel_category_parse("dns-encrypted"), 6);
	assert_int_equal(intel_category_parse("relay"), -EINVAL);
	assert_int_equal(intel_category_parse(NULL), -EINVAL);
	assert_null(intel_category_name(INTEL_CAT_NONE));
	assert_null(intel_category_name(INTEL_CAT__MAX));
	assert_null(intel_category_name(-1));
	assert_string_equal(intel_confidence_name(INTEL_CONF_LIKELY), "likely");
	assert_string_equal(intel_confidence_name(INTEL_CONF_UNSET), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_exact_and_wildcard_keys),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_categories),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
