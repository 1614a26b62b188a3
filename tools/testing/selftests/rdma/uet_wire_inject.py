#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# Malformed and unexpected UET packets, sent from a UDP socket in
# namespace B to the uet device of namespace A (port 4793): truncated
# headers, reserved and unimplemented PDS types and next headers, unknown
# and mismatched PDC ids, SYNs with another start PSN, PSNs beyond the
# window or out of order, duplicates, bad SES versions, flags and
# lengths, wrong JobIDs, QPNs, peers, rkeys and Q_Keys, then random
# bytes and mutations of a valid request.  For every class: the port
# counter rx_pkts grew by the number of packets sent and exactly the
# expected rx_drop_* counter grew by one per packet, no other one moved;
# the NACKs the target sends back have the expected form.  Throughout:
# the RC and UD QPs that live on A (ibv_rc_pingpong and ibv_ud_pingpong
# servers, connected to a fake peer) never see a completion, no request
# gets an OK response, the device still carries ibv_rc_pingpong and
# ibv_ud_pingpong traffic afterwards, the kernel log stays clean and the
# module unloads.  Requests that the RC responder itself refuses (bad
# rkey, unsupported opcode) move its QP to the error state, as on IB, so
# each of those classes gets a QP of its own.  Last, B's device is
# re-created (a peer that restarts): A's stale PDC state must not make
# the new incarnation's first messages fail.

import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import uet_wire as W  # noqa: E402

K = 20                  # packets per class
HELD_MAX = 4096         # requests a device's target PDCs hold
HELD_PDCS = 33          # x 127 held each: past HELD_MAX
FUZZ = 2000             # random packets, and mutated ones
SPORT = 45678           # our UDP source port (the entropy)
FAKE_RC_QPN = 0x0abcde  # the "peer" QPN the RC server is connected to
FAKE_UD_QPN = 0x0abcdf
NO_QPN = 0xfedcba       # no QP has it
RC_PORT, UD_PORT, RC2_PORT, UD2_PORT = 18531, 18532, 18533, 18534
RC3_PORT, RC4_PORT, RC5_PORT = 18535, 18536, 18537
RU_PORT = 18538
RU_JOB = 0x77           # the job of the RU QP on A
IPB2 = "10.201.7.3"     # a second address of B: not the connected peer
IPA_LO = "10.201.8.1"   # an address of A that is no uet GID
UD_QKEY = 0x11111111    # ibv_ud_pingpong's Q_Key

NCLASSES = 60
PLAN = NCLASSES + 15

topo = W.Topo()
ktap = None
rng = random.Random(int(os.environ.get("UET_TEST_SEED", "0")) or
                    random.randrange(1 << 30))


class Ctx:
    pass


c = Ctx()
c.next_sp = 0x4000
c.pdcs_opened = 0       # target PDCs our packets should have opened
c.bad_rsp = []          # responses with RC_OK (deliveries)
c.procs = []
c.seen = {}             # PDS type -> packets A sent us


def new_spdcid():
    c.next_sp += 1
    return c.next_sp


def sock_from(ip, port=SPORT):
    with W.InNetns(topo.nsb):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
        s.bind((ip, port))
    return s


def settle(before, want_rx, want_nodev=0, want_drops=None, timeout=10):
    """Counters of A once the packets sent have been received."""
    def done():
        now = W.counters(topo.da)
        d = W.delta(now, before)
        if d["rx_pkts"] < want_rx or d["rx_drop_no_device"] < want_nodev:
            return False
        if want_drops is not None and \
                sum(W.drop_delta(now, before).values()) < want_drops:
            return False
        return True
    W.wait_for(done, timeout, 0.02)
    time.sleep(0.05)
    return W.counters(topo.da)


def send(pkts, sock=None, dst=None, counted=True):
    """Send @pkts to A, a few at a time so no queue overflows."""
    sock = sock or c.sock
    dst = dst or topo.ipa
    base = W.counters(topo.da)
    key = "rx_pkts" if counted else "rx_drop_no_device"
    for i, p in enumerate(pkts):
        sock.sendto(p, (dst, W.UET_PORT))
        if i % 32 == 31:
            W.wait_for(lambda: W.counters(topo.da)[key] - base[key] >= i + 1,
                       5, 0.01)


def replies():
    """UET packets A sent to B since the last call."""
    rs = [dict(W.parse_uet(p["payload"]), ip=p, sport=p["sport"],
               dport=p["dport"])
          for p in c.sniff.drain(0.15)
          if p["src"] == topo.ipa and (p["sport"] == W.UET_PORT or
                                       p["dport"] == W.UET_PORT)]
    for r in rs:
        t = r.get("type")
        c.seen[t] = c.seen.get(t, 0) + 1
    return rs


def note_responses(rs):
    for r in rs:
        if "rsp" in r and r["rsp"]["rc"] == W.RC_OK and \
                r.get("dpdcid", 0) > 0x4000:
            c.bad_rsp.append(r)


def check_class(desc, pkts, drops, rx=None, nodev=0, sock=None, dst=None,
                opened=0, nack=None, extra=None):
    """
    Send @pkts; expect rx_pkts + @rx (default: all), the rx_drop_*
    counters in @drops to grow by the given amounts and no other to move,
    pdc_opened + @opened.  @nack = (code, count, fn(pkt, reply) -> bool):
    NACKs with that code that must come back.  @extra(replies) -> error
    string or None.
    """
    rx = len(pkts) if rx is None else rx
    replies()
    before = W.counters(topo.da)
    send(pkts, sock, dst, counted=not nodev)
    after = settle(before, rx, nodev, sum(drops.values()))
    rs = replies()
    note_responses(rs)
    d = W.delta(after, before)
    got = W.drop_delta(after, before)
    want = {k: v for k, v in drops.items() if v}
    errs = []
    if got != want:
        errs.append("rx_drop_* deltas: expected %s, got %s" % (want, got))
    if d["rx_pkts"] != rx:
        errs.append("rx_pkts: expected +%d, got +%d" % (rx, d["rx_pkts"]))
    if d["pdc_opened"] != opened:
        errs.append("pdc_opened: expected +%d, got +%d" %
                    (opened, d["pdc_opened"]))
    c.pdcs_opened += d["pdc_opened"]
    if nack:
        code, count, match = nack
        ns = [r for r in rs if r.get("type") == W.PDS_NACK and
              r.get("code") == code]
        good = [r for r in ns if match(r)]
        if len(good) != count or len(ns) != count:
            errs.append("NACK %s: expected %d well-formed, got %d of %d: %s" %
                        (W.NACK_CODES.get(code, code), count, len(good),
                         len(ns), ns[:2]))
    if extra:
        e = extra(rs)
        if e:
            errs.append(e)
    return ktap.result(not errs, desc, "\n".join(errs))


def nack_form(code, spdcid, sport=SPORT, dpdcid=None, psns=None):
    """
    The NACK of @code for a request of our PDC @spdcid: 16 bytes, next_hdr
    and flags 0, UDP ports 4793 <- @sport (entropy echo), its dpdcid our
    @spdcid, its spdcid @dpdcid (the target PDC, 0 if none), PSN echoed.
    """
    def match(r):
        return (r["len"] == W.PDS_NACK_LEN and r["type"] == W.PDS_NACK and
                r["next"] == 0 and r["flags"] == 0 and r["code"] == code and
                r["dport"] == W.UET_PORT and r["sport"] == sport and
                r["dpdcid"] == spdcid and
                (dpdcid is None or r["spdcid"] == dpdcid) and
                (psns is None or r["psn"] in psns))
    return match


# ----------------------------------------------------------- packets

def ses_send(qpn, initiator, payload=b"x" * 8, **kw):
    flags = kw.pop("flags", W.SES_SOM | W.SES_EOM)
    mlen = kw.pop("mlen", len(payload))
    op = kw.pop("op", W.SES_SEND)
    return W.ses_std(op, flags, kw.pop("msg_id", 1), qpn, initiator, mlen,
                     **kw) + payload


def syn_stream(spdcid, start, bodies, first_off=0, ptype=W.PDS_ROD_REQ):
    """Requests with SYN at PSN start + first_off + i, one per body."""
    return [W.pds_req(start + first_off + i, spdcid, first_off + i,
                      flags=W.REQ_SYN, ptype=ptype) + b
            for i, b in enumerate(bodies)]


def rc_peer(payload=b"x" * 8, **kw):
    return ses_send(c.rc_qpn, FAKE_RC_QPN, payload, **kw)


def opener(spdcid, start):
    """A SYN for a new PDC; SES refuses it (no such QP)."""
    return syn_stream(spdcid, start, [ses_send(NO_QPN, 7)])


def ses_class(desc, bodies, drops, sock=None, rsp_rc=None,
              ptype=W.PDS_ROD_REQ, first_off=0):
    """A class of SES requests on a PDC of its own, opened by SYN."""
    sp = new_spdcid()
    start = rng.randrange(1 << 32)
    pkts = syn_stream(sp, start, bodies, first_off, ptype)

    def extra(rs):
        if rsp_rc is None:
            return None
        got = [r["rsp"]["rc"] for r in rs
               if r.get("type") in (W.PDS_ACK, W.PDS_ACK_CC) and
               r.get("dpdcid") == sp and "rsp" in r]
        if len(got) != len(bodies) or set(got) != {rsp_rc}:
            return "responses: expected %d x rc %#x, got %s" % (
                len(bodies), rsp_rc, got)
        return None
    return check_class(desc, pkts, drops, sock=sock, opened=1, extra=extra)


# ----------------------------------------------------------- fuzzing

RSVD_TYPES = [0] + list(range(15, 32))
UNIMPL_TYPES = [W.PDS_TSS, W.PDS_RUDI_REQ, W.PDS_RUDI_RESP,
                W.PDS_RUD_CC_REQ, W.PDS_ROD_CC_REQ]
REQ_TYPES = (W.PDS_ROD_REQ, W.PDS_RUD_REQ)
ACK_LENS = {W.PDS_ACK: W.PDS_ACK_LEN, W.PDS_ACK_CC: W.PDS_ACK_CC_LEN,
            W.PDS_ACK_CCX: W.PDS_ACK_CCX_LEN}


def prefilter(b):
    """What the PDS length and type checks alone make of @b, or None."""
    if len(b) < 2:
        return "rx_drop_short"
    pro = (b[0] << 8) | b[1]
    t, nx = pro >> 11, (pro >> 7) & 0xf
    if t in REQ_TYPES or t == W.PDS_UUD_REQ:
        if nx != W.SES_REQ_STD:
            return "rx_drop_unsupported"
        need = (W.PDS_REQ_LEN if t in REQ_TYPES else W.PDS_UUD_LEN) + \
            W.SES_STD_LEN
    elif t in ACK_LENS:
        base = ACK_LENS[t]
        if nx == W.SES_NONE:
            need = base
        elif nx == W.SES_RSP:
            need = base + W.SES_RSP_LEN
        elif nx == W.SES_RSP_DATA:
            need = base + 20
            if len(b) < need:
                return "rx_drop_short"
            pl = ((b[base + 10] << 8) | b[base + 11]) & 0x3fff
            if pl != len(b) - need:
                return "rx_drop_bad_len"
        elif nx == W.SES_RSP_DATA_SMALL:
            return "rx_drop_unsupported"
        else:
            return "rx_drop_bad_hdr"
    elif t in (W.PDS_NACK, W.PDS_CP):
        need = 16
    elif t == W.PDS_NACK_CCX:
        need = W.PDS_NACK_CCX_LEN
    elif t in UNIMPL_TYPES:
        return "rx_drop_unsupported"
    else:
        return "rx_drop_bad_hdr"
    return "rx_drop_short" if len(b) < need else None


def ses_short(b):
    """Could SES find @b's atomic extension header truncated?"""
    if prefilter(b):
        return False
    p = W.parse_uet(b)
    s = p.get("ses")
    return bool(s) and s["opcode"] == 0x04 and s["payload"] < 36


def may_be_accepted(b, live_qpns):
    """Could A act on @b without a drop (answer it, deliver it)?"""
    if prefilter(b):
        return False
    pro = (b[0] << 8) | b[1]
    t, nx, fl = pro >> 11, (pro >> 7) & 0xf, pro & 0x7f
    if t == W.PDS_CP:
        return nx in (W.CP_ACK_REQ, W.CP_CLEAR) and not fl & W.CP_SYN
    # A SYN a little past its start PSN opens a PDC and waits in it.
    if t == W.PDS_ROD_REQ and fl & W.REQ_SYN and len(b) >= 12 and \
            0 < (((b[10] << 8) | b[11]) & 0xfff) < 128:
        return True
    if t in REQ_TYPES + (W.PDS_UUD_REQ,):
        p = W.parse_uet(b)
        return p.get("ses", {}).get("qpn") in live_qpns
    return False


def fuzz_check(desc, pkts):
    live = {c.rc_qpn, c.ud_qpn}
    maybe = sum(may_be_accepted(p, live) for p in pkts)
    short_max = sum(ses_short(p) for p in pkts)
    pre = {}
    for p in pkts:
        k = prefilter(p)
        if k:
            pre[k] = pre.get(k, 0) + 1
    replies()
    before = W.counters(topo.da)
    send(pkts)
    after = settle(before, len(pkts), 0, len(pkts) - maybe)
    note_responses(replies())
    d = W.delta(after, before)
    got = W.drop_delta(after, before)
    total = sum(got.values())
    c.pdcs_opened += d["pdc_opened"]
    errs = []
    if d["rx_pkts"] != len(pkts):
        errs.append("rx_pkts: expected +%d, got +%d" %
                    (len(pkts), d["rx_pkts"]))
    if not len(pkts) - maybe <= total <= len(pkts):
        errs.append("sum of rx_drop_*: expected %d..%d, got %d" %
                    (len(pkts) - maybe, len(pkts), total))
    short = pre.get("rx_drop_short", 0)
    if not short <= got.get("rx_drop_short", 0) <= short + short_max:
        errs.append("rx_drop_short: expected +%d..%d, got +%d" %
                    (short, short + short_max, got.get("rx_drop_short", 0)))
    for k in ("rx_drop_bad_hdr", "rx_drop_unsupported", "rx_drop_bad_len"):
        if got.get(k, 0) < pre.get(k, 0):
            errs.append("%s: expected at least +%d, got +%d" %
                        (k, pre[k], got.get(k, 0)))
    ktap.msg("%s: %d packets, %d could be accepted; drops %s, "
             "pdc_opened +%d" % (desc, len(pkts), maybe,
                                 dict(sorted(got.items())),
                                 d["pdc_opened"]))
    return ktap.result(not errs, desc, "\n".join(errs))


def mutate(base):
    b = bytearray(base)
    for _ in range(rng.randint(1, 4)):
        what = rng.randrange(4)
        if what == 0 and b:
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        elif what == 1 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif what == 2:
            # Headers matter most: hit the first 56 bytes more often.
            i = rng.randrange(min(len(b), 56)) if b else 0
            if b:
                b[i] = rng.randrange(256)
        else:
            del b[rng.randrange(len(b) + 1):]
    return bytes(b)


# -------------------------------------------------------------- main

def start_fake_servers():
    gid_b = W.ip4_mapped(topo.ipb)
    rc = W.Proc(["stdbuf", "-oL", "ibv_rc_pingpong", "-d", topo.da, "-g", str(topo.gida),
                 "-e", "-p", str(RC_PORT)], topo.nsa, 170)
    c.procs.append(rc)
    peer = W.PingpongPeer(topo.nsb, topo.ipa, RC_PORT, FAKE_RC_QPN, 0, gid_b)
    c.rc_qpn = peer.remote_qpn
    ud = W.Proc(["stdbuf", "-oL", "ibv_ud_pingpong", "-d", topo.da, "-g", str(topo.gida),
                 "-e", "-s", "512", "-p", str(UD_PORT)], topo.nsa, 170)
    c.procs.append(ud)
    peer = W.PingpongPeer(topo.nsb, topo.ipa, UD_PORT, FAKE_UD_QPN, 0, gid_b)
    c.ud_qpn = peer.remote_qpn
    c.rc, c.ud = rc, ud
    ok = W.wait_for(lambda: "remote address" in rc.output() and
                    "remote address" in ud.output(), 10)
    return ok and rc.alive() and ud.alive()


def ru_exchange(ns, ip, port, gid_raw, qpn):
    """uet_ru_pingpong's address exchange: GID and QPN (big-endian)
    each way; its QPN."""
    try:
        s = W.connect_in(ns, ip, port)
    except OSError:
        return None
    with s:
        s.sendall(gid_raw + struct.pack(">I", qpn))
        buf = b""
        while len(buf) < 20:
            chunk = s.recv(20 - len(buf))
            if not chunk:
                return None
            buf += chunk
    return struct.unpack(">I", buf[16:20])[0]


def ru_classes():
    """A JobID not its own reaches no RU QP: one on A, in job RU_JOB."""
    srv = W.Proc(["uet-job", "-d", topo.da, "-j", str(RU_JOB), "-u",
                  "nobody", "--", "uet_ru_pingpong", "-d", topo.da, "-g",
                  str(topo.gida), "-p", str(RU_PORT)], topo.nsa, 170)
    c.procs.append(srv)
    qpn = ru_exchange(topo.nsb, topo.ipa, RU_PORT, W.ip4_mapped(topo.ipb),
                      FAKE_RC_QPN)
    # The server must outlive the exchange: it waits for traffic now.
    time.sleep(0.5)
    ktap.result(qpn is not None and srv.alive(),
                "an RU QP on %s in job %#x (uet_ru_pingpong)" %
                (topo.da, RU_JOB), srv.output())
    if qpn is None:
        qpn = NO_QPN
    p = b"z" * 16
    ses_class("SEND over RUD to the RU QP with another job's JobID "
              "(forged): rx_drop_bad_job",
              [ses_send(qpn, FAKE_RC_QPN, p, job=RU_JOB + 1 + i * 0x1001,
                        msg_id=300 + i) for i in range(K)],
              {"rx_drop_bad_job": K}, rsp_rc=0x1b, ptype=W.PDS_RUD_REQ)
    ses_class("SEND over ROD to the RU QP in the default job (JobID 0): "
              "rx_drop_bad_job",
              [ses_send(qpn, FAKE_RC_QPN, p, job=0, msg_id=400 + i)
               for i in range(K)],
              {"rx_drop_bad_job": K}, rsp_rc=0x1b)
    if not srv.alive():
        ktap.msg("uet_ru_pingpong ended: %s" % srv.output())


def held_budget_class():
    """
    SYNs a little past their start PSN open PDCs and wait in them; past
    the device's budget of held requests (4096) they are dropped
    (rx_drop_no_mem) and NACKed NO_PKT_BUFFER, not kept.
    """
    pk = []
    for _ in range(HELD_PDCS):
        sp = new_spdcid()
        start = rng.randrange(1 << 32)
        pk += [W.pds_req(start + k, sp, k, flags=W.REQ_SYN) +
               ses_send(NO_QPN, 7) for k in range(1, 128)]
    replies()
    before = W.counters(topo.da)
    send(pk)
    after = settle(before, len(pk), 0, 1)
    rs = replies()
    d = W.delta(after, before)
    got = W.drop_delta(after, before)
    held, nomem = d["rx_ooo_held"], got.get("rx_drop_no_mem", 0)
    nacks = [r for r in rs if r.get("type") == W.PDS_NACK and
             r.get("code") == W.NACK_NO_PKT_BUFFER]
    errs = []
    if set(got) - {"rx_drop_no_mem"}:
        errs.append("other drops: %s" % got)
    if held + nomem != len(pk) or not nomem or held > HELD_MAX:
        errs.append("%d packets: %d held, %d rx_drop_no_mem" %
                    (len(pk), held, nomem))
    if len(nacks) != nomem:
        errs.append("%d NACKs NO_PKT_BUFFER for %d drops" %
                    (len(nacks), nomem))
    c.pdcs_opened += d["pdc_opened"]
    ktap.msg("held budget: %d held, %d dropped" % (held, nomem))
    return ktap.result(not errs, "requests held beyond the device's budget: "
                       "rx_drop_no_mem, NACK NO_PKT_BUFFER, no more kept",
                       "\n".join(errs))


def pds_classes():
    sp = new_spdcid()
    req = W.pds_req(1000, sp, 0, flags=W.REQ_SYN) + ses_send(NO_QPN, 7)
    check_class("empty and 1-byte UDP payloads: rx_drop_short",
                [b""] * 10 + [b"\x18"] * 5 + [b"\x00"] * 5,
                {"rx_drop_short": 20})
    check_class("ROD request truncated to 2..55 bytes: rx_drop_short",
                [req[:n] for n in range(2, 56)], {"rx_drop_short": 54})
    ack = W.pds_ack(5, 1, sp)
    ackr = W.pds_ack(5, 1, sp, nxt=W.SES_RSP) + bytes(12)
    ackcc = W.pds_ack(5, 1, sp, ptype=W.PDS_ACK_CC) + bytes(20)
    ackccx = W.pds_ack(5, 1, sp, ptype=W.PDS_ACK_CCX) + bytes(28)
    check_class("ACK under 12 (24 with RSP), ACK_CC under 32, ACK_CCX "
                "under 40 bytes: rx_drop_short",
                [ack[:n] for n in range(2, 12)] +
                [ackr[:n] for n in range(12, 24)] +
                [ackcc[:n] for n in range(2, 32)] +
                [ackccx[:n] for n in range(2, 40)],
                {"rx_drop_short": 10 + 12 + 30 + 38})
    nack = W.pds_nack(W.NACK_ROD_OOO, 5, 1, sp)
    nackccx = W.pds_nack(W.NACK_ROD_OOO, 5, 1, sp,
                         ptype=W.PDS_NACK_CCX) + bytes(16)
    cp = W.pds_cp(W.CP_ACK_REQ, 5, sp, 1)
    check_class("NACK and CP under 16, NACK_CCX under 32 bytes: "
                "rx_drop_short",
                [nack[:n] for n in range(2, 16)] +
                [cp[:n] for n in range(2, 16)] +
                [nackccx[:n] for n in range(2, 32)], {"rx_drop_short": 58})
    uud = W.pds_uud() + ses_send(c.ud_qpn, 7, key=UD_QKEY,
                                 op=W.SES_DATAGRAM_SEND)
    check_class("UUD request under 48 bytes: rx_drop_short",
                [uud[:n] for n in range(2, 48)], {"rx_drop_short": 46})
    pk = [W.pds_req(1, sp, 0, ptype=t, nxt=rng.randrange(16)) +
          bytes(rng.randrange(60)) for t in RSVD_TYPES for _ in range(2)]
    pk += [bytes([t << 3, 0]) for t in RSVD_TYPES]
    check_class("reserved PDS types 0 and 15..31: rx_drop_bad_hdr", pk,
                {"rx_drop_bad_hdr": len(pk)})
    pk = [W.pds_ack(5, 1, sp, nxt=n, ptype=t) + bytes(32)
          for t in (W.PDS_ACK, W.PDS_ACK_CC)
          for n in (1, 2, 3) + tuple(range(7, 16))]
    check_class("ACK and ACK_CC with a reserved or request next_hdr: "
                "rx_drop_bad_hdr", pk, {"rx_drop_bad_hdr": len(pk)})
    pk = [W.pds_req(1, sp, 0, ptype=t, flags=W.REQ_SYN) + ses_send(NO_QPN, 7)
          for t in UNIMPL_TYPES for _ in range(3)]
    pk += [bytes([t << 3, 0]) for t in UNIMPL_TYPES]
    check_class("TSS, RUDI, RUD/ROD_CC requests: "
                "rx_drop_unsupported", pk, {"rx_drop_unsupported": len(pk)})
    pk = [W.pds_req(1, sp, 0, nxt=n, flags=W.REQ_SYN) + ses_send(NO_QPN, 7)
          for n in range(16) if n != W.SES_REQ_STD]
    pk += [W.pds_uud(nxt=n) + ses_send(NO_QPN, 7, op=W.SES_DATAGRAM_SEND)
           for n in range(16) if n != W.SES_REQ_STD]
    pk += [W.pds_ack(5, 1, sp, nxt=W.SES_RSP_DATA_SMALL) + bytes(32)] * 2
    check_class("ROD and UUD with next_hdr other than REQ_STD, ACK with "
                "RSP_DATA_SMALL: rx_drop_unsupported", pk,
                {"rx_drop_unsupported": len(pk)})
    rd = W.pds_ack(5, 1, sp, nxt=W.SES_RSP_DATA) + W.ses_rsp_data(16) + \
        b"d" * 16
    pk = [rd[:n] for n in range(12, 32)]
    check_class("ACK with RSP_DATA shorter than 12 + 20 bytes: "
                "rx_drop_short", pk, {"rx_drop_short": len(pk)})
    pk = [rd[:-1 - i] for i in range(10)] + [rd + b"e" * (1 + i)
                                             for i in range(10)]
    check_class("ACK with RSP_DATA whose payload_length is not the "
                "payload's: rx_drop_bad_len", pk, {"rx_drop_bad_len": K})
    pk = [W.pds_cp(ctl, 5, sp, 1) for ctl in range(16)
          if ctl not in (W.CP_ACK_REQ, W.CP_CLOSE, W.CP_CLEAR)]
    pk += [W.pds_cp(W.CP_ACK_REQ, 5, sp, 1, flags=W.CP_SYN)] * 5
    # CLOSE and CLEAR are carried: to a PDC nobody knows, unknown PDC.
    close = [W.pds_cp(W.CP_CLOSE, 5, sp, 1)] * 5
    close += [W.pds_cp(W.CP_CLEAR, 0, sp, 1, payload=5)] * 5
    before = W.counters(topo.da)
    check_class("CP other than ACK_REQ, CLEAR and CLOSE, ACK_REQ with SYN: "
                "rx_drop_unsupported", pk, {"rx_drop_unsupported": len(pk)})
    check_class("CLOSE and CLEAR for an unknown PDC: rx_drop_unknown_pdc",
                close, {"rx_drop_unknown_pdc": len(close)})
    cps = W.counters(topo.da)["rx_control_pkts"] - before["rx_control_pkts"]
    ktap.result(cps == len(pk) + len(close),
                "control packets counted in rx_control_pkts",
                "rx_control_pkts +%d, expected +%d" %
                (cps, len(pk) + len(close)))

    sp = new_spdcid()
    ids = [0] + [0xffff - i for i in range(K - 1)]
    psns = [rng.randrange(1 << 32) for _ in ids]
    check_class("ROD request without SYN for an unknown dpdcid: "
                "rx_drop_unknown_pdc, NACK INV_DPDCID back",
                [W.pds_req(p, sp, i) + ses_send(NO_QPN, 7)
                 for p, i in zip(psns, ids)],
                {"rx_drop_unknown_pdc": K},
                nack=(W.NACK_INV_DPDCID, K,
                      nack_form(W.NACK_INV_DPDCID, sp, dpdcid=0,
                                psns=set(psns))))
    pk = [W.pds_ack(5, sp, i) for i in ids[:7]]
    pk += [W.pds_ack(5, sp, i, ptype=W.PDS_ACK_CC) + bytes(20)
           for i in ids[:7]]
    pk += [W.pds_ack(5, sp, i, ptype=W.PDS_ACK_CCX) + bytes(28)
           for i in ids[:4]]
    pk += [W.pds_nack(W.NACK_ROD_OOO, 5, sp, i) for i in ids[:6]]
    pk += [W.pds_nack(W.NACK_ROD_OOO, 5, sp, i, ptype=W.PDS_NACK_CCX) +
           bytes(16) for i in ids[:4]]
    pk += [W.pds_cp(W.CP_ACK_REQ, 5, sp, i) for i in ids[:6]]
    pk += [W.pds_ack(5, sp, i, nxt=W.SES_RSP) + bytes(12) for i in ids[:3]]
    pk += [W.pds_ack(5, sp, i, nxt=W.SES_RSP_DATA) + W.ses_rsp_data(8) +
           b"d" * 8 for i in ids[:3]]
    check_class("ACK (+RSP, +RSP_DATA), ACK_CC(X), NACK(_CCX) and ACK_REQ for "
                "unknown PDC ids: "
                "rx_drop_unknown_pdc", pk, {"rx_drop_unknown_pdc": len(pk)},
                extra=lambda rs: "got replies: %s" % rs[:2] if rs else None)

    # Anchor: a target PDC that our SYN opens; its id comes in the ACK.
    sp = c.anchor_sp = new_spdcid()
    c.anchor_start = start = rng.randrange(1 << 32)

    def learn(rs):
        acks = [r for r in rs if r.get("type") == W.PDS_ACK and
                r.get("dpdcid") == sp]
        if len(acks) != 1:
            return "expected 1 ACK for the SYN, got %s" % rs
        a = acks[0]
        c.anchor_id = a["spdcid"]
        if not (a["len"] == 24 and a["cack"] == start and a["ack_off"] == 0
                and a["next"] == W.SES_RSP and a["rsp"]["rc"] == 0x19 and
                a["spdcid"] != 0 and a["sport"] == SPORT and
                a["dport"] == W.UET_PORT):
            return "ACK: expected 24 bytes, cack %#x, offset 0, RSP " \
                "BAD_INDEX, ports %d->4793; got %s" % (start, SPORT, a)
        return None
    c.anchor_id = None
    check_class("SYN opens a target PDC; SES refuses an unknown QPN "
                "(rx_drop_bad_qp), ACK with RSP BAD_INDEX and the PDC id",
                opener(sp, start), {"rx_drop_bad_qp": 1}, opened=1,
                extra=learn)
    if c.anchor_id is None:
        c.anchor_id = 0xfffe
    aid = c.anchor_id
    exp = (start + 1) & 0xffffffff
    pk = [W.pds_ack(5, sp, aid)] * 5 + \
        [W.pds_nack(W.NACK_ROD_OOO, 5, sp, aid)] * 5
    check_class("ACK and NACK addressed to a target PDC: "
                "rx_drop_unknown_pdc", pk, {"rx_drop_unknown_pdc": len(pk)})
    pk = [W.pds_req(exp, sp + 1000, aid) + ses_send(NO_QPN, 7)] * 10
    check_class("request without SYN with a wrong spdcid: "
                "rx_drop_pdc_mismatch, NACK PDC_HDR_MISMATCH", pk,
                {"rx_drop_pdc_mismatch": 10},
                nack=(W.NACK_PDC_HDR_MISMATCH, 10,
                      nack_form(W.NACK_PDC_HDR_MISMATCH, sp + 1000,
                                dpdcid=0, psns={exp})))
    pk = [W.pds_req(exp, sp, aid) + ses_send(NO_QPN, 7)] * 10
    check_class("request without SYN from another source address: "
                "rx_drop_pdc_mismatch, NACK PDC_HDR_MISMATCH", pk,
                {"rx_drop_pdc_mismatch": 10}, sock=c.sock2,
                nack=(W.NACK_PDC_HDR_MISMATCH, 10,
                      nack_form(W.NACK_PDC_HDR_MISMATCH, sp, dpdcid=0)))
    pk = [W.pds_cp(W.CP_ACK_REQ, start, sp + 1000, aid)] * 5
    c2 = [W.pds_cp(W.CP_ACK_REQ, start, sp, aid)] * 5
    check_class("ACK_REQ with a wrong spdcid: rx_drop_pdc_mismatch", pk,
                {"rx_drop_pdc_mismatch": 5})
    check_class("ACK_REQ from another source address: "
                "rx_drop_pdc_mismatch", c2, {"rx_drop_pdc_mismatch": 5},
                sock=c.sock2)
    pk = [W.pds_req(start + 1000 + i, sp, 0, flags=W.REQ_SYN) +
          ses_send(NO_QPN, 7) for i in range(K // 2)]
    pk += [W.pds_req(start + 5 + i, sp, 1 + i, flags=W.REQ_SYN) +
           ses_send(NO_QPN, 7) for i in range(K // 2)]
    check_class("SYN with another start PSN on an open PDC: "
                "rx_drop_bad_syn, NACK INVALID_SYN", pk,
                {"rx_drop_bad_syn": K},
                nack=(W.NACK_INVALID_SYN, K,
                      nack_form(W.NACK_INVALID_SYN, sp, dpdcid=aid)))
    pk = [W.pds_req(exp + 128 + i * 97, sp, aid) + ses_send(NO_QPN, 7)
          for i in range(K // 2)]
    pk += [W.pds_req(start + 129 + i * 201, sp, 129 + i * 201,
                     flags=W.REQ_SYN) + ses_send(NO_QPN, 7)
           for i in range(K // 2)]
    pk += [W.pds_req(exp + 0x7fffffff, sp, aid) + ses_send(NO_QPN, 7)]
    check_class("PSN beyond the 128-PSN window (with and without SYN): "
                "rx_drop_out_of_window, NACK PSN_OOR_WINDOW", pk,
                {"rx_drop_out_of_window": K + 1},
                nack=(W.NACK_PSN_OOR_WINDOW, K + 1,
                      lambda r: nack_form(W.NACK_PSN_OOR_WINDOW, sp,
                                          dpdcid=aid)(r) and
                      r["payload"] == exp & 0xffffffff))
    pk = [W.pds_req(start, sp, 0, flags=W.REQ_SYN) +
          ses_send(NO_QPN, 7)] * (K // 2)
    pk += [W.pds_req(start - 5 - i, sp, aid) + ses_send(NO_QPN, 7)
           for i in range(K // 2)]
    check_class("duplicate PSNs without RETX or AR: rx_drop_duplicate, "
                "no reply", pk, {"rx_drop_duplicate": K},
                extra=lambda rs: "replies: %s" % rs[:2] if rs else None)
    pk = [W.pds_req(exp - 1, sp, aid, flags=W.REQ_RETX | W.REQ_AR) +
          ses_send(NO_QPN, 7)] * 5

    def replay(rs):
        a = [r for r in rs if r.get("type") == W.PDS_ACK and
             r.get("dpdcid") == sp and r.get("rsp", {}).get("rc") == 0x19]
        return None if len(a) == 5 else \
            "expected the kept BAD_INDEX response 5 times, got %s" % rs
    check_class("retransmitted duplicate: rx_drop_duplicate, the kept "
                "response comes again", pk, {"rx_drop_duplicate": 5},
                extra=replay)
    pk = [W.pds_cp(W.CP_ACK_REQ, start, sp, aid, flags=W.CP_ISROD)] * 5

    def kept(rs):
        a = [r for r in rs if r.get("type") == W.PDS_ACK and
             r.get("dpdcid") == sp and r.get("spdcid") == aid and
             r.get("cack") == start and r.get("ack_off") == 0 and
             r.get("rsp", {}).get("rc") == 0x19 and r["sport"] == SPORT]
        return None if len(a) == 5 and len(rs) == 5 else \
            "expected 5 ACKs with the kept BAD_INDEX response, got %s" % rs
    check_class("ACK_REQ for a PSN received: answered with the kept "
                "response, no drop", pk, {}, extra=kept)
    psns = [(exp + 3) & 0xffffffff, exp & 0xffffffff,
            (start - 200) & 0xffffffff]
    pk = [W.pds_cp(W.CP_ACK_REQ, q, sp, aid, flags=W.CP_ISROD)
          for q in psns] * 3
    check_class("ACK_REQ for a PSN not received or no longer kept: "
                "NACK PKT_NOT_RCVD, no drop", pk, {},
                nack=(W.NACK_PKT_NOT_RCVD, len(pk),
                      lambda r: nack_form(W.NACK_PKT_NOT_RCVD, sp,
                                          dpdcid=aid, psns=set(psns))(r)
                      and r["payload"] == exp & 0xffffffff))
    # A CLEAR for what we have cleared or never sent is old news.
    pk = [W.pds_cp(W.CP_CLEAR, 0, sp, aid, flags=W.CP_ISROD,
                   payload=(start - 1 - i) & 0xffffffff) for i in range(3)]
    pk += [W.pds_cp(W.CP_CLEAR, 0, sp, aid, flags=W.CP_ISROD,
                    payload=(exp + i) & 0xffffffff) for i in range(2)]
    check_class("CLEAR at or before CLEAR_PSN, or past what was received: "
                "rx_drop_stale, no reply", pk, {"rx_drop_stale": 5},
                extra=lambda rs: "replies: %s" % rs[:2] if rs else None)
    pk = [W.pds_cp(W.CP_CLEAR, 0, sp, aid, flags=W.CP_ISROD,
                   payload=start)]
    check_class("CLEAR of the PSN received: no drop, no reply", pk, {},
                extra=lambda rs: "replies: %s" % rs[:2] if rs else None)
    pk = [W.pds_req(exp - 1, sp, aid, flags=W.REQ_RETX | W.REQ_AR) +
          ses_send(NO_QPN, 7)] * 5

    def cleared(rs):
        a = [r for r in rs if r.get("type") == W.PDS_ACK and
             r.get("dpdcid") == sp and r.get("cack") == start and
             r.get("next") == W.SES_NONE and r.get("len") == W.PDS_ACK_LEN]
        return None if len(a) == 5 and len(rs) == 5 else \
            "expected 5 ACKs without a response, got %s" % rs
    check_class("retransmitted duplicate after CLEAR: rx_drop_duplicate, "
                "ACK without the cleared response", pk,
                {"rx_drop_duplicate": 5}, extra=cleared)

    # Requests ahead of their turn wait for the gap and are SACKed.
    ahead = [(exp + 1 + i * 6) & 0xffffffff for i in range(K // 2)]
    pk = [W.pds_req(q, sp, aid) + ses_send(NO_QPN, 7) for q in ahead]
    ahead2 = [(exp + 3 + i * 6) & 0xffffffff for i in range(K // 2)]
    pk += [W.pds_req(q, sp, (q - start) & 0xffff, flags=W.REQ_SYN) +
           ses_send(NO_QPN, 7) for q in ahead2]
    held_bits = sum(1 << ((q - exp) & 0xffffffff) for q in ahead + ahead2)

    def sacked(rs):
        a = [r for r in rs if r.get("type") == W.PDS_ACK_CC and
             r.get("len") == W.PDS_ACK_CC_LEN and
             r.get("next") == W.SES_NONE and r.get("dpdcid") == sp and
             r.get("spdcid") == aid and r.get("cack") == start and
             r.get("sack_off") == 1 and r.get("mpr") == 1 and
             r.get("cc_type_flags") == 0 and r.get("cc_state") == 0 and
             r["sack_bitmap"] & ~held_bits == 0]
        last = max((r["sack_bitmap"] for r in a), default=0)
        return None if len(a) == K and len(rs) == K and \
            last == held_bits else \
            "expected %d ACK_CCs SACKing %#x, got %s" % (K, held_bits, rs)
    held0 = W.counters(topo.da)["rx_ooo_held"]
    check_class("PSNs ahead of the expected one (a gap): held "
                "(rx_ooo_held), no drop, ACK_CC with their SACK bits", pk,
                {}, extra=sacked)
    cnt = W.counters(topo.da)["rx_ooo_held"] - held0
    ktap.result(cnt == K, "held requests counted in rx_ooo_held",
                "rx_ooo_held +%d, expected +%d" % (cnt, K))
    pk = [W.pds_req(ahead[0], sp, aid, flags=W.REQ_RETX | W.REQ_AR) +
          ses_send(NO_QPN, 7)] * 5
    check_class("retransmitted duplicate of a held PSN: rx_drop_duplicate, "
                "ACK_CC again", pk, {"rx_drop_duplicate": 5},
                extra=lambda rs: None if len(rs) == 5 and all(
                    r.get("type") == W.PDS_ACK_CC and
                    r["sack_bitmap"] == held_bits for r in rs) else
                "expected 5 ACK_CCs, got %s" % rs)
    pk = [W.pds_cp(W.CP_ACK_REQ, ahead[1], sp, aid, flags=W.CP_ISROD)] * 5
    check_class("ACK_REQ for a held PSN: NACK RCVD_SES_PROCG, no drop", pk,
                {}, nack=(W.NACK_RCVD_SES_PROCG, 5,
                          lambda r: nack_form(W.NACK_RCVD_SES_PROCG, sp,
                                              dpdcid=aid,
                                              psns={ahead[1]})(r)))
    pk = []
    for i in range(K):
        sp2 = new_spdcid()
        off = 1 + i * 150
        pk.append(W.pds_req(rng.randrange(1 << 32), sp2, off,
                            flags=W.REQ_SYN) + ses_send(NO_QPN, 7))
    check_class("SYN opening a PDC past its start PSN (psn_offset > 0): "
                "held within the window, else rx_drop_out_of_window", pk,
                {"rx_drop_out_of_window": K - 1}, opened=K)
    held_budget_class()
    check_class("packets for an address of A that is no uet GID: "
                "rx_drop_no_device, not in rx_pkts",
                [W.pds_req(1, 1, 1)] * K, {"rx_drop_no_device": K}, rx=0,
                nodev=K, dst=IPA_LO)


def ses_rc_classes():
    p = b"y" * 16
    ses_class("SES version bits set: rx_drop_bad_hdr",
              [rc_peer(p, version=1 + i % 3) for i in range(K)],
              {"rx_drop_bad_hdr": K}, rsp_rc=0x07)
    ses_class("SES REL or IE flag set: rx_drop_bad_hdr",
              [rc_peer(p, flags=W.SES_SOM | W.SES_EOM |
                       (W.SES_REL if i % 2 else W.SES_IE))
               for i in range(K)], {"rx_drop_bad_hdr": K}, rsp_rc=0x07)
    ses_class("payload_length that is not the payload's: rx_drop_bad_len",
              [rc_peer(p, flags=W.SES_EOM, paylen=len(p) + 1 - 2 * (i % 2),
                       msgoff=16, mlen=32) for i in range(K)],
              {"rx_drop_bad_len": K}, rsp_rc=0x07)
    ses_class("message_offset beyond request_length: rx_drop_bad_len",
              [rc_peer(p, flags=0, paylen=len(p), msgoff=33 + i * 1000,
                       mlen=32) for i in range(K)],
              {"rx_drop_bad_len": K}, rsp_rc=0x07)
    ses_class("EOM short of request_length, SOM payload over it: "
              "rx_drop_bad_len",
              [rc_peer(p, mlen=100 + i) for i in range(K // 2)] +
              [rc_peer(p, flags=W.SES_SOM, mlen=8) for i in range(K // 2)],
              {"rx_drop_bad_len": K}, rsp_rc=0x07)
    ses_class("wrong JobID: rx_drop_bad_job",
              [rc_peer(p, job=1 + i * 0x10101) for i in range(K)],
              {"rx_drop_bad_job": K}, rsp_rc=0x1b)
    ses_class("SEND to a QPN nobody has: rx_drop_bad_qp",
              [ses_send(NO_QPN - i, FAKE_RC_QPN, p) for i in range(K)],
              {"rx_drop_bad_qp": K}, rsp_rc=0x19)
    ses_class("SEND to the RC QP from another initiator QPN: "
              "rx_drop_bad_qp",
              [ses_send(c.rc_qpn, FAKE_RC_QPN + 1 + i, p) for i in range(K)],
              {"rx_drop_bad_qp": K}, rsp_rc=0x1a)
    ses_class("SEND to the RC QP from another source address: "
              "rx_drop_bad_qp", [rc_peer(p)] * K, {"rx_drop_bad_qp": K},
              sock=c.sock2, rsp_rc=0x1a)
    ses_class("SEND over ROD to the UD QP: rx_drop_bad_qp",
              [ses_send(c.ud_qpn, FAKE_RC_QPN, p)] * K,
              {"rx_drop_bad_qp": K}, rsp_rc=0x1a)
    ses_class("SEND over RUD to the RC QP from its peer: "
              "rx_drop_unsupported",
              [rc_peer(p, msg_id=200 + i) for i in range(K)],
              {"rx_drop_unsupported": K}, rsp_rc=0x06, ptype=W.PDS_RUD_REQ)
    ses_class("RUD requests past the expected PSN go to SES at once "
              "(nothing held): rx_drop_bad_qp",
              [ses_send(NO_QPN - i, FAKE_RC_QPN, p) for i in range(K)],
              {"rx_drop_bad_qp": K}, rsp_rc=0x19, ptype=W.PDS_RUD_REQ,
              first_off=5)
    ses_class("SEND continuation without its first packet: "
              "rx_drop_bad_len",
              [rc_peer(p, flags=W.SES_EOM if i % 2 else 0, paylen=16,
                       msgoff=16 if i % 2 else 0, mlen=32, msg_id=100 + i)
               for i in range(K)], {"rx_drop_bad_len": K})
    # A responder that refuses a request goes to the error state (as on
    # IB): each of these gets an RC QP of its own.
    refused_class("WRITE with a bad rkey: rx_drop_bad_key",
                  lambda qpn, i: ses_send(qpn, FAKE_RC_QPN, p,
                                          op=W.SES_WRITE,
                                          key=0xffffff00 + i,
                                          boff=0x10000 * i),
                  "rx_drop_bad_key", 0x1c, RC4_PORT)
    refused_class("SES opcodes not carried (RENDEZVOUS_SEND, TAGGED_SEND, "
                  "DATAGRAM_SEND over ROD, vendor): rx_drop_unsupported",
                  lambda qpn, i: ses_send(qpn, FAKE_RC_QPN, p,
                                          op=(0x06, 0x09, 0x07, 0x3e)[i % 4]),
                  "rx_drop_unsupported", 0x06, RC5_PORT)


def refused_class(desc, body, counter, rc, port):
    """
    Requests from the connected peer that the responder refuses: the
    first is counted in @counter and answered @rc, the QP goes to the
    error state, every later one is refused as for no QP (DISABLED while
    the QP is being moved, BAD_PID once in error, BAD_INDEX once gone) and
    counted in rx_drop_bad_qp; the receive side sees only flushed work.
    """
    srv = W.Proc(["stdbuf", "-oL", "ibv_rc_pingpong", "-d", topo.da, "-g",
                  str(topo.gida), "-e", "-p", str(port)], topo.nsa, 120)
    c.procs.append(srv)
    qpn = W.PingpongPeer(topo.nsb, topo.ipa, port, FAKE_RC_QPN, 0,
                         W.ip4_mapped(topo.ipb)).remote_qpn
    W.wait_for(lambda: "remote address" in srv.output(), 5)
    sp = new_spdcid()
    pkts = syn_stream(sp, rng.randrange(1 << 32),
                      [body(qpn, i) for i in range(K)])

    def extra(rs):
        got = [r["rsp"]["rc"] for r in rs
               if r.get("type") in (W.PDS_ACK, W.PDS_ACK_CC) and
               r.get("dpdcid") == sp and "rsp" in r]
        errs = []
        if len(got) != K or got[0] != rc or \
                not set(got[1:]) <= {0x03, 0x1a, 0x19}:
            errs.append("responses: expected %#x then DISABLED, BAD_PID or "
                        "BAD_INDEX, got %s" % (rc, got))
        srv.wait(10)
        out = srv.output()
        if srv.alive() or "Flushed" not in out or "bytes in" in out:
            errs.append("the RC QP (%#x) did not just flush its receives: "
                        "alive %s, output:\n%s" % (qpn, srv.alive(), out))
        return "\n".join(errs) or None
    check_class(desc, pkts, {counter: 1, "rx_drop_bad_qp": K - 1}, opened=1,
                extra=extra)


def uud_classes():
    def dg(qpn, **kw):
        kw.setdefault("key", UD_QKEY)
        kw.setdefault("op", W.SES_DATAGRAM_SEND)
        return W.pds_uud() + ses_send(qpn, FAKE_UD_QPN, b"z" * 32, **kw)
    check_class("UUD datagram with a wrong Q_Key: rx_drop_bad_key",
                [dg(c.ud_qpn, key=UD_QKEY + 1 + i) for i in range(K)],
                {"rx_drop_bad_key": K})
    check_class("UUD datagram for no QP or for the RC QP: rx_drop_bad_qp",
                [dg(NO_QPN)] * (K // 2) + [dg(c.rc_qpn)] * (K // 2),
                {"rx_drop_bad_qp": K})
    check_class("UUD datagram with a wrong JobID: rx_drop_bad_job",
                [dg(c.ud_qpn, job=5 + i) for i in range(K)],
                {"rx_drop_bad_job": K})
    check_class("UUD with opcode SEND/WRITE, no EOM, or version bits: "
                "rx_drop_bad_hdr",
                [dg(c.ud_qpn, op=W.SES_SEND)] * 5 +
                [dg(c.ud_qpn, op=W.SES_WRITE)] * 5 +
                [dg(c.ud_qpn, flags=W.SES_SOM, mlen=64)] * 5 +
                [dg(c.ud_qpn, version=2)] * 5, {"rx_drop_bad_hdr": K})
    check_class("UUD middle packet with a wrong payload_length: "
                "rx_drop_bad_len",
                [dg(c.ud_qpn, flags=W.SES_EOM, paylen=31, msgoff=0,
                    mlen=32)] * K, {"rx_drop_bad_len": K})


def stale_class():
    """ACK/NACK for the PDC that A opened towards B, PSNs long past."""
    reqs = [r for r in c.seen_a if r.get("type") == W.PDS_ROD_REQ]
    if not reqs:
        ktap.result(False, "ACK and NACK with stale PSNs: rx_drop_stale",
                    "no request from A seen")
        return
    last = reqs[-1]
    pid, psn = last["spdcid"], last["psn"]
    tid = [r["dpdcid"] for r in reqs if not r["flags"] & W.REQ_SYN]
    tid = tid[-1] if tid else 1
    pk = [W.pds_ack(psn + 1000 + i, tid, pid) for i in range(K // 2)]
    pk += [W.pds_nack(W.NACK_ROD_OOO, psn + 1000 + i, tid, pid)
           for i in range(K // 2)]
    check_class("ACK and NACK with PSNs A never sent, for A's PDC: "
                "rx_drop_stale", pk, {"rx_drop_stale": K},
                sock=c.sock)


def restart_check():
    """
    B's device goes away and comes back (a peer that restarts): its new
    PDCs reuse PDC ids, start at new PSNs and know nothing of the old
    ones.  Nothing of the old incarnation may make the new one's traffic
    fail: A's target PDC of the old B and A's initiator PDC towards it
    are stale, not a reason to fail fresh messages.
    """
    W.run(["rdma", "link", "del", topo.db])
    W.wait_for(lambda: not W.dev_exists(topo.db), 5)
    W.run(["rdma", "link", "add", topo.db, "type", "uet", "netdev", topo.vb],
          ns=topo.nsb)
    W.wait_for(lambda: W.gid_index(topo.db, topo.ipb) is not None, 10)
    topo.gidb = W.gid_index(topo.db, topo.ipb)
    before = W.counters(topo.da)
    ok, text = W.run_pair(
        topo.nsa, ["ibv_rc_pingpong", "-d", topo.da, "-g", str(topo.gida),
                   "-p", str(RC3_PORT), "-n", "5"],
        topo.nsb, ["ibv_rc_pingpong", "-d", topo.db, "-g", str(topo.gidb),
                   "-p", str(RC3_PORT), "-n", "5", topo.ipa], RC3_PORT, 30)
    d = W.drop_delta(W.counters(topo.da), before)
    ktap.result(ok, "B's device re-created: ibv_rc_pingpong between A and B "
                "works at once (old PDC state does not fail new messages)",
                text + "\nA's drops meanwhile: %s" % d)


def main():
    global ktap

    if os.geteuid():
        W.skip_all("must be run as root")
    for p in ("ibv_rc_pingpong", "ibv_ud_pingpong", "rdma", "ip", "ss",
              "timeout"):
        if not any(os.access(os.path.join(d, p), os.X_OK)
                   for d in os.environ.get("PATH", "/usr/bin").split(":")):
            W.skip_all("%s is not installed" % p)
    if not os.access("/usr/bin/stdbuf", os.X_OK):
        W.skip_all("stdbuf is not installed")
    W.run(["modprobe", "rdma_uet"], check=False)
    if not os.path.isdir("/sys/module/rdma_uet"):
        W.skip_all("rdma_uet is not available")

    ktap = W.Ktap(PLAN)
    dmesg0 = W.dmesg_lines()
    try:
        topo.setup()
    except Exception as e:  # noqa: BLE001
        ktap.msg("set-up failed: %s" % e)
        topo.teardown()
        ktap.finish()
    ktap.msg("%s on %s (%s, GID %d) in %s; %s on %s (%s, GID %d) in %s" %
             (topo.da, topo.va, topo.ipa, topo.gida, topo.nsa, topo.db,
              topo.vb, topo.ipb, topo.gidb, topo.nsb))
    try:
        W.run(["ip", "addr", "add", IPB2 + "/24", "dev", topo.vb],
              ns=topo.nsb)
        W.run(["ip", "addr", "add", IPA_LO + "/32", "dev", "lo"], ns=topo.nsa)
        W.run(["ip", "route", "add", IPA_LO + "/32", "via", topo.ipa],
              ns=topo.nsb)
        c.sock = sock_from(topo.ipb)
        c.sock2 = sock_from(IPB2)
        c.sniff = W.Sniffer(topo.nsb, topo.vb)
        ok = start_fake_servers()
        ktap.result(ok, "RC and UD pingpong servers on %s connected to a "
                    "fake peer" % topo.da,
                    "rc:\n%s\nud:\n%s" % (c.rc.output(), c.ud.output()))
        ktap.msg("RC QPN %#x, UD QPN %#x, seed %s" %
                 (c.rc_qpn, c.ud_qpn, os.environ.get("UET_TEST_SEED", "-")))
        replies()
        c.seen = {}
        start = W.counters(topo.da)

        t0 = time.monotonic()
        pds_classes()
        ses_rc_classes()
        ru_classes()
        uud_classes()
        ktap.msg("classes took %.1f s" % (time.monotonic() - t0))
        t0 = time.monotonic()

        # Fuzz: random bytes, and mutations of a valid SYN request.
        pk = [bytes(rng.randrange(256) for _ in range(rng.randrange(120)))
              for _ in range(FUZZ)]
        for i in range(0, FUZZ, 4):
            # A quarter starts with a plausible prologue.
            t = rng.choice([3, 6, 7, 8, 10, 11])
            b = bytearray(pk[i] + bytes(max(0, 2 - len(pk[i]))))
            b[0] = (t << 3) | (b[0] & 7)
            pk[i] = bytes(b)
        fuzz_check("%d random packets: counted in rx_pkts, one drop each" %
                   FUZZ, pk)
        base = W.pds_req(rng.randrange(1 << 32), 0x7000, 0,
                         flags=W.REQ_SYN) + ses_send(NO_QPN, 0x777777,
                                                     b"m" * 64)
        pk = [mutate(base) for _ in range(FUZZ)]
        fuzz_check("%d mutations of a valid SYN request: counted in rx_pkts, "
                   "one drop each" % FUZZ, pk)

        ktap.msg("fuzzing took %.1f s" % (time.monotonic() - t0))
        replies()
        end = W.counters(topo.da)
        d = W.delta(end, start)
        seen_acks = c.seen.get(W.PDS_ACK, 0) + c.seen.get(W.PDS_ACK_CC, 0)
        seen_nacks = c.seen.get(W.PDS_NACK, 0)
        ktap.result(d["tx_acks"] == seen_acks and
                    d["tx_nacks"] == seen_nacks and
                    d["tx_pkts"] == sum(c.seen.values()),
                    "every reply A counted (%d ACKs, %d NACKs) was on the "
                    "wire" % (d["tx_acks"], d["tx_nacks"]),
                    "tx_acks +%d tx_nacks +%d tx_pkts +%d; seen %s" %
                    (d["tx_acks"], d["tx_nacks"], d["tx_pkts"], c.seen))
        ktap.msg("target PDCs opened by the injected SYNs: %d" %
                 d["pdc_opened"])
        ktap.result(d["rx_acks"] == 0 and d["rx_nacks"] == 0,
                    "no forged ACK or NACK was taken as valid",
                    "rx_acks +%d rx_nacks +%d" % (d["rx_acks"],
                                                  d["rx_nacks"]))
        note_responses(replies())
        ktap.result(not c.bad_rsp, "no injected request got an OK response",
                    "OK responses: %s" % c.bad_rsp[:3])
        for name, p, qpn in (("RC", c.rc, c.rc_qpn), ("UD", c.ud, c.ud_qpn)):
            out = p.output()
            bad = [l for l in out.splitlines()
                   if "Failed" in l or "bytes in" in l or "iters in" in l
                   or "Couldn't" in l]
            ktap.result(p.alive() and not bad and
                        ("QPN 0x%06x" % qpn) in out,
                        "no completion on the %s QP (QPN %#x): nothing "
                        "delivered" % (name, qpn),
                        "alive %s, output:\n%s" % (p.alive(), out))
            p.close()

        # The device still works, in both directions.  A's PDC towards B
        # must outlive the UD run for stale_class(): on a slow (debug)
        # kernel that takes longer than the 5 s pdc_idle_ms.
        with W.pdc_idle_ms(60000):
            ok, text = W.run_pair(
                topo.nsa, ["ibv_rc_pingpong", "-d", topo.da, "-g",
                           str(topo.gida), "-p", str(RC2_PORT), "-n", "50",
                           "-s", "4096"],
                topo.nsb, ["ibv_rc_pingpong", "-d", topo.db, "-g",
                           str(topo.gidb), "-p", str(RC2_PORT), "-n", "50",
                           "-s", "4096", topo.ipa], RC2_PORT)
            ktap.result(ok, "ibv_rc_pingpong between A and B after the "
                        "garbage", text)
            c.seen_a = [dict(W.parse_uet(p["payload"]))
                        for p in c.sniff.drain(0.15) if p["src"] == topo.ipa]
            ok, text = W.run_pair(
                topo.nsa, ["ibv_ud_pingpong", "-d", topo.da, "-g",
                           str(topo.gida), "-p", str(UD2_PORT), "-n", "50",
                           "-s", "512"],
                topo.nsb, ["ibv_ud_pingpong", "-d", topo.db, "-g",
                           str(topo.gidb), "-p", str(UD2_PORT), "-n", "50",
                           "-s", "512", topo.ipa], UD2_PORT)
            ktap.result(ok, "ibv_ud_pingpong between A and B after the "
                        "garbage", text)
            stale_class()
        restart_check()
        bad = W.dmesg_problems(dmesg0)
        ktap.result(not bad, "no WARNING, BUG or Oops in the kernel log",
                    "\n".join(bad[:30]))
    except Exception as e:  # noqa: BLE001
        import traceback
        ktap.msg("".join(traceback.format_exception(e)))
    finally:
        for p in c.procs:
            p.close()
        for s in ("sock", "sock2"):
            if hasattr(c, s):
                getattr(c, s).close()
        if hasattr(c, "sniff"):
            c.sniff.close()
        topo.teardown()
    if ktap.n == PLAN - 1:
        gone = not W.dev_exists(topo.da) and not W.dev_exists(topo.db)
        rc = W.run(["modprobe", "-r", "rdma_uet"], check=False,
                   quiet=True) if gone else "devices still there"
        ok = gone and not os.path.isdir("/sys/module/rdma_uet")
        ktap.result(ok, "devices removed and rdma_uet unloads (no PDC, skb "
                    "or QP reference left)", rc)
        W.run(["modprobe", "rdma_uet"], check=False)
    ktap.finish()


if __name__ == "__main__":
    main()
