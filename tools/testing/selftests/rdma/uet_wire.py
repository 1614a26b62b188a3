# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the uet wire selftests (uet_wire_inject.py,
# uet_wire_capture.py): KTAP output, two network namespaces joined by a
# veth pair with a uet device on each end, sockets opened inside a
# namespace, the device's port counters, UET header packing and parsing
# (uet_hdr.h, Documentation/infiniband/uet.rst), a pcap reader and the
# processes the tests start.  Python standard library only.

import contextlib
import ctypes
import os
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

KSFT_PASS = 0
KSFT_FAIL = 1
KSFT_SKIP = 4

UET_PORT = 4793

# PDS types (uet_hdr.h enum uet_pds_type).
PDS_TSS = 1
PDS_RUD_REQ = 2
PDS_ROD_REQ = 3
PDS_RUDI_REQ = 4
PDS_RUDI_RESP = 5
PDS_UUD_REQ = 6
PDS_ACK = 7
PDS_ACK_CC = 8
PDS_ACK_CCX = 9
PDS_NACK = 10
PDS_CP = 11
PDS_NACK_CCX = 12
PDS_RUD_CC_REQ = 13
PDS_ROD_CC_REQ = 14

PDS_TYPE_NAMES = {
    PDS_TSS: "TSS", PDS_RUD_REQ: "RUD_REQ", PDS_ROD_REQ: "ROD_REQ",
    PDS_RUDI_REQ: "RUDI_REQ", PDS_RUDI_RESP: "RUDI_RESP",
    PDS_UUD_REQ: "UUD_REQ", PDS_ACK: "ACK", PDS_ACK_CC: "ACK_CC",
    PDS_ACK_CCX: "ACK_CCX", PDS_NACK: "NACK", PDS_CP: "CP",
    PDS_NACK_CCX: "NACK_CCX", PDS_RUD_CC_REQ: "RUD_CC_REQ",
    PDS_ROD_CC_REQ: "ROD_CC_REQ",
}

# next_hdr values.
SES_NONE = 0
SES_REQ_SMALL = 1
SES_REQ_MEDIUM = 2
SES_REQ_STD = 3
SES_RSP = 4
SES_RSP_DATA = 5
SES_RSP_DATA_SMALL = 6

# Request flags.
REQ_RETX = 0x10
REQ_AR = 0x08
REQ_SYN = 0x04
# ACK flags.
ACK_M = 0x20
ACK_RETX = 0x10
ACK_P = 0x08
ACK_REQ_MASK = 0x06
# NACK flags.
NACK_RETX = 0x10
NACK_NT = 0x08
# CP flags and types.
CP_ISROD = 0x20
CP_RETX = 0x10
CP_AR = 0x08
CP_SYN = 0x04
CP_NOOP = 0
CP_ACK_REQ = 1
CP_CLEAR = 2
CP_CLEAR_REQ = 3
CP_CLOSE = 4
CP_CLOSE_REQ = 5
CP_PROBE = 6

NACK_CODES = {
    0x01: "TRIMMED", 0x02: "TRIMMED_LASTHOP", 0x03: "TRIMMED_ACK",
    0x04: "NO_PDC_AVAIL", 0x05: "NO_CCC_AVAIL", 0x06: "NO_BITMAP",
    0x07: "NO_PKT_BUFFER", 0x08: "NO_GTD_DEL_AVAIL",
    0x09: "NO_SES_MSG_AVAIL", 0x0a: "NO_RESOURCE", 0x0b: "PSN_OOR_WINDOW",
    0x0d: "ROD_OOO", 0x0e: "INV_DPDCID", 0x0f: "PDC_HDR_MISMATCH",
    0x10: "CLOSING", 0x11: "CLOSING_IN_ERR", 0x12: "PKT_NOT_RCVD",
    0x13: "GTD_DEL_RESP_UNAVAIL", 0x14: "ACK_WITH_DATA",
    0x15: "INVALID_SYN", 0x16: "PDC_MODE_MISMATCH", 0x17: "NEW_START_PSN",
    0x18: "RCVD_SES_PROCG", 0x19: "UNEXP_EVENT", 0x1a: "RCVR_INFER_LOSS",
}
NACK_INV_DPDCID = 0x0e
NACK_PDC_HDR_MISMATCH = 0x0f
NACK_PSN_OOR_WINDOW = 0x0b
NACK_ROD_OOO = 0x0d
NACK_INVALID_SYN = 0x15
NACK_PKT_NOT_RCVD = 0x12
NACK_RCVD_SES_PROCG = 0x18
NACK_NO_PKT_BUFFER = 0x07

# SES request opcodes and flags.
SES_NO_OP = 0x00
SES_WRITE = 0x01
SES_READ = 0x02
SES_SEND = 0x05
SES_DATAGRAM_SEND = 0x07
SES_TAGGED_SEND = 0x09
SES_DC = 0x20
SES_IE = 0x10
SES_REL = 0x08
SES_HD = 0x04
SES_EOM = 0x02
SES_SOM = 0x01
SES_VERSION_MASK = 0xc0

# Response opcodes and return codes.
RSP_DEFAULT = 0
RSP_RESPONSE = 1
RC_OK = 0x01

# header_data: immediate in bits 31..0, bit 32 "there is one".
HDATA_IMM = 1 << 32
HDATA_SOLICITED = 1 << 33

DEFAULT_JOB = 0

PDS_REQ_LEN = 12
PDS_ACK_LEN = 12
PDS_ACK_CC_LEN = 32
PDS_ACK_CCX_LEN = 40
PDS_NACK_LEN = 16
PDS_NACK_CCX_LEN = 32
PDS_CP_LEN = 16
PDS_UUD_LEN = 4
SES_STD_LEN = 44
SES_RSP_LEN = 12

# Port counters every dropped packet is accounted in.
DROP_COUNTERS = (
    "rx_drop_short", "rx_drop_bad_hdr", "rx_drop_unsupported",
    "rx_drop_no_device", "rx_drop_unknown_pdc", "rx_drop_pdc_mismatch",
    "rx_drop_bad_syn", "rx_drop_out_of_window", "rx_drop_out_of_order",
    "rx_drop_duplicate", "rx_drop_stale", "rx_drop_bad_qp",
    "rx_drop_bad_job", "rx_drop_bad_key", "rx_drop_bad_len",
    "rx_drop_no_recv", "rx_drop_no_mem",
)


# --------------------------------------------------------------- KTAP

class Ktap:
    """KTAP output: a plan, numbered results, "# " comments."""

    def __init__(self, plan):
        self.plan = plan
        self.n = 0
        self.failed = 0
        print("TAP version 13")
        print("1..%d" % plan, flush=True)

    def msg(self, text):
        for line in str(text).splitlines() or [""]:
            print("# " + line)
        sys.stdout.flush()

    def result(self, ok, desc, detail=None):
        self.n += 1
        if not ok:
            self.failed += 1
            if detail:
                self.msg(detail)
        print("%s %d %s" % ("ok" if ok else "not ok", self.n, desc),
              flush=True)
        return ok

    def skip(self, desc, why):
        self.n += 1
        print("ok %d %s # SKIP %s" % (self.n, desc, why), flush=True)

    def finish(self):
        """Fill the plan with failures if the test stopped early; exit."""
        while self.n < self.plan:
            self.result(False, "test %d not run" % (self.n + 1))
        if self.n > self.plan:
            self.msg("planned %d tests, ran %d" % (self.plan, self.n))
            self.failed += 1
        self.msg("Totals: pass:%d fail:%d" % (self.n - self.failed,
                                              self.failed))
        sys.exit(KSFT_FAIL if self.failed else KSFT_PASS)


def skip_all(reason):
    print("TAP version 13")
    print("1..0 # SKIP %s" % reason, flush=True)
    sys.exit(KSFT_SKIP)


# ------------------------------------------------------ commands, netns

def run(cmd, ns=None, check=True, timeout=60, quiet=False):
    """Run a command (a list) in namespace @ns; return its output."""
    if ns:
        cmd = ["ip", "netns", "exec", ns] + cmd
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, text=True, errors="replace")
    if check and p.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                                p.stdout.strip()))
    return p.stdout


_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


class InNetns:
    """with InNetns(ns): sockets created inside belong to namespace @ns."""

    def __init__(self, ns):
        self.ns = ns

    def __enter__(self):
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open("/run/netns/" + self.ns, os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns " + self.ns)
        finally:
            os.close(fd)
        return self

    def __exit__(self, *exc):
        try:
            if _libc.setns(self.home, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns back")
        finally:
            os.close(self.home)
        return False


def wait_for(pred, timeout=5.0, step=0.05):
    end = time.monotonic() + timeout
    while True:
        if pred():
            return True
        if time.monotonic() > end:
            return False
        time.sleep(step)


PDC_IDLE_PARAM = "/sys/module/rdma_uet/parameters/pdc_idle_ms"


@contextlib.contextmanager
def pdc_idle_ms(ms):
    """rdma_uet's pdc_idle_ms set to @ms for the duration of the block."""
    with open(PDC_IDLE_PARAM) as f:
        old = f.read().strip()
    with open(PDC_IDLE_PARAM, "w") as f:
        f.write(str(ms))
    try:
        yield
    finally:
        with open(PDC_IDLE_PARAM, "w") as f:
            f.write(old)


def gid_of_ip4(ip):
    a, b, c, d = (int(x) for x in ip.split("."))
    return "0000:0000:0000:0000:0000:ffff:%02x%02x:%02x%02x" % (a, b, c, d)


def gid_index(dev, ip):
    """Index of the IPv4-mapped GID of @ip on port 1 of @dev, or None."""
    want = gid_of_ip4(ip)
    d = "/sys/class/infiniband/%s/ports/1/gids" % dev
    try:
        names = sorted(os.listdir(d), key=int)
    except OSError:
        return None
    for n in names:
        try:
            with open(os.path.join(d, n)) as f:
                if f.read().strip() == want:
                    return int(n)
        except OSError:
            continue
    return None


def dev_exists(dev):
    return os.path.isdir("/sys/class/infiniband/" + dev)


def counters(dev):
    """Every port counter of @dev, as a dict name -> int."""
    d = "/sys/class/infiniband/%s/ports/1/hw_counters" % dev
    out = {}
    for name in os.listdir(d):
        if name == "lifespan":
            continue
        try:
            with open(os.path.join(d, name)) as f:
                out[name] = int(f.read().strip())
        except (OSError, ValueError):
            pass
    return out


def delta(after, before):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after}


def drop_delta(after, before):
    """The rx_drop_* counters that moved: name -> delta."""
    d = delta(after, before)
    return {k: v for k, v in d.items() if k.startswith("rx_drop_") and v}


class Topo:
    """
    Two namespaces NSA/NSB, veth VA (in NSA, IPA/24) - VB (in NSB,
    IPB/24), uet devices DA on VA and DB on VB.  teardown() undoes
    whatever was done, and is safe to call more than once.
    """

    def __init__(self, tag="uetw"):
        self.nsa, self.nsb = tag + "nsA", tag + "nsB"
        self.va, self.vb = tag + "A", tag + "B"
        self.da, self.db = tag + "A0", tag + "B0"
        self.ipa, self.ipb = "10.201.7.1", "10.201.7.2"
        self.gida = self.gidb = None
        self.made = []

    def setup(self, mtu=1500):
        self.teardown()
        run(["modprobe", "rdma_uet"])
        run(["modprobe", "-q", "ib_uverbs"], check=False)
        run(["ip", "netns", "add", self.nsa])
        self.made.append(("ns", self.nsa))
        run(["ip", "netns", "add", self.nsb])
        self.made.append(("ns", self.nsb))
        run(["ip", "link", "add", self.va, "netns", self.nsa, "mtu", str(mtu),
             "type", "veth", "peer", "name", self.vb, "netns", self.nsb,
             "mtu", str(mtu)])
        for ns, v, ip in ((self.nsa, self.va, self.ipa),
                          (self.nsb, self.vb, self.ipb)):
            run(["ip", "link", "set", "lo", "up"], ns=ns)
            run(["ip", "addr", "add", ip + "/24", "dev", v], ns=ns)
            run(["ip", "link", "set", v, "up"], ns=ns)
        for ns, d, v, ip in ((self.nsa, self.da, self.va, self.ipa),
                             (self.nsb, self.db, self.vb, self.ipb)):
            run(["rdma", "link", "add", d, "type", "uet", "netdev", v], ns=ns)
            self.made.append(("dev", d))
            if not wait_for(lambda: gid_index(d, ip) is not None, 10):
                raise RuntimeError("%s: no GID for %s" % (d, ip))
        self.gida = gid_index(self.da, self.ipa)
        self.gidb = gid_index(self.db, self.ipb)
        ok = wait_for(lambda: subprocess.run(
            ["ip", "netns", "exec", self.nsb, "ping", "-q", "-c", "1", "-W",
             "1", self.ipa], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL).returncode == 0, 10)
        if not ok:
            raise RuntimeError("no IP connectivity between the namespaces")

    def teardown(self):
        for d in (self.da, self.db):
            if dev_exists(d):
                subprocess.run(["rdma", "link", "del", d],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        for ns in (self.nsa, self.nsb):
            if os.path.exists("/run/netns/" + ns):
                subprocess.run(["ip", "netns", "del", ns],
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        wait_for(lambda: not dev_exists(self.da) and not dev_exists(self.db),
                 5)
        self.made = []


# ------------------------------------------------------------ processes

class Proc:
    """A command started in the background in a namespace, under timeout."""

    def __init__(self, cmd, ns=None, limit=120):
        self.cmd = cmd
        full = ["timeout", "-k", "5", str(limit)] + cmd
        if ns:
            full = ["ip", "netns", "exec", ns] + full
        self.out = tempfile.TemporaryFile("w+")
        self.p = subprocess.Popen(full, stdout=self.out,
                                  stderr=subprocess.STDOUT,
                                  start_new_session=True)

    def alive(self):
        return self.p.poll() is None

    def output(self):
        self.out.flush()
        self.out.seek(0)
        return self.out.read()

    def wait(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self):
        """Stop the command (its own process group) and reap it."""
        if self.alive():
            try:
                os.killpg(self.p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            if self.wait(5) is None:
                try:
                    os.killpg(self.p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.p.wait()
        return self.p.returncode

    def close(self):
        self.stop()
        self.out.close()


def listening(ns, port):
    out = run(["ss", "-Hltn", "sport = :%d" % port], ns=ns, check=False)
    return bool(out.strip())


def run_pair(srv_ns, srv_cmd, cli_ns, cli_cmd, port, limit=60):
    """
    Server in srv_ns, client in cli_ns once the server listens on TCP
    @port.  Return (ok, text) where text holds both outputs.
    """
    srv = Proc(srv_cmd, srv_ns, limit)
    try:
        if not wait_for(lambda: listening(srv_ns, port) or not srv.alive(),
                        limit, 0.1) or not srv.alive():
            return False, "server did not listen:\n" + srv.output()
        cli = Proc(cli_cmd, cli_ns, limit)
        try:
            rc_c = cli.wait(limit + 10)
            rc_s = srv.wait(10 if rc_c == 0 else 1)
            text = ("server (%s) exit %s:\n%s\nclient (%s) exit %s:\n%s" %
                    (" ".join(srv_cmd), rc_s, srv.output(),
                     " ".join(cli_cmd), rc_c, cli.output()))
            return rc_c == 0 and rc_s == 0, text
        finally:
            cli.close()
    finally:
        srv.close()


def connect_in(ns, ip, port, timeout=30):
    """A TCP connection from namespace @ns, retried until it is accepted."""
    end = time.monotonic() + timeout
    while True:
        with InNetns(ns):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(10)
        try:
            s.connect((ip, port))
            return s
        except OSError:
            s.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


class PingpongPeer:
    """
    The client side of the TCP address exchange of ibv_rc_pingpong and
    ibv_ud_pingpong, without any QP: the server connects its QP to
    (@qpn, @gid) and tells us its own QPN, then waits for traffic.
    """

    MSG_LEN = len("0000:000000:000000:" + "0" * 32) + 1

    def __init__(self, ns, ip, port, qpn, psn, gid_raw):
        msg = ("%04x:%06x:%06x:%s" % (0, qpn, psn, gid_raw.hex())).encode()
        msg += b"\0"
        assert len(msg) == self.MSG_LEN
        s = connect_in(ns, ip, port)
        try:
            s.sendall(msg)
            buf = b""
            while len(buf) < self.MSG_LEN:
                chunk = s.recv(self.MSG_LEN - len(buf))
                if not chunk:
                    raise RuntimeError("pingpong server closed the exchange")
                buf += chunk
            s.sendall(b"done\0")
        finally:
            s.close()
        fields = buf.rstrip(b"\0").decode().split(":")
        self.remote_qpn = int(fields[1], 16)
        self.remote_psn = int(fields[2], 16)


def ip4_mapped(ip):
    return b"\0" * 10 + b"\xff\xff" + socket.inet_aton(ip)


def dmesg_lines():
    return run(["dmesg"], check=False).splitlines()


BAD_KERNEL_RE = re.compile(
    r"WARNING:|BUG:|Oops|general protection|KASAN|UBSAN|refcount_t|"
    r"list_(add|del) corruption|kernel BUG|Call Trace|RIP:|"
    r"soft lockup|hung task|stack-protector|double free")


def dmesg_problems(before):
    lines = dmesg_lines()
    return [l for l in lines[len(before):] if BAD_KERNEL_RE.search(l)]


# ------------------------------------------------------ header packing

def prologue(ptype, nxt, flags):
    return ((ptype & 0x1f) << 11) | ((nxt & 0xf) << 7) | (flags & 0x7f)


def pds_req(psn, spdcid, dpdcid, flags=0, clear_off=-1, ptype=PDS_ROD_REQ,
            nxt=SES_REQ_STD):
    """RUD/ROD request, 12 bytes; under SYN @dpdcid is the psn_offset."""
    return struct.pack(">HhIHH", prologue(ptype, nxt, flags), clear_off,
                       psn & 0xffffffff, spdcid & 0xffff, dpdcid & 0xffff)


def pds_ack(cack, spdcid, dpdcid, ack_off=0, flags=0, nxt=SES_NONE,
            ptype=PDS_ACK):
    return struct.pack(">HhIHH", prologue(ptype, nxt, flags), ack_off,
                       cack & 0xffffffff, spdcid & 0xffff, dpdcid & 0xffff)


def pds_nack(code, psn, spdcid, dpdcid, payload=0, flags=0, ptype=PDS_NACK):
    """NACK, 16 bytes; a NACK_CCX (@ptype) needs its 16 more after it."""
    return struct.pack(">HBBIHHI", prologue(ptype, SES_NONE, flags), code,
                       0, psn & 0xffffffff, spdcid & 0xffff, dpdcid & 0xffff,
                       payload)


def pds_cp(ctl, psn, spdcid, dpdcid, flags=0, payload=0, probe=0):
    return struct.pack(">HHIHHI", prologue(PDS_CP, ctl, flags), probe,
                       psn & 0xffffffff, spdcid & 0xffff, dpdcid & 0xffff,
                       payload)


def pds_uud(nxt=SES_REQ_STD, flags=0):
    return struct.pack(">HH", prologue(PDS_UUD_REQ, nxt, flags), 0)


def ses_std(opcode, flags, msg_id, qpn, initiator, mlen, key=0, boff=0,
            job=DEFAULT_JOB, gen=0, hdata=0, paylen=None, msgoff=None,
            version=0):
    """
    Standard SES request, 44 bytes.  SOM packets carry @hdata; the
    others (paylen, msgoff).
    """
    if flags & SES_SOM and paylen is None:
        tail = struct.pack(">Q", hdata & 0xffffffffffffffff)
    else:
        tail = struct.pack(">II", paylen or 0, msgoff or 0)
    return (struct.pack(">BBHIHHQIQ", opcode & 0x3f,
                        ((version & 3) << 6) | (flags & 0x3f), msg_id & 0xffff,
                        ((gen & 0xff) << 24) | (job & 0xffffff),
                        qpn & 0xfff, (qpn >> 12) & 0xfff,
                        boff & 0xffffffffffffffff, initiator & 0xffffffff,
                        key & 0xffffffffffffffff) +
            tail + struct.pack(">I", mlen & 0xffffffff))


def ses_rsp_data(paylen, msg_id=0, rc=RC_OK, read_msg_id=0, modified=0,
                 msgoff=0, job=DEFAULT_JOB):
    """SES response with data, 20 bytes (the data follows)."""
    return struct.pack(">BBHIHHII", 2, rc & 0x3f, msg_id & 0xffff,
                       job & 0xffffff, read_msg_id & 0xffff,
                       paylen & 0x3fff, modified, msgoff)


# ------------------------------------------------------ header parsing

def parse_uet(b):
    """
    Decode the PDS header (and SES header) of a UET UDP payload into a
    dict; 'error' is set when the bytes are too short for what the
    prologue announces.
    """
    r = {"len": len(b)}
    if len(b) < 2:
        r["error"] = "shorter than the prologue"
        return r
    pro = struct.unpack_from(">H", b)[0]
    t = pro >> 11
    r.update(type=t, next=(pro >> 7) & 0xf, flags=pro & 0x7f)
    if t in (PDS_ROD_REQ, PDS_RUD_REQ):
        if len(b) < PDS_REQ_LEN:
            r["error"] = "request shorter than 12 bytes"
            return r
        (_, r["clear_off"], r["psn"], r["spdcid"],
         r["dpdcid"]) = struct.unpack_from(">HhIHH", b)
        r["hlen"] = PDS_REQ_LEN
    elif t == PDS_UUD_REQ:
        if len(b) < PDS_UUD_LEN:
            r["error"] = "UUD shorter than 4 bytes"
            return r
        r["reserved"] = struct.unpack_from(">H", b, 2)[0]
        r["hlen"] = PDS_UUD_LEN
    elif t in (PDS_ACK, PDS_ACK_CC, PDS_ACK_CCX):
        base = {PDS_ACK: PDS_ACK_LEN, PDS_ACK_CC: PDS_ACK_CC_LEN,
                PDS_ACK_CCX: PDS_ACK_CCX_LEN}[t]
        if len(b) < base:
            r["error"] = "ACK shorter than %d bytes" % base
            return r
        (_, r["ack_off"], r["cack"], r["spdcid"],
         r["dpdcid"]) = struct.unpack_from(">HhIHH", b)
        if t != PDS_ACK:
            (r["cc_type_flags"], r["mpr"], r["sack_off"], r["sack_bitmap"],
             r["cc_state"]) = struct.unpack_from(">BBhQQ", b, 12)
        r["hlen"] = base
    elif t in (PDS_NACK, PDS_NACK_CCX):
        base = PDS_NACK_LEN if t == PDS_NACK else PDS_NACK_CCX_LEN
        if len(b) < base:
            r["error"] = "NACK shorter than %d bytes" % base
            return r
        (_, r["code"], r["vendor"], r["psn"], r["spdcid"], r["dpdcid"],
         r["payload"]) = struct.unpack_from(">HBBIHHI", b)
        r["hlen"] = base
    elif t == PDS_CP:
        if len(b) < PDS_CP_LEN:
            r["error"] = "CP shorter than 16 bytes"
            return r
        (_, r["probe"], r["psn"], r["spdcid"], r["dpdcid"],
         r["payload"]) = struct.unpack_from(">HHIHHI", b)
        r["ctl"] = r["next"]
        r["hlen"] = PDS_CP_LEN
    else:
        return r
    off = r["hlen"]
    if t in (PDS_ROD_REQ, PDS_RUD_REQ, PDS_UUD_REQ) and \
            r["next"] == SES_REQ_STD:
        if len(b) < off + SES_STD_LEN:
            r["error"] = "SES standard header truncated"
            return r
        s = {}
        (op, fl, s["message_id"], gj, pid, ri, s["buffer_offset"],
         s["initiator"], s["memory_key"]) = struct.unpack_from(">BBHIHHQIQ",
                                                               b, off)
        s["opcode"] = op & 0x3f
        s["op_rsvd"] = op >> 6
        s["version"] = fl >> 6
        s["flags"] = fl & 0x3f
        s["gen"] = gj >> 24
        s["job"] = gj & 0xffffff
        s["pid_rsvd"] = pid >> 12
        s["ri_rsvd"] = ri >> 12
        s["qpn"] = ((ri & 0xfff) << 12) | (pid & 0xfff)
        s["header_data"] = struct.unpack_from(">Q", b, off + 32)[0]
        pl, s["message_offset"] = struct.unpack_from(">II", b, off + 32)
        s["payload_length"] = pl & 0x3fff
        s["pl_rsvd"] = pl >> 14
        s["request_length"] = struct.unpack_from(">I", b, off + 40)[0]
        s["payload"] = len(b) - off - SES_STD_LEN
        r["ses"] = s
    elif t in (PDS_ACK, PDS_ACK_CC) and r["next"] == SES_RSP:
        if len(b) < off + SES_RSP_LEN:
            r["error"] = "SES response truncated"
            return r
        s = {}
        (lo, vr, s["message_id"], gj,
         s["modified_length"]) = struct.unpack_from(">BBHII", b, off)
        s["list"] = lo >> 6
        s["opcode"] = lo & 0x3f
        s["version"] = vr >> 6
        s["rc"] = vr & 0x3f
        s["gen"] = gj >> 24
        s["job"] = gj & 0xffffff
        s["extra"] = len(b) - off - SES_RSP_LEN
        r["rsp"] = s
    return r


# ---------------------------------------------------------------- pcap

def read_pcap(path):
    """Yield (timestamp, linktype, frame) from a libpcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s: not a pcap file" % path)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack_from(e + "I", data, 20)[0] & 0x0fffffff
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack_from(e + "IIII", data, off)
        off += 16
        if off + incl > len(data):
            break
        yield (sec + frac / (1e9 if nano else 1e6), linktype,
               data[off:off + incl])
        off += incl


LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113
LINKTYPE_RAW = 101


def parse_frame(linktype, frame):
    """
    Ethernet (or Linux cooked, or raw IP) + IPv4/IPv6 + UDP: return a dict
    with src, dst, sport, dport, udp_len, payload and IP fields, or None
    for anything that is not UDP.
    """
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        etype = struct.unpack_from(">H", frame, 12)[0]
        off = 14
        while etype in (0x8100, 0x88a8) and len(frame) >= off + 4:
            etype = struct.unpack_from(">H", frame, off + 2)[0]
            off += 4
    elif linktype == LINKTYPE_LINUX_SLL:
        if len(frame) < 16:
            return None
        etype = struct.unpack_from(">H", frame, 14)[0]
        off = 16
    elif linktype == LINKTYPE_RAW:
        off = 0
        etype = 0x0800 if frame and frame[0] >> 4 == 4 else 0x86dd
    else:
        return None
    r = {}
    if etype == 0x0800:
        if len(frame) < off + 20:
            return None
        vihl, tos, tot, _id, frag, ttl, proto = struct.unpack_from(
            ">BBHHHBB", frame, off)
        ihl = (vihl & 0xf) * 4
        r.update(family=4, tos=tos, ttl=ttl, df=bool(frag & 0x4000),
                 src=socket.inet_ntop(socket.AF_INET,
                                      frame[off + 12:off + 16]),
                 dst=socket.inet_ntop(socket.AF_INET,
                                      frame[off + 16:off + 20]))
        if proto != 17 or frag & 0x3fff:
            return None
        end = min(len(frame), off + tot)
        off += ihl
    elif etype == 0x86dd:
        if len(frame) < off + 40:
            return None
        vtf, plen, nh, hop = struct.unpack_from(">IHBB", frame, off)
        r.update(family=6, tos=(vtf >> 20) & 0xff, ttl=hop, df=True,
                 src=socket.inet_ntop(socket.AF_INET6,
                                      frame[off + 8:off + 24]),
                 dst=socket.inet_ntop(socket.AF_INET6,
                                      frame[off + 24:off + 40]))
        if nh != 17:
            return None
        end = min(len(frame), off + 40 + plen)
        off += 40
    else:
        return None
    if end < off + 8:
        return None
    sport, dport, ulen, _csum = struct.unpack_from(">HHHH", frame, off)
    r.update(sport=sport, dport=dport, udp_len=ulen,
             payload=frame[off + 8:min(end, off + ulen)])
    return r


# ---------------------------------------------------- live capture

def tcpdump(ns, ifname, pcap):
    """
    tcpdump writing every UDP packet on @ifname (in namespace @ns) to
    @pcap, started and listening; stop it with stop_tcpdump().
    """
    dump = Proc(["tcpdump", "-i", ifname, "-w", pcap, "-U", "-n", "-s", "0",
                 "-B", "32768", "-Z", "root", "udp"], ns, 600)
    if not wait_for(lambda: os.path.exists(pcap) and
                    "listening" in dump.output(), 20):
        raise RuntimeError("tcpdump did not start: " + dump.output())
    dump.pcap = pcap
    return dump


def stop_tcpdump(dump):
    """
    Let tcpdump write what it has and exit; return its output.  Under
    emulation it can lag the wire by more than a second: it is stopped
    once its file has not grown for a second (-U writes every packet).
    """
    last, still = -1, 0
    for _ in range(100):
        size = os.path.getsize(dump.pcap)
        still = still + 1 if size == last else 0
        if still >= 5:
            break
        last = size
        time.sleep(0.2)
    os.killpg(dump.p.pid, signal.SIGINT)
    dump.wait(10)
    return dump.output()


ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


class Sniffer:
    """Packets that arrive on @ifname in namespace @ns (AF_PACKET)."""

    def __init__(self, ns, ifname):
        with InNetns(ns):
            self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                   socket.htons(ETH_P_ALL))
            # SO_RCVBUFFORCE: root may go past rmem_max.
            self.s.setsockopt(socket.SOL_SOCKET, 33, 1 << 26)
            self.s.bind((ifname, 0))
        self.s.setblocking(False)

    def drain(self, wait=0.2):
        """UDP packets received since the last call, as parse_frame dicts."""
        out = []
        end = time.monotonic() + wait
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select([self.s], [], [], max(left, 0))
            if not r:
                if left <= 0:
                    break
                continue
            while True:
                try:
                    frame, addr = self.s.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == PACKET_OUTGOING:
                    continue
                p = parse_frame(LINKTYPE_ETHERNET, frame)
                if p:
                    out.append(p)
        return out

    def close(self):
        self.s.close()
