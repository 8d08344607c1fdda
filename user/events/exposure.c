// SPDX-License-Identifier: MIT
/*
 * Which credentials a process matched to an AI relay or overseas AI API
 * held (exposure.h). Files are read through /proc/PID/root and
 * /proc/PID/cwd, so a container's own files are the ones read; never
 * through a symbolic link at the last component, never past 1 MiB. The
 * buffers that held a secret are wiped before they are freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exposure.h"
#include "intel.h"
#include "keys.h"
#include "policy.h"
#include "proc.h"
#include "../sinks/output.h"

#define FILE_MAX (1 << 20)
#define SEEN_SLOTS 4096

/* processes already looked at: pid and start time (clock ticks) */
static struct {
	__u32 pid;
	unsigned long long start;
} seen[SEEN_SLOTS];

static const char *scope;

/* the home-relative files (credential_files: true) */
static const char *const home_files[] = {
	".aws/credentials",
	".claude/.credentials.json",
	".codex/auth.json",
	".config/gcloud/application_default_credentials.json",
	NULL,
};

struct ctx {
	struct output *o;
	const struct record *about;
	const char *where, *path;
	int found;
};

/* the whole file (NUL-terminated), or NULL with errno */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	char *buf;
	ssize_t n;
	size_t got = 0;

	if (fd < 0)
		return NULL;
	buf = malloc(FILE_MAX + 1);
	while (buf && got < FILE_MAX &&
	       (n = read(fd, buf + got, FILE_MAX - got)) > 0)
		got += (size_t)n;
	close(fd);
	if (buf) {
		buf[got] = 0;
		*len = got;
	}
	return buf;
}

static void wipe_free(char *buf, size_t len)
{
	if (!buf)
		return;
	explicit_bzero(buf, len);
	free(buf);
}

static void report(struct ctx *c, const struct key_hit *h, const char *name,
		   size_t nlen, const char *error)
{
	char nm[128];
	struct cred_report r = { .hit = h, .where = c->where, .path = c->path,
				 .error = error, .scope = scope };

	if (name) {
		snprintf(nm, sizeof(nm), "%.*s", (int)nlen, name);
		r.name = nm;
	}
	record_credential(c->o, c->about, &r);
	c->found++;
}

static int on_shape(const struct key_hit *h, void *arg)
{
	report(arg, h, NULL, 0, NULL);
	return 0;
}

/* one NAME=VALUE, NAME: VALUE or "name": "value" line of text */
static void scan_line(struct ctx *c, const char *l, size_t n)
{
	const char *sep, *name = l, *v;
	size_t nlen;
	struct key_hit h;

	while (n && (*name == ' ' || *name == '\t' || *name == '"')) {
		name++;
		n--;
	}
	if (n > 7 && !strncmp(name, "export ", 7)) {
		name += 7;
		n -= 7;
	}
	sep = memchr(name, '=', n);
	if (!sep)
		sep = memchr(name, ':', n);
	if (!sep) {
		keys_scan(name, n, on_shape, c);
		return;
	}
	nlen = (size_t)(sep - name);
	while (nlen && (name[nlen - 1] == ' ' || name[nlen - 1] == '"'))
		nlen--;
	v = sep + 1;
	if (keys_named(name, nlen, v, n - (size_t)(v - name), &h))
		report(c, &h, name, nlen, NULL);
	else
		keys_scan(v, n - (size_t)(v - name), on_shape, c);
}

/* lines split at '\n', '\0' (an environment) and ',' '{' (JSON) */
static void scan_text(struct ctx *c, const char *t, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t e = i;

		while (e < len && t[e] != '\n' && t[e] != '\0' && t[e] != ',' &&
		       t[e] != '{')
			e++;
		if (e > i)
			scan_line(c, t + i, e - i);
		i = e + 1;
	}
}

/* HOME from the environment, else the user's entry */
static void home_of(const char *env, size_t len, uid_t uid, char *out,
		    size_t outlen)
{
	struct passwd pw, *res = NULL;
	char buf[2048];

	out[0] = 0;
	for (size_t i = 0; i < len; i += strlen(env + i) + 1)
		if (!strncmp(env + i, "HOME=", 5) && env[i + 5] == '/') {
			snprintf(out, outlen, "%s", env + i + 5);
			return;
		}
	if (!getpwuid_r(uid, &pw, buf, sizeof(buf), &res) && res)
		snprintf(out, outlen, "%s", pw.pw_dir);
}

static void scan_file(struct ctx *c, __u32 pid, const char *shown,
		      const char *in_proc)
{
	char path[PATH_MAX + 192];
	size_t len;
	char *t;

	snprintf(path, sizeof(path), "/proc/%u/%s", pid, in_proc);
	t = slurp(path, &len);
	if (!t) {
		if (errno != ENOENT && errno != ENOTDIR) {
			c->path = shown;
			report(c, NULL, NULL, 0, strerror(errno));
		}
		return;
	}
	c->path = shown;
	scan_text(c, t, len);
	wipe_free(t, len);
}

static void scan_files(struct ctx *c, __u32 pid, const char *env,
		       size_t envlen, uid_t uid)
{
	char home[PATH_MAX], shown[PATH_MAX + 64], rel[PATH_MAX + 128];

	c->where = "file";
	home_of(env, envlen, uid, home, sizeof(home));
	for (int i = 0; home[0] && home_files[i]; i++) {
		snprintf(shown, sizeof(shown), "%s/%s", home, home_files[i]);
		snprintf(rel, sizeof(rel), "root%s", shown);
		scan_file(c, pid, shown, rel);
	}
	scan_file(c, pid, "$CWD/.env", "cwd/.env");
}

static bool first_look(__u32 pid, unsigned long long start)
{
	unsigned slot = (pid * 2654435761u) % SEEN_SLOTS;

	if (seen[slot].pid == pid && seen[slot].start == start)
		return false;
	seen[slot].pid = pid;
	seen[slot].start = start;
	return true;
}

const char *exposure_policy(const struct policy *p)
{
	return scope = keys_set_site_key(p ? p->fingerprint_key : NULL);
}

void exposure_check(struct output *o, const struct record *r)
{
	const struct policy *p = o->policy[o->gen % RW_GENS];
	const struct proc_info *pi = r->pi;
	struct ctx c = { .o = o, .about = r };
	unsigned long long start;
	char path[64];
	size_t envlen = 0;
	char *env;

	if (!pi || !r->pid || (r->dest.category != INTEL_CAT_AI_RELAY &&
			       r->dest.category != INTEL_CAT_AI_OVERSEAS))
		return;
	if (proc_stat(r->pid, NULL, &start))
		start = 0; /* gone: the environment read below says so */
	if (!first_look(r->pid, start))
		return;
	c.where = "cmdline";
	for (int i = 0; i < pi->nr_cmdline_keys; i++)
		report(&c, &pi->cmdline_keys[i], NULL, 0, NULL);
	c.where = "env";
	snprintf(path, sizeof(path), "/proc/%u/environ", r->pid);
	env = slurp(path, &envlen);
	if (!env || !envlen) {
		/* a process that has exited reads empty: not "no key" */
		report(&c, NULL, NULL, 0, !env && errno != ENOENT &&
		       errno != ESRCH ? strerror(errno) : "the process exited "
		       "before its environment was read");
		wipe_free(env, envlen);
		return;
	}
	scan_text(&c, env, envlen);
	if (p && p->credential_files)
		scan_files(&c, r->pid, env, envlen, pi->uid);
	wipe_free(env, envlen);
}

static const char *const header_names[] = {
	"authorization", "x-api-key", "api-key", "x-goog-api-key",
};

/* a key already said for this process: its fingerprint, per slot */
static struct {
	__u32 pid;
	char fingerprint[40];
} wire_seen[SEEN_SLOTS];

void exposure_wire(struct output *o, const struct record *r,
		   const char *key, size_t len, int header)
{
	struct ctx c = { .o = o, .about = r, .where = "wire" };
	const char *hname = header >= 0 && header < 4 ? header_names[header] :
			    "authorization";
	struct key_hit h;
	unsigned slot;

	if (!len || !r->pid || (r->dest.category != INTEL_CAT_AI_RELAY &&
				r->dest.category != INTEL_CAT_AI_OVERSEAS))
		return;
	keys_value(key, len, "token in a request header", &h);
	slot = ((r->pid * 2654435761u) ^ (unsigned)h.fingerprint[20]) %
	       SEEN_SLOTS;
	if (wire_seen[slot].pid == r->pid &&
	    !strcmp(wire_seen[slot].fingerprint, h.fingerprint))
		return;
	wire_seen[slot].pid = r->pid;
	memcpy(wire_seen[slot].fingerprint, h.fingerprint,
	       sizeof(h.fingerprint));
	report(&c, &h, hname, strlen(hname), NULL);
}
