// SPDX-License-Identifier: MIT
/*
 * The features a kernel may lack (progload.h: enum rw_feature): what each
 * is called and what is lost without it, which are on after a load (a
 * feature is on when none of its programs failed), and why one is off,
 * for the warning, the start record and `relaywatch probe`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "loader.h"
#include "progload.h"

static const struct {
	const char *name, *loss;
} features[RW_F__MAX] = {
	[RW_F_CONNECT] = { "connect", "TCP connects and connected UDP are "
			   "not judged: nothing is denied or killed at connect" },
	[RW_F_SENDMSG] = { "sendmsg", "unconnected UDP sends (sendto, "
			   "sendmsg) are not judged" },
	[RW_F_DNS] = { "dns", "names from DNS answers are not known at "
		       "connect; name rules decide at the first bytes, others "
		       "by address" },
	[RW_F_FIRST_BYTES] = { "first-bytes", "TLS SNI, HTTP Host and proxy "
			       "requests are not read; name rules decide on "
			       "DNS answers only" },
	[RW_F_FLOW_BYTES] = { "flow-bytes", "no flow records; bytes sent "
			      "are not counted" },
	[RW_F_PROC_TABLE] = { "proc-table", "short-lived processes may lack "
			      "attribution and exe rules match only "
			      "processes seen at start-up" },
	[RW_F_KILL] = { "kill", "kill rules fall back to a userspace SIGKILL "
			"after the call returns" },
	[RW_F_ESCAPE] = { "escape", "a process that moves itself out of the "
			  "watched cgroup is not reported" },
};

const char *feature_name(int f)
{
	return f >= 0 && f < RW_F__MAX ? features[f].name : "?";
}

const char *feature_loss(int f)
{
	return f >= 0 && f < RW_F__MAX ? features[f].loss : "";
}

int feature_parse(const char *list, unsigned int *mask, char *err,
		  size_t errlen)
{
	char *dup = strdup(list), *save = NULL, *tok;
	int ret = 0;

	if (!dup)
		return -ENOMEM;
	*mask = 0;
	for (tok = strtok_r(dup, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		int f;

		if (!strcmp(tok, "all")) {
			*mask = RW_F_ALL;
			continue;
		}
		if (!strcmp(tok, "names")) { /* both ways of learning a name */
			*mask |= 1u << RW_F_DNS | 1u << RW_F_FIRST_BYTES;
			continue;
		}
		for (f = 0; f < RW_F__MAX; f++)
			if (!strcmp(tok, features[f].name))
				break;
		if (f == RW_F__MAX) {
			snprintf(err, errlen, "unknown feature '%s' (one of: "
				 "connect, sendmsg, dns, first-bytes, "
				 "flow-bytes, proc-table, kill, escape, names, "
				 "all)", tok);
			ret = -EINVAL;
		} else {
			*mask |= 1u << f;
		}
	}
	free(dup);
	return ret;
}

static const struct prog_state *first_failed(const struct loader *l, int f)
{
	for (int i = 0; i < l->nr_progs; i++)
		if (l->progs[i].feature == f && l->progs[i].err)
			return &l->progs[i];
	return NULL;
}

unsigned int progload_features(const struct loader *l)
{
	unsigned int on = 0;

	for (int f = 0; f < RW_F__MAX; f++) {
		bool any = false;

		for (int i = 0; i < l->nr_progs; i++)
			any |= l->progs[i].feature == f;
		if (any && !first_failed(l, f))
			on |= 1u << f;
	}
	return on;
}

const char *progload_why(const struct loader *l, int f)
{
	const struct prog_state *p = first_failed(l, f);

	return p ? p->why : "";
}

json_object *progload_json(const struct loader *l, bool reasons)
{
	json_object *j = json_object_new_object();

	for (int f = 0; f < RW_F__MAX; f++) {
		bool on = l->features & (1u << f);

		if (reasons && on)
			continue;
		json_object_object_add(j, feature_name(f),
			json_object_new_string(reasons ? progload_why(l, f) :
					       on ? "on" : "off"));
	}
	return j;
}

void progload_attach_failed(struct loader *l, struct prog_state *p, int err)
{
	(void)l;
	p->err = err;
	snprintf(p->why, sizeof(p->why), "%s: cannot attach (%s)", p->name,
		 strerror(-err));
}

