#!/usr/bin/env python3
"""Relay CPU per call at a fixed call rate, several proxies side by side in one run (issue 19).

Each round starts every target in turn (fresh process in its own session), runs the SIPp relay call
(Tests/sipp/uac.xml -> proxy -> Tests/sipp/uas.xml: INVITE/100/180/200/ACK/BYE/200, record-routed) at
RATE calls/s for CALLS calls, and counts the CPU the proxy used meanwhile (user + system of every thread
and, for Kamailio, of every process of its session; /proc clock ticks). Rounds interleave the targets so
that the machine's load drifts over all of them alike; the summary gives each target's median and its
ratio to the first target.

    python3 Perf/relay_cpu.py --rate 2000 --calls 20000 --rounds 3 --out Perf/results/relaycpu-STAMP \
      --target kamailio="kamailio -DD -E -m 1024 -Y /tmp -f Perf/configs/kamailio-relay.cfg" \
      --target tandem-relay4=".build/release/tandem run -f Perf/configs/relay4.cfg"

Stdlib only. Ports: proxy --port (19060), UAS +10, UAC +20, SIPp control +830/+831. Every `*.cfg`
argument of a command is copied into the output directory with 15060 replaced by the proxy port, plus
the `--append NAME=LINE` lines of that target (e.g. `modparam("tandem", "udp_sockets", "per_worker")`).
"""
import argparse
import json
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def stat_of(pid):
    """(CPU ticks user+system, session id) of one process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12]), int(fields[3])


def session_cpu(sid):
    """CPU ticks of every process of session `sid`."""
    total = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = stat_of(int(d))
            if st is not None and st[1] == sid:
                total += st[0]
    return total


def last_row(csv_path):
    rows = [line.rstrip("\n").split(";") for line in open(csv_path) if line.strip()]
    head, last = rows[0], rows[-1]
    return {k: last[head.index(k)] for k in ("SuccessfulCall(C)", "FailedCall(C)", "Retransmissions(C)")}


def prepare(name, cmd, port, extra, out):
    """The command with its config files copied (proxy port, extra lines) into `out`."""
    words = shlex.split(cmd)
    for i, w in enumerate(words):
        if w.endswith(".cfg"):
            text = (ROOT / w).read_text().replace("15060", str(port))
            lines = "".join(line + "\n" for line in extra)
            if lines:
                # Before the first route block (Kamailio's request_route or Tandem's route).
                at = min(x for x in (text.find("\nroute"), text.find("\nrequest_route"), len(text)) if x >= 0)
                text = text[:at + 1] + lines + text[at + 1:]
            copy = out / f"{name}.cfg"
            copy.write_text(text)
            words[i] = str(copy)
    return " ".join(shlex.quote(w) for w in words)


def wait_ready(port, timeout=30.0):
    """True once the proxy answers an OPTIONS with Max-Forwards 0 (483 from both relay configs)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.3)
    me = sock.getsockname()[1]
    deadline = time.monotonic() + timeout
    n = 0
    while time.monotonic() < deadline:
        n += 1
        probe = (f"OPTIONS sip:probe@127.0.0.1:{port} SIP/2.0\r\n"
                 f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK-probe-{os.getpid()}-{n}\r\n"
                 f"Max-Forwards: 0\r\nFrom: <sip:probe@127.0.0.1>;tag=p{n}\r\nTo: <sip:probe@127.0.0.1>\r\n"
                 f"Call-ID: probe-{os.getpid()}-{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        sock.sendto(probe.encode(), ("127.0.0.1", port))
        try:
            if sock.recv(4096).startswith(b"SIP/2.0 "):
                sock.close()
                return True
        except socket.timeout:
            pass
    sock.close()
    return False


def run_one(name, cmd, rate, calls, out, round_no, port):
    log = open(out / f"proxy-{name}-{round_no}.log", "wb")
    proxy = subprocess.Popen(shlex.split(cmd), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True)
    ready = wait_ready(port)
    time.sleep(1.0)  # Kamailio's children settle after the first answer
    if not ready or proxy.poll() is not None:
        raise SystemExit(f"{name}: proxy not answering or exited at start (see {log.name})")
    uas = subprocess.Popen(["sipp", "-sf", "Tests/sipp/uas.xml", "-i", "127.0.0.1", "-p", str(port + 10),
                            "-cp", str(port + 830),
                            "-nostdin", "-timeout", "120s", "-buff_size", "4194304"],
                           cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    csv = out / f"uac-{name}-{round_no}.csv"
    c0, t0 = session_cpu(proxy.pid), time.monotonic()
    subprocess.run(["sipp", "-sf", "Tests/sipp/uac.xml", f"127.0.0.1:{port + 10}", "-rsa", f"127.0.0.1:{port}",
                    "-i", "127.0.0.1", "-p", str(port + 20), "-cp", str(port + 831), "-nostdin",
                    "-r", str(rate), "-m", str(calls), "-max_recv_loops", "10000", "-max_sched_loops", "10000",
                    "-timeout", "120s", "-buff_size", "4194304", "-trace_stat", "-stf", str(csv), "-fd", "1"],
                   cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    c1, t1 = session_cpu(proxy.pid), time.monotonic()
    for p in (uas,):
        p.terminate()
    os.killpg(proxy.pid, signal.SIGTERM)
    try:
        proxy.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(proxy.pid, signal.SIGKILL)
        proxy.wait()
    uas.wait()
    counts = last_row(csv) if csv.exists() else {}
    ticks = c1 - c0
    with open("/proc/loadavg") as f:
        load1 = float(f.read().split()[0])
    return {"target": name, "round": round_no, "cpu_ticks": ticks, "wall_s": round(t1 - t0, 2), "load1": load1,
            "us_per_call": round(ticks / CLK_TCK * 1e6 / calls, 1),
            "cpu_pct": round(100 * ticks / CLK_TCK / (t1 - t0), 1), **counts}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--port", type=int, default=19060)
    ap.add_argument("--target", action="append", required=True, help="NAME=COMMAND (the first is the reference)")
    ap.add_argument("--append", action="append", default=[], help="NAME=LINE added to that target's config")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    extra = {}
    for item in a.append:
        n, line = item.split("=", 1)
        extra.setdefault(n, []).append(line)
    targets = [t.split("=", 1) for t in a.target]
    commands = {n: prepare(n, c, a.port, extra.get(n, []), a.out) for n, c in targets}
    rows = []
    for r in range(1, a.rounds + 1):
        for name, cmd in targets:
            row = run_one(name, commands[name], a.rate, a.calls, a.out, r, a.port)
            print(json.dumps(row), flush=True)
            rows.append(row)
    ref = targets[0][0]
    med = {n: statistics.median(x["us_per_call"] for x in rows if x["target"] == n) for n, _ in targets}
    lines = [f"# Relay CPU per call at {a.rate} calls/s, {a.calls} calls per step, {a.rounds} interleaved rounds",
             "", f"Written {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}; `Perf/relay_cpu.py`. "
             f"Load average (1 min) after each step: {min(x['load1'] for x in rows):.1f}–{max(x['load1'] for x in rows):.1f}.", "",
             "| target | command | median µs/call | vs " + ref + " | per round µs/call | failed calls | retransmissions |",
             "|---|---|---|---|---|---|---|"]
    for n, cmd in targets:
        mine = [x for x in rows if x["target"] == n]
        lines.append(f"| {n} | `{cmd}` | {med[n]:.1f} | {med[n] / med[ref]:.2f}× | "
                     f"{', '.join(str(x['us_per_call']) for x in mine)} | "
                     f"{', '.join(str(x.get('FailedCall(C)', '?')) for x in mine)} | "
                     f"{', '.join(str(x.get('Retransmissions(C)', '?')) for x in mine)} |")
    (a.out / "summary.md").write_text("\n".join(lines) + "\n")
    (a.out / "results.json").write_text(json.dumps({"rate": a.rate, "calls": a.calls, "rows": rows,
                                                    "median_us_per_call": med}, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
