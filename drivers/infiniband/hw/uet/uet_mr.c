// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory regions: user memory pinned through ib_umem, and the keys that
 * name a region in work requests and on the wire.
 */
#include <linux/highmem.h>
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

	refcount_set(&mr->ref, 1);
	init_completion(&mr->released);
	err = xa_alloc_cyclic_bh(&udev->mrs, &index, mr,
				 XA_LIMIT(1, UET_MAX_MR), &udev->mr_next,
				 GFP_KERNEL);
	if (err < 0)
		return err == -EBUSY ? -ENOMEM : err;

	mr->ibmr.lkey = index << UET_MR_KEY_TAG_BITS |
			(u8)atomic_inc_return(&udev->mr_tag);
	mr->ibmr.rkey = mr->ibmr.lkey;
	return 0;
}

/* Unpublish @mr and wait until the data path no longer uses it. */
static void uet_mr_remove(struct uet_dev *udev, struct uet_mr *mr)
{
	xa_erase_bh(&udev->mrs, mr->ibmr.lkey >> UET_MR_KEY_TAG_BITS);
	uet_mr_put(mr);
	wait_for_completion(&mr->released);
}

/**
 * uet_mr_get - the user MR a key names, for the data path
 * @udev: the device
 * @key: an lkey or rkey
 * @pd: the PD the MR must belong to
 *
 * Context: any.
 * Return: the MR with a reference (uet_mr_put()), or NULL when no live
 * user MR of @pd has this key.
 */
struct uet_mr *uet_mr_get(struct uet_dev *udev, u32 key, struct ib_pd *pd)
{
	struct uet_mr *mr;

	xa_lock_bh(&udev->mrs);
	mr = xa_load(&udev->mrs, key >> UET_MR_KEY_TAG_BITS);
	if (mr && (mr->ibmr.lkey != key || mr->ibmr.pd != pd || !mr->umem ||
		   !refcount_inc_not_zero(&mr->ref)))
		mr = NULL;
	xa_unlock_bh(&udev->mrs);
	return mr;
}

void uet_mr_put(struct uet_mr *mr)
{
	if (refcount_dec_and_test(&mr->ref))
		complete(&mr->released);
}

/* Is [iova, iova + len) inside the region? */
bool uet_mr_covers(const struct uet_mr *mr, u64 iova, u64 len)
{
	return iova >= mr->ibmr.iova && len <= mr->ibmr.length &&
	       iova - mr->ibmr.iova <= mr->ibmr.length - len;
}

/**
 * uet_mr_copy - copy between a kernel buffer and a region
 * @mr: the region, referenced
 * @iova: where in it; the caller checked the range with uet_mr_covers()
 * @buf: the kernel buffer
 * @len: bytes
 * @to_mr: direction
 *
 * Context: any.
 */
void uet_mr_copy(struct uet_mr *mr, u64 iova, void *buf, u32 len, bool to_mr)
{
	u64 off = iova - mr->ibmr.iova + ib_umem_offset(mr->umem);

	while (len) {
		struct page *page = mr->pages[off >> PAGE_SHIFT];
		unsigned int po = offset_in_page(off);
		unsigned int n = min_t(u32, len, PAGE_SIZE - po);
		void *va = kmap_local_page(page);

		if (to_mr) {
			memcpy(va + po, buf, n);
			flush_dcache_page(page);
		} else {
			memcpy(buf, va + po, n);
		}
		kunmap_local(va);
		buf += n;
		off += n;
		len -= n;
	}
}

/**
 * uet_sge_copy - copy between a kernel buffer and a scatter/gather list
 * @udev: the device
 * @pd: the PD every SGE's MR must belong to
 * @sge: the list
 * @num_sge: its length, checked against the WQE's limit by the caller
 * @off: where in the bytes the list describes
 * @buf: the kernel buffer
 * @len: bytes
 * @to_mr: direction; writing needs local write access
 *
 * Context: any.
 * Return: 0, or -EFAULT when an SGE names no suitable MR or the list is
 * too short.
 */
int uet_sge_copy(struct uet_dev *udev, struct ib_pd *pd,
		 const struct uet_sge *sge, u32 num_sge, u64 off, void *buf,
		 u32 len, bool to_mr)
{
	struct uet_mr *mr;
	u32 i, n;

	for (i = 0; i < num_sge && len; i++, sge++) {
		if (off >= sge->length) {
			off -= sge->length;
			continue;
		}
		n = min_t(u64, len, sge->length - off);
		mr = uet_mr_get(udev, sge->lkey, pd);
		if (!mr)
			return -EFAULT;
		if (!uet_mr_covers(mr, sge->addr, sge->length) ||
		    (to_mr && !(mr->access & IB_ACCESS_LOCAL_WRITE))) {
			uet_mr_put(mr);
			return -EFAULT;
		}
		uet_mr_copy(mr, sge->addr + off, buf, n, to_mr);
		uet_mr_put(mr);
		buf += n;
		len -= n;
		off = 0;
	}
	return len ? -EFAULT : 0;
}

/* The pinned pages, by index, so packets find their bytes at once. */
static int uet_mr_map_pages(struct uet_mr *mr)
{
	struct ib_umem *umem = mr->umem;
	struct sg_page_iter iter;
	unsigned long n = 0;

	mr->pages = kvcalloc(ib_umem_num_pages(umem), sizeof(*mr->pages),
			     GFP_KERNEL);
	if (!mr->pages)
		return -ENOMEM;
	for_each_sgtable_page(&umem->sgt_append.sgt, &iter, 0)
		mr->pages[n++] = sg_page_iter_page(&iter);
	return 0;
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
	err = uet_mr_map_pages(mr);
	if (err)
		goto err_release;

	err = uet_mr_add(udev, mr);
	if (err)
		goto err_free_pages;
	return &mr->ibmr;

err_free_pages:
	kvfree(mr->pages);
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
	kvfree(mr->pages);
	ib_umem_release(mr->umem);
	kfree(mr);
	return 0;
}
