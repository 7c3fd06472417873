"""The matrix scenarios (backend x async mode x delay x workers x sockets), their Tandem configs, start rates and run-time estimate.

Adding a backend: its entry in BACKEND_INFO/BACKEND_LABEL, its call in _backend_call, its server in backends.py
(SERVER_PORT_ENV) and its direct client in ceilings.py."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .search import tidy_rate


BACKENDS = ("none", "sleep", "exec", "http", "http2", "httpsleep", "postgres", "pgpipe", "pgsleep", "mysql", "ldap", "mongodb", "mixed")
MODES = ("sync", "native", "offload")
#: Order of the modes within a group of a run: the async modes first (their figures seed each other's start).
RUN_MODE_ORDER = ("native", "offload", "sync")
#: Backend -> (driver names for async_mode/offload_limit, modes it has, test server scripts). A "mixed" call waits
#: on PostgreSQL, then HTTP, then LDAP (chained async(), each with the scenario's delay).
#: The delay is network latency (Perf/delay_proxy.py between Tandem and the server, see DELAYED) except in the
#: server-side work scenarios "httpsleep" (nginx echo_sleep) and "pgsleep" (pg_sleep, which holds a PostgreSQL
#: backend process: one connection runs one at a time, a lower ceiling by design).
BACKEND_INFO = {
    "none": ((), (), ()),
    "sleep": (("usleep",), MODES, ()),
    "exec": (("exec",), MODES, ()),
    "http": (("http",), MODES, ("nginx",)),  # nginx behind the delay proxy
    "http2": (("http",), MODES, ("nginx",)),  # nginx's TLS port (h2 by ALPN) behind the delay proxy
    "httpsleep": (("http",), MODES, ("nginx",)),  # nginx echo_sleep: a server-side wait, no delay proxy
    "postgres": (("postgres",), MODES, ("postgres",)),  # PostgreSQL behind the delay proxy: SELECT 1
    # PostgreSQL behind the delay proxy, 4 connections per worker, 16 queries pipelined on each
    "pgpipe": (("postgres",), ("native",), ("postgres",)),
    "pgsleep": (("postgres",), MODES, ("postgres",)),  # SELECT pg_sleep(d): a server-side wait, no delay proxy
    "mysql": (("mysql",), MODES, ("mariadb",)),  # MariaDB behind the delay proxy
    "ldap": (("ldap",), MODES, ("slapd",)),  # slapd behind the delay proxy
    "mongodb": (("mongodb",), ("sync", "offload"), ("mongo",)),  # the MongoDB driver has no native path
    "mixed": (("postgres", "http", "ldap"), MODES, ("postgres", "nginx", "slapd")),
}
#: Backends whose wait is network latency: their server sits behind Perf/delay_proxy.py (one proxy per server).
DELAYED = ("http", "http2", "postgres", "pgpipe", "mysql", "ldap", "mongodb")
BACKEND_LABEL = {"sleep": "Sleep", "exec": "Exec", "http": "HTTP", "http2": "HTTP", "httpsleep": "HTTP", "postgres": "PostgreSQL",
                 "pgpipe": "PostgreSQL", "pgsleep": "PostgreSQL", "mysql": "MySQL", "ldap": "LDAP", "mongodb": "MongoDB"}
#: The pgpipe scenarios' PostgreSQL pool: connections per worker and queries in flight on each.
PGPIPE_POOL = 4
PGPIPE_DEPTH = 16
#: Backends that use another port of their server than SERVER_PORT_ENV's (its script's env variable).
BACKEND_PORT_ENV = {"http2": "TANDEM_TEST_NGINX_TLS_PORT"}
SERVER_PORT_ENV = {"http": "TANDEM_TEST_HTTP_PORT", "nginx": "TANDEM_TEST_NGINX_PORT", "postgres": "TANDEM_TEST_PG_PORT",
                   "mariadb": "TANDEM_TEST_MYSQL_PORT", "slapd": "TANDEM_TEST_LDAP_PORT", "mongo": "TANDEM_TEST_MONGO_PORT"}


#: Values of modparam("tandem", "udp_sockets"): "shared" (one socket per listen address, read by every UDP
#: worker: any idle worker takes the next datagram) and "per_worker" (one SO_REUSEPORT socket per worker: the
#: kernel hashes the peer address, so the single SIPp peer always lands on one worker). Also the run order of
#: a scenario's twins.
SOCKETS = ("shared", "per_worker")
#: Layout of records without a "sockets" field: runs made before the option existed, when Tandem always used
#: one SO_REUSEPORT socket per worker.
LEGACY_SOCKETS = "per_worker"


@dataclass(frozen=True)
class Scenario:
    """One matrix cell: backend waits per initial INVITE, their async mode, the backend delay, UDP workers and
    their socket layout ("shared" or "per_worker"; the latter's name ends in -pw)."""
    backend: str
    mode: str  # "-" for backend none
    delay_ms: int  # 0 for backend none
    workers: int
    sockets: str = "shared"
    #: Resuming a run made before udp_sockets existed: per_worker scenarios keep that run's names (no -pw).
    legacy_name: bool = False

    @property
    def name(self) -> str:
        suffix = "-pw" if self.sockets == "per_worker" and not self.legacy_name else ""
        if self.backend == "none":
            return f"none-w{self.workers}{suffix}"
        return f"{self.backend}-{self.mode}-{self.delay_ms}ms-w{self.workers}{suffix}"

    @property
    def spread_workers(self) -> int:
        """Workers the single SIPp peer's requests spread over: all with shared sockets, one with per_worker."""
        return self.workers if self.sockets == "shared" else 1

    def record(self) -> dict:
        """The scenario as stored in results.json (`legacy_name` only when set)."""
        d = asdict(self)
        if not self.legacy_name:
            del d["legacy_name"]
        return d

    @property
    def backend_calls(self) -> int:
        """Backend waits per call (each of delay_ms)."""
        return len(BACKEND_INFO[self.backend][0])

    def fields(self) -> dict[str, str]:
        return {"backend": self.backend, "mode": self.mode, "delay": str(self.delay_ms),
                "delay_ms": str(self.delay_ms), "workers": str(self.workers), "udp_workers": str(self.workers),
                "sockets": self.sockets, "udp_sockets": self.sockets, "name": self.name}


def rec_sockets(rec: dict | None) -> str:
    """The socket layout of a results.json record (records made before the option: LEGACY_SOCKETS)."""
    return ((rec or {}).get("scenario") or {}).get("sockets") or LEGACY_SOCKETS


def parse_sockets(value: str | None) -> list[str]:
    """--udp-sockets: a comma list of SOCKETS values (None: shared), deduplicated, in the given order."""
    out: list[str] = []
    for v in (value or "shared").split(","):
        v = v.strip()
        if not v:
            continue
        if v not in SOCKETS:
            raise SystemExit(f"--udp-sockets wants a comma list of {' and '.join(SOCKETS)} (got {v!r})")
        if v not in out:
            out.append(v)
    if not out:
        raise SystemExit(f"--udp-sockets wants a comma list of {' and '.join(SOCKETS)} (got {value!r})")
    return out


def all_scenarios(backends, modes, delays, workers, sockets=("shared",), legacy_names: bool = False) -> list[Scenario]:
    """The product backend x mode x delay x workers x sockets (`none`: workers x sockets); `legacy_names`: the
    scenarios of a run made before udp_sockets (per_worker, names without -pw)."""
    for so in sockets:
        if so not in SOCKETS:
            raise SystemExit(f"unknown udp_sockets {so!r} (one of {', '.join(SOCKETS)})")
    return [Scenario(sc.backend, sc.mode, sc.delay_ms, sc.workers, so, legacy_names)
            for sc in _cells(backends, modes, delays, workers) for so in sockets]


def _cells(backends, modes, delays, workers) -> list[Scenario]:
    out: list[Scenario] = []
    for b in backends:
        if b not in BACKEND_INFO:
            raise SystemExit(f"unknown backend {b!r} (one of {', '.join(BACKENDS)})")
        bmodes = BACKEND_INFO[b][1]
        for w in workers:
            if b == "none":
                out.append(Scenario("none", "-", 0, w))
                continue
            for m in modes:
                if m not in MODES:
                    raise SystemExit(f"unknown mode {m!r} (one of {', '.join(MODES)})")
                if m not in bmodes:
                    continue
                for d in delays:
                    out.append(Scenario(b, m, d, w))
    return out


def run_order(scenarios: list[Scenario], delay_order: list[int], first_workers: int = 2) -> list[Scenario]:
    """The order scenarios run in: `none` first (its rates seed the others' starts), then by delay in
    `delay_order` (default 20, 1, 100: the 20 ms verdict first, so a time-boxed run yields it), within a delay
    `first_workers` first, then backend, then native, offload, sync (test servers stay up once started); a
    per_worker scenario right after its shared twin (the pair runs back to back, under the same conditions)."""
    def key(sc: Scenario):
        so = SOCKETS.index(sc.sockets)
        if sc.backend == "none":
            return (0, 0, sc.workers != first_workers, sc.workers, 0, 0, so)
        d = delay_order.index(sc.delay_ms) if sc.delay_ms in delay_order else len(delay_order) + sc.delay_ms
        return (1, d, sc.workers != first_workers, sc.workers, BACKENDS.index(sc.backend),
                RUN_MODE_ORDER.index(sc.mode), so)
    return sorted(scenarios, key=key)


def parse_filters(values: list[str] | None) -> list[dict[str, set[str]]]:
    """--only backend=http,mode=native (repeatable: a scenario passes if it matches any --only; within one,
    every key must match; a key's values are separated by |, e.g. backend=http|postgres)."""
    out = []
    for v in values or []:
        f: dict[str, set[str]] = {}
        for part in v.split(","):
            k, sep, val = part.partition("=")
            k = k.strip()
            if not sep or k not in ("backend", "mode", "delay", "delay_ms", "workers", "udp_workers", "sockets",
                                    "udp_sockets", "name"):
                raise SystemExit(f"--only wants KEY=VALUE[,KEY=VALUE] with KEY backend|mode|delay|workers|sockets|"
                                 f"name (got {v!r})")
            f[k] = {x.strip().removesuffix("ms") if k.startswith("delay") else x.strip() for x in val.split("|")}
        out.append(f)
    return out


def matches(sc: Scenario, filters: list[dict[str, set[str]]]) -> bool:
    if not filters:
        return True
    fl = sc.fields()
    return any(all(fl[k] in vals for k, vals in f.items()) for f in filters)


CFG_HEAD = """# Generated by Perf/harness.py matrix for scenario {name}; not committed.
log_level = 1
udp_workers = {workers}
socket = udp:127.0.0.1:{port}
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"
"""


# Tandem's management endpoint (GET /stats), read by the harness around every step.
CFG_STATS = """loadmodule "httpd.so"
modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", {port})
loadmodule "mi_http.so"
loadmodule "prometheus.so"
"""


CFG_ROUTE = """route {{
    if (!mf_process_maxfwd_header(70)) {{ sl_send_reply(483, "Too Many Hops"); exit; }}
    if (has_totag()) {{ if (loose_route()) {{ t_relay(); exit; }} sl_send_reply(404, "Not Here"); exit; }}
    record_route();
{wait}
}}
"""


# $rc < 0 (mongodb: -1/-3/-4; 0 rows is -2 there, still a completed wait): the wait did not happen (offload
# queue full, backend error): refuse the call rather than relay it without the delay.
CFG_RESUME = """route[{route}] {{
    if ({fail}) {{ t_reply(503, "{what} Failed"); exit; }}
{next}
}}
"""


def _backend_call(backend: str, d: int, env: dict[str, str], sc: Scenario, outdir: Path) -> tuple[str, str, str]:
    """(module lines, the async function call, the $rc condition meaning 'the wait did not happen') of one
    backend wait of d ms. `env[<backend>_port]` is where Tandem connects: the delay proxy for DELAYED
    backends (it adds the d ms), the server itself otherwise."""
    port = env.get(f"{backend}_port", "")
    if backend == "sleep":
        return 'loadmodule "cfgutils.so"\n', f"usleep({d * 1000})", "$rc < 0"
    if backend == "exec":
        return 'loadmodule "exec.so"\n', f'exec("sleep {d / 1000:.3f}")', "$rc < 0"
    if backend == "http":
        return 'loadmodule "rest_client.so"\n', f'rest_get("http://127.0.0.1:{port}/route", $var(b))', "$rc < 0"
    if backend == "http2":
        # HTTP/2 over TLS (ALPN; nginx.sh's self-signed certificate, so no verification): a worker's requests
        # run as streams of one connection. Not h2c: Debian 12's libcurl 7.88 cannot reuse h2c connections.
        return ('loadmodule "rest_client.so"\nmodparam("rest_client", "ssl_verifypeer", 0)\n'
                'modparam("rest_client", "ssl_verifyhost", 0)\nmodparam("tandem", "http_version", "2tls")\n',
                f'rest_get("https://127.0.0.1:{port}/route", $var(b))', "$rc < 0")
    if backend == "httpsleep":
        return ('loadmodule "rest_client.so"\n',
                f'rest_get("http://127.0.0.1:{port}/sleep?s={d / 1000:.3f}", $var(b))', "$rc < 0")
    if backend == "pgpipe":  # issue 19's pipeline target: <= 4 connections per worker
        return ('loadmodule "avpops.so"\n'
                f'modparam("avpops", "db_url", "postgres://postgres@127.0.0.1:{port}/tandem")\n'
                f'modparam("tandem", "db_pool_size", {PGPIPE_POOL})\nmodparam("tandem", "db_pipeline_depth", {PGPIPE_DEPTH})\n',
                'avp_db_query("SELECT 1, 1")', "$rc < 0")
    if backend in ("postgres", "pgsleep"):
        query = "SELECT 1, 1" if backend == "postgres" else f"SELECT pg_sleep({d / 1000:.3f}), 1"
        return ('loadmodule "avpops.so"\n'
                f'modparam("avpops", "db_url", "postgres://postgres@127.0.0.1:{port}/tandem")\n',
                f'avp_db_query("{query}")', "$rc < 0")
    if backend == "mysql":
        # The delay proxy adds d ms to every answer of MariaDB; the query has one bound value (a prepared
        # statement, cached per connection), so each call is one delayed round trip.
        return ('loadmodule "avpops.so"\n'
                f'modparam("avpops", "db_url", "mysql://tandem:tandem@127.0.0.1:{port}/tandem")\n',
                'avp_db_query("SELECT CHAR_LENGTH($ci), 1")', "$rc < 0")
    if backend == "ldap":
        conf = outdir / "configs" / f"{sc.name}-ldap.conf"
        conf.write_text(f'[people]\nldap_server_url = "ldap://127.0.0.1:{port}"\n'
                        'ldap_bind_dn = "cn=admin,dc=example,dc=com"\nldap_bind_password = "secret"\n'
                        'ldap_network_timeout = 2000\nldap_client_bind_timeout = 2000\n')
        return (f'loadmodule "ldap.so"\nmodparam("ldap", "config_file", "{conf}")\n',
                'ldap_search("ldap://people/ou=people,dc=example,dc=com?telephoneNumber?sub?(uid=alice)")', "$rc < 0")
    if backend == "mongodb":
        return ('loadmodule "avpops.so"\n'
                f'modparam("avpops", "db_url", "mongodb://127.0.0.1:{port}/tandem")\n',
                'avp_db_query("{\\"find\\": \\"subscriber\\", \\"filter\\": {\\"username\\": \\"$fU\\"}}", "$avp(u)")',
                "$rc == -1 || $rc == -3 || $rc == -4")
    raise SystemExit(f"no template for backend {backend}")


def scenario_config(sc: Scenario, port: int, env: dict[str, str], outdir: Path, offload_limit: int,
                    stats_port: int | None = None) -> str:
    """The Tandem configuration of a scenario (written to OUT/configs/<name>.cfg); with `stats_port`, the
    management endpoint (GET /stats) listens on 127.0.0.1:stats_port."""
    text = CFG_HEAD.format(name=sc.name, workers=sc.workers, port=port)
    text += f'modparam("tandem", "udp_sockets", "{sc.sockets}")\n'
    if stats_port:
        text += CFG_STATS.format(port=stats_port)
    if sc.backend == "none":
        return text + CFG_ROUTE.format(wait="    t_relay();")
    env = dict(env)
    if sc.backend != "mixed" and "port" in env:  # single-backend scenarios: the server's port
        env.setdefault(f"{sc.backend}_port", env["port"])
    if sc.backend in ("sleep", "http2", "httpsleep", "pgpipe", "pgsleep"):  # (template, driver)
        parts = [(sc.backend, BACKEND_INFO[sc.backend][0][0])]
    else:
        parts = [(b, b) for b in BACKEND_INFO[sc.backend][0]]
    modules: list[str] = []
    calls: list[tuple[str, str, str]] = []
    for backend, driver in parts:
        mods, call, fail = _backend_call(backend, sc.delay_ms, env, sc, outdir)
        if mods not in modules:
            modules.append(mods)
        calls.append((backend, call, fail))
    text += "".join(modules)
    drivers = [d for _, d in parts]
    text += f'modparam("tandem", "async_mode", "{";".join(f"{d}={sc.mode}" for d in drivers)}")\n'
    if sc.mode == "offload":
        text += f'modparam("tandem", "offload_limit", "{";".join(f"{d}={offload_limit}" for d in drivers)}")\n'
    # One call: async(call, resume). Several: route -> after_<first> -> ... -> resume, each checking $rc.
    routes = [f"after_{b}" for b, _, _ in calls[:-1]] + ["resume"]
    text += CFG_ROUTE.format(wait=f"    async({calls[0][1]}, {routes[0]});")
    for i, (backend, _, fail) in enumerate(calls):
        nxt = "    t_relay();" if i + 1 == len(calls) else f"    async({calls[i + 1][1]}, {routes[i + 1]});"
        text += CFG_RESUME.format(route=routes[i], fail=fail, what=BACKEND_LABEL.get(backend, "Backend"), next=nxt)
    return text


def blocking_bound(sc: Scenario, offload_limit: int) -> float | None:
    """Theoretical ceiling of a blocking mode in calls/s: sync blocks a worker for delay x backend calls
    (workers x 1000 / (delay x calls); per_worker sockets: one worker, the one SIPp's address hashes to); offload keeps at most `offload_limit` jobs per driver pool, each for
    one delay (limit x 1000 / delay: the pools of a mixed call work in sequence). None for native and none."""
    if sc.backend == "none" or sc.mode == "native":
        return None
    d = max(1, sc.delay_ms)
    if sc.mode == "sync":
        return sc.spread_workers * 1000 / (d * sc.backend_calls)
    return offload_limit * 1000 / d


def _known_rate(rec: dict | None) -> int | None:
    if not rec or rec.get("error") or rec.get("incomplete") or not rec.get("max_rate"):
        return None
    return int(rec["max_rate"])


def predict_start(sc: Scenario, known: dict[str, dict], default: int, offload_limit: int) -> tuple[int, str]:
    """(first ramp rate, why) of a scenario, from what this run (or the resumed folder) already measured, only
    from scenarios of the same socket layout (`sockets`; per_worker sync does not scale with workers: one peer,
    one worker):
    sync: a known sync rate of the same backend and delay scaled by workers, else half its bound (sync holds
    about half of it: an INVITE retransmitted while blocked runs the script again); native/offload: the same
    backend and mode at the same delay (other workers), else at another delay, else the other async mode,
    else half the relay rate (none-wN); offload is capped at 0.9 x its bound; everything at the relay rate."""
    def twin(b: str, m: str, d: int, w: int) -> Scenario:
        return Scenario(b, m, d, w, sc.sockets, sc.legacy_name)

    def rate(b: str, m: str, d: int, w: int) -> int | None:
        return _known_rate(known.get(twin(b, m, d, w).name))

    relay = rate("none", "-", 0, sc.workers) or max(
        [r for r in (rate("none", "-", 0, w) for w in (1, 2, 4, 8)) if r] or [0]) or None
    if sc.backend == "none":
        others = [(w, r) for w in (2, 1, 4, 8) if w != sc.workers and (r := rate("none", "-", 0, w))]
        # A plain relay holds thousands of calls/s here: start high enough for the ramp to reach it.
        return ((others[0][1], twin("none", "-", 0, others[0][0]).name) if others
                else (max(default, 4000), "relay default"))
    bound = blocking_bound(sc, offload_limit)
    ws = sorted({1, 2, 4, 8, sc.workers} - {sc.workers}, key=lambda w: (abs(w - sc.workers), w))
    guess: float | None = None
    why = "default"
    if sc.mode == "sync":
        for w in ws:
            r = rate(sc.backend, "sync", sc.delay_ms, w)
            if r:
                other = twin(sc.backend, "sync", sc.delay_ms, w)
                guess = r * sc.spread_workers / other.spread_workers
                why = other.name + (" x workers" if sc.sockets == "shared" else "")
                break
        if guess is None and bound:
            guess, why = bound / 2, f"half the sync bound {bound:.0f}"
    else:
        delays = sorted({1, 20, 100, sc.delay_ms} - {sc.delay_ms}, key=lambda d: abs(d - sc.delay_ms))
        cands = [(sc.mode, sc.delay_ms, w) for w in ws] + [(sc.mode, d, w) for d in delays
                                                          for w in [sc.workers] + ws]
        other = "offload" if sc.mode == "native" else "native"
        if other in BACKEND_INFO[sc.backend][1]:
            cands += [(other, sc.delay_ms, w) for w in [sc.workers] + ws]
        for m, d, w in cands:
            r = rate(sc.backend, m, d, w)
            if r:
                guess, why = float(r), twin(sc.backend, m, d, w).name
                break
        if guess is None:
            if relay:
                guess, why = relay / 2, "half the relay rate"
            else:
                guess = default if sc.delay_ms < 100 else default / 2
        if bound and guess > 0.9 * bound:
            guess, why = 0.9 * bound, f"0.9 x offload bound {bound:.0f}"
    if relay and guess and guess > relay:
        guess, why = relay, why + ", capped at the relay rate"
    return tidy_rate(max(1.0, guess or default)), why


# Calibration of the run-time estimate (seconds), from a quick matrix on this 2-vCPU machine (41 steps, 11
# scenarios): beyond its duration a step costs ~0.5 s (SIPp start/stop, the call tail); a failing step ends at
# ~0.6 x its duration on average (early stop on failed calls/retransmissions at 1.5-2.5 s, or late at ~1.1 x);
# ~1 s per scenario for the proxy's start and stop; the first start of each test server.
EST_STEP_OVERHEAD_S = 0.5
EST_FAIL_FRACTION = 0.6


EST_SCENARIO_OVERHEAD_S = 1.0
EST_SERVER_START_S = {"postgres": 4.0, "mariadb": 6.0, "http": 1.5, "nginx": 1.5, "slapd": 1.5, "mongo": 8.0}


def estimate_scenario_s(sc: Scenario, a) -> float:
    """Expected seconds of one scenario: `est_steps` search steps, half passing (duration + tail), half failing
    (EST_FAIL_FRACTION x duration), plus the confirmation (+ a 20% chance of a second one)."""
    tail = sc.delay_ms * max(1, sc.backend_calls) / 1000
    pass_s = a.duration + EST_STEP_OVERHEAD_S + tail
    fail_s = EST_FAIL_FRACTION * a.duration + EST_STEP_OVERHEAD_S
    steps = min(a.max_steps, a.est_steps)
    search_s = min(a.budget + pass_s, steps * (pass_s + fail_s) / 2)
    confirm_s = 1.2 * (a.confirm_duration + EST_STEP_OVERHEAD_S + tail) if a.confirm_duration else 0.0
    return EST_SCENARIO_OVERHEAD_S + search_s + confirm_s


def estimate_run_s(scenarios: list[Scenario], a, with_baseline: bool) -> float:
    servers = {s for sc in scenarios for s in BACKEND_INFO[sc.backend][2]}
    total = sum(estimate_scenario_s(sc, a) for sc in scenarios) + sum(EST_SERVER_START_S.get(s, 3) for s in servers)
    if with_baseline:
        total += min(a.budget, a.max_steps * (a.duration + EST_STEP_OVERHEAD_S))
    return total
