// SPDX-License-Identifier: MIT
/* trace's filters and summary (view.h). */
#include <string.h>
#include <strings.h>

#include "proc.h"
#include "view.h"

bool view_hides(const struct view *v, __u32 tgid, long kuid,
		const struct proc_info *pi)
{
	if (v->pid && (__u32)v->pid != tgid)
		return true;
	if (v->exe && (!pi || strcmp(pi->exe, v->exe)))
		return true;
	if (v->uid >= 0 && (pi ? (long)pi->uid : kuid) != v->uid)
		return true;
	/* an id prefix, as the records show it */
	if (v->container && (!pi || strncasecmp(pi->container, v->container,
						strlen(v->container))))
		return true;
	return false;
}

void view_count(struct view *v, int type, int action, __u64 suppressed)
{
	if (action >= 0 && action <= RW_ACT_KILL)
		v->calls[action]++;
	if (type == RW_EV_CONNECT)
		v->connect++;
	else if (type == RW_EV_SENDMSG)
		v->sendmsg++;
	else
		v->named++;
	v->folded += suppressed;
}

void view_summary(const struct view *v, __u64 lost, FILE *f)
{
	fprintf(f, "\n%llu decisions shown (connect %llu, sendmsg %llu, "
		"first bytes %llu): allow %llu, alert %llu, would_deny %llu, "
		"would_kill %llu; repeats folded into them %llu; hidden by "
		"filters %llu; events lost %llu\n",
		(unsigned long long)(v->connect + v->sendmsg + v->named),
		(unsigned long long)v->connect, (unsigned long long)v->sendmsg,
		(unsigned long long)v->named,
		(unsigned long long)v->calls[RW_ACT_ALLOW],
		(unsigned long long)v->calls[RW_ACT_ALERT],
		(unsigned long long)v->calls[RW_ACT_DENY],
		(unsigned long long)v->calls[RW_ACT_KILL],
		(unsigned long long)v->folded, (unsigned long long)v->hidden,
		(unsigned long long)lost);
}
