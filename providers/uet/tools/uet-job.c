// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uet-job: run a command inside a UET job, the way a batch scheduler
 * would.  Run as root: allocates the job on a uet device, exports it,
 * drops to an unprivileged user and executes the command with the job's
 * file descriptor in UET_JOB_FD (and its JobID in UET_JOB_ID).  The
 * command imports the job with uetdv_import_job(); the job lives until
 * the last process holding it is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <infiniband/uetdv.h>

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: uet-job -d DEVICE -j JOBID [-n ADDRS] [-u USER] [--] COMMAND [ARG]...\n"
		"  -d DEVICE  uet device to allocate the job on (e.g. uet0)\n"
		"  -j JOBID   JobID, 1 to %u (decimal or 0x hex)\n"
		"  -n ADDRS   address table entries of the job (default 0)\n"
		"  -u USER    run COMMAND as USER (default: nobody)\n",
		UETDV_JOB_ID_MAX);
}

static struct ibv_context *open_device(const char *name)
{
	struct ibv_device **list;
	struct ibv_context *ctx = NULL;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		return NULL;
	for (i = 0; i < n; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	return ctx;
}

/*
 * RDMA pins the memory it registers: lift the locked-memory limit, as
 * batch schedulers do for RDMA jobs, while we still may.
 */
static int drop_privileges(const char *user)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct passwd *pw = getpwnam(user);

	if (setrlimit(RLIMIT_MEMLOCK, &unlimited)) {
		perror("uet-job: cannot lift RLIMIT_MEMLOCK");
		return -1;
	}
	if (!pw) {
		fprintf(stderr, "uet-job: no user %s\n", user);
		return -1;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) || setgid(pw->pw_gid) ||
	    setuid(pw->pw_uid)) {
		perror("uet-job: cannot become the user");
		return -1;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct uetdv_job_attr attr = {};
	const char *dev = NULL, *user = "nobody";
	struct ibv_context *ctx;
	struct uetdv_job *job;
	char buf[16];
	int opt, fd, err;
	char *end;

	while ((opt = getopt(argc, argv, "+d:j:n:u:h")) != -1) {
		switch (opt) {
		case 'd':
			dev = optarg;
			break;
		case 'j':
			attr.id = strtoul(optarg, &end, 0);
			if (*end || !attr.id || attr.id > UETDV_JOB_ID_MAX) {
				fprintf(stderr, "uet-job: bad JobID %s\n",
					optarg);
				return 2;
			}
			break;
		case 'n':
			attr.max_addr_entries = strtoul(optarg, &end, 0);
			if (*end) {
				fprintf(stderr, "uet-job: bad count %s\n",
					optarg);
				return 2;
			}
			attr.comp_mask |= UETDV_JOB_ATTR_MAX_ADDR_ENTRIES;
			break;
		case 'u':
			user = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!dev || !attr.id || optind >= argc) {
		usage(stderr);
		return 2;
	}

	ctx = open_device(dev);
	if (!ctx) {
		fprintf(stderr, "uet-job: cannot open %s\n", dev);
		return 1;
	}
	job = uetdv_alloc_job(ctx, &attr, NULL);
	if (!job) {
		fprintf(stderr, "uet-job: cannot allocate job %#x on %s: %s\n",
			attr.id, dev, strerror(errno));
		return 1;
	}
	err = uetdv_export_job(job, &fd);
	if (err) {
		fprintf(stderr, "uet-job: cannot export the job: %s\n",
			strerror(err));
		return 1;
	}
	/*
	 * Only the exported file crosses exec: the device context is
	 * close-on-exec, so the job's one holder is the command from now on.
	 */
	if (fcntl(fd, F_SETFD, 0)) {
		perror("uet-job: fcntl");
		return 1;
	}
	snprintf(buf, sizeof(buf), "%d", fd);
	setenv("UET_JOB_FD", buf, 1);
	snprintf(buf, sizeof(buf), "%u", attr.id);
	setenv("UET_JOB_ID", buf, 1);
	if (drop_privileges(user))
		return 1;
	execvp(argv[optind], &argv[optind]);
	fprintf(stderr, "uet-job: cannot run %s: %s\n", argv[optind],
		strerror(errno));
	return 127;
}
