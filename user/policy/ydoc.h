/* SPDX-License-Identifier: MIT */
/*
 * What the YAML loaders (policy, intel) share. A file is loaded whole with
 * libyaml's document API, which keeps each node's position, then walked;
 * the first problem becomes one line, "NAME:LINE:COL: reason" (1-based),
 * and the walk stops. Every ydoc_err*() returns -EINVAL so that callers
 * can `return ydoc_err(...)`. Not named yaml.h: with -Iuser it would hide
 * libyaml's own header.
 */
#ifndef RW_YDOC_H
#define RW_YDOC_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>
#include "names.h"


/* One load: where messages go and the document being walked. */
struct ydoc {
	const char *name;       /* stands for FILE in messages */
	char *err;              /* may be NULL */
	size_t errlen;
	yaml_parser_t parser;
	yaml_document_t doc;
	bool loaded;
	const char *text;       /* streaming: the input, for messages */
	size_t len;
	bool collect;           /* errors add lines to err, not replace it */
	size_t nr_errors;       /* errors reported (ydoc_err*) */
	size_t dropped;         /* collected errors that did not fit in err */
};

/* A known key of a mapping; k and v stay NULL when the key is absent. */
struct yfield {
	const char *key;
	bool nested;            /* a list or mapping: the caller checks it */
	yaml_node_t *k;
	yaml_node_t *v;
	const char *s;          /* the text of a single-valued field */
};

/* aliases (*name) a file may use: enough for shared match blocks */
#define YDOC_MAX_ALIASES 64

/*
 * Parse text (need not be NUL-terminated) into d->doc. More than
 * YDOC_MAX_ALIASES aliases are refused at the first one over. A syntax error or a
 * second "---" document is reported; what names the one thing a file holds
 * ("one policy per file"). 0, -EINVAL or -ENOMEM; ydoc_free() in any case.
 */
int ydoc_load(struct ydoc *d, const char *text, size_t len, const char *what);

/*
 * Streaming, for files too big to hold as a document (intelligence): the
 * parser's events are read one by one, and a node of interest is built
 * into a small document of the caller's (positions kept) and dropped
 * after use. Aliases are refused there. ydoc_free() ends it.
 */
#define YDOC_MAX_DEPTH 32
int ydoc_stream_begin(struct ydoc *d, const char *text, size_t len);
/* the next event (the caller deletes it), or a syntax error */
int ydoc_stream_event(struct ydoc *d, yaml_event_t *ev);
/* the node that starts with ev (taken), all of it, into doc; its id */
int ydoc_stream_node(struct ydoc *d, yaml_event_t *ev, yaml_document_t *doc,
		     int *id);
void ydoc_free(struct ydoc *d);

/* The root node, NULL for an empty document. */
yaml_node_t *ydoc_root(struct ydoc *d);
yaml_node_t *ydoc_node(struct ydoc *d, int id);

__attribute__((format(printf, 3, 4)))
int ydoc_err_at(struct ydoc *d, yaml_mark_t m, const char *fmt, ...);
#define ydoc_err(d, node, ...) ydoc_err_at(d, (node)->start_mark, __VA_ARGS__)
int ydoc_nomem(struct ydoc *d);

static inline const char *ydoc_str(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* YAML's null: an unquoted empty value, "~" or "null". */
bool ydoc_is_null(const yaml_node_t *n);

/*
 * Fill f[] from a mapping. Unknown, repeated or non-string keys are errors
 * (YAML itself lets a repeated key silently override the first); a field
 * that is not nested must hold one non-null string, left in f->s. where
 * ends the messages: "in rule", "at top level".
 */
int ydoc_fields(struct ydoc *d, yaml_node_t *map, struct yfield *f, size_t nf,
		const char *where);
/* f->v as one non-null string without NUL bytes, into f->s */
int ydoc_field_str(struct ydoc *d, struct yfield *f);

/* Parses one entry e of a list field into out (an element of the array). */
typedef int (*ydoc_entry_fn)(struct ydoc *d, const struct yfield *f,
			     const yaml_node_t *e, void *out, const void *arg);
/*
 * A field holding one string or a non-empty list of them, into a new
 * zeroed array (*(void **)arr) of size-byte elements, each filled by fn.
 * *nr counts the elements fn filled, even on error, for the caller to free
 * them. one and many describe the entries in messages: "a prefix",
 * "addresses or prefixes".
 */
int ydoc_list(struct ydoc *d, const struct yfield *f, const char *one,
	      const char *many, size_t size, void *arr, size_t *nr,
	      ydoc_entry_fn fn, const void *arg);

/* f->s as the value v in [from, to) whose name(v) it is (NULL names are
 * skipped); the error lists them: "bad proto 'icmp' (expected tcp or udp)" */
int ydoc_enum(struct ydoc *d, const struct yfield *f,
	      const char *(*name)(int v), int from, int to, int *out);
/* f->s as plain decimal in [min, max] */
int ydoc_uint(struct ydoc *d, const struct yfield *f, unsigned int min,
	      unsigned int max, unsigned int *out);
/* A port or a non-empty list of them, each 1..65535, at most max, none
 * twice, into out; *nr how many */
int ydoc_ports(struct ydoc *d, const struct yfield *f, __u16 *out,
	       size_t max, size_t *nr);
/* f->s as true or false (any case) */
int ydoc_bool(struct ydoc *d, const struct yfield *f, bool *out);
/* f->s as min..max hex digits, lower-cased into out (max + 1 bytes);
 * expect ends the message: "bad sha256 'xyz' (expected 64 hex digits)" */
int ydoc_hex(struct ydoc *d, const struct yfield *f, size_t min, size_t max,
	     const char *expect, char *out);

/* The whole file into *out (malloc'ed), at most max bytes. 0 or -errno
 * (-EFBIG when larger); err gets "cannot read PATH: reason". */
int ydoc_read_file(const char *path, size_t max, char **out, size_t *len,
		   char *err, size_t errlen);

/* index of s in names[from..to), exact match; -1 if absent */
int str_index(const char *const *names, int from, int to, const char *s);
/* 1..max bytes and no control characters (they would garble output) */
bool str_printable(const char *s, size_t max);

/* e as a host name or "*.suffix", in the form hostname_norm() gives, into
 * out (HOSTNAME_MAX + 3 bytes): "*.Example.COM." -> "*.example.com". An
 * address is refused: SNI and DNS never carry one, so it could not match. */
int ydoc_hostname(struct ydoc *d, const yaml_node_t *e, char *out);

#endif
