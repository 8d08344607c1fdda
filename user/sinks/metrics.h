/* SPDX-License-Identifier: MIT */
/*
 * run --metrics ADDR:PORT: Prometheus text format on /metrics, served by
 * libmicrohttpd from its own thread. What it reports: the kernel's
 * counters (read at each scrape), the records the daemon wrote by event,
 * action, rule, category and provider (a sink: it counts what the other
 * sinks render), the policy in force and its reloads, the ring's fill,
 * attribution cache hits, and the daemon's own CPU and memory. Label
 * sets are bounded: rule names, categories, providers and actions are
 * finite; no pid, address or path is ever a label.
 */
#ifndef RW_METRICS_H
#define RW_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct metrics;
struct loader;
struct sink;

/* binds ADDR:PORT ("127.0.0.1:9411", "[::1]:9411", ":9411" for every
 * address) and serves; NULL with one sentence in err (bad address, port
 * in use, not allowed) */
struct metrics *metrics_start(const char *addr, char *err, size_t len);
/* the sink that counts records; freed by metrics_stop, not by output */
struct sink *metrics_sink(struct metrics *m);
/* the kernel state to read at each scrape, once loaded */
void metrics_set_loader(struct metrics *m, struct loader *l);
/* a policy applied: its generation, rules and how long applying took */
void metrics_policy(struct metrics *m, unsigned gen, size_t rules,
		    double apply_seconds);
void metrics_reload(struct metrics *m, bool ok);
void metrics_stop(struct metrics *m);

#endif
