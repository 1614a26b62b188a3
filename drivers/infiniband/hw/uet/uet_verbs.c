// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Device-level verbs: device and port queries, P_Key, user contexts.
 */
#include <rdma/ib_mad.h>

#include "uet_pds.h"

/* A verb that takes no driver input accepts only zeroes there. */
bool uet_udata_in_cleared(struct ib_udata *udata)
{
	return !udata || !udata->inlen ||
	       ib_is_udata_cleared(udata, 0, udata->inlen);
}

/*
 * Copy a driver command of @size bytes from user space.  A shorter
 * command is malformed; a longer one (from a newer provider) is accepted
 * only if everything beyond what this driver knows is zero.
 */
int uet_udata_get_cmd(struct ib_udata *udata, void *cmd, size_t size)
{
	return uet_udata_get_cmd_min(udata, cmd, size, size);
}

/*
 * The same for a command that grew: one from an older provider, of at
 * least @min bytes, reads as if the fields it lacks were zero.
 */
int uet_udata_get_cmd_min(struct ib_udata *udata, void *cmd, size_t min,
			  size_t size)
{
	if (!udata || udata->inlen < min)
		return -EINVAL;
	if (udata->inlen > size &&
	    !ib_is_udata_cleared(udata, size, udata->inlen - size))
		return -EINVAL;
	memset(cmd, 0, size);
	return ib_copy_from_udata(cmd, udata, min(udata->inlen, size));
}

int uet_query_device(struct ib_device *ibdev, struct ib_device_attr *attr,
		     struct ib_udata *udata)
{
	if (!uet_udata_in_cleared(udata)) {
		ibdev_dbg(ibdev, "query_device: unknown udata input\n");
		return -EINVAL;
	}

	/* The core fills ibdev->attrs from here at registration. */
	memset(attr, 0, sizeof(*attr));
	attr->kernel_cap_flags = IBK_ALLOW_USER_UNREG;
	attr->sys_image_guid = ibdev->node_guid;
	attr->vendor_id = UET_VENDOR_ID;
	attr->max_mr_size = UET_MAX_MR_SIZE;
	attr->page_size_cap = PAGE_SIZE;
	attr->max_qp = UET_MAX_QP;
	attr->max_qp_wr = UET_MAX_QP_WR;
	/* No SRQ resize: its ring is mapped by the process at a fixed size. */
	attr->device_cap_flags = IB_DEVICE_RC_RNR_NAK_GEN |
				 IB_DEVICE_SYS_IMAGE_GUID |
				 IB_DEVICE_ATOMIC_WRITE;
	attr->max_send_sge = UET_MAX_SGE;
	attr->max_recv_sge = UET_MAX_SGE;
	attr->max_sge_rd = UET_MAX_SGE;
	attr->max_cq = UET_MAX_CQ;
	attr->max_cqe = UET_MAX_CQE;
	attr->max_mr = UET_MAX_MR;
	attr->max_pd = UET_MAX_PD;
	attr->max_qp_rd_atom = UET_MAX_RD_ATOMIC;
	attr->max_qp_init_rd_atom = UET_MAX_RD_ATOMIC;
	attr->max_res_rd_atom = UET_MAX_RD_ATOMIC * UET_MAX_QP;
	attr->atomic_cap = IB_ATOMIC_HCA;
	attr->max_ah = UET_MAX_AH;
	attr->max_srq = UET_MAX_SRQ;
	attr->max_srq_wr = UET_MAX_SRQ_WR;
	attr->max_srq_sge = UET_MAX_SGE;
	attr->max_pkeys = UET_PKEY_TBL_LEN;
	return 0;
}

int uet_query_port(struct ib_device *ibdev, u32 port,
		   struct ib_port_attr *attr)
{
	struct uet_dev *udev = to_uet_dev(ibdev);
	int mtu = READ_ONCE(udev->ndev->mtu) - UET_PKT_OVERHEAD;
	int err;

	attr->state = uet_port_state(udev);
	attr->phys_state = attr->state == IB_PORT_ACTIVE ?
			   IB_PORT_PHYS_STATE_LINK_UP :
			   IB_PORT_PHYS_STATE_DISABLED;
	attr->max_mtu = IB_MTU_4096;
	attr->active_mtu = ib_mtu_int_to_enum(mtu);
	attr->gid_tbl_len = UET_GID_TBL_LEN;
	attr->max_msg_sz = UET_MAX_MSG_SIZE;
	attr->pkey_tbl_len = UET_PKEY_TBL_LEN;
	attr->max_vl_num = 1;

	err = ib_get_eth_speed(ibdev, port, &attr->active_speed,
			       &attr->active_width);
	if (err)
		ibdev_dbg(ibdev, "no link speed from the netdev (%d)\n", err);
	return 0;
}

int uet_query_pkey(struct ib_device *ibdev, u32 port, u16 index, u16 *pkey)
{
	if (index >= UET_PKEY_TBL_LEN)
		return -EINVAL;
	*pkey = IB_DEFAULT_PKEY_FULL;
	return 0;
}

int uet_get_port_immutable(struct ib_device *ibdev, u32 port,
			   struct ib_port_immutable *immutable)
{
	/* UET is its own protocol: no IB, RoCE or iWARP capability bits. */
	immutable->core_cap_flags = 0;
	immutable->gid_tbl_len = UET_GID_TBL_LEN;
	immutable->pkey_tbl_len = UET_PKEY_TBL_LEN;
	return 0;
}

enum rdma_link_layer uet_get_link_layer(struct ib_device *ibdev, u32 port)
{
	return IB_LINK_LAYER_ETHERNET;
}

/* A context owns the doorbell page its send queues share. */
int uet_alloc_ucontext(struct ib_ucontext *ibuctx, struct ib_udata *udata)
{
	struct uet_ucontext *uctx = to_uet_ucontext(ibuctx);
	struct uet_dev *udev = to_uet_dev(ibuctx->device);
	struct uet_alloc_ucontext_resp resp = {};
	struct uet_alloc_ucontext_cmd cmd = {};
	struct ib_device *ibdev = ibuctx->device;
	int err;

	BUILD_BUG_ON(sizeof(struct uet_doorbell) > PAGE_SIZE);

	err = uet_udata_get_cmd(udata, &cmd, sizeof(cmd));
	if (err) {
		ibdev_dbg(ibdev, "ucontext: bad command (%d)\n", err);
		return err;
	}
	if (cmd.reserved_20) {
		ibdev_dbg(ibdev, "ucontext: reserved field set\n");
		return -EINVAL;
	}
	if (cmd.comp_mask) {
		ibdev_dbg(ibdev, "ucontext: unsupported comp_mask %#x\n",
			  cmd.comp_mask);
		return -EOPNOTSUPP;
	}

	uctx->db = uet_mmap_alloc(ibuctx, PAGE_SIZE);
	if (IS_ERR(uctx->db))
		return PTR_ERR(uctx->db);
	uctx->doorbell = uctx->db->kva;
	/* The send engine starts asleep: the first post must kick it. */
	WRITE_ONCE(uctx->doorbell->flags, UET_DB_NEED_WAKEUP);
	uet_tx_ctx_init(uctx);
	uctx->mm = current->mm;
	mmgrab(uctx->mm);

	resp.db_mmap_offset = rdma_user_mmap_get_offset(&uctx->db->rdma_entry);
	resp.db_mmap_size = PAGE_SIZE;
	resp.comp_mask = UET_UCTX_RESP_JOB_LIMITS;
	resp.max_jobs = UET_MAX_JOBS;
	resp.max_jkeys = UET_MAX_JKEYS;
	resp.max_job_addrs = UET_MAX_JOB_ADDRS;
	err = ib_copy_to_udata(udata, &resp, min(sizeof(resp), udata->outlen));
	if (err) {
		mmdrop(uctx->mm);
		rdma_user_mmap_entry_remove(&uctx->db->rdma_entry);
		return err;
	}
	spin_lock_bh(&udev->uctx_lock);
	list_add_tail(&uctx->dev_node, &udev->uctxs);
	spin_unlock_bh(&udev->uctx_lock);
	return 0;
}

void uet_dealloc_ucontext(struct ib_ucontext *ibuctx)
{
	struct uet_ucontext *uctx = to_uet_ucontext(ibuctx);
	struct uet_dev *udev = to_uet_dev(ibuctx->device);

	spin_lock_bh(&udev->uctx_lock);
	list_del(&uctx->dev_node);
	spin_unlock_bh(&udev->uctx_lock);
	uet_tx_ctx_fini(uctx);
	mmdrop(uctx->mm);
	rdma_user_mmap_entry_remove(&uctx->db->rdma_entry);
}

int uet_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct uet_dev *udev = to_uet_dev(ibpd->device);

	if (!uet_udata_in_cleared(udata)) {
		ibdev_dbg(&udev->ibdev, "alloc_pd: unknown udata input\n");
		return -EINVAL;
	}
	if (atomic_inc_return(&udev->num_pds) > UET_MAX_PD) {
		atomic_dec(&udev->num_pds);
		ibdev_dbg(&udev->ibdev, "alloc_pd: max_pd reached\n");
		return -ENOMEM;
	}
	return 0;
}

int uet_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	atomic_dec(&to_uet_dev(ibpd->device)->num_pds);
	return 0;
}
