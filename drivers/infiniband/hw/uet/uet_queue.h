/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Queues shared with user space (the layout is in uet-abi.h).
 *
 * Trust model: the memory is kernel-allocated (vmalloc_user) and mapped
 * into the process, so user space can write anything at any time.  The
 * kernel keeps its own copy of the index it owns, masks every index it
 * reads from the shared header, reads the other side's index with
 * acquire semantics, and copies an entry out before validating it; it
 * never trusts shared memory after that.
 */
#ifndef _UET_QUEUE_H_
#define _UET_QUEUE_H_

#include <rdma/ib_verbs.h>
#include <rdma/uet-abi.h>

struct uet_queue {
	struct uet_queue_hdr *hdr;
	void *buf;			/* entries, after the header */
	u32 entries;			/* a power of two */
	u32 entry_size;
	struct uet_mmap_entry *mmap;	/* owns the memory */
};

/* Lets user space map one queue's memory, once. */
struct uet_mmap_entry {
	struct rdma_user_mmap_entry rdma_entry;
	void *kva;			/* vmalloc_user() memory */
	atomic_t mapped;
};

struct uet_mmap_entry *uet_mmap_alloc(struct ib_ucontext *uctx, size_t size);
int uet_queue_init(struct ib_ucontext *uctx, struct uet_queue *q,
		   u32 entries, u32 entry_size);
void uet_queue_fini(struct uet_queue *q);
u64 uet_queue_mmap_offset(const struct uet_queue *q);
size_t uet_queue_size(const struct uet_queue *q);

static inline void *uet_queue_slot(const struct uet_queue *q, u32 index)
{
	return q->buf + (size_t)(index & (q->entries - 1)) * q->entry_size;
}

int uet_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma);
void uet_mmap_free(struct rdma_user_mmap_entry *rdma_entry);
void uet_disassociate_ucontext(struct ib_ucontext *ibuctx);

#endif /* _UET_QUEUE_H_ */
