// SPDX-License-Identifier: MIT
/*
 * `relaywatch intel show NAME`: one entry of the intelligence as its
 * file has it (key, category, provider, confidence, the notes after
 * the entry that name its evidence) and where: file:line. The built-in
 * set is etc/intel/endpoints.yaml compiled in, so a user can find the
 * line in the source tree; its source keys (S1..S10) are spelled out
 * from docs/intel.md's table.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>

#include "check.h"
#include "config.h"
#include "intel.h"
#include "log.h"

#define BUILTIN "etc/intel/endpoints.yaml"

static const char intel_help[] =
"usage: relaywatch intel show NAME [--policy FILE] [--intel FILE] [--json]\n"
"\n"
"Prints an entry of the intelligence: its domain or CIDR, category,\n"
"provider, confidence, the notes its file gives as its source (URLs,\n"
"source keys, spelled out), and FILE:LINE. The built-in entries are\n"
"etc/intel/endpoints.yaml of relaywatch's source. NAME is an entry's\n"
"key (api.openai.com, \"*.openai.com\", 160.79.104.0/23), or a name or\n"
"address an entry covers. Not in the intelligence: exit 2.\n"
"\n"
"  --policy FILE   also the intel: files this policy names\n"
"  --intel FILE    an extra intelligence file, merged last\n"
"  --json          one JSON object instead of text\n"
"\n"
"EXAMPLES\n"
"  relaywatch intel show api.openai.com\n"
"  relaywatch intel show 160.79.104.10\n";

/* docs/intel.md, "Source keys": what the notes' keys stand for */
static const struct {
	const char *key, *what;
} source_keys[] = {
	{ "S1", "Cherry Studio, https://github.com/CherryHQ/cherry-studio" },
	{ "S2", "One API, https://github.com/songquanpeng/one-api" },
	{ "S3", "New API, https://github.com/QuantumNous/new-api" },
	{ "S4", "LiteLLM, https://github.com/BerriAI/litellm" },
	{ "S5", "an LLM-router's provider preset table (repository not "
		"recorded)" },
	{ "S6", "TruffleHog detectors, "
		"https://github.com/trufflesecurity/trufflehog" },
	{ "S7", "Gitleaks rules, https://github.com/gitleaks/gitleaks" },
	{ "S8", "ai-proxy-rules, https://github.com/VPSDance/ai-proxy-rules" },
	{ "S9", "\"API 中转站大全\", https://github.com/jiaqing77cn/levogat-ai-api" },
	{ "S10", "a third-party URL-filter blocklist of relay domains "
		 "(repository not recorded)" },
};

void intel_where(const struct intel_entry *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%d", strcmp(e->source, "<embedded>") ?
		 e->source : BUILTIN, e->line);
}

/* line n (1-based) of the entry's source, into buf; 0 or -ENOENT */
static int source_line(const struct intel_entry *e, char *buf, size_t len)
{
	const char *p = intel_yaml;
	int n = 1, ret = -ENOENT;
	FILE *f;

	if (!strcmp(e->source, "<embedded>")) {
		for (; *p && n < e->line; p++)
			n += *p == '\n';
		snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
		return *p ? 0 : -ENOENT;
	}
	f = fopen(e->source, "r");
	if (!f)
		return -ENOENT;
	while (fgets(buf, len, f))
		if (n++ == e->line) {
			buf[strcspn(buf, "\n")] = 0;
			ret = 0;
			break;
		}
	fclose(f);
	return ret;
}

/* the comment of a YAML line: after a '#' outside quotes, trimmed */
static const char *comment(const char *line)
{
	char q = 0;

	for (const char *p = line; *p; p++) {
		if (q) {
			q = *p == q ? 0 : q;
		} else if (*p == '"' || *p == '\'') {
			q = *p;
		} else if (*p == '#' && (p == line || p[-1] == ' ' ||
					 p[-1] == '\t')) {
			for (p++; *p == ' '; p++)
				;
			return p;
		}
	}
	return "";
}

/* the key as the file writes it */
static void key_of(const struct intel_entry *e, char *buf, size_t len)
{
	if (e->is_cidr)
		cidr_format(&e->cidr, buf, len);
	else
		snprintf(buf, len, "%s%s", e->wildcard ? "*." : "", e->domain);
}

static const struct intel_entry *find(const struct intel *in,
				      const char *name)
{
	const struct intel_entry *e;
	char key[INTEL_NAME_MAX + 8];
	size_t n = strlen(name);

	if (n && name[n - 1] == '.')
		n--;
	for (size_t i = 0; (e = intel_entry(in, i)); i++) {
		key_of(e, key, sizeof(key));
		if (strlen(key) == n && !strncasecmp(key, name, n))
			return e;
	}
	return intel_lookup(in, name);
}

/* the source keys a note names, spelled out */
static void keys_named(const char *note, json_object *arr)
{
	for (size_t i = 0; i < sizeof(source_keys) / sizeof(source_keys[0]);
	     i++) {
		const char *k = source_keys[i].key, *p = note;
		size_t kl = strlen(k);

		while ((p = strstr(p, k))) {
			bool start = p == note || !isalnum((unsigned char)p[-1]);

			if (start && !isalnum((unsigned char)p[kl])) {
				char s[200];

				snprintf(s, sizeof(s), "%s: %s", k,
					 source_keys[i].what);
				json_object_array_add(arr,
						      json_object_new_string(s));
				break;
			}
			p += kl;
		}
	}
}

static void str(json_object *j, const char *k, const char *v)
{
	json_object_object_add(j, k, v && *v ? json_object_new_string(v) :
						NULL);
}

static int parse(int argc, char **argv, const char **policy,
		 const char **intel, bool *json)
{
	static const struct option longs[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "intel", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		switch (c) {
		case 'p': *policy = optarg; break;
		case 'i': *intel = optarg; break;
		case 'j': *json = true; break;
		case 'h':
			fputs(intel_help, stdout);
			exit(0);
		default:
			pr_warn("unknown option '%s' (see relaywatch intel "
				"--help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		pr_warn("usage: relaywatch intel show NAME (see relaywatch "
			"intel --help)");
		return -EINVAL;
	}
	return 0;
}

int cmd_intel(int argc, char **argv)
{
	const char *policy = NULL, *intel = NULL, *name, *note = "";
	char err[1024], key[INTEL_NAME_MAX + 8], where[4200], line[4096];
	const struct intel_entry *e;
	json_object *j, *keys;
	bool json = false;
	struct config c;
	int ret = 2;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(intel_help, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "show")) {
		pr_warn("usage: relaywatch intel show NAME (see relaywatch "
			"intel --help)");
		return 2;
	}
	if (parse(argc - 1, argv + 1, &policy, &intel, &json))
		return 2;
	name = argv[optind + 1];
	if (config_load(&c, policy, intel, false, err, sizeof(err))) {
		pr_warn("%s", err);
		return 2;
	}
	e = find(c.intel, name);
	if (!e) {
		pr_warn("%s is not in the intelligence (the built-in set%s)",
			name, policy || intel ? " and the files given" : "");
		goto out;
	}
	key_of(e, key, sizeof(key));
	intel_where(e, where, sizeof(where));
	if (!source_line(e, line, sizeof(line)))
		note = comment(line);
	keys = json_object_new_array();
	keys_named(note, keys);
	j = json_object_new_object();
#define S(k, v) str(j, k, v)
	S("name", name);
	S(e->is_cidr ? "cidr" : "domain", key);
	S("category", intel_category_name(e->category));
	S("provider", e->provider);
	S("confidence", intel_confidence_name(e->confidence));
	S("notes", note);
	json_object_object_add(j, "source_keys", keys);
	S("source", where);
#undef S
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(j,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		if (strcasecmp(key, name))
			printf("%s: covered by %s\n", name, key);
		printf("%s\n", key);
		printf("  category    %s\n", intel_category_name(e->category));
		printf("  provider    %s\n", e->provider ? e->provider : "-");
		printf("  confidence  %s\n", *intel_confidence_name(e->confidence) ?
		       intel_confidence_name(e->confidence) : "-");
		printf("  notes       %s\n", *note ? note : "-");
		for (size_t i = 0; i < json_object_array_length(keys); i++)
			printf("              %s\n", json_object_get_string(
				json_object_array_get_idx(keys, i)));
		printf("  source      %s%s\n", where,
		       strcmp(e->source, "<embedded>") ? "" :
		       " (built in; the source keys: docs/intel.md)");
	}
	json_object_put(j);
	ret = 0;
out:
	config_free(&c);
	return ret;
}
