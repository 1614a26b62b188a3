// SPDX-License-Identifier: GPL-2.0
/*
 * Data movement through libibverbs: every RC opcode across message sizes
 * from 0 to 4 MiB, the error completions of the transport and a little
 * UD, between two QPs of one device (loopback) or of two devices on the
 * two ends of a veth pair that live in two network namespaces.
 *
 * Checked:
 *  - SEND, SEND_WITH_IMM, RDMA_WRITE, RDMA_WRITE_WITH_IMM and RDMA_READ of
 *    0, 1, 63, 1023..1025, 4095..4097, 64 KiB + 13, 1 MiB and 4 MiB bytes,
 *    through ibv_post_send() and through the ibv_wr_* interface; every
 *    byte of the target, and that the bytes around it (guard bytes, gaps
 *    between SGEs, the unused end of a receive buffer) are untouched;
 *  - gather lists of 3 and 16 SGEs of unequal, odd lengths with gaps
 *    between them, and receive scatter lists likewise;
 *  - IBV_SEND_INLINE up to max_inline_data: the source is overwritten
 *    right after posting and the old bytes must arrive, with a bogus lkey;
 *  - compare-and-swap (hit and miss) and fetch-and-add, values returned
 *    and left behind, neighbouring bytes untouched;
 *  - completions: wr_id, status, opcode, qp_num; on the receive side also
 *    byte_len, imm_data (as posted, network order), IBV_WC_WITH_IMM;
 *    unsignaled work gives no completion, signaled work exactly one, in
 *    posting order;
 *  - errors: a bad rkey, a WRITE past the end of an MR, a WRITE into an
 *    MR without remote write, a READ from one without remote read (all
 *    IBV_WC_REM_ACCESS_ERR), a misaligned atomic (IBV_WC_REM_INV_REQ_ERR);
 *    the target memory is unchanged, the QP is in the error state and
 *    work behind the failed request and posted later is flushed;
 *  - RNR: no receive and rnr_retry 0 gives IBV_WC_RNR_RETRY_EXC_ERR; with
 *    rnr_retry 7 a receive posted 100 ms late still gets the message; a
 *    too small receive buffer gives IBV_WC_LOC_LEN_ERR at the receiver
 *    and IBV_WC_REM_INV_REQ_ERR at the sender;
 *  - UD: SEND and SEND_WITH_IMM of 0 up to the path MTU bytes land after
 *    the 40-byte GRH area, byte_len counts the GRH, src_qp and
 *    IBV_WC_GRH are set; a message longer than the MTU never arrives.
 *
 * Environment:
 *  UET_TEST_LINK_TYPE  "rdma link add" type (default uet; rxe to check
 *                      the test itself against soft-RoCE)
 *  UET_TEST_DEV_A/_B   RDMA device names (default uetdA0 and uetdB0)
 *  UET_TEST_NETNS=0    keep both veth ends in the initial namespace and
 *                      force A<->B traffic over the veth with policy
 *                      routes (soft-RoCE of 6.12 only works in init_net);
 *                      the IPv6 two-device variant is skipped then
 *  UET_TIME_SCALE=N    give transfers N times longer (slow kernels)
 *  UET_TEST_MAX_LEN=N  leave the longer sizes out of the sweeps (the
 *                      debug lane's subset stops at 1 MiB)
 *
 * The veth pair and devices are built once per fixture variant and
 * reused by its tests (see struct topo_state).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "../kselftest_harness.h"
#include "uet_ns_util.h"
#include "uet_verbs_util.h"

#define NS_A "uetdA"
#define NS_B "uetdB"
#define VETH_A "uetdv0"
#define VETH_B "uetdv1"
#define ADDR_A4 "10.97.7.1"
#define ADDR_B4 "10.97.7.2"
#define ADDR_A6 "fd00:97::1"
#define ADDR_B6 "fd00:97::2"
/* Rule priorities and tables of the UET_TEST_NETNS=0 routes. */
#define RULE_PREF 9780
#define LOCAL_PREF 9790
#define TABLE_A 9781
#define TABLE_B 9782

#define MAX_MSG (4u << 20)
#define BUF_LEN (MAX_MSG + (64u << 10))
/* Odd offsets, so that no transfer starts aligned. */
#define L_OFF (4096 + 3)
#define R_OFF (4096 + 5)
#define GUARD 256
#define SGE_GAP 17
#define RECV_SLACK 100
#define MAX_SGE 16
#define CQ_LEN 256
#define QP_WR 64
#define QKEY 0x1d0c0a11
#define GRH_LEN 40
#define FULL_ACCESS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
		     IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)
/* Nothing is expected: how long to wait before believing it. */
#define QUIET_MS 300

static const uint32_t sizes[] = {
	0, 1, 63, 1023, 1024, 1025, 4095, 4096, 4097, 65536 + 13,
	1u << 20, 4u << 20,
};

/*
 * How long a transfer of @len bytes may take: 0.5 MB/s at least, times
 * UET_TIME_SCALE for slow kernels (KASAN and lockdep under TCG).
 */
static int wait_ms(size_t len)
{
	const char *scale = getenv("UET_TIME_SCALE");
	int n = scale ? atoi(scale) : 1;

	return (10000 + len / 500) * (n > 1 ? n : 1);
}

/* The longest message a sweep sends: UET_TEST_MAX_LEN, or all of them. */
static uint32_t sweep_max_len(void)
{
	const char *v = getenv("UET_TEST_MAX_LEN");

	return v && *v ? strtoul(v, NULL, 0) : MAX_MSG;
}

static int write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), r;

	if (fd < 0)
		return -1;
	r = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return r;
}

static const char *env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

struct peer {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *scq;
	struct ibv_cq *rcq;
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;
	struct ibv_ah *ah;	/* UD: to the other peer */
	uint8_t *buf;		/* BUF_LEN bytes, registered as mr */
	struct ibv_mr *mr;
	int gid_idx;
	union ibv_gid gid;
};

/* Both set-ups, shared by the RC and the UD fixture. */
struct pair {
	char type[32];
	char dev_a[64];
	char dev_b[64];
	bool two_devs;
	bool ipv6;
	bool netns;
	struct peer a;		/* the initiator */
	struct peer b;		/* the target */
	enum ibv_mtu mtu;	/* active MTU of the port */
	uint32_t max_inline;
	uint32_t max_sge;
	bool atomics;
	uint64_t seed;
	uint64_t next_id;
};

static const char *addr_a(const struct pair *p)
{
	return p->ipv6 ? ADDR_A6 : ADDR_A4;
}

/* In loopback both QPs use A's address. */
static const char *addr_b(const struct pair *p)
{
	if (!p->two_devs)
		return addr_a(p);
	return p->ipv6 ? ADDR_B6 : ADDR_B4;
}

/*
 * The veth pair and the RDMA devices are built once for a run of tests
 * of one fixture variant and reused by the next test if it wants the
 * same: building them takes seconds on the emulated test machine.  The
 * last test of the fixture tears them down, and the parent process does
 * so at exit in case that test was not run.  Tests run in children of
 * that process, hence the shared mapping.
 */
struct topo_state {
	bool built;
	bool routed;
	char key[256];
	char dev_a[64];
	char dev_b[64];
};

static struct topo_state *topo;

/* Best effort: anything may be left over from an earlier, killed run. */
static void net_cleanup(const char *dev_a, const char *dev_b, bool routed)
{
	char cmds[512] = "";

	if (uet_path_exists("/sys/class/infiniband/%s", dev_a))
		snprintf(cmds, sizeof(cmds), "link del %s\n", dev_a);
	if (uet_path_exists("/sys/class/infiniband/%s", dev_b))
		snprintf(cmds + strlen(cmds), sizeof(cmds) - strlen(cmds),
			 "link del %s\n", dev_b);
	if (*cmds)
		uet_spawn(NULL, true, cmds, "rdma -f -b -");
	*cmds = 0;
	if (uet_path_exists("/run/netns/%s", NS_A))
		strcat(cmds, "netns del " NS_A "\n");
	if (uet_path_exists("/run/netns/%s", NS_B))
		strcat(cmds, "netns del " NS_B "\n");
	if (uet_path_exists("/sys/class/net/%s", VETH_A))
		strcat(cmds, "link del " VETH_A "\n");
	if (*cmds)
		uet_spawn(NULL, true, cmds, "ip -force -batch -");
	if (!routed)
		return;
	/*
	 * Exactly one local rule at 0 again, and never none: a duplicate
	 * add is not always refused.  Only IPv4 is ever routed this way.
	 */
	snprintf(cmds, sizeof(cmds),
		 "rule add pref %d lookup local\nrule del pref 0 lookup local\n"
		 "rule add pref 0 lookup local\nrule del pref %d\n"
		 "rule del pref %d\nrule del pref %d\nrule del pref %d\n"
		 "route flush table %d\nroute flush table %d\n",
		 LOCAL_PREF + 1, LOCAL_PREF + 1, LOCAL_PREF, RULE_PREF,
		 RULE_PREF, TABLE_A, TABLE_B);
	uet_spawn(NULL, true, cmds, "ip -4 -force -batch -");
}

static void __attribute__((constructor)) topo_init(void)
{
	topo = mmap(NULL, sizeof(*topo), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (topo == MAP_FAILED)
		topo = NULL;
}

static void __attribute__((destructor)) topo_fini(void)
{
	if (topo && topo->built)
		net_cleanup(topo->dev_a, topo->dev_b, topo->routed);
}

static int net_setup(struct pair *p)
{
	const char *fam = p->ipv6 ? "-6" : "-4";
	const char *plen = p->ipv6 ? "/64 nodad" : "/24";
	char cmds[1024];

	if (!p->two_devs) {
		/* The peer end only keeps the carrier up. */
		snprintf(cmds, sizeof(cmds),
			 "link add " VETH_A " type veth peer name " VETH_B "\n"
			 "link set " VETH_A " up\nlink set " VETH_B " up\n"
			 "addr add %s%s dev " VETH_A "\n", addr_a(p), plen);
		return uet_spawn(NULL, false, cmds, "ip %s -batch -", fam) ?:
		       uet_spawn(NULL, false, NULL, "rdma link add %s type %s netdev "
			   VETH_A, p->dev_a, p->type);
	}
	if (p->netns) {
		snprintf(cmds, sizeof(cmds), "link set " VETH_A " up\n"
			 "addr add %s%s dev " VETH_A "\n", addr_a(p), plen);
		if (uet_spawn(NULL, false, "netns add " NS_A "\nnetns add " NS_B "\n"
			"link add " VETH_A " netns " NS_A " type veth peer name "
			VETH_B " netns " NS_B "\n", "ip -batch -") ||
		    uet_spawn(NS_A, false, cmds, "ip %s -batch -", fam))
			return -1;
		snprintf(cmds, sizeof(cmds), "link set " VETH_B " up\n"
			 "addr add %s%s dev " VETH_B "\n", addr_b(p), plen);
		return uet_spawn(NS_B, false, cmds, "ip %s -batch -", fam) ?:
		       uet_spawn(NS_A, false, NULL, "rdma link add %s type %s netdev "
			   VETH_A, p->dev_a, p->type) ?:
		       uet_spawn(NS_B, false, NULL, "rdma link add %s type %s netdev "
			   VETH_B, p->dev_b, p->type);
	}
	/*
	 * Both ends in one namespace: each address is local, so the kernel
	 * would loop A->B through lo.  Route locally generated A->B (B->A)
	 * traffic out of A's (B's) end instead, look in the local table only
	 * after that, and accept packets whose source is one of our own
	 * addresses.
	 */
	snprintf(cmds, sizeof(cmds),
		 "link add " VETH_A " type veth peer name " VETH_B "\n"
		 "link set " VETH_A " up\nlink set " VETH_B " up\n"
		 "addr add %s%s dev " VETH_A "\naddr add %s%s dev " VETH_B "\n"
		 "rule add pref %d iif lo from %s to %s lookup %d\n"
		 "route add %s dev " VETH_A " table %d\n"
		 "rule add pref %d iif lo from %s to %s lookup %d\n"
		 "route add %s dev " VETH_B " table %d\n"
		 "rule add pref %d lookup local\nrule del pref 0 lookup local\n",
		 addr_a(p), plen, addr_b(p), plen,
		 RULE_PREF, addr_a(p), addr_b(p), TABLE_A, addr_b(p), TABLE_A,
		 RULE_PREF, addr_b(p), addr_a(p), TABLE_B, addr_a(p), TABLE_B,
		 LOCAL_PREF);
	if (uet_spawn(NULL, false, cmds, "ip %s -batch -", fam))
		return -1;
	if (write_sysctl("/proc/sys/net/ipv4/conf/" VETH_A "/accept_local", "1") ||
	    write_sysctl("/proc/sys/net/ipv4/conf/" VETH_B "/accept_local", "1") ||
	    write_sysctl("/proc/sys/net/ipv4/conf/" VETH_A "/rp_filter", "0") ||
	    write_sysctl("/proc/sys/net/ipv4/conf/" VETH_B "/rp_filter", "0"))
		return -1;
	snprintf(cmds, sizeof(cmds),
		 "link add %s type %s netdev " VETH_A "\n"
		 "link add %s type %s netdev " VETH_B "\n",
		 p->dev_a, p->type, p->dev_b, p->type);
	return uet_spawn(NULL, false, cmds, "rdma -b -");
}

static void peer_destroy(struct peer *x)
{
	if (x->ah)
		ibv_destroy_ah(x->ah);
	if (x->qp)
		ibv_destroy_qp(x->qp);
	if (x->mr)
		ibv_dereg_mr(x->mr);
	if (x->scq)
		ibv_destroy_cq(x->scq);
	if (x->rcq)
		ibv_destroy_cq(x->rcq);
	if (x->pd)
		ibv_dealloc_pd(x->pd);
	if (x->buf && x->buf != MAP_FAILED)
		munmap(x->buf, BUF_LEN);
	if (x->ctx)
		ibv_close_device(x->ctx);
	memset(x, 0, sizeof(*x));
}

/*
 * Every verbs object goes before the devices: unregistering waits for
 * them.  The devices only go with @last.
 */
static void pair_teardown(struct pair *p, bool last)
{
	peer_destroy(&p->a);
	peer_destroy(&p->b);
	if (last && topo && topo->built) {
		net_cleanup(topo->dev_a, topo->dev_b, topo->routed);
		topo->built = false;
	}
}

static const char *peer_setup(struct pair *p, struct peer *x, const char *dev,
			      const char *addr, enum ibv_qp_type type)
{
	struct ibv_qp_init_attr_ex ia = {};
	struct ibv_device_attr da;
	struct ibv_port_attr pa;

	x->ctx = uet_open_dev(dev);
	if (!x->ctx)
		return "cannot open the RDMA device";
	x->gid_idx = uet_wait_gid_v2(x->ctx, addr);
	if (x->gid_idx < 0)
		return "the address never showed up in the GID table";
	if (ibv_query_gid(x->ctx, 1, x->gid_idx, &x->gid) ||
	    ibv_query_device(x->ctx, &da) || ibv_query_port(x->ctx, 1, &pa))
		return "query_gid/device/port failed";
	p->mtu = pa.active_mtu;
	p->atomics = da.atomic_cap != IBV_ATOMIC_NONE;
	p->max_sge = da.max_sge < MAX_SGE ? da.max_sge : MAX_SGE;
	x->buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->buf == MAP_FAILED)
		return "mmap failed";
	x->pd = ibv_alloc_pd(x->ctx);
	x->scq = ibv_create_cq(x->ctx, CQ_LEN, NULL, NULL, 0);
	x->rcq = ibv_create_cq(x->ctx, CQ_LEN, NULL, NULL, 0);
	if (!x->pd || !x->scq || !x->rcq)
		return "cannot allocate a PD or CQs";
	x->mr = ibv_reg_mr(x->pd, x->buf, BUF_LEN, FULL_ACCESS);
	if (!x->mr)
		return "ibv_reg_mr failed";
	ia.qp_type = type;
	ia.send_cq = x->scq;
	ia.recv_cq = x->rcq;
	ia.cap.max_send_wr = QP_WR;
	ia.cap.max_recv_wr = QP_WR;
	ia.cap.max_send_sge = p->max_sge;
	ia.cap.max_recv_sge = p->max_sge;
	ia.cap.max_inline_data = 256;
	ia.comp_mask = IBV_QP_INIT_ATTR_PD | IBV_QP_INIT_ATTR_SEND_OPS_FLAGS;
	ia.pd = x->pd;
	ia.send_ops_flags = IBV_QP_EX_WITH_SEND | IBV_QP_EX_WITH_SEND_WITH_IMM;
	if (type != IBV_QPT_UD)
		ia.send_ops_flags |= IBV_QP_EX_WITH_RDMA_WRITE |
			IBV_QP_EX_WITH_RDMA_WRITE_WITH_IMM;
	if (type == IBV_QPT_RC)
		ia.send_ops_flags |= IBV_QP_EX_WITH_RDMA_READ |
			IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP |
			IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD |
			IBV_QP_EX_WITH_ATOMIC_WRITE;
	x->qp = ibv_create_qp_ex(x->ctx, &ia);
	if (!x->qp)
		return "ibv_create_qp_ex failed";
	x->qpx = ibv_qp_to_qp_ex(x->qp);
	p->max_inline = ia.cap.max_inline_data;
	return NULL;
}

static int to_state(struct ibv_qp *qp, enum ibv_qp_state s)
{
	struct ibv_qp_attr a = { .qp_state = s };

	return ibv_modify_qp(qp, &a, IBV_QP_STATE);
}

static int qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;

	if (ibv_query_qp(qp, &a, IBV_QP_STATE, &ia))
		return -1;
	return a.qp_state;
}

/* RESET->INIT->RTR->RTS of @x towards @peer. */
static int rc_connect_one(struct pair *p, struct peer *x, struct peer *peer,
			  int rnr_retry)
{
	struct ibv_qp_attr a = {};
	int err;

	err = to_state(x->qp, IBV_QPS_RESET);
	if (err)
		return err;
	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ |
			    IBV_ACCESS_REMOTE_ATOMIC;
	err = ibv_modify_qp(x->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			    IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = p->mtu;
	a.dest_qp_num = peer->qp->qp_num;
	a.rq_psn = 0x10203 + peer->qp->qp_num;
	a.max_dest_rd_atomic = 4;
	/* The shortest RNR wait: the RNR tests retry for 100 ms. */
	a.min_rnr_timer = 1;
	a.ah_attr.is_global = 1;
	a.ah_attr.port_num = 1;
	a.ah_attr.grh.dgid = peer->gid;
	a.ah_attr.grh.sgid_index = x->gid_idx;
	a.ah_attr.grh.hop_limit = 64;
	err = ibv_modify_qp(x->qp, &a, IBV_QP_STATE | IBV_QP_AV |
			    IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN |
			    IBV_QP_MAX_DEST_RD_ATOMIC | IBV_QP_MIN_RNR_TIMER);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0x10203 + x->qp->qp_num;
	a.timeout = 14;
	a.retry_cnt = 7;
	a.rnr_retry = rnr_retry;
	a.max_rd_atomic = 4;
	return ibv_modify_qp(x->qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			     IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			     IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC);
}

static int rc_connect(struct pair *p, int rnr_retry)
{
	return rc_connect_one(p, &p->a, &p->b, rnr_retry) ?:
	       rc_connect_one(p, &p->b, &p->a, rnr_retry);
}

/* UC: RC's path attributes, none of its retry or RDMA read ones. */
static int uc_connect_one(struct pair *p, struct peer *x, struct peer *peer)
{
	struct ibv_qp_attr a = {};
	int err;

	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qp_access_flags = IBV_ACCESS_REMOTE_WRITE;
	err = ibv_modify_qp(x->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			    IBV_QP_PORT | IBV_QP_ACCESS_FLAGS);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTR;
	a.path_mtu = p->mtu;
	a.dest_qp_num = peer->qp->qp_num;
	a.rq_psn = 0x30201 + peer->qp->qp_num;
	a.ah_attr.is_global = 1;
	a.ah_attr.port_num = 1;
	a.ah_attr.grh.dgid = peer->gid;
	a.ah_attr.grh.sgid_index = x->gid_idx;
	a.ah_attr.grh.hop_limit = 64;
	err = ibv_modify_qp(x->qp, &a, IBV_QP_STATE | IBV_QP_AV |
			    IBV_QP_PATH_MTU | IBV_QP_DEST_QPN | IBV_QP_RQ_PSN);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0x30201 + x->qp->qp_num;
	return ibv_modify_qp(x->qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
}

static int ud_ready(struct pair *p, struct peer *x, struct peer *peer)
{
	struct ibv_ah_attr ah = {};
	struct ibv_qp_attr a = {};
	int err;

	a.qp_state = IBV_QPS_INIT;
	a.port_num = 1;
	a.qkey = QKEY;
	err = ibv_modify_qp(x->qp, &a, IBV_QP_STATE | IBV_QP_PKEY_INDEX |
			    IBV_QP_PORT | IBV_QP_QKEY) ?:
	      to_state(x->qp, IBV_QPS_RTR);
	if (err)
		return err;
	memset(&a, 0, sizeof(a));
	a.qp_state = IBV_QPS_RTS;
	a.sq_psn = 0x321;
	err = ibv_modify_qp(x->qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN);
	if (err)
		return err;
	ah.is_global = 1;
	ah.port_num = 1;
	ah.grh.dgid = peer->gid;
	ah.grh.sgid_index = x->gid_idx;
	ah.grh.hop_limit = 64;
	x->ah = ibv_create_ah(x->pd, &ah);
	return x->ah ? 0 : errno ?: EINVAL;
}

static const char *pair_setup(struct pair *p, bool two_devs, bool ipv6,
			      enum ibv_qp_type type)
{
	const char *err;
	char key[256];

	snprintf(p->type, sizeof(p->type), "%s", env("UET_TEST_LINK_TYPE", "uet"));
	snprintf(p->dev_a, sizeof(p->dev_a), "%s", env("UET_TEST_DEV_A", "uetdA0"));
	snprintf(p->dev_b, sizeof(p->dev_b), "%s", env("UET_TEST_DEV_B", "uetdB0"));
	p->two_devs = two_devs;
	p->ipv6 = ipv6;
	p->netns = strcmp(env("UET_TEST_NETNS", "1"), "0");
	if (two_devs && ipv6 && !p->netns)
		return "skip";
	if (!topo)
		return "no shared memory";
	snprintf(key, sizeof(key), "%s %s %s %d %d %d", p->type, p->dev_a,
		 p->dev_b, two_devs, ipv6, p->netns);
	if (!topo->built || strcmp(key, topo->key) ||
	    !uet_path_exists("/sys/class/infiniband/%s", p->dev_a) ||
	    (two_devs && !uet_path_exists("/sys/class/infiniband/%s", p->dev_b))) {
		net_cleanup(p->dev_a, p->dev_b, !p->netns);
		snprintf(topo->key, sizeof(topo->key), "%s", key);
		snprintf(topo->dev_a, sizeof(topo->dev_a), "%s", p->dev_a);
		snprintf(topo->dev_b, sizeof(topo->dev_b), "%s", p->dev_b);
		topo->routed = !p->netns;
		topo->built = true;
		if (net_setup(p))
			return "setting up the veth pair and the RDMA devices failed";
	}
	err = peer_setup(p, &p->a, p->dev_a, addr_a(p), type);
	if (!err)
		err = peer_setup(p, &p->b, two_devs ? p->dev_b : p->dev_a,
				 addr_b(p), type);
	if (err)
		return err;
	if (type == IBV_QPT_RC) {
		if (rc_connect(p, 7))
			return "connecting the RC QPs failed";
	} else if (type == IBV_QPT_UC) {
		if (uc_connect_one(p, &p->a, &p->b) ||
		    uc_connect_one(p, &p->b, &p->a))
			return "connecting the UC QPs failed";
	} else if (ud_ready(p, &p->a, &p->b) || ud_ready(p, &p->b, &p->a)) {
		return "bringing up the UD QPs failed";
	}
	return NULL;
}

static int mtu_bytes(enum ibv_mtu m)
{
	return 128 << m;
}

/* Completions */

static bool get_wc(struct __test_metadata *_metadata, struct ibv_cq *cq,
		   struct ibv_wc *wc, int ms, const char *what)
{
	int n;

	memset(wc, 0xa5, sizeof(*wc));
	n = uet_poll_n(cq, 1, wc, ms);
	EXPECT_EQ(1, n) TH_LOG("%s: no completion within %d ms (%d)", what, ms, n);
	return n == 1;
}

static void check_wc(struct __test_metadata *_metadata, const struct ibv_wc *wc,
		     uint64_t wr_id, enum ibv_wc_status st,
		     enum ibv_wc_opcode op, const struct ibv_qp *qp,
		     const char *what)
{
	EXPECT_EQ(wr_id, wc->wr_id)
		TH_LOG("%s: wr_id %#llx, want %#llx", what,
		       (unsigned long long)wc->wr_id, (unsigned long long)wr_id);
	EXPECT_EQ(st, wc->status)
		TH_LOG("%s: status %s (%d), want %s", what,
		       ibv_wc_status_str(wc->status), wc->status,
		       ibv_wc_status_str(st));
	/* The opcode is only defined for successful completions. */
	if (st == IBV_WC_SUCCESS)
		EXPECT_EQ(op, wc->opcode)
			TH_LOG("%s: opcode %d, want %d", what, wc->opcode, op);
	EXPECT_EQ(qp->qp_num, wc->qp_num)
		TH_LOG("%s: qp_num %#x, want %#x", what, wc->qp_num, qp->qp_num);
}

static void expect_cq_empty(struct __test_metadata *_metadata,
			    struct ibv_cq *cq, int ms, const char *what)
{
	struct ibv_wc wc;

	EXPECT_EQ(0, uet_poll_n(cq, 1, &wc, ms))
		TH_LOG("%s: unexpected completion wr_id %#llx status %s", what,
		       (unsigned long long)wc.wr_id,
		       ibv_wc_status_str(wc.status));
}

static enum ibv_wc_opcode send_wc_opcode(enum ibv_wr_opcode op)
{
	switch (op) {
	case IBV_WR_SEND:
	case IBV_WR_SEND_WITH_IMM:
		return IBV_WC_SEND;
	case IBV_WR_RDMA_WRITE:
	case IBV_WR_RDMA_WRITE_WITH_IMM:
		return IBV_WC_RDMA_WRITE;
	case IBV_WR_RDMA_READ:
		return IBV_WC_RDMA_READ;
	case IBV_WR_ATOMIC_CMP_AND_SWP:
		return IBV_WC_COMP_SWAP;
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		return IBV_WC_FETCH_ADD;
	case IBV_WR_ATOMIC_WRITE:
		return IBV_WC_ATOMIC_WRITE;
	default:
		return -1;
	}
}

static const char *op_name(enum ibv_wr_opcode op)
{
	switch (op) {
	case IBV_WR_SEND:
		return "SEND";
	case IBV_WR_SEND_WITH_IMM:
		return "SEND_WITH_IMM";
	case IBV_WR_RDMA_WRITE:
		return "RDMA_WRITE";
	case IBV_WR_RDMA_WRITE_WITH_IMM:
		return "RDMA_WRITE_WITH_IMM";
	case IBV_WR_RDMA_READ:
		return "RDMA_READ";
	case IBV_WR_ATOMIC_CMP_AND_SWP:
		return "CMP_AND_SWP";
	case IBV_WR_ATOMIC_FETCH_AND_ADD:
		return "FETCH_AND_ADD";
	case IBV_WR_ATOMIC_WRITE:
		return "ATOMIC_WRITE";
	default:
		return "?";
	}
}

/* Memory images */

/*
 * Split @len bytes at @base into @n SGEs of unequal lengths (1, 3, 5, ...
 * parts of n^2) with @gap bytes between them; returns the span covered.
 * No SGE for an empty message.
 */
static size_t make_sges(struct ibv_sge *sg, int *n, uint8_t *base, size_t len,
			size_t gap, uint32_t lkey)
{
	size_t off = 0, left = len, l;
	int i, parts = *n;

	if (!len) {
		*n = 0;
		return 0;
	}
	for (i = 0; i < parts; i++) {
		l = i + 1 < parts ? len * (2 * i + 1) / (parts * parts) : left;
		if (!l)
			l = 1;
		if (l > left)
			l = left;
		sg[i].addr = (uintptr_t)base + off;
		sg[i].length = l;
		sg[i].lkey = lkey;
		off += l + gap;
		left -= l;
	}
	*n = parts;
	return off - gap;
}

/* Copy @len bytes of @msg through @sg into @img, which stands for @base. */
static void scatter(const uint8_t *msg, size_t len, const struct ibv_sge *sg,
		    int n, const uint8_t *base, uint8_t *img)
{
	size_t l;
	int i;

	for (i = 0; i < n && len; i++) {
		l = sg[i].length < len ? sg[i].length : len;
		memcpy(img + ((uint8_t *)(uintptr_t)sg[i].addr - base), msg, l);
		msg += l;
		len -= l;
	}
}

/* Compare @n bytes at @got with @want; log the first difference. */
static bool same_bytes(struct __test_metadata *_metadata, const uint8_t *got,
		       const uint8_t *want, size_t n, long origin,
		       const char *what)
{
	size_t i;

	if (!memcmp(got, want, n))
		return true;
	for (i = 0; got[i] == want[i]; i++)
		;
	EXPECT_EQ(want[i], got[i])
		TH_LOG("%s: byte %ld is %#x, want %#x", what,
		       (long)i - origin, got[i], want[i]);
	return false;
}

/* RC transfers */

struct xfer {
	enum ibv_wr_opcode op;
	uint32_t len;
	int lsge;	/* SGEs on the initiator's side */
	int rsge;	/* SGEs of the receive buffer */
	bool inl;	/* IBV_SEND_INLINE */
	int wr_api;	/* ibv_wr_* instead of ibv_post_send() */
};

static int post_one(struct peer *x, const struct xfer *t, uint64_t id,
		    struct ibv_sge *sg, int n, uint64_t raddr, uint32_t rkey,
		    uint32_t imm, unsigned int flags)
{
	struct ibv_send_wr wr = {}, *bad;
	struct ibv_data_buf db[MAX_SGE];
	int i;

	if (!t->wr_api) {
		wr.wr_id = id;
		wr.sg_list = sg;
		wr.num_sge = n;
		wr.opcode = t->op;
		wr.send_flags = flags;
		wr.imm_data = imm;
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
		return ibv_post_send(x->qp, &wr, &bad);
	}
	ibv_wr_start(x->qpx);
	x->qpx->wr_id = id;
	x->qpx->wr_flags = flags;
	switch (t->op) {
	case IBV_WR_SEND:
		ibv_wr_send(x->qpx);
		break;
	case IBV_WR_SEND_WITH_IMM:
		ibv_wr_send_imm(x->qpx, imm);
		break;
	case IBV_WR_RDMA_WRITE:
		ibv_wr_rdma_write(x->qpx, rkey, raddr);
		break;
	case IBV_WR_RDMA_WRITE_WITH_IMM:
		ibv_wr_rdma_write_imm(x->qpx, rkey, raddr, imm);
		break;
	default:
		ibv_wr_rdma_read(x->qpx, rkey, raddr);
		break;
	}
	if (flags & IBV_SEND_INLINE) {
		for (i = 0; i < n; i++) {
			db[i].addr = (void *)(uintptr_t)sg[i].addr;
			db[i].length = sg[i].length;
		}
		ibv_wr_set_inline_data_list(x->qpx, n, db);
	} else {
		ibv_wr_set_sge_list(x->qpx, n, sg);
	}
	return ibv_wr_complete(x->qpx);
}

static int post_recv_sges(struct peer *x, uint64_t id, struct ibv_sge *sg,
			  int n)
{
	struct ibv_recv_wr wr = {}, *bad;

	wr.wr_id = id;
	wr.sg_list = sg;
	wr.num_sge = n;
	return ibv_post_recv(x->qp, &wr, &bad);
}

/*
 * One transfer from a to b (for READ, from b to a): fill the source with
 * a fresh pattern and everything around the target with guard bytes, move
 * the message, check both completions and every byte of the target area.
 */
static void run_xfer(struct __test_metadata *_metadata, struct pair *p,
		     const struct xfer *t)
{
	bool rd = t->op == IBV_WR_RDMA_READ;
	bool imm = t->op == IBV_WR_SEND_WITH_IMM ||
		   t->op == IBV_WR_RDMA_WRITE_WITH_IMM;
	bool is_send = t->op == IBV_WR_SEND || t->op == IBV_WR_SEND_WITH_IMM;
	bool recv = is_send || t->op == IBV_WR_RDMA_WRITE_WITH_IMM;
	struct ibv_sge lsg[MAX_SGE], rsg[MAX_SGE], cont;
	struct peer *a = &p->a, *b = &p->b;
	int nl = t->lsge, nr = t->rsge, nc = 1, i;
	size_t span_l, span_r, area_len;
	uint8_t *msg, *img, *area;
	uint64_t seed, id, rid;
	struct ibv_sge *tsg;
	struct ibv_wc wc;
	char what[128];
	uint32_t immv;
	int ntsg;

	seed = p->seed ^ uet_mix64(((uint64_t)t->op << 48) ^ ((uint64_t)t->lsge << 40) ^
			       ((uint64_t)t->rsge << 32) ^ t->len ^
			       ((uint64_t)t->wr_api << 56) ^ ((uint64_t)t->inl << 57));
	immv = (uint32_t)uet_mix64(seed);
	id = ++p->next_id | (seed << 16);
	rid = ++p->next_id | (seed << 20);
	snprintf(what, sizeof(what), "%s len %u sge %d/%d%s%s", op_name(t->op),
		 t->len, t->lsge, t->rsge, t->inl ? " inline" : "",
		 t->wr_api ? " ibv_wr" : "");

	msg = malloc(t->len + 1);
	ASSERT_NE(NULL, msg);
	uet_pat_fill(msg, t->len, seed);

	/* Initiator side (gather, or scatter for READ), gaps if several. */
	span_l = make_sges(lsg, &nl, a->buf + L_OFF, t->len,
			   t->lsge > 1 ? SGE_GAP : 0,
			   t->inl ? 0xdeadbeef : a->mr->lkey);
	/* Target side: a receive scatter list, or one contiguous range. */
	if (is_send)
		span_r = make_sges(rsg, &nr, b->buf + R_OFF,
				   t->len + RECV_SLACK,
				   t->rsge > 1 ? SGE_GAP : 0, b->mr->lkey);
	else
		span_r = t->len;
	cont.addr = (uintptr_t)b->buf + R_OFF;
	cont.length = t->len;
	cont.lkey = 0;

	/* Guard bytes everywhere near both sides, then the source. */
	uet_pat_fill(a->buf + L_OFF - GUARD, span_l + 2 * GUARD, ~seed);
	uet_pat_fill(b->buf + R_OFF - GUARD, span_r + 2 * GUARD, seed + 1);
	if (rd)
		scatter(msg, t->len, &cont, nc, b->buf, b->buf);
	else
		scatter(msg, t->len, lsg, nl, a->buf, a->buf);

	/* What the target area must look like afterwards. */
	if (rd) {
		area = a->buf + L_OFF - GUARD;
		area_len = span_l + 2 * GUARD;
		tsg = lsg;
		ntsg = nl;
	} else {
		area = b->buf + R_OFF - GUARD;
		area_len = span_r + 2 * GUARD;
		tsg = is_send ? rsg : &cont;
		ntsg = is_send ? nr : nc;
	}
	img = malloc(area_len);
	ASSERT_NE(NULL, img);
	memcpy(img, area, area_len);
	scatter(msg, t->len, tsg, ntsg, area, img);

	if (recv)
		ASSERT_EQ(0, post_recv_sges(b, rid, rsg, is_send ? nr : 0))
			TH_LOG("%s: post_recv failed", what);
	ASSERT_EQ(0, post_one(a, t, id, lsg, nl, cont.addr, b->mr->rkey, immv,
			      IBV_SEND_SIGNALED | (t->inl ? IBV_SEND_INLINE : 0)))
		TH_LOG("%s: posting failed", what);
	/* Inline data is copied when posted: the buffer is ours again. */
	if (t->inl)
		for (i = 0; i < nl; i++)
			memset((void *)(uintptr_t)lsg[i].addr, 0xee,
			       lsg[i].length);

	/* A transport that lost one message will not deliver the next. */
	ASSERT_TRUE(get_wc(_metadata, a->scq, &wc, wait_ms(t->len), what));
	check_wc(_metadata, &wc, id, IBV_WC_SUCCESS, send_wc_opcode(t->op),
		 a->qp, what);
	if (recv) {
		ASSERT_TRUE(get_wc(_metadata, b->rcq, &wc, wait_ms(t->len),
				   what));
		check_wc(_metadata, &wc, rid, IBV_WC_SUCCESS,
			 is_send ? IBV_WC_RECV : IBV_WC_RECV_RDMA_WITH_IMM,
			 b->qp, what);
		EXPECT_EQ(t->len, wc.byte_len)
			TH_LOG("%s: byte_len %u", what, wc.byte_len);
		EXPECT_EQ(imm ? IBV_WC_WITH_IMM : 0,
			  wc.wc_flags & IBV_WC_WITH_IMM)
			TH_LOG("%s: wc_flags %#x", what, wc.wc_flags);
		if (imm)
			EXPECT_EQ(immv, wc.imm_data)
				TH_LOG("%s: imm_data %#x, want %#x", what,
				       wc.imm_data, immv);
	}
	same_bytes(_metadata, area, img, area_len, GUARD, what);
	expect_cq_empty(_metadata, a->scq, 0, what);
	expect_cq_empty(_metadata, b->rcq, 0, what);
	free(img);
	free(msg);
}

/* RC fixture */

FIXTURE(rc) {
	struct pair p;
};

FIXTURE_VARIANT(rc) {
	bool two_devs;
	bool ipv6;
};

/* Two QPs of one device, talking to each other. */
FIXTURE_VARIANT_ADD(rc, loopback) {
	.two_devs = false,
};

/* One device per end of a veth pair, each end in its own namespace. */
FIXTURE_VARIANT_ADD(rc, two_netns) {
	.two_devs = true,
};

FIXTURE_VARIANT_ADD(rc, two_netns_v6) {
	.two_devs = true,
	.ipv6 = true,
};

FIXTURE_SETUP(rc)
{
	const char *err;

	err = pair_setup(&self->p, variant->two_devs, variant->ipv6,
			 IBV_QPT_RC);
	/* The policy routes do not get IPv6 across the veth. */
	if (err && !strcmp(err, "skip"))
		SKIP(return, "IPv6 between two devices needs UET_TEST_NETNS=1");
	if (err)
		pair_teardown(&self->p, true);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	self->p.seed = uet_name_seed(_metadata->name);
}

FIXTURE_TEARDOWN(rc)
{
	pair_teardown(&self->p, !_metadata->next);
}

static void sweep(struct __test_metadata *_metadata, struct pair *p,
		  enum ibv_wr_opcode op)
{
	struct xfer t = { .op = op, .lsge = 1, .rsge = 1 };
	uint32_t max = sweep_max_len();
	unsigned int i;

	for (t.wr_api = 0; t.wr_api <= 1; t.wr_api++)
		for (i = 0; i < ARRAY_SIZE(sizes) && sizes[i] <= max; i++) {
			t.len = sizes[i];
			run_xfer(_metadata, p, &t);
		}
}

TEST_F_TIMEOUT(rc, send, 300)
{
	sweep(_metadata, &self->p, IBV_WR_SEND);
}

TEST_F_TIMEOUT(rc, send_with_imm, 300)
{
	sweep(_metadata, &self->p, IBV_WR_SEND_WITH_IMM);
}

TEST_F_TIMEOUT(rc, rdma_write, 300)
{
	sweep(_metadata, &self->p, IBV_WR_RDMA_WRITE);
}

TEST_F_TIMEOUT(rc, rdma_write_with_imm, 300)
{
	sweep(_metadata, &self->p, IBV_WR_RDMA_WRITE_WITH_IMM);
}

TEST_F_TIMEOUT(rc, rdma_read, 300)
{
	sweep(_metadata, &self->p, IBV_WR_RDMA_READ);
}

TEST_F_TIMEOUT(rc, multi_sge, 300)
{
	static const uint32_t lens[] = { 1023, 4097, 65536 + 13, 1u << 20 };
	static const enum ibv_wr_opcode ops[] = {
		IBV_WR_SEND, IBV_WR_SEND_WITH_IMM, IBV_WR_RDMA_WRITE,
		IBV_WR_RDMA_WRITE_WITH_IMM, IBV_WR_RDMA_READ,
	};
	/* Initiator and receive SGE counts; 16 becomes the device's max. */
	static const int shapes[][2] = { { 3, 1 }, { 1, 3 }, { 16, 16 },
					 { 3, 16 } };
	struct pair *p = &self->p;
	struct xfer t = {};
	unsigned int o, s, l;

	ASSERT_LE(3, p->max_sge);
	for (o = 0; o < ARRAY_SIZE(ops); o++)
		for (s = 0; s < ARRAY_SIZE(shapes); s++)
			for (l = 0; l < ARRAY_SIZE(lens); l++) {
				t.op = ops[o];
				t.lsge = shapes[s][0] < (int)p->max_sge ?
					 shapes[s][0] : p->max_sge;
				t.rsge = shapes[s][1] < (int)p->max_sge ?
					 shapes[s][1] : p->max_sge;
				/* Only SENDs have a receive scatter list. */
				if (t.op != IBV_WR_SEND &&
				    t.op != IBV_WR_SEND_WITH_IMM && t.rsge != 1) {
					if (t.lsge == 1)
						continue;
					t.rsge = 1;
				}
				t.len = lens[l];
				t.wr_api = (o + s + l) & 1;
				run_xfer(_metadata, p, &t);
			}
}

TEST_F_TIMEOUT(rc, inline_data, 300)
{
	static const enum ibv_wr_opcode ops[] = {
		IBV_WR_SEND, IBV_WR_SEND_WITH_IMM, IBV_WR_RDMA_WRITE,
		IBV_WR_RDMA_WRITE_WITH_IMM,
	};
	struct pair *p = &self->p;
	uint32_t m = p->max_inline;
	uint32_t lens[] = { 0, 1, 63, m / 2 + 1, m - 1, m };
	struct xfer t = {};
	unsigned int o, l;

	if (!m)
		SKIP(return, "the QP has no inline data");
	for (o = 0; o < ARRAY_SIZE(ops); o++)
		for (l = 0; l < ARRAY_SIZE(lens); l++)
			for (t.wr_api = 0; t.wr_api <= 1; t.wr_api++) {
				t.op = ops[o];
				t.len = lens[l] > m ? m : lens[l];
				t.lsge = t.len >= 3 && (l & 1) ? 3 : 1;
				t.rsge = 1;
				t.inl = true;
				run_xfer(_metadata, p, &t);
			}
}

/* One atomic at @off of b's buffer; returns what came back in a's. */
static uint64_t atomic_one(struct __test_metadata *_metadata, struct pair *p,
			   enum ibv_wr_opcode op, bool wr_api, size_t off,
			   uint64_t cmp_add, uint64_t swap, const char *what)
{
	struct ibv_send_wr wr = {}, *bad;
	uint64_t *res = (uint64_t *)(p->a.buf + 8 * 1024);
	uint64_t id = ++p->next_id;
	struct ibv_sge sg = {
		.addr = (uintptr_t)res, .length = 8, .lkey = p->a.mr->lkey,
	};
	uint64_t raddr = (uintptr_t)p->b.buf + off;
	struct ibv_wc wc;

	*res = 0x5555aaaa5555aaaaull;
	if (wr_api) {
		ibv_wr_start(p->a.qpx);
		p->a.qpx->wr_id = id;
		p->a.qpx->wr_flags = IBV_SEND_SIGNALED;
		if (op == IBV_WR_ATOMIC_CMP_AND_SWP)
			ibv_wr_atomic_cmp_swp(p->a.qpx, p->b.mr->rkey, raddr,
					      cmp_add, swap);
		else
			ibv_wr_atomic_fetch_add(p->a.qpx, p->b.mr->rkey, raddr,
						cmp_add);
		ibv_wr_set_sge(p->a.qpx, sg.lkey, sg.addr, sg.length);
		EXPECT_EQ(0, ibv_wr_complete(p->a.qpx)) TH_LOG("%s", what);
	} else {
		wr.wr_id = id;
		wr.sg_list = &sg;
		wr.num_sge = 1;
		wr.opcode = op;
		wr.send_flags = IBV_SEND_SIGNALED;
		wr.wr.atomic.remote_addr = raddr;
		wr.wr.atomic.compare_add = cmp_add;
		wr.wr.atomic.swap = swap;
		wr.wr.atomic.rkey = p->b.mr->rkey;
		EXPECT_EQ(0, ibv_post_send(p->a.qp, &wr, &bad)) TH_LOG("%s", what);
	}
	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(0), what))
		check_wc(_metadata, &wc, id, IBV_WC_SUCCESS,
			 send_wc_opcode(op), p->a.qp, what);
	return *res;
}

TEST_F_TIMEOUT(rc, atomics, 120)
{
	struct pair *p = &self->p;
	const size_t off = 4096;	/* 8-byte aligned in b's buffer */
	uint64_t *tgt = (uint64_t *)(p->b.buf + off);
	uint64_t *res = (uint64_t *)(p->a.buf + 8 * 1024);
	uint8_t around[72];
	uint64_t v0 = 0x0123456789abcdefull;
	char what[64];
	int api;

	if (!p->atomics)
		SKIP(return, "the device has no atomics");
	uet_pat_fill(p->b.buf + off - 32, 72, p->seed);
	memcpy(around, p->b.buf + off - 32, 64 + 8);
	for (api = 0; api <= 1; api++) {
		snprintf(what, sizeof(what), "atomics%s", api ? " ibv_wr" : "");
		*tgt = v0;
		memcpy(around + 32, tgt, 8);
		EXPECT_EQ(v0, atomic_one(_metadata, p,
					 IBV_WR_ATOMIC_FETCH_AND_ADD, api, off,
					 0x1111111111111111ull, 0, what));
		EXPECT_EQ(v0 + 0x1111111111111111ull, *tgt) TH_LOG("%s", what);
		/* A miss returns the value and leaves it alone. */
		EXPECT_EQ(v0 + 0x1111111111111111ull,
			  atomic_one(_metadata, p, IBV_WR_ATOMIC_CMP_AND_SWP,
				     api, off, v0, 42, what));
		EXPECT_EQ(v0 + 0x1111111111111111ull, *tgt) TH_LOG("%s", what);
		EXPECT_EQ(v0 + 0x1111111111111111ull,
			  atomic_one(_metadata, p, IBV_WR_ATOMIC_CMP_AND_SWP,
				     api, off, v0 + 0x1111111111111111ull,
				     0xfedcba9876543210ull, what));
		EXPECT_EQ(0xfedcba9876543210ull, *tgt) TH_LOG("%s", what);
		/* Fetch-and-add wraps around at 64 bits. */
		*tgt = ~0ull;
		EXPECT_EQ(~0ull, atomic_one(_metadata, p,
					    IBV_WR_ATOMIC_FETCH_AND_ADD, api,
					    off, 2, 0, what));
		EXPECT_EQ(1, *tgt) TH_LOG("%s", what);
		/* Neighbours of the target are untouched. */
		same_bytes(_metadata, p->b.buf + off - 32, around, 32, 0, what);
		same_bytes(_metadata, p->b.buf + off + 8, around + 40, 32, 0,
			   what);
		/* Only the 8 result bytes were written locally. */
		EXPECT_EQ(~0ull, *res);
	}
}

/* One atomic write of @v to @raddr; the completion must say @st. */
static void atomic_write_one(struct __test_metadata *_metadata,
			     struct pair *p, bool wr_api, uint64_t raddr,
			     uint32_t rkey, uint64_t v, const char *what)
{
	uint64_t *src = (uint64_t *)(p->a.buf + 8 * 1024);
	struct ibv_sge sg = {
		.addr = (uintptr_t)src, .length = 8, .lkey = p->a.mr->lkey,
	};
	struct ibv_send_wr wr = {}, *bad;
	uint64_t id = ++p->next_id;
	struct ibv_wc wc;

	*src = v;
	if (wr_api) {
		ibv_wr_start(p->a.qpx);
		p->a.qpx->wr_id = id;
		p->a.qpx->wr_flags = IBV_SEND_SIGNALED;
		ibv_wr_atomic_write(p->a.qpx, rkey, raddr, src);
		EXPECT_EQ(0, ibv_wr_complete(p->a.qpx)) TH_LOG("%s", what);
		/* The 8 bytes were taken when posted. */
		*src = ~v;
	} else {
		wr.wr_id = id;
		wr.sg_list = &sg;
		wr.num_sge = 1;
		wr.opcode = IBV_WR_ATOMIC_WRITE;
		wr.send_flags = IBV_SEND_SIGNALED;
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
		EXPECT_EQ(0, ibv_post_send(p->a.qp, &wr, &bad)) TH_LOG("%s", what);
	}
	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(0), what))
		check_wc(_metadata, &wc, id, IBV_WC_SUCCESS,
			 IBV_WC_ATOMIC_WRITE, p->a.qp, what);
}

/*
 * IBV_WR_ATOMIC_WRITE stores 8 bytes at once, through ibv_post_send()
 * and ibv_wr_atomic_write(), into memory that allows remote writes (and
 * need not allow remote atomics); nothing around them changes.
 */
TEST_F_TIMEOUT(rc, atomic_write, 120)
{
	enum { REG = 64 * 4096 };
	struct pair *p = &self->p;
	uint8_t *reg = p->b.buf + REG;
	uint8_t save[3 * 64];
	struct ibv_mr *mr;
	char what[64];
	uint64_t v;
	int api;

	mr = ibv_reg_mr(p->b.pd, reg, 4096,
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	ASSERT_NE(NULL, mr) TH_LOG("ibv_reg_mr: %s", strerror(errno));
	for (api = 0; api <= 1; api++) {
		snprintf(what, sizeof(what), "atomic write%s",
			 api ? " ibv_wr" : "");
		uet_pat_fill(reg, sizeof(save), p->seed + api);
		memcpy(save, reg, sizeof(save));
		v = uet_mix64(p->seed ^ api);
		memcpy(save + 64, &v, 8);
		atomic_write_one(_metadata, p, api, (uintptr_t)reg + 64,
				 mr->rkey, v, what);
		same_bytes(_metadata, reg, save, sizeof(save), 0, what);
		/* And into the fixture's MR, at its last aligned word. */
		v = ~v;
		atomic_write_one(_metadata, p, api,
				 (uintptr_t)p->b.buf + BUF_LEN - 8,
				 p->b.mr->rkey, v, what);
		EXPECT_EQ(0, memcmp(p->b.buf + BUF_LEN - 8, &v, 8))
			TH_LOG("%s: last word", what);
	}
	EXPECT_EQ(0, ibv_dereg_mr(mr));
}

/* A 256-byte RDMA WRITE from a's buffer; its completion must say @st. */
static void write_expect(struct __test_metadata *_metadata, struct pair *p,
			 uint32_t rkey, void *raddr, enum ibv_wc_status st,
			 const char *what)
{
	struct ibv_sge sg = {
		.addr = (uintptr_t)p->a.buf + L_OFF, .length = 256,
		.lkey = p->a.mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = ++p->next_id, .sg_list = &sg, .num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_wc wc;

	wr.wr.rdma.remote_addr = (uintptr_t)raddr;
	wr.wr.rdma.rkey = rkey;
	ASSERT_EQ(0, ibv_post_send(p->a.qp, &wr, &bad)) TH_LOG("%s", what);
	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(0), what))
		check_wc(_metadata, &wc, wr.wr_id, st, IBV_WC_RDMA_WRITE,
			 p->a.qp, what);
}

/*
 * ibv_rereg_mr() changes an MR in place: its keys stay valid for the
 * peer, the new access rights, memory and PD apply at once, and a
 * change that cannot be made leaves the MR as it was.
 */
TEST_F_TIMEOUT(rc, rereg_mr, 120)
{
	enum { LEN = 8192 };
	struct pair *p = &self->p;
	uint8_t *r1 = p->b.buf + 64 * 4096, *r2 = p->b.buf + 80 * 4096;
	uint8_t *src = p->a.buf + L_OFF;
	static uint8_t want[LEN];
	uint32_t lkey, rkey;
	struct ibv_pd *pd2;
	struct ibv_mr *mr;

	pd2 = ibv_alloc_pd(p->b.ctx);
	ASSERT_NE(NULL, pd2);
	mr = ibv_reg_mr(p->b.pd, r1, LEN, FULL_ACCESS);
	ASSERT_NE(NULL, mr) TH_LOG("ibv_reg_mr: %s", strerror(errno));
	lkey = mr->lkey;
	rkey = mr->rkey;
	uet_pat_fill(src, 256, p->seed);
	memset(r1, 0x11, LEN);
	memset(r2, 0x22, LEN);

	/* Remote write taken away: the same rkey is now refused. */
	ASSERT_EQ(0, ibv_rereg_mr(mr, IBV_REREG_MR_CHANGE_ACCESS, NULL, NULL,
				  0, IBV_ACCESS_LOCAL_WRITE));
	EXPECT_EQ(lkey, mr->lkey);
	EXPECT_EQ(rkey, mr->rkey);
	write_expect(_metadata, p, rkey, r1 + 100, IBV_WC_REM_ACCESS_ERR,
		     "no remote write");
	ASSERT_EQ(0, rc_connect(p, 7));

	/* New memory and the rights back: the old range is not it now. */
	ASSERT_EQ(0, ibv_rereg_mr(mr, IBV_REREG_MR_CHANGE_TRANSLATION |
				  IBV_REREG_MR_CHANGE_ACCESS, NULL, r2, LEN,
				  FULL_ACCESS));
	EXPECT_EQ(lkey, mr->lkey);
	EXPECT_EQ(rkey, mr->rkey);
	write_expect(_metadata, p, rkey, r2 + 300, IBV_WC_SUCCESS,
		     "new memory");
	write_expect(_metadata, p, rkey, r1 + 100, IBV_WC_REM_ACCESS_ERR,
		     "old memory");
	ASSERT_EQ(0, rc_connect(p, 7));
	memset(want, 0x11, LEN);
	same_bytes(_metadata, r1, want, LEN, 0, "old memory");

	/* Moved to another PD: the QP's PD no longer reaches it. */
	ASSERT_EQ(0, ibv_rereg_mr(mr, IBV_REREG_MR_CHANGE_PD, pd2, NULL, 0,
				  0));
	write_expect(_metadata, p, rkey, r2, IBV_WC_REM_ACCESS_ERR,
		     "other PD");
	ASSERT_EQ(0, rc_connect(p, 7));
	EXPECT_EQ(EBUSY, ibv_dealloc_pd(pd2));
	ASSERT_EQ(0, ibv_rereg_mr(mr, IBV_REREG_MR_CHANGE_PD, p->b.pd, NULL,
				  0, 0));

	/* Memory that cannot be pinned: nothing changes. */
	EXPECT_GT(0, ibv_rereg_mr(mr, IBV_REREG_MR_CHANGE_TRANSLATION, NULL,
				  (void *)4096, LEN, 0));
	write_expect(_metadata, p, rkey, r2 + 1000, IBV_WC_SUCCESS,
		     "after a failed rereg");
	memset(want, 0x22, LEN);
	memcpy(want + 300, src, 256);
	memcpy(want + 1000, src, 256);
	same_bytes(_metadata, r2, want, LEN, 0, "new memory");

	EXPECT_EQ(0, ibv_dereg_mr(mr));
	EXPECT_EQ(0, ibv_dealloc_pd(pd2));
}

/*
 * A chain of mixed work requests, every third unsignaled: one completion
 * per signaled request, none for the others, all in posting order, and
 * the receive completions in order on the other side.
 */
TEST_F_TIMEOUT(rc, completion_order, 120)
{
	static const enum ibv_wr_opcode ops[] = {
		IBV_WR_SEND, IBV_WR_RDMA_WRITE, IBV_WR_RDMA_READ,
		IBV_WR_SEND_WITH_IMM, IBV_WR_RDMA_WRITE_WITH_IMM,
		IBV_WR_ATOMIC_FETCH_AND_ADD,
	};
	enum { N = 24 };
	struct ibv_send_wr wr[N], *bad;
	struct ibv_recv_wr rwr[N], *rbad;
	struct ibv_sge sg[N], rsg[N];
	struct pair *p = &self->p;
	struct ibv_wc wc[N];
	int i, nsig = 0, nrecv = 0, got;
	uint64_t sig_ids[N], recv_ids[N];
	uint64_t *ctr = (uint64_t *)(p->b.buf + 2 * 4096);
	enum ibv_wr_opcode op;
	char what[64];

	memset(wr, 0, sizeof(wr));
	memset(rwr, 0, sizeof(rwr));
	*ctr = 0;
	for (i = 0; i < N; i++) {
		op = ops[i % (ARRAY_SIZE(ops))];
		if (op == IBV_WR_ATOMIC_FETCH_AND_ADD && !p->atomics)
			op = IBV_WR_RDMA_WRITE;
		sg[i].addr = (uintptr_t)p->a.buf + 4 * 4096 + 128 * i;
		sg[i].length = op == IBV_WR_ATOMIC_FETCH_AND_ADD ? 8 : 100;
		sg[i].lkey = p->a.mr->lkey;
		wr[i].wr_id = 1000 + i;
		wr[i].sg_list = &sg[i];
		wr[i].num_sge = 1;
		wr[i].opcode = op;
		/* The last one is signaled so that the queue drains. */
		wr[i].send_flags = i % 3 != 2 || i == N - 1 ?
				   IBV_SEND_SIGNALED : 0;
		wr[i].imm_data = htonl(i);
		wr[i].next = i + 1 < N ? &wr[i + 1] : NULL;
		if (op == IBV_WR_ATOMIC_FETCH_AND_ADD) {
			wr[i].wr.atomic.remote_addr = (uintptr_t)ctr;
			wr[i].wr.atomic.rkey = p->b.mr->rkey;
			wr[i].wr.atomic.compare_add = 1;
		} else {
			wr[i].wr.rdma.remote_addr = (uintptr_t)p->b.buf +
						    8 * 4096 + 128 * i;
			wr[i].wr.rdma.rkey = p->b.mr->rkey;
		}
		if (wr[i].send_flags)
			sig_ids[nsig++] = wr[i].wr_id;
		if (op == IBV_WR_SEND || op == IBV_WR_SEND_WITH_IMM ||
		    op == IBV_WR_RDMA_WRITE_WITH_IMM) {
			rsg[nrecv].addr = (uintptr_t)p->b.buf + 16 * 4096 +
					  128 * nrecv;
			rsg[nrecv].length = 128;
			rsg[nrecv].lkey = p->b.mr->lkey;
			rwr[nrecv].wr_id = 5000 + nrecv;
			rwr[nrecv].sg_list = &rsg[nrecv];
			rwr[nrecv].num_sge = 1;
			if (nrecv)
				rwr[nrecv - 1].next = &rwr[nrecv];
			recv_ids[nrecv] = i;
			nrecv++;
		}
	}
	ASSERT_EQ(0, ibv_post_recv(p->b.qp, rwr, &rbad));
	ASSERT_EQ(0, ibv_post_send(p->a.qp, wr, &bad));
	got = uet_poll_n(p->a.scq, nsig, wc, wait_ms(0));
	EXPECT_EQ(nsig, got);
	for (i = 0; i < got; i++) {
		snprintf(what, sizeof(what), "completion %d", i);
		check_wc(_metadata, &wc[i], sig_ids[i], IBV_WC_SUCCESS,
			 send_wc_opcode(wr[sig_ids[i] - 1000].opcode), p->a.qp,
			 what);
	}
	expect_cq_empty(_metadata, p->a.scq, QUIET_MS, "unsignaled work");
	got = uet_poll_n(p->b.rcq, nrecv, wc, wait_ms(0));
	EXPECT_EQ(nrecv, got);
	for (i = 0; i < got; i++) {
		op = wr[recv_ids[i]].opcode;
		snprintf(what, sizeof(what), "receive %d", i);
		check_wc(_metadata, &wc[i], 5000 + i, IBV_WC_SUCCESS,
			 op == IBV_WR_RDMA_WRITE_WITH_IMM ?
			 IBV_WC_RECV_RDMA_WITH_IMM : IBV_WC_RECV,
			 p->b.qp, what);
		EXPECT_EQ(op == IBV_WR_SEND ? 0 : IBV_WC_WITH_IMM,
			  wc[i].wc_flags & IBV_WC_WITH_IMM) TH_LOG("%s", what);
		if (op != IBV_WR_SEND)
			EXPECT_EQ(htonl(recv_ids[i]), wc[i].imm_data)
				TH_LOG("%s", what);
	}
	if (p->atomics)
		EXPECT_EQ(N / 6, *ctr);
}

/* Error completions */

enum bad_kind { BAD_RKEY, PAST_END, NO_REMOTE_WRITE, NO_REMOTE_READ,
		MISALIGNED_ATOMIC, ATOMIC_WRITE_NO_REMOTE_WRITE,
		MISALIGNED_ATOMIC_WRITE };

/*
 * Post a bad request followed by a good WRITE, expect @status for the
 * first and a flush for the second; the target MR (4 KiB inside a larger
 * pattern-filled region) and the local buffer stay as they were, the
 * initiator is in the error state and flushes whatever comes later.
 */
static void bad_request(struct __test_metadata *_metadata, struct pair *p,
			enum bad_kind kind, enum ibv_wc_status status)
{
	enum { REG = 3 * 4096, MR_OFF = 4096, MR_LEN = 4096 };
	uint8_t *reg = p->b.buf + 64 * 4096, *lreg = p->a.buf + 4096;
	uint8_t *save = malloc(REG), *lsave = malloc(REG);
	struct ibv_send_wr wr[2] = {}, *bad;
	struct ibv_sge sg[2];
	struct ibv_mr *mr;
	struct ibv_wc wc;
	int access = FULL_ACCESS;
	int err;

	ASSERT_NE(NULL, save);
	ASSERT_NE(NULL, lsave);
	if (kind == NO_REMOTE_WRITE || kind == ATOMIC_WRITE_NO_REMOTE_WRITE)
		access &= ~IBV_ACCESS_REMOTE_WRITE;
	if (kind == NO_REMOTE_READ)
		access &= ~IBV_ACCESS_REMOTE_READ;
	if (kind == MISALIGNED_ATOMIC && !p->atomics)
		SKIP(return, "the device has no atomics");
	mr = ibv_reg_mr(p->b.pd, reg + MR_OFF, MR_LEN, access);
	ASSERT_NE(NULL, mr) TH_LOG("ibv_reg_mr: %s", strerror(errno));
	uet_pat_fill(reg, REG, p->seed);
	uet_pat_fill(lreg, REG, ~p->seed);
	memcpy(save, reg, REG);
	memcpy(lsave, lreg, REG);

	sg[0].addr = (uintptr_t)lreg + 100;
	sg[0].length = 64;
	sg[0].lkey = p->a.mr->lkey;
	wr[0].wr_id = 0xbad;
	wr[0].sg_list = &sg[0];
	wr[0].num_sge = 1;
	wr[0].send_flags = IBV_SEND_SIGNALED;
	wr[0].opcode = IBV_WR_RDMA_WRITE;
	wr[0].wr.rdma.remote_addr = (uintptr_t)reg + MR_OFF + 128;
	wr[0].wr.rdma.rkey = mr->rkey;
	switch (kind) {
	case BAD_RKEY:
		wr[0].wr.rdma.rkey = ~mr->rkey;
		break;
	case PAST_END:
		/* Straddles the end: the part inside must not land either. */
		wr[0].wr.rdma.remote_addr = (uintptr_t)reg + MR_OFF + MR_LEN - 32;
		break;
	case NO_REMOTE_WRITE:
		break;
	case NO_REMOTE_READ:
		wr[0].opcode = IBV_WR_RDMA_READ;
		break;
	case MISALIGNED_ATOMIC:
		wr[0].opcode = IBV_WR_ATOMIC_CMP_AND_SWP;
		sg[0].length = 8;
		wr[0].wr.atomic.remote_addr = (uintptr_t)reg + MR_OFF + 4;
		wr[0].wr.atomic.rkey = mr->rkey;
		/* Would match whatever is there, if it were executed. */
		wr[0].wr.atomic.compare_add = 0;
		wr[0].wr.atomic.swap = 0x1122334455667788ull;
		break;
	case ATOMIC_WRITE_NO_REMOTE_WRITE:
	case MISALIGNED_ATOMIC_WRITE:
		wr[0].opcode = IBV_WR_ATOMIC_WRITE;
		sg[0].length = 8;
		wr[0].wr.rdma.remote_addr = (uintptr_t)reg + MR_OFF +
			(kind == MISALIGNED_ATOMIC_WRITE ? 4 : 8);
		break;
	}
	/* A good WRITE behind it, which must be flushed, not executed. */
	sg[1] = sg[0];
	sg[1].length = 64;
	wr[0].next = &wr[1];
	wr[1].wr_id = 0x600d;
	wr[1].sg_list = &sg[1];
	wr[1].num_sge = 1;
	wr[1].send_flags = IBV_SEND_SIGNALED;
	wr[1].opcode = IBV_WR_RDMA_WRITE;
	wr[1].wr.rdma.remote_addr = (uintptr_t)reg + MR_OFF;
	wr[1].wr.rdma.rkey = mr->rkey;
	err = ibv_post_send(p->a.qp, wr, &bad);
	if (err && (kind == MISALIGNED_ATOMIC ||
		    kind == MISALIGNED_ATOMIC_WRITE)) {
		/* Refusing it at post time is fine too: then nothing happens. */
		TH_LOG("ibv_post_send refused the misaligned atomic: %s",
		       strerror(err));
		EXPECT_EQ(&wr[0], bad);
		EXPECT_EQ(IBV_QPS_RTS, qp_state(p->a.qp));
		expect_cq_empty(_metadata, p->a.scq, QUIET_MS, "refused atomic");
		goto check_mem;
	}
	ASSERT_EQ(0, err) TH_LOG("ibv_post_send: %s", strerror(err));

	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(0), "bad request"))
		check_wc(_metadata, &wc, 0xbad, status, 0, p->a.qp,
			 "bad request");
	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(0), "request behind"))
		check_wc(_metadata, &wc, 0x600d, IBV_WC_WR_FLUSH_ERR, 0,
			 p->a.qp, "request behind");
	EXPECT_EQ(IBV_QPS_ERR, qp_state(p->a.qp));

	/* Work posted in the error state is flushed too. */
	wr[1].next = NULL;
	wr[1].wr_id = 0x1a7e;
	EXPECT_EQ(0, ibv_post_send(p->a.qp, &wr[1], &bad));
	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(0), "posted later"))
		check_wc(_metadata, &wc, 0x1a7e, IBV_WC_WR_FLUSH_ERR, 0,
			 p->a.qp, "posted later");
	expect_cq_empty(_metadata, p->a.scq, QUIET_MS, "after the flushes");
	/* The responder has nothing to complete: no receive was posted. */
	expect_cq_empty(_metadata, p->b.rcq, 0, "target");
	TH_LOG("target QP state after the error: %d", qp_state(p->b.qp));
check_mem:
	same_bytes(_metadata, reg, save, REG, 0, "target memory");
	same_bytes(_metadata, lreg, lsave, REG, 0, "initiator memory");
	ibv_dereg_mr(mr);
	free(save);
	free(lsave);
}

TEST_F(rc, bad_rkey)
{
	bad_request(_metadata, &self->p, BAD_RKEY, IBV_WC_REM_ACCESS_ERR);
}

TEST_F(rc, write_past_mr_end)
{
	bad_request(_metadata, &self->p, PAST_END, IBV_WC_REM_ACCESS_ERR);
}

TEST_F(rc, write_without_remote_write)
{
	bad_request(_metadata, &self->p, NO_REMOTE_WRITE,
		    IBV_WC_REM_ACCESS_ERR);
}

TEST_F(rc, read_without_remote_read)
{
	bad_request(_metadata, &self->p, NO_REMOTE_READ,
		    IBV_WC_REM_ACCESS_ERR);
}

/*
 * IBA: a misaligned atomic is a Remote Invalid Request (NAK); refusing
 * it in ibv_post_send() with nothing sent is accepted as well.
 */
TEST_F(rc, misaligned_atomic)
{
	bad_request(_metadata, &self->p, MISALIGNED_ATOMIC,
		    IBV_WC_REM_INV_REQ_ERR);
}

/* Atomic write needs remote write access, not remote atomic access. */
TEST_F(rc, atomic_write_without_remote_write)
{
	bad_request(_metadata, &self->p, ATOMIC_WRITE_NO_REMOTE_WRITE,
		    IBV_WC_REM_ACCESS_ERR);
}

TEST_F(rc, misaligned_atomic_write)
{
	bad_request(_metadata, &self->p, MISALIGNED_ATOMIC_WRITE,
		    IBV_WC_REM_INV_REQ_ERR);
}

static void post_send_simple(struct __test_metadata *_metadata,
			     struct pair *p, uint64_t id, size_t len)
{
	struct ibv_sge sg = {
		.addr = (uintptr_t)p->a.buf + L_OFF, .length = len,
		.lkey = p->a.mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = id, .sg_list = &sg, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	ASSERT_EQ(0, ibv_post_send(p->a.qp, &wr, &bad));
}

TEST_F(rc, rnr_retry_exceeded)
{
	struct pair *p = &self->p;
	struct ibv_wc wc;

	ASSERT_EQ(0, rc_connect(p, 0));
	post_send_simple(_metadata, p, 0x4e4e, 100);
	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(0), "RNR"))
		check_wc(_metadata, &wc, 0x4e4e, IBV_WC_RNR_RETRY_EXC_ERR, 0,
			 p->a.qp, "RNR");
	EXPECT_EQ(IBV_QPS_ERR, qp_state(p->a.qp));
	expect_cq_empty(_metadata, p->b.rcq, 0, "receiver");
}

TEST_F(rc, rnr_retry_infinite)
{
	struct pair *p = &self->p;
	struct xfer t = { .op = IBV_WR_SEND, .len = 4097, .lsge = 1, .rsge = 1 };
	struct ibv_sge rsg;
	struct ibv_wc wc;
	uint8_t *msg = malloc(t.len);
	int n = 1;

	ASSERT_NE(NULL, msg);
	ASSERT_EQ(0, rc_connect(p, 7));
	uet_pat_fill(msg, t.len, p->seed);
	memcpy(p->a.buf + L_OFF, msg, t.len);
	memset(p->b.buf + R_OFF, 0, t.len + GUARD);
	post_send_simple(_metadata, p, 0x7777, t.len);
	usleep(100000);
	expect_cq_empty(_metadata, p->a.scq, 0, "before the receive");
	make_sges(&rsg, &n, p->b.buf + R_OFF, t.len, 0, p->b.mr->lkey);
	ASSERT_EQ(0, post_recv_sges(&p->b, 0x8888, &rsg, 1));
	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(0), "sender"))
		check_wc(_metadata, &wc, 0x7777, IBV_WC_SUCCESS, IBV_WC_SEND,
			 p->a.qp, "sender");
	if (get_wc(_metadata, p->b.rcq, &wc, wait_ms(0), "receiver")) {
		check_wc(_metadata, &wc, 0x8888, IBV_WC_SUCCESS, IBV_WC_RECV,
			 p->b.qp, "receiver");
		EXPECT_EQ(t.len, wc.byte_len);
	}
	same_bytes(_metadata, p->b.buf + R_OFF, msg, t.len, 0, "RNR data");
	free(msg);
}

/* IBA: the receiver completes with a local length error, the sender gets
 * a Remote Invalid Request NAK.
 */
TEST_F(rc, recv_too_small)
{
	struct pair *p = &self->p;
	uint8_t save[GUARD];
	struct ibv_sge rsg = {
		.addr = (uintptr_t)p->b.buf + R_OFF, .length = 64,
		.lkey = p->b.mr->lkey,
	};
	struct ibv_wc wc;

	uet_pat_fill(p->b.buf + R_OFF + 64, GUARD, p->seed);
	memcpy(save, p->b.buf + R_OFF + 64, GUARD);
	ASSERT_EQ(0, post_recv_sges(&p->b, 0x5a11, &rsg, 1));
	post_send_simple(_metadata, p, 0xb16, 200);
	if (get_wc(_metadata, p->b.rcq, &wc, wait_ms(0), "receiver"))
		check_wc(_metadata, &wc, 0x5a11, IBV_WC_LOC_LEN_ERR, 0, p->b.qp,
			 "receiver");
	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(0), "sender"))
		check_wc(_metadata, &wc, 0xb16, IBV_WC_REM_INV_REQ_ERR, 0,
			 p->a.qp, "sender");
	EXPECT_EQ(IBV_QPS_ERR, qp_state(p->a.qp));
	same_bytes(_metadata, p->b.buf + R_OFF + 64, save, GUARD, 0,
		   "past the receive buffer");
}

/* UD */

FIXTURE(ud) {
	struct pair p;
};

FIXTURE_VARIANT(ud) {
	bool two_devs;
	bool ipv6;
};

FIXTURE_VARIANT_ADD(ud, loopback) {
	.two_devs = false,
};

FIXTURE_VARIANT_ADD(ud, two_netns) {
	.two_devs = true,
};

FIXTURE_VARIANT_ADD(ud, two_netns_v6) {
	.two_devs = true,
	.ipv6 = true,
};

FIXTURE_SETUP(ud)
{
	const char *err;

	err = pair_setup(&self->p, variant->two_devs, variant->ipv6,
			 IBV_QPT_UD);
	/* The policy routes do not get IPv6 across the veth. */
	if (err && !strcmp(err, "skip"))
		SKIP(return, "IPv6 between two devices needs UET_TEST_NETNS=1");
	if (err)
		pair_teardown(&self->p, true);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	self->p.seed = uet_name_seed(_metadata->name);
}

FIXTURE_TEARDOWN(ud)
{
	pair_teardown(&self->p, !_metadata->next);
}

static int ud_post(struct pair *p, uint64_t id, bool imm, uint32_t immv,
		   size_t len, bool wr_api)
{
	struct ibv_sge sg = {
		.addr = (uintptr_t)p->a.buf + L_OFF, .length = len,
		.lkey = p->a.mr->lkey,
	};
	struct ibv_send_wr wr = {}, *bad;

	if (wr_api) {
		ibv_wr_start(p->a.qpx);
		p->a.qpx->wr_id = id;
		p->a.qpx->wr_flags = IBV_SEND_SIGNALED;
		if (imm)
			ibv_wr_send_imm(p->a.qpx, immv);
		else
			ibv_wr_send(p->a.qpx);
		ibv_wr_set_ud_addr(p->a.qpx, p->a.ah, p->b.qp->qp_num, QKEY);
		ibv_wr_set_sge_list(p->a.qpx, len ? 1 : 0, &sg);
		return ibv_wr_complete(p->a.qpx);
	}
	wr.wr_id = id;
	wr.sg_list = &sg;
	wr.num_sge = len ? 1 : 0;
	wr.opcode = imm ? IBV_WR_SEND_WITH_IMM : IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.imm_data = immv;
	wr.wr.ud.ah = p->a.ah;
	wr.wr.ud.remote_qpn = p->b.qp->qp_num;
	wr.wr.ud.remote_qkey = QKEY;
	return ibv_post_send(p->a.qp, &wr, &bad);
}

TEST_F_TIMEOUT(ud, send, 120)
{
	struct pair *p = &self->p;
	int mtu = mtu_bytes(p->mtu);
	uint32_t lens[] = { 0, 1, 63, mtu / 2 + 1, mtu - 1, mtu };
	size_t rlen = GRH_LEN + mtu + RECV_SLACK;
	uint8_t *msg = malloc(mtu), *rbuf = p->b.buf + R_OFF;
	struct ibv_sge rsg = {
		.addr = (uintptr_t)rbuf, .length = rlen,
		.lkey = p->b.mr->lkey,
	};
	size_t i, end = rlen + GUARD;
	unsigned int l, k;
	struct ibv_wc wc;
	char what[64];
	uint32_t immv;
	bool imm, api;

	ASSERT_NE(NULL, msg);
	for (l = 0; l < ARRAY_SIZE(lens); l++)
		for (k = 0; k < 4; k++) {
			imm = k & 1;
			api = k & 2;
			snprintf(what, sizeof(what), "UD %s len %u%s",
				 imm ? "SEND_WITH_IMM" : "SEND", lens[l],
				 api ? " ibv_wr" : "");
			uet_pat_fill(msg, lens[l], p->seed + 4 * l + k);
			immv = (uint32_t)uet_mix64(p->seed + 4 * l + k);
			memcpy(p->a.buf + L_OFF, msg, lens[l]);
			memset(rbuf, 0xc3, rlen + GUARD);
			ASSERT_EQ(0, post_recv_sges(&p->b, 100 + l, &rsg, 1));
			ASSERT_EQ(0, ud_post(p, 200 + l, imm, immv, lens[l], api))
				TH_LOG("%s", what);
			if (get_wc(_metadata, p->a.scq, &wc, wait_ms(0), what))
				check_wc(_metadata, &wc, 200 + l, IBV_WC_SUCCESS,
					 IBV_WC_SEND, p->a.qp, what);
			if (!get_wc(_metadata, p->b.rcq, &wc, wait_ms(0), what))
				continue;
			check_wc(_metadata, &wc, 100 + l, IBV_WC_SUCCESS,
				 IBV_WC_RECV, p->b.qp, what);
			EXPECT_EQ(GRH_LEN + lens[l], wc.byte_len)
				TH_LOG("%s: byte_len %u", what, wc.byte_len);
			EXPECT_EQ(p->a.qp->qp_num, wc.src_qp)
				TH_LOG("%s: src_qp %#x", what, wc.src_qp);
			EXPECT_EQ(IBV_WC_GRH, wc.wc_flags & IBV_WC_GRH)
				TH_LOG("%s: wc_flags %#x", what, wc.wc_flags);
			EXPECT_EQ(imm ? IBV_WC_WITH_IMM : 0,
				  wc.wc_flags & IBV_WC_WITH_IMM)
				TH_LOG("%s: wc_flags %#x", what, wc.wc_flags);
			if (imm)
				EXPECT_EQ(immv, wc.imm_data) TH_LOG("%s", what);
			same_bytes(_metadata, rbuf + GRH_LEN, msg, lens[l], 0,
				   what);
			/* Nothing past the payload: the rest stays 0xc3. */
			for (i = GRH_LEN + lens[l]; i < end; i++)
				if (rbuf[i] != 0xc3)
					break;
			EXPECT_EQ(end, i)
				TH_LOG("%s: byte %zu past the payload written",
				       what, i - GRH_LEN - lens[l]);
		}
	free(msg);
}

/*
 * A UD message longer than the MTU must never arrive.  IBA C10-93.1.1
 * lets the CI drop it silently with a successful completion; an error at
 * post time or an error completion is fine as well.
 */
TEST_F(ud, larger_than_mtu)
{
	struct pair *p = &self->p;
	int mtu = mtu_bytes(p->mtu);
	struct ibv_sge rsg = {
		.addr = (uintptr_t)p->b.buf + R_OFF, .length = 2 * mtu + GRH_LEN,
		.lkey = p->b.mr->lkey,
	};
	struct ibv_wc wc;
	int err, n;

	ASSERT_EQ(0, post_recv_sges(&p->b, 1, &rsg, 1));
	err = ud_post(p, 2, false, 0, mtu + 1, false);
	if (err) {
		TH_LOG("ibv_post_send refused it: %s", strerror(err));
	} else {
		n = uet_poll_n(p->a.scq, 1, &wc, wait_ms(0));
		EXPECT_EQ(1, n) TH_LOG("no send completion");
		if (n == 1)
			TH_LOG("send completion: %s",
			       ibv_wc_status_str(wc.status));
	}
	expect_cq_empty(_metadata, p->b.rcq, QUIET_MS, "receiver");
}

/* UC fixture: RC's data path without READ, atomics or responses. */

FIXTURE(uc) {
	struct pair p;
};

FIXTURE_VARIANT(uc) {
	bool two_devs;
};

FIXTURE_VARIANT_ADD(uc, loopback) {
	.two_devs = false,
};

FIXTURE_VARIANT_ADD(uc, two_netns) {
	.two_devs = true,
};

FIXTURE_SETUP(uc)
{
	const char *err;

	err = pair_setup(&self->p, variant->two_devs, false, IBV_QPT_UC);
	if (err)
		pair_teardown(&self->p, true);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	self->p.seed = uet_name_seed(_metadata->name);
}

FIXTURE_TEARDOWN(uc)
{
	pair_teardown(&self->p, !_metadata->next);
}

TEST_F_TIMEOUT(uc, send, 300)
{
	sweep(_metadata, &self->p, IBV_WR_SEND);
}

TEST_F_TIMEOUT(uc, send_with_imm, 300)
{
	sweep(_metadata, &self->p, IBV_WR_SEND_WITH_IMM);
}

TEST_F_TIMEOUT(uc, rdma_write, 300)
{
	sweep(_metadata, &self->p, IBV_WR_RDMA_WRITE);
}

TEST_F_TIMEOUT(uc, rdma_write_with_imm, 300)
{
	sweep(_metadata, &self->p, IBV_WR_RDMA_WRITE_WITH_IMM);
}

/* UC has no RDMA READ and no atomics: refused when posted. */
TEST_F(uc, read_and_atomics_refused)
{
	static const enum ibv_wr_opcode ops[] = {
		IBV_WR_RDMA_READ, IBV_WR_ATOMIC_CMP_AND_SWP,
		IBV_WR_ATOMIC_FETCH_AND_ADD, IBV_WR_ATOMIC_WRITE,
	};
	struct pair *p = &self->p;
	struct ibv_sge sg = {
		.addr = (uintptr_t)p->a.buf, .length = 8,
		.lkey = p->a.mr->lkey,
	};
	struct ibv_send_wr wr = {
		.sg_list = &sg, .num_sge = 1, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;
	struct ibv_qp_init_attr_ex ia = {
		.qp_type = IBV_QPT_UC, .send_cq = p->a.scq,
		.recv_cq = p->a.rcq, .cap = { 4, 4, 1, 1, 0 },
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.pd = p->a.pd,
	};
	uint64_t flags[] = {
		IBV_QP_EX_WITH_RDMA_READ, IBV_QP_EX_WITH_ATOMIC_CMP_AND_SWP,
		IBV_QP_EX_WITH_ATOMIC_FETCH_AND_ADD,
		IBV_QP_EX_WITH_ATOMIC_WRITE,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		wr.wr_id = i;
		wr.opcode = ops[i];
		wr.wr.rdma.remote_addr = (uintptr_t)p->b.buf;
		wr.wr.rdma.rkey = p->b.mr->rkey;
		bad = NULL;
		EXPECT_EQ(EINVAL, ibv_post_send(p->a.qp, &wr, &bad))
			TH_LOG("%s", op_name(ops[i]));
		EXPECT_EQ(&wr, bad);
		ia.send_ops_flags = IBV_QP_EX_WITH_SEND | flags[i];
		errno = 0;
		EXPECT_EQ(NULL, ibv_create_qp_ex(p->a.ctx, &ia))
			TH_LOG("%s", op_name(ops[i]));
		EXPECT_EQ(EOPNOTSUPP, errno) TH_LOG("%s", op_name(ops[i]));
	}
	EXPECT_EQ(IBV_QPS_RTS, qp_state(p->a.qp));
	expect_cq_empty(_metadata, p->a.scq, QUIET_MS, "refused work");
}

static const char *uc_target_dev(const struct pair *p)
{
	return p->two_devs ? p->dev_b : p->dev_a;
}

/*
 * A UC SEND with no receive posted is dropped by the target, packet by
 * packet in rx_drop_no_recv; the sender completes it successfully, as
 * UC senders do, and both QPs go on: the next message arrives intact.
 */
TEST_F_TIMEOUT(uc, no_recv_drops_message, 120)
{
	struct pair *p = &self->p;
	uint32_t mtu = mtu_bytes(p->mtu);
	uint32_t len = 3 * mtu + 5;
	unsigned long long before, after;
	struct xfer t = { .op = IBV_WR_SEND, .lsge = 1, .rsge = 1 };
	struct ibv_wc wc;

	before = uet_hw_counter(uc_target_dev(p), "rx_drop_no_recv");
	ASSERT_NE(~0ull, before);
	post_send_simple(_metadata, p, 0xd0, len);
	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(len), "dropped send"))
		check_wc(_metadata, &wc, 0xd0, IBV_WC_SUCCESS, IBV_WC_SEND,
			 p->a.qp, "dropped send");
	expect_cq_empty(_metadata, p->b.rcq, QUIET_MS, "dropped send");
	after = uet_hw_counter(uc_target_dev(p), "rx_drop_no_recv");
	EXPECT_EQ(4, after - before) TH_LOG("rx_drop_no_recv %llu -> %llu",
					     before, after);
	EXPECT_EQ(IBV_QPS_RTS, qp_state(p->a.qp));
	EXPECT_EQ(IBV_QPS_RTS, qp_state(p->b.qp));
	t.len = len;
	run_xfer(_metadata, p, &t);
}

/*
 * A UC WRITE the target refuses (bad rkey) is dropped whole, counted
 * once per packet in rx_drop_bad_key, without touching memory or
 * stopping either QP; the sender is not told.
 */
TEST_F_TIMEOUT(uc, bad_rkey_drops_write, 120)
{
	struct pair *p = &self->p;
	uint32_t len = 2 * mtu_bytes(p->mtu) + 7;
	uint8_t *tgt = p->b.buf + R_OFF;
	struct xfer t = { .op = IBV_WR_RDMA_WRITE, .lsge = 1, .rsge = 1 };
	unsigned long long before, after;
	struct ibv_send_wr wr = {}, *bad;
	struct ibv_sge sg;
	uint8_t *save;
	struct ibv_wc wc;

	save = malloc(len);
	ASSERT_NE(NULL, save);
	uet_pat_fill(tgt, len, p->seed);
	memcpy(save, tgt, len);
	uet_pat_fill(p->a.buf + L_OFF, len, ~p->seed);
	sg.addr = (uintptr_t)p->a.buf + L_OFF;
	sg.length = len;
	sg.lkey = p->a.mr->lkey;
	wr.wr_id = 0xbad;
	wr.sg_list = &sg;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_RDMA_WRITE;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.wr.rdma.remote_addr = (uintptr_t)tgt;
	wr.wr.rdma.rkey = ~p->b.mr->rkey;
	before = uet_hw_counter(uc_target_dev(p), "rx_drop_bad_key");
	ASSERT_NE(~0ull, before);
	ASSERT_EQ(0, ibv_post_send(p->a.qp, &wr, &bad));
	if (get_wc(_metadata, p->a.scq, &wc, wait_ms(len), "refused write"))
		check_wc(_metadata, &wc, 0xbad, IBV_WC_SUCCESS,
			 IBV_WC_RDMA_WRITE, p->a.qp, "refused write");
	expect_cq_empty(_metadata, p->b.rcq, QUIET_MS, "refused write");
	after = uet_hw_counter(uc_target_dev(p), "rx_drop_bad_key");
	EXPECT_EQ(3, after - before) TH_LOG("rx_drop_bad_key %llu -> %llu",
					     before, after);
	same_bytes(_metadata, tgt, save, len, 0, "target memory");
	EXPECT_EQ(IBV_QPS_RTS, qp_state(p->a.qp));
	EXPECT_EQ(IBV_QPS_RTS, qp_state(p->b.qp));
	t.len = len;
	run_xfer(_metadata, p, &t);
	free(save);
}

TEST_HARNESS_MAIN
