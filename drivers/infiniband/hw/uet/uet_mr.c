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

/*
 * Hide @mr from the data path and wait until nothing uses it; its key
 * stays reserved (a NULL entry of an allocating xarray is kept).
 */
static void uet_mr_hide(struct uet_dev *udev, struct uet_mr *mr)
{
	xa_store_bh(&udev->mrs, mr->ibmr.lkey >> UET_MR_KEY_TAG_BITS, NULL,
		    GFP_KERNEL);
	uet_mr_put(mr);
	wait_for_completion(&mr->released);
}

/* Publish a hidden @mr again under its key. */
static void uet_mr_show(struct uet_dev *udev, struct uet_mr *mr)
{
	refcount_set(&mr->ref, 1);
	reinit_completion(&mr->released);
	/* The slot is reserved: storing into it allocates nothing. */
	xa_store_bh(&udev->mrs, mr->ibmr.lkey >> UET_MR_KEY_TAG_BITS, mr,
		    GFP_KERNEL);
}

/* Unpublish @mr for good. */
static void uet_mr_remove(struct uet_dev *udev, struct uet_mr *mr)
{
	uet_mr_hide(udev, mr);
	xa_erase_bh(&udev->mrs, mr->ibmr.lkey >> UET_MR_KEY_TAG_BITS);
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

/*
 * Pin [start, start + length) and list its pages by index, so packets
 * find their bytes at once.
 */
static int uet_mr_pin(struct ib_device *ibdev, u64 start, u64 length,
		      int access, struct ib_umem **umemp, struct page ***pagesp)
{
	struct sg_page_iter iter;
	struct ib_umem *umem;
	struct page **pages;
	unsigned long n = 0;

	umem = ib_umem_get(ibdev, start, length, access);
	if (IS_ERR(umem)) {
		ibdev_dbg(ibdev, "reg_mr: cannot pin memory (%ld)\n",
			  PTR_ERR(umem));
		return PTR_ERR(umem);
	}
	pages = kvcalloc(ib_umem_num_pages(umem), sizeof(*pages), GFP_KERNEL);
	if (!pages) {
		ib_umem_release(umem);
		return -ENOMEM;
	}
	for_each_sgtable_page(&umem->sgt_append.sgt, &iter, 0)
		pages[n++] = sg_page_iter_page(&iter);
	*umemp = umem;
	*pagesp = pages;
	return 0;
}

static void uet_mr_unpin(struct ib_umem *umem, struct page **pages)
{
	kvfree(pages);
	ib_umem_release(umem);
}

/*
 * The optional driver command of reg_mr: a job key of @pd that restricts
 * remote access to the MR to the key's job.  Taken (*jkeyp) until the MR
 * is deregistered, so the key cannot be destroyed under it.
 */
static int uet_mr_get_cmd(struct uet_dev *udev, struct ib_pd *pd,
			  struct ib_udata *udata, struct uet_jkey **jkeyp)
{
	struct uet_reg_mr_cmd cmd;
	int err;

	*jkeyp = NULL;
	if (uet_udata_in_cleared(udata))
		return 0;
	err = uet_udata_get_cmd(udata, &cmd, sizeof(cmd));
	if (err)
		return err;
	if (cmd.comp_mask & ~UET_REG_MR_JOB) {
		ibdev_dbg(&udev->ibdev, "reg_mr: unsupported comp_mask %#x\n",
			  cmd.comp_mask);
		return -EOPNOTSUPP;
	}
	if (!(cmd.comp_mask & UET_REG_MR_JOB))
		return cmd.jkey ? -EINVAL : 0;
	*jkeyp = uet_jkey_get(udev, cmd.jkey, pd);
	return *jkeyp ? 0 : -EINVAL;
}

/* May a request of JobID @job reach the MR? */
bool uet_mr_job_ok(const struct uet_mr *mr, u32 job)
{
	return !mr->jkey || mr->jkey->job->id == job;
}

struct ib_mr *uet_reg_user_mr(struct ib_pd *ibpd, u64 start, u64 length,
			      u64 iova, int access, struct ib_udata *udata)
{
	struct uet_dev *udev = to_uet_dev(ibpd->device);
	struct ib_device *ibdev = &udev->ibdev;
	struct uet_jkey *jkey;
	struct uet_mr *mr;
	int err;

	err = uet_mr_get_cmd(udev, ibpd, udata, &jkey);
	if (err)
		return ERR_PTR(err);
	err = uet_mr_check_access(ibdev, access);
	if (err) {
		ibdev_dbg(ibdev, "reg_mr: access %#x refused (%d)\n", access,
			  err);
		goto err_jkey;
	}
	if (!length || length > UET_MAX_MR_SIZE) {
		ibdev_dbg(ibdev, "reg_mr: bad length %llu\n", length);
		err = -EINVAL;
		goto err_jkey;
	}

	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr) {
		err = -ENOMEM;
		goto err_jkey;
	}
	mr->jkey = jkey;

	err = uet_mr_pin(ibdev, start, length, access, &mr->umem, &mr->pages);
	if (err)
		goto err_free;
	mr->access = access;
	mr->ibmr.iova = iova;
	mr->ibmr.length = length;

	err = uet_mr_add(udev, mr);
	if (err)
		goto err_unpin;
	return &mr->ibmr;

err_unpin:
	uet_mr_unpin(mr->umem, mr->pages);
err_free:
	kfree(mr);
err_jkey:
	if (jkey)
		uet_jkey_put(jkey);
	return ERR_PTR(err);
}

/**
 * uet_rereg_user_mr - change a user MR's PD, access rights or memory
 * @ibmr: the MR
 * @flags: IB_MR_REREG_{PD,ACCESS,TRANS}
 * @start: new user address (TRANS)
 * @length: new length (TRANS)
 * @iova: new I/O virtual address (TRANS)
 * @access: new access rights (ACCESS)
 * @ibpd: the PD it belongs to from now on
 * @udata: driver data, none expected
 *
 * Done in place: the keys stay what they were, so a peer that has them
 * goes on using them.  New pages are pinned when the translation changes
 * or when pages pinned read-only become writable; nothing changes if
 * that fails.  The data path does not see the MR while it changes.
 *
 * Return: NULL (the MR was changed in place) or an ERR_PTR().
 */
struct ib_mr *uet_rereg_user_mr(struct ib_mr *ibmr, int flags, u64 start,
				u64 length, u64 iova, int access,
				struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct uet_dev *udev = to_uet_dev(ibmr->device);
	struct ib_device *ibdev = &udev->ibdev;
	struct uet_mr *mr = to_uet_mr(ibmr);
	struct ib_umem *umem = NULL;
	struct page **pages = NULL;
	int err;

	if (!uet_udata_in_cleared(udata)) {
		ibdev_dbg(ibdev, "rereg_mr: unknown udata input\n");
		return ERR_PTR(-EINVAL);
	}
	/* A job key belongs to a PD: a job's MR stays on its PD. */
	if (flags & IB_MR_REREG_PD && mr->jkey && ibpd != mr->jkey->pd) {
		ibdev_dbg(ibdev, "rereg_mr: the MR's job key is of its PD\n");
		return ERR_PTR(-EINVAL);
	}
	if (!(flags & IB_MR_REREG_ACCESS))
		access = mr->access;
	err = uet_mr_check_access(ibdev, access);
	if (err)
		return ERR_PTR(err);
	if (flags & IB_MR_REREG_TRANS) {
		if (!length || length > UET_MAX_MR_SIZE) {
			ibdev_dbg(ibdev, "rereg_mr: bad length %llu\n", length);
			return ERR_PTR(-EINVAL);
		}
	} else {
		start = mr->umem->address;
		length = mr->ibmr.length;
		iova = mr->ibmr.iova;
	}
	if (flags & IB_MR_REREG_TRANS ||
	    (ib_access_writable(access) && !ib_access_writable(mr->access))) {
		err = uet_mr_pin(ibdev, start, length, access, &umem, &pages);
		if (err)
			return ERR_PTR(err);
	}

	uet_mr_hide(udev, mr);
	if (umem) {
		swap(mr->umem, umem);
		swap(mr->pages, pages);
		mr->ibmr.iova = iova;
		mr->ibmr.length = length;
	}
	mr->access = access;
	mr->ibmr.pd = ibpd;
	uet_mr_show(udev, mr);
	if (umem)
		uet_mr_unpin(umem, pages);
	return NULL;
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
	if (mr->umem)
		uet_mr_unpin(mr->umem, mr->pages);
	if (mr->jkey)
		uet_jkey_put(mr->jkey);
	kfree(mr);
	return 0;
}
