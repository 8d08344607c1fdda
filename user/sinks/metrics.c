// SPDX-License-Identifier: MIT
/*
 * Prometheus metrics (metrics.h). libmicrohttpd serves HTTP: parsing
 * requests by hand on a security daemon's port is what a well-kept
 * library is for. The listening socket is bound here first, so a port in
 * use is one clear sentence before anything attaches.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "intel.h"
#include "kstate.h"
#include "metrics.h"
#include "proc.h"
#include "record.h"
#include "sink.h"
#include "util.h"
#include "watch.h"

/* records by (event, action, rule, category, provider): bounded by the
 * policy and the intelligence; a table this size never fills in
 * practice, and says so when it does */
#define SERIES 4096

struct series {
	char *key;                   /* the label set, rendered */
	__u64 records, matches;      /* matches: records + folded repeats */
};

struct metrics {
	struct sink s;
	struct MHD_Daemon *httpd;
	int fd;
	pthread_mutex_t lock;
	struct loader *l;            /* NULL until loaded */
	struct series series[SERIES];
	size_t nr_series;
	__u64 series_dropped;
	unsigned gen;
	size_t rules;
	double apply_seconds;
	__u64 reloads_ok, reloads_failed, policies;
	__u64 start_wall_ns;
};

/* label value escaping of the text format: \, " and newline */
static void label(FILE *m, const char *name, const char *v)
{
	fprintf(m, "%s=\"", name);
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', m);
		if (*v == '\n')
			fputs("\\n", m);
		else
			fputc(*v, m);
	}
	fputc('"', m);
}

static struct series *find(struct metrics *mx, const char *key)
{
	size_t h = 1469598103934665603ULL;

	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (size_t i = 0; i < SERIES; i++) {
		struct series *s = &mx->series[(h + i) % SERIES];

		if (!s->key) {
			if (mx->nr_series >= SERIES * 3 / 4)
				return NULL;
			s->key = strdup(key);
			if (!s->key)
				return NULL;
			mx->nr_series++;
			return s;
		}
		if (!strcmp(s->key, key))
			return s;
	}
	return NULL;
}

static void emit(struct sink *sk, const struct output *o,
		 const struct record *r)
{
	struct metrics *mx = (struct metrics *)sk;
	char *key = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&key, &len);
	struct series *s;

	(void)o;
	if (!m)
		return;
	label(m, "event", r->event);
	fputc(',', m);
	label(m, "action", r->action ? r->action : "none");
	fputc(',', m);
	label(m, "rule", r->action ? (r->rule ? r->rule : "unknown") : "none");
	fputc(',', m);
	label(m, "category", r->has_class && r->dest.entry ?
	      intel_category_name(r->dest.category) : "none");
	fputc(',', m);
	label(m, "provider", r->has_class && r->dest.provider ?
	      r->dest.provider : "none");
	if (fclose(m)) {
		free(key);
		return;
	}
	pthread_mutex_lock(&mx->lock);
	s = find(mx, key);
	if (s) {
		s->records++;
		s->matches += 1 + (r->suppressed > 0 ? r->suppressed : 0);
	} else {
		mx->series_dropped++;
	}
	pthread_mutex_unlock(&mx->lock);
	free(key);
}

static void nop_free(struct sink *s)
{
	(void)s; /* metrics_stop frees it */
}

static void head(FILE *m, const char *name, const char *type,
		 const char *help)
{
	fprintf(m, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void kernel_part(FILE *m, struct loader *l)
{
	static const struct { int i; const char *name, *help; } cnt[] = {
		{ RW_CNT_MATCHED, "relaywatch_kernel_matched_total",
		  "Calls that matched a rule, as the kernel counted them." },
		{ RW_CNT_SUPPRESSED, "relaywatch_kernel_folded_total",
		  "Matches folded into a later event (repeats within --dedup-ms)." },
		{ RW_CNT_BLOCKED, "relaywatch_kernel_blocked_total",
		  "Calls that returned EPERM." },
		{ RW_CNT_KILLS, "relaywatch_kernel_kills_total",
		  "SIGKILLs sent by the kernel side." },
		{ RW_CNT_DNS_MAPPED, "relaywatch_kernel_dns_mapped_total",
		  "Addresses learned from DNS answers." },
		{ RW_CNT_DNS_UNPARSED, "relaywatch_kernel_dns_unparsed_total",
		  "DNS responses the parser refused." },
		{ RW_CNT_FLOW_UNPARSED, "relaywatch_kernel_flow_unparsed_total",
		  "First payloads in which no name was found." },
		{ RW_CNT_DROPPED, "relaywatch_kernel_packets_dropped_total",
		  "Packets dropped for a denied flow." },
		{ RW_CNT_PENDING_LOST, "relaywatch_kernel_pending_lost_total",
		  "TCP flows whose pending slot was taken before they sent." },
		{ RW_CNT_FLOW_HELD, "relaywatch_kernel_flow_held_total",
		  "Sends of an incomplete first payload held back." },
		{ RW_CNT_FLOW_UNDECIDED, "relaywatch_kernel_flow_undecided_total",
		  "Flows whose first bytes stayed unreadable (undecided)." },
		{ RW_CNT_DNS_TCP_LOST, "relaywatch_kernel_dns_tcp_lost_total",
		  "DNS-over-TCP streams given up: a gap, or joined mid-stream." },
		{ RW_CNT_DNS_TCP_BIG, "relaywatch_kernel_dns_tcp_big_total",
		  "DNS-over-TCP answers longer than the 2 KiB kept, not read." },
	};
	static const char *const acts[] = { "allow", "alert", "deny", "kill" };
	__u64 c[RW_CNT__MAX] = {}, used = 0, size = 0;

	if (kstate_counters(l, c))
		return;
	head(m, "relaywatch_kernel_decisions_total", "counter",
	     "Decisions the kernel took, by action.");
	for (int a = 0; a < 4; a++)
		fprintf(m, "relaywatch_kernel_decisions_total{action=\"%s\"} %llu\n",
			acts[a], (unsigned long long)c[RW_CNT_ACT_ALLOW + a]);
	for (size_t i = 0; i < ARRAY_SIZE(cnt); i++) {
		head(m, cnt[i].name, "counter", cnt[i].help);
		fprintf(m, "%s %llu\n", cnt[i].name,
			(unsigned long long)c[cnt[i].i]);
	}
	head(m, "relaywatch_events_lost_total", "counter",
	     "Events lost because the ring buffer was full, by kind.");
	fprintf(m, "relaywatch_events_lost_total{kind=\"match\"} %llu\n"
		   "relaywatch_events_lost_total{kind=\"process\"} %llu\n",
		(unsigned long long)c[RW_CNT_RB_FULL],
		(unsigned long long)c[RW_CNT_RB_FULL_PROC]);
	if (!kstate_ring_fill(kstate_events_fd(l), &used, &size) && size) {
		head(m, "relaywatch_ringbuf_fill_ratio", "gauge",
		     "Share of the event ring waiting to be read.");
		fprintf(m, "relaywatch_ringbuf_fill_ratio %.6f\n",
			(double)used / size);
		head(m, "relaywatch_ringbuf_size_bytes", "gauge",
		     "The event ring's size.");
		fprintf(m, "relaywatch_ringbuf_size_bytes %llu\n",
			(unsigned long long)size);
	}
}

static void process_part(FILE *m, const struct metrics *mx)
{
	struct rusage ru;
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	__u64 hits, misses;

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	getrusage(RUSAGE_SELF, &ru);
	head(m, "process_cpu_seconds_total", "counter",
	     "User and system CPU time of the daemon.");
	fprintf(m, "process_cpu_seconds_total %.3f\n",
		ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
		(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
	head(m, "process_resident_memory_bytes", "gauge",
	     "Resident memory of the daemon.");
	fprintf(m, "process_resident_memory_bytes %ld\n",
		rss * sysconf(_SC_PAGESIZE));
	head(m, "process_start_time_seconds", "gauge",
	     "When the daemon started, Unix time.");
	fprintf(m, "process_start_time_seconds %.3f\n",
		mx->start_wall_ns / 1e9);
	proc_sha_cache_stats(&hits, &misses);
	head(m, "relaywatch_attribution_sha256_cache_total", "counter",
	     "Binary SHA-256 lookups, answered from the cache or not.");
	fprintf(m, "relaywatch_attribution_sha256_cache_total{result=\"hit\"} %llu\n"
		   "relaywatch_attribution_sha256_cache_total{result=\"miss\"} %llu\n",
		(unsigned long long)hits, (unsigned long long)misses);
}

static char *render(struct metrics *mx, size_t *len)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);

	if (!m)
		return NULL;
	pthread_mutex_lock(&mx->lock);
	head(m, "relaywatch_info", "gauge", "The daemon's version.");
	fprintf(m, "relaywatch_info{version=\"%s\"} 1\n", VERSION);
	head(m, "relaywatch_policy_generation", "gauge",
	     "The map generation (0 or 1) the policy in force is in.");
	fprintf(m, "relaywatch_policy_generation %u\n", mx->gen);
	head(m, "relaywatch_policy_rules", "gauge", "Rules of the policy in force.");
	fprintf(m, "relaywatch_policy_rules %zu\n", mx->rules);
	head(m, "relaywatch_policy_apply_seconds", "gauge",
	     "How long writing the policy in force into the kernel took.");
	fprintf(m, "relaywatch_policy_apply_seconds %.6f\n", mx->apply_seconds);
	head(m, "relaywatch_policy_applied_total", "counter",
	     "Policies applied (start-up, reloads, re-applications).");
	fprintf(m, "relaywatch_policy_applied_total %llu\n",
		(unsigned long long)mx->policies);
	head(m, "relaywatch_reloads_total", "counter",
	     "Reloads (SIGHUP or a changed file), by result.");
	fprintf(m, "relaywatch_reloads_total{result=\"ok\"} %llu\n"
		   "relaywatch_reloads_total{result=\"failed\"} %llu\n",
		(unsigned long long)mx->reloads_ok,
		(unsigned long long)mx->reloads_failed);
	head(m, "relaywatch_records_total", "counter",
	     "Records written, by event, action, rule, category and provider.");
	for (size_t i = 0; i < SERIES; i++)
		if (mx->series[i].key)
			fprintf(m, "relaywatch_records_total{%s} %llu\n",
				mx->series[i].key,
				(unsigned long long)mx->series[i].records);
	head(m, "relaywatch_matches_total", "counter",
	     "Matches the records stand for (each record and the repeats "
	     "folded into it).");
	for (size_t i = 0; i < SERIES; i++)
		if (mx->series[i].key && mx->series[i].matches)
			fprintf(m, "relaywatch_matches_total{%s} %llu\n",
				mx->series[i].key,
				(unsigned long long)mx->series[i].matches);
	head(m, "relaywatch_metrics_series_dropped_total", "counter",
	     "Records not counted by label because the series table was full.");
	fprintf(m, "relaywatch_metrics_series_dropped_total %llu\n",
		(unsigned long long)mx->series_dropped);
	if (mx->l)
		kernel_part(m, mx->l);
	process_part(m, mx);
	pthread_mutex_unlock(&mx->lock);
	if (fclose(m)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_len, void **state)
{
	static const char not_found[] = "not found: try /metrics\n";
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned code = MHD_HTTP_OK;
	char *body = NULL;
	size_t len = 0;

	(void)version; (void)upload; (void)upload_len; (void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return MHD_NO; /* closes the connection */
	if (!strcmp(url, "/metrics"))
		body = render(cls, &len);
	if (body) {
		resp = MHD_create_response_from_buffer(len, body,
						       MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(resp, "Content-Type",
			"text/plain; version=0.0.4; charset=utf-8");
	} else {
		code = strcmp(url, "/metrics") ? MHD_HTTP_NOT_FOUND :
			MHD_HTTP_INTERNAL_SERVER_ERROR;
		resp = MHD_create_response_from_buffer(sizeof(not_found) - 1,
			(void *)not_found, MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	ret = MHD_queue_response(c, code, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* "HOST:PORT", "[V6]:PORT", ":PORT"; a bound, listening socket or -1 */
static int listen_on(const char *spec, char *err, size_t len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV | AI_PASSIVE };
	const char *colon = strrchr(spec, ':');
	char host[256];
	struct addrinfo *ai;
	int fd, one = 1, ret;

	if (!colon || !colon[1] || (size_t)(colon - spec) >= sizeof(host)) {
		snprintf(err, len, "--metrics %s: expected ADDR:PORT (e.g. "
			 "127.0.0.1:9411, [::1]:9411, :9411)", spec);
		return -1;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	ret = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
	if (ret) {
		snprintf(err, len, "--metrics %s: %s", spec, gai_strerror(ret));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
		    listen(fd, 16) < 0) {
			snprintf(err, len, "--metrics %s: cannot listen: %s%s",
				 spec, strerror(errno), errno == EADDRINUSE ?
				 " (another process has that port)" : "");
			close(fd);
			fd = -1;
		}
	} else {
		snprintf(err, len, "--metrics %s: %s", spec, strerror(errno));
	}
	freeaddrinfo(ai);
	return fd;
}

struct metrics *metrics_start(const char *addr, char *err, size_t len)
{
	struct metrics *mx = calloc(1, sizeof(*mx));

	if (!mx) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	mx->fd = listen_on(addr, err, len);
	if (mx->fd < 0) {
		free(mx);
		return NULL;
	}
	pthread_mutex_init(&mx->lock, NULL);
	mx->start_wall_ns = wall_ns();
	mx->s.name = "metrics";
	mx->s.emit = emit;
	mx->s.free = nop_free;
	mx->httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0,
				     NULL, NULL, answer, mx,
				     MHD_OPTION_LISTEN_SOCKET, mx->fd,
				     MHD_OPTION_CONNECTION_LIMIT, 16,
				     MHD_OPTION_CONNECTION_TIMEOUT, 10,
				     MHD_OPTION_END);
	if (!mx->httpd) {
		snprintf(err, len, "--metrics %s: the HTTP server did not start",
			 addr);
		close(mx->fd);
		free(mx);
		return NULL;
	}
	return mx;
}

struct sink *metrics_sink(struct metrics *m)
{
	return &m->s;
}

void metrics_set_loader(struct metrics *m, struct loader *l)
{
	pthread_mutex_lock(&m->lock);
	m->l = l;
	pthread_mutex_unlock(&m->lock);
}

void metrics_policy(struct metrics *m, unsigned gen, size_t rules,
		    double apply_seconds)
{
	pthread_mutex_lock(&m->lock);
	m->gen = gen;
	m->rules = rules;
	m->apply_seconds = apply_seconds;
	m->policies++;
	pthread_mutex_unlock(&m->lock);
}

void metrics_reload(struct metrics *m, bool ok)
{
	pthread_mutex_lock(&m->lock);
	if (ok)
		m->reloads_ok++;
	else
		m->reloads_failed++;
	pthread_mutex_unlock(&m->lock);
}

void metrics_stop(struct metrics *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->httpd);
	close(m->fd);
	for (size_t i = 0; i < SERIES; i++)
		free(m->series[i].key);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
