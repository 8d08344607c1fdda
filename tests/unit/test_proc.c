// SPDX-License-Identifier: MIT
/* proc.c: attribution of live, renamed, deleted-binary, zombie and exited
 * processes; SHA-256 vectors and cache invalidation; a fake /proc tree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "proc.h"

#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CID "3f4c1e2b9a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2918f7e6d5c4b3a2918f7e"

static int g_argc;
static char **g_argv;
static char self_exe[PATH_MAX];
static pid_t child = -1;
static char tmp_path[64], tmp_dir[64];

/* Expected digests come from OpenSSL's one-shot API, not from proc.c. */
static void sha_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	assert_true(EVP_Digest(data, len, md, &n, EVP_sha256(), NULL));
	for (unsigned int i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

static char *read_all(const char *path, size_t *len)
{
	struct stat st;
	char *data;
	int fd;

	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	data = malloc(st.st_size + 1);
	assert_non_null(data);
	assert_int_equal(read(fd, data, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return data;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

static void make_tmp(void)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/rw-sleep-XXXXXX");
	fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	close(fd);
}

static int rm_entry(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static int cleanup(void **state)
{
	(void)state;
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	child = -1;
	if (tmp_path[0])
		unlink(tmp_path);
	if (tmp_dir[0])
		nftw(tmp_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmp_path[0] = tmp_dir[0] = '\0';
	proc_set_root(NULL);
	return 0;
}

/* Polls until /proc/PID/exe of the child names want (its exec is done). */
static void wait_exec(pid_t pid, const char *want)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	for (int i = 0; i < 500; i++) {
		n = readlink(link, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			if (strcmp(buf, want) == 0)
				return;
		}
		usleep(10000);
	}
	fail_msg("child %d never ran %s", (int)pid, want);
}

/* Our own process: exe, ids, user, argv, binary hash, chain to pid 1. */
static void test_self(void **state)
{
	struct proc_info *pi = malloc(sizeof(*pi));
	char want[4096] = "", sha[65], comm[17] = "", cg[PATH_MAX], *bin;
	struct passwd *pw = getpwuid(getuid());
	size_t len;

	(void)state;
	assert_non_null(pi);
	for (int i = 0; i < g_argc; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 "%s%s", i ? " " : "", g_argv[i]);
	bin = read_all(self_exe, &len);
	sha_hex(bin, len, sha);
	free(bin);
	prctl(PR_GET_NAME, comm);

	assert_int_equal(proc_read(getpid(), pi), 0);
	assert_int_equal(pi->pid, getpid());
	assert_int_equal(pi->ppid, getppid());
	assert_int_equal(pi->uid, getuid());
	if (pw)
		assert_string_equal(pi->user, pw->pw_name);
	assert_string_equal(pi->exe, self_exe);
	assert_false(pi->exe_deleted);
	assert_false(pi->from_snapshot);
	assert_string_equal(pi->comm, comm);
	assert_string_equal(pi->cmdline, want);
	assert_string_equal(pi->sha256, sha);
	if (cgroup_of_pid(getpid(), cg, sizeof(cg)) == 0)
		assert_string_equal(pi->cgroup, cg);

	assert_true(pi->nr_parents >= 1);
	assert_int_equal(pi->parents[0].pid, getppid());
	assert_int_equal(pi->parents[pi->nr_parents - 1].pid, 1);
	free(pi);
}

/* A zombie and a reaped process are both reported gone. */
static void test_gone(void **state)
{
	struct proc_info *pi = malloc(sizeof(*pi));
	char path[64], buf[4096];
	bool zombie = false;
	FILE *f;

	(void)state;
	assert_non_null(pi);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)child);
	for (int i = 0; i < 500 && !zombie; i++) {
		f = fopen(path, "r");
		while (f && fgets(buf, sizeof(buf), f))
			zombie |= strncmp(buf, "State:\tZ", 8) == 0;
		if (f)
			fclose(f);
		if (!zombie)
			usleep(10000);
	}
	assert_true(zombie);
	assert_int_equal(proc_read(child, pi), -ESRCH);
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_int_equal(proc_read(child, pi), -ESRCH);
	child = -1;
	assert_int_equal(proc_read(0, pi), -EINVAL);
	free(pi);
}

/* The child re-executes this binary, renames itself with PR_SET_NAME and
 * reports on fd. Run natively even under valgrind (no --trace-children). */
static void renamed_child(int fd)
{
	prctl(PR_SET_NAME, "renamed");
	if (write(fd, "x", 1) != 1)
		_exit(1);
	close(fd);
	pause();
	_exit(0);
}

/* comm follows prctl(PR_SET_NAME); exe still names the real binary. */
static void test_renamed(void **state)
{
	struct proc_info *pi = malloc(sizeof(*pi));
	char fdarg[16], c;
	int p[2];

	(void)state;
	assert_non_null(pi);
	assert_int_equal(pipe(p), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(p[0]);
		snprintf(fdarg, sizeof(fdarg), "%d", p[1]);
		execl(self_exe, "test_proc", "--renamed-child", fdarg, NULL);
		_exit(127);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);

	assert_int_equal(proc_read(child, pi), 0);
	assert_string_equal(pi->comm, "renamed");
	assert_string_equal(pi->exe, self_exe);
	assert_false(pi->exe_deleted);
	assert_non_null(strstr(pi->cmdline, "--renamed-child"));
	assert_int_equal(pi->ppid, getpid());
	assert_int_equal(pi->parents[0].pid, getpid());
	assert_string_equal(pi->parents[0].exe, self_exe);
	free(pi);
}

/* A running binary unlinked from disk: marked deleted, path without the
 * suffix, hash still that of the original file. */
static void test_deleted(void **state)
{
	struct proc_info *pi = malloc(sizeof(*pi));
	char want[65], sha[65], *bin;
	size_t len;

	(void)state;
	assert_non_null(pi);
	make_tmp();
	bin = read_all("/bin/sleep", &len);
	write_file(tmp_path, bin, len);
	sha_hex(bin, len, want);
	free(bin);
	assert_int_equal(chmod(tmp_path, 0755), 0);

	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		execl(tmp_path, "rw-sleep", "60", NULL);
		_exit(127);
	}
	wait_exec(child, tmp_path);
	assert_int_equal(unlink(tmp_path), 0);

	assert_int_equal(proc_read(child, pi), 0);
	assert_string_equal(pi->exe, tmp_path);
	assert_true(pi->exe_deleted);
	assert_string_equal(pi->sha256, want);
	assert_string_equal(pi->cmdline, "rw-sleep 60");
	assert_string_equal(pi->comm, strrchr(tmp_path, '/') + 1);
	tmp_path[0] = '\0';

	/* a path that no longer exists cannot be hashed by name */
	assert_int_equal(file_sha256(pi->exe, sha), -ENOENT);
	free(pi);
}

/* Known vectors, a file spanning many read chunks, error cases. */
static void test_sha_vectors(void **state)
{
	char sha[65], want[65];
	size_t big = 300 * 1024 + 17;
	char *data = malloc(big);

	(void)state;
	assert_non_null(data);
	make_tmp();
	write_file(tmp_path, "abc", 3);
	assert_int_equal(file_sha256(tmp_path, sha), 0);
	assert_string_equal(sha, SHA_ABC);
	write_file(tmp_path, "", 0);
	assert_int_equal(file_sha256(tmp_path, sha), 0);
	assert_string_equal(sha, SHA_EMPTY);

	for (size_t i = 0; i < big; i++)
		data[i] = (char)(i * 131 + (i >> 9));
	write_file(tmp_path, data, big);
	sha_hex(data, big, want);
	assert_int_equal(file_sha256(tmp_path, sha), 0);
	assert_string_equal(sha, want);
	free(data);

	assert_int_equal(file_sha256("/nonexistent/rw-file", sha), -ENOENT);
	assert_int_equal(file_sha256("/tmp", sha), -EINVAL);
	/* a FIFO is refused, not waited on */
	assert_int_equal(unlink(tmp_path), 0);
	assert_int_equal(mkfifo(tmp_path, 0600), 0);
	assert_int_equal(file_sha256(tmp_path, sha), -EINVAL);
}

/* The cache must not return a stale digest: a rewrite of another size, and
 * a same-size rewrite with the old mtime put back (ctime still moves). */
static void test_sha_cache(void **state)
{
	struct timespec ts[2];
	struct stat st;
	char sha[65], want[65];

	(void)state;
	make_tmp();
	write_file(tmp_path, "abc", 3);
	assert_int_equal(file_sha256(tmp_path, sha), 0);
	assert_string_equal(sha, SHA_ABC);
	assert_int_equal(file_sha256(tmp_path, sha), 0);
	assert_string_equal(sha, SHA_ABC);

	write_file(tmp_path, "abcd", 4);
	sha_hex("abcd", 4, want);
	assert_int_equal(file_sha256(tmp_path, sha), 0);
	assert_string_equal(sha, want);

	assert_int_equal(stat(tmp_path, &st), 0);
	usleep(20000);
	write_file(tmp_path, "abce", 4);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, tmp_path, ts, 0), 0);
	sha_hex("abce", 4, want);
	assert_int_equal(file_sha256(tmp_path, sha), 0);
	assert_string_equal(sha, want);
}

/* The kernel-encoded device number matches what the BPF side records. */
static void test_dev_encoding(void **state)
{
	(void)state;
	assert_int_equal(dev_to_kernel(makedev(8, 1)), (8u << 20) | 1);
	assert_int_equal(dev_to_kernel(makedev(259, 0x12345)),
			 (259u << 20) | 0x12345);
	assert_int_equal(dev_to_kernel(makedev(0, 0)), 0);
}

static void fill_snap(struct rw_proc *s, const char *exe)
{
	static const char args[] = "curl\0-s\0http://example.com\0";
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->ppid = getpid();
	s->uid = getuid();
	memcpy(s->comm, "snapcomm", 8);
	snprintf(s->exe, sizeof(s->exe), "%s", exe);
	memcpy(s->args, args, sizeof(args));
	s->args_len = sizeof(args);
	if (stat(exe, &st) == 0) {
		s->exe_dev = dev_to_kernel(st.st_dev);
		s->exe_ino = st.st_ino;
	}
}

/* An exited process described by a fabricated exec-time snapshot: fields
 * copied, binary hashed only when dev/ino still match, chain from /proc. */
static void test_snapshot(void **state)
{
	struct proc_info *pi = malloc(sizeof(*pi));
	const char *root = cgroup2_root();
	struct rw_proc s;
	__u64 cgid = 0;

	(void)state;
	assert_non_null(pi);
	make_tmp();
	write_file(tmp_path, "abc", 3);
	fill_snap(&s, tmp_path);
	if (root && cgroup_id_of(root, &cgid) == 0)
		s.cgroup_id = cgid;

	assert_int_equal(proc_from_snapshot(999999, &s, pi), 0);
	assert_true(pi->from_snapshot);
	assert_int_equal(pi->pid, 999999);
	assert_int_equal(pi->ppid, getpid());
	assert_int_equal(pi->uid, getuid());
	assert_string_equal(pi->comm, "snapcomm");
	assert_string_equal(pi->exe, tmp_path);
	assert_false(pi->exe_deleted);
	assert_string_equal(pi->cmdline, "curl -s http://example.com");
	assert_string_equal(pi->sha256, SHA_ABC);
	if (cgid)
		assert_string_equal(pi->cgroup, "/");
	assert_true(pi->nr_parents >= 2);
	assert_int_equal(pi->parents[0].pid, getpid());
	assert_string_equal(pi->parents[0].exe, self_exe);
	assert_int_equal(pi->parents[pi->nr_parents - 1].pid, 1);

	/* another file now at that path (inode or device differ): no hash */
	s.exe_ino++;
	assert_int_equal(proc_from_snapshot(999999, &s, pi), 0);
	assert_string_equal(pi->sha256, "");
	assert_false(pi->exe_deleted);
	fill_snap(&s, tmp_path);
	s.exe_dev ^= 1;
	assert_int_equal(proc_from_snapshot(999999, &s, pi), 0);
	assert_string_equal(pi->sha256, "");

	/* binary gone; full 16-byte comm; args_len beyond the buffer */
	fill_snap(&s, "/nonexistent/rw-bin");
	memcpy(s.comm, "0123456789abcdef", 16);
	memset(s.args, 'a', sizeof(s.args));
	s.args_len = 1000;
	assert_int_equal(proc_from_snapshot(999999, &s, pi), 0);
	assert_true(pi->exe_deleted);
	assert_string_equal(pi->sha256, "");
	assert_string_equal(pi->comm, "0123456789abcde");
	assert_int_equal(strlen(pi->cmdline), RW_ARGS_LEN);

	/* relative exe: cwd unknown, neither hashed nor called deleted */
	fill_snap(&s, "./rw-relative");
	assert_int_equal(proc_from_snapshot(999999, &s, pi), 0);
	assert_false(pi->exe_deleted);
	assert_string_equal(pi->exe, "./rw-relative");
	assert_int_equal(proc_from_snapshot(1, NULL, pi), -EINVAL);
	free(pi);
}

/* One /proc/PID directory: status, comm, cmdline, cgroup and exe link. */
static void fake_pid(int pid, int ppid, char state, unsigned int uid,
		     const char *cg, const char *exe_target)
{
	static const char cmdline[] = "tool\0--flag\0two words\0";
	const char *names[] = { "status", "comm", "cmdline", "cgroup" };
	char p[256], status[256];
	const char *data[] = { status, "fake tool\n", cmdline, cg };
	size_t lens[] = { 0, 10, sizeof(cmdline), strlen(cg) };

	snprintf(status, sizeof(status), "Name:\tx\nState:\t%c (x)\n"
		 "PPid:\t%d\nUid:\t%u\t%u\t%u\t%u\n", state, ppid, uid,
		 uid, uid, uid);
	lens[0] = strlen(status);
	snprintf(p, sizeof(p), "%s/%d", tmp_dir, pid);
	assert_int_equal(mkdir(p, 0755), 0);
	for (int i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/%d/%s", tmp_dir, pid, names[i]);
		write_file(p, data[i], lens[i]);
	}
	snprintf(p, sizeof(p), "%s/%d/exe", tmp_dir, pid);
	assert_int_equal(symlink(exe_target, p), 0);
}

/* A fabricated /proc: " (deleted)" handling (including a file really named
 * so), container and unit from v2 and hybrid hierarchies, chain to 1. */
static void test_fake_root(void **state)
{
	struct proc_info *pi = malloc(sizeof(*pi));
	char real[128];

	(void)state;
	assert_non_null(pi);
	snprintf(tmp_dir, sizeof(tmp_dir), "/tmp/rw-proc-XXXXXX");
	assert_non_null(mkdtemp(tmp_dir));
	snprintf(real, sizeof(real), "%s/real (deleted)", tmp_dir);
	write_file(real, "abc", 3);
	fake_pid(1, 0, 'S', 0, "0::/init.scope\n", "/sbin/init");
	fake_pid(4242, 1, 'S', 4000000,
		 "0::/system.slice/docker-" CID ".scope\n",
		 "/nonexistent/bin/tool (deleted)");
	fake_pid(4343, 4242, 'R', 0, "4:memory:/docker/" CID "\n"
		 "1:name=systemd:/docker/" CID "\n"
		 "0::/system.slice/containerd.service\n", real);
	fake_pid(4545, 1, 'S', 0,
		 "1:name=systemd:/system.slice/cron.service\n0::/\n", real);
	fake_pid(4444, 1, 'Z', 0, "0::/\n", "/bin/true");
	proc_set_root(tmp_dir);

	assert_int_equal(proc_read(4242, pi), 0);
	assert_int_equal(pi->ppid, 1);
	assert_int_equal(pi->uid, 4000000);
	if (!getpwuid(4000000))
		assert_string_equal(pi->user, "4000000");
	assert_string_equal(pi->comm, "fake tool");
	assert_string_equal(pi->exe, "/nonexistent/bin/tool");
	assert_true(pi->exe_deleted);
	assert_string_equal(pi->sha256, "");
	assert_string_equal(pi->cmdline, "tool --flag two words");
	assert_string_equal(pi->cgroup, "/system.slice/docker-" CID ".scope");
	assert_string_equal(pi->container, CID);
	assert_string_equal(pi->unit, "");
	assert_int_equal(pi->nr_parents, 1);
	assert_int_equal(pi->parents[0].pid, 1);
	assert_string_equal(pi->parents[0].exe, "/sbin/init");

	assert_int_equal(proc_read(4343, pi), 0);
	assert_string_equal(pi->exe, real);
	assert_false(pi->exe_deleted);
	assert_string_equal(pi->sha256, SHA_ABC);
	assert_string_equal(pi->user, "root");
	assert_string_equal(pi->cgroup, "/system.slice/containerd.service");
	assert_string_equal(pi->unit, "containerd.service");
	assert_string_equal(pi->container, CID);  /* v1 only, hybrid host */
	assert_int_equal(pi->nr_parents, 2);
	assert_int_equal(pi->parents[0].pid, 4242);
	assert_string_equal(pi->parents[0].exe, "/nonexistent/bin/tool");
	assert_int_equal(pi->parents[1].pid, 1);

	assert_int_equal(proc_read(4545, pi), 0);
	assert_string_equal(pi->cgroup, "/");
	assert_string_equal(pi->unit, "cron.service");
	assert_string_equal(pi->container, "");

	assert_int_equal(proc_read(4444, pi), -ESRCH);
	assert_int_equal(proc_read(5555, pi), -ESRCH);
	free(pi);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_self, cleanup),
		cmocka_unit_test_teardown(test_gone, cleanup),
		cmocka_unit_test_teardown(test_renamed, cleanup),
		cmocka_unit_test_teardown(test_deleted, cleanup),
		cmocka_unit_test_teardown(test_sha_vectors, cleanup),
		cmocka_unit_test_teardown(test_sha_cache, cleanup),
		cmocka_unit_test(test_dev_encoding),
		cmocka_unit_test_teardown(test_snapshot, cleanup),
		cmocka_unit_test_teardown(test_fake_root, cleanup),
	};
	ssize_t n;

	if (argc == 3 && strcmp(argv[1], "--renamed-child") == 0)
		renamed_child(atoi(argv[2]));
	g_argc = argc;
	g_argv = argv;
	/* valgrind answers this for its client, unlike /proc/<other>/exe */
	n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	if (n <= 0)
		return 1;
	self_exe[n] = '\0';
	return cmocka_run_group_tests(tests, NULL, NULL);
}
