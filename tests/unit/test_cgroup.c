// SPDX-License-Identifier: MIT
/* cgroup.c: container ids and units from real-world cgroup paths of every
 * runtime, /proc/PID/cgroup parsing, and id -> path on a live cgroup2 tree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "cgroup.h"

#define ID "3f4c1e2b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2918f7e6d5c4b3a2918f7e"
#define ID2 "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define POD "pod6f1b2c3d-8e9f-4a0b-9c1d-2e3f4a5b6c7d"
#define PODS "pod6f1b2c3d_8e9f_4a0b_9c1d_2e3f4a5b6c7d"

struct cg_case {
	const char *path;
	const char *id;   /* NULL: no container */
	const char *unit; /* NULL: no unit */
};

static const struct cg_case cases[] = {
	/* docker, cgroupfs and systemd drivers */
	{ "/docker/" ID, ID, NULL },
	{ "/system.slice/docker-" ID ".scope", ID, NULL },
	{ "/system.slice/docker-" ID ".scope/system.slice/nginx.service", ID,
	  "nginx.service" },
	/* kubernetes, cgroupfs driver: QoS class directories */
	{ "/kubepods/burstable/" POD "/" ID, ID, NULL },
	{ "/kubepods/besteffort/" POD "/" ID, ID, NULL },
	{ "/kubepods/" POD "/" ID, ID, NULL },
	{ "/kubepods/burstable/" POD "/crio-" ID, ID, NULL },
	/* kubernetes, systemd driver: kubepods-<qos>-pod<uid>.slice */
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" PODS
	  ".slice/cri-containerd-" ID ".scope", ID, NULL },
	{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-" PODS
	  ".slice/crio-" ID ".scope", ID, NULL },
	{ "/kubepods.slice/kubepods-" PODS ".slice/cri-containerd-" ID
	  ".scope", ID, NULL },
	{ "/kubepods.slice/kubepods-" PODS ".slice/docker-" ID ".scope", ID,
	  NULL },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" PODS
	  ".slice/crio-conmon-" ID ".scope", NULL, "crio-conmon-" ID ".scope" },
	{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" PODS
	  ".slice", NULL, NULL },
	/* podman: rootful, its payload sub-cgroup, conmon, rootless */
	{ "/machine.slice/libpod-" ID ".scope", ID, NULL },
	{ "/machine.slice/libpod-" ID ".scope/container", ID, NULL },
	{ "/machine.slice/libpod-conmon-" ID ".scope", NULL,
	  "libpod-conmon-" ID ".scope" },
	{ "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
	  ".scope", ID, "user@1000.service" },
	/* containerd namespaces, nerdctl, CI runners, LXC */
	{ "/default/" ID, ID, NULL },
	{ "/system.slice/nerdctl-" ID ".scope", ID, NULL },
	{ "/actions_job/" ID, ID, NULL },
	{ "/lxc.payload.web1", "web1", NULL },
	/* docker in docker: the innermost container is the one */
	{ "/docker/" ID2 "/docker/" ID, ID, NULL },
	/* hosts, users, services: no container */
	{ "/system.slice/sshd.service", NULL, "sshd.service" },
	{ "/system.slice/docker.service", NULL, "docker.service" },
	{ "/system.slice/containerd.service", NULL, "containerd.service" },
	{ "/user.slice/user-1000.slice/session-3.scope", NULL,
	  "session-3.scope" },
	{ "/user.slice/user-1000.slice/user@1000.service/app.slice/"
	  "app-org.gnome.Terminal.slice/vte-spawn-5f2a.scope", NULL,
	  "vte-spawn-5f2a.scope" },
	{ "/user.slice/user-1000.slice/user@1000.service/init.scope", NULL,
	  "init.scope" },
	{ "/init.scope", NULL, "init.scope" },
	{ "/system.slice/abc123def456", NULL, NULL },
	{ "/docker/" "3f4c1e2b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2918f7e6d5c4b3a29"
	  "18f7", NULL, NULL },  /* 63 hex: not an id */
	{ "/system.slice/docker-xyz.scope", NULL, "docker-xyz.scope" },
	{ "/", NULL, NULL },
	{ "", NULL, NULL },
};

/* Each path yields exactly the expected container id and systemd unit. */
static void test_table(void **state)
{
	char id[80], unit[128];
	int err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct cg_case *t = &cases[i];

		err = cgroup_container_id(t->path, id, sizeof(id));
		if (t->id ? err || strcmp(id, t->id) : err != -ENOENT)
			fail_msg("%s: id %d '%s', want '%s'", t->path, err,
				 err ? "" : id, t->id ? t->id : "");
		err = cgroup_systemd_unit(t->path, unit, sizeof(unit));
		if (t->unit ? err || strcmp(unit, t->unit) : err != -ENOENT)
			fail_msg("%s: unit %d '%s', want '%s'", t->path, err,
				 err ? "" : unit, t->unit ? t->unit : "");
	}
}

/* Output buffers too small for the answer fail instead of truncating. */
static void test_nospace(void **state)
{
	char small[16];

	(void)state;
	assert_int_equal(cgroup_container_id("/docker/" ID, small,
					     sizeof(small)), -ENOSPC);
	assert_int_equal(cgroup_systemd_unit("/system.slice/a-long-name.service",
					     small, sizeof(small)), -ENOSPC);
	assert_int_equal(cgroup_parse("0::/a/very/long/cgroup/path\n", "",
				      small, sizeof(small)), -ENOSPC);
}

/* /proc/PID/cgroup text: v2 line, v1 named and comma-listed hierarchies,
 * removed cgroups, missing lines. */
static void test_parse(void **state)
{
	static const char hybrid[] =
		"12:memory:/docker/" ID "\n"
		"3:cpu,cpuacct:/docker/" ID "\n"
		"1:name=systemd:/system.slice/cron.service\n"
		"0::/\n";
	char out[PATH_MAX];

	(void)state;
	assert_int_equal(cgroup_parse(hybrid, "", out, sizeof(out)), 0);
	assert_string_equal(out, "/");
	assert_int_equal(cgroup_parse(hybrid, "name=systemd", out,
				      sizeof(out)), 0);
	assert_string_equal(out, "/system.slice/cron.service");
	assert_int_equal(cgroup_parse(hybrid, "cpuacct", out, sizeof(out)), 0);
	assert_string_equal(out, "/docker/" ID);
	assert_int_equal(cgroup_parse(hybrid, "memory", out, sizeof(out)), 0);
	assert_string_equal(out, "/docker/" ID);
	assert_int_equal(cgroup_parse(hybrid, "pids", out, sizeof(out)),
			 -ENOENT);
	assert_int_equal(cgroup_parse("0::/gone (deleted)\n", "", out,
				      sizeof(out)), 0);
	assert_string_equal(out, "/gone");
	assert_int_equal(cgroup_parse("0::/no/newline", "", out, sizeof(out)),
			 0);
	assert_string_equal(out, "/no/newline");
	assert_int_equal(cgroup_parse("4:pids:/x\n", "", out, sizeof(out)),
			 -ENOENT);
	assert_int_equal(cgroup_parse("", "", out, sizeof(out)), -ENOENT);
}

/* cgroup2_root() names a real cgroup2 mount; our own cgroup is a directory
 * in it whose id maps back to the same path. */
static void test_self(void **state)
{
	const char *root = cgroup2_root();
	char path[PATH_MAX], abs[PATH_MAX * 2], back[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	__u64 id;

	(void)state;
	if (!root) {
		print_message("skipped: no cgroup2 mount in /proc/mounts\n");
		skip();
	}
	assert_int_equal(statfs(root, &sfs), 0);
	assert_true(sfs.f_type == CGROUP2_SUPER_MAGIC);

	assert_int_equal(cgroup_of_pid(getpid(), path, sizeof(path)), 0);
	assert_true(path[0] == '/');
	snprintf(abs, sizeof(abs), "%s%s", root, path);
	assert_int_equal(stat(abs, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(cgroup_id_of(abs, &id), 0);
	assert_true(id == (__u64)st.st_ino);
	assert_int_equal(cgroup_path_by_id(id, back, sizeof(back)), 0);
	assert_string_equal(back, path);

	assert_int_equal(cgroup_of_pid(INT_MAX, path, sizeof(path)), -ESRCH);
	assert_int_equal(cgroup_id_of("/nonexistent/rw-cgroup", &id), -ENOENT);
	assert_int_equal(cgroup_id_of("/etc/hostname", &id), -ENOTDIR);
}

static char cg_dir[PATH_MAX], cg_child[PATH_MAX + 16];

static int cg_teardown(void **state)
{
	(void)state;
	if (cg_child[0])
		rmdir(cg_child);
	if (cg_dir[0])
		rmdir(cg_dir);
	cg_child[0] = cg_dir[0] = '\0';
	cgroup_cache_clear();
	return 0;
}

/* A cgroup we create is found by id at depth 1 and 2, from the walk and
 * from the cache, and is no longer found once removed. Nothing is attached
 * and no process is moved into it. */
static void test_path_by_id(void **state)
{
	const char *root = cgroup2_root();
	char out[PATH_MAX], want[PATH_MAX];
	__u64 id, cid;

	(void)state;
	if (geteuid() != 0 || !root) {
		print_message("skipped: %s\n", !root ? "no cgroup2 mount" :
			      "creating a cgroup needs root");
		skip();
	}
	snprintf(cg_dir, sizeof(cg_dir), "%s/rw-unit-%d", root, (int)getpid());
	snprintf(cg_child, sizeof(cg_child), "%s/child", cg_dir);
	if (mkdir(cg_dir, 0755)) {
		print_message("skipped: mkdir %s: %s\n", cg_dir,
			      strerror(errno));
		cg_dir[0] = cg_child[0] = '\0';
		skip();
	}
	assert_int_equal(mkdir(cg_child, 0755), 0);
	assert_int_equal(cgroup_id_of(cg_dir, &id), 0);
	assert_int_equal(cgroup_id_of(cg_child, &cid), 0);
	assert_true(id != cid);

	snprintf(want, sizeof(want), "/rw-unit-%d/child", (int)getpid());
	for (int pass = 0; pass < 2; pass++) {  /* walk, then cache */
		assert_int_equal(cgroup_path_by_id(cid, out, sizeof(out)), 0);
		assert_string_equal(out, want);
	}
	want[strlen(want) - strlen("/child")] = '\0';
	assert_int_equal(cgroup_path_by_id(id, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	assert_int_equal(cgroup_path_by_id(id, out, 8), -ENOSPC);

	/* the cached entry of a removed cgroup must not answer */
	assert_int_equal(rmdir(cg_child), 0);
	cg_child[0] = '\0';
	assert_int_equal(cgroup_path_by_id(cid, out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup_path_by_id(0, out, sizeof(out)), -ENOENT);
	assert_int_equal(cgroup_path_by_id(~0ULL - 7, out, sizeof(out)),
			 -ENOENT);

	assert_int_equal(cgroup_id_of(root, &id), 0);
	assert_int_equal(cgroup_path_by_id(id, out, sizeof(out)), 0);
	assert_string_equal(out, "/");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_nospace),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_self),
		cmocka_unit_test_teardown(test_path_by_id, cg_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
