// SPDX-License-Identifier: MIT
/* utf8.h: what is valid, how invalid bytes are repaired, where a cut may
 * fall (RFC 3629's table of well-formed sequences) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "utf8.h"

static void test_valid(void **state)
{
	static const char *const good[] = {
		"", "plain ascii", "caf\xc3\xa9", "\xe4\xb8\xad\xe6\x96\x87",
		"\xf0\x9f\x98\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf",
	};
	static const char *const bad[] = {
		"\xff", "\xc3", "\xc0\xaf",           /* cut, overlong '/' */
		"\xe0\x80\xaf", "\xed\xa0\x80",       /* overlong, surrogate */
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", /* above U+10FFFF */
		"a\x80z", "\xe4\xb8",                 /* stray, cut */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_true(utf8_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(utf8_valid(bad[i]));
}

static void test_repair(void **state)
{
	char out[64];

	(void)state;
	utf8_repair("a\xff" "b\xc3\xa9\xe4\xb8", out, sizeof(out));
	/* one U+FFFD per invalid byte; the cut 3-byte char is two */
	assert_string_equal(out, "a\xef\xbf\xbd" "b\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd");
	assert_true(utf8_valid(out));
	/* too small: cut on a boundary, never inside U+FFFD */
	utf8_repair("\xff\xff\xff", out, 8);
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd");
	utf8_repair("ok", out, sizeof(out));
	assert_string_equal(out, "ok");
}

static void test_cut(void **state)
{
	const char *s = "ab\xe4\xb8\xad\xf0\x9f\x98\x80";  /* a b 中 😀 */

	(void)state;
	assert_int_equal(utf8_cut(s, 9), 9);
	assert_int_equal(utf8_cut(s, 8), 5);  /* inside 😀: before it */
	assert_int_equal(utf8_cut(s, 6), 5);
	assert_int_equal(utf8_cut(s, 5), 5);
	assert_int_equal(utf8_cut(s, 4), 2);  /* inside 中 */
	assert_int_equal(utf8_cut(s, 3), 2);
	assert_int_equal(utf8_cut(s, 2), 2);
	assert_int_equal(utf8_cut("\x80\x80", 2), 2); /* stray bytes stay */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_repair),
		cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
