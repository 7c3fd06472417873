"""Test servers (scripts/test-servers/*.sh) and delay proxies started on demand for the matrix scenarios."""
from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .common import ROOT, free_port, log, port_free, terminate
from .scenarios import BACKEND_INFO, BACKEND_PORT_ENV, DELAYED, SERVER_PORT_ENV, Scenario


#: Where the compiled delay proxy is built (gitignored .build/, rebuilt when Perf/delay_proxy.c is newer).
DELAY_PROXY_BIN = ROOT / ".build" / "perf-tools" / "delay_proxy"
DELAY_PROXY_C = ROOT / "Perf" / "delay_proxy.c"
DELAY_PROXY_PY = ROOT / "Perf" / "delay_proxy.py"
#: Values of --delay-proxy: "c" (Perf/delay_proxy.c, built with cc; Python when there is no C compiler) or
#: "python" (Perf/delay_proxy.py: the runs before the C one).
DELAY_PROXY_KINDS = ("c", "python")


def delay_proxy_command(kind: str = "c") -> tuple[list[str], str]:
    """The delay proxy's command (arguments LISTEN_PORT TARGET_PORT DELAY_MS follow) and which one it is
    ("c" or "python"). "c" builds Perf/delay_proxy.c with `cc -O2` into DELAY_PROXY_BIN when the binary is
    missing or older than the source; with no C compiler (or a failed build, logged) it is the Python one."""
    if kind == "c":
        cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        fresh = DELAY_PROXY_BIN.exists() and DELAY_PROXY_BIN.stat().st_mtime >= DELAY_PROXY_C.stat().st_mtime
        if not fresh and cc:
            DELAY_PROXY_BIN.parent.mkdir(parents=True, exist_ok=True)
            r = subprocess.run([cc, "-O2", "-o", str(DELAY_PROXY_BIN), str(DELAY_PROXY_C)], capture_output=True,
                               text=True, timeout=120)
            fresh = r.returncode == 0
            if not fresh:
                log(f"warning: building Perf/delay_proxy.c failed ({r.stderr.strip()[:300]}); using delay_proxy.py")
        elif not fresh:
            log("warning: no C compiler for Perf/delay_proxy.c; using delay_proxy.py")
        if fresh:
            return [str(DELAY_PROXY_BIN)], "c"
    elif kind != "python":
        raise SystemExit(f"--delay-proxy wants one of {', '.join(DELAY_PROXY_KINDS)} (got {kind!r})")
    return [sys.executable, str(DELAY_PROXY_PY)], "python"


class Backends:
    """Test servers (scripts/test-servers/*.sh) and delay proxies the scenarios need; started on demand,
    kept for the following scenarios, stopped by close()."""

    def __init__(self, outdir: Path, delay_proxy: str = "c"):
        self.outdir = outdir
        #: The delay proxy command and which one it is ("c" or "python": see delay_proxy_command()).
        self.delay_cmd, self.delay_kind = delay_proxy_command(delay_proxy)
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
        """The delay proxy (Perf/delay_proxy.c, or .py: self.delay_kind) in front of target_port with delay_ms
        (one per target port, restarted when the delay changes); returns its port."""
        cur = self.delays.get(target_port)
        if cur and cur[0].poll() is None and cur[2] == delay_ms:
            return cur[1]
        self.stop_delay(target_port)
        port = free_port(27300, {p for _, p, _ in self.delays.values()})
        logf = open(self.outdir / "delay_proxy.log", "ab")
        proc = subprocess.Popen(self.delay_cmd + [str(port), str(target_port), str(delay_ms)], stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and port_free(port) and proc.poll() is None:
            time.sleep(0.05)
        if proc.poll() is not None or port_free(port):
            terminate(proc)
            raise RuntimeError(f"the delay proxy ({self.delay_kind}) did not come up; see delay_proxy.log")
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
