// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Memory of user-mapped queues and its mmap entries.
 *
 * The pages are inserted into the process with remap_vmalloc_range(),
 * which takes a reference on every page: a queue destroyed while still
 * mapped keeps its pages until the process unmaps them, and the core
 * defers mmap_free until then.
 *
 * When the device goes away under a process, the core destroys the
 * process's queues and then asks the driver to disassociate the context:
 * the mappings are pointed at a scratch page (uet_disassociate_ucontext).
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/vmalloc.h>

#include "uet.h"
#include "uet_queue.h"

static struct uet_mmap_entry *to_uet_mmap(struct rdma_user_mmap_entry *e)
{
	return container_of(e, struct uet_mmap_entry, rdma_entry);
}

/**
 * uet_mmap_alloc - zeroed memory user space can map once
 * @uctx: the context whose file maps it
 * @size: bytes, a multiple of PAGE_SIZE
 *
 * Return: the entry, or an ERR_PTR.  rdma_user_mmap_entry_remove() ends
 * it; the memory goes when the last mapping does (uet_mmap_free).
 */
struct uet_mmap_entry *uet_mmap_alloc(struct ib_ucontext *uctx, size_t size)
{
	struct uet_mmap_entry *entry;
	int err;

	entry = kzalloc(sizeof(*entry), GFP_KERNEL);
	if (!entry)
		return ERR_PTR(-ENOMEM);
	entry->kva = vmalloc_user(size);
	if (!entry->kva) {
		err = -ENOMEM;
		goto err_free_entry;
	}
	err = rdma_user_mmap_entry_insert(uctx, &entry->rdma_entry, size);
	if (err)
		goto err_free_mem;
	return entry;

err_free_mem:
	vfree(entry->kva);
err_free_entry:
	kfree(entry);
	return ERR_PTR(err);
}

int uet_queue_init(struct ib_ucontext *uctx, struct uet_queue *q,
		   u32 entries, u32 entry_size)
{
	struct uet_mmap_entry *entry;

	entry = uet_mmap_alloc(uctx, PAGE_ALIGN(UET_QUEUE_HDR_SIZE +
						(size_t)entries * entry_size));
	if (IS_ERR(entry))
		return PTR_ERR(entry);
	q->mmap = entry;
	q->hdr = entry->kva;
	q->buf = entry->kva + UET_QUEUE_HDR_SIZE;
	q->entries = entries;
	q->entry_size = entry_size;
	return 0;
}

/* The memory goes when the last mapping does (uet_mmap_free). */
void uet_queue_fini(struct uet_queue *q)
{
	rdma_user_mmap_entry_remove(&q->mmap->rdma_entry);
}

u64 uet_queue_mmap_offset(const struct uet_queue *q)
{
	return rdma_user_mmap_get_offset(&q->mmap->rdma_entry);
}

size_t uet_queue_size(const struct uet_queue *q)
{
	return q->mmap->rdma_entry.npages << PAGE_SHIFT;
}

int uet_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma)
{
	struct rdma_user_mmap_entry *rdma_entry;
	struct uet_mmap_entry *entry;
	size_t size;
	int err;

	rdma_entry = rdma_user_mmap_entry_get(uctx, vma);
	if (!rdma_entry)
		return -EINVAL;
	entry = to_uet_mmap(rdma_entry);
	size = rdma_entry->npages << PAGE_SHIFT;

	if (vma->vm_end - vma->vm_start != size) {
		ibdev_dbg(uctx->device, "mmap: length %lu, queue is %zu\n",
			  vma->vm_end - vma->vm_start, size);
		err = -EINVAL;
		goto out_put;
	}
	/* One mapping per queue: the provider maps each queue once. */
	if (atomic_cmpxchg(&entry->mapped, 0, 1)) {
		err = -EBUSY;
		goto out_put;
	}
	err = remap_vmalloc_range(vma, entry->kva, 0);
	if (err)
		atomic_set(&entry->mapped, 0);
out_put:
	rdma_user_mmap_entry_put(rdma_entry);
	return err;
}

void uet_mmap_free(struct rdma_user_mmap_entry *rdma_entry)
{
	struct uet_mmap_entry *entry = to_uet_mmap(rdma_entry);

	vfree(entry->kva);
	kfree(entry);
}

/**
 * uet_disassociate_ucontext - revoke the mappings of a context
 * @ibuctx: the context; its queues are destroyed already
 *
 * The core zaps only the mappings it tracks, which are PFN mappings; the
 * queues are vmalloc pages, so uet revokes their mappings itself: every
 * mapping of the context's file in the process that created it now maps
 * one zeroed page, as the core does for its own after a zap.  The process
 * reads empty queues, its writes go nowhere, and it never faults; the old
 * pages are freed once no mapping holds them.
 *
 * Context: process context; takes the process's mmap lock.
 */
void uet_disassociate_ucontext(struct ib_ucontext *ibuctx)
{
	struct uet_ucontext *uctx = to_uet_ucontext(ibuctx);
	struct mm_struct *mm = uctx->mm;
	struct vm_area_struct *vma;
	struct vma_iterator vmi;
	struct page *scratch;
	unsigned long addr;

	/* An exiting process takes its mappings with it. */
	if (!mmget_not_zero(mm))
		return;
	/* Without it an access after the zap raises SIGBUS, as in the core. */
	scratch = alloc_page(GFP_KERNEL | __GFP_ZERO);
	mmap_write_lock(mm);
	vma_iter_init(&vmi, mm, 0);
	for_each_vma(vmi, vma) {
		if (!vma->vm_file || vma->vm_file->private_data != ibuctx->ufile)
			continue;
		/* No fault may find the range empty between zap and insert. */
		vma_start_write(vma);
		zap_page_range_single(vma, vma->vm_start,
				      vma->vm_end - vma->vm_start, NULL);
		for (addr = vma->vm_start; scratch && addr < vma->vm_end;
		     addr += PAGE_SIZE)
			if (vm_insert_page(vma, addr, scratch))
				break;
	}
	mmap_write_unlock(mm);
	if (scratch)
		put_page(scratch);
	mmput(mm);
}
