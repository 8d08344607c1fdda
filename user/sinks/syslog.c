// SPDX-License-Identifier: MIT
/*
 * The syslog sink (run --syslog[=TARGET]): each record as one RFC 5424
 * message. MSGID is the record's event; STRUCTURED-DATA carries its
 * top-level fields as SD-PARAMs (so a syslog server can filter on
 * action, rule, exe, daddr without parsing the message); MSG is the
 * native JSON record. Targets: the local socket /dev/log (journald or
 * the syslog daemon), unix:PATH, udp:HOST:PORT, tcp:HOST:PORT (RFC 6587
 * octet counting). A target that fails costs a warning and a count, never
 * the file sink.
 */
#include <errno.h>
#include <stdio.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <json-c/json.h>

#include "log.h"
#include "output.h"
#include "record.h"
#include "sink.h"
#include "watch.h"

/* SD-ID: relaywatch has no IANA enterprise number; 32473 is the one RFC
 * 5612 reserves for documentation and examples */
#define SD_ID "relaywatch@32473"
#define FAC_DAEMON 3

struct syslog_sink {
	struct sink s;
	int type;                    /* SOCK_DGRAM or SOCK_STREAM */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char *target;
	int fd;                      /* -1: not connected */
	char host[256];
	__u64 sent, dropped;
	bool failing;                /* warned, not recovered yet */
};

/* RFC 5424 severity of a record: what a SIEM would page on first */
static int severity(const struct record *r)
{
	static const struct { const char *ev; int sev; } meta[] = {
		{ "tamper", 2 }, { "cgroup_escape", 4 }, { "lost", 4 },
		{ "gap", 4 }, { "log_error", 3 }, { "warning", 4 },
		{ "reload", 5 },
	};

	if (r->action) {
		if (strstr(r->action, "kill") || strstr(r->action, "deny"))
			return 4; /* warning */
		if (!strcmp(r->action, "alert"))
			return 5; /* notice */
		return 6;
	}
	for (size_t i = 0; i < sizeof(meta) / sizeof(meta[0]); i++)
		if (!strcmp(r->event, meta[i].ev))
			return meta[i].sev;
	if (r->kind == REC_KILL)
		return 4;
	return 6;
}

/* PARAM-VALUE escaping (RFC 5424 6.3.3): '"', '\\' and ']' */
static void sd_value(FILE *m, const char *v)
{
	for (; *v; v++) {
		if (*v == '"' || *v == '\\' || *v == ']')
			fputc('\\', m);
		fputc(*v, m);
	}
}

/* every scalar top-level field of the JSON record as an SD-PARAM */
static void structured(FILE *m, json_object *j)
{
	fputs("[origin software=\"relaywatch\" swVersion=\"" VERSION "\"]["
	      SD_ID, m);
	json_object_object_foreach(j, k, v) {
		enum json_type t = json_object_get_type(v);

		if (t == json_type_null || t == json_type_object ||
		    t == json_type_array || !strcmp(k, "ts") ||
		    !strcmp(k, "event") || strlen(k) > 32)
			continue;
		fprintf(m, " %s=\"", k);
		sd_value(m, json_object_get_string(v));
		fputc('"', m);
	}
	fputc(']', m);
}

static int reconnect(struct syslog_sink *y)
{
	struct timeval tv = { .tv_usec = 100000 };

	if (y->fd >= 0)
		return 0;
	y->fd = socket(y->addr.ss_family, y->type | SOCK_CLOEXEC, 0);
	if (y->fd < 0)
		return -errno;
	/* a stalled receiver must not stall enforcement's reader */
	setsockopt(y->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(y->fd, (struct sockaddr *)&y->addr, y->addrlen) < 0) {
		int ret = -errno;

		close(y->fd);
		y->fd = -1;
		return ret;
	}
	return 0;
}

static void deliver(struct syslog_sink *y, const char *msg, size_t len)
{
	char frame[16];
	int ret = reconnect(y);
	ssize_t n = -1;

	if (!ret && y->type == SOCK_STREAM) {
		/* RFC 6587 octet counting: "LEN SP MSG" */
		int h = snprintf(frame, sizeof(frame), "%zu ", len);
		struct iovec iov[2] = { { frame, h }, { (void *)msg, len } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

		n = sendmsg(y->fd, &mh, MSG_NOSIGNAL);
		ret = n == (ssize_t)(h + len) ? 0 : n < 0 ? -errno : -EIO;
	} else if (!ret) {
		n = send(y->fd, msg, len, MSG_NOSIGNAL);
		ret = n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
	}
	if (ret) {
		y->dropped++;
		/* the receiver restarted or went away: a new socket next time */
		if (y->fd >= 0) {
			close(y->fd);
			y->fd = -1;
		}
		if (!y->failing)
			pr_warn("syslog %s: %s; records go on to the log file, "
				"and are counted as dropped for syslog",
				y->target, strerror(-ret));
		y->failing = true;
		return;
	}
	y->sent++;
	if (y->failing) {
		pr_warn("syslog %s: delivering again (%llu records dropped "
			"so far)", y->target, (unsigned long long)y->dropped);
		y->failing = false;
	}
}

static void emit(struct sink *s, const struct output *o,
		 const struct record *r)
{
	struct syslog_sink *y = (struct syslog_sink *)s;
	json_object *j = sink_json_object(o, r);
	char *buf = NULL, ts[64];
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m) {
		y->dropped++;
		json_object_put(j);
		return;
	}
	output_ts(o, r->ktime, ts, sizeof(ts));
	/* RFC 5424 TIME-SECFRAC has at most 6 digits: ".123456789Z" */
	if (strlen(ts) > 27)
		memmove(ts + 26, ts + 29, strlen(ts + 29) + 1);
	fprintf(m, "<%d>1 %s %s relaywatch %d %.32s ",
		FAC_DAEMON * 8 + severity(r), ts, y->host, (int)getpid(),
		r->event);
	structured(m, j);
	fputc(' ', m);
	fputs(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE), m);
	json_object_put(j);
	if (fclose(m) || !buf)
		y->dropped++;
	else
		deliver(y, buf, len);
	free(buf);
}

static void sink_free(struct sink *s)
{
	struct syslog_sink *y = (struct syslog_sink *)s;

	if (y->fd >= 0)
		close(y->fd);
	free(y->target);
	free(y);
}

/* "", "unix:PATH", "udp:HOST:PORT", "tcp:HOST:PORT"; 0 or -EINVAL */
static int parse_target(struct syslog_sink *y, const char *t, char *err,
			size_t len)
{
	struct addrinfo hints = {}, *ai;
	char host[256];
	const char *port;
	int ret;

	if (!*t || !strncmp(t, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&y->addr;
		const char *path = *t ? t + 5 : "/dev/log";

		if (!*path || strlen(path) >= sizeof(un->sun_path)) {
			snprintf(err, len, "--syslog unix:PATH: bad path '%s'", path);
			return -EINVAL;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, path);
		y->addrlen = sizeof(*un);
		y->type = SOCK_DGRAM;
		return 0;
	}
	if (strncmp(t, "udp:", 4) && strncmp(t, "tcp:", 4)) {
		snprintf(err, len, "--syslog: unknown target '%s' (known: "
			 "unix:PATH, udp:HOST:PORT, tcp:HOST:PORT; none: "
			 "/dev/log)", t);
		return -EINVAL;
	}
	y->type = t[0] == 'u' ? SOCK_DGRAM : SOCK_STREAM;
	port = strrchr(t + 4, ':');
	if (!port || port == t + 4 || (size_t)(port - t - 4) >= sizeof(host)) {
		snprintf(err, len, "--syslog %s: expected %.3s:HOST:PORT", t, t);
		return -EINVAL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(port - t - 4), t + 4);
	/* [v6]:port */
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	hints.ai_socktype = y->type;
	hints.ai_flags = AI_NUMERICSERV;
	ret = getaddrinfo(host, port + 1, &hints, &ai);
	if (ret) {
		snprintf(err, len, "--syslog %s: %s", t, gai_strerror(ret));
		return -EINVAL;
	}
	memcpy(&y->addr, ai->ai_addr, ai->ai_addrlen);
	y->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

struct sink *sink_syslog_new(const char *target, char *err, size_t len)
{
	struct syslog_sink *y = calloc(1, sizeof(*y));

	if (!y) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	y->fd = -1;
	if (parse_target(y, target ? target : "", err, len)) {
		free(y);
		return NULL;
	}
	y->target = strdup(target && *target ? target : "unix:/dev/log");
	if (gethostname(y->host, sizeof(y->host)) || !y->host[0])
		strcpy(y->host, "-");
	y->s.name = "syslog";
	y->s.emit = emit;
	y->s.free = sink_free;
	/* a local socket that is not there yet: said now, retried later */
	int ret = reconnect(y);

	if (ret) {
		pr_warn("syslog %s: %s; records go to the log file and syslog "
			"is tried again with each record", y->target,
			strerror(-ret));
		y->failing = true;
	}
	return &y->s;
}

int sink_syslog_check(const char *target, char *err, size_t len)
{
	struct syslog_sink y = {};

	return parse_target(&y, target ? target : "", err, len);
}

void sink_syslog_counts(const struct sink *s, __u64 *sent, __u64 *dropped)
{
	const struct syslog_sink *y = (const struct syslog_sink *)s;

	*sent = y->sent;
	*dropped = y->dropped;
}
