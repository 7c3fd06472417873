"""Shared helpers of the perf harness: repository paths, logging, free ports, process termination, git/SIPp versions."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable


ROOT = Path(__file__).resolve().parent.parent.parent
SCENARIOS = ROOT / "Tests" / "sipp"


CLK_TCK = os.sysconf("SC_CLK_TCK")
#: Where log() writes instead of stdout (set_log); None: stdout.
_log_sink: Callable[[str], None] | None = None


def set_log(sink: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Sends log() lines to `sink` (None: stdout again); returns the previous sink. For tests."""
    global _log_sink
    prev, _log_sink = _log_sink, sink
    return prev


def log(msg: str) -> None:
    if _log_sink is not None:
        _log_sink(msg)
        return
    print(f"[harness {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def port_free(port: int) -> bool:
    """True when `port` can be bound on 127.0.0.1 and 0.0.0.0 for both UDP and TCP."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        for host in ("127.0.0.1", "0.0.0.0"):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((host, port))
            except OSError:
                return False
            finally:
                s.close()
    return True


def free_port(base: int, taken: set[int], span: int = 200) -> int:
    for p in range(base, base + span):
        if p not in taken and port_free(p):
            taken.add(p)
            return p
    raise SystemExit(f"no free port in {base}..{base + span - 1}")


def parse_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host or "127.0.0.1", int(port)


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "proxy"


def terminate(p: subprocess.Popen) -> None:
    if p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=3)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=3)
    except ProcessLookupError:
        pass


def sipp_version(sipp: str) -> str:
    try:
        out = subprocess.run([sipp, "-v"], capture_output=True, text=True, timeout=5)
        m = re.search(r"SIPp v[\w.\-]+", out.stdout + out.stderr)
        return m.group(0) if m else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def git_rev() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def parse_named(values: list[str] | None, what: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for v in values or []:
        name, sep, rest = v.partition("=")
        name = name.strip()
        if not sep or not name or not rest.strip() or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise SystemExit(f"{what} wants NAME=VALUE with NAME of letters, digits, _ . - (got {v!r})")
        out.append((name, rest.strip()))
    return out


def wait_port_free(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_free(port):
            return True
        time.sleep(0.2)
    return port_free(port)
