"""Test servers (scripts/test-servers/*.sh) and delay proxies started on demand for the matrix scenarios."""
from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

from .common import ROOT, free_port, log, port_free, terminate
from .scenarios import BACKEND_INFO, BACKEND_PORT_ENV, DELAYED, SERVER_PORT_ENV, Scenario


class Backends:
    """Test servers (scripts/test-servers/*.sh) and delay proxies the scenarios need; started on demand,
    kept for the following scenarios, stopped by close()."""

    def __init__(self, outdir: Path):
        self.outdir = outdir
        self.started: dict[str, dict[str, str]] = {}
        #: target port -> (delay proxy process, its port, delay ms)
        self.delays: dict[int, tuple[subprocess.Popen, int, int]] = {}

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
        """Perf/delay_proxy.py in front of target_port with delay_ms (one per target port, restarted when the
        delay changes); returns its port."""
        cur = self.delays.get(target_port)
        if cur and cur[0].poll() is None and cur[2] == delay_ms:
            return cur[1]
        self.stop_delay(target_port)
        port = free_port(27300, {p for _, p, _ in self.delays.values()})
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
        self.delays[target_port] = (proc, port, delay_ms)
        return port

    def stop_delay(self, target_port: int | None = None) -> None:
        """Stops the delay proxy in front of target_port (None: all of them)."""
        for t in [target_port] if target_port is not None else list(self.delays):
            if t in self.delays:
                terminate(self.delays.pop(t)[0])

    def env_for(self, sc: Scenario) -> dict[str, str]:
        """Where the scenario's backends are: `<backend>_port` each (postgres_port, http_port, ...: the delay
        proxy in front of the server for DELAYED backends, the server otherwise), `port` and the server's own
        env (its script's `env` output) for a single-backend scenario, `server_port_<backend>` the server itself.
        Delay proxies of servers this scenario does not use are stopped."""
        scripts = BACKEND_INFO[sc.backend][2]
        env: dict[str, str] = {}
        used: set[int] = set()
        names = [sc.backend] if len(scripts) == 1 else list(BACKEND_INFO[sc.backend][0])
        for script, backend in zip(scripts, names):
            senv = self.server(script)
            if len(scripts) == 1:
                env.update(senv)
            server_port = senv.get(BACKEND_PORT_ENV.get(backend, ""), senv["port"])
            env[f"server_port_{backend}"] = server_port
            if backend in DELAYED:
                used.add(int(server_port))
                env[f"{backend}_port"] = str(self.delay_proxy(int(server_port), sc.delay_ms))
            else:
                env[f"{backend}_port"] = server_port
        for t in [t for t in self.delays if t not in used]:
            self.stop_delay(t)
        return env

    def close(self) -> None:
        self.stop_delay()
        for script in list(self.started):
            sh = ROOT / "scripts" / "test-servers" / f"{script}.sh"
            log(f"stopping test server {script}")
            with open(self.outdir / f"server-{script}.log", "ab") as f:
                subprocess.run(["bash", str(sh), "stop"], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, timeout=60)
            del self.started[script]
