// SPDX-License-Identifier: GPL-2.0
/*
 * Reliability of the uet transport on a bad network: two devices on the
 * two ends of a veth pair, each end in its own network namespace, with
 * netem on both ends.
 *
 *  lossy_64m       netem "loss 5% reorder 10% 50% delay 1ms duplicate 2%
 *                  corrupt 1%" on both veth ends; 64 MiB of mixed RC work
 *                  from A to B (and 8 MiB back from B to A, so that both
 *                  devices initiate) must arrive exactly once and intact:
 *                    - RDMA_WRITE and RDMA_WRITE_WITH_IMM fill a 64 MiB
 *                      region chunk by chunk (4 KiB .. 1 MiB, odd sizes
 *                      too); some chunks are first written with a decoy
 *                      pattern and right after with the real data, so a
 *                      stale replay of the decoy would show;
 *                    - SEND and SEND_WITH_IMM carry a sequence number, the
 *                      length and a per-message pattern; the receiver sees
 *                      every message once, in posting order, with its
 *                      byte_len and bytes;
 *                    - every immediate (WRITE_WITH_IMM and SEND_WITH_IMM)
 *                      is the message's sequence number and is seen once;
 *                    - RDMA_READ reads back chunks whose WRITE completed;
 *                    - FETCH_AND_ADD on one counter: each returns exactly
 *                      the sum of the adds before it and the counter ends
 *                      at the sum of all adds (no add executed twice);
 *                    - CMP_AND_SWP chain: each compares with the value the
 *                      one before it swapped in, so each must hit;
 *                    - all completions in posting order, each work request
 *                      completes once, nothing more arrives afterwards;
 *                    - the regions end up byte-identical to the sources,
 *                      the bytes around the atomic words untouched;
 *                    - the retransmits counter moved on both devices; all
 *                      the reliability counters are printed.
 *  clean_64m       the same workload without netem; counters printed.
 *  unplugged_peer  the peer's veth goes down under a stream of RDMA
 *                  WRITEs (QP timeout 10, retry_cnt 2): the outstanding
 *                  work completes with IBV_WC_RETRY_EXC_ERR within the
 *                  bound of the retransmission timer, whatever follows
 *                  with IBV_WC_WR_FLUSH_ERR, the QP is in the error state;
 *                  with the link back up a fresh QP pair moves data again.
 *
 * Environment: UET_NETEM_MIB overrides the size of the A->B region (MiB,
 * default 64; the B->A region is an eighth of it, at least 1 MiB).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "../kselftest_harness.h"
#include "uet_ns_util.h"
#include "uet_verbs_util.h"

#define NS_A "uetnA"
#define NS_B "uetnB"
#define VETH_A "uetnv0"
#define VETH_B "uetnv1"
#define DEV_A "uetnA0"
#define DEV_B "uetnB0"
#define ADDR_A "10.97.9.1"
#define ADDR_B "10.97.9.2"
#define VETH_MTU 9000
#define NETEM "netem loss 5% reorder 10% 50% delay 1ms duplicate 2% corrupt 1%"

#define MIB (1ul << 20)
#define MAX_CHUNK MIB
#define SEND_MAX 65536u
#define SEND_HDR 16
#define MAX_OUT 32		/* work requests in flight per stream */
#define SQ_WR 64
#define RQ_SLOTS 64		/* receives posted per QP */
#define RECV_SLOT (SEND_MAX + 256)
#define CQ_LEN 256
#define RD_ATOM 16
#define ATOM_AREA 4096
#define FAA_OFF 512
#define CAS_OFF 1024
#define FAA_BASE 0x0123400000000000ull
#define SEND_MAGIC 0x75657453u	/* "uetS" */
#define QUIET_MS 1000
#define STALL_MS 120000
#define FULL_ACCESS (IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | \
		     IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_ATOMIC)
/* drivers/infiniband/hw/uet/uet_pds.h */
#define RTO_MIN_MS 10
#define RTO_MAX_MS 2000

static const char *const counter_names[] = {
	"retransmits", "rto_expired", "rx_drop_duplicate",
	"rx_drop_out_of_order", "duplicates", "tx_nacks", "rx_nacks",
	"tx_pkts", "rx_pkts", "tx_acks", "rx_acks", "tx_control_pkts",
	"rx_control_pkts", "pdc_opened", "pdc_closed", "tx_errors",
	"rx_drop_stale", "rx_drop_out_of_window", "rx_drop_bad_hdr",
	"rx_drop_short", "rx_drop_bad_len", "rx_drop_no_recv", "rnr_retries",
};

#define NCOUNTERS ARRAY_SIZE(counter_names)

/* Offset of the first byte that differs, or -1. */
static long first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	size_t i;

	if (!memcmp(a, b, n))
		return -1;
	for (i = 0; a[i] == b[i]; i++)
		;
	return i;
}

/* Network */

static pid_t main_pid;

/* Best effort: anything may be left over from an earlier, killed run. */
static void net_cleanup(void)
{
	char cmds[256] = "";

	if (uet_path_exists("/sys/class/infiniband/%s", DEV_A))
		strcat(cmds, "link del " DEV_A "\n");
	if (uet_path_exists("/sys/class/infiniband/%s", DEV_B))
		strcat(cmds, "link del " DEV_B "\n");
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
}

static void __attribute__((constructor)) remember_main(void)
{
	main_pid = getpid();
}

/* The harness kills a test that runs out of time before its teardown. */
static void __attribute__((destructor)) cleanup_at_exit(void)
{
	if (getpid() == main_pid)
		net_cleanup();
}

static int net_setup(void)
{
	char cmds[512];

	net_cleanup();
	if (uet_spawn(NULL, false, "netns add " NS_A "\nnetns add " NS_B "\n"
		  "link add " VETH_A " netns " NS_A " type veth peer name "
		  VETH_B " netns " NS_B "\n", "ip -batch -"))
		return -1;
	snprintf(cmds, sizeof(cmds), "link set " VETH_A " mtu %d up\n"
		 "addr add " ADDR_A "/24 dev " VETH_A "\n", VETH_MTU);
	if (uet_spawn(NS_A, false, cmds, "ip -4 -batch -"))
		return -1;
	snprintf(cmds, sizeof(cmds), "link set " VETH_B " mtu %d up\n"
		 "addr add " ADDR_B "/24 dev " VETH_B "\n", VETH_MTU);
	if (uet_spawn(NS_B, false, cmds, "ip -4 -batch -"))
		return -1;
	return uet_spawn(NS_A, false, NULL,
		     "rdma link add " DEV_A " type uet netdev " VETH_A) ?:
	       uet_spawn(NS_B, false, NULL,
		     "rdma link add " DEV_B " type uet netdev " VETH_B);
}

static int netem_on(void)
{
	/* NETEM has '%' signs: an argument, not part of the format. */
	return uet_spawn(NS_A, false, NULL, "tc qdisc add dev %s root %s", VETH_A,
		     NETEM) ?:
	       uet_spawn(NS_B, false, NULL, "tc qdisc add dev %s root %s", VETH_B,
		     NETEM);
}

/*
 * Call @fn(@arg) with the calling thread in network namespace @ns (the
 * test is single-threaded); what it opens stays in that namespace.
 */
static int in_netns(const char *ns, int (*fn)(void *), void *arg)
{
	int self_ns, ns_fd, r = -1;
	char path[128];

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	self_ns = open("/proc/self/ns/net", O_RDONLY);
	ns_fd = open(path, O_RDONLY);
	if (self_ns >= 0 && ns_fd >= 0 && !setns(ns_fd, CLONE_NEWNET)) {
		r = fn(arg);
		if (setns(self_ns, CLONE_NEWNET)) {
			if (r >= 0)
				close(r);
			r = -1;
		}
	}
	if (self_ns >= 0)
		close(self_ns);
	if (ns_fd >= 0)
		close(ns_fd);
	return r;
}

static int open_snmp(void *arg)
{
	return open("/proc/thread-self/net/snmp", O_RDONLY);
}

static int open_socket(void *arg)
{
	return socket(AF_INET, SOCK_DGRAM, 0);
}

/*
 * Udp InCsumErrors of namespace @ns: netem's corruption is caught by the
 * UDP checksum before uet sees the packet.  -1 if unknown.
 */
static long long udp_csum_errors(const char *ns)
{
	char buf[4096], *hdr, *val, *hs, *vs, *h, *v;
	int fd = in_netns(ns, open_snmp, NULL);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	hdr = strstr(buf, "\nUdp: ");
	val = hdr ? strstr(hdr + 1, "\nUdp: ") : NULL;
	if (!val)
		return -1;
	hdr += 6;
	val += 6;
	*strchrnul(hdr, '\n') = 0;
	*strchrnul(val, '\n') = 0;
	for (h = strtok_r(hdr, " ", &hs), v = strtok_r(val, " ", &vs); h && v;
	     h = strtok_r(NULL, " ", &hs), v = strtok_r(NULL, " ", &vs))
		if (!strcmp(h, "InCsumErrors"))
			return strtoll(v, NULL, 0);
	return -1;
}

/* Counters */

struct counters {
	unsigned long long v[NCOUNTERS];
};

static void read_counters(const char *dev, struct counters *c)
{
	unsigned int i;

	for (i = 0; i < NCOUNTERS; i++)
		c->v[i] = uet_hw_counter(dev, counter_names[i]);
}

static unsigned long long counter_delta(const struct counters *before,
					const struct counters *after,
					const char *name)
{
	unsigned int i;

	for (i = 0; i < NCOUNTERS; i++)
		if (!strcmp(counter_names[i], name))
			return after->v[i] - before->v[i];
	return ~0ull;
}

static void log_counters(struct __test_metadata *_metadata, const char *dev,
			 const struct counters *before,
			 const struct counters *after)
{
	char line[1024];
	unsigned int i;
	int n = 0;

	for (i = 0; i < NCOUNTERS; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s=%llu",
			      counter_names[i], after->v[i] - before->v[i]);
	TH_LOG("%s:%s", dev, line);
}

/* Verbs */

struct peer {
	const char *dev;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_cq *scq;
	struct ibv_cq *rcq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	uint8_t *mem;
	size_t mem_len;
	int gid_idx;
	union ibv_gid gid;
	enum ibv_mtu mtu;
};

static const char *peer_open(struct peer *x, const char *dev, const char *addr,
			     size_t mem_len)
{
	struct ibv_port_attr pa;

	x->dev = dev;
	x->ctx = uet_open_dev(dev);
	if (!x->ctx)
		return "cannot open the RDMA device";
	x->gid_idx = uet_wait_gid(x->ctx, addr);
	if (x->gid_idx < 0)
		return "the address never showed up in the GID table";
	if (ibv_query_gid(x->ctx, 1, x->gid_idx, &x->gid) ||
	    ibv_query_port(x->ctx, 1, &pa))
		return "query_gid/port failed";
	x->mtu = pa.active_mtu;
	x->mem_len = mem_len;
	x->mem = mmap(NULL, mem_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->mem == MAP_FAILED) {
		x->mem = NULL;
		return "mmap failed";
	}
	x->pd = ibv_alloc_pd(x->ctx);
	x->scq = ibv_create_cq(x->ctx, CQ_LEN, NULL, NULL, 0);
	x->rcq = ibv_create_cq(x->ctx, CQ_LEN, NULL, NULL, 0);
	if (!x->pd || !x->scq || !x->rcq)
		return "cannot allocate a PD or CQs";
	x->mr = ibv_reg_mr(x->pd, x->mem, mem_len, FULL_ACCESS);
	if (!x->mr)
		return "ibv_reg_mr failed";
	return NULL;
}

static const char *qp_create(struct peer *x)
{
	struct ibv_qp_init_attr ia = {};

	ia.qp_type = IBV_QPT_RC;
	ia.send_cq = x->scq;
	ia.recv_cq = x->rcq;
	ia.cap.max_send_wr = SQ_WR;
	ia.cap.max_recv_wr = RQ_SLOTS;
	ia.cap.max_send_sge = 1;
	ia.cap.max_recv_sge = 1;
	x->qp = ibv_create_qp(x->pd, &ia);
	return x->qp ? NULL : "ibv_create_qp failed";
}

static void peer_close(struct peer *x)
{
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
	if (x->mem)
		munmap(x->mem, x->mem_len);
	if (x->ctx)
		ibv_close_device(x->ctx);
	memset(x, 0, sizeof(*x));
}

/* RESET->INIT->RTR->RTS of @x towards @peer. */
static int rc_connect_one(struct peer *x, struct peer *peer, int timeout,
			  int retry_cnt)
{
	struct ibv_qp_attr a = {};
	int err;

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
	a.path_mtu = x->mtu < peer->mtu ? x->mtu : peer->mtu;
	a.dest_qp_num = peer->qp->qp_num;
	a.rq_psn = 0x4711 + peer->qp->qp_num;
	a.max_dest_rd_atomic = RD_ATOM;
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
	a.sq_psn = 0x4711 + x->qp->qp_num;
	a.timeout = timeout;
	a.retry_cnt = retry_cnt;
	a.rnr_retry = 7;
	a.max_rd_atomic = RD_ATOM;
	return ibv_modify_qp(x->qp, &a, IBV_QP_STATE | IBV_QP_SQ_PSN |
			     IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT |
			     IBV_QP_RNR_RETRY | IBV_QP_MAX_QP_RD_ATOMIC);
}

static const char *qp_pair(struct peer *a, struct peer *b, int timeout,
			   int retry_cnt)
{
	const char *err = qp_create(a) ?: qp_create(b);

	if (err)
		return err;
	if (rc_connect_one(a, b, timeout, retry_cnt) ||
	    rc_connect_one(b, a, timeout, retry_cnt))
		return "connecting the RC QPs failed";
	return NULL;
}

static int qp_state(struct ibv_qp *qp)
{
	struct ibv_qp_init_attr ia;
	struct ibv_qp_attr a;

	if (ibv_query_qp(qp, &a, IBV_QP_STATE, &ia))
		return -1;
	return a.qp_state;
}

static int post_wr(struct peer *x, uint64_t id, enum ibv_wr_opcode op,
		   void *laddr, uint32_t len, uint64_t raddr, uint32_t rkey,
		   uint32_t imm, uint64_t cmp_add, uint64_t swap)
{
	struct ibv_send_wr wr = {}, *bad;
	struct ibv_sge sge = {
		.addr = (uintptr_t)laddr,
		.length = len,
		.lkey = x->mr->lkey,
	};

	wr.wr_id = id;
	wr.sg_list = &sge;
	wr.num_sge = len ? 1 : 0;
	wr.opcode = op;
	wr.send_flags = IBV_SEND_SIGNALED;
	wr.imm_data = imm;
	if (op == IBV_WR_ATOMIC_FETCH_AND_ADD ||
	    op == IBV_WR_ATOMIC_CMP_AND_SWP) {
		wr.wr.atomic.remote_addr = raddr;
		wr.wr.atomic.rkey = rkey;
		wr.wr.atomic.compare_add = cmp_add;
		wr.wr.atomic.swap = swap;
	} else {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	return ibv_post_send(x->qp, &wr, &bad);
}

static int post_recv(struct peer *x, uint64_t id, void *addr, uint32_t len)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)addr,
		.length = len,
		.lkey = x->mr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = id,
		.sg_list = &sge,
		.num_sge = 1,
	}, *bad;

	return ibv_post_recv(x->qp, &wr, &bad);
}

/*
 * A stream: one initiator moving a region of `size` bytes to the target
 * with mixed opcodes.  Memory on the initiator: src | rbuf | decoy |
 * sendbuf | results; on the target: dst | recv slots | atomic area.  The
 * two streams of a test use the two halves of each peer's memory.
 */
enum kind { K_WRITE, K_WRITE_IMM, K_DECOY, K_SEND, K_SEND_IMM, K_READ,
	    K_FAA, K_CAS, K_NKINDS };

static const char *const kind_names[] = {
	"RDMA_WRITE", "RDMA_WRITE_WITH_IMM", "RDMA_WRITE(decoy)", "SEND",
	"SEND_WITH_IMM", "RDMA_READ", "FETCH_AND_ADD", "CMP_AND_SWP",
};

struct op {
	enum kind kind;
	uint64_t seq;
	uint64_t off;
	uint32_t len;
	uint64_t arg;		/* FAA: add; CAS: compare */
	uint64_t arg2;		/* CAS: swap */
	uint64_t expect;	/* atomics: the value that must come back */
};

struct chunk {
	uint64_t off;
	uint32_t len;
};

struct stream {
	const char *name;
	struct peer *ini, *tgt;
	size_t size;
	uint32_t tag;		/* in the immediates: tells the streams apart */
	uint64_t seed;
	/* initiator memory */
	uint8_t *src, *rbuf, *decoy, *sendbuf;
	uint64_t *results;
	/* target memory */
	uint8_t *dst, *slots, *atom;
	uint8_t atom_img[ATOM_AREA];

	/* planning */
	uint64_t round;
	uint64_t next_off;
	struct op plan[8];
	int nplan, iplan;

	/* in flight, in posting order */
	struct op ring[MAX_OUT];
	uint64_t posted, completed;
	/* receive-consuming messages, in posting order */
	struct op rexp[2 * RQ_SLOTS];
	uint64_t rposted, rcompleted;
	uint64_t recvs_posted;	/* receive WQEs ever posted */

	/* chunks whose WRITE completed, not read back yet */
	struct chunk *done;
	uint64_t ndone, nread;
	uint64_t reads_owed;	/* planned before anything was written */

	uint64_t faa_sum, cas_val;
	uint8_t *imm_seen;
	uint64_t imm_cap;

	uint64_t count[K_NKINDS];
	uint64_t bytes[K_NKINDS];
	bool failed;
	char why[512];
};

static const uint32_t chunk_sizes[] = {
	4096, 1048576, 65536 + 3, 8192, 262144, 4096 + 17, 524288 - 5,
	16384, 1048576, 131072 + 1,
};

static const uint32_t send_sizes[] = {
	SEND_HDR, 17, 1000, 4096, 4097, 16384 + 5, SEND_MAX, 1024,
};

static void stream_fail(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	if (s->failed)
		return;
	s->failed = true;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

static size_t stream_ini_len(size_t size)
{
	return 2 * size + MAX_CHUNK + MAX_OUT * SEND_MAX + MAX_OUT * 8;
}

static size_t stream_tgt_len(void)
{
	return RQ_SLOTS * RECV_SLOT + ATOM_AREA;
}

/* @ini_mem and @tgt_mem: where the stream's parts start. */
static const char *stream_init(struct stream *s, const char *name,
			       struct peer *ini, uint8_t *ini_mem,
			       struct peer *tgt, uint8_t *tgt_mem, size_t size,
			       uint32_t tag)
{
	uint64_t i;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->ini = ini;
	s->tgt = tgt;
	s->size = size;
	s->tag = tag;
	s->seed = uet_mix64(tag);
	s->src = ini_mem;
	s->rbuf = s->src + size;
	s->decoy = s->rbuf + size;
	s->sendbuf = s->decoy + MAX_CHUNK;
	s->results = (uint64_t *)(s->sendbuf + MAX_OUT * SEND_MAX);
	s->dst = tgt_mem;
	s->slots = s->dst + size;
	s->atom = s->slots + RQ_SLOTS * RECV_SLOT;

	uet_pat_fill(s->src, size, s->seed);
	uet_pat_fill(s->rbuf, size, s->seed ^ 1);
	uet_pat_fill(s->decoy, MAX_CHUNK, s->seed ^ 2);
	uet_pat_fill(s->dst, size, s->seed ^ 3);
	uet_pat_fill(s->atom, ATOM_AREA, s->seed ^ 4);
	s->faa_sum = FAA_BASE;
	s->cas_val = uet_mix64(s->seed ^ 5);
	memcpy(s->atom + FAA_OFF, &s->faa_sum, 8);
	memcpy(s->atom + CAS_OFF, &s->cas_val, 8);
	memcpy(s->atom_img, s->atom, ATOM_AREA);

	s->done = calloc(size / 4096 + 1, sizeof(*s->done));
	s->imm_cap = 8 * (size / 4096) + 64;
	s->imm_seen = calloc(s->imm_cap, 1);
	if (!s->done || !s->imm_seen)
		return "out of memory";
	for (i = 0; i < RQ_SLOTS; i++, s->recvs_posted++)
		if (post_recv(tgt, s->recvs_posted,
			      s->slots + i * RECV_SLOT, RECV_SLOT))
			return "post_recv failed";
	return NULL;
}

static void stream_free(struct stream *s)
{
	free(s->done);
	free(s->imm_seen);
	s->done = NULL;
	s->imm_seen = NULL;
}

static uint32_t imm_of(const struct stream *s, uint64_t seq)
{
	return htonl((uint32_t)seq ^ s->tag);
}

/* The next round: one chunk of the region and what goes with it. */
static void stream_plan(struct stream *s)
{
	uint64_t r = s->round++;
	uint32_t len = chunk_sizes[(r * 7 + r / 10) % ARRAY_SIZE(chunk_sizes)];
	struct op *o;

	s->nplan = 0;
	s->iplan = 0;
	if (s->next_off + len > s->size)
		len = s->size - s->next_off;
	if (r % 8 == 3) {
		o = &s->plan[s->nplan++];
		*o = (struct op){ .kind = K_DECOY, .off = s->next_off,
				  .len = len };
	}
	o = &s->plan[s->nplan++];
	*o = (struct op){ .kind = r % 3 == 2 ? K_WRITE_IMM : K_WRITE,
			  .off = s->next_off, .len = len };
	s->next_off += len;
	if (r % 2 == 0) {
		o = &s->plan[s->nplan++];
		*o = (struct op){ .kind = r % 4 == 0 ? K_SEND_IMM : K_SEND,
				  .len = send_sizes[(r / 2) %
						    ARRAY_SIZE(send_sizes)] };
	}
	if (r % 3 == 0) {
		o = &s->plan[s->nplan++];
		*o = (struct op){ .kind = K_FAA, .arg = 1 + r * 3 };
	}
	if (r % 5 == 0) {
		o = &s->plan[s->nplan++];
		*o = (struct op){ .kind = K_CAS };
	}
	if (r % 4 == 1)
		s->reads_owed++;
}

static bool stream_posting_done(const struct stream *s)
{
	return s->iplan == s->nplan && s->next_off >= s->size &&
	       !s->reads_owed;
}

static bool needs_recv(enum kind k)
{
	return k == K_WRITE_IMM || k == K_SEND || k == K_SEND_IMM;
}

/* Post what the window allows; returns how many were posted. */
static int stream_post(struct stream *s)
{
	uint64_t raddr_dst = (uintptr_t)s->dst, raddr_atom = (uintptr_t)s->atom;
	uint32_t rkey = s->tgt->mr->rkey, hdr[4];
	int posted = 0, err = 0;
	struct op *o, *slot, rd;
	uint8_t *buf;

	while (!s->failed && s->posted - s->completed < MAX_OUT) {
		/* A READ of the oldest chunk written and not read yet. */
		if (s->reads_owed && s->nread < s->ndone) {
			rd = (struct op){ .kind = K_READ };
			o = &rd;
		} else {
			if (s->iplan == s->nplan) {
				if (s->next_off >= s->size)
					break;
				stream_plan(s);
			}
			o = &s->plan[s->iplan];
		}
		if (needs_recv(o->kind) &&
		    s->rposted - s->rcompleted >= RQ_SLOTS)
			break;
		o->seq = s->posted;
		slot = &s->ring[o->seq % MAX_OUT];
		switch (o->kind) {
		case K_WRITE:
			err = post_wr(s->ini, o->seq, IBV_WR_RDMA_WRITE,
				      s->src + o->off, o->len,
				      raddr_dst + o->off, rkey, 0, 0, 0);
			break;
		case K_DECOY:
			err = post_wr(s->ini, o->seq, IBV_WR_RDMA_WRITE,
				      s->decoy, o->len, raddr_dst + o->off,
				      rkey, 0, 0, 0);
			break;
		case K_WRITE_IMM:
			err = post_wr(s->ini, o->seq, IBV_WR_RDMA_WRITE_WITH_IMM,
				      s->src + o->off, o->len,
				      raddr_dst + o->off, rkey,
				      imm_of(s, o->seq), 0, 0);
			break;
		case K_SEND:
		case K_SEND_IMM:
			buf = s->sendbuf + (o->seq % MAX_OUT) * SEND_MAX;
			hdr[0] = SEND_MAGIC;
			hdr[1] = (uint32_t)o->seq;
			hdr[2] = o->len;
			hdr[3] = s->tag;
			memcpy(buf, hdr, SEND_HDR);
			uet_pat_fill(buf + SEND_HDR, o->len - SEND_HDR,
				 s->seed ^ (o->seq << 8));
			err = post_wr(s->ini, o->seq,
				      o->kind == K_SEND ? IBV_WR_SEND :
				      IBV_WR_SEND_WITH_IMM, buf, o->len, 0, 0,
				      imm_of(s, o->seq), 0, 0);
			break;
		case K_READ:
			o->off = s->done[s->nread].off;
			o->len = s->done[s->nread].len;
			s->nread++;
			uet_pat_fill(s->rbuf + o->off, o->len, o->seq ^ 0xbad);
			err = post_wr(s->ini, o->seq, IBV_WR_RDMA_READ,
				      s->rbuf + o->off, o->len,
				      raddr_dst + o->off, rkey, 0, 0, 0);
			break;
		case K_FAA:
			o->expect = s->faa_sum;
			s->faa_sum += o->arg;
			s->results[o->seq % MAX_OUT] = ~0ull;
			err = post_wr(s->ini, o->seq,
				      IBV_WR_ATOMIC_FETCH_AND_ADD,
				      &s->results[o->seq % MAX_OUT], 8,
				      raddr_atom + FAA_OFF, rkey, 0, o->arg, 0);
			break;
		case K_CAS:
			o->arg = s->cas_val;
			o->arg2 = uet_mix64(s->cas_val);
			o->expect = o->arg;
			s->cas_val = o->arg2;
			s->results[o->seq % MAX_OUT] = ~0ull;
			err = post_wr(s->ini, o->seq, IBV_WR_ATOMIC_CMP_AND_SWP,
				      &s->results[o->seq % MAX_OUT], 8,
				      raddr_atom + CAS_OFF, rkey, 0, o->arg,
				      o->arg2);
			break;
		default:
			break;
		}
		if (err) {
			stream_fail(s, "posting %s seq %llu failed: %d",
				    kind_names[o->kind],
				    (unsigned long long)o->seq, err);
			break;
		}
		*slot = *o;
		if (needs_recv(o->kind))
			s->rexp[s->rposted++ % (2 * RQ_SLOTS)] = *o;
		s->count[o->kind]++;
		s->bytes[o->kind] += o->len;
		s->posted++;
		if (o == &rd)
			s->reads_owed--;
		else
			s->iplan++;
		posted++;
	}
	return posted;
}

static enum ibv_wc_opcode wc_opcode(enum kind k)
{
	switch (k) {
	case K_WRITE:
	case K_WRITE_IMM:
	case K_DECOY:
		return IBV_WC_RDMA_WRITE;
	case K_SEND:
	case K_SEND_IMM:
		return IBV_WC_SEND;
	case K_READ:
		return IBV_WC_RDMA_READ;
	case K_FAA:
		return IBV_WC_FETCH_ADD;
	default:
		return IBV_WC_COMP_SWAP;
	}
}

/* An initiator completion: the next work request, done right. */
static void stream_send_wc(struct stream *s, const struct ibv_wc *wc)
{
	struct op *o = &s->ring[s->completed % MAX_OUT];
	const char *k = kind_names[o->kind];
	uint64_t got;
	long d;

	if (s->failed)
		return;
	if (s->completed == s->posted) {
		stream_fail(s, "extra completion wr_id %llu status %s",
			    (unsigned long long)wc->wr_id,
			    ibv_wc_status_str(wc->status));
		return;
	}
	if (wc->wr_id != o->seq || wc->status != IBV_WC_SUCCESS ||
	    wc->opcode != wc_opcode(o->kind) ||
	    wc->qp_num != s->ini->qp->qp_num) {
		stream_fail(s, "completion wr_id %llu status %s opcode %d qp %#x, want wr_id %llu (%s) SUCCESS opcode %d qp %#x",
			    (unsigned long long)wc->wr_id,
			    ibv_wc_status_str(wc->status), wc->opcode,
			    wc->qp_num, (unsigned long long)o->seq, k,
			    wc_opcode(o->kind), s->ini->qp->qp_num);
		return;
	}
	switch (o->kind) {
	case K_WRITE:
	case K_WRITE_IMM:
		/* Acknowledged, so placed. */
		d = first_diff(s->dst + o->off, s->src + o->off, o->len);
		if (d >= 0) {
			stream_fail(s, "%s seq %llu off %llu len %u completed but target byte %ld differs",
				    k, (unsigned long long)o->seq,
				    (unsigned long long)o->off, o->len, d);
			break;
		}
		s->done[s->ndone].off = o->off;
		s->done[s->ndone].len = o->len;
		s->ndone++;
		break;
	case K_READ:
		d = first_diff(s->rbuf + o->off, s->src + o->off, o->len);
		if (d >= 0)
			stream_fail(s, "RDMA_READ seq %llu off %llu len %u: byte %ld differs",
				    (unsigned long long)o->seq,
				    (unsigned long long)o->off, o->len, d);
		break;
	case K_FAA:
	case K_CAS:
		got = s->results[o->seq % MAX_OUT];
		if (got != o->expect)
			stream_fail(s, "%s seq %llu returned %#llx, want %#llx",
				    k, (unsigned long long)o->seq,
				    (unsigned long long)got,
				    (unsigned long long)o->expect);
		break;
	default:
		break;
	}
	s->completed++;
}

/* A target completion: the next receive-consuming message, intact. */
static void stream_recv_wc(struct stream *s, const struct ibv_wc *wc)
{
	struct op *o = &s->rexp[s->rcompleted % (2 * RQ_SLOTS)];
	bool imm = o->kind != K_SEND;
	uint32_t hdr[4], slot;
	uint8_t *buf, *want;
	long d;

	if (s->failed)
		return;
	if (s->rcompleted == s->rposted) {
		stream_fail(s, "extra receive completion wr_id %llu status %s byte_len %u imm %#x",
			    (unsigned long long)wc->wr_id,
			    ibv_wc_status_str(wc->status), wc->byte_len,
			    ntohl(wc->imm_data));
		return;
	}
	if (wc->status != IBV_WC_SUCCESS || wc->wr_id != s->rcompleted ||
	    wc->opcode != (o->kind == K_WRITE_IMM ? IBV_WC_RECV_RDMA_WITH_IMM :
			   IBV_WC_RECV) ||
	    wc->byte_len != o->len || wc->qp_num != s->tgt->qp->qp_num ||
	    !!(wc->wc_flags & IBV_WC_WITH_IMM) != imm ||
	    (imm && wc->imm_data != imm_of(s, o->seq))) {
		stream_fail(s, "receive %llu: status %s wr_id %llu opcode %d byte_len %u flags %#x imm %#x qp %#x; want seq %llu %s len %u imm %#x",
			    (unsigned long long)s->rcompleted,
			    ibv_wc_status_str(wc->status),
			    (unsigned long long)wc->wr_id, wc->opcode,
			    wc->byte_len, wc->wc_flags, ntohl(wc->imm_data),
			    wc->qp_num, (unsigned long long)o->seq,
			    kind_names[o->kind], o->len,
			    imm ? ntohl(imm_of(s, o->seq)) : 0);
		return;
	}
	if (imm) {
		uint64_t seq = ntohl(wc->imm_data) ^ s->tag;

		if (seq >= s->imm_cap || s->imm_seen[seq]++) {
			stream_fail(s, "immediate %#x (seq %llu) seen twice",
				    ntohl(wc->imm_data),
				    (unsigned long long)seq);
			return;
		}
	}
	slot = wc->wr_id % RQ_SLOTS;
	buf = s->slots + (size_t)slot * RECV_SLOT;
	if (o->kind == K_WRITE_IMM) {
		d = first_diff(s->dst + o->off, s->src + o->off, o->len);
		if (d >= 0) {
			stream_fail(s, "WRITE_WITH_IMM seq %llu off %llu: receive completed but byte %ld differs",
				    (unsigned long long)o->seq,
				    (unsigned long long)o->off, d);
			return;
		}
	} else {
		memcpy(hdr, buf, SEND_HDR);
		want = malloc(o->len);
		if (!want) {
			stream_fail(s, "out of memory");
			return;
		}
		uet_pat_fill(want, o->len - SEND_HDR, s->seed ^ (o->seq << 8));
		d = first_diff(buf + SEND_HDR, want, o->len - SEND_HDR);
		free(want);
		if (hdr[0] != SEND_MAGIC || hdr[1] != (uint32_t)o->seq ||
		    hdr[2] != o->len || hdr[3] != s->tag || d >= 0) {
			stream_fail(s, "%s seq %llu: received header magic %#x seq %u len %u tag %#x, payload byte %ld differs",
				    kind_names[o->kind],
				    (unsigned long long)o->seq, hdr[0],
				    hdr[1], hdr[2], hdr[3], d);
			return;
		}
	}
	/* Poison the slot and hand it back. */
	memset(buf, 0xa5, SEND_HDR);
	if (post_recv(s->tgt, s->recvs_posted++, buf, RECV_SLOT)) {
		stream_fail(s, "post_recv failed");
		return;
	}
	s->rcompleted++;
}

static bool stream_done(const struct stream *s)
{
	return s->failed || (stream_posting_done(s) &&
			     s->completed == s->posted &&
			     s->rcompleted == s->rposted);
}

static void stream_final_check(struct __test_metadata *_metadata,
			       struct stream *s)
{
	uint64_t faa, cas;
	long d;

	d = first_diff(s->dst, s->src, s->size);
	EXPECT_EQ(-1, d) TH_LOG("%s: the region differs from its source at byte %ld",
				 s->name, d);
	memcpy(&faa, s->atom + FAA_OFF, 8);
	memcpy(&cas, s->atom + CAS_OFF, 8);
	EXPECT_EQ(s->faa_sum, faa)
		TH_LOG("%s: counter %#llx, want the sum of all adds %#llx (each add once)",
		       s->name, (unsigned long long)faa,
		       (unsigned long long)s->faa_sum);
	EXPECT_EQ(s->cas_val, cas)
		TH_LOG("%s: CAS word %#llx, want %#llx", s->name,
		       (unsigned long long)cas, (unsigned long long)s->cas_val);
	memcpy(s->atom_img + FAA_OFF, &s->faa_sum, 8);
	memcpy(s->atom_img + CAS_OFF, &s->cas_val, 8);
	d = first_diff(s->atom, s->atom_img, ATOM_AREA);
	EXPECT_EQ(-1, d) TH_LOG("%s: atomic area byte %ld changed", s->name, d);
}

static void stream_log(struct __test_metadata *_metadata,
		       const struct stream *s)
{
	char line[1024];
	int i, n = 0;

	for (i = 0; i < K_NKINDS; i++)
		n += snprintf(line + n, sizeof(line) - n, " %s %llu (%llu KiB)",
			      kind_names[i], (unsigned long long)s->count[i],
			      (unsigned long long)s->bytes[i] >> 10);
	TH_LOG("%s: %llu work requests, %llu receives:%s", s->name,
	       (unsigned long long)s->posted,
	       (unsigned long long)s->rposted, line);
}

/* Fixture */

FIXTURE(uetn) {
	struct peer a;
	struct peer b;
};

FIXTURE_SETUP(uetn)
{
	const char *err = NULL;

	if (net_setup())
		err = "setting up the veth pair and the RDMA devices failed";
	if (err)
		net_cleanup();
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
}

/* In the parent of the test process: its verbs objects are gone. */
FIXTURE_TEARDOWN_PARENT(uetn)
{
	net_cleanup();
}

static size_t region_size(void)
{
	const char *v = getenv("UET_NETEM_MIB");
	long mib = v && *v ? strtol(v, NULL, 0) : 64;

	return (mib > 0 ? mib : 64) * MIB;
}

static void run_mixed(struct __test_metadata *_metadata,
		      FIXTURE_DATA(uetn) *self, bool lossy)
{
	size_t fwd = region_size(), rev = fwd / 8 < MIB ? MIB : fwd / 8;
	struct counters ca0, cb0, ca1, cb1;
	long long t0, t1, last, csum_a, csum_b;
	struct stream *s[2];
	struct ibv_wc wc[32];
	const char *err;
	int i, j, n, busy;
	bool all;

	s[0] = calloc(1, sizeof(*s[0]));
	s[1] = calloc(1, sizeof(*s[1]));
	ASSERT_TRUE(s[0] && s[1]);
	if (lossy)
		ASSERT_EQ(0, netem_on()) TH_LOG("tc qdisc add ... netem failed");

	/* A: A->B initiator part, then B->A target part; B likewise. */
	err = peer_open(&self->a, DEV_A, ADDR_A,
			stream_ini_len(fwd) + rev + stream_tgt_len()) ?:
	      peer_open(&self->b, DEV_B, ADDR_B,
			fwd + stream_tgt_len() + stream_ini_len(rev)) ?:
	      qp_pair(&self->a, &self->b, 13, 7);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	err = stream_init(s[0], "A->B", &self->a, self->a.mem, &self->b,
			  self->b.mem, fwd, 0xa0000000) ?:
	      stream_init(s[1], "B->A", &self->b,
			  self->b.mem + fwd + stream_tgt_len(), &self->a,
			  self->a.mem + stream_ini_len(fwd), rev, 0xb0000000);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	TH_LOG("path MTU %d, %zu MiB A->B and %zu MiB B->A%s",
	       128 << self->a.mtu, fwd >> 20, rev >> 20,
	       lossy ? ", netem " NETEM " on both ends" : ", no netem");

	csum_a = udp_csum_errors(NS_A);
	csum_b = udp_csum_errors(NS_B);
	read_counters(DEV_A, &ca0);
	read_counters(DEV_B, &cb0);
	t0 = last = uet_now_ms();
	for (;;) {
		busy = stream_post(s[0]) + stream_post(s[1]);
		for (i = 0; i < 2; i++) {
			struct peer *x = i ? &self->b : &self->a;

			n = ibv_poll_cq(x->scq, ARRAY_SIZE(wc), wc);
			for (j = 0; j < n; j++)
				stream_send_wc(s[i], &wc[j]);
			busy += n > 0 ? n : 0;
			n = ibv_poll_cq(x->rcq, ARRAY_SIZE(wc), wc);
			for (j = 0; j < n; j++)
				stream_recv_wc(s[!i], &wc[j]);
			busy += n > 0 ? n : 0;
		}
		all = stream_done(s[0]) && stream_done(s[1]);
		if (all || s[0]->failed || s[1]->failed)
			break;
		if (busy) {
			last = uet_now_ms();
			continue;
		}
		if (uet_now_ms() - last > STALL_MS) {
			for (i = 0; i < 2; i++)
				TH_LOG("%s stalled: posted %llu completed %llu, receives %llu/%llu",
				       s[i]->name,
				       (unsigned long long)s[i]->posted,
				       (unsigned long long)s[i]->completed,
				       (unsigned long long)s[i]->rcompleted,
				       (unsigned long long)s[i]->rposted);
			break;
		}
		usleep(200);
	}
	t1 = uet_now_ms();
	read_counters(DEV_A, &ca1);
	read_counters(DEV_B, &cb1);
	for (i = 0; i < 2; i++) {
		stream_log(_metadata, s[i]);
		EXPECT_FALSE(s[i]->failed) TH_LOG("%s: %s", s[i]->name,
						  s[i]->why);
	}
	TH_LOG("%s in %lld ms (%.1f MiB/s A->B)", all ? "done" : "NOT done",
	       t1 - t0, (double)fwd / MIB * 1000 / (t1 - t0 + 1));
	log_counters(_metadata, DEV_A, &ca0, &ca1);
	log_counters(_metadata, DEV_B, &cb0, &cb1);
	TH_LOG("UDP InCsumErrors (corrupted packets dropped before uet): %s %lld, %s %lld",
	       NS_A, udp_csum_errors(NS_A) - csum_a, NS_B,
	       udp_csum_errors(NS_B) - csum_b);
	ASSERT_TRUE(all) TH_LOG("the transfer did not finish");
	ASSERT_FALSE(s[0]->failed || s[1]->failed);

	/* Nothing more may arrive: no completion twice. */
	usleep(QUIET_MS * 1000);
	for (i = 0; i < 2; i++) {
		struct peer *x = i ? &self->b : &self->a;

		n = ibv_poll_cq(x->scq, ARRAY_SIZE(wc), wc);
		EXPECT_EQ(0, n) TH_LOG("%s: %d late send completions, first wr_id %llu status %s",
				       x->dev, n,
				       (unsigned long long)wc[0].wr_id,
				       ibv_wc_status_str(wc[0].status));
		n = ibv_poll_cq(x->rcq, ARRAY_SIZE(wc), wc);
		EXPECT_EQ(0, n) TH_LOG("%s: %d late receive completions, first wr_id %llu byte_len %u",
				       x->dev, n,
				       (unsigned long long)wc[0].wr_id,
				       wc[0].byte_len);
	}
	for (i = 0; i < 2; i++)
		stream_final_check(_metadata, s[i]);
	if (lossy) {
		EXPECT_LT(0ull, counter_delta(&ca0, &ca1, "retransmits"))
			TH_LOG("%s retransmitted nothing through netem", DEV_A);
		EXPECT_LT(0ull, counter_delta(&cb0, &cb1, "retransmits"))
			TH_LOG("%s retransmitted nothing through netem", DEV_B);
	}
	for (i = 0; i < 2; i++) {
		stream_free(s[i]);
		free(s[i]);
	}
	peer_close(&self->a);
	peer_close(&self->b);
}

TEST_F_TIMEOUT(uetn, lossy_64m, 900)
{
	run_mixed(_metadata, self, true);
}

TEST_F_TIMEOUT(uetn, clean_64m, 900)
{
	run_mixed(_metadata, self, false);
}

static int link_updown(int sock, const char *ifname, bool up)
{
	struct ifreq ifr = {};

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(sock, SIOCGIFFLAGS, &ifr))
		return -1;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	return ioctl(sock, SIOCSIFFLAGS, &ifr);
}

#define UNPLUG_TIMEOUT 10	/* 4.096 us << 10 = 4 ms: the 10 ms minimum */
#define UNPLUG_RETRY 2
#define UNPLUG_BEFORE 48	/* 1 MiB WRITEs posted before the unplug */
#define UNPLUG_AFTER 8		/* and after it */

TEST_F_TIMEOUT(uetn, unplugged_peer, 300)
{
	struct peer *a = &self->a, *b = &self->b;
	long long t_down, t_err = -1, t_end, nominal, bound;
	int i, n, got = 0, ok = 0, retry = 0, flush = 0, other = 0;
	int total = UNPLUG_BEFORE + UNPLUG_AFTER, sock, rto;
	struct ibv_wc wc[64], first;
	struct counters ca0, ca1;
	const char *err;
	uint8_t *src, *dst;
	bool order = true;
	int phase = 0;	/* 0 SUCCESS, 1 RETRY_EXC_ERR, 2 FLUSH */

	sock = in_netns(NS_B, open_socket, NULL);
	ASSERT_LE(0, sock) TH_LOG("no socket in %s", NS_B);
	err = peer_open(a, DEV_A, ADDR_A, 2 * UNPLUG_BEFORE * MIB) ?:
	      peer_open(b, DEV_B, ADDR_B, 2 * UNPLUG_BEFORE * MIB) ?:
	      qp_pair(a, b, UNPLUG_TIMEOUT, UNPLUG_RETRY);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	src = a->mem;
	dst = b->mem;
	uet_pat_fill(src, UNPLUG_BEFORE * MIB, 11);

	/*
	 * The PDC fails after retry_cnt + 1 expiries without progress; the
	 * timer starts at the QP's timeout and doubles on each expiry, but
	 * keeps any back-off from before while packets stay outstanding,
	 * up to its 2 s maximum.
	 */
	rto = (4096ll << UNPLUG_TIMEOUT) / 1000000;
	rto = rto < RTO_MIN_MS ? RTO_MIN_MS : rto;
	for (nominal = 0, i = 0; i <= UNPLUG_RETRY; i++)
		nominal += (rto << i) < RTO_MAX_MS ? rto << i : RTO_MAX_MS;
	bound = (UNPLUG_RETRY + 1) * RTO_MAX_MS + 3000;

	read_counters(DEV_A, &ca0);
	for (i = 0; i < UNPLUG_BEFORE; i++)
		ASSERT_EQ(0, post_wr(a, i, IBV_WR_RDMA_WRITE, src + i * MIB,
				     MIB, (uintptr_t)dst + i * MIB,
				     b->mr->rkey, 0, 0, 0));
	/* The first completion: the path works; then pull the plug. */
	n = uet_poll_n(a->scq, 1, wc, 30000);
	ASSERT_EQ(1, n) TH_LOG("no first completion within 30 s");
	ASSERT_EQ(0, link_updown(sock, VETH_B, false))
		TH_LOG("cannot take %s down: %s", VETH_B, strerror(errno));
	t_down = uet_now_ms();
	for (i = UNPLUG_BEFORE; i < total; i++)
		ASSERT_EQ(0, post_wr(a, i, IBV_WR_RDMA_WRITE,
				     src + (i - UNPLUG_BEFORE) * MIB, MIB,
				     (uintptr_t)dst + (i - UNPLUG_BEFORE) * MIB,
				     b->mr->rkey, 0, 0, 0));
	n = 1;
	do {
		for (i = 0; i < n; i++, got++) {
			if (wc[i].wr_id != (uint64_t)got && order) {
				order = false;
				first = wc[i];
				TH_LOG("completion %d has wr_id %llu", got,
				       (unsigned long long)first.wr_id);
			}
			switch (wc[i].status) {
			case IBV_WC_SUCCESS:
				ok++;
				if (phase)
					order = false;
				break;
			case IBV_WC_RETRY_EXC_ERR:
				if (t_err < 0)
					t_err = uet_now_ms();
				retry++;
				if (phase > 1)
					order = false;
				phase = 1;
				break;
			case IBV_WC_WR_FLUSH_ERR:
				flush++;
				if (phase < 1)
					order = false;
				phase = 2;
				break;
			default:
				if (!other++)
					TH_LOG("wr_id %llu: %s",
					       (unsigned long long)wc[i].wr_id,
					       ibv_wc_status_str(wc[i].status));
				break;
			}
		}
		if (got == total || uet_now_ms() - t_down > bound + 10000)
			break;
		n = uet_poll_n(a->scq, ARRAY_SIZE(wc), wc, 0);
		ASSERT_LE(0, n);
		if (!n)
			usleep(1000);
	} while (1);
	t_end = uet_now_ms();
	read_counters(DEV_A, &ca1);
	TH_LOG("%d WRITEs: %d SUCCESS, %d RETRY_EXC_ERR %lld ms after the unplug, %d WR_FLUSH_ERR, %d other; all in %lld ms; timer %d ms, nominal bound %lld ms, hard bound %lld ms",
	       total, ok, retry, t_err < 0 ? -1 : t_err - t_down, flush, other,
	       t_end - t_down, rto, nominal, bound);
	log_counters(_metadata, DEV_A, &ca0, &ca1);
	ASSERT_EQ(total, got) TH_LOG("only %d of %d completions", got, total);
	EXPECT_EQ(0, other);
	EXPECT_TRUE(order) TH_LOG("completions not SUCCESS*, RETRY_EXC_ERR+, WR_FLUSH_ERR* in posting order");
	EXPECT_LT(0, retry) TH_LOG("no IBV_WC_RETRY_EXC_ERR");
	EXPECT_LE(ok, UNPLUG_BEFORE - 1)
		TH_LOG("everything was through before the unplug");
	EXPECT_GE(total - 1, ok + retry)
		TH_LOG("no work request behind the failed one was flushed");
	EXPECT_LE(t_err - t_down, bound);
	EXPECT_EQ(IBV_QPS_ERR, qp_state(a->qp));
	EXPECT_LT(0ull, counter_delta(&ca0, &ca1, "rto_expired"));
	EXPECT_LT(0ull, counter_delta(&ca0, &ca1, "pdc_closed"));
	/* Nothing more. */
	EXPECT_EQ(0, uet_poll_n(a->scq, 1, wc, 300));

	/* Plug back in; a new QP pair works. */
	ASSERT_EQ(0, link_updown(sock, VETH_B, true));
	close(sock);
	ASSERT_EQ(0, ibv_destroy_qp(a->qp));
	ASSERT_EQ(0, ibv_destroy_qp(b->qp));
	a->qp = b->qp = NULL;
	/* Both ports come back ACTIVE (uet follows the carrier). */
	for (i = 0; i < 100; i++) {
		struct ibv_port_attr pa, pb;

		if (!ibv_query_port(a->ctx, 1, &pa) &&
		    !ibv_query_port(b->ctx, 1, &pb) &&
		    pa.state == IBV_PORT_ACTIVE && pb.state == IBV_PORT_ACTIVE)
			break;
		usleep(100000);
	}
	err = qp_pair(a, b, 14, 7);
	ASSERT_EQ(NULL, err) TH_LOG("%s", err);
	uet_pat_fill(src, 4 * MIB, 12);
	memset(dst, 0, 4 * MIB);
	ASSERT_EQ(0, post_recv(b, 77, dst + 4 * MIB, MIB));
	ASSERT_EQ(0, post_wr(a, 1, IBV_WR_RDMA_WRITE, src, 3 * MIB,
			     (uintptr_t)dst, b->mr->rkey, 0, 0, 0));
	ASSERT_EQ(0, post_wr(a, 2, IBV_WR_SEND, src + 3 * MIB, MIB, 0, 0, 0,
			     0, 0));
	ASSERT_EQ(0, post_wr(a, 3, IBV_WR_RDMA_READ, src + 5 * MIB, 3 * MIB,
			     (uintptr_t)dst, b->mr->rkey, 0, 0, 0));
	n = uet_poll_n(a->scq, 3, wc, 60000);
	ASSERT_EQ(3, n) TH_LOG("only %d of 3 completions on the new QP", n);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(IBV_WC_SUCCESS, wc[i].status)
			TH_LOG("new QP wr_id %llu: %s",
			       (unsigned long long)wc[i].wr_id,
			       ibv_wc_status_str(wc[i].status));
	n = uet_poll_n(b->rcq, 1, wc, 10000);
	ASSERT_EQ(1, n);
	EXPECT_EQ(IBV_WC_SUCCESS, wc[0].status);
	EXPECT_EQ(MIB, wc[0].byte_len);
	EXPECT_EQ(0, memcmp(dst, src, 3 * MIB));
	EXPECT_EQ(0, memcmp(dst + 4 * MIB, src + 3 * MIB, MIB));
	EXPECT_EQ(0, memcmp(src + 5 * MIB, src, 3 * MIB));
	peer_close(a);
	peer_close(b);
}

TEST_HARNESS_MAIN
