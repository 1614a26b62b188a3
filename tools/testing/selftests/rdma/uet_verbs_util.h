/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the uet selftests that go through libibverbs.
 */
#ifndef _UET_VERBS_UTIL_H_
#define _UET_VERBS_UTIL_H_

#include <arpa/inet.h>
#include <string.h>

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

#endif /* _UET_VERBS_UTIL_H_ */
