// SPDX-License-Identifier: MIT
/*
 * One line per connection, for a person watching (trace's view): what
 * happened, who, where, which rule, the binary. A connect line waits up
 * to HOLD_NS for its flow to close, so the bytes it sent join the line
 * instead of making another; later lines wait behind it, so the order
 * stays. A flow or exit line is written only when it adds something
 * (bytes not said yet, folded flows, a signal). Lines are whole when
 * the output is not a terminal; on a terminal a line too wide loses
 * the left of the binary's path ("…/bin/curl"), never its end. The
 * daemon's own records are "# event key=value ...".
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "output.h"
#include "proc.h"
#include "record.h"
#include "sink.h"
#include "textfit.h"
#include "util.h"

#define HOLD_NS (500 * 1000000ULL) /* a connect waits this for its flow */
#define HOLD_MAX 256               /* lines waiting, at most */

struct line {
	char head[64];       /* [time ]what comm[pid] */
	char detail[2048];
	char *exe;           /* NULL: none */
	__u64 cookie;        /* waiting for this socket's flow; 0 not */
	__u64 deadline;      /* mono ns it is written by, at the latest */
	bool meta;           /* "# ..." (no exe; cut on a terminal) */
};

struct text_sink {
	struct sink s;       /* first: a struct sink * is a text_sink * */
	int tty;             /* -1 not known yet */
	int fd;              /* under s.f: the terminal's, for its width */
	unsigned head, n;    /* the queue of lines not written yet */
	struct line q[HOLD_MAX];
};

static const char *field(const struct record *r, const char *k)
{
	json_object *v;

	return r->extra && json_object_object_get_ex(r->extra, k, &v) ?
		       json_object_get_string(v) : "";
}

static long long num(const struct record *r, const char *k)
{
	return atoll(field(r, k));
}

/* where a record's destination is: its name, else its address */
static const char *where(const struct record *r)
{
	return r->domain && *r->domain ? r->domain : r->daddr;
}

/* the terminal's width: the window's, else $COLUMNS, else 80 */
static int columns(int fd)
{
	struct winsize ws;
	const char *c = getenv("COLUMNS");

	if (!ioctl(fd, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		return ws.ws_col;
	if (c && atoi(c) > 0)
		return atoi(c);
	return 80;
}

static void put(struct text_sink *t, const struct line *l)
{
	int cols = t->tty > 0 ? columns(t->fd) : 0;
	char buf[4096];
	int n;

	n = snprintf(buf, sizeof(buf), l->meta ? "%s%s" : "%s %s", l->head,
		     l->detail);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (l->meta) {
		if (cols && n > cols)
			fprintf(t->s.f, "%.*s…\n", cols - 1, buf);
		else
			fprintf(t->s.f, "%s\n", buf);
		return;
	}
	if (l->exe && *l->exe)
		fprintf(t->s.f, "%s %s\n", buf,
			cols ? textfit_path(l->exe, cols - n - 1) : l->exe);
	else
		fprintf(t->s.f, "%s\n", buf);
}

static void pop(struct text_sink *t)
{
	struct line *l = &t->q[t->head];

	put(t, l);
	free(l->exe);
	l->exe = NULL;
	t->head = (t->head + 1) % HOLD_MAX;
	t->n--;
}

/* writes the lines no longer waiting, in order; all: every line */
static void flush(struct text_sink *t, bool all)
{
	__u64 now = mono_ns();

	while (t->n) {
		struct line *l = &t->q[t->head];

		if (!all && l->cookie && l->deadline > now)
			break;
		pop(t);
	}
	fflush(t->s.f);
}

static struct line *push(struct text_sink *t)
{
	struct line *l;

	if (t->n == HOLD_MAX)
		pop(t);
	l = &t->q[(t->head + t->n++) % HOLD_MAX];
	memset(l, 0, sizeof(*l));
	return l;
}

/* the connect line waiting for this socket's flow, or NULL */
static struct line *waiting(struct text_sink *t, __u64 cookie)
{
	for (unsigned i = 0; cookie && i < t->n; i++) {
		struct line *l = &t->q[(t->head + i) % HOLD_MAX];

		if (l->cookie == cookie)
			return l;
	}
	return NULL;
}

static void append(struct line *l, const char *fmt, long long v)
{
	size_t n = strlen(l->detail);

	snprintf(l->detail + n, sizeof(l->detail) - n, fmt, v);
}

/* a flow: into its connect line when that still waits; else a line
 * of its own only when it says something new. true: nothing to write */
static bool merge_flow(struct text_sink *t, const struct record *r)
{
	struct line *l = waiting(t, r->cookie);
	long long bytes = num(r, "bytes"), flows = num(r, "flows");

	if (l && flows <= 1) {
		if (bytes > 0)
			append(l, " sent %lld B", bytes);
		l->cookie = 0;
		return true;
	}
	return bytes <= 0 && flows <= 1;
}

static void meta_line(const struct record *r, struct line *l)
{
	size_t n;

	snprintf(l->head, sizeof(l->head), "# %s", r->event);
	l->meta = true;
	if (!r->extra)
		return;
	n = 0;
	json_object_object_foreach(r->extra, k, v) {
		if (!v || n >= sizeof(l->detail))
			continue;
		n += snprintf(l->detail + n, sizeof(l->detail) - n, " %s=%s",
			      k, json_object_get_string(v));
	}
}

/* the detail of an event line; what: its first word. false: the line
 * adds nothing and is not written */
static bool detail(const struct record *r, const char **what, char *d,
		   size_t len)
{
	bool v6 = r->has_addr && r->family && !strcmp(r->family, "ipv6");

	switch (r->kind) {
	case REC_NET:
		snprintf(d, len, "%s%s%s:%u/%s %s", v6 && !r->domain ? "[" : "",
			 where(r), v6 && !r->domain ? "]" : "", r->dport,
			 r->proto, r->rule ? r->rule : "");
		if (r->suppressed > 0)
			snprintf(d + strlen(d), len - strlen(d),
				 " (+%lld folded)", r->suppressed);
		return true;
	case REC_NAME:
		snprintf(d, len, "%s %.200s %s", r->event,
			 r->domain ? r->domain : "", r->rule ? r->rule : "");
		return true;
	case REC_DNS: {
		json_object *a = NULL;
		size_t n;

		json_object_object_get_ex(r->extra, "addresses", &a);
		n = a ? json_object_array_length(a) : 0;
		snprintf(d, len, "%.200s -> %s%s", r->domain,
			 n ? json_object_get_string(
				     json_object_array_get_idx(a, 0)) : "",
			 n > 1 ? " ..." : "");
		*what = "dns";
		return true;
	}
	case REC_FLOW:
		snprintf(d, len, "%.200s:%u sent %s B", where(r), r->dport,
			 field(r, "bytes"));
		if (num(r, "flows") > 1)
			snprintf(d + strlen(d), len - strlen(d), " in %s flows",
				 field(r, "flows"));
		*what = "flow";
		return true;
	case REC_PROC:
		if (!strcmp(r->event, "exit")) {
			/* an exit says something only when a signal ended it */
			if (num(r, "signal") == 0)
				return false;
			snprintf(d, len, "signal %s, %s matches, sent %s B",
				 field(r, "signal"), field(r, "matches"),
				 field(r, "bytes_sent"));
		} else if (!strcmp(r->event, "rate_limited")) {
			snprintf(d, len, "%s records not written",
				 field(r, "not_written"));
		} else {
			snprintf(d, len, "%s matches", field(r, "matches"));
		}
		return true;
	case REC_KILL:
		snprintf(d, len, "SIGKILL by %s %s", field(r, "by"),
			 r->rule ? r->rule : "");
		*what = "killed";
		return true;
	case REC_ESCAPE:
		snprintf(d, len, "left the watched cgroup for %s",
			 field(r, "to_cgroup"));
		*what = "escape";
		return true;
	case REC_CRED:
		if (!field(r, "key_provider")[0])
			snprintf(d, len, "%s not read: %s", field(r, "where"),
				 field(r, "error"));
		else
			snprintf(d, len, "%s %s in %s %s %s",
				 field(r, "key_provider"), field(r, "key_kind"),
				 field(r, "where"), field(r, "name")[0] ?
				 field(r, "name") : field(r, "path"),
				 field(r, "display"));
		*what = "credential";
		return true;
	default:
		d[0] = 0;
		return true;
	}
}

static void emit(struct sink *s, const struct output *o,
		 const struct record *r)
{
	struct text_sink *t = (struct text_sink *)s;
	const char *what = r->action ? r->action : r->event;
	char d[sizeof(((struct line *)0)->detail)], ts[16] = "";
	struct line *l;

	if (t->tty < 0) {
		/* the stream may be a cookie stream: ask its descriptor */
		t->fd = o->text_fd >= 0 ? o->text_fd : fileno(s->f);
		t->tty = t->fd >= 0 && isatty(t->fd);
	}
	if (r->kind == REC_META) {
		meta_line(r, push(t));
		flush(t, false);
		return;
	}
	if (r->kind == REC_FLOW && merge_flow(t, r)) {
		flush(t, false);
		return;
	}
	if (!detail(r, &what, d, sizeof(d)))
		return;
	if (o->text_time) {
		__s64 ns = (__s64)(r->ktime ?: boot_ns()) + o->boot_to_real_ns;
		time_t sec = ns / 1000000000LL;
		struct tm tm;

		localtime_r(&sec, &tm);
		strftime(ts, sizeof(ts), "%H:%M:%S ", &tm);
	}
	l = push(t);
	snprintf(l->head, sizeof(l->head), "%s%-10s %.15s[%u]", ts, what,
		 r->comm[0] ? r->comm : "?", r->pid);
	snprintf(l->detail, sizeof(l->detail), "%s", d);
	if (r->pi && r->pi->exe[0])
		l->exe = strdup(r->pi->exe);
	/* a TCP connect waits a little for its flow's bytes */
	if (r->kind == REC_NET && !strcmp(r->event, "connect") &&
	    r->proto && !strcmp(r->proto, "tcp") && r->cookie) {
		l->cookie = r->cookie;
		l->deadline = mono_ns() + HOLD_NS;
	}
	flush(t, false);
}

static void tick(struct sink *s, bool all)
{
	flush((struct text_sink *)s, all);
}

static void sink_free(struct sink *s)
{
	struct text_sink *t = (struct text_sink *)s;

	flush(t, true);
	free(t);
}

struct sink *sink_text_new(FILE *f)
{
	struct text_sink *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->s.name = "text";
	t->s.emit = emit;
	t->s.tick = tick;
	t->s.free = sink_free;
	t->s.f = f;
	t->tty = -1;
	return &t->s;
}
