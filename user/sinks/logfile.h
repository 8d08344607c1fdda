/* SPDX-License-Identifier: MIT */
/*
 * The log file under the file sinks: a stdio stream (so a sink is still
 * fprintf + fflush) whose writes reach the file a whole record at a time
 * or not at all. A record that cannot be written whole (ENOSPC, EIO, a
 * quota) is cut back off the file and counted; the first failure is
 * said once on stderr (the journal), and when writing works again the
 * session writes a log_error record with the count. A log file deleted
 * or renamed by something other than logrotate's SIGUSR1 is noticed
 * (within a second) and reopened; --log-max-mb rotates by size.
 */
#ifndef RW_LOGFILE_H
#define RW_LOGFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

struct logfile;

/* the largest record written whole (the stream's buffer) */
#define LOGFILE_RECORD_MAX (1 << 20)
/* rotated files kept by --log-max-mb: FILE.1 (newest) ... FILE.5 */
#define LOGFILE_KEEP 5

/* path NULL: standard output (no reopen, no rotation). max_bytes 0: no
 * rotation. NULL with err set when the file cannot be opened. */
struct logfile *logfile_open(const char *path, __u64 max_bytes, char *err,
			     size_t len);
/* the stream the sinks write to; the same one for the file's life */
/* the descriptor under the stream (standard output, or the file) */
int logfile_fd(const struct logfile *lf);
FILE *logfile_stream(struct logfile *lf);
/* SIGUSR1: reopen the path (logrotate moved the file); 0 or -errno */
int logfile_reopen(struct logfile *lf);

enum logfile_news {
	LOGFILE_QUIET = 0,
	LOGFILE_RECOVERED,   /* writing works again after *dropped records */
	LOGFILE_REOPENED,    /* the file was deleted or renamed: reopened */
};
/* once a second or so: a deleted or renamed file is reopened. What the
 * session should record: why (a static string) and the dropped count */
enum logfile_news logfile_check(struct logfile *lf, const char **why,
				__u64 *dropped);
/* records written whole, and dropped, since the start */
void logfile_counts(const struct logfile *lf, __u64 *written,
		    __u64 *dropped);
void logfile_close(struct logfile *lf);

#endif
