"""Hardening flood (issue 14): INVITEs to a next hop that never answers (`silent`) or whose port is closed
(`icmp`), beside a healthy SIPp call load through the same proxy, with an OPTIONS probe every 50 ms.
Prints the probe latency, the healthy calls' result, the flood's final replies, the proxy's RSS and the
kernel's UDP receive drops: on the proxy's socket (/proc/net/udp) and host-wide (/proc/net/snmp RcvbufErrors).

    python3 Perf/flood.py TANDEM_BINARY Perf/configs/flood.cfg Tests/sipp SECONDS RATE [silent|icmp]

Ports 16060 (proxy), 16070/16071 (SIPp UAS), 16080/16081 (SIPp UAC) must be free. Bounded: RATE x SECONDS
INVITEs, 200 x SECONDS calls, then 40 s for Timer B and 40 s for the drain.
"""
import os, socket, subprocess, sys, tempfile, threading, time
TANDEM, CFG, SIPP_DIR = sys.argv[1], sys.argv[2], sys.argv[3]
DUR, RATE = int(sys.argv[4]), int(sys.argv[5])
MODE = sys.argv[6] if len(sys.argv) > 6 else "silent"   # silent: a socket that never answers; icmp: a closed port
PROXY = ("127.0.0.1", 16060)
def udp_snmp():
    """The kernel's UDP counters (/proc/net/snmp, all sockets of the host): RcvbufErrors counts datagrams
    dropped because a socket's receive buffer was full, InErrors all receive errors."""
    rows = [l.split() for l in open("/proc/net/snmp") if l.startswith("Udp:")]
    return dict(zip(rows[0][1:], map(int, rows[1][1:])))
def socket_drops(port):
    """Datagrams the kernel dropped on the UDP sockets bound to `port` (/proc/net/udp `drops`, per socket
    since it was opened; summed over SO_REUSEPORT sockets)."""
    total = 0
    for l in list(open("/proc/net/udp"))[1:]:
        f = l.split()
        if int(f[1].split(":")[1], 16) == port: total += int(f[-1])
    return total
def rss(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1]) // 1024
OUT = tempfile.mkdtemp(prefix="tandem-flood-")
proxy = subprocess.Popen([TANDEM, "run", "-f", CFG], stderr=open(f"{OUT}/proxy.log", "w"))
time.sleep(1.5)
silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); silent.bind(("127.0.0.1", 0))
sport = silent.getsockname()[1]
if MODE == "icmp":
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); closed.bind(("127.0.0.1", 0))
    sport = closed.getsockname()[1]; closed.close()   # nothing listens there: ICMP port unreachable
def swallow():
    silent.settimeout(0.5)
    while not stop:
        try: silent.recv(65536)
        except OSError: pass
stop = False
threading.Thread(target=swallow, daemon=True).start()
uas = subprocess.Popen(["sipp", "-sf", f"{SIPP_DIR}/uas.xml", "-i", "127.0.0.1", "-p", "16070", "-cp", "16071",
                        "-nostdin", "-timeout", f"{DUR+60}s", "-trace_stat", "-stf", f"{OUT}/uas.csv", "-fd", "1"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.5)
rss0 = rss(proxy.pid)
snmp0 = udp_snmp()
calls = 200 * DUR
uac = subprocess.Popen(["sipp", "-sf", f"{SIPP_DIR}/uac.xml", "127.0.0.1:16070", "-rsa", "127.0.0.1:16060",
                        "-i", "127.0.0.1", "-p", "16080", "-cp", "16081", "-nostdin", "-m", str(calls), "-r", "200",
                        "-timeout", f"{DUR+60}s", "-trace_stat", "-stf", f"{OUT}/uac.csv", "-fd", "1",
                        "-buff_size", "4194304"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
lat = []; finals = {}
def prober():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.settimeout(2)
    p = s.getsockname()[1]; i = 0
    while not stop:
        i += 1
        msg = (f"OPTIONS sip:127.0.0.1:16060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bKprobe{i}\r\n"
               f"From: <sip:p@127.0.0.1>;tag=p{i}\r\nTo: <sip:127.0.0.1:16060>\r\nCall-ID: probe-{i}\r\n"
               f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()
        t = time.monotonic(); s.sendto(msg, PROXY)
        try:
            while True:
                d = s.recv(65536)
                if f"probe-{i}".encode() in d: break
            lat.append((time.monotonic() - t) * 1000)
        except socket.timeout:
            lat.append(2000.0)
        time.sleep(0.05)
def flooder():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.setblocking(False)
    p = s.getsockname()[1]; start = time.monotonic(); n = RATE * DUR
    for i in range(n):
        msg = (f"INVITE sip:x@127.0.0.1:{sport} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bKfl{i}\r\n"
               f"From: <sip:f@127.0.0.1>;tag=f{i}\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: flood-{i}\r\n"
               f"CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:f@127.0.0.1:{p}>\r\nContent-Length: 0\r\n\r\n").encode()
        s.sendto(msg, PROXY)
        try:
            while True:
                d = s.recv(65536)
                code = d.split(b" ", 2)[1]
                if code != b"100": finals.setdefault(code, set()).add(d.split(b"Call-ID: ", 1)[1].split(b"\r", 1)[0])
        except BlockingIOError: pass
        due = start + (i + 1) / RATE
        w = due - time.monotonic()
        if w > 0: time.sleep(w)
    end = time.monotonic() + 40  # Timer B 32 s + margin
    while time.monotonic() < end:
        try:
            d = s.recv(65536); code = d.split(b" ", 2)[1]
            if code != b"100": finals.setdefault(code, set()).add(d.split(b"Call-ID: ", 1)[1].split(b"\r", 1)[0])
        except BlockingIOError: time.sleep(0.01)
tp = threading.Thread(target=prober, daemon=True); tp.start()
tf = threading.Thread(target=flooder); tf.start()
peak = rss0
while tf.is_alive():
    peak = max(peak, rss(proxy.pid)); time.sleep(1)
uac.wait(timeout=120)
snmp1 = udp_snmp()
proxy_drops = socket_drops(PROXY[1])
stop = True
time.sleep(40)  # Timer H (32 s after the last 408) and the 5 s trim sampling
rss1 = rss(proxy.pid)
uas.terminate()
def last(f, field):
    rows = [l.strip().split(";") for l in open(f) if l.strip()]
    return rows[-1][rows[0].index(field)]
lat.sort()
print(f"flood {RATE}/s x {DUR}s to a {MODE} next hop; healthy SIPp 200 calls/s x {DUR}s")
print(f"OPTIONS probes {len(lat)}: p50 {lat[len(lat)//2]:.1f} ms, p99 {lat[int(len(lat)*0.99)-1]:.1f} ms, max {lat[-1]:.1f} ms, >50 ms: {sum(1 for x in lat if x > 50)}")
print(f"healthy calls: successful {last(f'{OUT}/uac.csv','SuccessfulCall(C)')} failed {last(f'{OUT}/uac.csv','FailedCall(C)')}")
print(f"flood INVITEs with a final reply, by code (distinct Call-IDs): { {k.decode(): len(v) for k, v in finals.items()} } of {RATE*DUR}")
print(f"RSS MB: before {rss0}, peak {peak}, 40 s after the load {rss1}")
print(f"kernel drops on the proxy's socket (port {PROXY[1]}, /proc/net/udp): {proxy_drops}; host-wide during the "
      "load (/proc/net/snmp, every socket, the silent next hop's too): "
      + ", ".join(f"{k} {snmp1[k] - snmp0[k]}" for k in ("RcvbufErrors", "InErrors", "InDatagrams")))
proxy.terminate(); proxy.wait(timeout=30)
