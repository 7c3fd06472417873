"""Hardening flood (issue 14): INVITEs to a next hop that never answers (`silent`) or whose port is closed
(`icmp`), or requests naming hosts that a DNS server which never answers should locate (`dns-dead`), beside a
healthy SIPp call load through the same proxy, with an OPTIONS probe every 50 ms.
Prints the probe latency, the healthy calls' result, the flood's final replies, the proxy's RSS and the
kernel's UDP receive drops: on the proxy's socket (/proc/net/udp) and host-wide (/proc/net/snmp RcvbufErrors).

    python3 Perf/flood.py TANDEM_BINARY Perf/configs/flood.cfg Tests/sipp SECONDS RATE [silent|icmp]
    python3 Perf/flood.py TANDEM_BINARY Perf/configs/flood-dns.cfg Tests/sipp SECONDS RATE --mode dns-dead

`dns-dead`: a private dnsmasq (package dnsmasq-base) on a free loopback port, frozen with SIGSTOP before the
proxy starts, so it never answers; the config's `dns_servers` line is rewritten to point at it (a copy in the
output directory). The flood cycles through ten kinds of request, every one naming a host of its own
(`h<i>.flood.test`, so neither the cache nor in-flight joining helps): INVITE to a name without a port
(NAPTR/SRV/A) or with one (A), INVITE to a numeric next hop with `;maddr=<name>`, in-dialog INVITE and
MESSAGE with `Route: <sip:<name>;lr>` (loose_route), MESSAGE and OPTIONS to a name, and INVITE whose top
Via sent-by is a name (`;rport`; its replies must still reach the source port). Every one should end in a 503
after the DNS timeout. Also printed: /stats `dns` counters, `refused_by_reason`, and the seconds until
`transactions_in_use` is back to 0 after the load (the config serves /stats on 16088).

Ports 16060 (proxy), 16070/16071 (SIPp UAS), 16080/16081 (SIPp UAC), 16088 (/stats, dns-dead) must be free.
Bounded: RATE x SECONDS requests, 200 x SECONDS calls, then 40 s for Timer B and up to 60 s for the drain.
"""
import json, os, re, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request
ARGS = sys.argv[1:]
MODE = "silent"   # silent: a socket that never answers; icmp: a closed port; dns-dead: names, a frozen DNS server
if "--mode" in ARGS:
    k = ARGS.index("--mode"); MODE = ARGS[k + 1]; del ARGS[k:k + 2]
TANDEM, CFG, SIPP_DIR = ARGS[0], ARGS[1], ARGS[2]
DUR, RATE = int(ARGS[3]), int(ARGS[4])
if len(ARGS) > 5: MODE = ARGS[5]
assert MODE in ("silent", "icmp", "dns-dead"), MODE
PROXY = ("127.0.0.1", 16060)
STATS_URL = "http://127.0.0.1:16088/stats"
def stats():
    """The proxy's /stats document (dns-dead config), or None."""
    try:
        with urllib.request.urlopen(STATS_URL, timeout=2) as r: return json.loads(r.read())
    except Exception: return None
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
dnsmasq = None
if MODE == "dns-dead":
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); probe.bind(("127.0.0.1", 0))
    dport = probe.getsockname()[1]; probe.close()
    dnsmasq = subprocess.Popen(["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                                "--no-hosts", "--no-poll", "--listen-address=127.0.0.1", f"--port={dport}",
                                "--bind-interfaces", "--host-record=alive.flood.test,127.0.0.1"],
                               stdout=subprocess.DEVNULL, stderr=open(f"{OUT}/dnsmasq.log", "w"))
    time.sleep(0.5)
    assert dnsmasq.poll() is None, open(f"{OUT}/dnsmasq.log").read()
    os.kill(dnsmasq.pid, signal.SIGSTOP)   # bound and listening, never answers
    text = re.sub(r'(?m)^dns_servers\s*=.*$', f'dns_servers = "127.0.0.1:{dport}"', open(CFG).read())
    CFG = f"{OUT}/{os.path.basename(CFG)}"; open(CFG, "w").write(text)
    print(f"dnsmasq pid {dnsmasq.pid} on 127.0.0.1:{dport}, frozen (SIGSTOP); config {CFG}")
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
st0 = stats()
calls = 200 * DUR
uac = subprocess.Popen(["sipp", "-sf", f"{SIPP_DIR}/uac.xml", "127.0.0.1:16070", "-rsa", "127.0.0.1:16060",
                        "-i", "127.0.0.1", "-p", "16080", "-cp", "16081", "-nostdin", "-m", str(calls), "-r", "200",
                        "-timeout", f"{DUR+60}s", "-trace_stat", "-stf", f"{OUT}/uac.csv", "-fd", "1",
                        "-buff_size", "4194304"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
lat = []; finals = {}; delays = {}; load_end = None
def final(code, d, start):
    """Records a final reply to flood request `flood-<i>` and (first one only) its delay after the request
    was due to be sent."""
    cid = d.split(b"Call-ID: ", 1)[1].split(b"\r", 1)[0]
    finals.setdefault(code, set()).add(cid)
    i = int(cid.split(b"-")[1])
    if i not in delays: delays[i] = time.monotonic() - (start + i / RATE)
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
KINDS = ("invite-name", "invite-name-port", "invite-maddr", "invite-route", "message-route", "message-name",
         "options-name", "invite-via-name", "invite-name", "invite-maddr")
def flood_request(i, p):
    """The i-th request of the dns-dead flood: kind KINDS[i % 10], naming h<i>.flood.test (unique)."""
    kind = KINDS[i % len(KINDS)]; host = f"h{i}.flood.test"
    method = kind.split("-")[0].upper()
    ruri, via, extra, totag = f"sip:x@{host}", f"127.0.0.1:{p}", "", ""
    if kind == "invite-name-port": ruri = f"sip:x@{host}:5060"
    elif kind == "invite-maddr": ruri = f"sip:x@127.0.0.1:{sport};maddr={host}"
    elif kind.endswith("-route"):
        ruri = f"sip:x@127.0.0.1:{sport}"; extra = f"Route: <sip:{host};lr>\r\n"; totag = f";tag=t{i}"
    elif kind == "invite-via-name": via = f"v{i}.flood.test:5060"
    return (f"{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {via};branch=z9hG4bKfl{i};rport\r\n{extra}"
            f"From: <sip:f@127.0.0.1>;tag=f{i}\r\nTo: <sip:x@flood.test>{totag}\r\nCall-ID: flood-{i}\r\n"
            f"CSeq: 1 {method}\r\nMax-Forwards: 70\r\nContact: <sip:f@127.0.0.1:{p}>\r\nContent-Length: 0\r\n\r\n").encode()
def flooder():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); s.setblocking(False)
    # 4 MB (net.core.rmem_max here): at 1,000/s the 100s and retransmitted finals overflow the default
    # buffer, and a lost non-INVITE final is never retransmitted.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    global flood_port
    p = flood_port = s.getsockname()[1]; start = time.monotonic(); n = RATE * DUR
    for i in range(n):
        msg = flood_request(i, p) if MODE == "dns-dead" else (
               f"INVITE sip:x@127.0.0.1:{sport} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bKfl{i}\r\n"
               f"From: <sip:f@127.0.0.1>;tag=f{i}\r\nTo: <sip:x@127.0.0.1>\r\nCall-ID: flood-{i}\r\n"
               f"CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:f@127.0.0.1:{p}>\r\nContent-Length: 0\r\n\r\n").encode()
        s.sendto(msg, PROXY)
        try:
            while True:
                d = s.recv(65536)
                code = d.split(b" ", 2)[1]
                if code != b"100": final(code, d, start)
        except BlockingIOError: pass
        due = start + (i + 1) / RATE
        w = due - time.monotonic()
        if w > 0: time.sleep(w)
    global load_end
    load_end = time.monotonic()
    end = time.monotonic() + 40  # Timer B 32 s + margin
    while time.monotonic() < end:
        try:
            d = s.recv(65536); code = d.split(b" ", 2)[1]
            if code != b"100": final(code, d, start)
        except BlockingIOError: time.sleep(0.01)
tp = threading.Thread(target=prober, daemon=True); tp.start()
tf = threading.Thread(target=flooder); tf.start()
peak = rss0; peak_tx = peak_susp = 0; drain = None
while tf.is_alive():
    peak = max(peak, rss(proxy.pid))
    if MODE == "dns-dead":
        sip = (stats() or {}).get("sip", {})
        peak_tx = max(peak_tx, sip.get("transactions_in_use") or 0); peak_susp = max(peak_susp, sip.get("suspended_now") or 0)
        if load_end is not None and drain is None and sip.get("transactions_in_use") == 0:
            drain = time.monotonic() - load_end
    time.sleep(0.5)
uac.wait(timeout=120)
snmp1 = udp_snmp()
proxy_drops = socket_drops(PROXY[1])
flood_drops = socket_drops(flood_port)
stop = True
if MODE == "dns-dead":   # seconds after the last request until no transaction is left, polled every 0.5 s
    t0 = time.monotonic()
    while drain is None and time.monotonic() - t0 < 60:
        if ((stats() or {}).get("sip", {})).get("transactions_in_use") == 0: drain = time.monotonic() - load_end
        else: time.sleep(0.5)
    time.sleep(max(0, 40 - (time.monotonic() - t0)))
else:
    time.sleep(40)  # Timer H (32 s after the last 408) and the 5 s trim sampling
rss1 = rss(proxy.pid)
st1 = stats()
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
print(f"kernel drops on the proxy's socket (port {PROXY[1]}, /proc/net/udp): {proxy_drops}; on the flood client's "
      f"socket (replies to it lost): {flood_drops}; host-wide during the "
      "load (/proc/net/snmp, every socket, the silent next hop's or frozen dnsmasq's too): "
      + ", ".join(f"{k} {snmp1[k] - snmp0[k]}" for k in ("RcvbufErrors", "InErrors", "InDatagrams")))
if MODE == "dns-dead":
    want = {}
    for i in range(RATE * DUR): want.setdefault(KINDS[i % len(KINDS)], set()).add(f"flood-{i}".encode())
    for kind, ids in want.items():
        got = {code.decode(): len(ids & v) for code, v in finals.items() if ids & v}
        print(f"  {kind}: {len(ids)} sent, finals {got}, without a final {len(ids - set().union(*finals.values()))}")
    dl = sorted(delays.values())
    if dl: print(f"final reply after the request (s): p50 {dl[len(dl)//2]:.2f}, p99 {dl[int(len(dl)*0.99)-1]:.2f}, max {dl[-1]:.2f}")
    print(f"transactions_in_use back to 0: {'%.1f s after the last flood request' % drain if drain is not None else 'NOT within the load end + 100 s'}"
          f"; now {(st1 or {}).get('sip', {}).get('transactions_in_use')}; peak during the run (1 s samples): "
          f"transactions_in_use {peak_tx}, suspended_now {peak_susp}")
    d0, d1 = (st0 or {}).get("dns") or {}, (st1 or {}).get("dns") or {}
    c0, c1 = d0.get("counters", {}), d1.get("counters", {})
    print("/stats dns counters during the run: " + ", ".join(f"{k} {c1.get(k, 0) - c0.get(k, 0)}" for k in sorted(c1)))
    print(f"/stats sip refused_by_reason: {(st1 or {}).get('sip', {}).get('refused_by_reason')}")
    json.dump({"before": st0, "after": st1}, open(f"{OUT}/stats.json", "w"), indent=1)
print(f"output directory {OUT}")
proxy.terminate(); proxy.wait(timeout=30)
if dnsmasq:
    os.kill(dnsmasq.pid, signal.SIGCONT); dnsmasq.terminate(); dnsmasq.wait(timeout=10)
