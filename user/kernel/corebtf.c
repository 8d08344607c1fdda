// SPDX-License-Identifier: MIT
/*
 * Custom BTF for CO-RE (corebtf.h): what spares an instance of the object
 * a parse of the kernel's BTF.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
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
