// SPDX-License-Identifier: MIT
/* One line per record under 80 columns, for a person watching: time,
 * what happened, who, where, which rule. The daemon's own records are
 * "# event key=value ...". */
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "output.h"
#include "proc.h"
#include "record.h"
#include "sink.h"

static const char *field(const struct record *r, const char *k)
{
	json_object *v;

	return r->extra && json_object_object_get_ex(r->extra, k, &v) ?
		       json_object_get_string(v) : "";
}

/* where a record's destination is: its name, else its address */
static const char *where(const struct record *r)
{
	return r->domain && *r->domain ? r->domain : r->daddr;
}

static void meta_line(const struct record *r, char *line, size_t len)
{
	size_t n = snprintf(line, len, "# %s", r->event);

	if (!r->extra)
		return;
	json_object_object_foreach(r->extra, k, v) {
		if (!v || n >= len)
			continue;
		n += snprintf(line + n, len - n, " %s=%s", k,
			      json_object_get_string(v));
	}
}

static void emit(struct sink *s, const struct output *o,
		 const struct record *r)
{
	const char *what = r->action ? r->action : r->event;
	bool v6 = r->has_addr && r->family && !strcmp(r->family, "ipv6");
	char ts[64], detail[200], line[320];

	if (r->kind == REC_META) {
		meta_line(r, line, sizeof(line));
		fprintf(s->f, "%.79s\n", line);
		fflush(s->f);
		return;
	}
	switch (r->kind) {
	case REC_NET:
		snprintf(detail, sizeof(detail), "%s%s%s:%u/%s %s",
			 v6 && !r->domain ? "[" : "", where(r),
			 v6 && !r->domain ? "]" : "", r->dport, r->proto,
			 r->rule ? r->rule : "");
		break;
	case REC_NAME:
		snprintf(detail, sizeof(detail), "%s %.60s %s", r->event,
			 r->domain ? r->domain : "", r->rule ? r->rule : "");
		break;
	case REC_DNS: {
		json_object *a = NULL;
		size_t n;

		json_object_object_get_ex(r->extra, "addresses", &a);
		n = a ? json_object_array_length(a) : 0;
		snprintf(detail, sizeof(detail), "%.60s -> %s%s", r->domain,
			 n ? json_object_get_string(
				     json_object_array_get_idx(a, 0)) : "",
			 n > 1 ? " ..." : "");
		what = "dns";
		break;
	}
	case REC_FLOW:
		snprintf(detail, sizeof(detail), "%.40s:%u sent %s bytes",
			 where(r), r->dport, field(r, "bytes"));
		what = "flow";
		break;
	case REC_PROC:
		snprintf(detail, sizeof(detail), "%s matches%s%.60s",
			 field(r, "matches"), r->pi ? " " : "",
			 r->pi ? r->pi->exe : "");
		break;
	case REC_KILL:
		snprintf(detail, sizeof(detail), "SIGKILL by %s %s",
			 field(r, "by"), r->rule ? r->rule : "");
		what = "killed";
		break;
	case REC_ESCAPE:
		snprintf(detail, sizeof(detail), "left the watched cgroup for "
			 "%s", field(r, "to_cgroup"));
		what = "escape";
		break;
	case REC_CRED:
		if (!field(r, "key_provider")[0])
			snprintf(detail, sizeof(detail), "%s not read: %s",
				 field(r, "where"), field(r, "error"));
		else
			snprintf(detail, sizeof(detail), "%s %s in %s %s %s",
				 field(r, "key_provider"), field(r, "key_kind"),
				 field(r, "where"), field(r, "name")[0] ?
				 field(r, "name") : field(r, "path"),
				 field(r, "display"));
		what = "credential";
		break;
	default:
		detail[0] = 0;
	}
	output_ts(o, r->ktime, ts, sizeof(ts));
	snprintf(line, sizeof(line), "%.12s %-10s %.15s[%u] %s", ts + 11,
		 what, r->comm[0] ? r->comm : "?", r->pid, detail);
	fprintf(s->f, "%.79s\n", line);
	fflush(s->f);
}

static void sink_free(struct sink *s)
{
	free(s);
}

struct sink *sink_text_new(FILE *f)
{
	struct sink *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->name = "text";
	s->emit = emit;
	s->free = sink_free;
	s->f = f;
	return s;
}
