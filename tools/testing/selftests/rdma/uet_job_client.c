// SPDX-License-Identifier: GPL-2.0
/*
 * The command uet_job_launch.sh runs under uet-job: as an unprivileged
 * user, it checks that it cannot allocate a job, imports the one in
 * UET_JOB_FD, and checks its JobID against UET_JOB_ID.  With "hold FILE"
 * it then creates FILE and keeps the job until FILE is removed.
 * Exit status 0 when every check held; the failing check is printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <infiniband/uetdv.h>

#include "uet_verbs_util.h"

static int fail(const char *what)
{
	fprintf(stderr, "uet_job_client: %s\n", what);
	return 1;
}

int main(int argc, char *argv[])
{
	struct uetdv_job_attr attr = { .id = 1 };
	const char *fd_env = getenv("UET_JOB_FD");
	const char *id_env = getenv("UET_JOB_ID");
	struct ibv_context *ctx;
	struct uetdv_job *job;
	FILE *f;

	if (argc < 2 || !fd_env || !id_env)
		return fail("usage: UET_JOB_FD=fd UET_JOB_ID=id uet_job_client DEV [hold FILE]");
	if (getuid() == 0 || geteuid() == 0)
		return fail("running as root");
	ctx = uet_open_dev(argv[1]);
	if (!ctx)
		return fail("cannot open the device");
	if (uetdv_alloc_job(ctx, &attr, NULL) || errno != EPERM)
		return fail("job allocation did not fail with EPERM");
	if (uetdv_import_job(ctx, atoi(fd_env), &job))
		return fail("cannot import the job");
	if (uetdv_query_job(job, &attr))
		return fail("cannot query the job");
	if (attr.id != strtoul(id_env, NULL, 0))
		return fail("wrong JobID");
	/* The imported handle holds the job: the file is not needed. */
	close(atoi(fd_env));
	if (argc == 4 && !strcmp(argv[2], "hold")) {
		f = fopen(argv[3], "w");
		if (!f)
			return fail("cannot create the hold file");
		fclose(f);
		while (!access(argv[3], F_OK))
			usleep(20000);
	}
	if (uetdv_dealloc_job(job))
		return fail("cannot deallocate the job");
	ibv_close_device(ctx);
	return 0;
}
