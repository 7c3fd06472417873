"""Test servers (scripts/test-servers/*.sh) and delay proxies started on demand for the matrix scenarios."""
from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

from .common import ROOT, free_port, log, port_free, terminate
from .scenarios import BACKEND_INFO, SERVER_PORT_ENV, Scenario


class Backends:
    """Test servers (scripts/test-servers/*.sh) and delay proxies the scenarios need; started on demand,
    kept for the following scenarios, stopped by close()."""

    def __init__(self, outdir: Path):
        self.outdir = outdir
        self.started: dict[str, dict[str, str]] = {}
        self.delay: tuple[subprocess.Popen, int, int, int] | None = None  # (process, port, delay ms, target)

    def server(self, script: str) -> dict[str, str]:
        if script in self.started:
            return self.started[script]
        sh = ROOT / "scripts" / "test-servers" / f"{script}.sh"
        log(f"starting test server: bash {sh.relative_to(ROOT)} start")
        with open(self.outdir / f"server-{script}.log", "ab") as f:
            r = subprocess.run(["bash", str(sh), "start"], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                               timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"{script}.sh start failed ({r.returncode}); see server-{script}.log")
        out = subprocess.run(["bash", str(sh), "env"], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout
        env: dict[str, str] = {}
        for line in out.splitlines():
            parts = shlex.split(line)
            if parts and parts[0] == "export":
                parts = parts[1:]
            for p in parts:
                k, _, v = p.partition("=")
                env[k] = v
        env["port"] = env.get(SERVER_PORT_ENV[script], "")
        if not env["port"]:
            raise RuntimeError(f"{script}.sh env gave no {SERVER_PORT_ENV[script]}")
        self.started[script] = env
        return env

    def delay_proxy(self, target_port: int, delay_ms: int) -> int:
        """Perf/delay_proxy.py in front of target_port with delay_ms; one at a time (restarted on change)."""
        if self.delay and self.delay[0].poll() is None and self.delay[2] == delay_ms and self.delay[3] == target_port:
            return self.delay[1]
        self.stop_delay()
        port = free_port(27300, set())
        logf = open(self.outdir / "delay_proxy.log", "ab")
        proc = subprocess.Popen([sys.executable, str(ROOT / "Perf" / "delay_proxy.py"), str(port), str(target_port),
                                 str(delay_ms)], stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and port_free(port) and proc.poll() is None:
            time.sleep(0.05)
        if proc.poll() is not None or port_free(port):
            terminate(proc)
            raise RuntimeError("delay_proxy.py did not come up")
        self.delay = (proc, port, delay_ms, target_port)
        return port

    def stop_delay(self) -> None:
        if self.delay:
            terminate(self.delay[0])
            self.delay = None

    def env_for(self, sc: Scenario) -> dict[str, str]:
        """Ports of the scenario's servers: `<backend>_port` each (postgres_port, http_port, ...), `port` for a
        single-backend scenario, `delay_port` for the delay proxy in front of slapd, MariaDB or the MongoDB server."""
        scripts = BACKEND_INFO[sc.backend][2]
        env: dict[str, str] = {}
        for script, backend in zip(scripts, [b for b in BACKEND_INFO[sc.backend][0]]):
            senv = self.server(script)
            env[f"{backend}_port"] = senv["port"]
            if len(scripts) == 1:
                env.update(senv)
            if script in ("slapd", "mongo", "mariadb"):
                env["delay_port"] = str(self.delay_proxy(int(senv["port"]), sc.delay_ms))
        return env

    def close(self) -> None:
        self.stop_delay()
        for script in list(self.started):
            sh = ROOT / "scripts" / "test-servers" / f"{script}.sh"
            log(f"stopping test server {script}")
            with open(self.outdir / f"server-{script}.log", "ab") as f:
                subprocess.run(["bash", str(sh), "stop"], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, timeout=60)
            del self.started[script]
