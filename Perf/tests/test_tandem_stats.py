"""Unit tests of Perf/tandem_stats.py against a fake GET /stats server on 127.0.0.1 (stdlib only).

Run: python3 -m unittest discover -s Perf/tests
"""
import json
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tandem_perf import tandem_stats  # noqa: E402


def doc(started, completed, suspended, busy=0, timed_out=0, rejected=0, cancelled=0, extra_driver=False):
    drivers = [{"driver": "sleep", "started": started, "completed": completed, "timed_out": timed_out,
                "cancelled": cancelled, "rejected": rejected, "late_dropped": 0, "in_flight": suspended,
                "queued": 1, "offload_busy": busy, "offload_limit": None,
                "latency_ms": {"buckets": [{"le": "1", "count": 0}, {"le": "+Inf", "count": completed}],
                               "count": completed}}]
    if extra_driver:
        drivers.append({"driver": "http", "started": 5, "completed": 5, "timed_out": 0, "cancelled": 1,
                        "rejected": 2, "late_dropped": 0, "in_flight": 0, "queued": 0, "offload_busy": 0,
                        "offload_limit": 64})
    return {"state": "running", "uptime_seconds": 1.5,
            "sip": {"requests_received": completed * 3, "retransmissions_absorbed": 7, "transactions_in_use": 4,
                    "suspended_now": suspended, "requests_by_method": {"INVITE": completed}},
            "async": {"drivers": drivers,
                      "offload": {"threads": 2, "threads_peak": 3, "threads_busy": busy, "thread_limit": 64}},
            "script": {"counters": {"calls": completed}}}


class FakeStats:
    """Serves the documents of `docs` in turn (the last one repeats) on GET /stats; 404 elsewhere."""

    def __init__(self, docs):
        self.docs, self.i = list(docs), 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path != "/stats":
                    self.send_response(404)
                    self.end_headers()
                    return
                d = fake.docs[min(fake.i, len(fake.docs) - 1)]
                fake.i += 1
                body = json.dumps(d).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stats"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class StatsTests(unittest.TestCase):
    def test_fetch_parses_the_document(self):
        with FakeStats([doc(10, 8, 2)]) as fake:
            d = tandem_stats.fetch(fake.url)
        self.assertEqual(d["async"]["drivers"][0]["driver"], "sleep")

    def test_fetch_none_when_absent_or_not_json(self):
        with FakeStats([doc(1, 1, 0)]) as fake:
            self.assertIsNone(tandem_stats.fetch(fake.url.replace("/stats", "/nope")))
        # Nothing listens on the port any more.
        self.assertIsNone(tandem_stats.fetch(fake.url, timeout=0.3))

    def test_delta_per_driver_and_sip(self):
        before, after = doc(100, 90, 5), doc(1100, 1085, 3, timed_out=2, rejected=1, cancelled=1, extra_driver=True)
        d = tandem_stats.delta(before, after)
        self.assertEqual(d["drivers"]["sleep"], {"started": 1000, "completed": 995, "timed_out": 2, "cancelled": 1,
                                                 "rejected": 1, "late_dropped": 0})
        # A driver absent before counts from 0.
        self.assertEqual(d["drivers"]["http"]["completed"], 5)
        self.assertEqual(d["sip"]["requests_received"], 3 * 1085 - 3 * 90)
        t = tandem_stats.totals(d)
        self.assertEqual(t["completed"], 1000)
        self.assertEqual(t["rejected"], 1 + 1 + 2 + 1)  # rejected + cancelled over both drivers

    def test_delta_none_without_both_documents(self):
        self.assertIsNone(tandem_stats.delta(None, doc(1, 1, 0)))
        self.assertIsNone(tandem_stats.delta(doc(1, 1, 0), None))
        self.assertIsNone(tandem_stats.totals(None))

    def test_partial_documents_are_tolerated(self):
        d = tandem_stats.delta({"state": "running"}, {"async": {"drivers": [{"driver": "x", "started": "n/a"}]}})
        self.assertEqual(d, {"drivers": {}, "sip": {}})
        self.assertEqual(tandem_stats.gauges({"sip": []}), {})
        self.assertEqual(tandem_stats.cell({"delta": d, "peaks": {}}), "no async")
        self.assertEqual(tandem_stats.cell(None), "-")

    def test_poller_deltas_and_peaks(self):
        docs = [doc(0, 0, 0), doc(500, 450, 40, busy=3), doc(900, 880, 12, busy=1), doc(1000, 1000, 0)]
        with FakeStats(docs) as fake:
            p = tandem_stats.Poller(fake.url, interval=0.05)
            p.start()
            while fake.i < 3:  # the poller has read the documents in the middle
                threading.Event().wait(0.02)
            r = p.stop()
        self.assertTrue(r["complete"])
        self.assertEqual(tandem_stats.totals(r["delta"])["completed"], 1000)
        self.assertEqual(r["peaks"]["suspended_now"], 40)
        self.assertEqual(r["peaks"]["offload_threads_busy"], 3)
        self.assertGreaterEqual(r["polls"], 2)
        self.assertEqual(tandem_stats.cell(r), "1,000 done / 0 t/o / 0 rej / peak 40 susp / 3 thr")

    def test_poller_without_endpoint(self):
        p = tandem_stats.Poller("http://127.0.0.1:9/stats", interval=0.05, timeout=0.2)
        p.start()
        self.assertIsNone(p.stop())


if __name__ == "__main__":
    unittest.main()
