// SPDX-License-Identifier: MIT
/*
 * Custom BTF for CO-RE (corebtf.h): what spares an instance of the object
 * a parse of the kernel's BTF.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/btf.h>
#include <bpf/btf.h>

#include "corebtf.h"
#include "util.h"

struct btf *corebtf_tiny(void)
{
	struct btf *b = btf__new_empty();

	if (b && btf__add_int(b, "int", 4, BTF_INT_SIGNED) <= 0) {
		btf__free(b);
		return NULL;
	}
	return b;
}

/* the cgroup programs' context structs: UAPI, never changed in place */
static const char *const ctx_structs[] = {
	"__sk_buff", "bpf_sock", "bpf_sock_addr", "bpf_tcp_sock",
};

static bool ctx_struct(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ctx_structs); i++)
		if (!strcmp(name, ctx_structs[i]))
			return true;
	return false;
}

/*
 * A copy of obj, type for type (the ids stay, so every reference stays
 * right), where each named struct, union, enum or forward declaration
 * that is no context struct becomes a one-byte int of another name.
 */
struct btf *corebtf_ctx(const struct btf *obj)
{
	struct btf *b = btf__new_empty();
	__u32 n = obj ? btf__type_cnt(obj) : 0;

	if (!b || !n)
		goto fail;
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(obj, id);
		const char *name = btf__name_by_offset(obj, t->name_off);
		bool hide = name && *name && !ctx_struct(name) &&
			    (btf_is_composite(t) || btf_is_fwd(t) ||
			     btf_is_any_enum(t));
		int ret = hide ? btf__add_int(b, "rw_hidden", 1, 0) :
				 btf__add_type(b, obj, t);

		if (ret != (int)id)
			goto fail;
	}
	return b;
fail:
	btf__free(b);
	return NULL;
}

int corebtf_memfd(const struct btf *b, char *path, size_t len)
{
	int fd = memfd_create("relaywatch-btf", MFD_CLOEXEC);
	const void *raw;
	__u32 sz;

	if (fd < 0)
		return -errno;
	raw = btf__raw_data(b, &sz);
	if (!raw || write(fd, raw, sz) != (ssize_t)sz) {
		close(fd);
		return -EIO;
	}
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/* ---- the kernel's own types, as few as the tracing programs need ------ */

#define KBTF_PATH "/sys/kernel/btf/vmlinux"
#define KBTF_DEPTH 32 /* structs within structs, by value */

/* the kernel's BTF as it is: mapped (Linux 6.16+) or read */
struct kraw {
	const __u8 *types;
	const char *strs;
	__u32 types_len, strs_len;
	__u32 *off;     /* type id -> its offset in types (id 0: void) */
	__u32 nr;       /* ids, void included */
	void *map;
	size_t map_len;
	void *buf;
};

static void kraw_free(struct kraw *k)
{
	if (k->map)
		munmap(k->map, k->map_len);
	free(k->buf);
	free(k->off);
}

/* bytes that follow a type's common part, by kind; -1: a kind this
 * build does not know (the caller falls back to libbpf's parse) */
static long extra_len(const struct btf_type *t)
{
	__u32 vlen = btf_vlen(t);

	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)vlen * sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)vlen * sizeof(struct btf_enum);
	case BTF_KIND_ENUM64:
		return (long)vlen * sizeof(struct btf_enum64);
	case BTF_KIND_FUNC_PROTO:
		return (long)vlen * sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return (long)vlen * sizeof(struct btf_var_secinfo);
	default:
		return -1;
	}
}

static int kraw_open(struct kraw *k)
{
	const struct btf_header *h;
	struct stat st;
	const __u8 *raw;
	size_t len, got = 0;
	int fd = open(KBTF_PATH, O_RDONLY | O_CLOEXEC), ret = -EINVAL;

	memset(k, 0, sizeof(*k));
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) || st.st_size < (off_t)sizeof(*h) ||
	    st.st_size > 256 << 20)
		goto out;
	len = st.st_size;
	/* mapped, the kernel's pages are used as they are; before 6.16 its
	 * sysfs file cannot be mapped: a copy */
	k->map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (k->map == MAP_FAILED) {
		k->map = NULL;
		k->buf = malloc(len);
		if (!k->buf) {
			ret = -ENOMEM;
			goto out;
		}
		while (got < len) {
			ssize_t n = read(fd, (char *)k->buf + got, len - got);

			if (n <= 0)
				break;
			got += n;
		}
		if (got != len)
			goto out;
		raw = k->buf;
	} else {
		k->map_len = len;
		raw = k->map;
	}
	h = (const struct btf_header *)raw;
	if (h->magic != BTF_MAGIC || h->version != BTF_VERSION ||
	    h->hdr_len < sizeof(*h) || h->hdr_len > len ||
	    h->type_off % 4 || h->type_len > len - h->hdr_len ||
	    h->type_off > len - h->hdr_len - h->type_len ||
	    h->str_len > len - h->hdr_len ||
	    h->str_off > len - h->hdr_len - h->str_len || !h->str_len)
		goto out;
	k->types = raw + h->hdr_len + h->type_off;
	k->types_len = h->type_len;
	k->strs = (const char *)raw + h->hdr_len + h->str_off;
	k->strs_len = h->str_len;
	if (k->strs[k->strs_len - 1])
		goto out;
	/* at least 12 bytes a type */
	k->off = malloc((k->types_len / sizeof(struct btf_type) + 1) *
			sizeof(*k->off));
	if (!k->off) {
		ret = -ENOMEM;
		goto out;
	}
	k->off[k->nr++] = 0;
	for (__u32 p = 0; p < k->types_len;) {
		const struct btf_type *t = (const void *)(k->types + p);
		long extra;

		if (k->types_len - p < sizeof(*t))
			goto out;
		extra = extra_len(t);
		if (extra < 0 || k->types_len - p - sizeof(*t) < (__u64)extra)
			goto out;
		k->off[k->nr++] = p;
		p += sizeof(*t) + extra;
	}
	ret = 0;
out:
	close(fd);
	if (ret)
		kraw_free(k);
	return ret;
}

static const struct btf_type *ktype(const struct kraw *k, __u32 id)
{
	return id && id < k->nr ? (const void *)(k->types + k->off[id]) : NULL;
}

static const char *kname(const struct kraw *k, __u32 off)
{
	return off < k->strs_len ? k->strs + off : NULL;
}

struct kcopy {
	const struct kraw *k;
	struct btf *b;
	__u32 *memo;    /* kernel id -> id in b */
	int void_ptr;   /* b's void *, once made */
};

/*
 * Kernel type id into c->b: what a CO-RE relocation compares. Pointers
 * become void * (libbpf only asks that a pointer be one: each step of a
 * walk through pointers is a relocation of its own, rooted at its own
 * named type); structs, unions and arrays held by value are copied with
 * every member, modifiers are dropped, typedefs kept.
 */
static int kcopy_type(struct kcopy *c, __u32 id, int depth)
{
	const struct btf_type *t = ktype(c->k, id);
	const char *name;
	int ret = -EINVAL;

	if (!id)
		return 0;
	if (!t || depth > KBTF_DEPTH)
		return -EINVAL;
	if (c->memo[id])
		return c->memo[id];
	name = kname(c->k, t->name_off);
	if (!name)
		return -EINVAL;
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		ret = btf__add_int(c->b, name, t->size, btf_int_encoding(t));
		break;
	case BTF_KIND_FLOAT:
		ret = btf__add_float(c->b, name, t->size);
		break;
	case BTF_KIND_PTR:
		if (!c->void_ptr)
			c->void_ptr = btf__add_ptr(c->b, 0);
		ret = c->void_ptr;
		break;
	case BTF_KIND_FWD:
		ret = btf__add_fwd(c->b, name, btf_kflag(t) ? BTF_FWD_UNION :
							  BTF_FWD_STRUCT);
		break;
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		ret = kcopy_type(c, t->type, depth + 1);
		break;
	case BTF_KIND_TYPEDEF:
		ret = kcopy_type(c, t->type, depth + 1);
		if (ret >= 0)
			ret = btf__add_typedef(c->b, name, ret);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		int elem = kcopy_type(c, a->type, depth + 1);
		int index = elem < 0 ? elem : kcopy_type(c, a->index_type,
							  depth + 1);

		ret = index < 0 ? index : btf__add_array(c->b, index, elem,
							 a->nelems);
		break;
	}
	case BTF_KIND_ENUM: {
		const struct btf_enum *e = btf_enum(t);

		ret = btf__add_enum(c->b, name, t->size);
		for (__u32 i = 0; ret > 0 && i < btf_vlen(t); i++) {
			const char *v = kname(c->k, e[i].name_off);
			__s64 val = btf_kflag(t) ? (__s64)e[i].val :
						   (__s64)(__u32)e[i].val;
			int r = v ? btf__add_enum_value(c->b, v, val) : -EINVAL;

			if (r < 0)
				ret = r;
		}
		break;
	}
	case BTF_KIND_ENUM64: {
		const struct btf_enum64 *e = btf_enum64(t);

		ret = btf__add_enum64(c->b, name, t->size, btf_kflag(t));
		for (__u32 i = 0; ret > 0 && i < btf_vlen(t); i++) {
			const char *v = kname(c->k, e[i].name_off);
			int r = v ? btf__add_enum64_value(c->b, v,
							 btf_enum64_value(&e[i]))
				  : -EINVAL;

			if (r < 0)
				ret = r;
		}
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = btf_members(t);
		__u32 vlen = btf_vlen(t);
		int *mt = calloc(vlen + 1, sizeof(*mt));

		if (!mt)
			return -ENOMEM;
		/* the members' types first: a struct's fields must follow
		 * it directly */
		ret = 0;
		for (__u32 i = 0; !ret && i < vlen; i++) {
			mt[i] = kcopy_type(c, m[i].type, depth + 1);
			if (mt[i] < 0)
				ret = mt[i];
		}
		if (!ret)
			ret = btf_is_struct(t) ?
				btf__add_struct(c->b, name, t->size) :
				btf__add_union(c->b, name, t->size);
		for (__u32 i = 0; ret > 0 && i < vlen; i++) {
			const char *mn = kname(c->k, m[i].name_off);
			int r = mn ? btf__add_field(c->b, mn, mt[i],
					btf_member_bit_offset(t, i),
					btf_member_bitfield_size(t, i)) :
				     -EINVAL;

			if (r < 0)
				ret = r;
		}
		free(mt);
		break;
	}
	default: /* functions are reached only through pointers */
		return -EINVAL;
	}
	if (ret > 0)
		c->memo[id] = ret;
	return ret;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* the object's named structs and unions, without their ___flavor
 * suffixes, sorted (the names a relocation can be rooted at) */
static char **wanted_names(const struct btf *obj, size_t *nr)
{
	__u32 n = btf__type_cnt(obj);
	char **v = calloc(n, sizeof(*v));
	size_t k = 0;

	if (!v)
		return NULL;
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(obj, id);
		const char *name = btf__name_by_offset(obj, t->name_off);
		const char *flavor;

		if (!btf_is_composite(t) || !name || !*name)
			continue;
		flavor = strstr(name, "___");
		v[k] = flavor ? strndup(name, flavor - name) : strdup(name);
		if (!v[k]) { /* a name missing would leave its type out */
			while (k)
				free(v[--k]);
			free(v);
			return NULL;
		}
		k++;
	}
	qsort(v, k, sizeof(*v), name_cmp);
	*nr = k;
	return v;
}

struct btf *corebtf_kernel(const struct btf *obj)
{
	struct kcopy c = {};
	struct kraw k;
	char **want = NULL;
	size_t nr_want = 0;
	int ret;

	if (!obj || kraw_open(&k))
		return NULL;
	c.k = &k;
	c.b = btf__new_empty();
	c.memo = calloc(k.nr, sizeof(*c.memo));
	want = wanted_names(obj, &nr_want);
	ret = c.b && c.memo && want ? 0 : -ENOMEM;
	for (__u32 id = 1; !ret && id < k.nr; id++) {
		const struct btf_type *t = ktype(&k, id);
		const char *name = kname(&k, t->name_off);

		if (btf_is_composite(t) && name && *name &&
		    bsearch(&name, want, nr_want, sizeof(*want), name_cmp)) {
			int r = kcopy_type(&c, id, 0);

			ret = r < 0 ? r : 0;
		}
	}
	for (size_t i = 0; want && i < nr_want; i++)
		free(want[i]);
	free(want);
	free(c.memo);
	kraw_free(&k);
	if (ret) {
		btf__free(c.b);
		return NULL;
	}
	return c.b;
}
