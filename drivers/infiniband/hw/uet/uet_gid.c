// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * GID table of a uet port: the IPv4 (as IPv4-mapped IPv6) and IPv6
 * addresses of the netdev.  A GID names the fabric address UET packets
 * are sent from, so an application picks its source address by GID index.
 *
 * Slots are stable: an address keeps its index while it exists, a
 * removed address frees its slot and a new one takes the lowest free
 * slot.  Every change is reported with IB_EVENT_GID_CHANGE, which makes
 * the core re-read the table through query_gid.
 */
#include <linux/inetdevice.h>
#include <net/addrconf.h>
#include <net/if_inet6.h>
#include <rdma/ib_cache.h>

#include "uet.h"

struct uet_addr_set {
	unsigned int n;
	union ib_gid gid[UET_GID_TBL_LEN];
};

static void uet_addr_set_add(struct uet_addr_set *set, const struct in6_addr *a)
{
	unsigned int i;

	if (set->n == UET_GID_TBL_LEN)
		return;
	for (i = 0; i < set->n; i++)
		if (!memcmp(set->gid[i].raw, a->s6_addr, sizeof(*a)))
			return;
	memcpy(set->gid[set->n++].raw, a->s6_addr, sizeof(*a));
}

/* Current addresses of @ndev: IPv4 first, then IPv6, at most the table size. */
static void uet_collect_addrs(struct net_device *ndev, struct uet_addr_set *set)
{
	const struct in_ifaddr *ifa;
	struct inet6_ifaddr *ifp;
	struct inet6_dev *idev;
	struct in_device *in_dev;
	struct in6_addr a;

	set->n = 0;

	rcu_read_lock();
	in_dev = __in_dev_get_rcu(ndev);
	if (in_dev) {
		in_dev_for_each_ifa_rcu(ifa, in_dev) {
			ipv6_addr_set_v4mapped(ifa->ifa_local, &a);
			uet_addr_set_add(set, &a);
		}
	}
	rcu_read_unlock();

	idev = in6_dev_get(ndev);
	if (idev) {
		read_lock_bh(&idev->lock);
		list_for_each_entry(ifp, &idev->addr_list, if_list)
			uet_addr_set_add(set, &ifp->addr);
		read_unlock_bh(&idev->lock);
		in6_dev_put(idev);
	}
}

static bool uet_addr_set_has(const struct uet_addr_set *set,
			     const union ib_gid *gid)
{
	unsigned int i;

	for (i = 0; i < set->n; i++)
		if (!memcmp(&set->gid[i], gid, sizeof(*gid)))
			return true;
	return false;
}

static bool uet_gid_table_has(const struct uet_gid_table *t,
			      const union ib_gid *gid)
{
	unsigned int i;

	for (i = 0; i < UET_GID_TBL_LEN; i++)
		if (!memcmp(&t->gid[i], gid, sizeof(*gid)))
			return true;
	return false;
}

/* Merge @set into the table keeping slots stable; returns true on change. */
static bool uet_gid_table_update(struct uet_gid_table *t,
				 const struct uet_addr_set *set)
{
	bool changed = false;
	unsigned int i, j;

	spin_lock_bh(&t->lock);
	for (i = 0; i < UET_GID_TBL_LEN; i++) {
		if (rdma_is_zero_gid(&t->gid[i]) ||
		    uet_addr_set_has(set, &t->gid[i]))
			continue;
		memset(&t->gid[i], 0, sizeof(t->gid[i]));
		changed = true;
	}
	for (j = 0; j < set->n; j++) {
		if (uet_gid_table_has(t, &set->gid[j]))
			continue;
		for (i = 0; i < UET_GID_TBL_LEN; i++) {
			if (rdma_is_zero_gid(&t->gid[i])) {
				t->gid[i] = set->gid[j];
				changed = true;
				break;
			}
		}
	}
	spin_unlock_bh(&t->lock);
	return changed;
}

static void uet_gid_refresh(struct uet_dev *udev, bool notify)
{
	struct uet_addr_set set;
	struct ib_event event = {
		.device = &udev->ibdev,
		.event = IB_EVENT_GID_CHANGE,
		.element.port_num = UET_PORT,
	};

	uet_collect_addrs(udev->ndev, &set);
	if (uet_gid_table_update(&udev->gids, &set) && notify)
		ib_dispatch_event(&event);
}

static void uet_gid_work(struct work_struct *work)
{
	struct uet_dev *udev = container_of(work, struct uet_dev, gid_work);

	uet_gid_refresh(udev, true);
}

/* Fill the table before registration; no event, nobody listens yet. */
void uet_gid_init(struct uet_dev *udev)
{
	spin_lock_init(&udev->gids.lock);
	INIT_WORK(&udev->gid_work, uet_gid_work);
	uet_gid_refresh(udev, false);
}

void uet_gid_fini(struct uet_dev *udev)
{
	cancel_work_sync(&udev->gid_work);
}

/*
 * Address notifiers may run in atomic context (IPv6), so the rescan runs
 * from a work item.  Called with a device reference held.
 */
void uet_gid_schedule_refresh(struct uet_dev *udev)
{
	queue_work(system_wq, &udev->gid_work);
}

int uet_query_gid(struct ib_device *ibdev, u32 port, int index,
		  union ib_gid *gid)
{
	struct uet_dev *udev = to_uet_dev(ibdev);

	if (index < 0 || index >= UET_GID_TBL_LEN)
		return -EINVAL;

	spin_lock_bh(&udev->gids.lock);
	*gid = udev->gids.gid[index];
	spin_unlock_bh(&udev->gids.lock);
	return 0;
}

/**
 * uet_gid_source - the source address for a destination without a GID
 * @udev: the device
 * @p: its daddr set; saddr is filled in
 *
 * An address table entry names only the peer; the packet leaves from the
 * port's first address of the same family, by GID index (an IPv6 peer
 * that is not link-local gets the first address that is not either).
 *
 * Return: 0, or -ENETUNREACH if the port has no such address.
 */
int uet_gid_source(struct uet_dev *udev, struct uet_ip_path *p)
{
	bool ll = ipv6_addr_type(&p->daddr) & IPV6_ADDR_LINKLOCAL;
	struct in6_addr *a;
	int err = -ENETUNREACH;
	unsigned int i;

	spin_lock_bh(&udev->gids.lock);
	for (i = 0; i < UET_GID_TBL_LEN; i++) {
		a = (struct in6_addr *)udev->gids.gid[i].raw;
		if (ipv6_addr_any(a) || ipv6_addr_v4mapped(a) != p->ipv4 ||
		    (!p->ipv4 &&
		     !!(ipv6_addr_type(a) & IPV6_ADDR_LINKLOCAL) != ll))
			continue;
		p->saddr = *a;
		err = 0;
		break;
	}
	spin_unlock_bh(&udev->gids.lock);
	return err;
}
