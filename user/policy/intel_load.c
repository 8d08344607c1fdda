// SPDX-License-Identifier: MIT
/*
 * Intel sources: the YAML is checked whole into a scratch set, and only a
 * source without a single error is merged, so a typo in a user's file
 * cannot leave half of it applied.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "intel.h"
#include "intel_impl.h"
#include "ydoc.h"

#define PROVIDER_MAX 128 /* it is printed in events and `check` output */

enum { F_DOMAIN, F_CIDR, F_CATEGORY, F_PROVIDER, F_CONFIDENCE, F__MAX };

static int parse_domain(struct ydoc *d, const struct yfield *f,
			struct intel_entry *e)
{
	char buf[HOSTNAME_MAX + 3];

	if (ydoc_hostname(d, f->v, buf))
		return -EINVAL;
	e->wildcard = buf[0] == '*';
	e->domain = strdup(buf + (e->wildcard ? 2 : 0));
	return e->domain ? 0 : ydoc_nomem(d);
}

/* Everything but the key: category, provider, confidence. */
static int parse_class(struct ydoc *d, const struct yfield *f,
		       struct intel_entry *e)
{
	const char *s;

	e->category = intel_category_parse(f[F_CATEGORY].s);
	if (e->category < 0)
		return ydoc_err(d, f[F_CATEGORY].v, "unknown category '%.64s' (known: ai-overseas, ai-relay, ai-domestic, ai-domestic-intl, ai-telemetry, dns-encrypted)",
				f[F_CATEGORY].s);
	if (!str_printable(f[F_PROVIDER].s, PROVIDER_MAX))
		return ydoc_err(d, f[F_PROVIDER].v,
				"provider must be 1 to %d printable characters",
				PROVIDER_MAX);
	e->provider = strdup(f[F_PROVIDER].s);
	if (!e->provider)
		return ydoc_nomem(d);
	if (!f[F_CONFIDENCE].k)
		return 0;
	s = f[F_CONFIDENCE].s;
	e->confidence = !strcmp(s, "verified") ? INTEL_CONF_VERIFIED
		      : !strcmp(s, "likely")   ? INTEL_CONF_LIKELY
					       : -1;
	if (e->confidence < 0)
		return ydoc_err(d, f[F_CONFIDENCE].v,
				"bad confidence '%.64s' (verified or likely)", s);
	return 0;
}

static int parse_entry(struct ydoc *d, yaml_node_t *n, struct intel *tmp)
{
	struct yfield f[F__MAX] = {
		[F_DOMAIN] = { .key = "domain" }, [F_CIDR] = { .key = "cidr" },
		[F_CATEGORY] = { .key = "category" },
		[F_PROVIDER] = { .key = "provider" },
		[F_CONFIDENCE] = { .key = "confidence" },
	};
	char why[128], shown[CIDR_STRLEN + 2];
	const struct intel_entry *dup;
	struct intel_entry *e;
	int ret;

	if (n->type != YAML_MAPPING_NODE)
		return ydoc_err(d, n, "entry must be a mapping with domain or cidr, category and provider");
	ret = ydoc_fields(d, n, f, F__MAX, "in entry");
	if (ret)
		return ret;
	if (f[F_DOMAIN].k && f[F_CIDR].k)
		return ydoc_err(d, n, "entry has both domain and cidr");
	if (!f[F_DOMAIN].k && !f[F_CIDR].k)
		return ydoc_err(d, n, "entry has neither domain nor cidr");
	if (!f[F_CATEGORY].k)
		return ydoc_err(d, n, "entry has no category");
	if (!f[F_PROVIDER].k)
		return ydoc_err(d, n, "entry has no provider");
	e = calloc(1, sizeof(*e));
	if (!e)
		return ydoc_nomem(d);
	e->line = (int)n->start_mark.line + 1;
	e->is_cidr = !f[F_DOMAIN].k;
	if (!e->is_cidr)
		ret = parse_domain(d, &f[F_DOMAIN], e);
	else if (cidr_parse(f[F_CIDR].s, &e->cidr, why, sizeof(why)))
		ret = ydoc_err(d, f[F_CIDR].v, "bad cidr: %s", why);
	if (!ret)
		ret = parse_class(d, f, e);
	if (ret)
		goto cleanup;
	/* a repeat inside one source is a typo or a conflict, never an
	 * override: overriding is what a later source is for */
	ret = intel_insert(tmp, e, &dup);
	if (ret == -ENOMEM)
		ret = ydoc_nomem(d);
	if (ret != -EEXIST)
		goto cleanup;
	if (!e->is_cidr)
		snprintf(shown, sizeof(shown), "%s%.48s",
			 e->wildcard ? "*." : "", e->domain);
	else if (cidr_format(&e->cidr, shown, sizeof(shown)))
		strcpy(shown, "?");
	ret = ydoc_err(d, f[e->is_cidr ? F_CIDR : F_DOMAIN].v,
		       "duplicate entry '%s' (first at line %d)", shown,
		       dup->line);
cleanup:
	if (ret)
		intel_entry_free(e);
	return ret;
}

/* the entries list, streamed: each entry is built alone, parsed into
 * tmp and dropped, so a big file never exists as a whole YAML tree */
static int stream_entries(struct ydoc *d, struct intel *tmp)
{
	for (;;) {
		yaml_document_t doc;
		yaml_event_t ev;
		int id, ret = ydoc_stream_event(d, &ev);

		if (ret)
			return ret;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (!yaml_document_initialize(&doc, NULL, NULL, NULL, 1, 1)) {
			yaml_event_delete(&ev);
			return ydoc_nomem(d);
		}
		ret = ydoc_stream_node(d, &ev, &doc, &id);
		if (!ret) {
			struct ydoc one = { .name = d->name, .err = d->err,
					    .errlen = d->errlen, .doc = doc };

			ret = parse_entry(&one, yaml_document_get_node(&doc, id),
					  tmp);
		}
		yaml_document_delete(&doc);
		if (ret)
			return ret;
	}
}

/* the top level into d->doc as a skeleton: every key and value but the
 * entries, whose list stays empty there (they are streamed) */
static int stream_top(struct ydoc *d, struct intel *tmp, int *root)
{
	yaml_document_t *doc = &d->doc;
	bool entries_seen = false;
	yaml_event_t ev;
	int ret, k, v;

	if (!yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1))
		return ydoc_nomem(d);
	d->loaded = true;
	*root = 0;
	ret = ydoc_stream_event(d, &ev);
	if (ret)
		return ret;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0; /* empty: said by the caller */
	}
	yaml_event_delete(&ev); /* DOCUMENT-START */
	ret = ydoc_stream_event(d, &ev);
	if (ret)
		return ret;
	if (ev.type != YAML_MAPPING_START_EVENT)
		return ydoc_stream_node(d, &ev, doc, root);
	*root = yaml_document_add_mapping(doc, NULL, ev.data.mapping_start.style);
	if (!*root) {
		yaml_event_delete(&ev);
		return ydoc_nomem(d);
	}
	doc->nodes.start[*root - 1].start_mark = ev.start_mark;
	yaml_event_delete(&ev);
	for (;;) {
		bool is_entries;

		ret = ydoc_stream_event(d, &ev);
		if (ret)
			return ret;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		is_entries = ev.type == YAML_SCALAR_EVENT &&
			     !strcmp((char *)ev.data.scalar.value, "entries");
		if (is_entries && entries_seen) {
			ret = ydoc_err_at(d, ev.start_mark, "duplicate key "
					  "'entries'");
			yaml_event_delete(&ev);
			return ret;
		}
		ret = ydoc_stream_node(d, &ev, doc, &k);
		if (!ret)
			ret = ydoc_stream_event(d, &ev);
		if (ret)
			return ret;
		if (is_entries && ev.type == YAML_SEQUENCE_START_EVENT) {
			entries_seen = true;
			v = yaml_document_add_sequence(doc, NULL,
				ev.data.sequence_start.style);
			if (v)
				doc->nodes.start[v - 1].start_mark = ev.start_mark;
			yaml_event_delete(&ev);
			ret = v ? stream_entries(d, tmp) : ydoc_nomem(d);
		} else {
			ret = ydoc_stream_node(d, &ev, doc, &v);
		}
		if (!ret && !yaml_document_append_mapping_pair(doc, *root, k, v))
			ret = ydoc_nomem(d);
		if (ret)
			return ret;
	}
	/* DOCUMENT-END, then the end or a second document */
	ret = ydoc_stream_event(d, &ev);
	if (!ret) {
		yaml_event_delete(&ev);
		ret = ydoc_stream_event(d, &ev);
	}
	if (ret)
		return ret;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		/* said where its content starts, as for a policy */
		yaml_event_delete(&ev);
		ret = ydoc_stream_event(d, &ev);
		if (ret)
			return ret;
		ret = ydoc_err_at(d, ev.start_mark, "more than one YAML "
				  "document (one intel set per file)");
	}
	yaml_event_delete(&ev);
	return ret;
}

static int parse_top(struct ydoc *d, struct intel *tmp, const char **updated)
{
	enum { VERSION, UPDATED, ENTRIES };
	struct yfield f[] = {
		[VERSION] = { .key = "version" }, [UPDATED] = { .key = "updated" },
		[ENTRIES] = { .key = "entries", .nested = true },
	};
	yaml_node_t *root;
	int ret, id;

	ret = stream_top(d, tmp, &id);
	if (ret)
		return ret;
	root = id ? ydoc_node(d, id) : NULL;
	if (!root || ydoc_is_null(root))
		return ydoc_err_at(d, (yaml_mark_t){},
				   "empty file: expected version and entries");
	if (root->type != YAML_MAPPING_NODE)
		return ydoc_err(d, root, "top level must be a mapping with version and entries");
	ret = ydoc_fields(d, root, f, ENTRIES + 1, "at top level");
	if (ret)
		return ret;
	if (!f[VERSION].k)
		return ydoc_err(d, root, "missing 'version'");
	if (strcmp(f[VERSION].s, "1"))
		return ydoc_err(d, f[VERSION].v, "unsupported version '%.16s' (this relaywatch reads 1)",
				f[VERSION].s);
	*updated = f[UPDATED].s;
	if (!f[ENTRIES].k)
		return ydoc_err(d, root, "missing 'entries'");
	if (f[ENTRIES].v->type != YAML_SEQUENCE_NODE)
		return ydoc_err(d, f[ENTRIES].v, "'entries' must be a list");
	return 0; /* the entries were parsed as they streamed by */
}

int intel_add_string(struct intel *in, const char *text, size_t len,
		     const char *name, char *err, size_t errlen)
{
	struct ydoc d = { .name = name ? name : "<string>", .err = err,
			  .errlen = errlen };
	const char *updated = NULL;
	struct intel *tmp = NULL;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	if (!in || (!text && len))
		return -EINVAL;
	ret = ydoc_stream_begin(&d, text, len);
	if (!ret && intel_new(&tmp))
		ret = ydoc_nomem(&d);
	if (!ret)
		ret = parse_top(&d, tmp, &updated);
	if (!ret && intel_merge(in, tmp, d.name, updated))
		ret = ydoc_nomem(&d);
	intel_free(tmp);
	ydoc_free(&d);
	return ret;
}

int intel_add_embedded(struct intel *in, char *err, size_t errlen)
{
	return intel_add_string(in, intel_yaml, intel_yaml_len, "<embedded>",
				err, errlen);
}

static int is_yaml(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	       !strcmp(d->d_name + n - 5, ".yaml");
}

int intel_dir_files(const char *dir, char ***paths, size_t *nr)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, is_yaml, alphasort);
	int ret = 0;

	*paths = NULL;
	*nr = 0;
	if (n < 0)
		return -errno;
	*paths = calloc(n ? n : 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		if (*paths && !ret &&
		    asprintf(&(*paths)[i], "%s/%s", dir, ents[i]->d_name) < 0)
			ret = -ENOMEM;
		else if (*paths && !ret)
			(*nr)++;
		free(ents[i]);
	}
	free(ents);
	if (!*paths)
		return -ENOMEM;
	return ret;
}

static int add_dir(struct intel *in, const char *dir, char *err,
		   size_t errlen)
{
	char **paths;
	size_t nr;
	int ret = intel_dir_files(dir, &paths, &nr);

	if (ret)
		snprintf(err, errlen, "%s: %s", dir, strerror(-ret));
	for (size_t i = 0; !ret && i < nr; i++)
		ret = intel_add_file(in, paths[i], err, errlen);
	for (size_t i = 0; i < nr; i++)
		free(paths[i]);
	free(paths);
	return ret;
}

int intel_add_file(struct intel *in, const char *path, char *err,
		   size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	struct stat st;
	int ret;

	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return add_dir(in, path, err, errlen);
	ret = ydoc_read_file(path, INTEL_MAX_SIZE, &text, &len, err, errlen);
	if (ret)
		return ret;
	ret = intel_add_string(in, text, len, path, err, errlen);
	free(text);
	return ret;
}
