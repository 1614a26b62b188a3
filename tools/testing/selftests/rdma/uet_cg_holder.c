// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of uet_cgroup.sh: charges a uet device to the rdma cgroup of the
 * process and reports where its limits stopped it.
 *
 *   uet_cg_holder DEVICE CONTEXTS OBJECTS
 *
 * Opens up to CONTEXTS contexts on DEVICE, stopping at the first failure,
 * and prints "contexts N: ERROR" (N opened, ERROR the errno name of the
 * failure, or "ok"); then creates up to OBJECTS objects on the first
 * context - a PD, then in turn CQs, MRs and PDs - and prints "objects N:
 * ERROR" the same way.  Then "ready", and it waits for SIGUSR1 and exits
 * without freeing anything.  On a failure before that: "failed: STEP".
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "uet_verbs_util.h"

#define MAX_CTX	16

static volatile sig_atomic_t done;

static void on_usr1(int sig)
{
	done = 1;
}

static const char *err_name(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case EAGAIN:
		return "EAGAIN";
	case ENOMEM:
		return "ENOMEM";
	case EPERM:
		return "EPERM";
	default:
		return strerror(err);
	}
}

/* Object @i of the sequence PD, CQ, MR, PD, CQ, MR, ... on @ctx. */
static int create_object(struct ibv_context *ctx, struct ibv_pd *pd, int i)
{
	static char buf[4096];
	void *obj;

	switch (i % 3) {
	case 0:
		obj = ibv_alloc_pd(ctx);
		break;
	case 1:
		obj = ibv_create_cq(ctx, 4, NULL, NULL, 0);
		break;
	default:
		obj = ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
		break;
	}
	return obj ? 0 : errno;
}

int main(int argc, char **argv)
{
	struct ibv_context *ctx[MAX_CTX];
	int nctx, nobj, n, err = 0;
	sigset_t usr1, old;
	struct ibv_pd *pd;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DEVICE CONTEXTS OBJECTS\n", argv[0]);
		return 2;
	}
	nctx = atoi(argv[2]);
	nobj = atoi(argv[3]);
	if (nctx < 1 || nctx > MAX_CTX || nobj < 1)
		return 2;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	signal(SIGUSR1, on_usr1);
	setvbuf(stdout, NULL, _IOLBF, 0);

	for (n = 0; n < nctx; n++) {
		ctx[n] = uet_open_dev(argv[1]);
		if (!ctx[n]) {
			err = errno;
			break;
		}
	}
	printf("contexts %d: %s\n", n, err_name(err));
	if (!n) {
		printf("failed: no context\n");
		return 1;
	}

	/* The first object is the PD the MRs need. */
	n = 0;
	pd = ibv_alloc_pd(ctx[0]);
	err = pd ? 0 : errno;
	while (!err && ++n < nobj)
		err = create_object(ctx[0], pd, n);
	printf("objects %d: %s\n", n, err_name(err));

	printf("ready\n");
	while (!done)
		sigsuspend(&old);
	/* Leave everything to the kernel. */
	return 0;
}
