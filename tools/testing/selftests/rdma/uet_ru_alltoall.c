// SPDX-License-Identifier: GPL-2.0
/*
 * One rank of uet_ru_alltoall.sh: an RU QP in the job of UET_JOB_FD that
 * sends to, writes into and reads from every other rank, by the index of
 * the job's address table, and checks that what it receives comes exactly
 * once and intact.
 *
 *   uet_ru_alltoall DIR RANK NRANKS DEVICE GID_INDEX MSGS [-o]
 *
 * Ranks meet through files in DIR (the processes run on one host, in
 * several network namespaces): each publishes its address and memory
 * windows, then inserts every rank into its device's job address table.
 * Every rank sends MSGS messages of each kind to every other rank:
 *  - SEND: a header (source rank, sequence) and a pattern of both;
 *  - WRITE: into the window the target keeps for this source, at a slot
 *    per sequence number;
 *  - READ: a range of the target's read region, checked on arrival.
 * A rank is done when its own work completed; it then checks every SEND
 * it got (each (source, sequence) exactly once, and nothing more arrives)
 * and, once every rank is done, the WRITE windows.  Exit status 0 when
 * all of it held; the first problem is printed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <infiniband/uetdv.h>

#include "uet_verbs_util.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAXR 16
#define SLOT 70000		/* a SEND or WRITE slot: above the largest size */
#define RSLOT 65536
#define DEPTH 32		/* WRs in flight */

static const uint32_t sizes[] = { 1, 100, 4096, 9000, 65536 + 7, 17, 30000 };

struct rank_info {
	union ibv_gid gid;
	uint32_t qpn;
	uint32_t wkey, rkey;
	uint64_t waddr, raddr;	/* WRITE windows, READ region */
};

struct hdr {
	uint32_t src, seq;
};

static int me, n, msgs;
static uint32_t ibv_wc_len[1024];	/* byte_len of receive i */
static const char *dir;

static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "rank %d: ", me);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t seed(int src, int dst, int seq, int kind)
{
	return uet_mix64(((uint64_t)src << 48) ^ ((uint64_t)dst << 32) ^
			 ((uint64_t)kind << 24) ^ seq);
}

/* A SEND carries its header, whatever the size of its kind. */
static uint32_t send_len(uint32_t seq)
{
	uint32_t len = sizes[seq % ARRAY_SIZE(sizes)];

	return len < sizeof(struct hdr) ? sizeof(struct hdr) : len;
}

static void put_file(const char *what, const void *data, size_t len)
{
	char tmp[600], path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.%d", dir, what, me);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || (len && fwrite(data, len, 1, f) != 1) || fclose(f) ||
	    rename(tmp, path))
		fail("cannot write %s", path);
}

/* Wait (up to 300 s) for every rank's @what file; read it if @out. */
static void get_files(const char *what, void *out, size_t len)
{
	char path[512];
	int r, tries;
	FILE *f;

	for (r = 0; r < n; r++) {
		snprintf(path, sizeof(path), "%s/%s.%d", dir, what, r);
		for (tries = 0; access(path, F_OK); tries++) {
			if (tries > 3000)
				fail("rank %d never wrote %s", r, what);
			usleep(100000);
		}
		if (!out)
			continue;
		f = fopen(path, "r");
		if (!f || fread((char *)out + r * len, len, 1, f) != 1)
			fail("cannot read %s", path);
		fclose(f);
	}
}

int main(int argc, char *argv[])
{
	struct ibv_cq_init_attr_ex cq_attr = {
		.cqe = 4096,
		.wc_flags = IBV_WC_EX_WITH_BYTE_LEN | IBV_WC_EX_WITH_SRC_QP,
	};
	struct ibv_qp_init_attr_ex qattr = {
		.qp_type = IBV_QPT_DRIVER,
		.cap = { .max_send_wr = DEPTH, .max_recv_wr = 1024,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.send_ops_flags = IBV_QP_EX_WITH_SEND |
				  IBV_QP_EX_WITH_RDMA_WRITE |
				  IBV_QP_EX_WITH_RDMA_READ,
	};
	struct uetdv_qp_init_attr uattr = {};
	struct rank_info info[MAXR], mine = {};
	uint8_t *sbuf, *rbuf, *wbuf, *rdbuf, *lbuf, *seen, *peer_rd;
	struct ibv_poll_cq_attr pattr = {};
	struct ibv_mr *smr, *rmr, *wmr, *rdmr, *lmr;
	size_t rlen, wlen, rdlen, slen, llen;
	struct uetdv_job_key *jkey;
	struct ibv_context *ctx;
	struct uetdv_qp_ex *dv;
	struct uetdv_job *job;
	struct ibv_qp_ex *qpx;
	uint32_t posted = 0, done = 0, nrecv = 0, want, i;
	int p, r, gidx, err, kind, outstanding = 0;
	struct ibv_cq_ex *cq;
	struct ibv_pd *pd;
	struct ibv_qp *qp;
	long long t_end;

	if ((argc != 7 && argc != 8) || !getenv("UET_JOB_FD"))
		fail("usage: UET_JOB_FD=fd %s DIR RANK NRANKS DEV GIDX MSGS [-o]",
		     argv[0]);
	/* -o: ordered delivery (ROD) instead of RUD. */
	if (argc == 8 && !strcmp(argv[7], "-o")) {
		uattr.comp_mask = UETDV_QP_INIT_ATTR_FLAGS;
		uattr.flags = UETDV_QP_ORDERED;
	}
	dir = argv[1];
	me = atoi(argv[2]);
	n = atoi(argv[3]);
	gidx = atoi(argv[5]);
	msgs = atoi(argv[6]);
	if (n < 2 || n > MAXR || me < 0 || me >= n || msgs < 1 ||
	    n * msgs + 8 > 1024)
		fail("bad arguments");

	ctx = uet_open_dev(argv[4]);
	if (!ctx)
		fail("cannot open %s", argv[4]);
	err = uetdv_import_job(ctx, atoi(getenv("UET_JOB_FD")), &job);
	if (err)
		fail("import: %s", strerror(err));
	pd = ibv_alloc_pd(ctx);
	jkey = pd ? uetdv_create_jkey(pd, job, 0) : NULL;
	cq = ibv_create_cq_ex(ctx, &cq_attr);
	if (!jkey || !cq)
		fail("PD, job key or CQ: %s", strerror(errno));
	qattr.pd = pd;
	qattr.send_cq = ibv_cq_ex_to_cq(cq);
	qattr.recv_cq = ibv_cq_ex_to_cq(cq);
	uattr.job_key = jkey;
	qp = uetdv_create_qp(ctx, &qattr, &uattr);
	if (!qp)
		fail("create_qp: %s", strerror(errno));
	qpx = ibv_qp_to_qp_ex(qp);
	dv = uetdv_qp_ex_from_ibv_qp_ex(qpx);

	/* Receives: a slot per (source, sequence), and room for strays. */
	rlen = (size_t)(n * msgs + 8) * SLOT;
	wlen = (size_t)n * msgs * SLOT;		/* a window per source */
	rdlen = (size_t)msgs * RSLOT + RSLOT;	/* what others read */
	slen = (size_t)SLOT * DEPTH;
	llen = RSLOT;
	sbuf = mmap(NULL, slen, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rbuf = mmap(NULL, rlen, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	wbuf = mmap(NULL, wlen, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	rdbuf = mmap(NULL, rdlen, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	lbuf = mmap(NULL, llen * DEPTH, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	seen = calloc(n, msgs);
	peer_rd = malloc((size_t)n * ((size_t)msgs * RSLOT + RSLOT));
	if (sbuf == MAP_FAILED || rbuf == MAP_FAILED || wbuf == MAP_FAILED ||
	    rdbuf == MAP_FAILED || lbuf == MAP_FAILED || !seen || !peer_rd)
		fail("out of memory");
	memset(wbuf, 0xee, wlen);
	/* What each rank's READ region holds, to check READs against. */
	for (r = 0; r < n; r++)
		uet_pat_fill(peer_rd + r * rdlen, rdlen, seed(r, 0, 0, 3));
	memcpy(rdbuf, peer_rd + me * rdlen, rdlen);
	smr = ibv_reg_mr(pd, sbuf, slen, IBV_ACCESS_LOCAL_WRITE);
	rmr = ibv_reg_mr(pd, rbuf, rlen, IBV_ACCESS_LOCAL_WRITE);
	wmr = ibv_reg_mr(pd, wbuf, wlen, IBV_ACCESS_LOCAL_WRITE |
			 IBV_ACCESS_REMOTE_WRITE);
	rdmr = ibv_reg_mr(pd, rdbuf, rdlen, IBV_ACCESS_REMOTE_READ);
	lmr = ibv_reg_mr(pd, lbuf, llen * DEPTH, IBV_ACCESS_LOCAL_WRITE);
	if (!smr || !rmr || !wmr || !rdmr || !lmr)
		fail("reg_mr: %s", strerror(errno));

	/* Publish, meet, and fill the job's address table. */
	if (ibv_query_gid(ctx, 1, gidx, &mine.gid))
		fail("no GID %d", gidx);
	mine.qpn = qp->qp_num;
	mine.wkey = wmr->rkey;
	mine.waddr = (uintptr_t)wbuf;
	mine.rkey = rdmr->rkey;
	mine.raddr = (uintptr_t)rdbuf;
	put_file("addr", &mine, sizeof(mine));
	get_files("addr", info, sizeof(info[0]));
	for (r = 0; r < n; r++) {
		struct uetdv_ah_attr_ex a = {
			.ah_attr = { .is_global = 1, .port_num = 1 },
			.remote_qpn = info[r].qpn,
		}, q;

		a.ah_attr.grh.dgid = info[r].gid;
		err = uetdv_insert_addr(job, &a, r, 0);
		/* Another rank on this device may have been first. */
		if (err == EEXIST) {
			if (uetdv_query_addr(job, r, &q, 0) ||
			    q.remote_qpn != a.remote_qpn ||
			    memcmp(&q.ah_attr.grh.dgid, &a.ah_attr.grh.dgid,
				   sizeof(q.ah_attr.grh.dgid)))
				fail("address table entry %d differs", r);
		} else if (err) {
			fail("insert_addr %d: %s", r, strerror(err));
		}
	}
	for (i = 0; i < (uint32_t)(n * msgs + 8); i++) {
		struct ibv_sge sge = { (uintptr_t)rbuf + (size_t)i * SLOT,
				       SLOT, rmr->lkey };
		struct ibv_recv_wr wr = { .wr_id = i, .sg_list = &sge,
					  .num_sge = 1 }, *bad;

		if (ibv_post_recv(qp, &wr, &bad))
			fail("post_recv");
	}
	put_file("ready", NULL, 0);
	get_files("ready", NULL, 0);

	/* Every kind of work to every peer, DEPTH in flight. */
	want = (uint32_t)(n - 1) * msgs * 3;
	while (done < want) {
		while (posted < want && outstanding < DEPTH) {
			uint32_t k = posted, seq = k / (3 * (n - 1));
			uint32_t len = sizes[seq % ARRAY_SIZE(sizes)];
			uint8_t *lb = lbuf + (k % DEPTH) * llen;
			uint8_t *sb = sbuf + (size_t)(k % DEPTH) * SLOT;
			struct hdr h = { me, seq };

			kind = k % 3;
			p = (me + 1 + (k / 3) % (n - 1)) % n;
			ibv_wr_start(qpx);
			qpx->wr_id = (uint64_t)k << 8 | kind << 4 | 1;
			qpx->wr_flags = IBV_SEND_SIGNALED;
			if (kind == 0) {
				len = send_len(seq);
				uet_pat_fill(sb, len, seed(me, p, seq, 0));
				memcpy(sb, &h, sizeof(h));
				ibv_wr_send(qpx);
				ibv_wr_set_sge(qpx, smr->lkey,
					       (uintptr_t)sb, len);
			} else if (kind == 1) {
				uet_pat_fill(sb, len, seed(me, p, seq, 1));
				ibv_wr_rdma_write(qpx, info[p].wkey,
						  info[p].waddr +
						  ((size_t)me * msgs + seq) *
						  SLOT);
				ibv_wr_set_sge(qpx, smr->lkey,
					       (uintptr_t)sb, len);
			} else {
				len = len > RSLOT ? RSLOT : len;
				ibv_wr_rdma_read(qpx, info[p].rkey,
						 info[p].raddr +
						 (size_t)seq * RSLOT / 2);
				ibv_wr_set_sge(qpx, lmr->lkey,
					       (uintptr_t)lb, len);
			}
			uetdv_wr_set_ru_addr(dv, NULL, p);
			if (ibv_wr_complete(qpx))
				fail("post %u", k);
			/*
			 * Slot k % DEPTH is free again once k completed: RU
			 * send completions come in posting order.
			 */
			posted++;
			outstanding++;
		}
		if (ibv_start_poll(cq, &pattr))
			continue;
		do {
			uint64_t id = cq->wr_id;

			if (cq->status != IBV_WC_SUCCESS)
				fail("wr %#llx: %s", (unsigned long long)id,
				     ibv_wc_status_str(cq->status));
			if (ibv_wc_read_opcode(cq) == IBV_WC_RECV) {
				ibv_wc_len[id] = ibv_wc_read_byte_len(cq);
				nrecv++;
				continue;
			}
			done++;
			outstanding--;
			if (((id >> 4) & 0xf) == 2) {
				uint32_t k = id >> 8, seq = k / (3 * (n - 1));
				uint32_t len = sizes[seq % ARRAY_SIZE(sizes)];

				p = (me + 1 + (k / 3) % (n - 1)) % n;
				len = len > RSLOT ? RSLOT : len;
				if (memcmp(lbuf + (k % DEPTH) * llen,
					   peer_rd + p * rdlen +
					   (size_t)seq * RSLOT / 2, len))
					fail("READ %u from rank %d: data", seq,
					     p);
			}
		} while (!ibv_next_poll(cq));
		ibv_end_poll(cq);
	}
	put_file("done", NULL, 0);

	/* Every SEND exactly once and intact; then nothing more. */
	t_end = uet_now_ms() + 300000;
	while (nrecv < (uint32_t)(n - 1) * msgs && uet_now_ms() < t_end) {
		if (ibv_start_poll(cq, &pattr)) {
			usleep(1000);
			continue;
		}
		do {
			if (cq->status != IBV_WC_SUCCESS)
				fail("receive: %s",
				     ibv_wc_status_str(cq->status));
			ibv_wc_len[cq->wr_id] = ibv_wc_read_byte_len(cq);
			nrecv++;
		} while (!ibv_next_poll(cq));
		ibv_end_poll(cq);
	}
	if (nrecv != (uint32_t)(n - 1) * msgs)
		fail("%u receives of %d", nrecv, (n - 1) * msgs);
	/* Receives complete in the order they were posted: slots 0, 1, ... */
	for (i = 0; i < nrecv; i++) {
		uint8_t *m = rbuf + (size_t)i * SLOT;
		struct hdr h;
		uint8_t *want_buf = malloc(SLOT);
		uint32_t len;

		memcpy(&h, m, sizeof(h));
		if (h.src >= (uint32_t)n || h.src == (uint32_t)me ||
		    h.seq >= (uint32_t)msgs || !want_buf)
			fail("receive %u: bad header %u/%u", i, h.src, h.seq);
		if (seen[h.src * msgs + h.seq]++)
			fail("SEND %u from rank %u delivered twice", h.seq,
			     h.src);
		len = send_len(h.seq);
		if (ibv_wc_len[i] != len)
			fail("SEND %u from rank %u: %u bytes, not %u", h.seq,
			     h.src, ibv_wc_len[i], len);
		uet_pat_fill(want_buf, len, seed(h.src, me, h.seq, 0));
		memcpy(want_buf, &h, sizeof(h));
		if (memcmp(m, want_buf, len))
			fail("SEND %u from rank %u: data", h.seq, h.src);
		free(want_buf);
	}
	get_files("done", NULL, 0);
	usleep(1000000);
	if (!ibv_start_poll(cq, &pattr)) {
		ibv_end_poll(cq);
		fail("a completion more than expected");
	}
	/* Every rank finished writing: check each window slot. */
	for (r = 0; r < n; r++) {
		uint8_t *want_buf = malloc(SLOT);

		if (!want_buf)
			fail("out of memory");
		for (i = 0; r != me && i < (uint32_t)msgs; i++) {
			uint32_t len = sizes[i % ARRAY_SIZE(sizes)];
			uint8_t *w = wbuf + ((size_t)r * msgs + i) * SLOT;

			uet_pat_fill(want_buf, len, seed(r, me, i, 1));
			if (memcmp(w, want_buf, len) || w[len] != 0xee)
				fail("WRITE %u from rank %d: data", i, r);
		}
		free(want_buf);
	}
	printf("rank %d: %u sends, %u writes, %u reads to %d peers; %u receives; all intact\n",
	       me, want / 3, want / 3, want / 3, n - 1, nrecv);
	return 0;
}
