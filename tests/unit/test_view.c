// SPDX-License-Identifier: MIT
/* view.c: trace's filters (--pid, --exe, --uid, --container) and the
 * summary's figures, which count only what the filters let through. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "view.h"

static struct proc_info *proc(const char *exe, unsigned uid,
			      const char *container)
{
	static struct proc_info pi;

	memset(&pi, 0, sizeof(pi));
	snprintf(pi.exe, sizeof(pi.exe), "%s", exe);
	pi.uid = uid;
	snprintf(pi.container, sizeof(pi.container), "%s", container);
	return &pi;
}

static void test_filters(void **state)
{
	struct view v = { .uid = -1 };
	const char *id = "3f2a9c1b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";

	(void)state;
	/* no filter: everything shows, even without attribution */
	assert_false(view_hides(&v, 10, 0, NULL));
	v.pid = 10;
	assert_false(view_hides(&v, 10, 0, NULL));
	assert_true(view_hides(&v, 11, 0, NULL));
	v.pid = 0;
	v.exe = "/usr/bin/curl";
	assert_false(view_hides(&v, 1, 0, proc("/usr/bin/curl", 0, "")));
	assert_true(view_hides(&v, 1, 0, proc("/usr/bin/wget", 0, "")));
	assert_true(view_hides(&v, 1, 0, NULL));
	v.exe = NULL;
	/* the uid: the process's, else the one the kernel saw */
	v.uid = 1000;
	assert_false(view_hides(&v, 1, 0, proc("/x", 1000, "")));
	assert_true(view_hides(&v, 1, 1000, proc("/x", 0, "")));
	assert_false(view_hides(&v, 1, 1000, NULL));
	assert_true(view_hides(&v, 1, -1, NULL));
	v.uid = 0;
	assert_false(view_hides(&v, 1, 0, NULL));
	v.uid = -1;
	/* a container: an id prefix, any case; none hides */
	v.container = "3F2A9C1B7D4E";
	assert_false(view_hides(&v, 1, 0, proc("/x", 0, id)));
	v.container = id;
	assert_false(view_hides(&v, 1, 0, proc("/x", 0, id)));
	v.container = "3f2a9c1b7d4f";
	assert_true(view_hides(&v, 1, 0, proc("/x", 0, id)));
	assert_true(view_hides(&v, 1, 0, proc("/x", 0, "")));
	assert_true(view_hides(&v, 1, 0, NULL));
}

/* the figures add up: decisions by action = by event */
static void test_summary(void **state)
{
	struct view v = { .uid = -1 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	view_count(&v, RW_EV_CONNECT, RW_ACT_ALERT, 2);
	view_count(&v, RW_EV_CONNECT, RW_ACT_DENY, 0);
	view_count(&v, RW_EV_SENDMSG, RW_ACT_KILL, 0);
	view_count(&v, RW_EV_TLS, RW_ACT_ALLOW, 0);
	v.hidden = 7;
	view_summary(&v, 3, f);
	fclose(f);
	assert_non_null(strstr(buf, "4 decisions shown (connect 2, sendmsg 1, "
				    "first bytes 1): allow 1, alert 1, "
				    "would_deny 1, would_kill 1; repeats "
				    "folded into them 2; hidden by filters 7; "
				    "events lost 3"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_summary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
