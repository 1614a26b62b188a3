// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Port counters: "rdma stat show link DEV/1" and
 * /sys/class/infiniband/DEV/ports/1/hw_counters/.
 */
#include "uet.h"

/* Values computed when read, after the counters. */
enum {
	UET_STAT_PDC_LIVE = UET_NUM_COUNTERS,	/* opened, not yet closed */
	UET_NUM_STATS,
};

/* Indexed by enum uet_counter, then the computed values. */
static const struct rdma_stat_desc uet_counter_descs[] = {
	[UET_CNT_TX_PKTS].name = "tx_pkts",
	[UET_CNT_TX_BYTES].name = "tx_bytes",
	[UET_CNT_RX_PKTS].name = "rx_pkts",
	[UET_CNT_RX_BYTES].name = "rx_bytes",
	[UET_CNT_TX_ACKS].name = "tx_acks",
	[UET_CNT_RX_ACKS].name = "rx_acks",
	[UET_CNT_TX_NACKS].name = "tx_nacks",
	[UET_CNT_RX_NACKS].name = "rx_nacks",
	[UET_CNT_TX_CPS].name = "tx_control_pkts",
	[UET_CNT_RX_CPS].name = "rx_control_pkts",
	[UET_CNT_RETRANSMITS].name = "retransmits",
	[UET_CNT_RTO_EXPIRED].name = "rto_expired",
	[UET_CNT_DUPLICATES].name = "duplicates",
	[UET_CNT_RNR_RETRIES].name = "rnr_retries",
	[UET_CNT_PDC_OPENED].name = "pdc_opened",
	[UET_CNT_PDC_CLOSED].name = "pdc_closed",
	[UET_CNT_TX_ERRORS].name = "tx_errors",
	[UET_CNT_RX_OOO_HELD].name = "rx_ooo_held",
	[UET_CNT_RX_DROP_SHORT].name = "rx_drop_short",
	[UET_CNT_RX_DROP_BAD_HDR].name = "rx_drop_bad_hdr",
	[UET_CNT_RX_DROP_UNSUPPORTED].name = "rx_drop_unsupported",
	[UET_CNT_RX_DROP_NO_DEVICE].name = "rx_drop_no_device",
	[UET_CNT_RX_DROP_UNKNOWN_PDC].name = "rx_drop_unknown_pdc",
	[UET_CNT_RX_DROP_PDC_MISMATCH].name = "rx_drop_pdc_mismatch",
	[UET_CNT_RX_DROP_BAD_SYN].name = "rx_drop_bad_syn",
	[UET_CNT_RX_DROP_OUT_OF_WINDOW].name = "rx_drop_out_of_window",
	[UET_CNT_RX_DROP_OUT_OF_ORDER].name = "rx_drop_out_of_order",
	[UET_CNT_RX_DROP_DUPLICATE].name = "rx_drop_duplicate",
	[UET_CNT_RX_DROP_STALE].name = "rx_drop_stale",
	[UET_CNT_RX_DROP_BAD_QP].name = "rx_drop_bad_qp",
	[UET_CNT_RX_DROP_BAD_JOB].name = "rx_drop_bad_job",
	[UET_CNT_RX_DROP_BAD_KEY].name = "rx_drop_bad_key",
	[UET_CNT_RX_DROP_BAD_LEN].name = "rx_drop_bad_len",
	[UET_CNT_RX_DROP_NO_RECV].name = "rx_drop_no_recv",
	[UET_CNT_RX_DROP_NO_MEM].name = "rx_drop_no_mem",
	[UET_STAT_PDC_LIVE].name = "pdc_live",
};

struct rdma_hw_stats *uet_alloc_hw_port_stats(struct ib_device *ibdev,
					      u32 port)
{
	BUILD_BUG_ON(ARRAY_SIZE(uet_counter_descs) != UET_NUM_STATS);

	return rdma_alloc_hw_stats_struct(uet_counter_descs, UET_NUM_STATS,
					  RDMA_HW_STATS_DEFAULT_LIFESPAN);
}

int uet_get_hw_stats(struct ib_device *ibdev, struct rdma_hw_stats *stats,
		     u32 port, int index)
{
	struct uet_dev *udev = to_uet_dev(ibdev);
	s64 closed;
	int i;

	closed = atomic64_read(&udev->stats[UET_CNT_PDC_CLOSED]);
	/*
	 * Closed, then opened: a PDC was counted opened (under pdc_lock)
	 * before it could be counted closed, so live never goes below 0.
	 */
	smp_rmb();
	stats->value[UET_STAT_PDC_LIVE] =
		atomic64_read(&udev->stats[UET_CNT_PDC_OPENED]) - closed;
	for (i = 0; i < UET_NUM_COUNTERS; i++)
		stats->value[i] = atomic64_read(&udev->stats[i]);
	return UET_NUM_STATS;
}
