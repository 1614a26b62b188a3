// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * UET over UDP: one kernel UDP tunnel socket pair (IPv4 and IPv6) on port
 * 4793 per network namespace that has a uet device, and the two ends of
 * the data path that touch IP: sending a UET packet along an IP path and
 * handing received ones to PDS.
 *
 * Only the public UDP tunnel and routing interfaces are used; the netdev
 * under a uet device is never touched.  Packets for our own addresses go
 * through the loopback path like any other traffic, so a device talking
 * to itself still sends and receives UET packets.
 */
#include <linux/ipv6.h>
#include <net/ip6_route.h>
#include <net/ip_tunnels.h>
#include <net/ipv6_stubs.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <net/route.h>
#include <net/udp_tunnel.h>

#include "uet_pds.h"

struct uet_net {
	unsigned int users;		/* devices attached */
	struct socket *sock4;
	struct socket *sock6;		/* NULL without IPv6 */
	struct list_head devs;		/* struct uet_dev, RCU */
};

static unsigned int uet_net_id __read_mostly;
/* Serialises attach and detach in every namespace. */
static DEFINE_MUTEX(uet_net_lock);

/* The device that owns @daddr in @un, or NULL. */
static struct uet_dev *uet_udp_find_dev(struct uet_net *un,
					const struct in6_addr *daddr)
{
	struct uet_dev *udev;
	bool found;
	int i;

	list_for_each_entry_rcu(udev, &un->devs, net_node) {
		found = false;
		spin_lock_bh(&udev->gids.lock);
		for (i = 0; i < UET_GID_TBL_LEN && !found; i++)
			found = !memcmp(udev->gids.gid[i].raw, daddr,
					sizeof(*daddr));
		spin_unlock_bh(&udev->gids.lock);
		if (found)
			return udev;
	}
	return NULL;
}

static int uet_udp_encap_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct uet_net *un = net_generic(sock_net(sk), uet_net_id);
	struct uet_rx_info info = {};
	struct uet_dev *udev;

	if (ip_hdr(skb)->version == 4) {
		const struct iphdr *iph = ip_hdr(skb);

		info.path.ipv4 = true;
		ipv6_addr_set_v4mapped(iph->saddr, &info.path.saddr);
		ipv6_addr_set_v4mapped(iph->daddr, &info.path.daddr);
		info.tclass = iph->tos;
		info.hop_limit = iph->ttl;
	} else {
		const struct ipv6hdr *ip6h = ipv6_hdr(skb);

		info.path.saddr = ip6h->saddr;
		info.path.daddr = ip6h->daddr;
		info.tclass = ipv6_get_dsfield(ip6h);
		info.hop_limit = ip6h->hop_limit;
	}
	info.sport = udp_hdr(skb)->source;

	/* encap_rcv runs under rcu_read_lock(), which keeps udev alive. */
	udev = uet_udp_find_dev(un, &info.path.daddr);
	if (!udev) {
		/* Nobody to count it against but the first device. */
		udev = list_first_or_null_rcu(&un->devs, struct uet_dev,
					      net_node);
		if (udev)
			uet_count(udev, UET_CNT_RX_DROP_NO_DEVICE);
		goto drop;
	}
	__skb_pull(skb, sizeof(struct udphdr));
	if (skb_linearize(skb)) {
		uet_count(udev, UET_CNT_RX_DROP_NO_MEM);
		goto drop;
	}
	uet_count(udev, UET_CNT_RX_PKTS);
	uet_count_add(udev, UET_CNT_RX_BYTES, skb->len);
	uet_pds_rcv(udev, skb, &info);
	return 0;

drop:
	kfree_skb(skb);
	return 0;
}

static int uet_udp_sock_create(struct net *net, bool ipv6,
			       struct socket **sockp)
{
	struct udp_tunnel_sock_cfg tnl = {
		.encap_type = 1,
		.encap_rcv = uet_udp_encap_rcv,
	};
	struct udp_port_cfg cfg = {
		.family = ipv6 ? AF_INET6 : AF_INET,
		.ipv6_v6only = ipv6,
		.local_udp_port = htons(UET_UDP_PORT),
	};
	int err;

	err = udp_sock_create(net, &cfg, sockp);
	if (err)
		return err;
	setup_udp_tunnel_sock(net, *sockp, &tnl);
	return 0;
}

static void uet_udp_socks_release(struct uet_net *un)
{
	if (un->sock6)
		udp_tunnel_sock_release(un->sock6);
	udp_tunnel_sock_release(un->sock4);
	un->sock4 = NULL;
	un->sock6 = NULL;
}

/**
 * uet_udp_attach - connect a device to its namespace's UDP sockets
 * @udev: a device whose netdev is set
 *
 * The first device of a namespace creates the sockets.
 *
 * Context: process context.
 * Return: 0 or the socket creation error (-EADDRINUSE when something else
 * holds UDP port 4793).
 */
int uet_udp_attach(struct uet_dev *udev)
{
	struct net *net = dev_net(udev->ndev);
	struct uet_net *un = net_generic(net, uet_net_id);
	int err = 0;

	mutex_lock(&uet_net_lock);
	if (!un->users) {
		err = uet_udp_sock_create(net, false, &un->sock4);
		if (err)
			goto out_unlock;
		if (ipv6_mod_enabled()) {
			err = uet_udp_sock_create(net, true, &un->sock6);
			if (err) {
				udp_tunnel_sock_release(un->sock4);
				un->sock4 = NULL;
				goto out_unlock;
			}
		}
	}
	un->users++;
	list_add_tail_rcu(&udev->net_node, &un->devs);
	rcu_assign_pointer(udev->unet, un);
out_unlock:
	mutex_unlock(&uet_net_lock);
	return err;
}

static void __uet_udp_detach(struct uet_dev *udev, struct uet_net *un)
{
	list_del_rcu(&udev->net_node);
	RCU_INIT_POINTER(udev->unet, NULL);
	if (--un->users)
		return;
	/* No sender still uses the sockets once readers are done. */
	synchronize_net();
	uet_udp_socks_release(un);
}

/**
 * uet_udp_detach - disconnect a device from its namespace's sockets
 * @udev: the device; may be detached already, by the namespace going away
 *
 * The last device of a namespace releases the sockets.
 *
 * Context: process context.
 */
void uet_udp_detach(struct uet_dev *udev)
{
	struct uet_net *un;

	mutex_lock(&uet_net_lock);
	un = rcu_dereference_protected(udev->unet,
				       lockdep_is_held(&uet_net_lock));
	if (un)
		__uet_udp_detach(udev, un);
	mutex_unlock(&uet_net_lock);
	synchronize_net();
}

/**
 * uet_udp_alloc_skb - an skb for @len bytes of UET headers and payload
 * @udev: the sending device
 * @len: bytes after the UDP header
 * @gfp: allocation flags
 *
 * Return: the skb with room for UDP, IP and the link layer in front of
 * its (empty) data, or NULL.
 */
struct sk_buff *uet_udp_alloc_skb(struct uet_dev *udev, unsigned int len,
				  gfp_t gfp)
{
	unsigned int room = LL_RESERVED_SPACE(udev->ndev) + UET_ENCAP_ROOM;
	struct sk_buff *skb;

	skb = alloc_skb(room + len, gfp);
	if (skb)
		skb_reserve(skb, room);
	return skb;
}

static int uet_udp_xmit4(struct uet_net *un, struct sk_buff *skb,
			 const struct uet_ip_path *path, __be16 sport,
			 u8 tclass, u8 hop_limit)
{
	struct sock *sk = un->sock4->sk;
	struct flowi4 fl4 = {
		.saddr = path->saddr.s6_addr32[3],
		.daddr = path->daddr.s6_addr32[3],
		.flowi4_proto = IPPROTO_UDP,
		.flowi4_tos = tclass & INET_DSCP_MASK,
		.fl4_sport = sport,
		.fl4_dport = htons(UET_UDP_PORT),
	};
	struct rtable *rt;

	rt = ip_route_output_key(sock_net(sk), &fl4);
	if (IS_ERR(rt))
		return PTR_ERR(rt);
	udp_tunnel_xmit_skb(rt, sk, skb, fl4.saddr, fl4.daddr, tclass,
			    hop_limit ?: ip4_dst_hoplimit(&rt->dst),
			    htons(IP_DF), sport, htons(UET_UDP_PORT), false,
			    false);
	return 0;
}

static int uet_udp_xmit6(struct uet_dev *udev, struct uet_net *un,
			 struct sk_buff *skb, const struct uet_ip_path *path,
			 __be16 sport, u8 tclass, u8 hop_limit)
{
	struct sock *sk;
	struct flowi6 fl6 = {
		.saddr = path->saddr,
		.daddr = path->daddr,
		.flowi6_proto = IPPROTO_UDP,
		.fl6_sport = sport,
		.fl6_dport = htons(UET_UDP_PORT),
	};
	struct dst_entry *dst;

	if (!un->sock6)
		return -EAFNOSUPPORT;
	/* A link-local peer is reached through our own netdev. */
	if (ipv6_addr_type(&path->daddr) & IPV6_ADDR_LINKLOCAL)
		fl6.flowi6_oif = udev->ndev->ifindex;
	sk = un->sock6->sk;
	dst = ipv6_stub->ipv6_dst_lookup_flow(sock_net(sk), sk, &fl6, NULL);
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	udp_tunnel6_xmit_skb(dst, sk, skb, NULL, &fl6.saddr, &fl6.daddr,
			     tclass, hop_limit ?: ip6_dst_hoplimit(dst), 0,
			     sport, htons(UET_UDP_PORT), false);
	return 0;
}

/**
 * uet_udp_xmit - send a UET packet
 * @udev: the sending device
 * @skb: UET headers and payload; consumed
 * @path: source and destination addresses
 * @sport: the entropy, as UDP source port
 * @tclass: IP traffic class
 * @hop_limit: IP TTL or hop limit, 0 for the route's default
 *
 * Context: any; takes rcu_read_lock().
 * Return: 0, or an error (no route, device detached) and the skb freed.
 */
int uet_udp_xmit(struct uet_dev *udev, struct sk_buff *skb,
		 const struct uet_ip_path *path, __be16 sport, u8 tclass,
		 u8 hop_limit)
{
	unsigned int len = skb->len;
	struct uet_net *un;
	int err = -ENETDOWN;

	rcu_read_lock();
	un = rcu_dereference(udev->unet);
	if (un) {
		err = path->ipv4 ?
		      uet_udp_xmit4(un, skb, path, sport, tclass, hop_limit) :
		      uet_udp_xmit6(udev, un, skb, path, sport, tclass,
				    hop_limit);
	}
	rcu_read_unlock();
	if (err) {
		kfree_skb(skb);
		uet_count(udev, UET_CNT_TX_ERRORS);
		return err;
	}
	uet_count(udev, UET_CNT_TX_PKTS);
	uet_count_add(udev, UET_CNT_TX_BYTES, len);
	return 0;
}

static int __net_init uet_net_init(struct net *net)
{
	struct uet_net *un = net_generic(net, uet_net_id);

	INIT_LIST_HEAD(&un->devs);
	return 0;
}

/*
 * The netdevs of a dying namespace are gone before its subsystems exit,
 * but their uet devices unregister asynchronously: cut them off the
 * sockets here so nothing outlives the namespace.
 */
static void __net_exit uet_net_exit(struct net *net)
{
	struct uet_net *un = net_generic(net, uet_net_id);
	struct uet_dev *udev, *tmp;

	mutex_lock(&uet_net_lock);
	list_for_each_entry_safe(udev, tmp, &un->devs, net_node)
		__uet_udp_detach(udev, un);
	mutex_unlock(&uet_net_lock);
}

static struct pernet_operations uet_net_ops = {
	.init = uet_net_init,
	.exit = uet_net_exit,
	.id = &uet_net_id,
	.size = sizeof(struct uet_net),
};

int uet_udp_init(void)
{
	return register_pernet_subsys(&uet_net_ops);
}

void uet_udp_fini(void)
{
	unregister_pernet_subsys(&uet_net_ops);
}
