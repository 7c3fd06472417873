"""Unit tests of Perf/tandem_perf/ceilings.py (budgets, wire encodings, the fraction) and the matrix's ceiling
table; one short direct-client run against a local stdlib HTTP server.
Run: python3 -m unittest discover -s Perf/tests
"""
import struct
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tandem_perf import ceilings as c  # noqa: E402
from tandem_perf import verdict as v  # noqa: E402


class BudgetTests(unittest.TestCase):
    def test_budgets_follow_tandem_defaults(self):
        self.assertEqual(c.budget("http", "native", 2, 64), c.Budget(200, 1))
        self.assertEqual(c.budget("postgres", "native", 2, 64), c.Budget(32, 1))
        self.assertEqual(c.budget("ldap", "native", 2, 64), c.Budget(8, 64))
        self.assertEqual(c.budget("mongodb", "offload", 2, 64), c.Budget(64, 1))
        self.assertEqual(c.budget("mysql", "native", 2, 64), c.Budget(32, 1))
        self.assertEqual(c.budget("mysql", "offload", 2, 64), c.Budget(64, 1))
        self.assertEqual(c.budget("pgsleep", "sync", 4, 64), c.Budget(4, 1))
        self.assertEqual(c.budget("http2", "native", 2, 64), c.Budget(2, 100))
        self.assertIsNone(c.budget("sleep", "native", 2, 64))
        self.assertIsNone(c.budget("mixed", "native", 2, 64))

    def test_fraction_names_the_limit(self):
        self.assertEqual(c.fraction(900, 4000, 1000), (0.9, "backend"))
        self.assertEqual(c.fraction(3000, 4000, 10000), (0.75, "relay"))
        self.assertEqual(c.fraction(3000, 4000, None), (0.75, "relay"))
        self.assertEqual(c.fraction(None, 4000, 100), (None, ""))
        self.assertEqual(c.fraction(10, None, None), (None, ""))


class WireTests(unittest.TestCase):
    def test_pg_messages(self):
        q = c.pg_query("SELECT 1")
        self.assertEqual(q[:1], b"Q")
        self.assertEqual(struct.unpack("!i", q[1:5])[0], len(q) - 1)
        self.assertTrue(q.endswith(b"SELECT 1\0"))
        s = c.pg_startup("postgres", "tandem")
        self.assertEqual(struct.unpack("!ii", s[:8]), (len(s), 196608))

    def test_bson_find(self):
        doc = c.bson_doc([("a", "b"), ("n", 7), ("d", [("x", "y")])])
        self.assertEqual(struct.unpack("<i", doc[:4])[0], len(doc))
        self.assertEqual(doc[4:11], b"\x02a\0\x02\0\0\0")  # type, key, int32 length 2
        msg = c.mongo_find(9, "tandem", "subscriber", [("username", "alice")])
        self.assertEqual(struct.unpack("<iiii", msg[:16]), (len(msg), 9, 0, 2013))

    def test_mysql_messages(self):
        self.assertEqual(c.mysql_packet(3, b"ab"), b"\x02\x00\x00\x03ab")
        # mysql_native_password against a known scramble: 20 bytes, and XOR-ing SHA1(password) back out of it
        # gives SHA1(scramble + SHA1(SHA1(password))).
        import hashlib
        scramble = bytes(range(1, 21))
        answer = c.mysql_native_password("tandem", scramble)
        h1 = hashlib.sha1(b"tandem").digest()
        self.assertEqual(bytes(a ^ b for a, b in zip(answer, h1)),
                         hashlib.sha1(scramble + hashlib.sha1(h1).digest()).digest())
        self.assertEqual(c.mysql_native_password("", scramble), b"")
        greeting = (b"\x0a" + b"10.11.19-MariaDB\0" + struct.pack("<I", 7) + scramble[:8] + b"\0"
                    + struct.pack("<HBHH", 0xF7FE, 45, 2, 0x81FF) + bytes([21]) + b"\0" * 10 + scramble[8:] + b"\0"
                    + b"mysql_native_password\0")
        self.assertEqual(c.mysql_handshake_scramble(greeting), (scramble, "mysql_native_password"))
        ex = c.mysql_execute(5, "abc")
        self.assertEqual(ex, b"\x17\x05\x00\x00\x00\x00\x01\x00\x00\x00\x00\x01\xfd\x00\x03abc")

    def test_ber_lengths(self):
        self.assertEqual(c.ber(0x04, b"ab"), b"\x04\x02ab")
        long = c.ber(0x04, b"x" * 200)
        self.assertEqual(long[:3], b"\x04\x81\xc8")
        self.assertEqual(c.ber_int(0x02, 0), b"\x02\x01\x00")
        self.assertEqual(c.ber_int(0x02, 128), b"\x02\x02\x00\x80")
        m = c.ldap_search(5, "ou=people,dc=example,dc=com", "uid", "alice", ["telephoneNumber"])
        self.assertEqual(m[0], 0x30)
        self.assertEqual(m[2:5], b"\x02\x01\x05")
        self.assertEqual(m[5], 0x63)


class H2loadTests(unittest.TestCase):
    def test_command(self):
        self.assertEqual(c.h2load_command("http2", 27391, 20, c.Budget(2, 100), 3, 0.5),
                         ["h2load", "-D", "3000ms", "--warm-up-time", "500ms", "-c", "2", "-m", "100", "-t", "1",
                          "https://127.0.0.1:27391/route"])
        cmd = c.h2load_command("httpsleep", 28180, 20, c.Budget(128, 1), 4, 0.5)
        self.assertIn("--h1", cmd)
        self.assertEqual(cmd[-1], "http://127.0.0.1:28180/sleep?s=0.020")

    def test_parse(self):
        out = ("Application protocol: h2c\nfinished in 3.50s, 4527.67 req/s, 1.98MB/s\n"
               "requests: 13590 total, 13600 started, 13590 done, 13583 succeeded, 5 failed, 2 errored, 0 timeout\n")
        self.assertEqual(c.parse_h2load(out), (13583, 7, "h2c"))
        with self.assertRaises(RuntimeError):
            c.parse_h2load("connect refused")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class DirectClientTests(unittest.TestCase):
    def test_http_client_counts_answers(self):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        try:
            r = c.measure("http", srv.server_address[1], 0, c.Budget(2), duration_s=0.3, warmup_s=0.1)
        finally:
            srv.shutdown()
            srv.server_close()
        self.assertEqual(r.connections, 2)
        self.assertEqual(r.errors, 0)
        self.assertGreater(r.answers, 0)
        self.assertEqual(r.rate, round(r.answers / 0.3, 1))


def rec(name, backend, mode, rate, workers=2, ceiling=None, delay=20):
    r = {"name": name, "max_rate": rate, "steps": [{}],
         "scenario": {"backend": backend, "mode": mode, "delay_ms": delay, "workers": workers, "sockets": "shared"}}
    if ceiling is not None:
        r["ceiling"] = {"rate": ceiling, "connections": 32, "depth": 1, "client_bound": False}
    return r


class CeilingTableTests(unittest.TestCase):
    def test_rows_take_the_best_async_and_name_the_limit(self):
        recs = [rec("none-w2", "none", "-", 4000, delay=0),
                rec("postgres-native-20ms-w2", "postgres", "native", 1200, ceiling=1300),
                rec("postgres-offload-20ms-w2", "postgres", "offload", 900, ceiling=3000),
                rec("postgres-sync-20ms-w2", "postgres", "sync", 80),
                rec("ldap-native-20ms-w2", "ldap", "native", 3000, ceiling=20000),
                rec("sleep-native-20ms-w2", "sleep", "native", 3920)]
        rows = {r["backend"]: r for r in v.ceiling_rows(recs, 20)}
        self.assertEqual(rows["postgres"]["scenario"], "postgres-native-20ms-w2")
        self.assertEqual((rows["postgres"]["fraction"], rows["postgres"]["limit"], rows["postgres"]["target"]),
                         (0.92, "backend", "met"))
        self.assertEqual((rows["ldap"]["fraction"], rows["ldap"]["limit"], rows["ldap"]["target"]),
                         (0.75, "relay", "not met"))
        # No server, no ceiling: against the relay alone.
        self.assertEqual((rows["sleep"]["ceiling"], rows["sleep"]["fraction"]), (None, 0.98))
        md = "\n".join(v.ceiling_md(list(rows.values()), 20))
        self.assertIn("| postgres | postgres-native-20ms-w2 | 1200 | 4000 | 1300 (32x1) | 0.92 | backend | met |", md)
        self.assertIn("themselves the limit", md)

    def test_same_concurrency_column(self):
        r = rec("mongodb-offload-20ms-w2", "mongodb", "offload", 250, ceiling=1056)
        r["ceiling_same_concurrency"] = {"rate": 260.0, "connections": 6, "depth": 1, "tandem_in_flight": 6}
        rows = v.ceiling_rows([rec("none-w2", "none", "-", 600, delay=0), r], 20)
        self.assertEqual((rows[0]["ceiling_same"], rows[0]["fraction_same"], rows[0]["fraction"]), (260.0, 0.96, 0.42))
        md = "\n".join(v.ceiling_md(rows, 20))
        self.assertIn("| 1056 (32x1) | 0.42 | relay | not met | 6, 260, 0.96 |", md)


class SameConcurrencyTests(unittest.TestCase):
    def test_connections_follow_tandems_in_flight_peak(self):
        import types
        from tandem_perf import matrix as m
        seen = []
        orig = m.measure_ceiling
        m.measure_ceiling = lambda backend, port, delay, b, dur: (seen.append(b), c.Ceiling(
            backend, delay, b.connections, b.depth, 100.0, 300, 0, dur, 0.01, False))[1]
        try:
            a = types.SimpleNamespace(ceiling_duration=3.0)
            sc = types.SimpleNamespace(backend="ldap", delay_ms=20)
            r = {"max_rate": 300, "ceiling": {"rate": 7000, "connections": 8, "depth": 64},
                 "async_at_max": {"peaks": {"in_flight": 13}}}
            m.rec_ceiling_same_concurrency(r, sc, {"ldap_port": "1"}, a)
            self.assertEqual(seen[-1], c.Budget(8, 2))
            r = {"max_rate": 250, "ceiling": {"rate": 1000, "connections": 64, "depth": 1},
                 "async_at_max": {"peaks": {"in_flight": 6}}}
            m.rec_ceiling_same_concurrency(r, sc, {"ldap_port": "1"}, a)
            self.assertEqual((seen[-1], r["ceiling_same_concurrency"]["tandem_in_flight"]), (c.Budget(6, 1), 6))
            r = {"max_rate": 250, "ceiling": {"rate": 1000, "connections": 64, "depth": 1}}  # no /stats
            m.rec_ceiling_same_concurrency(r, sc, {"ldap_port": "1"}, a)
            self.assertNotIn("ceiling_same_concurrency", r)
        finally:
            m.measure_ceiling = orig


if __name__ == "__main__":
    unittest.main()
