#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# What a uet device puts on the wire, checked against uet-wire-notes.md
# sections 2-4 and the "Transport" section of uet.rst.  tcpdump captures
# the UDP traffic of the veth end in namespace A while ibv_rc_pingpong
# (10000-byte messages, segmented at the 1024-byte path MTU),
# ibv_ud_pingpong, ib_write_bw and, with 20% loss on B's side,
# ibv_rc_pingpong again run between the uet devices of namespaces A and B;
# the pcap file is then parsed here (Ethernet, IPv4, UDP, PDS, SES) and
# every packet checked: port 4793, PDS types and flags, SYN and psn_offset
# while a PDC opens, the target's PDC id once it is established,
# consecutive PSNs, RETX on retransmissions, the ACK, NACK and control
# packet forms, SES opcodes, SOM/EOM segmentation, lengths and offsets,
# message ids, QPNs, rkeys and Q_Keys.

import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import uet_wire as W  # noqa: E402

PLAN = 26
RC_SIZE, RC_ITERS = 10000, 20
UD_SIZE, UD_ITERS = 512, 20
WR_SIZE, WR_ITERS = 5000, 20
LOSS_SIZE, LOSS_ITERS = 4096, 20
PATH_MTU = 1024
UD_QKEY = 0x11111111

topo = W.Topo()
ktap = None


class Phase:
    def __init__(self, name, lossy=False):
        self.name = name
        self.lossy = lossy
        self.t0 = self.t1 = None
        self.ok = False
        self.text = ""
        self.qpn = {}           # IP -> local QPN of the QP there
        self.rkey = {}          # IP -> (rkey, vaddr) of the buffer there


QPN_RE = re.compile(r"local address:.*QPN (0x[0-9a-fA-F]+)")
PERF_RE = re.compile(r"local address: LID \S+ QPN (0x[0-9a-fA-F]+) PSN \S+ "
                     r"RKey (0x[0-9a-fA-F]+) VAddr (0x[0-9a-fA-F]+)")


def run_phase(ph, prog, args, port, perf=False):
    srv = [prog, "-d", topo.da, "-g" if not perf else "-x", str(topo.gida),
           "-p", str(port)] + args
    cli = [prog, "-d", topo.db, "-g" if not perf else "-x", str(topo.gidb),
           "-p", str(port)] + args + [topo.ipa]
    if perf:
        srv.insert(1, "-F")
        cli.insert(1, "-F")
    ph.t0 = time.time()
    ph.ok, ph.text = W.run_pair(topo.nsa, srv, topo.nsb, cli, port, 90)
    ph.t1 = time.time()
    # The two halves of the text are the server's (A) and the client's (B).
    srv_out, _, cli_out = ph.text.partition("\nclient (")
    for ip, out in ((topo.ipa, srv_out), (topo.ipb, cli_out)):
        m = PERF_RE.search(out) if perf else QPN_RE.search(out)
        if m:
            ph.qpn[ip] = int(m.group(1), 16)
            if perf:
                ph.rkey[ip] = (int(m.group(2), 16), int(m.group(3), 16))
    ktap.result(ph.ok and len(ph.qpn) == 2, "%s (%.1f s)" %
                (ph.name, ph.t1 - ph.t0), ph.text)


class Pdc:
    """One initiator PDC as seen on the wire: (source IP, spdcid)."""

    def __init__(self, src, dst, spdcid):
        self.src, self.dst, self.spdcid = src, dst, spdcid
        self.reqs = []          # (index, packet) in capture order
        self.acks = []
        self.nacks = []
        self.cps = []


class Errs:
    """Errors of one check, reported with the first few examples."""

    def __init__(self):
        self.list = []
        self.n = 0

    def __call__(self, text):
        self.n += 1
        if len(self.list) < 8:
            self.list.append(text)

    def report(self, desc, extra=""):
        detail = "\n".join(self.list)
        if self.n > len(self.list):
            detail += "\n... %d errors in all" % self.n
        return ktap.result(not self.n, desc + extra, detail)


def pkt_str(p):
    u = p["uet"]
    keep = {k: v for k, v in u.items() if k not in ("ses", "rsp")}
    s = "#%d %s:%d->%s:%d %s" % (p["i"], p["src"], p["sport"], p["dst"],
                                 p["dport"], keep)
    if "ses" in u:
        s += " ses=%s" % u["ses"]
    if "rsp" in u:
        s += " rsp=%s" % u["rsp"]
    return s


def phase_of(phases, ts):
    for ph in phases:
        if ph.t0 is not None and ph.t0 - 0.5 <= ts <= ph.t1 + 0.5:
            return ph
    return None


def analyse(pcap, phases):
    pkts = []
    for i, (ts, lt, frame) in enumerate(W.read_pcap(pcap)):
        p = W.parse_frame(lt, frame)
        if p is None:
            continue
        p["i"], p["ts"] = i, ts
        p["uet"] = W.parse_uet(p["payload"])
        p["phase"] = phase_of(phases, ts)
        pkts.append(p)
    ktap.msg("%d UDP packets captured" % len(pkts))
    types = {}
    for p in pkts:
        t = p["uet"].get("type")
        types[t] = types.get(t, 0) + 1
    ktap.msg("PDS types seen: %s" % ", ".join(
        "%s %d" % (W.PDS_TYPE_NAMES.get(t, t), n)
        for t, n in sorted(types.items(), key=lambda x: str(x[0]))))

    rod = [p for p in pkts if p["uet"].get("type") == W.PDS_ROD_REQ]
    uud = [p for p in pkts if p["uet"].get("type") == W.PDS_UUD_REQ]
    acks = [p for p in pkts if p["uet"].get("type") in (W.PDS_ACK,
                                                         W.PDS_ACK_CC)]
    nacks = [p for p in pkts if p["uet"].get("type") == W.PDS_NACK]
    cps = [p for p in pkts if p["uet"].get("type") == W.PDS_CP]
    dirs = {(p["src"], p["dst"]) for p in rod}
    ok = (len(dirs) == 2 and uud and acks and
          {p["src"] for p in uud} == {topo.ipa, topo.ipb})
    ktap.result(ok, "capture holds ROD requests both ways, UUD requests "
                "both ways and ACKs (%d ROD, %d UUD, %d ACK, %d NACK, "
                "%d CP)" % (len(rod), len(uud), len(acks), len(nacks),
                            len(cps)),
                "directions of ROD requests: %s" % dirs)

    e = Errs()
    for p in pkts:
        if p["dport"] != W.UET_PORT:
            e("not to port 4793: " + pkt_str(p))
        if p["family"] == 4 and not p["df"]:
            e("IPv4 without DF: " + pkt_str(p))
        if p["udp_len"] != 8 + len(p["payload"]):
            e("UDP length %d for %d bytes: %s" % (p["udp_len"],
                                                  len(p["payload"]),
                                                  pkt_str(p)))
    e.report("every UDP packet (requests, ACKs, NACKs) goes to port 4793, "
             "IPv4 with DF")

    e = Errs()
    for p in pkts:
        u = p["uet"]
        if u.get("type") not in (W.PDS_ROD_REQ, W.PDS_UUD_REQ, W.PDS_ACK,
                                 W.PDS_ACK_CC, W.PDS_NACK, W.PDS_CP):
            e("PDS type %s: %s" % (u.get("type"), pkt_str(p)))
        elif "error" in u:
            e("%s: %s" % (u["error"], pkt_str(p)))
    e.report("PDS types are ROD_REQ, UUD_REQ, ACK, ACK_CC, NACK or CP "
             "only, each long enough for its headers")

    # Group by initiator PDC.
    pdcs = {}
    for p in rod:
        u = p["uet"]
        key = (p["src"], u["spdcid"])
        if key not in pdcs:
            pdcs[key] = Pdc(p["src"], p["dst"], u["spdcid"])
        pdcs[key].reqs.append(p)
    for lst, attr in ((acks, "acks"), (nacks, "nacks")):
        for p in lst:
            key = (p["dst"], p["uet"].get("dpdcid"))
            if key in pdcs:
                getattr(pdcs[key], attr).append(p)
    for p in cps:
        key = (p["src"], p["uet"].get("spdcid"))
        if key in pdcs:
            pdcs[key].cps.append(p)
    ktap.msg("initiator PDCs: %s" % ", ".join(
        "%s/%d: %d requests, %d ACKs, %d NACKs, %d CPs" %
        (k[0], k[1], len(v.reqs), len(v.acks), len(v.nacks), len(v.cps))
        for k, v in sorted(pdcs.items())))

    # ROD request PDS fields.
    e = Errs()
    for pdc in pdcs.values():
        sports = {p["sport"] for p in pdc.reqs}
        if len(sports) != 1:
            e("PDC %s/%d uses source ports %s (ROD: one path)" %
              (pdc.src, pdc.spdcid, sorted(sports)))
        for sp in sports:
            if not 49152 <= sp <= 65535:
                e("PDC %s/%d: entropy %d out of 49152..65535" %
                  (pdc.src, pdc.spdcid, sp))
        if pdc.spdcid == 0:
            e("PDC id 0 is reserved: " + pkt_str(pdc.reqs[0]))
        for p in pdc.reqs:
            u = p["uet"]
            if u["flags"] & ~(W.REQ_RETX | W.REQ_AR | W.REQ_SYN):
                e("reserved request flags: " + pkt_str(p))
            if u["clear_off"] > 0:
                e("positive clear_psn_offset: " + pkt_str(p))
            if u["next"] != W.SES_REQ_STD:
                e("next_hdr %d: %s" % (u["next"], pkt_str(p)))
    for p in acks + nacks + cps:
        if p["uet"].get("spdcid") == 0 and p["uet"]["type"] != W.PDS_NACK:
            e("PDC id 0: " + pkt_str(p))
    e.report("ROD requests: next_hdr REQ_STD, no reserved flag, "
             "clear_psn_offset <= 0, one entropy (UDP source port) per PDC")

    # SYN and psn_offset while a PDC opens; the target's id afterwards.
    e = Errs()
    e2 = Errs()
    starts = {}
    for pdc in pdcs.values():
        syn = [p for p in pdc.reqs if p["uet"]["flags"] & W.REQ_SYN]
        first = pdc.reqs[0]
        if not first["uet"]["flags"] & W.REQ_SYN:
            e("first request of PDC %s/%d without SYN: %s" %
              (pdc.src, pdc.spdcid, pkt_str(first)))
            continue
        st = {(p["uet"]["psn"] - (p["uet"]["dpdcid"] & 0xfff)) & 0xffffffff
              for p in syn}
        if len(st) != 1:
            e("PDC %s/%d: SYN requests imply start PSNs %s" %
              (pdc.src, pdc.spdcid, sorted(st)))
            continue
        start = starts[(pdc.src, pdc.spdcid)] = st.pop()
        for p in syn:
            if p["uet"]["dpdcid"] & 0xf000:
                e("SYN with bits 15..12 of the psn_offset word set: " +
                  pkt_str(p))
            if (p["uet"]["psn"] - start) & 0xffffffff > 0xfff:
                e("SYN beyond 4096 PSNs from start: " + pkt_str(p))
        ph0 = first["phase"]
        # Under loss the first packet B sent may be lost before capture,
        # and the target's ACK_CC for those behind it establish the PDC:
        # then the start PSN goes again without SYN.
        lost_first = ph0 is not None and ph0.lossy and \
            first["src"] == topo.ipb
        if not any(p["uet"]["psn"] == start and
                   (p["uet"]["dpdcid"] == 0 or
                    (lost_first and not p["uet"]["flags"] & W.REQ_SYN))
                   for p in pdc.reqs):
            e("PDC %s/%d: no SYN request at the start PSN with offset 0" %
              (pdc.src, pdc.spdcid))
        if not lost_first and first["uet"]["dpdcid"] != 0:
            e("first request of PDC %s/%d: psn_offset %d, not 0" %
              (pdc.src, pdc.spdcid, pdc.reqs[0]["uet"]["dpdcid"]))
        # Established: the ACKs name the target PDC; no SYN any more.
        tids = {a["uet"]["spdcid"] for a in pdc.acks}
        tids |= {n["uet"]["spdcid"] for n in pdc.nacks}
        if len(tids) != 1:
            e2("PDC %s/%d: ACKs/NACKs name target PDCs %s" %
               (pdc.src, pdc.spdcid, sorted(tids)))
            continue
        tid = tids.pop()
        first_ack = min(a["i"] for a in pdc.acks) if pdc.acks else None
        seen_plain = False
        for p in pdc.reqs:
            u = p["uet"]
            if u["flags"] & W.REQ_SYN:
                if seen_plain:
                    e2("SYN after an established request: " + pkt_str(p))
                continue
            if not seen_plain and (first_ack is None or p["i"] < first_ack):
                e2("request without SYN before the first ACK: " +
                   pkt_str(p))
            seen_plain = True
            if u["dpdcid"] != tid:
                e2("dpdcid %d, the target PDC is %d: %s" %
                   (u["dpdcid"], tid, pkt_str(p)))
        for c in pdc.cps:
            if c["uet"]["dpdcid"] != tid:
                e2("control packet dpdcid %d, target PDC %d: %s" %
                   (c["uet"]["dpdcid"], tid, pkt_str(c)))
        # A burst within the window may all leave before the first ACK
        # is back; a request sent well after it must not be SYN.
        acks_i = sorted(a["i"] for a in pdc.acks)
        late = acks_i[4] if len(acks_i) > 4 else None
        if not seen_plain and late is not None and \
                any(p["i"] > late for p in pdc.reqs):
            e2("PDC %s/%d: requests after 5 ACKs, still SYN" %
               (pdc.src, pdc.spdcid))
    e.report("a new PDC starts with SYN, psn_offset = PSN - start PSN "
             "(12 bits, 0 first)")
    e2.report("after the first ACK: no SYN, dpdcid = the target's spdcid "
              "from the ACKs")

    # PSNs: consecutive per PDC; retransmissions flagged.
    e = Errs()
    e2 = Errs()
    retx = 0
    for pdc in pdcs.values():
        start = starts.get((pdc.src, pdc.spdcid))
        seen = set()
        last_new = None
        last_ph = None
        egress = pdc.src == topo.ipa       # captured before any loss
        for p in pdc.reqs:
            u = p["uet"]
            psn = u["psn"]
            ph = p["phase"]
            if u["flags"] & W.REQ_RETX:
                retx += 1
                if not u["flags"] & W.REQ_AR:
                    e2("RETX without AR: " + pkt_str(p))
                if egress and psn not in seen:
                    e2("RETX for a PSN never sent: " + pkt_str(p))
            else:
                if psn in seen:
                    e2("PSN sent again without RETX: " + pkt_str(p))
                if last_new is not None:
                    d = (psn - last_new) & 0xffffffff
                    strict = egress or (ph and not ph.lossy and last_ph and
                                        not last_ph.lossy)
                    if (strict and d != 1) or d == 0 or d >= 1 << 31:
                        e("PSN %#x after %#x: %s" % (psn, last_new,
                                                     pkt_str(p)))
                last_new, last_ph = psn, ph
            seen.add(psn)
        if start is not None and seen:
            hi = max((s - start) & 0xffffffff for s in seen)
            missing = [start + k for k in range(hi + 1)
                       if (start + k) & 0xffffffff not in seen]
            if missing:
                e("PDC %s/%d: PSNs %s never seen" %
                  (pdc.src, pdc.spdcid, [hex(m) for m in missing[:5]]))
    e.report("PSNs consecutive per (source IP, spdcid), every PSN from the "
             "start one on")
    if retx:
        e2.report("retransmissions carry RETX and AR (%d seen)" % retx)
    else:
        ktap.skip("retransmissions carry RETX and AR",
                  "no retransmission captured")

    # ACKs.
    e = Errs()
    e2 = Errs()
    e3 = Errs()
    forms = {}
    req_by_psn = {}
    for pdc in pdcs.values():
        for p in pdc.reqs:
            req_by_psn.setdefault((pdc.src, pdc.spdcid, p["uet"]["psn"]), p)
    for p in acks:
        u = p["uet"]
        name = W.PDS_TYPE_NAMES.get(u["type"]) + \
            ("+RSP" if u.get("next") == W.SES_RSP else "")
        forms[name] = forms.get(name, 0) + 1
        want = {(W.PDS_ACK, W.SES_NONE): 12, (W.PDS_ACK, W.SES_RSP): 24,
                (W.PDS_ACK_CC, W.SES_NONE): 32,
                (W.PDS_ACK_CC, W.SES_RSP): 44}.get((u["type"], u["next"]))
        if want is None:
            e("ACK with next_hdr %d: %s" % (u["next"], pkt_str(p)))
        elif u["len"] != want:
            e("ACK of %d bytes, expected %d: %s" % (u["len"], want,
                                                    pkt_str(p)))
        if u["flags"] & 0x41 or (u["flags"] & W.ACK_REQ_MASK) == 6:
            e("reserved ACK flags: " + pkt_str(p))
        # Our SACK starts after CACK; a held PSN is never the next one.
        if u["type"] == W.PDS_ACK_CC and \
                (u["cc_type_flags"] or u["mpr"] != 1 or u["cc_state"] or
                 u["sack_off"] != 1 or u["sack_bitmap"] & 1):
            e("ACK_CC: NSCC with no state, mpr 1, a SACK bitmap from "
              "CACK + 1 with the next PSN missing: " + pkt_str(p))
    for pdc in pdcs.values():
        start = starts.get((pdc.src, pdc.spdcid))
        sports = {q["sport"] for q in pdc.reqs}
        last_cack = None
        sent_hi = None
        # CLOSE consumes a PSN of the PDC, like a request.
        closes = [c for c in pdc.cps if c["uet"]["ctl"] == W.CP_CLOSE]
        events = sorted(pdc.reqs + pdc.acks + closes, key=lambda x: x["i"])
        for p in events:
            u = p["uet"]
            if u["type"] in (W.PDS_ROD_REQ, W.PDS_CP):
                if sent_hi is None or \
                        0 < (u["psn"] - sent_hi) & 0xffffffff < 1 << 31:
                    sent_hi = u["psn"]
                continue
            if p["src"] != pdc.dst or p["sport"] not in sports:
                e("ACK from %s:%d for PDC %s/%d (requests from port %s): %s" %
                  (p["src"], p["sport"], pdc.src, pdc.spdcid, sports,
                   pkt_str(p)))
            if start is None or sent_hi is None:
                e2("ACK before any request: " + pkt_str(p))
                continue
            cack = u["cack"]
            rel = (cack - start + 1) & 0xffffffff
            if rel > ((sent_hi - start + 1) & 0xffffffff):
                e2("cack %#x outside [start-1 %#x, highest sent %#x]: %s" %
                   (cack, start - 1, sent_hi, pkt_str(p)))
            if last_cack is not None and \
                    ((cack - last_cack) & 0xffffffff) >= 1 << 31:
                e2("cack went back from %#x: %s" % (last_cack, pkt_str(p)))
            last_cack = cack
            apsn = (cack + u["ack_off"]) & 0xffffffff
            # An ACK_CC may be for a PSN held beyond cack: then SACKed.
            ahead = (apsn - cack - 1) & 0xffffffff
            if u["type"] == W.PDS_ACK_CC and ahead < 64:
                if not u["sack_bitmap"] >> ahead & 1 or \
                        (apsn - start) & 0xffffffff > \
                        (sent_hi - start) & 0xffffffff:
                    e2("ACK_CC for PSN %#x beyond cack, not SACKed or "
                       "never sent: %s" % (apsn, pkt_str(p)))
            elif (apsn - start) & 0xffffffff > (cack - start) & 0xffffffff:
                e2("ack_psn %#x outside [start %#x, cack]: %s" %
                   (apsn, start, pkt_str(p)))
            if "rsp" not in u:
                continue
            r = u["rsp"]
            req = req_by_psn.get((pdc.src, pdc.spdcid, apsn))
            if r["list"] or r["opcode"] != W.RSP_RESPONSE or r["version"] \
                    or r["rc"] != W.RC_OK or r["job"] or r["gen"] \
                    or r["extra"]:
                e3("response not RESPONSE/OK of job 0: " + pkt_str(p))
            if req is None:
                e3("response for PSN %#x, never sent: %s" % (apsn,
                                                             pkt_str(p)))
                continue
            s = req["uet"]["ses"]
            if r["message_id"] != s["message_id"]:
                e3("response message_id %d, request's %d: %s" %
                   (r["message_id"], s["message_id"], pkt_str(p)))
            if not s["flags"] & W.SES_EOM:
                e3("response for a packet that is not EOM: %s / %s" %
                   (pkt_str(p), pkt_str(req)))
            if r["rc"] == W.RC_OK and \
                    r["modified_length"] != s["request_length"]:
                e3("modified_length %d, request_length %d: %s" %
                   (r["modified_length"], s["request_length"], pkt_str(p)))
    ktap.msg("ACK forms seen: %s" % forms)
    e.report("ACK forms: 12 bytes (ACK_CC 32), or 24 (44) with a 12-byte "
             "RSP; next_hdr 0 or 4; no reserved flag")
    e2.report("ACKs: from the target, entropy echoed, ids swapped, "
              "cack and ack_psn within the PSNs sent, cack never goes back")
    e3.report("ACK responses: RESPONSE, rc OK, job 0, message_id and "
              "modified_length of the request at ack_psn")

    # NACKs.
    if nacks:
        e = Errs()
        codes = {}
        for p in nacks:
            u = p["uet"]
            codes[W.NACK_CODES.get(u["code"], u["code"])] = \
                codes.get(W.NACK_CODES.get(u["code"], u["code"]), 0) + 1
            pdc = pdcs.get((p["dst"], u["dpdcid"]))
            if u["len"] != W.PDS_NACK_LEN or u["next"] or u["flags"] or \
                    u["code"] not in W.NACK_CODES:
                e("NACK form: " + pkt_str(p))
            if pdc is None:
                e("NACK for no PDC: " + pkt_str(p))
                continue
            if p["sport"] not in {q["sport"] for q in pdc.reqs}:
                e("NACK entropy not echoed: " + pkt_str(p))
            earlier = [q["uet"]["psn"] for q in pdc.reqs if q["i"] < p["i"]]
            if u["psn"] not in earlier:
                e("NACK for a PSN not received: " + pkt_str(p))
            if u["code"] in (W.NACK_ROD_OOO, W.NACK_PSN_OOR_WINDOW) and \
                    not 0 < (u["psn"] - u["payload"]) & 0xffffffff < 1 << 31:
                e("NACK payload (expected PSN) %#x not before PSN: %s" %
                  (u["payload"], pkt_str(p)))
        ktap.msg("NACK codes seen: %s" % codes)
        e.report("NACKs: 16 bytes, next_hdr and flags 0, known code, for a "
                 "PSN received, expected PSN in the payload, entropy echoed")
    else:
        ktap.skip("NACK form", "no NACK captured")

    if cps:
        e = Errs()
        for p in cps:
            u = p["uet"]
            if u["len"] != W.PDS_CP_LEN or \
                    u["ctl"] not in (W.CP_ACK_REQ, W.CP_CLOSE,
                                     W.CP_CLEAR) or \
                    u["flags"] & ~(W.CP_ISROD | W.CP_RETX | W.CP_AR) or \
                    not u["flags"] & W.CP_ISROD or u["probe"] or \
                    (u["ctl"] == W.CP_CLOSE and
                     not u["flags"] & W.CP_AR) or \
                    (u["ctl"] == W.CP_CLEAR and
                     (u["flags"] & W.CP_AR or u["psn"])) or \
                    (p["src"], u["spdcid"]) not in pdcs:
                e("control packet: " + pkt_str(p))
        ktap.msg("control packets seen: %s" %
                 {c: sum(1 for p in cps if p["uet"]["ctl"] == c)
                  for c in set(p["uet"]["ctl"] for p in cps)})
        e.report("control packets: 16-byte ACK_REQ, CLOSE (with AR) or "
                 "CLEAR (PSN 0, no AR) with isROD, for an open PDC")
    else:
        ktap.skip("control packet form", "no control packet captured")

    ses_checks(pdcs, rod, uud, phases)


def ses_checks(pdcs, rod, uud, phases):
    # Common SES fields.
    e = Errs()
    for p in rod + uud:
        s = p["uet"].get("ses")
        if s is None:
            e("no SES header: " + pkt_str(p))
            continue
        ud = p["uet"]["type"] == W.PDS_UUD_REQ
        ops = (W.SES_DATAGRAM_SEND,) if ud else (W.SES_SEND, W.SES_WRITE)
        if s["opcode"] not in ops or s["op_rsvd"]:
            e("opcode %#x: %s" % (s["opcode"], pkt_str(p)))
        if s["version"] or s["flags"] & (W.SES_DC | W.SES_IE | W.SES_REL):
            e("version or DC/IE/REL: " + pkt_str(p))
        if s["job"] != W.DEFAULT_JOB or s["gen"]:
            e("job %d generation %d: %s" % (s["job"], s["gen"], pkt_str(p)))
        if s["pid_rsvd"] or s["ri_rsvd"]:
            e("reserved bits of PIDonFEP/resource_index: " + pkt_str(p))
        if not s["flags"] & W.SES_SOM and s["pl_rsvd"]:
            e("reserved bits above payload_length: " + pkt_str(p))
    e.report("SES standard header: version 0, opcodes SEND/WRITE on ROD "
             "and DATAGRAM_SEND on UUD, DC/IE/REL clear, JobID 0")

    # Segmentation.
    e = Errs()
    sizes = {}
    for pdc in pdcs.values():
        msg = None
        seen = set()
        for p in pdc.reqs:
            u = p["uet"]
            s = u.get("ses")
            if s is None or u["psn"] in seen:
                continue        # retransmissions repeat what was checked
            seen.add(u["psn"])
            ph = p["phase"]
            if ph and ph.lossy:
                # Gaps: check only what each packet says of itself.
                msg = None
            plen = s["payload"]
            if plen > PATH_MTU:
                e("payload of %d bytes over the path MTU: %s" %
                  (plen, pkt_str(p)))
            if s["flags"] & W.SES_SOM:
                if msg is not None:
                    e("SOM inside message %d: %s" % (msg["id"], pkt_str(p)))
                off = 0
                msg = {"id": s["message_id"], "len": s["request_length"],
                       "next": 0, "op": s["opcode"],
                       "boff": s["buffer_offset"], "key": s["memory_key"],
                       "ini": s["initiator"], "qpn": s["qpn"]}
                sizes[s["request_length"]] = \
                    sizes.get(s["request_length"], 0) + 1
            else:
                off = s["message_offset"]
                if s["payload_length"] != plen:
                    e("payload_length %d, payload %d: %s" %
                      (s["payload_length"], plen, pkt_str(p)))
                if msg is not None:
                    if s["message_id"] != msg["id"]:
                        e("message_id %d inside message %d: %s" %
                          (s["message_id"], msg["id"], pkt_str(p)))
                    if off != msg["next"]:
                        e("message_offset %d, expected %d: %s" %
                          (off, msg["next"], pkt_str(p)))
                    for k, f in (("len", "request_length"), ("op", "opcode"),
                                 ("boff", "buffer_offset"),
                                 ("key", "memory_key"), ("ini", "initiator"),
                                 ("qpn", "qpn")):
                        if s[f] != msg[k]:
                            e("%s changes inside message %d: %s" %
                              (f, msg["id"], pkt_str(p)))
                elif not (ph and ph.lossy):
                    e("middle packet without a message: " + pkt_str(p))
            if off + plen > s["request_length"]:
                e("payload past request_length: " + pkt_str(p))
            eom = off + plen == s["request_length"]
            if bool(s["flags"] & W.SES_EOM) != eom:
                e("EOM %s at offset %d + %d of %d: %s" %
                  (bool(s["flags"] & W.SES_EOM), off, plen,
                   s["request_length"], pkt_str(p)))
            if not eom and plen != PATH_MTU:
                e("packet before the last of %d bytes, not the path MTU: "
                  "%s" % (plen, pkt_str(p)))
            if msg is not None:
                msg["next"] = off + plen
                if s["flags"] & W.SES_EOM:
                    msg = None
    want = {RC_SIZE, WR_SIZE, LOSS_SIZE}
    extra = set(sizes) - want
    if extra - {0, 1, 2, 4, 8, 16, 32, 64}:
        e("messages of unexpected sizes %s (tools sent %s)" %
          (sorted(extra), sorted(want)))
    for n in want:
        if n not in sizes:
            e("no message of %d bytes" % n)
    ktap.msg("ROD message sizes (request_length: count): %s" %
             dict(sorted(sizes.items())))
    e.report("segmentation: SOM first, EOM last, MTU-sized packets, "
             "payload_length and message_offset contiguous, one message_id "
             "and request_length per message")

    # Addressing.
    e = Errs()
    checked = 0
    for p in rod + uud:
        s = p["uet"].get("ses")
        ph = p["phase"]
        if s is None or ph is None or len(ph.qpn) != 2:
            continue
        if p["uet"]["type"] == W.PDS_UUD_REQ and "ud" not in ph.name:
            continue
        if p["uet"]["type"] == W.PDS_ROD_REQ and "ud" in ph.name:
            continue
        want_dst = ph.qpn.get(p["dst"])
        want_src = ph.qpn.get(p["src"])
        if (s["qpn"], s["initiator"]) != (want_dst, want_src):
            # ROD PDCs are shared: traffic of another phase may still
            # drain (late ACKed retransmissions); check the others.
            if any((s["qpn"], s["initiator"]) == (q.qpn.get(p["dst"]),
                                                  q.qpn.get(p["src"]))
                   for q in phases if len(q.qpn) == 2):
                continue
            e("PIDonFEP/RI -> QPN %#x, initiator %#x; expected %#x, %#x: %s"
              % (s["qpn"], s["initiator"], want_dst or -1, want_src or -1,
                 pkt_str(p)))
        checked += 1
    if not checked:
        e("no request could be matched with a phase")
    e.report("PIDonFEP/resource_index = destination QPN (low/high 12 bits), "
             "initiator = source QPN (%d requests)" % checked)

    # RDMA WRITE: rkey and address.
    e = Errs()
    wr = [p for p in rod if p["uet"].get("ses", {}).get("opcode") ==
          W.SES_WRITE]
    wph = [ph for ph in phases if ph.rkey]
    for p in wr:
        s = p["uet"]["ses"]
        rk = None
        for ph in wph:
            if p["dst"] in ph.rkey:
                rk = ph.rkey[p["dst"]]
        if rk is None:
            e("WRITE outside the ib_write_bw phase: " + pkt_str(p))
            continue
        rkey, va = rk
        if s["memory_key"] != rkey:
            e("memory_key %#x, rkey %#x: %s" % (s["memory_key"], rkey,
                                                 pkt_str(p)))
        if not va <= s["buffer_offset"] < va + (64 << 20):
            e("buffer_offset %#x, buffer at %#x: %s" %
              (s["buffer_offset"], va, pkt_str(p)))
    if not wr:
        e("no WRITE captured")
    e.report("RDMA WRITE: memory_key = the rkey, buffer_offset = an address "
             "in the remote buffer (%d packets)" % len(wr))

    # UUD.
    e = Errs()
    for p in uud:
        u = p["uet"]
        s = u.get("ses")
        if u["len"] < 48 or u["reserved"] or u["flags"] or s is None:
            e("UUD header: " + pkt_str(p))
            continue
        if s["flags"] & (W.SES_SOM | W.SES_EOM) != W.SES_SOM | W.SES_EOM:
            e("datagram not SOM|EOM: " + pkt_str(p))
        if s["request_length"] != s["payload"] or s["payload"] != UD_SIZE:
            e("request_length %d, payload %d, sent %d: %s" %
              (s["request_length"], s["payload"], UD_SIZE, pkt_str(p)))
        if s["memory_key"] != UD_QKEY:
            e("memory_key %#x, Q_Key %#x: %s" % (s["memory_key"], UD_QKEY,
                                                 pkt_str(p)))
    e.report("UUD: 4-byte PDS header, reserved 0, one SOM|EOM packet, "
             "memory_key = Q_Key")

    # AR on EOM; header data.
    e = Errs()
    e2 = Errs()
    for p in rod:
        u = p["uet"]
        s = u.get("ses")
        if s is None:
            continue
        if s["flags"] & W.SES_EOM and not u["flags"] & W.REQ_AR:
            e("EOM without AR: " + pkt_str(p))
    for p in rod + uud:
        s = p["uet"].get("ses")
        if s and s["flags"] & W.SES_SOM and \
                (s["flags"] & W.SES_HD or s["header_data"]):
            e2("HD or header_data without an immediate: " + pkt_str(p))
        if s and s["flags"] & W.SES_HD and not s["flags"] & W.SES_SOM:
            e2("HD on a packet that is not SOM: " + pkt_str(p))
    e.report("ROD: AR (ACK request) on the last packet of every message")
    e2.report("no immediate sent: HD clear and header_data 0 on SOM packets")
    ktap.skip("HD and header_data = immediate on SEND/WRITE with immediate",
              "ibv_*_pingpong and perftest 4.5 send no immediate data")


def main():
    global ktap

    if os.geteuid():
        W.skip_all("must be run as root")
    for p in ("ibv_rc_pingpong", "ibv_ud_pingpong", "ib_write_bw", "tcpdump",
              "tc", "rdma", "ip", "ss", "timeout"):
        if not any(os.access(os.path.join(d, p), os.X_OK)
                   for d in os.environ.get("PATH",
                                           "/usr/bin:/usr/sbin").split(":")):
            W.skip_all("%s is not installed" % p)
    W.run(["modprobe", "rdma_uet"], check=False)
    if not os.path.isdir("/sys/module/rdma_uet"):
        W.skip_all("rdma_uet is not available")

    ktap = W.Ktap(PLAN)
    dmesg0 = W.dmesg_lines()
    tmp = tempfile.mkdtemp(prefix="uetw-")
    pcap = os.path.join(tmp, "uet.pcap")
    dump = None
    phases = []
    try:
        topo.setup()
        ktap.msg("%s on %s (%s, GID %d); %s on %s (%s, GID %d); MTU 1500" %
                 (topo.da, topo.va, topo.ipa, topo.gida, topo.db, topo.vb,
                  topo.ipb, topo.gidb))
        dump = W.tcpdump(topo.nsa, topo.va, pcap)
        ph = Phase("ibv_rc_pingpong -s %d -n %d" % (RC_SIZE, RC_ITERS))
        phases.append(ph)
        run_phase(ph, "ibv_rc_pingpong", ["-s", str(RC_SIZE), "-n",
                                          str(RC_ITERS)], 18541)
        ph = Phase("ibv_ud_pingpong -s %d -n %d" % (UD_SIZE, UD_ITERS))
        phases.append(ph)
        run_phase(ph, "ibv_ud_pingpong", ["-s", str(UD_SIZE), "-n",
                                          str(UD_ITERS)], 18542)
        ph = Phase("ib_write_bw -s %d -n %d" % (WR_SIZE, WR_ITERS))
        phases.append(ph)
        run_phase(ph, "ib_write_bw", ["-s", str(WR_SIZE), "-n",
                                      str(WR_ITERS)], 18543, perf=True)
        W.run(["tc", "qdisc", "add", "dev", topo.vb, "root", "netem", "loss",
               "20%"], ns=topo.nsb)
        ph = Phase("ibv_rc_pingpong -s %d -n %d with 20%% loss on B" %
                   (LOSS_SIZE, LOSS_ITERS), lossy=True)
        phases.append(ph)
        run_phase(ph, "ibv_rc_pingpong", ["-s", str(LOSS_SIZE), "-n",
                                          str(LOSS_ITERS)], 18544)
        W.run(["tc", "qdisc", "del", "dev", topo.vb, "root"], ns=topo.nsb)
        out = W.stop_tcpdump(dump)
        ktap.msg("tcpdump: " + " / ".join(l for l in out.splitlines()
                                           if "packets" in l))
        m = re.search(r"(\d+) packets? dropped by kernel", out)
        if m and int(m.group(1)):
            ktap.msg("tcpdump lost %s packets: sequence checks may fail" %
                     m.group(1))
        analyse(pcap, phases)
        bad = W.dmesg_problems(dmesg0)
        ktap.result(not bad, "no WARNING, BUG or Oops in the kernel log",
                    "\n".join(bad[:30]))
    except Exception as e:  # noqa: BLE001
        import traceback
        ktap.msg("".join(traceback.format_exception(e)))
    finally:
        if dump:
            dump.close()
        topo.teardown()
        if os.environ.get("UET_VM_OUT") and os.path.exists(pcap):
            try:
                import shutil
                shutil.copy(pcap, os.path.join(os.environ["UET_VM_OUT"],
                                               "uet_wire_capture.pcap"))
            except OSError:
                pass
        for f in os.listdir(tmp):
            os.unlink(os.path.join(tmp, f))
        os.rmdir(tmp)
    ktap.finish()


if __name__ == "__main__":
    main()
