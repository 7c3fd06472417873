#!/usr/bin/env python3
"""Issue-19 HTTP/1.1 second-limit probe: nginx -> C delay proxy (20 ms) -> Tandem http native, SIPp at fixed
rates; per-second timeline of box CPU, Tandem per-thread CPU, TCP opens, connections, /stats."""
import argparse, json, os, re, signal, subprocess, sys, time, urllib.request, csv
from pathlib import Path

WT = Path("/work/wt-http7")
ap = argparse.ArgumentParser()
ap.add_argument("--tandem", required=True)
ap.add_argument("--rates", default="3750,4500")
ap.add_argument("--duration", type=float, default=10)
ap.add_argument("--out", required=True)
ap.add_argument("--extra", default="", help="extra cfg lines (\\n separated)")
ap.add_argument("--warm", type=int, default=0, help="warm-up rate for 3 s before each step, same process")
ap.add_argument("--keep", action="store_true", help="one Tandem process for all steps")
ap.add_argument("--direct", action="store_true", help="no delay proxy: nginx echo_sleep? no: plain nginx")
ap.add_argument("--url", default="/route")
ap.add_argument("--workers", type=int, default=2)
ap.add_argument("--nginx-workers", type=int, default=1)
ap.add_argument("--perf", default="", help="perf record the tandem during the step: file prefix")
a = ap.parse_args()
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
state = Path("/tmp/http7/state")
PROXY, UAS, UAC, CP, STATS = 25160, 25070, 25080, 28870, 28890
NGX, DLY = 28480, 27480
procs = []

def log(*x):
    s = time.strftime("%H:%M:%S ") + " ".join(str(i) for i in x)
    print(s, flush=True)
    with open(out / "log.txt", "a") as f: f.write(s + "\n")

def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True, **kw)

env = dict(os.environ, TANDEM_TEST_STATE_DIR=str(state), TANDEM_SKIP_APT="1", TANDEM_TEST_NGINX_PORT=str(NGX),
           TANDEM_TEST_NGINX_H2_PORT=str(NGX + 1), TANDEM_TEST_NGINX_TLS_PORT=str(NGX + 2),
           TANDEM_TEST_NGINX_WORKERS=str(a.nginx_workers))
r = subprocess.run(["bash", str(WT / "scripts/test-servers/nginx.sh"), "start"], env=env, capture_output=True, text=True)
if r.returncode: print(r.stdout, r.stderr); sys.exit(1)
ngx_pid = int((state / "nginx/pid").read_text())
dly = subprocess.Popen(["/tmp/http7/delay_proxy", str(DLY), str(NGX), "20"], stdout=open(out / "delay.log", "ab"),
                       stderr=subprocess.STDOUT, start_new_session=True)
backend_port = NGX if a.direct else DLY
time.sleep(0.3)

cfg = f"""log_level = 1
udp_workers = {a.workers}
socket = udp:127.0.0.1:{PROXY}
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"
modparam("tandem", "udp_sockets", "shared")
loadmodule "httpd.so"
modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", {STATS})
loadmodule "mi_http.so"
loadmodule "prometheus.so"
loadmodule "rest_client.so"
{a.extra.replace(chr(92) + 'n', chr(10))}
modparam("tandem", "async_mode", "http=native")
route {{
    if (!mf_process_maxfwd_header(70)) {{ sl_send_reply(483, "Too Many Hops"); exit; }}
    if (has_totag()) {{ if (loose_route()) {{ t_relay(); exit; }} sl_send_reply(404, "Not Here"); exit; }}
    record_route();
    async(rest_get("http://127.0.0.1:{backend_port}{a.url}", $var(b)), resume);
}}
route[resume] {{
    if ($rc < 0) {{ t_reply(503, "HTTP Failed"); exit; }}
    t_relay();
}}
"""
(out / "tandem.cfg").write_text(cfg)

def start_tandem():
    p = subprocess.Popen([a.tandem, "run", "-f", str(out / "tandem.cfg")], stdout=open(out / "tandem.log", "ab"),
                         stderr=subprocess.STDOUT, start_new_session=True, cwd=str(WT))
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{STATS}/stats", timeout=0.5).read(); return p
        except Exception: time.sleep(0.1)
    raise SystemExit("tandem did not start")

def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try: p.wait(0.5)
        except subprocess.TimeoutExpired: p.send_signal(signal.SIGTERM)
        try: p.wait(5)
        except subprocess.TimeoutExpired: p.kill(); p.wait()

def cpu_total():
    f = open("/proc/stat").readline().split()[1:]
    v = list(map(int, f)); idle = v[3] + v[4]; return sum(v[:8]), idle

def threads(pid):
    res = {}
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                s = open(f"/proc/{pid}/task/{t}/stat").read()
                name = s[s.index("(") + 1:s.rindex(")")]
                f = s[s.rindex(")") + 2:].split()
                res[int(t)] = (name, int(f[11]) + int(f[12]))
            except OSError: pass
    except OSError: pass
    return res

def proc_cpu(pid):
    try:
        f = open(f"/proc/{pid}/stat").read(); f = f[f.rindex(")") + 2:].split(); return int(f[11]) + int(f[12])
    except OSError: return 0

def nstat():
    d = {}
    lines = open("/proc/net/snmp").read().splitlines()
    for i in range(0, len(lines), 2):
        h, v = lines[i].split(), lines[i + 1].split()
        if h[0] == "Tcp:" or h[0] == "Udp:":
            for k, x in zip(h[1:], v[1:]): d[h[0] + k] = int(x)
    return d

def conns():
    r = sh(f"ss -Htn state established '( dport = :{backend_port} )' | wc -l")
    e = int(r.stdout.strip() or 0)
    r = sh(f"ss -Htn state time-wait '( dport = :{backend_port} or sport = :{backend_port} )' | wc -l")
    return e, int(r.stdout.strip() or 0)

def stats():
    try: return json.load(urllib.request.urlopen(f"http://127.0.0.1:{STATS}/stats", timeout=0.5))
    except Exception as e: return {"err": str(e)}

def sipp_pids():
    r = sh("pgrep -x sipp"); return [int(x) for x in r.stdout.split()]

def run_sipp(rate, dur, tag):
    calls = int(rate * dur)
    big = ["-buff_size", "4194304", "-max_recv_loops", "10000", "-max_sched_loops", "10000"]
    common = ["-nostdin", "-i", "127.0.0.1", "-trace_stat", "-fd", "1"] + big
    (out / "sipp").mkdir(exist_ok=True)
    uasx = out / "sipp/uas_perf.xml"
    if not uasx.exists():
        t = (WT / "Tests/sipp/uas.xml").read_text()
        uasx.write_text(re.sub(r'<timewait milliseconds="\d+"/>', '<timewait milliseconds="1000"/>', t))
        (out / "sipp/uac_perf.xml").write_text((WT / "Tests/sipp/uac.xml").read_text())
    uas = subprocess.Popen(["sipp", "-sf", str(uasx), "-p", str(UAS), "-cp", str(CP), "-timeout", str(int(dur) + 20),
                            "-stf", str(out / f"sipp/{tag}-uas.csv")] + common, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=out / "sipp")
    time.sleep(0.3)
    uac = subprocess.Popen(["sipp", "-sf", str(out / "sipp/uac_perf.xml"), f"127.0.0.1:{UAS}", "-rsa", f"127.0.0.1:{PROXY}",
                            "-p", str(UAC), "-cp", str(CP + 1), "-r", str(rate), "-m", str(calls), "-l", str(max(1000, rate * 4)),
                            "-timeout", str(int(dur) + 10), "-stf", str(out / f"sipp/{tag}-uac.csv"),
                            "-trace_rtt", "-rtt_freq", str(max(1, min(100, rate // 20)))] + common,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True, cwd=out / "sipp")
    return uas, uac

def step(p, rate, dur, tag):
    uas, uac = run_sipp(rate, dur, tag)
    t0 = time.monotonic()
    timeline = []
    prev = (cpu_total(), threads(p.pid), nstat(), {x: proc_cpu(x) for x in [ngx_pid, dly.pid] + [uas.pid, uac.pid]},
            time.monotonic())
    ngx_workers = [int(x) for x in sh(f"pgrep -P {ngx_pid}").stdout.split()]
    prevn = {x: proc_cpu(x) for x in ngx_workers}
    first = prev
    firstn = prevn
    perf = None
    if a.perf:
        perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(p.pid), "-o", f"{a.perf}-{tag}.data", "--", "sleep", str(min(dur, 5))],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while uac.poll() is None and time.monotonic() - t0 < dur + 15:
        time.sleep(1.0)
        now = (cpu_total(), threads(p.pid), nstat(), {x: proc_cpu(x) for x in [ngx_pid, dly.pid, uas.pid, uac.pid]},
               time.monotonic())
        nown = {x: proc_cpu(x) for x in ngx_workers}
        dt = now[4] - prev[4]
        tot = now[0][0] - prev[0][0]; idle = now[0][1] - prev[0][1]
        th = {tid: (n, (c - prev[1].get(tid, (n, 0))[1]) / dt) for tid, (n, c) in now[1].items()}
        busy = sorted(((v, n) for n, v in th.values() if v > 2), reverse=True)
        ns = {k: (now[2][k] - prev[2][k]) / dt for k in ("Tcp:ActiveOpens", "Tcp:PassiveOpens", "Tcp:EstabResets", "Udp:RcvbufErrors", "Udp:InErrors")}
        e, tw = conns()
        st = stats()
        oth = {k: round((now[3][k] - prev[3][k]) / dt) for k in now[3]}
        ngx = round(sum(nown[k] - prevn.get(k, 0) for k in nown) / dt)
        row = {"t": round(now[4] - t0, 1), "idle%": round(100 * idle / max(1, tot)), "tandem_threads": [(n, round(v)) for v, n in busy[:5]],
               "nginx": ngx, "delay": oth[dly.pid], "uas": oth[uas.pid], "uac": oth[uac.pid],
               "opens/s": round(ns["Tcp:ActiveOpens"]), "udp_rcvbuf_err/s": round(ns["Udp:RcvbufErrors"]),
               "estab": e, "timewait": tw, "susp": (st.get("sip") or {}).get("suspended_now"), "tx": (st.get("sip") or {}).get("transactions_in_use")}
        for d in ((st.get("async") or {}).get("drivers") or []):
            if d.get("driver") == "http":
                row["http"] = {k: d.get(k) for k in ("started", "completed", "rejected", "in_flight", "queued", "latency_ms")}
        timeline.append(row)
        log(json.dumps(row, separators=(",", ":")))
        prev = now; prevn = nown
    if uac.poll() is None:
        uac.terminate()
    uac.wait()
    time.sleep(0.5)
    uas.terminate(); uas.wait()
    if perf: perf.wait()
    rows = list(csv.reader(open(out / f"sipp/{tag}-uac.csv"), delimiter=";"))
    h, last = rows[0], rows[-1]
    d = dict(zip(h, last))
    res = {k: d.get(k) for k in ("TotalCallCreated", "SuccessfulCall(C)", "FailedCall(C)", "Retransmissions(C)")}
    hist = [(k, d[k]) for k in h if k.startswith("ResponseTimeRepartition1_")]
    log(tag, "RESULT", res, "rtt:", [(k.split("_", 1)[1], v) for k, v in hist])
    rp = out / f"sipp/uac_perf_{uac.pid}_rtt.csv"
    if rp.exists():
        per = {}
        vals = []
        for line in open(rp).read().splitlines()[1:]:
            x = line.split(";")
            try: t, v = float(x[0]), float(x[1])
            except (ValueError, IndexError): continue
            per.setdefault(int(t // 1000), []).append(v); vals.append(v)
        q = lambda l, f: sorted(l)[min(len(l) - 1, int(f * len(l)))] if l else None
        log(tag, "RTT p50/p90/p99", q(vals, .5), q(vals, .9), q(vals, .99), "per-second p90:",
            [(k, len(v), q(v, .9)) for k, v in sorted(per.items())])
    return res

with open(out / "log.txt", "a") as f: f.write(json.dumps(vars(a)) + "\n")
p = None
try:
    p = start_tandem() if a.keep else None
    for rate in [int(x) for x in a.rates.split(",")]:
        if not a.keep:
            p = start_tandem()
        log("tandem pid", p.pid, "rate", rate)
        if a.warm:
            step(p, a.warm, 3, f"warm{a.warm}-{rate}")
        step(p, rate, a.duration, f"r{rate}")
        log("final stats", json.dumps(stats())[:3000])
        if not a.keep:
            stop(p)
            time.sleep(1)
    if a.keep: stop(p)
finally:
    if p is not None: stop(p)
    for x in [dly]:
        x.terminate()
    subprocess.run(["bash", str(WT / "scripts/test-servers/nginx.sh"), "stop"], env=env, capture_output=True)
