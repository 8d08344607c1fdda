// SPDX-License-Identifier: MIT
/* keys.c: credential shapes found and told apart, names that hold one,
 * fingerprints keyed and stable, command lines redacted. The fake keys
 * are built at run time from their shapes, none is real. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "keys.h"

/* prefix + n characters of set, cycling from seed, + suffix */
static char *fake(char *buf, const char *prefix, int n, const char *set,
		  int seed, const char *suffix)
{
	size_t k = strlen(set), o = strlen(prefix);

	strcpy(buf, prefix);
	for (int i = 0; i < n; i++)
		buf[o++] = set[(size_t)(i * 7 + seed) % k];
	strcpy(buf + o, suffix);
	return buf;
}

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

struct seen {
	char provider[8][32], kind[8][48];
	size_t off[8];
	int n;
};

static int collect(const struct key_hit *h, void *ctx)
{
	struct seen *s = ctx;

	snprintf(s->provider[s->n], 32, "%s", h->provider);
	snprintf(s->kind[s->n], 48, "%s", h->kind);
	s->off[s->n++] = h->off;
	return 0;
}

static void test_shapes(void **state)
{
	char ant[200], aws[40], proj[200], relay[80], text[1024];
	struct seen s = { .n = 0 };

	(void)state;
	fake(ant, "sk-ant-api03-", 93, ALNUM "_-", 1, "AA");
	fake(aws, "AKIA", 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 2, "");
	fake(proj, "sk-proj-", 74, ALNUM, 3, "T3BlbkFJ");
	strcat(proj, ant + 13 + 10); /* 74 more of the key alphabet */
	proj[8 + 74 + 8 + 74] = 0;
	fake(relay, "cr_", 64, "0123456789abcdef", 4, "");
	snprintf(text, sizeof(text), "a=%s\nb %s;c:%s d=%s", ant, aws, proj,
		 relay);
	keys_scan(text, strlen(text), collect, &s);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.provider[0], "Anthropic");
	assert_string_equal(s.kind[0], "API key");
	assert_int_equal(s.off[0], 2);
	assert_string_equal(s.provider[1], "AWS");
	assert_string_equal(s.provider[2], "OpenAI");
	assert_string_equal(s.kind[2], "project/service/admin API key");
	assert_string_equal(s.provider[3], "claude-relay-service");
}

/* a token longer than the shape, or glued to other text, is not it */
static void test_controls(void **state)
{
	char aws[64], text[256];
	struct seen s = { .n = 0 };

	(void)state;
	fake(aws, "AKIA", 17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 2, "");
	snprintf(text, sizeof(text), "%s xAKIAABCDEFGHIJKLMNOP sk-short "
		 "the quick brown fox", aws);
	keys_scan(text, strlen(text), collect, &s);
	assert_int_equal(s.n, 0);
}

static void test_named(void **state)
{
	static const char secret[] = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY";
	struct key_hit h;

	(void)state;
	assert_true(keys_named("aws_secret_access_key", 21, secret,
			       strlen(secret), &h));
	assert_string_equal(h.provider, "AWS");
	assert_string_equal(h.kind, "secret access key");
	assert_true(h.by_name);
	assert_null(strstr(h.display, "wJal"));
	assert_string_equal(h.display, "…EKEY");
	/* a short placeholder is nothing; an unknown name is nothing */
	assert_false(keys_named("OPENAI_API_KEY", 14, "\"xxx\"", 5, &h));
	assert_false(keys_named("HOME", 4, secret, strlen(secret), &h));
}

static void test_fingerprint(void **state)
{
	char dir[] = "/tmp/rw-keys-XXXXXX", path[64], ant[200];
	struct key_hit a, b, c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key", dir);
	f = fopen(path, "w");
	fputs("0123456789abcdef0123456789abcdef", f);
	fclose(f);
	assert_string_equal(keys_set_site_key(path), "fleet");
	fake(ant, "sk-ant-api03-", 93, ALNUM "_-", 1, "AA");
	keys_name(ant, strlen(ant), 13, &a);
	keys_name(ant, strlen(ant), 13, &b);
	assert_string_equal(a.fingerprint, b.fingerprint);
	assert_int_equal(strlen(a.fingerprint), strlen("hmac-sha256:") + 16);
	assert_true(!strncmp(a.display, "sk-ant-api03-…", strlen("sk-ant-api03-…")));
	assert_string_equal(a.display + strlen(a.display) - 4, ant + strlen(ant) - 4);
	/* another site key: another fingerprint of the same key */
	f = fopen(path, "w");
	fputs("fedcba9876543210fedcba9876543210", f);
	fclose(f);
	keys_set_site_key(path);
	keys_name(ant, strlen(ant), 13, &c);
	assert_string_not_equal(a.fingerprint, c.fingerprint);
	unlink(path);
	rmdir(dir);
}

static void test_redact(void **state)
{
	char ant[200], tok[64], cmd[1024];
	struct key_hit h[8];
	int n;

	(void)state;
	fake(ant, "sk-ant-api03-", 93, ALNUM "_-", 1, "AA");
	fake(tok, "", 40, ALNUM, 5, "");
	snprintf(cmd, sizeof(cmd), "curl -H Authorization: Bearer %s "
		 "--api-key=%s -u bob:hunter2hunter2 https://x/ %s", tok, tok,
		 ant);
	n = keys_redact(cmd, sizeof(cmd), h, 8);
	assert_int_equal(n, 4);
	assert_null(strstr(cmd, tok));
	assert_null(strstr(cmd, ant + 13));
	assert_null(strstr(cmd, "hunter2"));
	assert_non_null(strstr(cmd, "curl -H Authorization: Bearer …"));
	assert_non_null(strstr(cmd, "https://x/ sk-ant-api03-…"));
	assert_non_null(strstr(cmd, "-u bob:…"));
	/* nothing to redact: unchanged */
	snprintf(cmd, sizeof(cmd), "python3 client.py --model gpt-4o");
	assert_int_equal(keys_redact(cmd, sizeof(cmd), h, 8), 0);
	assert_string_equal(cmd, "python3 client.py --model gpt-4o");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_named),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_redact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
