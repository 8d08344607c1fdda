// SPDX-License-Identifier: MIT
/* ydoc.c: what the policy and intel loaders share, tested on its own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ydoc.h"

/* Load text and fill f[] from its top-level mapping. */
static int load_fields(struct ydoc *d, const char *text, struct yfield *f,
		       size_t nf)
{
	int ret = ydoc_load(d, text, strlen(text), "one thing per file");

	if (!ret)
		ret = ydoc_fields(d, ydoc_root(d), f, nf, "at top level");
	return ret;
}

/* Syntax errors carry the position; an unquoted wildcard gets a hint; a
 * second document is refused with the caller's words. */
static void test_load_errors(void **state)
{
	char err[256];
	struct ydoc d = { .name = "x.yaml", .err = err, .errlen = sizeof(err) };

	(void)state;
	assert_int_equal(ydoc_load(&d, "a: [1\n", 6, "one"), -EINVAL);
	assert_int_equal(strncmp(err, "x.yaml:2:1: invalid YAML: ", 26), 0);
	ydoc_free(&d);

	d = (struct ydoc){ .name = "x.yaml", .err = err, .errlen = sizeof(err) };
	assert_int_equal(ydoc_load(&d, "a: [*.x.com]\n", 13, "one"), -EINVAL);
	assert_non_null(strstr(err, "(quote wildcards: \"*.example.com\")"));
	ydoc_free(&d);

	d = (struct ydoc){ .name = "x.yaml", .err = err, .errlen = sizeof(err) };
	assert_int_equal(ydoc_load(&d, "a: 1\n---\nb: 2\n", 14,
				   "one thing per file"), -EINVAL);
	assert_string_equal(err, "x.yaml:3:1: more than one YAML document (one thing per file)");
	ydoc_free(&d);

	/* no message buffer: still the error code */
	d = (struct ydoc){ .name = "x.yaml" };
	assert_int_equal(ydoc_load(&d, "a: [1\n", 6, "one"), -EINVAL);
	ydoc_free(&d);
}

/* Aliases: YDOC_MAX_ALIASES load, one more is refused where it stands
 * (a "billion laughs" never reaches the walk) */
static void test_aliases(void **state)
{
	char err[256], text[4096];
	struct ydoc d;
	int n;

	(void)state;
	for (int extra = 0; extra < 2; extra++) {
		n = snprintf(text, sizeof(text), "a: &x {k: v}\nl:\n");
		for (int i = 0; i < YDOC_MAX_ALIASES + extra; i++)
			n += snprintf(text + n, sizeof(text) - n, "  - *x\n");
		d = (struct ydoc){ .name = "x.yaml", .err = err,
				   .errlen = sizeof(err) };
		assert_int_equal(ydoc_load(&d, text, n, "one"),
				 extra ? -EINVAL : 0);
		if (extra)
			assert_string_equal(err, "x.yaml:67:5: more than 64 "
					    "YAML aliases (*name): write the "
					    "entries out");
		ydoc_free(&d);
	}
}

/* Fields: known keys are filled, single values are strings, unknown and
 * repeated keys are refused at their position. */
static void test_fields(void **state)
{
	char err[256];
	struct ydoc d = { .name = "x.yaml", .err = err, .errlen = sizeof(err) };
	struct yfield f[] = { { .key = "a" }, { .key = "b", .nested = true } };

	(void)state;
	assert_int_equal(load_fields(&d, "a: hi\nb: [1, 2]\n", f, 2), 0);
	assert_string_equal(f[0].s, "hi");
	assert_int_equal(f[1].v->type, YAML_SEQUENCE_NODE);
	ydoc_free(&d);

	memset(f, 0, sizeof(f));
	f[0].key = "a";
	f[1].key = "b";
	d = (struct ydoc){ .name = "x.yaml", .err = err, .errlen = sizeof(err) };
	assert_int_equal(load_fields(&d, "a: 1\nc: 2\n", f, 2), -EINVAL);
	assert_string_equal(err, "x.yaml:2:1: unknown key 'c' at top level (allowed: a, b)");
	ydoc_free(&d);

	memset(f, 0, sizeof(f));
	f[0].key = "a";
	f[1].key = "b";
	d = (struct ydoc){ .name = "x.yaml", .err = err, .errlen = sizeof(err) };
	assert_int_equal(load_fields(&d, "a: 1\nb: [2]\n", f, 2), -EINVAL);
	assert_string_equal(err, "x.yaml:2:4: 'b' must be a single value, not a list");
	ydoc_free(&d);
}

static int upper_one(struct ydoc *d, const struct yfield *f,
		     const yaml_node_t *e, void *out, const void *arg)
{
	(void)f, (void)arg;
	if (!strcmp(ydoc_str(e), "bad"))
		return ydoc_err(d, e, "bad entry");
	*(char **)out = strdup(ydoc_str(e));
	return 0;
}

/* A list field takes one string or a list; *nr counts what was filled
 * even when a later entry fails, so the caller can free it. */
static void test_list(void **state)
{
	static const char *const texts[] = { "a: x\n", "a: [x, y, z]\n",
					     "a: [x, y, bad]\n", "a: []\n" };
	static const size_t want_nr[] = { 1, 3, 2, 0 };
	static const int want_ret[] = { 0, 0, -EINVAL, -EINVAL };
	char err[256], **arr;
	struct yfield f;
	struct ydoc d;
	size_t i, j, nr;

	(void)state;
	for (i = 0; i < 4; i++) {
		d = (struct ydoc){ .name = "x.yaml", .err = err,
				   .errlen = sizeof(err) };
		f = (struct yfield){ .key = "a", .nested = true };
		arr = NULL;
		nr = 0;
		assert_int_equal(load_fields(&d, texts[i], &f, 1), 0);
		assert_int_equal(ydoc_list(&d, &f, "a word", "words",
					   sizeof(*arr), &arr, &nr, upper_one,
					   NULL), want_ret[i]);
		assert_int_equal(nr, want_nr[i]);
		if (nr)
			assert_string_equal(arr[0], "x");
		if (i == 2)
			assert_string_equal(err, "x.yaml:1:11: bad entry");
		if (i == 3)
			assert_string_equal(err, "x.yaml:1:4: empty a list");
		for (j = 0; j < nr; j++)
			free(arr[j]);
		free(arr);
		ydoc_free(&d);
	}
}

/* Host names: lower-cased, one trailing dot dropped, label and length
 * limits; wildcards only as a leading "*.". */
static void test_hostname(void **state)
{
	char out[HOSTNAME_MAX + 3], long_label[80], long_name[330];
	const char *why = NULL;

	(void)state;
	assert_int_equal(hostname_norm("API.Example.COM.", out, &why), 0);
	assert_string_equal(out, "api.example.com");
	assert_int_equal(hostname_norm("a..b", out, &why), -EINVAL);
	assert_string_equal(why, "empty label");
	/* found by fuzz_config: "a.." kept "a." (one dot dropped), a name
	 * no lookup could ever reach */
	assert_int_equal(hostname_norm("a..", out, &why), -EINVAL);
	assert_string_equal(why, "empty label");
	assert_int_equal(hostname_norm(".", out, &why), -EINVAL);
	assert_int_equal(hostname_norm("a.*.b", out, &why), -EINVAL);
	assert_string_equal(why, "a wildcard must be a leading '*.'");
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	assert_int_equal(hostname_norm(long_label, out, &why), -EINVAL);
	assert_string_equal(why, "label longer than 63 characters");
	long_label[63] = '\0';
	assert_int_equal(hostname_norm(long_label, out, NULL), 0);
	snprintf(long_name, sizeof(long_name), "%s.%s.%s.%s", long_label,
		 long_label, long_label, long_label);
	assert_int_equal(hostname_norm(long_name, out, &why), -EINVAL);
	assert_string_equal(why, "longer than 253 characters");
	assert_int_equal(hostname_norm(".", out, &why), -EINVAL);
}

/* Paths: "//" and a trailing '/' go, "." and ".." and relative paths are
 * refused. */
static void test_path(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(path_norm("//a///b/", out), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(path_norm("/", out), 0);
	assert_string_equal(out, "/");
	assert_int_equal(path_norm("/a/.../b", out), 0);
	assert_string_equal(out, "/a/.../b");
	assert_int_equal(path_norm("a/b", out), -EINVAL);
	assert_int_equal(path_norm("/a/./b", out), -EINVAL);
	assert_int_equal(path_norm("/a/..", out), -EINVAL);
}

/* Reading: the limit is inclusive; one byte more is -EFBIG with a
 * message naming the file. */
static void test_read_file(void **state)
{
	char path[] = "/tmp/test_yaml.XXXXXX", err[256], *buf = NULL;
	size_t len = 0;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	assert_int_equal(ydoc_read_file(path, 10, &buf, &len, err,
					sizeof(err)), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(buf, "0123456789", 10);
	free(buf);
	assert_int_equal(ydoc_read_file(path, 9, &buf, &len, err,
					sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "File too large"));
	unlink(path);
	assert_int_equal(ydoc_read_file(path, 9, &buf, &len, err,
					sizeof(err)), -ENOENT);
	assert_int_equal(strncmp(err, "cannot read /tmp/test_yaml.", 27), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_read_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
