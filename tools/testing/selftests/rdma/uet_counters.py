#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""
Port counters against the wire.  Two uet devices on a veth pair across
two namespaces move known traffic (ibv_rc_pingpong, ibv_ud_pingpong and
ib_read_bw), then stay idle until every PDC has closed.  tcpdump on A's
end of the veth sees every UET packet both ways (a veth loses nothing),
and then, exactly:

 - A's tx_pkts and tx_bytes are the packets (and their UDP payload bytes)
   the capture saw leave A, its rx_pkts and rx_bytes those it saw arrive;
 - B's tx and rx are A's rx and tx: every packet is counted once at each
   end;
 - tx_acks, tx_nacks and tx_control_pkts are the ACKs (and ACK_CCs), NACKs
   and control packets the capture saw each device send; the other device
   counts every control packet in rx_control_pkts and every ACK and NACK
   in rx_acks or rx_nacks, or in a drop counter if it came late;
 - the request packets carry exactly the pingpongs' messages: their SES
   payload bytes add up to what the programs sent (more only if something
   was sent again);
 - no rx_drop_* counter moved (but for late duplicates if something was
   sent again), and each device closed every PDC it opened: pdc_live,
   non-zero while they were open, is back to 0.
"""
import os
import tempfile
import time

import uet_wire as W

RC_SIZE, RC_ITERS, RC_PORT = 10000, 50, 18561
UD_SIZE, UD_ITERS, UD_PORT = 512, 50, 18562
RD_SIZE, RD_ITERS, RD_PORT = 65536, 20, 18563
IDLE_MS = 1000          # pdc_idle_ms for the test: PDCs close soon after
PLAN = 9

topo = W.Topo("uetc")


def pair(prog, args, port, perf=False):
    g = "-x" if perf else "-g"
    srv = [prog, "-d", topo.da, g, str(topo.gida), "-p", str(port)] + args
    cli = [prog, "-d", topo.db, g, str(topo.gidb), "-p", str(port)] + args + \
        [topo.ipa]
    if perf:
        srv.insert(1, "-F")
        cli.insert(1, "-F")
    return W.run_pair(topo.nsa, srv, topo.nsb, cli, port, 90)


def quiet(before):
    """Both devices' counters once every PDC opened since @before closed
    and nothing moved for a second."""
    def closed():
        for d in (topo.da, topo.db):
            c = W.delta(W.counters(d), before[d])
            if c["pdc_closed"] != c["pdc_opened"]:
                return False
        return True
    W.wait_for(closed, 30, 0.2)
    last = None
    for _ in range(30):
        now = {d: W.counters(d) for d in (topo.da, topo.db)}
        if now == last:
            return now
        last = now
        time.sleep(1)
    return last


def wire(pcap):
    """Per source address: packets, UDP payload bytes, ACKs, NACKs, CPs,
    and SES payload bytes of requests."""
    out = {}
    for _ts, lt, frame in W.read_pcap(pcap):
        f = W.parse_frame(lt, frame)
        if not f or W.UET_PORT not in (f["sport"], f["dport"]):
            continue
        o = out.setdefault(f["src"], dict(pkts=0, bytes=0, acks=0, nacks=0,
                                          cps=0, ses=0))
        o["pkts"] += 1
        o["bytes"] += len(f["payload"])
        u = W.parse_uet(f["payload"])
        t = u.get("type")
        if t in (W.PDS_ACK, W.PDS_ACK_CC, W.PDS_ACK_CCX):
            o["acks"] += 1
        elif t in (W.PDS_NACK, W.PDS_NACK_CCX):
            o["nacks"] += 1
        elif t == W.PDS_CP:
            o["cps"] += 1
        elif "ses" in u:
            o["ses"] += u["ses"]["payload"]
    return out


def main():
    if os.geteuid():
        W.skip_all("must be run as root")
    for p in ("ibv_rc_pingpong", "ibv_ud_pingpong", "ib_read_bw", "tcpdump",
              "rdma", "ip", "ss", "timeout"):
        if not any(os.access(os.path.join(d, p), os.X_OK)
                   for d in os.environ.get("PATH",
                                           "/usr/bin:/usr/sbin").split(":")):
            W.skip_all("%s is not installed" % p)
    W.run(["modprobe", "rdma_uet"], check=False)
    param = "/sys/module/rdma_uet/parameters/pdc_idle_ms"
    if not os.path.exists(param):
        W.skip_all("rdma_uet is not available")

    ktap = W.Ktap(PLAN)
    dmesg0 = W.dmesg_lines()
    with open(param) as f:
        idle0 = f.read().strip()
    tmp = tempfile.mkdtemp(prefix="uetc-")
    pcap = os.path.join(tmp, "uet.pcap")
    dump = None
    try:
        with open(param, "w") as f:
            f.write(str(IDLE_MS))
        topo.setup()
        before = {d: W.counters(d) for d in (topo.da, topo.db)}
        dump = W.tcpdump(topo.nsa, topo.va, pcap)

        ok1, t1 = pair("ibv_rc_pingpong", ["-s", str(RC_SIZE), "-n",
                                           str(RC_ITERS)], RC_PORT)
        ok2, t2 = pair("ibv_ud_pingpong", ["-s", str(UD_SIZE), "-n",
                                           str(UD_ITERS)], UD_PORT)
        ok3, t3 = pair("ib_read_bw", ["-s", str(RD_SIZE), "-n",
                                      str(RD_ITERS)], RD_PORT, perf=True)
        ktap.result(ok1 and ok2 and ok3, "ibv_rc_pingpong, ibv_ud_pingpong "
                    "and ib_read_bw between the namespaces",
                    "\n".join(t for ok, t in ((ok1, t1), (ok2, t2),
                                              (ok3, t3)) if not ok))
        # ib_read_bw's PDCs are still open for IDLE_MS after it ended.
        live = [W.counters(d)["pdc_live"] for d in (topo.da, topo.db)]
        after = quiet(before)
        W.stop_tcpdump(dump)
        seen = wire(pcap)
        a = W.delta(after[topo.da], before[topo.da])
        b = W.delta(after[topo.db], before[topo.db])
        wa = seen.get(topo.ipa, {})
        wb = seen.get(topo.ipb, {})
        ktap.msg("A: %s" % {k: a[k] for k in ("tx_pkts", "tx_bytes",
                                              "rx_pkts", "rx_bytes")})
        ktap.msg("wire from A: %s; from B: %s" % (wa, wb))

        def same(x, y, names):
            bad = ["%s %s != %s" % (n, x.get(n[0]), y.get(n[1]))
                   for n in names if x.get(n[0]) != y.get(n[1])]
            return not bad, "; ".join(bad)

        ok, why = same(a, wa, [("tx_pkts", "pkts"), ("tx_bytes", "bytes")])
        ktap.result(ok, "A's tx_pkts and tx_bytes are what left it", why)
        ok, why = same(a, wb, [("rx_pkts", "pkts"), ("rx_bytes", "bytes")])
        ktap.result(ok, "A's rx_pkts and rx_bytes are what reached it", why)
        ok, why = same(b, a, [("tx_pkts", "rx_pkts"), ("tx_bytes",
                                                       "rx_bytes"),
                              ("rx_pkts", "tx_pkts"), ("rx_bytes",
                                                       "tx_bytes")])
        ktap.result(ok, "B's tx and rx are A's rx and tx", why)
        ok, why = same(a, wa, [("tx_acks", "acks"), ("tx_nacks", "nacks"),
                               ("tx_control_pkts", "cps")])
        ok2, why2 = same(b, wb, [("tx_acks", "acks"), ("tx_nacks", "nacks"),
                                 ("tx_control_pkts", "cps")])
        ktap.result(ok and ok2, "tx_acks, tx_nacks and tx_control_pkts are "
                    "the ACKs, NACKs and control packets on the wire",
                    why + why2)
        # Every control packet is counted when it arrives; an ACK or NACK
        # only if it is taken: a late one after a retransmission is a
        # drop instead.
        why = []
        for x, y in ((b, a), (a, b)):
            dropped = sum(v for k, v in x.items() if k.startswith("rx_drop_"))
            got = x["rx_acks"] + x["rx_nacks"]
            sent = y["tx_acks"] + y["tx_nacks"]
            if x["rx_control_pkts"] != y["tx_control_pkts"] or \
                    not sent - dropped <= got <= sent:
                why.append("rx_control_pkts %d of %d, rx ACKs+NACKs %d of "
                           "%d with %d drops" % (x["rx_control_pkts"],
                                                 y["tx_control_pkts"], got,
                                                 sent, dropped))
        ktap.result(not why, "rx_control_pkts, rx_acks and rx_nacks are the "
                    "other device's tx ones", "; ".join(why))
        # Each side sends its RC and UD messages, and ib_read_bw's READ
        # data comes back from A in ACKs: the requests carry the rest.
        want = 2 * (RC_SIZE * RC_ITERS + UD_SIZE * UD_ITERS)
        got = wa.get("ses", 0) + wb.get("ses", 0)
        retx = a["retransmits"] + b["retransmits"]
        ktap.result(got == want or (retx and got > want),
                    "the requests carry the messages' bytes (%d)" % want,
                    "SES payload bytes on the wire: %d, retransmits %d" %
                    (got, retx))
        # Only a retransmission (under emulation a timeout can expire on
        # a clean link) leaves duplicates and late ACKs behind.
        drops = {**W.drop_delta(after[topo.da], before[topo.da]),
                 **W.drop_delta(after[topo.db], before[topo.db])}
        late = {"rx_drop_duplicate", "rx_drop_stale", "rx_drop_unknown_pdc"}
        ok = (not drops or (retx and set(drops) <= late)) and \
            all(d["pdc_opened"] == d["pdc_closed"] > 0 for d in (a, b)) and \
            min(live) > 0 and \
            all(after[d]["pdc_live"] == 0 for d in (topo.da, topo.db))
        ktap.result(ok, "no drop but of late duplicates; every PDC opened "
                    "was closed, pdc_live back to 0",
                    "drops %s, PDCs A %d/%d B %d/%d, live %s, then %s" %
                    (drops, a["pdc_opened"], a["pdc_closed"],
                     b["pdc_opened"], b["pdc_closed"], live,
                     [after[d]["pdc_live"] for d in (topo.da, topo.db)]))
        bad = W.dmesg_problems(dmesg0)
        ktap.result(not bad, "no WARNING, BUG or Oops in the kernel log",
                    "\n".join(bad[:30]))
    except Exception as e:  # the plan is filled with failures below
        ktap.msg("error: %s" % e)
    finally:
        if dump:
            dump.close()
        topo.teardown()
        with open(param, "w") as f:
            f.write(idle0)
    ktap.finish()


if __name__ == "__main__":
    main()
