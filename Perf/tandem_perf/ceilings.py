"""Each backend's own ceiling: what a direct client (no SIP, no proxy) gets from the same server, through the
same delay proxy, with the same concurrency budget as the Tandem config of a scenario (`budget()`), in the same
run. The matrix measures it before a backend's async scenarios and reports Tandem's async rate as a fraction of
min(Tandem's relay rate, the ceiling).

HTTP is measured with h2load (Debian `nghttp2-client`: C, HTTP/1.1 or h2c with N streams per connection) when
installed. The other clients are small asyncio speakers of each wire protocol (stdlib only): HTTP/1.1
keep-alive GETs (without h2load), the PostgreSQL simple query protocol (trust auth), the MySQL binary protocol
(mysql_native_password login, one prepared statement executed with a bound string, as Tandem's MySQL pool does),
MongoDB OP_MSG `find`, LDAP simple bind + search. Each connection
keeps `depth` requests in flight. The client's own CPU time is recorded: a client that used most of a core
gives a lower bound (`client_bound`), not the server's ceiling.

Adding a backend: a `_<name>_client` coroutine (open a connection, then `await one()` answers in a loop) and its
entry in CLIENTS and budget().
"""
from __future__ import annotations

import asyncio
import re
import resource
import shutil
import struct
import subprocess
import time
from dataclasses import asdict, dataclass

from .scenarios import PGPIPE_DEPTH, PGPIPE_POOL

#: Tandem's defaults the budgets follow (README modparams): HTTP transfers per worker (max_async_transfers 100,
#: http_max_host_connections 100 (64 before 2026-12-05): without HTTP/2 a transfer holds one connection), PostgreSQL connections per
#: worker and database (db_pool_size 16, db_pipeline_depth 1), LDAP connections per worker
#: (ldap_max_connections 4) and searches per connection (ldap_max_searches_per_connection 64).
HTTP_CONNECTIONS_PER_WORKER = 100
HTTP_TRANSFERS_PER_WORKER = 100
PG_POOL_PER_WORKER = 16
PG_PIPELINE_DEPTH = 1
LDAP_CONNECTIONS_PER_WORKER = 4
LDAP_SEARCHES_PER_CONNECTION = 64
#: A client above this share of one core is likely its own limit.
CLIENT_BOUND_CPU = 0.85


@dataclass
class Budget:
    """Requests a Tandem config may have in flight at one backend: `connections` x `depth` (requests in flight
    per connection)."""
    connections: int
    depth: int = 1

    @property
    def in_flight(self) -> int:
        return self.connections * self.depth


@dataclass
class Ceiling:
    """One direct-client measurement of a backend."""
    backend: str
    delay_ms: int
    connections: int
    depth: int
    rate: float  # answers per second over the measured window
    answers: int
    errors: int
    duration_s: float
    client_cpu: float  # client CPU seconds / wall seconds (1.0 = one core)
    client_bound: bool
    note: str = ""

    def record(self) -> dict:
        return asdict(self)


def budget(backend: str, mode: str, workers: int, offload_limit: int) -> Budget | None:
    """The in-flight budget of a scenario's Tandem config at its backend (None: no server to measure)."""
    if backend not in CLIENTS and backend not in H2LOAD:
        return None
    if mode == "offload":  # one blocking job per connection, offload_limit jobs at once per driver
        return Budget(offload_limit)
    if mode == "sync":  # each worker blocks on one request
        return Budget(workers)
    if backend in ("http", "httpsleep"):
        return Budget(HTTP_CONNECTIONS_PER_WORKER * workers)
    if backend == "http2":  # one connection per worker, its transfers (max_async_transfers) as streams
        return Budget(workers, HTTP_TRANSFERS_PER_WORKER)
    if backend in ("postgres", "pgsleep", "mysql"):  # MySQL: one pool of db_pool_size per worker too
        return Budget(PG_POOL_PER_WORKER * workers, PG_PIPELINE_DEPTH)
    if backend == "pgpipe":
        return Budget(PGPIPE_POOL * workers, PGPIPE_DEPTH)
    if backend == "ldap":
        return Budget(LDAP_CONNECTIONS_PER_WORKER * workers, LDAP_SEARCHES_PER_CONNECTION)
    return Budget(offload_limit)


# ------------------------------------------------------------------------------------------------- clients

class _Conn:
    """A connection and a way to read exact byte counts."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.r, self.w = reader, writer

    async def exactly(self, n: int) -> bytes:
        return await self.r.readexactly(n)


async def _open(port: int) -> _Conn:
    r, w = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    return _Conn(r, w)


def http_request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".encode()


async def _http_answer(c: _Conn) -> bool:
    head = await c.r.readuntil(b"\r\n\r\n")
    status = head.split(b" ", 2)[1] if b" " in head else b""
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:].strip())
        elif line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower():
            while True:  # chunked body (nginx's echo module answers chunked)
                size = int((await c.r.readuntil(b"\r\n")).split(b";")[0], 16)
                await c.exactly(size + 2)
                if size == 0:
                    break
    if length:
        await c.exactly(length)
    return status == b"200"


async def _http_client(port: int, path: str):
    c = await _open(port)
    req = http_request(path)
    return c, (lambda: c.w.write(req)), (lambda: _http_answer(c))


def pg_startup(user: str, database: str) -> bytes:
    body = struct.pack("!i", 196608) + f"user\0{user}\0database\0{database}\0\0".encode()
    return struct.pack("!i", len(body) + 4) + body


def pg_query(sql: str) -> bytes:
    body = sql.encode() + b"\0"
    return b"Q" + struct.pack("!i", len(body) + 4) + body


async def _pg_message(c: _Conn) -> tuple[bytes, bytes]:
    head = await c.exactly(5)
    return head[:1], await c.exactly(struct.unpack("!i", head[1:])[0] - 4)


async def _pg_answer(c: _Conn) -> bool:
    ok = True
    while True:
        kind, _ = await _pg_message(c)
        if kind == b"E":
            ok = False
        if kind == b"Z":
            return ok


async def _pg_client(port: int, sql: str):
    c = await _open(port)
    c.w.write(pg_startup("postgres", "tandem"))
    while True:
        kind, body = await _pg_message(c)
        if kind == b"R" and struct.unpack("!i", body[:4])[0] != 0:
            raise RuntimeError("PostgreSQL asks for a password (the test server trusts 127.0.0.1)")
        if kind == b"E":
            raise RuntimeError(f"PostgreSQL refused the connection: {body[:120]!r}")
        if kind == b"Z":
            break
    q = pg_query(sql)
    return c, (lambda: c.w.write(q)), (lambda: _pg_answer(c))


def bson_doc(items: list[tuple[str, object]]) -> bytes:
    """A BSON document of strings, int32s and sub-documents (lists of pairs): enough for a find command."""
    out = b""
    for k, v in items:
        key = k.encode() + b"\0"
        if isinstance(v, str):
            s = v.encode() + b"\0"
            out += b"\x02" + key + struct.pack("<i", len(s)) + s
        elif isinstance(v, bool) or not isinstance(v, (int, list)):
            raise TypeError(f"bson_doc: unsupported {type(v)}")
        elif isinstance(v, int):
            out += b"\x10" + key + struct.pack("<i", v)
        else:
            out += b"\x03" + key + bson_doc(v)
    return struct.pack("<i", len(out) + 5) + out + b"\0"


def mongo_find(request_id: int, db: str, collection: str, filt: list[tuple[str, object]]) -> bytes:
    """An OP_MSG (opcode 2013) with one body section: {find, filter, $db}."""
    body = struct.pack("<I", 0) + b"\0" + bson_doc([("find", collection), ("filter", filt), ("$db", db)])
    return struct.pack("<iiii", 16 + len(body), request_id, 0, 2013) + body


async def _mongo_answer(c: _Conn) -> bool:
    n = struct.unpack("<i", await c.exactly(4))[0]
    rest = await c.exactly(n - 4)
    return b"ok\0" in rest and b"cursor" in rest


async def _mongo_client(port: int):
    c = await _open(port)
    msg = mongo_find(1, "tandem", "subscriber", [("username", "alice")])
    return c, (lambda: c.w.write(msg)), (lambda: _mongo_answer(c))


#: MySQL capability flags of the handshake response: LONG_PASSWORD, CONNECT_WITH_DB, PROTOCOL_41, TRANSACTIONS,
#: SECURE_CONNECTION (length-prefixed auth data), PLUGIN_AUTH. No DEPRECATE_EOF: result sets end in EOF packets.
MYSQL_CAPABILITIES = 0x1 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000
#: The prepared statement of the matrix's mysql scenarios (scenarios.py: avp_db_query with the Call-ID bound).
MYSQL_STATEMENT = "SELECT CHAR_LENGTH(?), 1"


def mysql_packet(seq: int, payload: bytes) -> bytes:
    """One MySQL protocol packet: 3-byte little-endian length, sequence id, payload (< 16 MiB)."""
    return struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload


def mysql_native_password(password: str, scramble: bytes) -> bytes:
    """mysql_native_password's answer: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password)))."""
    import hashlib
    if not password:
        return b""
    h1 = hashlib.sha1(password.encode()).digest()
    h2 = hashlib.sha1(scramble + hashlib.sha1(h1).digest()).digest()
    return bytes(a ^ b for a, b in zip(h1, h2))


def mysql_handshake_scramble(greeting: bytes) -> tuple[bytes, str]:
    """(20-byte scramble, auth plugin name) from the server's protocol-10 greeting payload."""
    if not greeting or greeting[0] != 10:
        raise RuntimeError(f"MySQL: unexpected greeting {greeting[:16]!r}")
    i = greeting.index(b"\0", 1) + 1 + 4  # server version, connection id
    part1 = greeting[i:i + 8]
    i += 8 + 1 + 2 + 1 + 2 + 2  # filler, capabilities (low), charset, status, capabilities (high)
    auth_len = greeting[i]
    i += 1 + 10  # reserved (MariaDB: extended capabilities in the last 4)
    part2 = greeting[i:i + max(13, auth_len - 8)]
    i += len(part2)
    plugin = greeting[i:].split(b"\0", 1)[0].decode() if i < len(greeting) else "mysql_native_password"
    return part1 + part2.rstrip(b"\0")[:12], plugin


def mysql_handshake_response(user: str, password: str, database: str, scramble: bytes) -> bytes:
    auth = mysql_native_password(password, scramble)
    return (struct.pack("<IIB", MYSQL_CAPABILITIES, 1 << 24, 45) + b"\0" * 23 + user.encode() + b"\0"
            + bytes([len(auth)]) + auth + database.encode() + b"\0" + b"mysql_native_password\0")


def mysql_execute(statement_id: int, value: str) -> bytes:
    """COM_STMT_EXECUTE payload: one VAR_STRING parameter, no cursor, types sent."""
    v = value.encode()
    return (b"\x17" + struct.pack("<IBI", statement_id, 0, 1) + b"\x00" + b"\x01" + b"\xfd\x00"
            + _lenenc(len(v)) + v)


def _lenenc(n: int) -> bytes:
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + struct.pack("<I", n)[:3]
    return b"\xfe" + struct.pack("<Q", n)


async def _mysql_packet(c: _Conn) -> bytes:
    head = await c.exactly(4)
    return await c.exactly(int.from_bytes(head[:3], "little"))


def _mysql_error(payload: bytes) -> str:
    return payload[9:].decode(errors="replace") if payload[3:4] == b"#" else payload[3:].decode(errors="replace")


async def _mysql_until_eof(c: _Conn) -> bool:
    """Reads packets up to and including an EOF (0xfe, < 9 bytes); False on an ERR packet."""
    while True:
        p = await _mysql_packet(c)
        if p[:1] == b"\xff":
            return False
        if p[:1] == b"\xfe" and len(p) < 9:
            return True


async def _mysql_answer(c: _Conn) -> bool:
    """One COM_STMT_EXECUTE result set: column count, column definitions + EOF, rows + EOF."""
    first = await _mysql_packet(c)
    if first[:1] == b"\xff":
        return False
    if first[:1] == b"\x00":  # OK: no result set
        return True
    return await _mysql_until_eof(c) and await _mysql_until_eof(c)


async def _mysql_client(port: int, user: str = "tandem", password: str = "tandem", database: str = "tandem"):
    """Logs in (mysql_native_password, also after an auth switch), prepares MYSQL_STATEMENT once; each request
    executes it with a Call-ID-like string bound, as Tandem's pool does with its cached statement."""
    c = await _open(port)
    scramble, _ = mysql_handshake_scramble(await _mysql_packet(c))
    c.w.write(mysql_packet(1, mysql_handshake_response(user, password, database, scramble)))
    reply = await _mysql_packet(c)
    if reply[:1] == b"\xfe":  # auth switch request: plugin name, new scramble
        plugin, _, data = reply[1:].partition(b"\0")
        if plugin != b"mysql_native_password":
            raise RuntimeError(f"MySQL asks for auth plugin {plugin.decode()!r}")
        c.w.write(mysql_packet(3, mysql_native_password(password, data.rstrip(b"\0")[:20])))
        reply = await _mysql_packet(c)
    if reply[:1] != b"\x00":
        raise RuntimeError(f"MySQL refused the login: {_mysql_error(reply)}")
    c.w.write(mysql_packet(0, b"\x16" + MYSQL_STATEMENT.encode()))
    ok = await _mysql_packet(c)
    if ok[:1] != b"\x00":
        raise RuntimeError(f"MySQL prepare failed: {_mysql_error(ok)}")
    statement, columns, params = struct.unpack("<IHH", ok[1:9])
    for n in (params, columns):
        if n:
            await _mysql_until_eof(c)
    msg = mysql_packet(0, mysql_execute(statement, "a84b4c76e66710@pc33.atlanta.example.com"))
    return c, (lambda: c.w.write(msg)), (lambda: _mysql_answer(c))


def ber(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + content


def ber_int(tag: int, v: int) -> bytes:
    return ber(tag, v.to_bytes(max(1, (v.bit_length() + 8) // 8), "big", signed=True))


def ldap_bind(msg_id: int, dn: str, password: str) -> bytes:
    op = ber(0x60, ber_int(0x02, 3) + ber(0x04, dn.encode()) + ber(0x80, password.encode()))
    return ber(0x30, ber_int(0x02, msg_id) + op)


def ldap_search(msg_id: int, base: str, attr: str, value: str, attrs: list[str]) -> bytes:
    """searchRequest: subtree, never deref, no limits, (attr=value)."""
    filt = ber(0xA3, ber(0x04, attr.encode()) + ber(0x04, value.encode()))
    op = ber(0x63, ber(0x04, base.encode()) + ber(0x0A, b"\x02") + ber(0x0A, b"\x00") + ber_int(0x02, 0)
             + ber_int(0x02, 0) + ber(0x01, b"\x00") + filt + ber(0x30, b"".join(ber(0x04, a.encode()) for a in attrs)))
    return ber(0x30, ber_int(0x02, msg_id) + op)


async def _ber_message(c: _Conn) -> bytes:
    """One LDAPMessage; returns its protocol-op tag byte and content."""
    head = await c.exactly(2)
    n = head[1]
    if n & 0x80:
        n = int.from_bytes(await c.exactly(n & 0x7F), "big")
    body = await c.exactly(n)
    # messageID INTEGER, then the protocol op
    id_len = body[1]
    return body[2 + id_len:]


async def _ldap_answer(c: _Conn) -> bool:
    while True:
        op = await _ber_message(c)
        if op[0] == 0x65:  # searchResDone: its first element is the resultCode (ENUMERATED)
            i = 2 + (op[1] & 0x7F if op[1] & 0x80 else 0)
            return op[i] == 0x0A and op[i + 2] == 0


async def _ldap_client(port: int):
    c = await _open(port)
    c.w.write(ldap_bind(1, "cn=admin,dc=example,dc=com", "secret"))
    op = await _ber_message(c)
    if op[0] != 0x61:
        raise RuntimeError("LDAP bind: unexpected answer")
    ids = iter(range(2, 1 << 30))

    def send() -> None:
        c.w.write(ldap_search(next(ids), "ou=people,dc=example,dc=com", "uid", "alice", ["telephoneNumber"]))
    return c, send, (lambda: _ldap_answer(c))


#: HTTP backends: measured with h2load (Debian `nghttp2-client`, C, one thread) when installed, else with the
#: asyncio HTTP/1.1 client (not for http2). backend -> (path, HTTP/2).
H2LOAD = {"http": ("/route", False), "httpsleep": (None, False), "http2": ("/route", True)}


def h2load_command(backend: str, port: int, delay_ms: int, b: Budget, duration_s: float, warmup_s: float) -> list[str]:
    path, h2 = H2LOAD[backend]
    path = path or f"/sleep?s={delay_ms / 1000:.3f}"
    cmd = ["h2load", "-D", f"{round(duration_s * 1000)}ms", "--warm-up-time", f"{round(warmup_s * 1000)}ms",
           "-c", str(b.connections), "-m", str(b.depth if h2 else 1), "-t", "1"]
    if not h2:
        cmd.append("--h1")
    return cmd + [f"{'https' if h2 else 'http'}://127.0.0.1:{port}{path}"]  # h2: TLS, ALPN (as Tandem's http2)


def parse_h2load(out: str) -> tuple[int, int, str]:
    """(succeeded, failed + errored + timed out, application protocol) from h2load's report."""
    m = re.search(r"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, "
                  r"(\d+) timeout", out)
    if not m:
        raise RuntimeError("h2load gave no request counts: " + out.strip()[-300:])
    proto = re.search(r"Application protocol: (\S+)", out)
    return int(m.group(1)), int(m.group(2)) + int(m.group(3)) + int(m.group(4)), proto.group(1) if proto else "?"


def measure_h2load(backend: str, port: int, delay_ms: int, b: Budget, duration_s: float, warmup_s: float) -> Ceiling:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(h2load_command(backend, port, delay_ms, b, duration_s, warmup_s), capture_output=True,
                       text=True, timeout=duration_s + warmup_s + 60)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ok, bad, proto = parse_h2load(r.stdout)
    cpu = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / max(1e-6, wall)
    h2 = H2LOAD[backend][1]
    return Ceiling(backend=backend, delay_ms=delay_ms, connections=b.connections, depth=b.depth if h2 else 1,
                   rate=round(ok / duration_s, 1), answers=ok, errors=bad, duration_s=duration_s,
                   client_cpu=round(cpu, 2), client_bound=cpu >= CLIENT_BOUND_CPU, note=f"h2load, {proto}")


#: backend -> factory(port, delay_ms) of (connection, send one request, await one answer -> ok)
CLIENTS = {
    "http": lambda port, d: _http_client(port, "/route"),
    "httpsleep": lambda port, d: _http_client(port, f"/sleep?s={d / 1000:.3f}"),
    "postgres": lambda port, d: _pg_client(port, "SELECT 1, 1"),
    "pgpipe": lambda port, d: _pg_client(port, "SELECT 1, 1"),
    "pgsleep": lambda port, d: _pg_client(port, f"SELECT pg_sleep({d / 1000:.3f}), 1"),
    "mysql": lambda port, d: _mysql_client(port),
    "mongodb": lambda port, d: _mongo_client(port),
    "ldap": lambda port, d: _ldap_client(port),
}


async def _run(backend: str, port: int, delay_ms: int, b: Budget, duration_s: float, warmup_s: float) -> dict:
    conns = await asyncio.gather(*[CLIENTS[backend](port, delay_ms) for _ in range(b.connections)],
                                 return_exceptions=True)
    failed = [c for c in conns if isinstance(c, BaseException)]
    conns = [c for c in conns if not isinstance(c, BaseException)]
    if not conns:
        raise RuntimeError(f"no connection: {failed[0] if failed else '?'}")
    counts = {"answers": 0, "errors": 0}
    t0 = time.monotonic()
    start, stop = t0 + warmup_s, t0 + warmup_s + duration_s

    async def drive(conn, send, answer) -> None:
        # `depth` requests in flight: answers come in order (HTTP/1.1 pipelining is not used: depth 1 there).
        for _ in range(b.depth):
            send()
        while True:
            ok = await answer()
            now = time.monotonic()
            if start <= now < stop:
                counts["answers" if ok else "errors"] += 1
            if now >= stop:
                return
            send()

    cpu0 = time.process_time()
    await asyncio.gather(*[drive(*c) for c in conns], return_exceptions=True)
    cpu = (time.process_time() - cpu0) / max(1e-6, time.monotonic() - t0)
    for c in conns:
        c[0].w.close()
    return {"answers": counts["answers"], "errors": counts["errors"], "opened": len(conns), "refused": len(failed),
            "cpu": cpu}


def measure(backend: str, port: int, delay_ms: int, b: Budget, duration_s: float = 4.0,
            warmup_s: float = 0.5) -> Ceiling:
    """A direct client's rate against the backend at `port` (the delay proxy for network-latency scenarios)
    with `b.connections` connections, `b.depth` requests in flight on each, for duration_s after warmup_s."""
    if backend in H2LOAD and shutil.which("h2load"):
        return measure_h2load(backend, port, delay_ms, b, duration_s, warmup_s)
    if backend not in CLIENTS:
        raise RuntimeError(f"no direct client for {backend} (install nghttp2-client for h2load)")
    depth = 1 if backend in ("http", "httpsleep") else b.depth  # no HTTP/1.1 pipelining (Tandem does not either)
    bb = Budget(b.connections, depth)
    r = asyncio.run(asyncio.wait_for(_run(backend, port, delay_ms, bb, duration_s, warmup_s),
                                     duration_s + warmup_s + 30))
    note = f"{r['refused']} of {b.connections} connections refused" if r["refused"] else ""
    return Ceiling(backend=backend, delay_ms=delay_ms, connections=r["opened"], depth=depth,
                   rate=round(r["answers"] / duration_s, 1), answers=r["answers"], errors=r["errors"],
                   duration_s=duration_s, client_cpu=round(r["cpu"], 2), client_bound=r["cpu"] >= CLIENT_BOUND_CPU,
                   note=note)


def fraction(async_rate: float | None, relay_rate: float | None, ceiling: float | None) -> tuple[float | None, str]:
    """(Tandem's async rate / min(relay, ceiling), which of the two is the limit: "relay", "backend" or "")."""
    if not async_rate and async_rate != 0:
        return None, ""
    limits = [(v, k) for v, k in ((relay_rate, "relay"), (ceiling, "backend")) if v]
    if not limits:
        return None, ""
    v, k = min(limits)
    return round(async_rate / v, 2), k


def main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(description="one direct-client ceiling measurement (prints JSON)")
    ap.add_argument("backend", choices=sorted(set(CLIENTS) | set(H2LOAD)))
    ap.add_argument("port", type=int)
    ap.add_argument("delay_ms", type=int, help="the scenario's delay (the path of the sleep scenarios)")
    ap.add_argument("connections", type=int)
    ap.add_argument("--depth", type=int, default=1)
    ap.add_argument("--duration", type=float, default=4.0)
    a = ap.parse_args(argv)
    import json
    print(json.dumps(measure(a.backend, a.port, a.delay_ms, Budget(a.connections, a.depth), a.duration).record()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
