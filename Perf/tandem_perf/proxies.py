"""A proxy under test: started fresh from a command, probed with SIP OPTIONS, sampled, stopped."""
from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

from .common import ROOT, log, parse_addr, port_free, wait_port_free
from .procstat import ProcSample, sample_proc


class Proxy:
    """The proxy under test, started from a command line; stopped with SIGTERM (SIGKILL after 5 s)."""

    def __init__(self, cmd: str, addr: str, log_path: Path):
        self.cmd, self.addr, self.log_path = cmd, addr, log_path
        self.proc: subprocess.Popen | None = None
        self.first: ProcSample | None = None
        self.last: ProcSample | None = None

    def start(self, ready_timeout: float = 30.0, append: bool = False) -> None:
        log(f"starting proxy: {self.cmd}")
        self.logf = open(self.log_path, "ab" if append else "wb")
        self.proc = subprocess.Popen(shlex.split(self.cmd), cwd=ROOT, stdout=self.logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        host, port = parse_addr(self.addr)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"proxy exited with {self.proc.returncode} before answering; see {self.log_path}")
            if sip_probe(host, port, timeout=0.5):
                self.first = self.last = sample_proc(self.proc.pid)
                log(f"proxy pid {self.proc.pid} answers on {self.addr}")
                return
            time.sleep(0.2)
        if not port_free(port):
            log(f"warning: proxy did not answer an OPTIONS probe on {self.addr} but the port is bound; going on")
            self.first = self.last = sample_proc(self.proc.pid)
            return
        self.stop()
        raise SystemExit(f"proxy did not come up on {self.addr} within {ready_timeout:.0f}s; see {self.log_path}")

    def sample(self) -> ProcSample | None:
        if self.proc is None:
            return None
        s = sample_proc(self.proc.pid)
        if s is not None:
            self.last = s
        return s

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def restart(self) -> None:
        """A fresh process of the same command (its log appended): stopped at once, not drained."""
        self.stop(at_once=True)
        wait_port_free(parse_addr(self.addr)[1])
        self.start(append=True)

    def stop(self, at_once: bool = False) -> None:
        if self.proc is None:
            return
        self.sample()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if at_once:
                # Tandem drains on the first SIGTERM and exits at once on a second one.
                try:
                    self.proc.wait(timeout=0.3)
                except subprocess.TimeoutExpired:
                    self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.logf.close()


def sip_probe(host: str, port: int, timeout: float) -> bool:
    """Sends OPTIONS with Max-Forwards: 0 (answered locally by any proxy: 483 or 200) and waits for a response."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        lport = s.getsockname()[1]
        branch = f"z9hG4bK-probe-{os.getpid()}-{time.monotonic_ns()}"
        msg = (f"OPTIONS sip:probe@{host}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch={branch}\r\n"
               f"From: <sip:harness@127.0.0.1:{lport}>;tag=probe\r\n"
               f"To: <sip:probe@{host}:{port}>\r\n"
               f"Call-ID: probe-{branch}@127.0.0.1\r\n"
               "CSeq: 1 OPTIONS\r\nMax-Forwards: 0\r\nContent-Length: 0\r\n\r\n")
        s.settimeout(timeout)
        s.sendto(msg.encode(), (host, port))
        data, _ = s.recvfrom(65535)
        return data.startswith(b"SIP/2.0 ")
    except OSError:
        return False
    finally:
        s.close()
