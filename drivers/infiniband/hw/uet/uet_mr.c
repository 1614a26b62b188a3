// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory regions: user memory pinned through ib_umem, and the keys that
 * name a region in work requests and on the wire.
 */
#include <rdma/ib_umem.h>

#include "uet.h"

/* Access rights uet implements; the optional hints are ignored. */
#define UET_MR_ACCESS	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			 IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_ATOMIC | \
			 IB_ACCESS_HUGETLB | IB_ACCESS_OPTIONAL)

static int uet_mr_check_access(struct ib_device *ibdev, int access)
{
	int err = ib_check_mr_access(ibdev, access);

	if (err)
		return err;
	/* No memory windows, ODP or persistent flush. */
	if (access & ~UET_MR_ACCESS)
		return -EOPNOTSUPP;
	return 0;
}

/* Publish @mr under a fresh key; -ENOMEM once max_mr regions exist. */
static int uet_mr_add(struct uet_dev *udev, struct uet_mr *mr)
{
	u32 index;
	int err;

	err = xa_alloc_cyclic(&udev->mrs, &index, mr,
			      XA_LIMIT(1, UET_MAX_MR), &udev->mr_next,
			      GFP_KERNEL);
	if (err < 0)
		return err == -EBUSY ? -ENOMEM : err;

	mr->ibmr.lkey = index << UET_MR_KEY_TAG_BITS |
			(u8)atomic_inc_return(&udev->mr_tag);
	mr->ibmr.rkey = mr->ibmr.lkey;
	return 0;
}

static void uet_mr_remove(struct uet_dev *udev, struct uet_mr *mr)
{
	xa_erase(&udev->mrs, mr->ibmr.lkey >> UET_MR_KEY_TAG_BITS);
}

struct ib_mr *uet_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
			      u64 iova, int access, struct ib_udata *udata)
{
	struct uet_dev *udev = to_uet_dev(ibpd->device);
	struct ib_device *ibdev = &udev->ibdev;
	struct uet_mr *mr;
	int err;

	if (!uet_udata_in_cleared(udata)) {
		ibdev_dbg(ibdev, "reg_mr: unknown udata input\n");
		return ERR_PTR(-EINVAL);
	}
	err = uet_mr_check_access(ibdev, access);
	if (err) {
		ibdev_dbg(ibdev, "reg_mr: access %#x refused (%d)\n", access,
			  err);
		return ERR_PTR(err);
	}
	if (!length || length > UET_MAX_MR_SIZE) {
		ibdev_dbg(ibdev, "reg_mr: bad length %llu\n", length);
		return ERR_PTR(-EINVAL);
	}

	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr)
		return ERR_PTR(-ENOMEM);

	mr->umem = ib_umem_get(ibdev, start, length, access);
	if (IS_ERR(mr->umem)) {
		err = PTR_ERR(mr->umem);
		ibdev_dbg(ibdev, "reg_mr: cannot pin memory (%d)\n", err);
		goto err_free;
	}
	mr->access = access;
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;

	err = uet_mr_add(udev, mr);
	if (err)
		goto err_release;
	return &mr->ibmr;

err_release:
	ib_umem_release(mr->umem);
err_free:
	kfree(mr);
	return ERR_PTR(err);
}

/* All of memory, for kernel consumers. */
struct ib_mr *uet_get_dma_mr(struct ib_pd *ibpd, int access)
{
	struct uet_dev *udev = to_uet_dev(ibpd->device);
	struct uet_mr *mr;
	int err;

	err = uet_mr_check_access(&udev->ibdev, access);
	if (err)
		return ERR_PTR(err);

	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	mr->access = access;
	mr->ibmr.length = U64_MAX;

	err = uet_mr_add(udev, mr);
	if (err) {
		kfree(mr);
		return ERR_PTR(err);
	}
	return &mr->ibmr;
}

int uet_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	struct uet_mr *mr = to_uet_mr(ibmr);

	uet_mr_remove(to_uet_dev(ibmr->device), mr);
	ib_umem_release(mr->umem);
	kfree(mr);
	return 0;
}
