// SPDX-License-Identifier: MIT
/*
 * The report's reading and aggregation. A line is parsed by one reused
 * json-c tokener, its fields read in place, and the record added to the
 * totals and to its binary, user and workload; then it is dropped. A
 * line that is not a whole JSON object with an event and a ts is named
 * (file:line) and counted, never guessed at.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "report.h"

#define NS 1000000000LL

const char *const rep_action_names[RA_N] = {
	"allow", "alert", "deny", "kill", "would_deny", "would_kill", "none",
	"other",
};

/* what a record is for the report */
enum rec_kind { K_META, K_CONNECT, K_EXISTING, K_NAME, K_DNS, K_FLOW,
		K_EXIT, K_KILL, K_CRED, K_PROC };

struct rec {
	enum rec_kind kind;
	__s64 ts, first, last;
	int action;		/* -1: none */
	__u64 w;		/* connects it stands for: 1 + suppressed */
	__u64 bytes, flows, packets;
	const char *rule, *category, *provider, *country, *daddr, *domain;
	long dport;
	json_object *o;
};

int report_init(struct report *r)
{
	memset(r, 0, sizeof(*r));
	rtab_init(&r->events, sizeof(__u64));
	rtab_init(&r->total.dests, sizeof(struct rep_dest));
	rtab_init(&r->total.countries, sizeof(__u64));
	rtab_init(&r->bins, sizeof(struct rep_group));
	rtab_init(&r->users, sizeof(struct rep_group));
	rtab_init(&r->works, sizeof(struct rep_group));
	rtab_init(&r->blocked, sizeof(__u64));
	r->tok = json_tokener_new();
	r->pids = calloc(REP_PIDS, sizeof(*r->pids));
	return r->tok && r->pids ? 0 : -ENOMEM;
}

static void group_free(void *v)
{
	struct rep_group *g = v;

	rtab_free(&g->s.dests, NULL);
	rtab_free(&g->s.countries, NULL);
	rtab_free(&g->creds, NULL);
}

void report_free(struct report *r)
{
	rtab_free(&r->events, NULL);
	rtab_free(&r->total.dests, NULL);
	rtab_free(&r->total.countries, NULL);
	rtab_free(&r->bins, group_free);
	rtab_free(&r->users, group_free);
	rtab_free(&r->works, group_free);
	rtab_free(&r->blocked, NULL);
	for (size_t i = 0; i < r->nr_bad_kept; i++)
		free(r->bad[i].where);
	free(r->bad);
	for (size_t i = 0; r->pids && i < REP_PIDS; i++) {
		free(r->pids[i].bin);
		free(r->pids[i].user);
		free(r->pids[i].work);
	}
	free(r->pids);
	if (r->tok)
		json_tokener_free(r->tok);
}

static void bad_line(struct report *r, const char *file, __u64 lineno,
		     const char *why)
{
	r->nr_bad++;
	if (r->nr_bad_kept == REP_BAD_KEPT)
		return;
	if (r->nr_bad_kept == r->bad_cap) {
		size_t cap = r->bad_cap ? 2 * r->bad_cap : 16;
		struct rep_bad *b = realloc(r->bad, cap * sizeof(*b));

		if (!b)
			return;
		r->bad = b;
		r->bad_cap = cap;
	}
	if (asprintf(&r->bad[r->nr_bad_kept].where, "%s:%llu", file,
		     (unsigned long long)lineno) < 0)
		return;
	r->bad[r->nr_bad_kept++].why = why;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static __s64 num(json_object *o, const char *k, bool *has)
{
	json_object *v;
	bool ok = json_object_object_get_ex(o, k, &v) &&
		  json_object_is_type(v, json_type_int);

	if (has)
		*has = ok;
	return ok ? json_object_get_int64(v) : 0;
}

static enum rec_kind kind_of(const char *ev, json_object *o)
{
	static const struct { const char *name; enum rec_kind kind; } k[] = {
		{ "connect", K_CONNECT }, { "sendmsg", K_CONNECT },
		{ "existing", K_EXISTING }, { "tls", K_NAME },
		{ "http", K_NAME }, { "proxy", K_NAME }, { "dns", K_DNS },
		{ "flow", K_FLOW }, { "exit", K_EXIT }, { "kill", K_KILL },
		{ "credential", K_CRED }, { "exec", K_PROC },
		{ "cgroup_escape", K_PROC }, { "rate_limited", K_PROC },
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (!strcmp(ev, k[i].name))
			return k[i].kind;
	/* an event of a later version: a process's when it names one */
	return json_object_object_get_ex(o, "pid", NULL) ? K_PROC : K_META;
}

static int action_of(const char *a)
{
	if (!a)
		return -1;
	for (int i = 0; i < RA_OTHER; i++)
		if (!strcmp(a, rep_action_names[i]))
			return i;
	return RA_OTHER;
}

static bool decision(const struct rec *x)
{
	return x->action >= 0 && (x->kind == K_CONNECT ||
				  x->kind == K_EXISTING || x->kind == K_NAME);
}

static bool blocking(int a)
{
	return a == RA_DENY || a == RA_KILL || a == RA_WOULD_DENY ||
	       a == RA_WOULD_KILL;
}

const char *const rep_cred_fields[REP_CRED_N] = {
	"key_provider", "key_kind", "where", "display", "fingerprint",
	"destination", "action",
};

/* a credential record (README, Credential exposure): the matched
 * record's destination and action, where the key was (env NAME, file
 * PATH, cmdline), whose it is, its display form and keyed fingerprint;
 * never the secret, which no record holds */
static void cred_key(const struct rec *x, char *buf, size_t len)
{
	const char *err = str(x->o, "error"), *kp = str(x->o, "key_provider");
	const char *kk = str(x->o, "key_kind"), *where = str(x->o, "where");
	const char *name = str(x->o, "name"), *path = str(x->o, "path");
	const char *disp = str(x->o, "display");
	const char *fp = str(x->o, "fingerprint");
	char dest[512];

	if (x->domain)
		snprintf(dest, sizeof(dest), "%s", x->domain);
	else
		snprintf(dest, sizeof(dest), "%s:%ld",
			 x->daddr ? x->daddr : "-", x->dport);
	if (x->category)
		snprintf(dest + strlen(dest), sizeof(dest) - strlen(dest),
			 " (%s)", x->category);
	snprintf(buf, len, "%s\t%s\t%s%s%s\t%s\t%s\t%s\t%s",
		 err ? "(not inspected)" : kp ? kp : "-",
		 err ? err : kk ? kk : "-", where ? where : "-",
		 name || path ? " " : "", name ? name : path ? path : "",
		 disp ? disp : "-", fp ? fp : "-", dest,
		 x->action >= 0 ? rep_action_names[x->action] : "-");
}

static void add_stats(struct rep_stats *s, const struct rec *x)
{
	char key[512];
	struct rep_dest *d = NULL;
	__u64 *c;

	s->records++;
	if (!s->first_ns || x->ts < s->first_ns)
		s->first_ns = x->ts;
	if (x->ts > s->last_ns)
		s->last_ns = x->ts;
	/* a flow opened before the record that closes it was written */
	if (x->first && x->first < s->first_ns)
		s->first_ns = x->first;
	if (decision(x))
		s->actions[x->action] += x->w;
	if (x->kind == K_CONNECT || x->kind == K_EXISTING ||
	    x->kind == K_NAME || x->kind == K_FLOW) {
		snprintf(key, sizeof(key), "%s\t%s",
			 x->category ? x->category : "unlisted",
			 x->provider ? x->provider : "-");
		d = rtab_get(&s->dests, key);
	}
	switch (x->kind) {
	case K_CONNECT:
	case K_EXISTING:
		if (x->kind == K_CONNECT)
			s->connects += x->w;
		else
			s->existing++;
		if (d && x->kind == K_CONNECT)
			d->connects += x->w;
		c = rtab_get(&s->countries,
			     x->country ? x->country : "unknown");
		if (c)
			*c += x->w;
		break;
	case K_NAME:
		s->names++;
		if (d)
			d->names++;
		break;
	case K_FLOW:
		s->flows += x->flows;
		s->bytes += x->bytes;
		s->packets += x->packets;
		if (d) {
			d->flows += x->flows;
			d->bytes += x->bytes;
		}
		break;
	case K_DNS: s->dns++; break;
	case K_EXIT: s->exits++; break;
	case K_KILL: s->kills++; break;
	case K_CRED:
		if (str(x->o, "error"))
			s->cred_errors++;
		else
			s->credentials++;
		break;
	default: break;
	}
}

static struct rep_group *group(struct rtab *t, const char *key)
{
	struct rep_group *g = rtab_get(t, key);

	if (g && !g->s.dests.vsize) {
		rtab_init(&g->s.dests, sizeof(struct rep_dest));
		rtab_init(&g->s.countries, sizeof(__u64));
		rtab_init(&g->creds, sizeof(__u64));
	}
	return g;
}

/*
 * A record without attribution (the process had gone before the daemon
 * read /proc: a kill record, typically) is credited to what the same pid
 * on the same host with the same comm last ran, within a minute; a kill
 * then counts for the binary it killed. Bounded: one slot per pid modulo
 * REP_PIDS, the newest wins.
 */
static struct rep_pid *pid_slot(struct report *r, const struct rec *x,
				__u32 *pid, const char **comm,
				const char **host)
{
	bool has;

	*pid = num(x->o, "pid", &has);
	*comm = str(x->o, "comm");
	*host = str(x->o, "host");
	if (!has || !*pid || !r->pids)
		return NULL;
	return &r->pids[*pid % REP_PIDS];
}

static bool pid_match(const struct rep_pid *p, __u32 pid, const char *comm,
		      const char *host, __s64 ts)
{
	return p && p->bin && p->pid == pid && ts - p->ts <= 60 * NS &&
	       p->ts - ts <= 60 * NS && !strcmp(p->comm, comm ? comm : "") &&
	       !strcmp(p->host, host ? host : "");
}

static void pid_keep(struct rep_pid *p, __u32 pid, const char *comm,
		     const char *host, __s64 ts, const char *bin,
		     const char *user, const char *work)
{
	if (!p->bin || p->pid != pid || strcmp(p->bin, bin) ||
	    strcmp(p->user, user) || strcmp(p->work, work)) {
		free(p->bin);
		free(p->user);
		free(p->work);
		p->bin = strdup(bin);
		p->user = strdup(user);
		p->work = strdup(work);
		if (!p->bin || !p->user || !p->work) {
			free(p->bin);
			free(p->user);
			free(p->work);
			p->bin = p->user = p->work = NULL;
			return;
		}
	}
	p->pid = pid;
	p->ts = ts;
	snprintf(p->comm, sizeof(p->comm), "%s", comm ? comm : "");
	snprintf(p->host, sizeof(p->host), "%s", host ? host : "");
}

static void add_process(struct report *r, const struct rec *x)
{
	const char *exe = str(x->o, "exe"), *sha = str(x->o, "sha256");
	const char *user = str(x->o, "user"), *v, *comm, *host;
	char bkey[4096 + 128], ukey[256], wkey[4096 + 16], key[8192 + 512];
	struct rep_group *g;
	struct rep_pid *p;
	__u32 pid;
	__s64 uid;
	bool has;
	__u64 *c;

	add_stats(&r->total, x);
	snprintf(bkey, sizeof(bkey), "%s\t%s", exe ? exe : "(unattributed)",
		 sha ? sha : "-");
	uid = num(x->o, "uid", &has);
	if (user)
		snprintf(ukey, sizeof(ukey), "%s", user);
	else if (has)
		snprintf(ukey, sizeof(ukey), "uid %lld", (long long)uid);
	else
		snprintf(ukey, sizeof(ukey), "(unknown)");
	if ((v = str(x->o, "container")))
		snprintf(wkey, sizeof(wkey), "container:%s", v);
	else if ((v = str(x->o, "unit")))
		snprintf(wkey, sizeof(wkey), "unit:%s", v);
	else if ((v = str(x->o, "cgroup")))
		snprintf(wkey, sizeof(wkey), "cgroup:%s", v);
	else
		snprintf(wkey, sizeof(wkey), "(none)");
	p = pid_slot(r, x, &pid, &comm, &host);
	if (exe && p) {
		pid_keep(p, pid, comm, host, x->ts, bkey, ukey, wkey);
	} else if (!exe && pid_match(p, pid, comm, host, x->ts)) {
		snprintf(bkey, sizeof(bkey), "%s", p->bin);
		snprintf(ukey, sizeof(ukey), "%s", p->user);
		snprintf(wkey, sizeof(wkey), "%s", p->work);
		r->by_pid++;
	}
	g = group(&r->bins, bkey);
	if (g) {
		add_stats(&g->s, x);
		report_tl_add(r, g, x->ts, x->w,
			      decision(x) && blocking(x->action));
		if (x->kind == K_CRED) {
			cred_key(x, key, sizeof(key));
			if ((c = rtab_get(&g->creds, key)))
				(*c)++;
		}
	}
	if ((g = group(&r->users, ukey)))
		add_stats(&g->s, x);
	if ((g = group(&r->works, wkey)))
		add_stats(&g->s, x);
	if (decision(x) && blocking(x->action)) {
		snprintf(key, sizeof(key), "%s\t%s\t%s\t%s:%ld\t%s",
			 rep_action_names[x->action], x->rule ? x->rule : "-",
			 bkey, x->daddr ? x->daddr : "-", x->dport,
			 x->domain ? x->domain : "-");
		if ((c = rtab_get(&r->blocked, key)))
			*c += x->w;
	}
}

void report_line(struct report *r, const char *line, size_t len,
		 const char *file, __u64 lineno)
{
	enum json_tokener_error err;
	struct rec x = { .action = -1 };
	const char *ev, *ts, *t;
	json_object *o;
	__u64 *c;
	size_t i;

	r->lines++;
	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' ||
				line[i] == '\r'); i++)
		;
	if (i == len)
		return;	/* a blank line is no record */
	json_tokener_reset(r->tok);
	o = json_tokener_parse_ex(r->tok, line, len);
	err = json_tokener_get_error(r->tok);
	if (!o) {
		bad_line(r, file, lineno, err == json_tokener_continue ?
			 "truncated JSON" : "not JSON");
		return;
	}
	for (i = json_tokener_get_parse_end(r->tok); i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			break;
	if (i < len || !json_object_is_type(o, json_type_object)) {
		bad_line(r, file, lineno, i < len ? "more after the JSON object"
			 : "not a JSON object");
		goto out;
	}
	ev = str(o, "event");
	ts = str(o, "ts");
	/* (a relative time parses against 0: before the epoch, refused) */
	if (!ev || !ts || report_parse_time(ts, 0, &x.ts) || x.ts <= 0) {
		bad_line(r, file, lineno, "no event or ts");
		goto out;
	}
	r->records++;
	if ((r->since_ns && x.ts < r->since_ns) ||
	    (r->until_ns && x.ts > r->until_ns)) {
		r->filtered++;
		goto out;
	}
	if ((c = rtab_get(&r->events, ev)))
		(*c)++;
	x.kind = kind_of(ev, o);
	if (x.kind == K_META) {
		r->meta++;
		goto out;
	}
	x.o = o;
	x.action = action_of(str(o, "action"));
	x.w = 1;
	if (x.kind == K_CONNECT && num(o, "suppressed", NULL) > 0)
		x.w += num(o, "suppressed", NULL);
	x.rule = str(o, "rule");
	x.category = str(o, "category");
	x.provider = str(o, "provider");
	x.country = str(o, "country");
	x.daddr = str(o, "daddr");
	x.domain = str(o, "domain");
	x.dport = num(o, "dport", NULL);
	if (x.kind == K_FLOW) {
		x.bytes = num(o, "bytes", NULL);
		x.flows = num(o, "flows", NULL);
		x.packets = num(o, "packets", NULL);
		if ((t = str(o, "first_seen")) &&
		    report_parse_time(t, 0, &x.first))
			x.first = 0;
	}
	add_process(r, &x);
out:
	json_object_put(o);
}

int report_read_file(struct report *r, const char *path)
{
	size_t cap = 1 << 16, len;
	__u64 lineno = 0;
	struct stat st;
	char *buf;
	gzFile gz;
	int ret = 0, e;

	if (stat(path, &st))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	/* gzip or not: zlib reads a plain file through unchanged */
	gz = gzopen(path, "rb");
	if (!gz)
		return errno ? -errno : -ENOMEM;
	gzbuffer(gz, 1 << 17);
	buf = malloc(cap);
	if (!buf) {
		gzclose(gz);
		return -ENOMEM;
	}
	while (gzgets(gz, buf, cap)) {
		len = strlen(buf);
		/* a line longer than the buffer: read on into a bigger one */
		while (len == cap - 1 && buf[len - 1] != '\n') {
			char *b = realloc(buf, 2 * cap);

			if (!b) {
				ret = -ENOMEM;
				goto out;
			}
			buf = b;
			cap *= 2;
			if (!gzgets(gz, buf + len, cap - len))
				break;
			len += strlen(buf + len);
		}
		r->bytes_read += len;
		if (len && buf[len - 1] == '\n')
			len--;
		report_line(r, buf, len, path, ++lineno);
	}
	gzerror(gz, &e);
	if (e != Z_OK && e != Z_BUF_ERROR)
		ret = e == Z_ERRNO ? -errno : -EIO;
out:
	free(buf);
	gzclose(gz);
	return ret;
}
