// SPDX-License-Identifier: MIT
/*
 * The log file (logfile.h). The stream is fopencookie(3)'s, fully
 * buffered with a buffer larger than any record, and every sink flushes
 * after each record: so each call of lf_write below is exactly one whole
 * record. lf_write always reports success to stdio (a failed write must
 * not stay in the buffer to be spliced into the next record); what it
 * could not write it cuts off the file and counts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "log.h"
#include "logfile.h"
#include "util.h"

struct logfile {
	char *path;              /* NULL: standard output */
	int fd;
	FILE *stream;
	__u64 max_bytes;         /* rotate above this; 0 never */
	__u64 written, dropped;
	__u64 dropped_at_fail;   /* dropped when the current failure began */
	int failing;             /* errno of the failure going on, 0 none */
	bool recovered;          /* a failure ended: say it */
	__u64 renamed_ns;        /* mono ns the path was first seen elsewhere */
};

/* a rename is logrotate's when SIGUSR1 follows at once; left alone this
 * long, the file is reopened by itself */
#define RENAME_GRACE_NS (5 * 1000000000ULL)

static int open_path(struct logfile *lf)
{
	int fd = open(lf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		      0640);

	if (fd < 0)
		return -errno;
	if (lf->fd > STDERR_FILENO)
		close(lf->fd);
	lf->fd = fd;
	return 0;
}

/* FILE.4 -> FILE.5, ..., FILE -> FILE.1, and a new FILE */
static void rotate(struct logfile *lf)
{
	char from[4096], to[4096];

	for (int i = LOGFILE_KEEP - 1; i >= 0; i--) {
		if (i)
			snprintf(from, sizeof(from), "%s.%d", lf->path, i);
		else
			snprintf(from, sizeof(from), "%s", lf->path);
		snprintf(to, sizeof(to), "%s.%d", lf->path, i + 1);
		if (rename(from, to) && errno != ENOENT)
			pr_warn("log rotation: %s -> %s: %s", from, to,
				strerror(errno));
	}
	if (open_path(lf))
		pr_warn("log rotation: cannot open a new %s: %s", lf->path,
			strerror(errno));
}

static void failed(struct logfile *lf, int err)
{
	lf->dropped++;
	if (lf->failing)
		return;
	lf->failing = err;
	lf->dropped_at_fail = lf->dropped - 1;
	pr_warn("cannot write the log %s: %s; enforcement goes on, records "
		"are dropped and counted until writing works again",
		lf->path ? lf->path : "(standard output)", strerror(err));
}

static ssize_t lf_write(void *cookie, const char *buf, size_t len)
{
	struct logfile *lf = cookie;
	off_t end = lseek(lf->fd, 0, SEEK_END);
	size_t done = 0;

	if (lf->max_bytes && lf->path && end > 0 &&
	    (__u64)end + len > lf->max_bytes) {
		rotate(lf);
		end = lseek(lf->fd, 0, SEEK_END);
	}
	while (done < len) {
		ssize_t n = write(lf->fd, buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			/* no partial record: cut back what did get in */
			if (done && end >= 0 && ftruncate(lf->fd, end))
				pr_warn("log %s: a partial record could not "
					"be cut off: %s", lf->path,
					strerror(errno));
			failed(lf, err);
			return len;
		}
		done += n;
	}
	lf->written++;
	if (lf->failing) {
		lf->failing = 0;
		lf->recovered = true;
	}
	return len;
}

struct logfile *logfile_open(const char *path, __u64 max_bytes, char *err,
			     size_t len)
{
	cookie_io_functions_t io = { .write = lf_write };
	struct logfile *lf = calloc(1, sizeof(*lf));
	int ret;

	if (!lf) {
		snprintf(err, len, "out of memory");
		return NULL;
	}
	lf->fd = STDOUT_FILENO;
	lf->max_bytes = max_bytes;
	if (path) {
		lf->path = strdup(path);
		lf->fd = -1;
		ret = lf->path ? open_path(lf) : -ENOMEM;
		if (ret) {
			/* a unit's sandbox makes all but a few paths read-only */
			snprintf(err, len, "cannot open log %s: %s%s", path,
				 strerror(-ret), ret == -EROFS || ret == -EACCES ?
				 " (under systemd's ProtectSystem=strict the log "
				 "must be in a ReadWritePaths= or LogsDirectory= "
				 "directory; the shipped unit's is "
				 "/var/log/relaywatch)" : "");
			free(lf->path);
			free(lf);
			return NULL;
		}
	}
	lf->stream = fopencookie(lf, "w", io);
	if (!lf->stream || setvbuf(lf->stream, NULL, _IOFBF,
				   LOGFILE_RECORD_MAX)) {
		snprintf(err, len, "cannot set up the log stream");
		logfile_close(lf);
		return NULL;
	}
	return lf;
}

int logfile_fd(const struct logfile *lf)
{
	return lf->fd;
}

FILE *logfile_stream(struct logfile *lf)
{
	return lf->stream;
}

int logfile_reopen(struct logfile *lf)
{
	int ret;

	if (!lf->path)
		return 0;
	fflush(lf->stream);
	lf->renamed_ns = 0;
	ret = open_path(lf);
	if (ret)
		pr_warn("cannot reopen log %s: %s; writing on to the old file",
			lf->path, strerror(-ret));
	return ret;
}

enum logfile_news logfile_check(struct logfile *lf, const char **why,
				__u64 *dropped)
{
	struct stat open_st, path_st;

	if (lf->recovered) {
		lf->recovered = false;
		*dropped = lf->dropped - lf->dropped_at_fail;
		*why = "recovered";
		return LOGFILE_RECOVERED;
	}
	if (!lf->path || fstat(lf->fd, &open_st))
		return LOGFILE_QUIET;
	if (open_st.st_nlink == 0) {
		*why = "deleted";
	} else if (stat(lf->path, &path_st) ||
		   path_st.st_ino != open_st.st_ino ||
		   path_st.st_dev != open_st.st_dev) {
		*why = "renamed";
		if (!lf->renamed_ns)
			lf->renamed_ns = mono_ns();
		if (mono_ns() - lf->renamed_ns < RENAME_GRACE_NS)
			return LOGFILE_QUIET;
	} else {
		lf->renamed_ns = 0;
		return LOGFILE_QUIET;
	}
	if (logfile_reopen(lf))
		return LOGFILE_QUIET;
	pr_warn("the log %s was %s without SIGUSR1: reopened", lf->path,
		*why);
	*dropped = 0;
	return LOGFILE_REOPENED;
}

void logfile_counts(const struct logfile *lf, __u64 *written,
		    __u64 *dropped)
{
	*written = lf->written;
	*dropped = lf->dropped;
}

void logfile_close(struct logfile *lf)
{
	if (!lf)
		return;
	if (lf->stream)
		fclose(lf->stream);
	if (lf->fd > STDERR_FILENO)
		close(lf->fd);
	free(lf->path);
	free(lf);
}
