// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * uet_ru_pingpong: ping-pong between two reliable-unconnected (RU) queue
 * pairs of one UET job, in the style of ibv_rc_pingpong, with the public
 * uetdv API only.
 *
 * The job comes from the environment, as uet-job(1) passes it
 * (UET_JOB_FD), or is allocated with -J (which needs CAP_NET_ADMIN); both
 * sides must use the same JobID on their devices.  The server listens on
 * a TCP port; the two sides exchange their IP address (as a GID) and QP
 * number over it, then send -n messages of -s bytes back and forth.
 *
 *   server:  uet-job -d uet0 -j 4242 -- uet_ru_pingpong -d uet0 -g 0
 *   client:  uet-job -d uet1 -j 4242 -- uet_ru_pingpong -d uet1 -g 0 SERVER
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <infiniband/uetdv.h>

struct dest {
	union ibv_gid gid;
	uint32_t qpn;
};

struct ctx {
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_qp_ex *qpx;
	struct uetdv_qp_ex *dv;
	struct uetdv_job *job;
	struct uetdv_job_key *jkey;
	struct ibv_ah *ah;
	char *buf;
	unsigned int size;
};

static struct ibv_context *open_device(const char *name)
{
	struct ibv_context *ctx = NULL;
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		return NULL;
	for (i = 0; i < n && !ctx; i++)
		if (!name || !strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	return ctx;
}

/* The job: imported from UET_JOB_FD, or allocated with -J. */
static struct uetdv_job *get_job(struct ibv_context *ctx, uint32_t job_id)
{
	struct uetdv_job_attr attr = { .id = job_id };
	const char *fd = getenv("UET_JOB_FD");
	struct uetdv_job *job;
	int err;

	if (!job_id && fd) {
		err = uetdv_import_job(ctx, atoi(fd), &job);
		if (err) {
			fprintf(stderr, "cannot import the job: %s\n",
				strerror(err));
			return NULL;
		}
		return job;
	}
	if (!job_id) {
		fprintf(stderr, "no job: run under uet-job, or give -J\n");
		return NULL;
	}
	job = uetdv_alloc_job(ctx, &attr, NULL);
	if (!job)
		fprintf(stderr, "cannot allocate job %#x: %s\n", job_id,
			strerror(errno));
	return job;
}

static int init(struct ctx *c, const char *dev, uint32_t job_id,
		unsigned int size, int rx_depth, bool ordered)
{
	struct ibv_qp_init_attr_ex attr = {
		.qp_type = IBV_QPT_DRIVER,
		.cap = { .max_send_wr = 4, .max_recv_wr = rx_depth,
			 .max_send_sge = 1, .max_recv_sge = 1 },
		.comp_mask = IBV_QP_INIT_ATTR_PD |
			     IBV_QP_INIT_ATTR_SEND_OPS_FLAGS,
		.send_ops_flags = IBV_QP_EX_WITH_SEND,
	};
	struct uetdv_qp_init_attr uattr = {
		.comp_mask = UETDV_QP_INIT_ATTR_FLAGS,
		.flags = ordered ? UETDV_QP_ORDERED : 0,
	};

	c->size = size;
	c->buf = calloc(1, size ? size : 1);
	c->ctx = open_device(dev);
	if (!c->buf || !c->ctx) {
		fprintf(stderr, "cannot open %s\n", dev ? dev : "a device");
		return -1;
	}
	c->job = get_job(c->ctx, job_id);
	if (!c->job)
		return -1;
	c->pd = ibv_alloc_pd(c->ctx);
	c->jkey = c->pd ? uetdv_create_jkey(c->pd, c->job, 0) : NULL;
	c->mr = c->pd ? ibv_reg_mr(c->pd, c->buf, size ? size : 1,
				   IBV_ACCESS_LOCAL_WRITE) : NULL;
	c->cq = ibv_create_cq(c->ctx, rx_depth + 1, NULL, NULL, 0);
	if (!c->jkey || !c->mr || !c->cq) {
		fprintf(stderr, "cannot set up PD, job key, MR and CQ: %s\n",
			strerror(errno));
		return -1;
	}
	attr.send_cq = c->cq;
	attr.recv_cq = c->cq;
	attr.pd = c->pd;
	uattr.job_key = c->jkey;
	c->qp = uetdv_create_qp(c->ctx, &attr, &uattr);
	if (!c->qp) {
		fprintf(stderr, "cannot create the RU QP: %s\n",
			strerror(errno));
		return -1;
	}
	c->qpx = ibv_qp_to_qp_ex(c->qp);
	c->dv = uetdv_qp_ex_from_ibv_qp_ex(c->qpx);
	return c->dv ? 0 : -1;
}

static int post_recv(struct ctx *c, int n)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)c->buf,
		.length = c->size,
		.lkey = c->mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = 1, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;
	int i;

	for (i = 0; i < n; i++)
		if (ibv_post_recv(c->qp, &wr, &bad))
			break;
	return i;
}

static int post_send(struct ctx *c)
{
	ibv_wr_start(c->qpx);
	c->qpx->wr_id = 2;
	c->qpx->wr_flags = IBV_SEND_SIGNALED;
	ibv_wr_send(c->qpx);
	uetdv_wr_set_ru_addr(c->dv, c->ah, 0);
	ibv_wr_set_sge(c->qpx, c->mr->lkey, (uintptr_t)c->buf, c->size);
	return ibv_wr_complete(c->qpx);
}

/*
 * Exchange our address for the peer's over TCP: 20 bytes each way, the
 * GID and then the QP number in network byte order.
 */
static int exchange(const char *server, int port, const struct dest *mine,
		    struct dest *peer)
{
	uint8_t out[20], in[20];
	uint32_t qpn;
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = server ? 0 : AI_PASSIVE };
	struct addrinfo *res, *t;
	char service[16];
	int fd = -1, s, one = 1;

	snprintf(service, sizeof(service), "%d", port);
	if (getaddrinfo(server, service, &hints, &res))
		return -1;
	for (t = res; t; t = t->ai_next) {
		s = socket(t->ai_family, t->ai_socktype, t->ai_protocol);
		if (s < 0)
			continue;
		if (server) {
			if (!connect(s, t->ai_addr, t->ai_addrlen)) {
				fd = s;
				break;
			}
		} else {
			setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
			if (!bind(s, t->ai_addr, t->ai_addrlen) &&
			    !listen(s, 1)) {
				fd = accept(s, NULL, NULL);
				close(s);
				break;
			}
		}
		close(s);
	}
	freeaddrinfo(res);
	if (fd < 0)
		return -1;
	memcpy(out, mine->gid.raw, 16);
	qpn = htobe32(mine->qpn);
	memcpy(out + 16, &qpn, 4);
	if (write(fd, out, sizeof(out)) != sizeof(out) ||
	    recv(fd, in, sizeof(in), MSG_WAITALL) != sizeof(in)) {
		close(fd);
		return -1;
	}
	close(fd);
	memcpy(peer->gid.raw, in, 16);
	memcpy(&qpn, in + 16, 4);
	peer->qpn = be32toh(qpn);
	return 0;
}

static void usage(const char *argv0)
{
	printf("Usage:\n"
	       "  %s [options]            start a server and wait for a client\n"
	       "  %s [options] <host>     connect to the server at <host>\n\n"
	       "Options:\n"
	       "  -p, --port=<port>      TCP port of the exchange (default 18515)\n"
	       "  -d, --ib-dev=<dev>     uet device (default: the first)\n"
	       "  -g, --gid-idx=<idx>    local GID index: the IP address (default 0)\n"
	       "  -s, --size=<size>      message size (default 4096)\n"
	       "  -r, --rx-depth=<dep>   receives to post (default 500)\n"
	       "  -n, --iters=<iters>    exchanges (default 1000)\n"
	       "  -J, --job=<jobid>      allocate this job (default: UET_JOB_FD)\n"
	       "  -o, --ordered          ordered delivery (ROD; default RUD)\n"
	       "  -c, --chk              check the content of every message\n",
	       argv0, argv0);
}

int main(int argc, char *argv[])
{
	unsigned int port = 18515, size = 4096, iters = 1000, rx_depth = 500;
	const char *dev = NULL, *server = NULL;
	struct uetdv_ah_attr_ex ah_attr = {};
	bool ordered = false, chk = false;
	unsigned int scnt = 0, rcnt = 0, i;
	struct dest mine = {}, peer;
	struct timeval start, end;
	struct ctx c = {};
	uint32_t job_id = 0;
	int gidx = 0, routs;
	double usec;

	for (;;) {
		static const struct option opts[] = {
			{ "port", 1, NULL, 'p' }, { "ib-dev", 1, NULL, 'd' },
			{ "gid-idx", 1, NULL, 'g' }, { "size", 1, NULL, 's' },
			{ "rx-depth", 1, NULL, 'r' }, { "iters", 1, NULL, 'n' },
			{ "job", 1, NULL, 'J' }, { "ordered", 0, NULL, 'o' },
			{ "chk", 0, NULL, 'c' }, {}
		};
		int opt = getopt_long(argc, argv, "p:d:g:s:r:n:J:oc", opts,
				      NULL);

		if (opt == -1)
			break;
		switch (opt) {
		case 'p': port = strtoul(optarg, NULL, 0); break;
		case 'd': dev = optarg; break;
		case 'g': gidx = strtol(optarg, NULL, 0); break;
		case 's': size = strtoul(optarg, NULL, 0); break;
		case 'r': rx_depth = strtoul(optarg, NULL, 0); break;
		case 'n': iters = strtoul(optarg, NULL, 0); break;
		case 'J': job_id = strtoul(optarg, NULL, 0); break;
		case 'o': ordered = true; break;
		case 'c': chk = true; break;
		default:
			usage(argv[0]);
			return 1;
		}
	}
	if (optind == argc - 1) {
		server = argv[optind];
	} else if (optind < argc) {
		usage(argv[0]);
		return 1;
	}
	if (rx_depth > iters)
		rx_depth = iters;

	if (init(&c, dev, job_id, size, rx_depth, ordered))
		return 1;
	routs = post_recv(&c, rx_depth);
	if (ibv_query_gid(c.ctx, 1, gidx, &mine.gid)) {
		fprintf(stderr, "no GID %d\n", gidx);
		return 1;
	}
	mine.qpn = c.qp->qp_num;
	printf("  local address:  QPN 0x%06x, GID %s\n", mine.qpn,
	       inet_ntop(AF_INET6, mine.gid.raw, (char[64]){}, 64));
	if (exchange(server, port, &mine, &peer)) {
		fprintf(stderr, "cannot exchange addresses\n");
		return 1;
	}
	printf("  remote address: QPN 0x%06x, GID %s\n", peer.qpn,
	       inet_ntop(AF_INET6, peer.gid.raw, (char[64]){}, 64));

	ah_attr.ah_attr.is_global = 1;
	ah_attr.ah_attr.port_num = 1;
	ah_attr.ah_attr.grh.dgid = peer.gid;
	ah_attr.ah_attr.grh.sgid_index = gidx;
	ah_attr.ah_attr.grh.hop_limit = 64;
	ah_attr.remote_qpn = peer.qpn;
	c.ah = uetdv_create_ah_ex(c.pd, &ah_attr);
	if (!c.ah) {
		fprintf(stderr, "cannot create the AH: %s\n", strerror(errno));
		return 1;
	}

	gettimeofday(&start, NULL);
	/* The client speaks first; each side answers what it receives. */
	if (server) {
		if (chk)
			memset(c.buf, 0x5a, size);
		if (post_send(&c)) {
			fprintf(stderr, "cannot post a send\n");
			return 1;
		}
	}
	while (scnt < iters || rcnt < iters) {
		struct ibv_wc wc[2];
		int n = ibv_poll_cq(c.cq, 2, wc);

		if (n < 0) {
			fprintf(stderr, "poll_cq failed\n");
			return 1;
		}
		for (i = 0; i < (unsigned int)n; i++) {
			if (wc[i].status != IBV_WC_SUCCESS) {
				fprintf(stderr, "completion %s (%d) for wr %d\n",
					ibv_wc_status_str(wc[i].status),
					wc[i].status, (int)wc[i].wr_id);
				return 1;
			}
			if (wc[i].wr_id == 2) {
				scnt++;
				continue;
			}
			rcnt++;
			if (chk && size && (unsigned char)c.buf[size - 1] !=
					    (server ? 0xa5 : 0x5a)) {
				fprintf(stderr, "message %u: bad content\n",
					rcnt);
				return 1;
			}
			if (--routs <= 1)
				routs += post_recv(&c, rx_depth - routs);
			/* Answer, unless the client is done. */
			if (scnt < iters && (!server || rcnt < iters)) {
				if (chk)
					memset(c.buf, server ? 0x5a : 0xa5,
					       size);
				if (post_send(&c)) {
					fprintf(stderr, "cannot post a send\n");
					return 1;
				}
			}
		}
		if (server && scnt == iters && rcnt == iters)
			break;
		if (!server && rcnt == iters && scnt == iters)
			break;
	}
	gettimeofday(&end, NULL);
	usec = (end.tv_sec - start.tv_sec) * 1e6 +
	       (end.tv_usec - start.tv_usec);
	printf("%llu bytes in %.2f seconds = %.2f Mbit/sec\n",
	       (unsigned long long)size * iters * 2, usec / 1e6,
	       size * iters * 2 * 8.0 / usec);
	printf("%u iters in %.2f seconds = %.2f usec/iter\n", iters,
	       usec / 1e6, usec / iters);

	ibv_destroy_ah(c.ah);
	ibv_destroy_qp(c.qp);
	uetdv_destroy_jkey(c.jkey);
	ibv_dereg_mr(c.mr);
	ibv_destroy_cq(c.cq);
	ibv_dealloc_pd(c.pd);
	uetdv_dealloc_job(c.job);
	ibv_close_device(c.ctx);
	free(c.buf);
	return 0;
}
