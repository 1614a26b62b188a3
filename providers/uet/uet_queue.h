/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The user side of the rings and of the doorbell page shared with the
 * kernel; layouts and ownership rules are in rdma/uet-abi.h.
 *
 * This header depends on nothing but C11 and the uapi header so that
 * tests/unit/ring_doorbell.c runs this very code against a model of the
 * kernel's engine.
 */
#ifndef __UET_QUEUE_H__
#define __UET_QUEUE_H__

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rdma/uet-abi.h>

/* A queue mapped from the kernel. */
struct uet_queue {
	struct uet_queue_hdr *hdr;
	void *buf;
	uint32_t entries;		/* a power of two */
	size_t map_size;
};

static inline void *uet_queue_slot(const struct uet_queue *q, uint32_t idx,
				   size_t entry_size)
{
	return (char *)q->buf + (size_t)(idx & (q->entries - 1)) * entry_size;
}

static inline uint32_t uet_load_acquire(const uint32_t *p)
{
	return atomic_load_explicit((_Atomic uint32_t *)p,
				    memory_order_acquire);
}

static inline void uet_store_release(uint32_t *p, uint32_t v)
{
	atomic_store_explicit((_Atomic uint32_t *)p, v, memory_order_release);
}

/*
 * True when the slot of index @producer still holds an entry the kernel
 * has not consumed.  '>=', not '==': a consumer index past ours, which
 * the kernel never writes, reads as full rather than as room.
 */
static inline bool uet_queue_full(const struct uet_queue *q, uint32_t producer)
{
	return producer - uet_load_acquire(&q->hdr->consumer) >= q->entries;
}

/*
 * Hand the send WQEs before @producer to the kernel and tell whether its
 * send engine must be kicked.  The engine sets UET_DB_NEED_WAKEUP, issues
 * a full barrier and re-checks every ring before it sleeps; we store the
 * producer, issue a full barrier and read the flag.  Of two such
 * sequences at least one side sees the other's store, so a WQE is either
 * seen by the engine's re-check or kicked for.  A QP in error executes
 * nothing: its new WQEs are flushed only on a kick.
 */
static inline bool uet_sq_publish(struct uet_queue *sq, uint32_t producer,
				  const struct uet_doorbell *db)
{
	uet_store_release(&sq->hdr->producer, producer);
	atomic_thread_fence(memory_order_seq_cst);
	return (uet_load_acquire(&db->flags) & UET_DB_NEED_WAKEUP) ||
	       (uet_load_acquire(&sq->hdr->flags) & UET_QUEUE_ERR);
}

/*
 * The same for receive WQEs (RQ or SRQ): nothing sleeps on them, but
 * when the owner is in error they are flushed only on a kick.  The
 * barrier pairs with the kernel's between setting UET_QUEUE_ERR and its
 * final flush, so a WQE published while the QP enters the error state
 * is either flushed there or kicked for.
 */
static inline bool uet_rq_publish(struct uet_queue *rq, uint32_t producer)
{
	uet_store_release(&rq->hdr->producer, producer);
	atomic_thread_fence(memory_order_seq_cst);
	return uet_load_acquire(&rq->hdr->flags) & UET_QUEUE_ERR;
}

/*
 * Arm a CQ.  The kernel raises the completion event for a CQE it writes
 * after seeing cq_notify set; the full barrier keeps the caller's next
 * poll from being done before the store, so that a CQE written before
 * the kernel could see the arm is found by that poll instead.
 */
static inline void uet_cq_arm(struct uet_queue *cq, uint32_t how)
{
	atomic_store_explicit((_Atomic uint32_t *)&cq->hdr->cq_notify, how,
			      memory_order_seq_cst);
	atomic_thread_fence(memory_order_seq_cst);
}

#endif /* __UET_QUEUE_H__ */
