/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running commands inside network namespaces, for the selftests that set
 * up devices in two namespaces.  Needs _GNU_SOURCE (setns).
 */
#ifndef _UET_NS_UTIL_H_
#define _UET_NS_UTIL_H_

#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Run a command, split at blanks (nothing is quoted), inside network
 * namespace @ns unless NULL, with @input on its stdin unless NULL, and
 * its output thrown away if @quiet; returns its exit status.  No shell,
 * and batches where possible: an exec costs up to a second on the
 * emulated test machine.
 */
static inline int uet_spawn(const char *ns, bool quiet, const char *input,
			    const char *fmt, ...)
{
	char line[1024], shown[1024], nspath[128], *argv[64], *save, *tok;
	int pfd[2], status, n = 0, fd;
	va_list ap;
	pid_t pid;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(shown, sizeof(shown), "%s", line);
	for (tok = strtok_r(line, " ", &save); tok && n < 63;
	     tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	if (input && pipe(pfd))
		return -1;
	pid = fork();
	if (!pid) {
		if (ns) {
			snprintf(nspath, sizeof(nspath), "/run/netns/%s", ns);
			fd = open(nspath, O_RDONLY);
			if (fd < 0 || setns(fd, CLONE_NEWNET))
				_exit(126);
		}
		if (input) {
			dup2(pfd[0], 0);
			close(pfd[0]);
			close(pfd[1]);
		}
		if (quiet) {
			fd = open("/dev/null", O_WRONLY);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (input) {
		close(pfd[0]);
		if (pid > 0 && write(pfd[1], input, strlen(input)) < 0)
			status = -1;
		close(pfd[1]);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	n = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (n && !quiet)
		fprintf(stderr, "# command failed (%d): %s%s%s\n", n, shown,
			input ? " <<< " : "", input ?: "");
	return n;
}

static inline bool uet_path_exists(const char *fmt, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), fmt, name);
	return !access(path, F_OK);
}

#endif /* _UET_NS_UTIL_H_ */
