// SPDX-License-Identifier: MIT
/*
 * The BTF the loader relocates against instead of libbpf's parse of the
 * kernel's (user/kernel/corebtf.c): the kernel's types as corebtf_kernel
 * copies them must be the kernel's, member for member, and every program
 * the loader loads that way must come out of the kernel the same, insn
 * for insn, as one relocated against the kernel's whole BTF by libbpf.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "integ/harness.h"
#include "corebtf.h"
#include "loader.h"
#include "progload.h"
#include "relaywatch.skel.h"
#include "util.h"

static struct h_env env;

static int setup(void **state)
{
	(void)state;
	return h_setup(&env, "corebtf");
}

static int teardown(void **state)
{
	(void)state;
	h_teardown(&env);
	return 0;
}

static const struct btf *object_btf(struct relaywatch **skel)
{
	*skel = relaywatch__open();
	assert_non_null(*skel);
	return bpf_object__btf((*skel)->obj);
}

/* member i of a and b: name, place and kind (a's pointers lead to void) */
static void same_member(const struct btf *a, const struct btf_type *ta,
			const struct btf *b, const struct btf_type *tb,
			__u32 i, const char *type)
{
	const struct btf_member *ma = btf_members(ta) + i;
	const struct btf_member *mb = btf_members(tb) + i;
	const struct btf_type *ka = btf__type_by_id(a, ma->type);
	const struct btf_type *kb = btf__type_by_id(b, mb->type);

	if (strcmp(btf__name_by_offset(a, ma->name_off),
		   btf__name_by_offset(b, mb->name_off)) ||
	    btf_member_bit_offset(ta, i) != btf_member_bit_offset(tb, i) ||
	    btf_member_bitfield_size(ta, i) != btf_member_bitfield_size(tb, i))
		fail_msg("%s: member %u (%s) differs", type, i,
			 btf__name_by_offset(b, mb->name_off));
	/* modifiers dropped, typedefs kept */
	while (btf_is_mod(kb) || btf_is_type_tag(kb))
		kb = btf__type_by_id(b, kb->type);
	if (btf_kind(ka) != btf_kind(kb))
		fail_msg("%s.%s: kind %u, the kernel's %u", type,
			 btf__name_by_offset(b, mb->name_off), btf_kind(ka),
			 btf_kind(kb));
	if (btf_is_ptr(ka))
		assert_int_equal(ka->type, 0);
	else if (btf_is_int(ka) || btf_is_composite(ka) || btf_is_any_enum(ka))
		assert_int_equal(ka->size, kb->size);
}

/* every named struct and union of the copy is the kernel's */
static void t_kernel_types(void **state)
{
	struct relaywatch *skel;
	struct btf *mini = corebtf_kernel(object_btf(&skel));
	struct btf *kern = btf__load_vmlinux_btf();
	static const char *const needed[] = {
		"task_struct", "mm_struct", "linux_binprm", "file", "inode",
		"super_block", "css_set", "cgroup", "kernfs_node", "pt_regs",
	};
	int checked = 0;

	(void)state;
	assert_non_null(mini);
	assert_non_null(kern);
	for (size_t i = 0; i < ARRAY_SIZE(needed); i++)
		if (btf__find_by_name_kind(mini, needed[i],
					   BTF_KIND_STRUCT) <= 0)
			fail_msg("%s missing from the copy", needed[i]);
	for (__u32 id = 1; id < btf__type_cnt(mini); id++) {
		const struct btf_type *t = btf__type_by_id(mini, id), *k;
		const char *name = btf__name_by_offset(mini, t->name_off);
		int kid;

		if (!btf_is_composite(t) || !*name)
			continue;
		kid = btf__find_by_name_kind(kern, name, btf_kind(t));
		assert_true(kid > 0);
		k = btf__type_by_id(kern, kid);
		assert_int_equal(t->size, k->size);
		assert_int_equal(btf_vlen(t), btf_vlen(k));
		for (__u32 i = 0; i < btf_vlen(t); i++)
			same_member(mini, t, kern, k, i, name);
		checked++;
	}
	/* the object names ~100 kernel structs: most of them are there */
	assert_true(checked >= 50);
	btf__free(kern);
	btf__free(mini);
	relaywatch__destroy(skel);
}

static int xlated(int fd, void **insns, __u32 *len)
{
	struct bpf_prog_info info = {};
	__u32 sz = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &sz))
		return -errno;
	*len = info.xlated_prog_len;
	*insns = calloc(1, *len ? *len : 1);
	if (!*insns)
		return -ENOMEM;
	memset(&info, 0, sizeof(info));
	info.xlated_prog_len = *len;
	info.xlated_prog_insns = (__u64)(unsigned long)*insns;
	sz = sizeof(info);
	return bpf_obj_get_info_by_fd(fd, &info, &sz) ? -errno : 0;
}

/* the loader's programs against the same ones relocated by libbpf
 * against the kernel's whole BTF, sharing the loader's maps */
static void t_same_code(void **state)
{
	struct loader_opts lo = { .cgroup = env.cg };
	struct relaywatch *ref;
	struct bpf_program *p;
	struct bpf_map *m;
	struct loader l;
	int compared = 0, tracing = 0;

	(void)state;
	assert_int_equal(loader_open(&l, &lo), 0);
	ref = relaywatch__open();
	assert_non_null(ref);
	bpf_object__for_each_program(p, ref->obj)
		bpf_program__set_autoload(p, false);
	bpf_object__for_each_map(m, ref->obj)
		assert_int_equal(bpf_map__reuse_fd(m, bpf_map__fd(
			bpf_object__find_map_by_name(l.skel->obj,
						     bpf_map__name(m)))), 0);
	for (int i = 0; i < l.nr_progs; i++)
		if (l.progs[i].fd >= 0)
			bpf_program__set_autoload(bpf_object__find_program_by_name(
				ref->obj, l.progs[i].name), true);
	assert_int_equal(bpf_object__load(ref->obj), 0);
	for (int i = 0; i < l.nr_progs; i++) {
		const struct prog_state *ps = &l.progs[i];
		void *a, *b;
		__u32 la, lb;

		if (ps->fd < 0)
			continue;
		assert_int_equal(xlated(ps->fd, &a, &la), 0);
		assert_int_equal(xlated(bpf_program__fd(
			bpf_object__find_program_by_name(ref->obj, ps->name)),
			&b, &lb), 0);
		assert_true(la > 0);
		if (la != lb || memcmp(a, b, la))
			fail_msg("%s: %u bytes of code, %u relocated against "
				 "the kernel's BTF, or other bytes", ps->name,
				 la, lb);
		free(a);
		free(b);
		compared++;
		tracing += !ps->cgroup;
	}
	assert_int_equal(tracing, 5);
	assert_true(compared >= 11);
	relaywatch__destroy(ref);
	loader_close(&l, LOADER_FAIL);
}

/* the control: the relocations matter (a BTF without the kernel's
 * task_struct leaves handle_exec's reads poisoned: the kernel refuses
 * it), so the same code above is the kernel's layout, not chance */
static void t_relocations_matter(void **state)
{
	struct relaywatch *skel, *w;
	struct btf *ctx = corebtf_ctx(object_btf(&skel));
	char path[64];
	int fd = ctx ? corebtf_memfd(ctx, path, sizeof(path)) : -1;
	struct bpf_program *p;

	(void)state;
	assert_true(fd >= 0);
	{
		LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = path);

		w = relaywatch__open_opts(&oo);
	}
	assert_non_null(w);
	bpf_object__for_each_program(p, w->obj)
		bpf_program__set_autoload(p, !strcmp(bpf_program__name(p),
						     "handle_exec"));
	assert_int_not_equal(bpf_object__load(w->obj), 0);
	relaywatch__destroy(w);
	close(fd);
	btf__free(ctx);
	relaywatch__destroy(skel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_kernel_types),
		cmocka_unit_test_setup_teardown(t_same_code, setup, teardown),
		cmocka_unit_test(t_relocations_matter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
