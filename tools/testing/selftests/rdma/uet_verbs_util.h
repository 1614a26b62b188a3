/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the uet selftests that go through libibverbs.
 */
#ifndef _UET_VERBS_UTIL_H_
#define _UET_VERBS_UTIL_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>

/* Open an RDMA device by name through libibverbs; NULL if none. */
static inline struct ibv_context *uet_open_dev(const char *name)
{
	struct ibv_context *ctx = NULL;
	struct ibv_device **list;
	int i, n;

	list = ibv_get_device_list(&n);
	if (!list)
		return NULL;
	for (i = 0; i < n && !ctx; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	return ctx;
}

/* @addr (IPv4 or IPv6 text) as a GID; IPv4 becomes IPv4-mapped. */
static inline int uet_parse_gid(const char *addr, union ibv_gid *gid)
{
	memset(gid, 0, sizeof(*gid));
	if (inet_pton(AF_INET6, addr, gid->raw) == 1)
		return 0;
	gid->raw[10] = 0xff;
	gid->raw[11] = 0xff;
	return inet_pton(AF_INET, addr, &gid->raw[12]) == 1 ? 0 : -1;
}

/* Index of @addr in the GID table of port 1, or -1. */
static inline int uet_find_gid(struct ibv_context *ctx, const char *addr)
{
	union ibv_gid want, gid;
	struct ibv_port_attr pa;
	int i;

	if (uet_parse_gid(addr, &want) || ibv_query_port(ctx, 1, &pa))
		return -1;
	for (i = 0; i < pa.gid_tbl_len; i++)
		if (!ibv_query_gid(ctx, 1, i, &gid) &&
		    !memcmp(&gid, &want, sizeof(gid)))
			return i;
	return -1;
}

/* The GID table follows the addresses asynchronously: wait up to 5 s. */
static inline int uet_wait_gid(struct ibv_context *ctx, const char *addr)
{
	int i, idx = -1;

	for (i = 0; i < 50 && idx < 0; i++) {
		idx = uet_find_gid(ctx, addr);
		if (idx < 0)
			usleep(100000);
	}
	return idx;
}

/*
 * Like uet_find_gid(), but when @addr is in the table more than once (a
 * RoCE v1 and a v2 entry on soft-RoCE) take the RoCE v2 one: only that
 * one is carried over UDP/IP, which is what the data tests need.
 */
static inline int uet_find_gid_v2(struct ibv_context *ctx, const char *addr)
{
	struct ibv_gid_entry ent;
	struct ibv_port_attr pa;
	union ibv_gid want;
	int i, idx = -1;

	if (uet_parse_gid(addr, &want) || ibv_query_port(ctx, 1, &pa))
		return -1;
	for (i = 0; i < pa.gid_tbl_len; i++) {
		if (ibv_query_gid_ex(ctx, 1, i, &ent, 0) ||
		    memcmp(&ent.gid, &want, sizeof(want)))
			continue;
		if (ent.gid_type == IBV_GID_TYPE_ROCE_V2)
			return i;
		if (idx < 0)
			idx = i;
	}
	return idx;
}

/* uet_wait_gid() with the RoCE v2 preference of uet_find_gid_v2(). */
static inline int uet_wait_gid_v2(struct ibv_context *ctx, const char *addr)
{
	int i, idx = -1;

	for (i = 0; i < 50 && idx < 0; i++) {
		idx = uet_find_gid_v2(ctx, addr);
		if (idx < 0)
			usleep(100000);
	}
	return idx;
}

/*
 * UET_TEST_LIMITS=0 leaves out the cases that fill a device limit (tens
 * of thousands of objects): minutes each on a debug kernel under TCG.
 */
static inline bool uet_skip_limits(void)
{
	const char *v = getenv("UET_TEST_LIMITS");

	return v && !strcmp(v, "0");
}

/*
 * The debug lane's fault-injection pass (UET_FAULT_INJECT=1): from here
 * on, allocations this process makes in rdma_uet may fail (failslab and
 * fail_page_alloc, through /proc/self/make-it-fail).  A fixture calls it
 * once its device exists, so that what fails is what the case tests, not
 * the set-up.  0, or -1 if the pass is asked for and cannot be armed.
 */
static inline int uet_fault_inject_begin(void)
{
	const char *v = getenv("UET_FAULT_INJECT");
	int fd, ret;

	if (!v || strcmp(v, "1"))
		return 0;
	fd = open("/proc/self/make-it-fail", O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, "1", 1) == 1 ? 0 : -1;
	close(fd);
	return ret;
}

static inline long long uet_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * Poll @cq until @n completions are in @wc or @ms milliseconds have
 * passed; returns how many were read, or a negative poll_cq error.
 */
static inline int uet_poll_n(struct ibv_cq *cq, int n, struct ibv_wc *wc,
			     int ms)
{
	long long end = uet_now_ms() + ms;
	int got = 0, r;

	while (got < n) {
		r = ibv_poll_cq(cq, n - got, wc + got);
		if (r < 0)
			return r;
		got += r;
		if (got < n) {
			if (uet_now_ms() > end)
				break;
			usleep(1000);
		}
	}
	return got;
}

/*
 * Wait up to @ms milliseconds for an async event of @type about @obj (a
 * QP, CQ or SRQ; NULL for any), acknowledging every event read on the
 * way.  True if it arrived.
 */
static inline bool uet_wait_async(struct ibv_context *ctx,
				  enum ibv_event_type type, const void *obj,
				  int ms)
{
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	long long end = uet_now_ms() + ms;
	struct ibv_async_event ev;
	bool found = false;
	long long left;

	while (!found && (left = end - uet_now_ms()) > 0) {
		if (poll(&pfd, 1, left) <= 0)
			continue;
		if (ibv_get_async_event(ctx, &ev))
			break;
		found = ev.event_type == type &&
			(!obj || (const void *)ev.element.qp == obj);
		ibv_ack_async_event(&ev);
	}
	return found;
}

/* Test data bytes: xorshift64*, seeded through splitmix64. */
static inline uint64_t uet_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline void uet_pat_fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t s = uet_mix64(seed) | 1, v;
	size_t k;

	while (n) {
		s ^= s >> 12;
		s ^= s << 25;
		s ^= s >> 27;
		v = s * 0x2545f4914f6cdd1dull;
		k = n < 8 ? n : 8;
		memcpy(p, &v, k);
		p += k;
		n -= k;
	}
}

static inline uint64_t uet_name_seed(const char *name)
{
	uint64_t h = 1469598103934665603ull;

	while (*name)
		h = (h ^ (uint8_t)*name++) * 1099511628211ull;
	return h;
}

/* Port 1 hardware counter @name of device @dev; ~0 if it cannot be read. */
static inline unsigned long long uet_hw_counter(const char *dev,
						const char *name)
{
	char path[256], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path),
		 "/sys/class/infiniband/%s/ports/1/hw_counters/%s", dev, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return ~0ull;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return ~0ull;
	buf[n] = 0;
	return strtoull(buf, NULL, 0);
}

#endif /* _UET_VERBS_UTIL_H_ */
