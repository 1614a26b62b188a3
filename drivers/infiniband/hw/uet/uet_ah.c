// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Address handles: an address vector (see uet_net.c) whose destination
 * is reachable through the device's netdev when the AH is created.
 */
#include "uet.h"

int uet_create_user_ah(struct ib_ah *ibah, struct rdma_ah_init_attr *init_attr,
		       struct ib_udata *udata)
{
	struct rdma_ah_attr *attr = init_attr->ah_attr;
	struct uet_dev *udev = to_uet_dev(ibah->device);
	struct uet_create_ah_resp resp = {};
	struct ib_device *ibdev = &udev->ibdev;
	struct uet_ah *ah = to_uet_ah(ibah);
	int err;

	if (!uet_udata_in_cleared(udata)) {
		ibdev_dbg(ibdev, "create_ah: unknown udata input\n");
		return -EINVAL;
	}
	if (!(rdma_ah_get_ah_flags(attr) & IB_AH_GRH)) {
		ibdev_dbg(ibdev, "create_ah: a GRH with a source GID is required\n");
		return -EINVAL;
	}
	err = uet_av_from_grh(&ah->av, rdma_ah_read_grh(attr));
	if (err) {
		ibdev_dbg(ibdev, "create_ah: bad destination %pI6 (%d)\n",
			  rdma_ah_read_grh(attr)->dgid.raw, err);
		return err;
	}
	err = uet_path_check(udev, &ah->av.path);
	if (err) {
		ibdev_dbg(ibdev, "create_ah: %pI6 unreachable (%d)\n",
			  &ah->av.path.daddr, err);
		return err;
	}

	err = xa_alloc_cyclic_bh(&udev->ahs, &ah->id, ah,
				 XA_LIMIT(1, UET_MAX_AH), &udev->ah_next,
				 GFP_KERNEL);
	if (err < 0)
		return err == -EBUSY ? -ENOMEM : err;

	resp.ah_id = ah->id;
	err = ib_copy_to_udata(udata, &resp, min(sizeof(resp), udata->outlen));
	if (err)
		goto err_erase;
	return 0;

err_erase:
	xa_erase_bh(&udev->ahs, ah->id);
	return err;
}

int uet_destroy_ah(struct ib_ah *ibah, u32 flags)
{
	struct uet_ah *ah = to_uet_ah(ibah);

	xa_erase_bh(&to_uet_dev(ibah->device)->ahs, ah->id);
	return 0;
}
