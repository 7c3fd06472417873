"""Memory soak (issue 14 item 7): a steady SIPp call load through one proxy for a while, then idle, with the
proxy's RSS (and its /stats transaction gauge when the endpoint answers) sampled at a fixed interval.

    python3 Perf/soak.py TANDEM_BINARY Perf/configs/soak.cfg OUT_DIR [--minutes 60] [--idle-minutes 10]
                         [--rate 300] [--interval 30]

Writes OUT_DIR/rss.csv (t_s, phase, rss_kb, hwm_kb, threads, transactions_in_use, calls_ok, calls_failed),
OUT_DIR/summary.md, proxy.log and the SIPp CSVs. Ports 17060 (proxy), 17088 (/stats), 17070/17071 (SIPp UAS),
17080/17081 (SIPp UAC) must be free (--base-port moves them all; the config must listen on it).
Bounded: RATE x 60 x MINUTES calls, then IDLE minutes of sampling; SIPp
has a -timeout of the whole run plus 60 s. Environment variables of this process (e.g. MALLOC_ARENA_MAX) are
passed to the proxy.
"""
import argparse, csv, json, os, signal, subprocess, sys, time, urllib.request

ap = argparse.ArgumentParser()
ap.add_argument("tandem"); ap.add_argument("cfg"); ap.add_argument("out")
ap.add_argument("--minutes", type=float, default=60); ap.add_argument("--idle-minutes", type=float, default=10)
ap.add_argument("--rate", type=int, default=300); ap.add_argument("--interval", type=float, default=30)
ap.add_argument("--base-port", type=int, default=17060,
                help="the proxy's port in the config; /stats on +28, SIPp UAS on +10/+11, UAC on +20/+21")
ap.add_argument("--sipp-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "sipp"))
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
load_s = int(a.minutes * 60); idle_s = int(a.idle_minutes * 60)
B = a.base_port


def status(pid):
    out = {}
    try:
        for line in open(f"/proc/{pid}/status"):
            k = line.split(":", 1)[0]
            if k in ("VmRSS", "VmHWM", "Threads"):
                out[k] = int(line.split()[1])
    except OSError:
        pass
    return out


def stats():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{B + 28}/stats", timeout=2) as r:
            return json.loads(r.read())
    except Exception:
        return None


def sipp_counts(path):
    """(successful, failed) from the last row of a SIPp -trace_stat CSV, or ('', '')."""
    try:
        rows = open(path).read().strip().splitlines()
        head, last = rows[0].split(";"), rows[-1].split(";")
        return last[head.index("SuccessfulCall(C)")], last[head.index("FailedCall(C)")]
    except Exception:
        return "", ""


proxy = subprocess.Popen([a.tandem, "run", "-f", a.cfg], stdout=open(f"{a.out}/proxy.log", "w"),
                         stderr=subprocess.STDOUT)
time.sleep(2)
if proxy.poll() is not None:
    sys.exit("proxy did not start, see proxy.log")
uas = subprocess.Popen(["sipp", "-sf", f"{a.sipp_dir}/uas.xml", "-i", "127.0.0.1", "-p", str(B + 10), "-cp", str(B + 11),
                        "-nostdin", "-timeout", f"{load_s + 60}s", "-trace_stat", "-stf", f"{a.out}/uas.csv",
                        "-fd", "5"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(0.5)
t0 = time.monotonic()
rows = []


def sample(phase):
    st = status(proxy.pid); doc = stats() or {}
    ok, failed = sipp_counts(f"{a.out}/uac.csv")
    row = [round(time.monotonic() - t0), phase, st.get("VmRSS", ""), st.get("VmHWM", ""), st.get("Threads", ""),
           (doc.get("sip") or {}).get("transactions_in_use", ""), ok, failed]
    rows.append(row)
    with open(f"{a.out}/rss.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["t_s", "phase", "rss_kb", "hwm_kb", "threads", "transactions_in_use", "calls_ok", "calls_failed"])
        w.writerows(rows)
    print(",".join(map(str, row)), flush=True)


sample("start")
uac = subprocess.Popen(["sipp", "-sf", f"{a.sipp_dir}/uac.xml", f"127.0.0.1:{B + 10}", "-rsa", f"127.0.0.1:{B}",
                        "-i", "127.0.0.1", "-p", str(B + 20), "-cp", str(B + 21), "-nostdin", "-m", str(a.rate * load_s),
                        "-r", str(a.rate), "-timeout", f"{load_s + 60}s", "-trace_stat", "-stf", f"{a.out}/uac.csv",
                        "-fd", "5"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
next_t = t0 + a.interval
while uac.poll() is None and time.monotonic() - t0 < load_s + 60:
    time.sleep(max(0.0, next_t - time.monotonic())); next_t += a.interval
    sample("load")
if uac.poll() is None:
    uac.send_signal(signal.SIGUSR1); time.sleep(2); uac.kill()
uac_rc = uac.wait()
uas.send_signal(signal.SIGUSR1)
try:
    uas.wait(5)
except subprocess.TimeoutExpired:
    uas.kill()
idle_end = time.monotonic() + idle_s
next_t = time.monotonic() + a.interval
while time.monotonic() < idle_end:
    time.sleep(max(0.0, next_t - time.monotonic())); next_t += a.interval
    sample("idle")
doc = stats()
proxy.send_signal(signal.SIGTERM)
try:
    proxy.wait(10)
except subprocess.TimeoutExpired:
    proxy.kill()
if doc:
    json.dump(doc, open(f"{a.out}/stats-end.json", "w"), indent=1)
ok, failed = sipp_counts(f"{a.out}/uac.csv")
load = [r for r in rows if r[1] == "load" and r[2] != ""]
idle = [r for r in rows if r[1] == "idle" and r[2] != ""]
mb = lambda kb: f"{int(kb) / 1024:.1f}"
with open(f"{a.out}/summary.md", "w") as f:
    f.write(f"# Soak: {a.rate} calls/s for {a.minutes:g} min, then {a.idle_minutes:g} min idle\n\n")
    f.write(f"SIPp UAC exit {uac_rc}; calls successful {ok}, failed {failed}.\n\n")
    f.write("| t (min) | phase | RSS (MB) | transactions in use |\n|---|---|---|---|\n")
    for r in rows:
        if r[0] % 300 < a.interval or r is rows[-1] or r[1] == "start":
            f.write(f"| {r[0] / 60:.1f} | {r[1]} | {mb(r[2]) if r[2] != '' else '-'} | {r[5]} |\n")
    if load:
        f.write(f"\nRSS start {mb(rows[0][2])} MB, peak during load {mb(max(int(r[2]) for r in load))} MB, "
                f"end of load {mb(load[-1][2])} MB")
        if idle:
            f.write(f", end of idle {mb(idle[-1][2])} MB")
        f.write(".\n")
print(open(f"{a.out}/summary.md").read())
