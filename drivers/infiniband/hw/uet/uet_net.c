// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * IP paths of a uet device: address vectors built from a GRH, and which
 * destinations its netdev reaches.
 *
 * uet ports are neither IB nor RoCE, so an address vector is its GRH: the
 * destination GID is the peer's IPv4-mapped or IPv6 address and the
 * source GID selects the local address.
 */
#include <net/ip6_route.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>

#include "uet.h"

static bool uet_addr_is_multicast(const struct in6_addr *a)
{
	if (ipv6_addr_v4mapped(a))
		return ipv4_is_multicast(a->s6_addr32[3]);
	return ipv6_addr_is_multicast(a);
}

/**
 * uet_av_from_grh - the address vector a GRH describes
 * @av: filled in
 * @grh: with its source GID attribute resolved by the core
 *
 * Return: 0; -EINVAL for a missing or mixed-family address; -EOPNOTSUPP
 * for a multicast destination.
 */
int uet_av_from_grh(struct uet_av *av, const struct ib_global_route *grh)
{
	struct uet_ip_path *p = &av->path;

	if (!grh->sgid_attr)
		return -EINVAL;
	memcpy(&p->daddr, grh->dgid.raw, sizeof(p->daddr));
	memcpy(&p->saddr, grh->sgid_attr->gid.raw, sizeof(p->saddr));
	p->ipv4 = ipv6_addr_v4mapped(&p->daddr);

	if (ipv6_addr_any(&p->daddr) ||
	    (p->ipv4 && !p->daddr.s6_addr32[3]))
		return -EINVAL;
	if (uet_addr_is_multicast(&p->daddr))
		return -EOPNOTSUPP;
	/* One address family per packet. */
	if (p->ipv4 != ipv6_addr_v4mapped(&p->saddr))
		return -EINVAL;

	av->traffic_class = grh->traffic_class;
	av->hop_limit = grh->hop_limit;
	av->flow_label = grh->flow_label;
	return 0;
}

static int uet_path_route4(struct uet_dev *udev, const struct uet_ip_path *p)
{
	struct flowi4 fl4 = {
		.daddr = p->daddr.s6_addr32[3],
		.saddr = p->saddr.s6_addr32[3],
		.flowi4_proto = IPPROTO_UDP,
	};
	struct rtable *rt;
	bool ours;

	rt = ip_route_output_key(dev_net(udev->ndev), &fl4);
	if (IS_ERR(rt))
		return PTR_ERR(rt);
	ours = rt->dst.dev == udev->ndev || rt->rt_type == RTN_LOCAL;
	ip_rt_put(rt);
	return ours ? 0 : -ENETUNREACH;
}

static int uet_path_route6(struct uet_dev *udev, const struct uet_ip_path *p)
{
	struct flowi6 fl6 = {
		.daddr = p->daddr,
		.saddr = p->saddr,
		.flowi6_proto = IPPROTO_UDP,
	};
	struct dst_entry *dst;
	bool ours;

	if (ipv6_addr_type(&p->daddr) & IPV6_ADDR_LINKLOCAL)
		fl6.flowi6_oif = udev->ndev->ifindex;

	dst = ipv6_stub->ipv6_dst_lookup_flow(dev_net(udev->ndev), NULL, &fl6,
					      NULL);
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	ours = dst->dev == udev->ndev || dst->dev->flags & IFF_LOOPBACK;
	dst_release(dst);
	return ours ? 0 : -ENETUNREACH;
}

/**
 * uet_path_check - can this device's netdev send along @p?
 * @udev: the device
 * @p: source and destination
 *
 * Context: process context.
 * Return: 0, or -ENETUNREACH (or the routing error) when the destination is
 * not reached through the device's netdev or is not local.
 */
int uet_path_check(struct uet_dev *udev, const struct uet_ip_path *p)
{
	return p->ipv4 ? uet_path_route4(udev, p) : uet_path_route6(udev, p);
}
