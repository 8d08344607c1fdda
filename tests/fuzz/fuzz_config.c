// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the parsers of what an administrator or a feed
 * hands the daemon: the policy (YAML), the intelligence (YAML) and an
 * RIR delegated-stats file. CONFIG_FUZZ picks one: policy, intel, rir
 * (default: all three on every input). Beyond what ASan/UBSan catch:
 * a refused input must say why, each line naming its source, an
 * accepted one must hold what the parser promises (rules within the
 * limit, every intel entry a domain or a CIDR, a country table that
 * answers lookups).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "geo.h"
#include "intel.h"
#include "policy.h"
#include "relaywatch.h"

enum { F_POLICY = 1, F_INTEL = 2, F_RIR = 4 };

static int which = F_POLICY | F_INTEL | F_RIR;

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_config: broken invariant: %s\n", what);
		abort();
	}
}

/* an error says why, each of its lines naming the input (the policy's
 * lists every bad rule, a line each) */
static void check_err(const char *err, const char *name)
{
	check(err[0] != 0, "an error with no message");
	for (const char *l = err; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		check(!strncmp(l, name, strlen(name)) || strstr(l, name),
		      "a message line that does not name the file");
}

static void fuzz_policy(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	char err[1024] = "";

	if (policy_load_string((const char *)data, size, "fuzz.yaml", &p, err,
			       sizeof(err))) {
		check_err(err, "fuzz.yaml");
		return;
	}
	check(p->nr_rules <= RW_MAX_RULES, "more rules than the kernel holds");
	for (size_t i = 0; i < p->nr_rules; i++)
		check(p->rules[i].name[0] != 0, "a rule without a name");
	policy_free(p);
}

static void fuzz_intel(const uint8_t *data, size_t size)
{
	struct intel *in = NULL;
	char err[1024] = "";
	size_t n;

	if (intel_new(&in))
		return;
	if (intel_add_string(in, (const char *)data, size, "fuzz.yaml", err,
			     sizeof(err))) {
		check_err(err, "fuzz.yaml");
		check(intel_count(in, INTEL_CAT_NONE) == 0,
		      "a refused file left entries behind");
	} else {
		n = intel_count(in, INTEL_CAT_NONE);
		for (size_t i = 0; i < n; i++) {
			const struct intel_entry *e = intel_entry(in, i);

			check(e != NULL, "an entry missing from its index");
			check(e->is_cidr || (e->domain && e->domain[0]),
			      "an entry with neither domain nor cidr");
			if (!e->is_cidr && !e->wildcard)
				check(intel_lookup_name(in, e->domain) != NULL,
				      "an entry its own name does not find");
		}
	}
	intel_free(in);
}

static void fuzz_rir(const uint8_t *data, size_t size)
{
	int fd = memfd_create("rir", 0);
	char path[64], err[1024] = "";
	struct geo *g = NULL;

	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (geo_load_rir_file(&g, path, err, sizeof(err))) {
			check_err(err, path);
		} else {
			__u8 a4[4] = { 1, 2, 3, 4 }, a6[16] = { 0x20, 1 };

			/* any answer, as long as lookups work */
			geo_country(g, 2, a4);
			geo_country(g, 10, a6);
			geo_free(g);
		}
	}
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *w = getenv("CONFIG_FUZZ");

	(void)argc;
	(void)argv;
	if (w && !strcmp(w, "policy"))
		which = F_POLICY;
	else if (w && !strcmp(w, "intel"))
		which = F_INTEL;
	else if (w && !strcmp(w, "rir"))
		which = F_RIR;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (which & F_POLICY)
		fuzz_policy(data, size);
	if (which & F_INTEL)
		fuzz_intel(data, size);
	if (which & F_RIR)
		fuzz_rir(data, size);
	return 0;
}
