// SPDX-License-Identifier: MIT
/*
 * Policy loader. The whole YAML document is loaded first (libyaml's document
 * API keeps each node's position), then walked; the first problem found is
 * reported as "FILE:LINE:COL: reason" and nothing is returned, so a reload
 * with a broken file leaves the running policy as it was.
 */
#include "policy.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "relaywatch.h"

/* Rule names end up in log lines and JSON: keep them to one plain word. */
#define NAME_CHARS                                                             \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One load: where messages go, and the document being walked. */
struct ctx {
	const char *name;
	char *err;
	size_t errlen;
	yaml_document_t *doc;
};

/* A known key of a mapping; k and v stay NULL when the key is absent. */
struct field {
	const char *key;
	bool nested;  /* a list or mapping, checked by the caller */
	yaml_node_t *k;
	yaml_node_t *v;
	const char *s; /* the text of a single-valued field */
};

static const char *const action_names[RW_ACT__MAX] = {
	[RW_ACT_NONE] = "none",   [RW_ACT_ALLOW] = "allow",
	[RW_ACT_ALERT] = "alert", [RW_ACT_DENY] = "deny",
	[RW_ACT_KILL] = "kill",
};

static const char *const mode_names[] = {
	[POLICY_MONITOR] = "monitor",
	[POLICY_ENFORCE] = "enforce",
};

static const char *const proto_names[IPPROTO_UDP + 1] = {
	[IPPROTO_TCP] = "tcp",
	[IPPROTO_UDP] = "udp",
};

static int lookup(const char *const *names, int from, int to, const char *s)
{
	for (int i = from; i < to; i++)
		if (names[i] && !strcmp(names[i], s))
			return i;
	return -1;
}

const char *action_name(int action)
{
	if (action < 0 || action >= RW_ACT__MAX)
		return "unknown";
	return action_names[action];
}

int action_parse(const char *s)
{
	return lookup(action_names, RW_ACT_ALLOW, RW_ACT__MAX, s);
}

const char *mode_name(int mode)
{
	if (mode != POLICY_MONITOR && mode != POLICY_ENFORCE)
		return "unknown";
	return mode_names[mode];
}

int mode_parse(const char *s)
{
	return lookup(mode_names, 0, ARRAY_SIZE(mode_names), s);
}

int policy_rule_mode(const struct policy *p, const struct policy_rule *r)
{
	return r->mode >= 0 ? r->mode : p->mode;
}

__attribute__((format(printf, 3, 4)))
static int perr_at(struct ctx *c, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (!c->err || !c->errlen)
		return -EINVAL;
	n = snprintf(c->err, c->errlen, "%s:%zu:%zu: ", c->name, m.line + 1,
		     m.column + 1);
	if (n >= 0 && (size_t)n < c->errlen) {
		va_start(ap, fmt);
		vsnprintf(c->err + n, c->errlen - n, fmt, ap);
		va_end(ap);
	}
	/* quoted keys and values may hold "\n": keep the message one line */
	for (s = c->err; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
	return -EINVAL;
}

#define perr(c, node, ...) perr_at(c, (node)->start_mark, __VA_ARGS__)

static int nomem(struct ctx *c)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: out of memory", c->name);
	return -ENOMEM;
}

#define node(c, id) yaml_document_get_node((c)->doc, id)
#define sval(n) ((const char *)(n)->data.scalar.value)

/* YAML's null: an unquoted empty value, "~" or "null". */
static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       lookup(nulls, 0, ARRAY_SIZE(nulls), sval(n)) >= 0;
}

/* Check that a single-valued field holds one non-null string. */
static int field_str(struct ctx *c, struct field *f)
{
	const yaml_node_t *v = f->v;

	if (v->type != YAML_SCALAR_NODE)
		return perr(c, v, "'%s' must be a single value, not a %s",
			    f->key,
			    v->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
	if (is_null(v))
		return perr(c, f->k, "'%s' needs a value", f->key);
	if (strlen(sval(v)) != v->data.scalar.length)
		return perr(c, v, "'%s' holds a NUL byte", f->key);
	f->s = sval(v);
	return 0;
}

/* Fill f[] from a mapping; unknown, repeated or non-string keys are errors
 * (YAML itself lets a repeated key silently override the first). */
static int get_fields(struct ctx *c, yaml_node_t *map, struct field *f,
		      size_t nf, const char *where)
{
	yaml_node_pair_t *pr;
	char ok[128];
	yaml_node_t *k;
	size_t i, off;

	for (pr = map->data.mapping.pairs.start;
	     pr < map->data.mapping.pairs.top; pr++) {
		k = node(c, pr->key);
		if (k->type != YAML_SCALAR_NODE)
			return perr(c, k, "keys %s must be strings", where);
		for (i = 0; i < nf && strcmp(sval(k), f[i].key); i++)
			;
		if (i == nf) {
			for (i = 0, off = 0; i < nf; i++)
				off += snprintf(ok + off, sizeof(ok) - off,
						"%s%s", i ? ", " : "",
						f[i].key);
			return perr(c, k,
				    "unknown key '%.64s' %s (allowed: %s)",
				    sval(k), where, ok);
		}
		if (f[i].k)
			return perr(c, k,
				    "duplicate key '%s' (first at line %zu)",
				    f[i].key, f[i].k->start_mark.line + 1);
		f[i].k = k;
		f[i].v = node(c, pr->value);
		if (!f[i].nested && field_str(c, &f[i]))
			return -EINVAL;
	}
	return 0;
}

/* f->s as an index of names[from..to) */
static int parse_enum(struct ctx *c, const struct field *f,
		      const char *const *names, int from, int to, int *out)
{
	int i, n = 0, k = 0;
	char expect[64];
	size_t off = 0;

	*out = lookup(names, from, to, f->s);
	if (*out >= 0)
		return 0;
	for (i = from; i < to; i++)
		n += names[i] != NULL;
	for (i = from; i < to; i++) {
		if (!names[i])
			continue;
		k++;
		off += snprintf(expect + off, sizeof(expect) - off, "%s%s",
				k == 1 ? "" : k == n ? " or " : ", ", names[i]);
	}
	return perr(c, f->v, "bad %s '%.32s' (expected %s)", f->key, f->s,
		    expect);
}

/* Plain decimal in [min, max]. Leading zeros are refused: YAML 1.1 reads
 * "0644" as octal, so the user's intent is unclear. */
static int parse_num(struct ctx *c, const struct field *f, __u32 min,
		     __u32 max, __u32 *out)
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
	if (v < min)
		goto bad;
	*out = (__u32)v;
	return 0;
bad:
	return perr(c, f->v, "bad %s '%.32s' (expected a number %u..%u)",
		    f->key, f->s, min, max);
}

/* match.cidr: one prefix, or a non-empty list of them */
static int parse_cidrs(struct ctx *c, const struct field *f,
		       struct policy_rule *r)
{
	const yaml_node_t *v = f->v, *e;
	yaml_node_item_t *items = NULL;
	struct cidr *out;
	char why[160];
	size_t n = 1;

	if (v->type == YAML_MAPPING_NODE)
		return perr(c, v, "'cidr' must be a prefix or a list of them");
	if (is_null(v))
		return perr(c, f->k, "'cidr' needs a value");
	if (v->type == YAML_SEQUENCE_NODE) {
		items = v->data.sequence.items.start;
		n = v->data.sequence.items.top - items;
		if (!n)
			return perr(c, v, "empty cidr list");
	}
	r->cidrs = calloc(n, sizeof(*r->cidrs));
	if (!r->cidrs)
		return nomem(c);
	for (; r->nr_cidrs < n; r->nr_cidrs++) {
		e = items ? node(c, items[r->nr_cidrs]) : v;
		out = &r->cidrs[r->nr_cidrs];
		if (e->type != YAML_SCALAR_NODE || is_null(e))
			return perr(c, e,
				    "cidr entries must be addresses or prefixes");
		if (strlen(sval(e)) != e->data.scalar.length)
			return perr(c, e, "bad cidr: holds a NUL byte");
		if (cidr_parse(sval(e), out, why, sizeof(why)))
			return perr(c, e, "bad cidr: %s", why);
	}
	return 0;
}

static int parse_match(struct ctx *c, const struct field *mf,
		       struct policy_rule *r)
{
	enum { CIDR, PORT, PROTO, EXE, UID };
	struct field f[] = {
		[CIDR] = { .key = "cidr", .nested = true },
		[PORT] = { .key = "port" }, [PROTO] = { .key = "proto" },
		[EXE] = { .key = "exe" }, [UID] = { .key = "uid" },
	};
	const yaml_node_t *v = mf->v;
	bool empty = is_null(v);
	__u32 port = 0;
	int ret;

	if (v->type == YAML_MAPPING_NODE)
		empty = v->data.mapping.pairs.top ==
			v->data.mapping.pairs.start;
	/* a rule matching everything is almost surely a mistake */
	if (empty)
		return perr(c, mf->k,
			    "rule '%s': empty match (use at least one of cidr, port, proto, exe, uid)",
			    r->name);
	if (v->type != YAML_MAPPING_NODE)
		return perr(c, v, "'match' must be a mapping");
	ret = get_fields(c, mf->v, f, ARRAY_SIZE(f), "in match");
	if (!ret && f[CIDR].k)
		ret = parse_cidrs(c, &f[CIDR], r);
	if (!ret && f[PORT].k)
		ret = parse_num(c, &f[PORT], 1, 65535, &port);
	r->port = (int)port;
	if (!ret && f[PROTO].k)
		ret = parse_enum(c, &f[PROTO], proto_names, 0,
				 ARRAY_SIZE(proto_names), &r->proto);
	/* (uid_t)-1 is "no uid" to the kernel, never a real owner */
	if (!ret && f[UID].k)
		ret = parse_num(c, &f[UID], 0, 0xfffffffe, &r->uid);
	r->has_uid = !ret && f[UID].k;
	if (ret || !f[EXE].k)
		return ret;
	/* the kernel matches the binary's inode, found from this path */
	if (f[EXE].s[0] != '/')
		return perr(c, f[EXE].v, "exe '%.64s' is not an absolute path",
			    f[EXE].s);
	if (strlen(f[EXE].s) >= RW_EXE_LEN)
		return perr(c, f[EXE].v, "exe path longer than %d bytes",
			    RW_EXE_LEN - 1);
	r->exe = strdup(f[EXE].s);
	return r->exe ? 0 : nomem(c);
}

/* rules[idx]; the rules before it are complete (for the duplicate check) */
static int parse_rule(struct ctx *c, yaml_node_t *n, struct policy *p,
		      size_t idx)
{
	enum { NAME, MATCH, ACTION, MODE };
	struct field f[] = {
		[NAME] = { .key = "name" },
		[MATCH] = { .key = "match", .nested = true },
		[ACTION] = { .key = "action" }, [MODE] = { .key = "mode" },
	};
	struct policy_rule *r = &p->rules[idx];
	const char *name;
	size_t i, len;
	int ret;

	r->mode = -1;
	r->line = (int)n->start_mark.line + 1;
	if (n->type != YAML_MAPPING_NODE)
		return perr(c, n, "rule %zu must be a mapping with name, match and action",
			    idx + 1);
	ret = get_fields(c, n, f, ARRAY_SIZE(f), "in rule");
	if (ret)
		return ret;

	if (!f[NAME].k)
		return perr(c, n, "rule %zu: missing 'name'", idx + 1);
	name = f[NAME].s;
	len = strlen(name);
	if (len >= sizeof(r->name))
		return perr(c, f[NAME].v,
			    "rule name longer than %zu characters",
			    sizeof(r->name) - 1);
	if (strspn(name, NAME_CHARS) != len)
		return perr(c, f[NAME].v,
			    "rule name '%.64s' may hold only letters, digits, '.', '_' and '-'",
			    name);
	for (i = 0; i < idx; i++)
		if (!strcmp(p->rules[i].name, name))
			return perr(c, f[NAME].v,
				    "duplicate rule name '%s' (first at line %d)",
				    name, p->rules[i].line);
	memcpy(r->name, name, len + 1);

	if (!f[MATCH].k)
		return perr(c, n, "rule '%s': missing 'match'", name);
	if (!f[ACTION].k)
		return perr(c, n, "rule '%s': missing 'action'", name);
	ret = parse_match(c, &f[MATCH], r);
	if (!ret)
		ret = parse_enum(c, &f[ACTION], action_names, RW_ACT_ALLOW,
				 RW_ACT__MAX, &r->action);
	if (!ret && f[MODE].k)
		ret = parse_enum(c, &f[MODE], mode_names, 0,
				 ARRAY_SIZE(mode_names), &r->mode);
	return ret;
}

static int parse_top(struct ctx *c, yaml_node_t *root, struct policy *p)
{
	struct field f[] = {
		{ .key = "mode" }, { .key = "rules", .nested = true },
	};
	yaml_node_item_t *items;
	yaml_node_t *v;
	size_t i, n;
	int ret;

	if (!root || is_null(root))
		return perr_at(c, (yaml_mark_t){},
			       "empty policy (expected a mapping with 'mode' and 'rules')");
	if (root->type != YAML_MAPPING_NODE)
		return perr(c, root,
			    "top level must be a mapping with 'mode' and 'rules'");
	ret = get_fields(c, root, f, ARRAY_SIZE(f), "at top level");
	if (!ret && f[0].k)
		ret = parse_enum(c, &f[0], mode_names, 0,
				 ARRAY_SIZE(mode_names), &p->mode);
	if (ret)
		return ret;

	if (!f[1].k)
		return perr(c, root, "missing 'rules'");
	v = f[1].v;
	if (v->type != YAML_SEQUENCE_NODE)
		return perr(c, is_null(v) ? f[1].k : v,
			    "'rules' must be a list");
	items = v->data.sequence.items.start;
	n = v->data.sequence.items.top - items;
	/* rule ids are bits of a __u64 mask in the kernel */
	if (n > RW_MAX_RULES)
		return perr(c, node(c, items[RW_MAX_RULES]),
			    "too many rules: %zu (at most %d)", n,
			    RW_MAX_RULES);
	if (!n) /* valid: nothing matches, the daemon only watches */
		return 0;
	p->rules = calloc(n, sizeof(*p->rules));
	if (!p->rules)
		return nomem(c);
	p->nr_rules = n;
	for (i = 0; i < n && !ret; i++)
		ret = parse_rule(c, node(c, items[i]), p, i);
	return ret;
}

static int syntax_error(struct ctx *c, const yaml_parser_t *ps,
			const char *text, size_t len)
{
	yaml_mark_t m = ps->problem_mark;
	size_t i;

	if (ps->error == YAML_MEMORY_ERROR)
		return nomem(c);
	if (ps->error == YAML_READER_ERROR) {
		/* bad UTF-8: the reader only knows a byte offset */
		m = (yaml_mark_t){};
		for (i = 0; i < ps->problem_offset && i < len; i++) {
			m.column = text[i] == '\n' ? 0 : m.column + 1;
			m.line += text[i] == '\n';
		}
	}
	return perr_at(c, m, "invalid YAML: %s%s%s",
		       ps->problem ? ps->problem : "parse error",
		       ps->context ? " " : "", ps->context ? ps->context : "");
}

/* A second "---" document is refused rather than silently ignored. */
static int check_one_doc(struct ctx *c, yaml_parser_t *ps, const char *text,
			 size_t len)
{
	yaml_document_t extra;
	yaml_node_t *root;
	int ret = 0;

	if (!yaml_parser_load(ps, &extra))
		return syntax_error(c, ps, text, len);
	root = yaml_document_get_root_node(&extra);
	if (root)
		ret = perr(c, root,
			   "more than one YAML document (one policy per file)");
	yaml_document_delete(&extra);
	return ret;
}

int policy_load_string(const char *text, size_t len, const char *name,
		       struct policy **out, char *err, size_t errlen)
{
	struct ctx c = { .name = name ? name : "<string>", .err = err,
			 .errlen = errlen };
	struct policy *p = NULL;
	yaml_parser_t parser;
	yaml_document_t doc;
	bool loaded = false;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!yaml_parser_initialize(&parser))
		return nomem(&c);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	/* on failure yaml_parser_load() has already freed doc */
	if (!yaml_parser_load(&parser, &doc)) {
		ret = syntax_error(&c, &parser, text, len);
		goto cleanup;
	}
	loaded = true;
	c.doc = &doc;
	ret = check_one_doc(&c, &parser, text, len);
	if (ret)
		goto cleanup;
	p = calloc(1, sizeof(*p));
	if (!p) {
		ret = nomem(&c);
		goto cleanup;
	}
	p->mode = POLICY_MONITOR;
	ret = parse_top(&c, yaml_document_get_root_node(&doc), p);
	if (ret)
		goto cleanup;
	p->path = strdup(c.name);
	if (!p->path)
		ret = nomem(&c);
cleanup:
	if (loaded)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	/* callers may pass their live pointer: it changes only on success */
	if (ret)
		policy_free(p);
	else
		*out = p;
	return ret;
}

static int read_failed(const char *path, int ret, char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(-ret));
	return ret;
}

int policy_load_file(const char *path, struct policy **out, char *err,
		     size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return read_failed(path, -errno, err, errlen);
	/* one byte more than allowed, to tell "too large" from "just fits" */
	buf = malloc(POLICY_MAX_SIZE + 1);
	if (!buf)
		ret = -ENOMEM;
	else
		len = fread(buf, 1, POLICY_MAX_SIZE + 1, f);
	if (buf && ferror(f))
		ret = errno ? -errno : -EIO;
	else if (len > POLICY_MAX_SIZE)
		ret = -EFBIG;
	fclose(f);
	if (ret)
		read_failed(path, ret, err, errlen);
	else
		ret = policy_load_string(buf, len, path, out, err, errlen);
	free(buf);
	return ret;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nr_rules; i++) {
		free(p->rules[i].cidrs);
		free(p->rules[i].exe);
	}
	free(p->rules);
	free(p->path);
	free(p);
}

static bool rule_has_addr(const struct policy_rule *r,
			  const struct policy_query *q)
{
	for (size_t i = 0; i < r->nr_cidrs; i++)
		if (cidr_contains(&r->cidrs[i], q->family, q->addr))
			return true;
	return !r->nr_cidrs;
}

/* The cheap scalar tests go first; the kernel does the LPM lookup first,
 * but the outcome is the same since every condition must hold. */
int policy_match(const struct policy *p, const struct policy_query *q)
{
	const struct policy_rule *r;
	size_t i;

	for (i = 0; i < p->nr_rules; i++) {
		r = &p->rules[i];
		if (r->port && r->port != q->port)
			continue;
		if (r->proto && r->proto != q->proto)
			continue;
		if (r->has_uid && r->uid != q->uid)
			continue;
		if (r->exe && (!q->exe || strcmp(r->exe, q->exe)))
			continue;
		if (!rule_has_addr(r, q))
			continue;
		return (int)i;
	}
	return -1;
}
