// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of uet_teardown_load.sh: runs RC traffic on a uet device until
 * the device goes away under it, then checks that it went away cleanly.
 *
 *   uet_traffic DEVICE IP
 *
 * Two RC QPs of DEVICE, both on address IP, connected to each other,
 * exchange 4 KiB SENDs in a loop; "ready" is printed after the first 20.
 * Once IBV_EVENT_DEVICE_FATAL arrives ("fatal after N messages"), every
 * further step must return instead of hanging (each has 20 s): commands
 * that go through the kernel fail with EIO, the fast path (post, poll)
 * returns, every mapping of the device file now shows one scratch page,
 * and the objects can still be destroyed and the device closed.  Exit
 * status 0 and "ok" when all of that held; otherwise "failed: STEP:
 * DETAIL" and 1.  Without DEVICE_FATAL within 10 s of the traffic
 * stopping, or within 300 s, it fails too.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "uet_verbs_util.h"

#define MSG_SIZE	4096
#define CQ_DEPTH	64
#define READY_AFTER	20

static const char *step = "setup";

static void fail(const char *detail)
{
	printf("failed: %s: %s\n", step, detail);
	exit(1);
}

static void on_alarm(int sig)
{
	static const char msg[] = "failed: hang\n";

	/* printf is not async-signal-safe: say only that it hung. */
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(2);
	_exit(1);
}

/* Start step @s, which must finish within 20 s. */
static void begin(const char *s)
{
	step = s;
	alarm(20);
}

static struct ibv_qp *make_qp(struct ibv_pd *pd, struct ibv_cq *cq)
{
	struct ibv_qp_init_attr ia = {
		.send_cq = cq,
		.recv_cq = cq,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
	};
	struct ibv_qp *qp = ibv_create_qp(pd, &ia);

	if (!qp)
		fail(strerror(errno));
	return qp;
}

static void connect_qp(struct ibv_qp *qp, uint32_t dqpn, int sgid,
		       const char *ip)
{
	struct ibv_qp_attr a = {
		.qp_state = IBV_QPS_INIT,
		.port_num = 1,
		.qp_access_flags = IBV_ACCESS_REMOTE_WRITE,
	};

	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			  IBV_QP_PORT | IBV_QP_ACCESS_FLAGS))
		fail("to INIT");
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = IBV_MTU_1024;
	a.dest_qp_num = dqpn;
	a.max_dest_rd_atomic = 1;
	a.min_rnr_timer = 1;
	a.ah_attr.is_global = 1;
	a.ah_attr.port_num = 1;
	a.ah_attr.grh.sgid_index = sgid;
	a.ah_attr.grh.hop_limit = 64;
	uet_parse_gid(ip, &a.ah_attr.grh.dgid);
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_AV | IBV_QP_PATH_MTU |
			  IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			  IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER))
		fail("to RTR");
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = 7;
	a.max_rd_atomic = 1;
	if (ibv_modify_qp(qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			  IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			  IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC))
		fail("to RTS");
}

/*
 * Read async events for up to @ms milliseconds (0: only those waiting);
 * true as soon as DEVICE_FATAL is among them.  Others (PORT_ERR when the
 * netdev goes) are acknowledged and skipped.
 */
static bool got_fatal(struct ibv_context *ctx, int ms)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	long long end = uet_now_ms() + ms;
	struct ibv_async_event ev;
	bool fatal = false;
	long long left;

	do {
		left = end - uet_now_ms();
		if (poll(&pfd, 1, left > 0 ? left : 0) <= 0)
			continue;
		if (ibv_get_async_event(ctx, &ev))
			break;
		fatal = ev.event_type == IBV_EVENT_DEVICE_FATAL;
		ibv_ack_async_event(&ev);
	} while (!fatal && uet_now_ms() < end);
	return fatal;
}

/*
 * Poll @cq for @n completions for up to @ms milliseconds, returning early
 * when an async event is waiting; how many were read, or negative.
 */
static int poll_n(struct ibv_context *ctx, struct ibv_cq *cq, int n,
		  struct ibv_wc *wc, int ms)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	long long end = uet_now_ms() + ms;
	int got = 0, r;

	while (got < n && uet_now_ms() <= end) {
		r = ibv_poll_cq(cq, n - got, wc + got);
		if (r < 0)
			return r;
		got += r;
		if (got < n && poll(&pfd, 1, 1) > 0)
			break;
	}
	return got;
}

/*
 * After disassociation every mapping of the uverbs file maps the same
 * scratch page: a byte written through the first shows through all.
 * The core sends DEVICE_FATAL once it has destroyed the objects, before
 * the driver revokes the mappings: wait up to 10 s for that.  The
 * objects behind the old pages are gone, so writing there is harmless.
 */
static bool maps_alias(void)
{
	unsigned long start[64], end;
	char line[512], perm[8];
	int n = 0, i, j;
	FILE *f;

	f = fopen("/proc/self/maps", "r");
	if (!f)
		fail(strerror(errno));
	while (n < 64 && fgets(line, sizeof(line), f))
		if (strstr(line, "/dev/infiniband/uverbs") &&
		    sscanf(line, "%lx-%lx %7s", &start[n], &end, perm) == 3 &&
		    !strncmp(perm, "rw", 2))
			n++;
	fclose(f);
	if (n < 2)
		fail("fewer than two writable uverbs mappings");
	for (i = 0; i < 2; i++) {
		__atomic_store_n((unsigned char *)start[0] + 200, 0x5a + i,
				 __ATOMIC_SEQ_CST);
		for (j = 1; j < n; j++)
			if (__atomic_load_n((unsigned char *)start[j] + 200,
					    __ATOMIC_SEQ_CST) != 0x5a + i)
				return false;
	}
	printf("%s: %d mappings alias one page\n", step, n);
	return true;
}

static void check_maps_revoked(void)
{
	long long end = uet_now_ms() + 10000;

	while (!maps_alias()) {
		if (uet_now_ms() > end)
			fail("a mapping still shows its own page after 10 s");
		usleep(10000);
	}
}

int main(int argc, char **argv)
{
	struct ibv_sge ssge, rsge;
	struct ibv_send_wr swr, *sbad;
	struct ibv_recv_wr rwr, *rbad;
	struct ibv_qp_attr qa_attr;
	struct ibv_port_attr pa;
	struct ibv_context *ctx;
	struct ibv_qp *qa, *qb;
	struct ibv_wc wc[8];
	struct ibv_cq *cq;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	long long msgs = 0, end;
	const char *why = NULL;
	static char buf[2 * MSG_SIZE];
	int sgid, got, r, i;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DEVICE IP\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);

	begin("setup");
	ctx = uet_open_dev(argv[1]);
	if (!ctx)
		fail("cannot open the device");
	sgid = uet_wait_gid(ctx, argv[2]);
	if (sgid < 0)
		fail("no GID for the address");
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		fail(strerror(errno));
	mr = ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
	if (!mr)
		fail(strerror(errno));
	cq = ibv_create_cq(ctx, CQ_DEPTH, NULL, NULL, 0);
	if (!cq)
		fail(strerror(errno));
	qa = make_qp(pd, cq);
	qb = make_qp(pd, cq);
	connect_qp(qa, qb->qp_num, sgid, argv[2]);
	connect_qp(qb, qa->qp_num, sgid, argv[2]);

	ssge = (struct ibv_sge){ .addr = (uintptr_t)buf, .length = MSG_SIZE,
				 .lkey = mr->lkey };
	rsge = (struct ibv_sge){ .addr = (uintptr_t)buf + MSG_SIZE,
				 .length = MSG_SIZE, .lkey = mr->lkey };
	swr = (struct ibv_send_wr){ .sg_list = &ssge, .num_sge = 1,
				    .opcode = IBV_WR_SEND,
				    .send_flags = IBV_SEND_SIGNALED };
	rwr = (struct ibv_recv_wr){ .sg_list = &rsge, .num_sge = 1 };

	/* Traffic until something goes wrong: then DEVICE_FATAL must come. */
	step = "traffic";
	alarm(0);
	end = uet_now_ms() + 300000;
	while (!why) {
		if (got_fatal(ctx, 0))
			goto fatal;
		if (uet_now_ms() > end) {
			why = "still running after 300 s";
			break;
		}
		if (ibv_post_recv(qb, &rwr, &rbad)) {
			why = "post_recv failed";
			break;
		}
		if (ibv_post_send(qa, &swr, &sbad)) {
			why = "post_send failed";
			break;
		}
		got = poll_n(ctx, cq, 2, wc, 5000);
		if (got != 2) {
			why = got < 0 ? "poll_cq failed" : "traffic stopped";
			break;
		}
		for (i = 0; i < got; i++)
			if (wc[i].status != IBV_WC_SUCCESS)
				why = ibv_wc_status_str(wc[i].status);
		if (++msgs == READY_AFTER)
			printf("ready\n");
	}
	if (!got_fatal(ctx, 10000)) {
		printf("failed: traffic: %s after %lld messages, no DEVICE_FATAL\n",
		       why, msgs);
		return 1;
	}
fatal:
	printf("fatal after %lld messages%s%s\n", msgs, why ? ", " : "",
	       why ? why : "");

	begin("alloc_pd");
	if (ibv_alloc_pd(ctx) || errno != EIO)
		fail("did not fail with EIO");
	begin("reg_mr");
	if (ibv_reg_mr(pd, buf, MSG_SIZE, IBV_ACCESS_LOCAL_WRITE) ||
	    errno != EIO)
		fail("did not fail with EIO");
	begin("create_cq");
	if (ibv_create_cq(ctx, CQ_DEPTH, NULL, NULL, 0) || errno != EIO)
		fail("did not fail with EIO");
	begin("query_port");
	if (ibv_query_port(ctx, 1, &pa) != EIO)
		fail("did not fail with EIO");
	begin("modify_qp");
	memset(&qa_attr, 0, sizeof(qa_attr));
	qa_attr.qp_state = IBV_QPS_ERR;
	if (ibv_modify_qp(qa, &qa_attr, IBV_QP_STATE) != EIO)
		fail("did not fail with EIO");
	begin("post and poll");
	for (i = 0; i < 100; i++) {
		ibv_post_recv(qb, &rwr, &rbad);
		ibv_post_send(qa, &swr, &sbad);
		r = ibv_poll_cq(cq, 8, wc);
		if (r > 8)
			fail("poll_cq returned too many");
	}
	begin("mappings");
	check_maps_revoked();
	begin("destroy");
	if (ibv_destroy_qp(qa) || ibv_destroy_qp(qb) || ibv_destroy_cq(cq) ||
	    ibv_dereg_mr(mr) || ibv_dealloc_pd(pd))
		fail("a destroy failed");
	begin("close_device");
	if (ibv_close_device(ctx))
		fail("failed");
	alarm(0);
	printf("ok\n");
	return 0;
}
