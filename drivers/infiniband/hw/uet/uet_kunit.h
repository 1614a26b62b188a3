/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Internals of uet that its KUnit suites (rdma_uet_kunit) call.  With
 * CONFIG_KUNIT they are visible outside their file and exported in the
 * EXPORTED_FOR_KUNIT_TESTING namespace; without it they stay static.
 */
#ifndef _UET_KUNIT_H_
#define _UET_KUNIT_H_

#include <kunit/visibility.h>

#include "uet_pds.h"

#if IS_ENABLED(CONFIG_KUNIT)
/* uet_pdc.c */
struct uet_pdc *uet_pdc_alloc(struct uet_dev *udev, bool target, u8 mode,
			      u32 job, const struct uet_ip_path *path);
bool __uet_pdc_can_send(struct uet_pdc *pdc);
void uet_pdc_rcv_ack(struct uet_pdc *pdc, struct sk_buff *skb,
		     const struct uet_rx_info *info);
bool uet_nack_is_fatal(u8 code);
void uet_pdc_rcv_nack(struct uet_pdc *pdc, struct sk_buff *skb);
u64 uet_pdc_sack_bitmap(const struct uet_pdc *pdc);
bool uet_pdc_ack_due(struct uet_pdc *pdc, unsigned int flags, u32 len,
		     bool rsp);
int uet_pds_hdr_len(struct uet_dev *udev, const struct sk_buff *skb);
#endif

#endif /* _UET_KUNIT_H_ */
