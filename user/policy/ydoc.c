// SPDX-License-Identifier: MIT
/*
 * YAML document helpers shared by the policy and intel loaders: loading
 * with precise syntax errors, messages at a node, field tables, and the
 * scalar checks both file formats need.
 */
#include "ydoc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cidr.h"
#include "util.h"


int str_index(const char *const *names, int from, int to, const char *s)
{
	for (int i = from; i < to; i++)
		if (names[i] && !strcmp(names[i], s))
			return i;
	return -1;
}

bool str_printable(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return n && n <= max;
}

int ydoc_err_at(struct ydoc *d, yaml_mark_t m, const char *fmt, ...)
{
	char line[512], *s;
	size_t used;
	va_list ap;
	int n;

	if (!d->err || !d->errlen)
		return -EINVAL;
	n = snprintf(line, sizeof(line), "%s:%zu:%zu: ", d->name, m.line + 1,
		     m.column + 1);
	if (n >= 0 && (size_t)n < sizeof(line)) {
		va_start(ap, fmt);
		vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
		va_end(ap);
	}
	/* quoted keys and values may hold "\n": keep the message one line */
	for (s = line; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	/* collecting (ydoc_collect): one line more, when it fits whole */
	used = d->collect ? strlen(d->err) : 0;
	if (used && used + 1 + strlen(line) >= d->errlen) {
		d->dropped++;
		return -EINVAL;
	}
	snprintf(d->err + used, d->errlen - used, "%s%s", used ? "\n" : "",
		 line);
	d->nr_errors++;
	return -EINVAL;
}

int ydoc_nomem(struct ydoc *d)
{
	if (d->err && d->errlen)
		snprintf(d->err, d->errlen, "%s: out of memory", d->name);
	return -ENOMEM;
}

yaml_node_t *ydoc_node(struct ydoc *d, int id)
{
	return yaml_document_get_node(&d->doc, id);
}

yaml_node_t *ydoc_root(struct ydoc *d)
{
	return yaml_document_get_root_node(&d->doc);
}

bool ydoc_is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       str_index(nulls, 0, ARRAY_SIZE(nulls), ydoc_str(n)) >= 0;
}

static int syntax_error(struct ydoc *d, const char *text, size_t len);
static int count_aliases(struct ydoc *d, const char *text, size_t len);

int ydoc_stream_begin(struct ydoc *d, const char *text, size_t len)
{
	yaml_event_t ev;
	int ret;

	if (d->err && d->errlen)
		d->err[0] = '\0';
	ret = count_aliases(d, text, len);
	if (ret)
		return ret;
	d->text = text ? text : "";
	d->len = len;
	if (!yaml_parser_initialize(&d->parser))
		return ydoc_nomem(d);
	yaml_parser_set_input_string(&d->parser,
				     (const unsigned char *)d->text, len);
	ret = ydoc_stream_event(d, &ev);	/* STREAM-START */
	if (ret)
		return ret;
	yaml_event_delete(&ev);
	return 0;
}

int ydoc_stream_event(struct ydoc *d, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&d->parser, ev))
		return syntax_error(d, d->text, d->len);
	return 0;
}

/* a node and everything in it, from its first event (taken, and freed
 * here) into doc; its id in *id */
static int stream_node(struct ydoc *d, yaml_event_t *ev, yaml_document_t *doc,
		       int *id, int depth)
{
	yaml_event_t next;
	yaml_mark_t start = ev->start_mark;
	yaml_event_type_t end;
	int ret = 0, child, key;

	if (depth > YDOC_MAX_DEPTH) {
		yaml_event_delete(ev);
		return ydoc_err_at(d, start, "nested more than %d levels",
				   YDOC_MAX_DEPTH);
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		*id = yaml_document_add_scalar(doc, NULL,
			ev->data.scalar.value, (int)ev->data.scalar.length,
			ev->data.scalar.style);
		break;
	case YAML_SEQUENCE_START_EVENT:
		*id = yaml_document_add_sequence(doc, NULL,
						 ev->data.sequence_start.style);
		break;
	case YAML_MAPPING_START_EVENT:
		*id = yaml_document_add_mapping(doc, NULL,
						ev->data.mapping_start.style);
		break;
	case YAML_ALIAS_EVENT:
		ret = ydoc_err_at(d, start, "an alias (*%.32s) here: write "
				  "the entry out", ev->data.alias.anchor);
		yaml_event_delete(ev);
		return ret;
	default:
		yaml_event_delete(ev);
		return ydoc_err_at(d, start, "unexpected YAML here");
	}
	end = ev->type == YAML_SEQUENCE_START_EVENT ? YAML_SEQUENCE_END_EVENT :
	      ev->type == YAML_MAPPING_START_EVENT ? YAML_MAPPING_END_EVENT :
						     YAML_NO_EVENT;
	yaml_event_delete(ev);
	if (!*id)
		return ydoc_nomem(d);
	doc->nodes.start[*id - 1].start_mark = start;
	while (end != YAML_NO_EVENT && !ret) {
		ret = ydoc_stream_event(d, &next);
		if (ret)
			break;
		if (next.type == end) {
			doc->nodes.start[*id - 1].end_mark = next.end_mark;
			yaml_event_delete(&next);
			break;
		}
		if (end == YAML_SEQUENCE_END_EVENT) {
			ret = stream_node(d, &next, doc, &child, depth + 1);
			if (!ret && !yaml_document_append_sequence_item(doc, *id,
									child))
				ret = ydoc_nomem(d);
			continue;
		}
		ret = stream_node(d, &next, doc, &key, depth + 1);
		if (!ret)
			ret = ydoc_stream_event(d, &next);
		if (!ret)
			ret = stream_node(d, &next, doc, &child, depth + 1);
		if (!ret && !yaml_document_append_mapping_pair(doc, *id, key,
								child))
			ret = ydoc_nomem(d);
	}
	return ret;
}

int ydoc_stream_node(struct ydoc *d, yaml_event_t *ev, yaml_document_t *doc,
		     int *id)
{
	return stream_node(d, ev, doc, id, 0);
}

static int syntax_error(struct ydoc *d, const char *text, size_t len)
{
	const yaml_parser_t *ps = &d->parser;
	yaml_mark_t m = ps->problem_mark;
	size_t i;

	if (ps->error == YAML_MEMORY_ERROR)
		return ydoc_nomem(d);
	if (ps->error == YAML_READER_ERROR) {
		/* bad UTF-8: the reader only knows a byte offset */
		m = (yaml_mark_t){};
		for (i = 0; i < ps->problem_offset && i < len; i++) {
			m.column = text[i] == '\n' ? 0 : m.column + 1;
			m.line += text[i] == '\n';
		}
	}
	/* an unquoted *.example.com reads as an alias: say what to do */
	return ydoc_err_at(d, m, "invalid YAML: %s%s%s%s",
			   ps->problem ? ps->problem : "parse error",
			   ps->context ? " " : "",
			   ps->context ? ps->context : "",
			   ps->context && strstr(ps->context, "alias")
				   ? " (quote wildcards: \"*.example.com\")"
				   : "");
}

/*
 * An alias makes the loader walk its anchor's node once more: a few
 * thousand aliases of one big entry (a "billion laughs") would cost
 * what no real policy or intelligence file needs. Counted in a first,
 * streaming pass; a syntax error is left to the load that follows.
 */
static int count_aliases(struct ydoc *d, const char *text, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int n = 0, ret = 0;

	if (!yaml_parser_initialize(&p))
		return ydoc_nomem(d);
	yaml_parser_set_input_string(&p, (const unsigned char *)(text ? text : ""),
				     len);
	while (yaml_parser_parse(&p, &ev)) {
		yaml_event_type_t t = ev.type;

		if (t == YAML_ALIAS_EVENT && ++n > YDOC_MAX_ALIASES)
			ret = ydoc_err_at(d, ev.start_mark, "more than %d YAML "
					  "aliases (*name): write the entries "
					  "out", YDOC_MAX_ALIASES);
		yaml_event_delete(&ev);
		if (ret || t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return ret;
}

int ydoc_load(struct ydoc *d, const char *text, size_t len, const char *what)
{
	yaml_document_t extra;
	yaml_node_t *root;
	int ret = 0;

	if (d->err && d->errlen)
		d->err[0] = '\0';
	ret = count_aliases(d, text, len);
	if (ret)
		return ret;
	if (!yaml_parser_initialize(&d->parser))
		return ydoc_nomem(d);
	yaml_parser_set_input_string(&d->parser,
				     (const unsigned char *)(text ? text : ""),
				     len);
	/* on failure yaml_parser_load() has already freed the document */
	if (!yaml_parser_load(&d->parser, &d->doc))
		return syntax_error(d, text, len);
	d->loaded = true;
	/* a second "---" document is refused rather than silently ignored */
	if (!yaml_parser_load(&d->parser, &extra))
		return syntax_error(d, text, len);
	root = yaml_document_get_root_node(&extra);
	if (root)
		ret = ydoc_err(d, root, "more than one YAML document (%s)",
			       what);
	yaml_document_delete(&extra);
	return ret;
}

void ydoc_free(struct ydoc *d)
{
	if (d->loaded)
		yaml_document_delete(&d->doc);
	d->loaded = false;
	/* deleting a zeroed or failed parser is safe */
	yaml_parser_delete(&d->parser);
}

int ydoc_field_str(struct ydoc *d, struct yfield *f)
{
	const yaml_node_t *v = f->v;

	if (v->type != YAML_SCALAR_NODE)
		return ydoc_err(d, v, "'%s' must be a single value, not a %s",
				f->key,
				v->type == YAML_SEQUENCE_NODE ? "list"
							      : "mapping");
	if (ydoc_is_null(v))
		return ydoc_err(d, f->k, "'%s' needs a value", f->key);
	if (strlen(ydoc_str(v)) != v->data.scalar.length)
		return ydoc_err(d, v, "'%s' holds a NUL byte", f->key);
	f->s = ydoc_str(v);
	return 0;
}

int ydoc_fields(struct ydoc *d, yaml_node_t *map, struct yfield *f, size_t nf,
		const char *where)
{
	yaml_node_pair_t *pr;
	char ok[256];
	yaml_node_t *k;
	size_t i, off;

	for (pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		k = ydoc_node(d, pr->key);
		if (k->type != YAML_SCALAR_NODE)
			return ydoc_err(d, k, "keys %s must be strings", where);
		for (i = 0; i < nf && strcmp(ydoc_str(k), f[i].key); i++)
			;
		if (i == nf) {
			ok[0] = '\0';
			for (i = 0, off = 0; i < nf && off < sizeof(ok); i++)
				off += (size_t)snprintf(ok + off,
							sizeof(ok) - off,
							"%s%s", i ? ", " : "",
							f[i].key);
			return ydoc_err(d, k,
					"unknown key '%.64s' %s (allowed: %s)",
					ydoc_str(k), where, ok);
		}
		if (f[i].k)
			return ydoc_err(d, k,
					"duplicate key '%s' (first at line %zu)",
					f[i].key, f[i].k->start_mark.line + 1);
		f[i].k = k;
		f[i].v = ydoc_node(d, pr->value);
		if (!f[i].nested && ydoc_field_str(d, &f[i]))
			return -EINVAL;
	}
	return 0;
}

int ydoc_list(struct ydoc *d, const struct yfield *f, const char *one,
	      const char *many, size_t size, void *arr, size_t *nr,
	      ydoc_entry_fn fn, const void *arg)
{
	yaml_node_item_t *items = NULL;
	yaml_node_t *v = f->v, *e;
	size_t i, cnt = 1;
	char *a;
	int ret = 0;

	if (v->type == YAML_MAPPING_NODE)
		return ydoc_err(d, v, "'%s' must be %s or a list of them",
				f->key, one);
	if (ydoc_is_null(v))
		return ydoc_err(d, f->k, "'%s' needs a value", f->key);
	if (v->type == YAML_SEQUENCE_NODE) {
		items = v->data.sequence.items.start;
		cnt = (size_t)(v->data.sequence.items.top - items);
		if (!cnt)
			return ydoc_err(d, v, "empty %s list", f->key);
	}
	a = calloc(cnt, size);
	*(void **)arr = a;
	if (!a)
		return ydoc_nomem(d);
	for (i = 0; i < cnt && !ret; i++) {
		e = items ? ydoc_node(d, items[i]) : v;
		if (e->type != YAML_SCALAR_NODE || ydoc_is_null(e))
			ret = ydoc_err(d, e, "%s entries must be %s", f->key,
				       many);
		else if (strlen(ydoc_str(e)) != e->data.scalar.length)
			ret = ydoc_err(d, e, "bad %s: holds a NUL byte",
				       f->key);
		else
			ret = fn(d, f, e, a + i * size, arg);
		*nr += !ret;
	}
	return ret;
}

int ydoc_enum(struct ydoc *d, const struct yfield *f,
	      const char *(*name)(int v), int from, int to, int *out)
{
	int i, n = 0, k = 0;
	char expect[96];
	size_t off = 0;

	for (i = from; i < to; i++) {
		if (name(i) && !strcmp(name(i), f->s)) {
			*out = i;
			return 0;
		}
		n += name(i) != NULL;
	}
	for (i = from; i < to && off < sizeof(expect); i++) {
		if (!name(i))
			continue;
		k++;
		off += (size_t)snprintf(expect + off, sizeof(expect) - off,
					"%s%s",
					k == 1 ? "" : k == n ? " or " : ", ",
					name(i));
	}
	return ydoc_err(d, f->v, "bad %s '%.32s' (expected %s)", f->key, f->s,
			expect);
}

/* Leading zeros are refused: YAML 1.1 reads "0644" as octal, so the
 * user's intent is unclear. */
int ydoc_uint(struct ydoc *d, const struct yfield *f, unsigned int min,
	      unsigned int max, unsigned int *out)
{
	unsigned long long v = 0;
	const char *s = f->s;

	if (s[0] == '0' && s[1])
		goto bad;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			goto bad;
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > max)
			goto bad;
	}
	if (!*f->s || v < min)
		goto bad;
	*out = (unsigned int)v;
	return 0;
bad:
	return ydoc_err(d, f->v, "bad %s '%.32s' (expected a number %u..%u)",
			f->key, f->s, min, max);
}

static int port_one(struct ydoc *d, const struct yfield *f,
		    const yaml_node_t *e, void *out, const void *arg)
{
	struct yfield one = *f;

	(void)arg;
	one.v = (yaml_node_t *)e;
	one.s = ydoc_str(e);
	return ydoc_uint(d, &one, 1, 65535, out);
}

int ydoc_ports(struct ydoc *d, const struct yfield *f, __u16 *out,
	       size_t max, size_t *nr)
{
	unsigned int *v = NULL;
	size_t n = 0;
	int ret;

	ret = ydoc_list(d, f, "a port", "ports", sizeof(*v), &v, &n, port_one,
			NULL);
	if (!ret && n > max)
		ret = ydoc_err(d, f->v, "too many %s: %zu (at most %zu)",
			       f->key, n, max);
	for (size_t i = 0; !ret && i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (v[j] == v[i])
				ret = ydoc_err(d, f->v, "%s lists port %u twice",
					       f->key, v[i]);
		out[i] = (__u16)v[i];
	}
	if (!ret)
		*nr = n;
	free(v);
	return ret;
}

int ydoc_bool(struct ydoc *d, const struct yfield *f, bool *out)
{
	*out = !strcasecmp(f->s, "true");
	if (*out || !strcasecmp(f->s, "false"))
		return 0;
	return ydoc_err(d, f->v, "bad %s '%.32s' (expected true or false)",
			f->key, f->s);
}

int ydoc_hex(struct ydoc *d, const struct yfield *f, size_t min, size_t max,
	     const char *expect, char *out)
{
	size_t n = strlen(f->s), i;

	if (n < min || n > max ||
	    strspn(f->s, "0123456789abcdefABCDEF") != n)
		return ydoc_err(d, f->v, "bad %s '%.80s' (expected %s)", f->key,
				f->s, expect);
	/* digits already have 0x20 set */
	for (i = 0; i < n; i++)
		out[i] = (char)(f->s[i] | 0x20);
	out[n] = '\0';
	return 0;
}

int ydoc_read_file(const char *path, size_t max, char **out, size_t *len,
		   char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	int ret = 0;

	if (!f) {
		ret = -errno;
		goto cleanup;
	}
	/* one byte more than allowed, to tell "too large" from "just fits" */
	buf = malloc(max + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto cleanup;
	}
	errno = 0;
	*len = fread(buf, 1, max + 1, f);
	if (ferror(f))
		ret = errno ? -errno : -EIO;
	else if (*len > max)
		ret = -EFBIG;
cleanup:
	if (f)
		fclose(f);
	if (ret) {
		free(buf);
		if (err && errlen)
			snprintf(err, errlen, "cannot read %s: %s", path,
				 strerror(-ret));
		return ret;
	}
	*out = buf;
	return 0;
}

int ydoc_hostname(struct ydoc *d, const yaml_node_t *e, char *out)
{
	const char *s = ydoc_str(e), *why;
	bool wild = !strncmp(s, "*.", 2);
	unsigned char addr[16];
	int fam;

	/* an IP never arrives as SNI or DNS name: the entry would never match */
	if (!addr_parse(wild ? s + 2 : s, &fam, addr))
		return ydoc_err(d, e, "bad domain '%.64s': an address, use cidr",
				s);
	memcpy(out, "*.", 2);
	if (hostname_norm(wild ? s + 2 : s, wild ? out + 2 : out, &why))
		return ydoc_err(d, e, "bad domain '%.64s': %s", s, why);
	return 0;
}
