// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Ultra Ethernet Transport (uet) RDMA driver: module, device creation
 * through "rdma link add NAME type uet netdev DEV", and registration.
 */
#include <linux/if_arp.h>
#include <linux/module.h>
#include <net/addrconf.h>
#include <rdma/rdma_netlink.h>

#include "uet_pds.h"

MODULE_AUTHOR("The uet developers");
MODULE_DESCRIPTION("Ultra Ethernet Transport (UET) RDMA driver");
MODULE_LICENSE("Dual BSD/GPL");

/* Serialises the "one device per netdev" check with registration. */
static DEFINE_MUTEX(uet_newlink_lock);

static void uet_dealloc_driver(struct ib_device *ibdev)
{
	struct uet_dev *udev = to_uet_dev(ibdev);

	/* Nothing is sent or received from here on. */
	uet_udp_detach(udev);
	uet_pdc_fini_dev(udev);
	uet_gid_fini(udev);
	/* The core destroyed every MR and AH before this. */
	WARN_ON(!xa_empty(&udev->mrs));
	WARN_ON(!xa_empty(&udev->ahs));
	WARN_ON(!xa_empty(&udev->qps));
	WARN_ON(!xa_empty(&udev->jkeys));
	uet_job_fini_dev(udev);
	xa_destroy(&udev->jkeys);
	xa_destroy(&udev->mrs);
	xa_destroy(&udev->ahs);
	xa_destroy(&udev->qps);
}

static const struct ib_device_ops uet_dev_ops = {
	.owner = THIS_MODULE,
	.driver_id = (enum rdma_driver_id)RDMA_DRIVER_UET,
	.uverbs_abi_ver = UET_UVERBS_ABI_VERSION,

	.alloc_hw_port_stats = uet_alloc_hw_port_stats,
	.alloc_pd = uet_alloc_pd,
	.alloc_ucontext = uet_alloc_ucontext,
	.create_cq = uet_create_cq,
	.create_qp = uet_create_qp,
	.create_srq = uet_create_srq,
	.create_user_ah = uet_create_user_ah,
	.dealloc_driver = uet_dealloc_driver,
	.dealloc_pd = uet_dealloc_pd,
	.dealloc_ucontext = uet_dealloc_ucontext,
	.dereg_mr = uet_dereg_mr,
	.destroy_ah = uet_destroy_ah,
	.destroy_cq = uet_destroy_cq,
	.destroy_qp = uet_destroy_qp,
	.destroy_srq = uet_destroy_srq,
	.disassociate_ucontext = uet_disassociate_ucontext,
	.fill_res_cq_entry = uet_fill_res_cq_entry,
	.fill_res_qp_entry = uet_fill_res_qp_entry,
	.get_dma_mr = uet_get_dma_mr,
	.get_hw_stats = uet_get_hw_stats,
	.get_link_layer = uet_get_link_layer,
	.get_port_immutable = uet_get_port_immutable,
	.mmap = uet_mmap,
	.mmap_free = uet_mmap_free,
	.modify_qp = uet_modify_qp,
	.modify_srq = uet_modify_srq,
	.post_recv = uet_post_recv,
	.post_send = uet_post_send,
	.query_device = uet_query_device,
	.query_gid = uet_query_gid,
	.query_pkey = uet_query_pkey,
	.query_port = uet_query_port,
	.query_qp = uet_query_qp,
	.query_srq = uet_query_srq,
	.reg_user_mr = uet_reg_user_mr,
	.rereg_user_mr = uet_rereg_user_mr,
	.resize_cq = uet_resize_cq,

	INIT_RDMA_OBJ_SIZE(ib_ah, uet_ah, ibah),
	INIT_RDMA_OBJ_SIZE(ib_cq, uet_cq, ibcq),
	INIT_RDMA_OBJ_SIZE(ib_pd, uet_pd, ibpd),
	INIT_RDMA_OBJ_SIZE(ib_qp, uet_qp, ibqp),
	INIT_RDMA_OBJ_SIZE(ib_srq, uet_srq, ibsrq),
	INIT_RDMA_OBJ_SIZE(ib_ucontext, uet_ucontext, ibucontext),
};

/* The driver's uverbs objects: UET jobs and job keys. */
static const struct uapi_definition uet_uapi_defs[] = {
	UAPI_DEF_CHAIN(uet_job_defs),
	UAPI_DEF_CHAIN(uet_jkey_defs),
	{}
};

static int uet_dev_init(struct uet_dev *udev, struct net_device *ndev)
{
	struct ib_device *ibdev = &udev->ibdev;
	int err;

	udev->ndev = ndev;
	ibdev->node_type = RDMA_NODE_UNSPECIFIED;
	ibdev->phys_port_cnt = 1;
	ibdev->num_comp_vectors = 1;
	addrconf_addr_eui48((u8 *)&ibdev->node_guid, ndev->dev_addr);
	strscpy(ibdev->node_desc, "uet", sizeof(ibdev->node_desc));
	/* The doorbell kicks: POST_SEND and POST_RECV without WRs. */
	ibdev->uverbs_cmd_mask |= BIT_ULL(IB_USER_VERBS_CMD_POST_SEND) |
				  BIT_ULL(IB_USER_VERBS_CMD_POST_RECV);
	ib_set_device_ops(ibdev, &uet_dev_ops);
	ibdev->driver_def = uet_uapi_defs;
	/* Before anything can fail: dealloc_driver undoes it. */
	uet_gid_init(udev);
	/*
	 * The data path looks MRs and QPs up from softirq context.  All
	 * five locks are of one lockdep class (one init site): each is
	 * taken with softirqs off.
	 */
	xa_init_flags(&udev->mrs, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_BH);
	xa_init_flags(&udev->ahs, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_BH);
	xa_init_flags(&udev->qps, XA_FLAGS_ALLOC | XA_FLAGS_LOCK_BH);
	xa_init_flags(&udev->jobs, XA_FLAGS_LOCK_BH);
	xa_init_flags(&udev->jkeys, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_BH);
	uet_pdc_init_dev(udev);
	spin_lock_init(&udev->atomic_lock);
	spin_lock_init(&udev->uctx_lock);
	INIT_LIST_HEAD(&udev->uctxs);

	err = ib_device_set_netdev(ibdev, ndev, UET_PORT);
	if (err)
		return err;

	udev->port_state = uet_port_state(udev);
	return uet_udp_attach(udev);
}

static int uet_newlink(const char *ibdev_name, struct net_device *ndev)
{
	struct ib_device *exists;
	struct uet_dev *udev;
	int err;

	if (ndev->type != ARPHRD_ETHER) {
		netdev_info(ndev, "uet: not an Ethernet device\n");
		return -EINVAL;
	}

	mutex_lock(&uet_newlink_lock);
	/* The core would refuse a taken name with ENFILE; say what it is. */
	exists = ib_device_get_by_name(ibdev_name, RDMA_DRIVER_UNKNOWN);
	if (!exists)
		exists = ib_device_get_by_netdev(ndev,
						 (enum rdma_driver_id)RDMA_DRIVER_UET);
	if (exists) {
		ib_device_put(exists);
		err = -EEXIST;
		goto out_unlock;
	}

	udev = ib_alloc_device(uet_dev, ibdev);
	if (!udev) {
		err = -ENOMEM;
		goto out_unlock;
	}

	err = uet_dev_init(udev, ndev);
	if (err)
		goto err_dealloc;

	ib_mark_name_assigned_by_user(&udev->ibdev);
	err = ib_register_device(&udev->ibdev, ibdev_name, NULL);
	if (err)
		goto err_dealloc;
	/* From here on the device belongs to the core. */
	goto out_unlock;

err_dealloc:
	ib_dealloc_device(&udev->ibdev);
out_unlock:
	mutex_unlock(&uet_newlink_lock);
	return err;
}

static struct rdma_link_ops uet_link_ops = {
	.type = "uet",
	.newlink = uet_newlink,
};

static int __init uet_init(void)
{
	int err;

	err = uet_tx_init();
	if (err)
		return err;
	err = uet_udp_init();
	if (err)
		goto err_tx;
	err = uet_netdev_notifiers_register();
	if (err)
		goto err_udp;
	rdma_link_register(&uet_link_ops);
	return 0;

err_udp:
	uet_udp_fini();
err_tx:
	uet_tx_fini();
	return err;
}

static void __exit uet_exit(void)
{
	rdma_link_unregister(&uet_link_ops);
	ib_unregister_driver((enum rdma_driver_id)RDMA_DRIVER_UET);
	uet_netdev_notifiers_unregister();
	uet_udp_fini();
	uet_tx_fini();
}

module_init(uet_init);
module_exit(uet_exit);
MODULE_ALIAS_RDMA_LINK("uet");
