// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Following the netdev under a uet device: unregistration removes the
 * device, link state drives the port state, address changes drive the
 * GID table.  Only public notifier chains are used; the netdev itself is
 * never modified.
 */
#include <linux/inetdevice.h>
#include <net/addrconf.h>

#include "uet.h"

enum ib_port_state uet_port_state(struct uet_dev *udev)
{
	return netif_running(udev->ndev) && netif_carrier_ok(udev->ndev) ?
	       IB_PORT_ACTIVE : IB_PORT_DOWN;
}

/* Report a port state change once, as the event the new state implies. */
static void uet_port_event(struct uet_dev *udev)
{
	enum ib_port_state state = uet_port_state(udev);
	struct ib_event event = {
		.device = &udev->ibdev,
		.element.port_num = UET_PORT,
	};

	if (state == udev->port_state)
		return;
	udev->port_state = state;
	event.event = state == IB_PORT_ACTIVE ? IB_EVENT_PORT_ACTIVE :
						IB_EVENT_PORT_ERR;
	ib_dispatch_event(&event);
}

static struct uet_dev *uet_dev_get_by_netdev(struct net_device *ndev)
{
	struct ib_device *ibdev;

	ibdev = ib_device_get_by_netdev(ndev, (enum rdma_driver_id)RDMA_DRIVER_UET);
	return ibdev ? to_uet_dev(ibdev) : NULL;
}

static int uet_netdev_event(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct net_device *ndev = netdev_notifier_info_to_dev(ptr);
	struct uet_dev *udev = uet_dev_get_by_netdev(ndev);

	if (!udev)
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_UNREGISTER:
		/* RTNL is held: unregistration must not wait here. */
		ib_unregister_device_queued(&udev->ibdev);
		break;
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		uet_port_event(udev);
		break;
	default:
		break;
	}

	ib_device_put(&udev->ibdev);
	return NOTIFY_DONE;
}

static void uet_addr_event(struct net_device *ndev)
{
	struct uet_dev *udev = uet_dev_get_by_netdev(ndev);

	if (!udev)
		return;
	uet_gid_schedule_refresh(udev);
	ib_device_put(&udev->ibdev);
}

static int uet_inetaddr_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	struct in_ifaddr *ifa = ptr;

	uet_addr_event(ifa->ifa_dev->dev);
	return NOTIFY_DONE;
}

static int uet_inet6addr_event(struct notifier_block *nb, unsigned long event,
			       void *ptr)
{
	struct inet6_ifaddr *ifp = ptr;

	uet_addr_event(ifp->idev->dev);
	return NOTIFY_DONE;
}

static struct notifier_block uet_netdev_nb = {
	.notifier_call = uet_netdev_event,
};

static struct notifier_block uet_inetaddr_nb = {
	.notifier_call = uet_inetaddr_event,
};

static struct notifier_block uet_inet6addr_nb = {
	.notifier_call = uet_inet6addr_event,
};

int uet_netdev_notifiers_register(void)
{
	int err;

	err = register_netdevice_notifier(&uet_netdev_nb);
	if (err)
		return err;
	err = register_inetaddr_notifier(&uet_inetaddr_nb);
	if (err)
		goto err_unregister_netdev;
	err = register_inet6addr_notifier(&uet_inet6addr_nb);
	if (err)
		goto err_unregister_inetaddr;
	return 0;

err_unregister_inetaddr:
	unregister_inetaddr_notifier(&uet_inetaddr_nb);
err_unregister_netdev:
	unregister_netdevice_notifier(&uet_netdev_nb);
	return err;
}

void uet_netdev_notifiers_unregister(void)
{
	unregister_inet6addr_notifier(&uet_inet6addr_nb);
	unregister_inetaddr_notifier(&uet_inetaddr_nb);
	unregister_netdevice_notifier(&uet_netdev_nb);
}
