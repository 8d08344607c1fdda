// SPDX-License-Identifier: MIT
/*
 * The default intelligence, etc/intel/endpoints.yaml, embedded at build
 * time. The .incbin path is relative to the directory the compiler runs in
 * (the repository root); the Makefile makes this object depend on the YAML,
 * which -MMD cannot see. A NUL follows the data so it is also a C string.
 */
#include "intel.h"

__asm__(
	"	.pushsection .rodata, \"a\"\n"
	"	.balign 16\n"
	"	.globl intel_yaml\n"
	"	.type intel_yaml, @object\n"
	"intel_yaml:\n"
	"	.incbin \"etc/intel/endpoints.yaml\"\n"
	"intel_yaml_end:\n"
	"	.byte 0\n"
	"	.size intel_yaml, . - intel_yaml\n"
	"	.balign 4\n"
	"	.globl intel_yaml_len\n"
	"	.type intel_yaml_len, @object\n"
	"intel_yaml_len:\n"
	"	.long intel_yaml_end - intel_yaml\n"
	"	.size intel_yaml_len, 4\n"
	"	.popsection\n");
