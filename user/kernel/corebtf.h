/* SPDX-License-Identifier: MIT */
#ifndef RW_COREBTF_H
#define RW_COREBTF_H

#include <bpf/btf.h>

/*
 * The BTF an instance of the object applies its CO-RE relocations
 * against, when it need not be the kernel's: libbpf parses the kernel's
 * BTF (5 MB, ~45 ms of CPU on 6.18, more when two threads fault its pages
 * in at once) for every instance that has relocations, unless it is given
 * one of its own (btf_custom_path).
 *
 * corebtf_tiny: one type; for the instance that loads no program.
 * corebtf_ctx: the object's own copies of the context structs of the
 * cgroup programs (__sk_buff, bpf_sock, bpf_sock_addr, bpf_tcp_sock:
 * UAPI, the same layout on every kernel), every other named struct,
 * union and enum hidden, so a relocation against a kernel-internal type
 * finds nothing (libbpf poisons its instruction, and the verifier refuses
 * it if it is reached) instead of the build machine's layout.
 */
struct btf *corebtf_tiny(void);
struct btf *corebtf_ctx(const struct btf *obj);
/*
 * corebtf_kernel: for the tracing programs, the kernel's own definition
 * of each struct and union the object names, read from its BTF without
 * libbpf's parse (mapped where the kernel allows it, 6.16+): pointers in
 * them lead nowhere (each step through one is a relocation of its own),
 * what they hold by value is copied whole. NULL if the kernel's BTF is
 * missing or has a kind this build does not know: the caller lets libbpf
 * parse it.
 */
struct btf *corebtf_kernel(const struct btf *obj);

/* b in a memfd, and its /proc/self/fd path in path; the fd or -errno */
int corebtf_memfd(const struct btf *b, char *path, size_t len);

#endif
