"""Unit tests of the matrix's udp_sockets dimension (Perf/harness.py matrix --udp-sockets): scenario names,
filters, the generated config line, run order of the twins, start rates, reports with both layouts, legacy
resume. Fake results only: no SIPp, no proxy. Run: python3 -m unittest discover -s Perf/tests
"""
import contextlib
import csv
import io
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness as h  # noqa: E402


def rec(name, rate, sockets="shared", incomplete=False):
    """A finished scenario record as results.json holds it (sockets None: a record made before the option)."""
    legacy = not name.endswith("-pw") and sockets != "shared"
    parts = name.removesuffix("-pw").split("-")
    if parts[0] == "none":
        sc = h.Scenario("none", "-", 0, int(parts[1][1:]), sockets or "per_worker", legacy)
    else:
        sc = h.Scenario(parts[0], parts[1], int(parts[2][:-2]), int(parts[3][1:]), sockets or "per_worker", legacy)
    assert sc.name == name, (sc.name, name)
    scenario = sc.record()
    if sockets is None:
        del scenario["sockets"]
        scenario.pop("legacy_name", None)
    r = {"name": name, "scenario": scenario, "max_rate": rate, "first_fail": int(rate * 1.2) + 1,
         "stopped_by": "precision", "limit": "",
         "steps": [{"target": name, "rate": rate, "duration_s": 4.0, "calls": rate * 4, "ok": True}]}
    if incomplete:
        r["incomplete"] = True
    return r


def result_doc(params=None):
    return {"schema": 2, "kind": "matrix", "timestamp": "T", "git": "abc",
            "host": {"cpus": 2, "sipp": "SIPp v3.7"},
            "params": {"duration_s": 4.0, "max_failed": 0.001, "max_p90_ms": 50.0, "p90_factor": 2.0,
                       "confirm_s": 0.0, **(params or {})}}


class NamesAndFiltersTests(unittest.TestCase):
    def test_names(self):
        self.assertEqual(h.Scenario("sleep", "sync", 20, 2).name, "sleep-sync-20ms-w2")
        self.assertEqual(h.Scenario("sleep", "sync", 20, 2, "shared").name, "sleep-sync-20ms-w2")
        self.assertEqual(h.Scenario("sleep", "sync", 20, 2, "per_worker").name, "sleep-sync-20ms-w2-pw")
        self.assertEqual(h.Scenario("none", "-", 0, 2, "per_worker").name, "none-w2-pw")
        self.assertEqual(h.Scenario("none", "-", 0, 2, "per_worker", legacy_name=True).name, "none-w2")

    def test_record(self):
        self.assertEqual(h.Scenario("http", "native", 20, 4, "per_worker").record(),
                         {"backend": "http", "mode": "native", "delay_ms": 20, "workers": 4, "sockets": "per_worker"})
        self.assertTrue(h.Scenario("http", "native", 20, 4, "per_worker", True).record()["legacy_name"])

    def test_record_sockets_missing_means_per_worker(self):
        self.assertEqual(h.rec_sockets(rec("http-sync-20ms-w2", 40, sockets=None)), "per_worker")
        self.assertEqual(h.rec_sockets(rec("http-sync-20ms-w2", 40)), "shared")
        self.assertEqual(h.rec_sockets(rec("http-sync-20ms-w2-pw", 40, "per_worker")), "per_worker")

    def test_filters(self):
        scs = h.all_scenarios(["none", "sleep"], ["sync"], [20], [2], ["shared", "per_worker"])
        pick = lambda *f: [sc.name for sc in scs if h.matches(sc, h.parse_filters(list(f)))]
        self.assertEqual(pick("sockets=per_worker"), ["none-w2-pw", "sleep-sync-20ms-w2-pw"])
        self.assertEqual(pick("udp_sockets=shared,backend=sleep"), ["sleep-sync-20ms-w2"])
        self.assertEqual(pick("sockets=shared|per_worker,backend=none"), ["none-w2", "none-w2-pw"])
        with self.assertRaises(SystemExit) as e:
            h.parse_filters(["socket=shared"])
        self.assertIn("sockets", str(e.exception))

    def test_parse_sockets(self):
        self.assertEqual(h.parse_sockets(None), ["shared"])
        self.assertEqual(h.parse_sockets("per_worker, shared,per_worker"), ["per_worker", "shared"])
        for bad in ("per-worker", "shared,x", ","):
            with self.assertRaises(SystemExit):
                h.parse_sockets(bad)
        with self.assertRaises(SystemExit):
            h.all_scenarios(["none"], ["sync"], [20], [2], ["both"])

    def test_config_line(self):
        for so in h.SOCKETS:
            for sc in (h.Scenario("none", "-", 0, 2, so), h.Scenario("sleep", "native", 20, 4, so)):
                text = h.scenario_config(sc, 15160, {}, Path("/tmp"), 64, stats_port=18990)
                head = h.CFG_HEAD.format(name=sc.name, workers=sc.workers, port=15160)
                self.assertTrue(text.startswith(head + f'modparam("tandem", "udp_sockets", "{so}")\n'), text)
                self.assertEqual(text.count('"udp_sockets"'), 1)
        legacy = h.Scenario("sleep", "sync", 20, 2, "per_worker", legacy_name=True)
        self.assertIn('modparam("tandem", "udp_sockets", "per_worker")',
                      h.scenario_config(legacy, 15160, {}, Path("/tmp"), 64))

    def test_quick_keeps_both_twins(self):
        scs = h.all_scenarios(h.BACKENDS, h.MODES, [1, 20, 100], [1, 2, 4], ["shared", "per_worker"])
        names = [sc.name for sc in h.run_order([sc for sc in scs if h.matches(sc, h.parse_filters(h.QUICK_ONLY))],
                                               [20, 1, 100])]
        self.assertEqual(names, ["none-w2", "none-w2-pw", "sleep-native-20ms-w2", "sleep-native-20ms-w2-pw",
                                 "sleep-sync-20ms-w2", "sleep-sync-20ms-w2-pw", "http-native-20ms-w2",
                                 "http-native-20ms-w2-pw"])


class OrderAndStartTests(unittest.TestCase):
    def test_run_order_pairs(self):
        shared = h.run_order(h.all_scenarios(h.BACKENDS, h.MODES, [1, 20, 100], [1, 2, 4]), [20, 1, 100])
        both = h.run_order(h.all_scenarios(h.BACKENDS, h.MODES, [1, 20, 100], [1, 2, 4],
                                           ["per_worker", "shared"]), [20, 1, 100])
        self.assertEqual(len(both), 2 * 300)
        self.assertEqual(len({sc.name for sc in both}), len(both))
        # The shared order is kept; each per_worker twin runs right after its shared scenario.
        self.assertEqual(both[0::2], shared)
        for sh, pw in zip(both[0::2], both[1::2]):
            self.assertEqual(pw.sockets, "per_worker")
            self.assertEqual(pw.name, sh.name + "-pw")
        self.assertEqual([sc.name for sc in both[:4]], ["none-w2", "none-w2-pw", "none-w1", "none-w1-pw"])
        only_pw = h.run_order(h.all_scenarios(["none", "http"], h.MODES, [20], [2], ["per_worker"]), [20])
        self.assertEqual([sc.name for sc in only_pw],
                         ["none-w2-pw", "http-native-20ms-w2-pw", "http-offload-20ms-w2-pw", "http-sync-20ms-w2-pw"])

    def test_blocking_bound_per_worker_is_one_worker(self):
        self.assertEqual(h.blocking_bound(h.Scenario("http", "sync", 20, 4), 64), 200)
        self.assertEqual(h.blocking_bound(h.Scenario("http", "sync", 20, 4, "per_worker"), 64), 50)
        self.assertEqual(h.blocking_bound(h.Scenario("http", "offload", 20, 4, "per_worker"), 64), 3200)

    def test_predict_start_uses_own_layout(self):
        known = {"none-w2": {"max_rate": 8000}, "none-w2-pw": {"max_rate": 6000},
                 "http-native-20ms-w2": {"max_rate": 2000}, "http-native-20ms-w2-pw": {"max_rate": 1200},
                 "http-sync-20ms-w2": {"max_rate": 80}, "http-sync-20ms-w2-pw": {"max_rate": 42}}
        pw = lambda b, m, d, w: h.Scenario(b, m, d, w, "per_worker")
        self.assertEqual(h.predict_start(pw("http", "native", 20, 1), known, 1000, 64),
                         (1200, "http-native-20ms-w2-pw"))
        self.assertEqual(h.predict_start(h.Scenario("http", "native", 20, 1), known, 1000, 64),
                         (2000, "http-native-20ms-w2"))
        # per_worker sync does not scale with workers (one peer, one worker); shared does.
        self.assertEqual(h.predict_start(pw("http", "sync", 20, 4), known, 1000, 64), (42, "http-sync-20ms-w2-pw"))
        self.assertEqual(h.predict_start(h.Scenario("http", "sync", 20, 4), known, 1000, 64),
                         (160, "http-sync-20ms-w2 x workers"))
        # Nothing of its own layout: no borrowing from the other one.
        self.assertEqual(h.predict_start(pw("postgres", "native", 20, 2), known, 1000, 64),
                         (3000, "half the relay rate"))
        self.assertEqual(h.predict_start(pw("postgres", "sync", 20, 2), known, 1000, 64),
                         (25, "half the sync bound 50"))
        self.assertEqual(h.predict_start(pw("none", "-", 0, 4), known, 1000, 64), (6000, "none-w2-pw"))
        self.assertEqual(h.predict_start(pw("none", "-", 0, 4), {"none-w2": {"max_rate": 8000}}, 1000, 64),
                         (4000, "relay default"))
        # Legacy names (a run made before the option): per_worker under the old names.
        legacy = h.Scenario("http", "native", 20, 1, "per_worker", legacy_name=True)
        self.assertEqual(h.predict_start(legacy, known, 1000, 64), (2000, "http-native-20ms-w2"))


class ReportTests(unittest.TestCase):
    def write(self, recs, params=None):
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        out = Path(d.name)
        result = result_doc(params)
        h.write_matrix_reports(out, result, recs, [], 20, 5.0)
        with open(out / "matrix.csv") as f:
            rows = list(csv.DictReader(f))
        return (out / "summary.md").read_text(), rows, json.loads((out / "results.json").read_text())

    def test_both_layouts(self):
        recs = [rec("none-w2", 8000), rec("none-w2-pw", 6000, "per_worker"),
                rec("http-native-20ms-w2", 2000), rec("http-native-20ms-w2-pw", 1000, "per_worker"),
                rec("http-sync-20ms-w2", 80), rec("http-sync-20ms-w2-pw", 40, "per_worker", incomplete=True),
                # per_worker only, and better than every shared one: the verdict must not pick it.
                rec("http-offload-20ms-w4-pw", 5000, "per_worker"), rec("http-sync-20ms-w4-pw", 20, "per_worker")]
        md, rows, doc = self.write(recs, {"udp_sockets": ["shared", "per_worker"]})
        # Every scenario keeps its own row (nothing overwritten), with its layout.
        self.assertEqual([r["scenario"] for r in rows], [r["name"] for r in recs])
        self.assertEqual([r["udp_sockets"] for r in rows],
                         ["shared", "per_worker", "shared", "per_worker", "shared", "per_worker", "per_worker",
                          "per_worker"])
        self.assertEqual([p["name"] for p in doc["proxies"]], [r["name"] for r in recs])
        self.assertEqual(doc["proxies"][1]["scenario"]["sockets"], "per_worker")
        for r in recs:
            self.assertIn(f"| {r['name']} | {r['max_rate']} |", md)
        # The verdict: shared scenarios only, said in its heading.
        v = {r["backend"]: r for r in doc["verdict"]["rows"]}
        self.assertEqual(doc["verdict"]["udp_sockets"], "shared")
        self.assertEqual((v["http"]["async"], v["http"]["sync"]), ("http-native-20ms-w2", "http-sync-20ms-w2"))
        self.assertEqual(v["http"]["ratio"], 25.0)
        self.assertIn("## 20 ms verdict (shared sockets)", md)
        self.assertIn("Only `udp_sockets=shared` scenarios", md)
        # The pair table: only complete pairs, in run order, shared / per_worker.
        self.assertEqual([(p["shared"], p["per_worker"], p["ratio"]) for p in doc["sockets_pairs"]],
                         [("none-w2", "none-w2-pw", 1.33), ("http-native-20ms-w2", "http-native-20ms-w2-pw", 2.0),
                          ("http-sync-20ms-w2", "http-sync-20ms-w2-pw", 2.0)])
        self.assertIn("## shared vs per_worker", md)
        self.assertIn("| none-w2 | 8000 | none-w2-pw | 6000 | 1.33x |", md)
        self.assertIn("| http-sync-20ms-w2 | 80 | http-sync-20ms-w2-pw | 40 | 2.00x (incomplete) |", md)
        self.assertLess(md.index("## 20 ms verdict"), md.index("## shared vs per_worker"))

    def test_one_layout_no_pair_table(self):
        recs = [rec("http-native-20ms-w2-pw", 1000, "per_worker"), rec("http-sync-20ms-w2-pw", 40, "per_worker")]
        md, rows, doc = self.write(recs, {"udp_sockets": ["per_worker"]})
        self.assertNotIn("shared vs per_worker", md)
        self.assertIn("## 20 ms verdict\n", md)
        self.assertEqual(doc["verdict"]["udp_sockets"], "all")
        self.assertEqual(doc["verdict"]["rows"][0]["async"], "http-native-20ms-w2-pw")
        self.assertEqual(doc["sockets_pairs"], [])

    def test_old_records_without_sockets(self):
        recs = [rec("http-native-20ms-w2", 1000, None), rec("http-sync-20ms-w2", 40, None)]
        md, rows, doc = self.write(recs)
        self.assertEqual([r["udp_sockets"] for r in rows], ["per_worker", "per_worker"])
        self.assertEqual(doc["verdict"]["rows"][0]["verdict"], "PASS")
        self.assertNotIn("shared vs per_worker", md)


class LegacyResumeTests(unittest.TestCase):
    def test_resume_sockets(self):
        old = {"params": {"duration_s": 4.0}}
        self.assertEqual(h.resume_sockets(old, None, ["shared"]), (True, ["per_worker"]))
        self.assertEqual(h.resume_sockets(old, "per_worker", ["per_worker"]), (True, ["per_worker"]))
        for req in ("shared", "shared,per_worker"):
            with self.assertRaises(SystemExit) as e:
                h.resume_sockets(old, req, h.parse_sockets(req))
            self.assertIn("before udp_sockets existed", str(e.exception))
        # Resuming the resumed legacy run: still legacy.
        again = {"params": {"udp_sockets": ["per_worker"], "legacy_socket_names": True}}
        self.assertEqual(h.resume_sockets(again, None, ["shared"]), (True, ["per_worker"]))
        new = {"params": {"udp_sockets": ["shared"]}}
        self.assertEqual(h.resume_sockets(new, "shared,per_worker", ["shared", "per_worker"]),
                         (False, ["shared", "per_worker"]))
        self.assertEqual(h.resume_sockets({}, None, ["shared"]), (False, ["shared"]))

    def test_list_resumes_old_run_under_its_names(self):
        old = result_doc()
        old["proxies"] = [rec("none-w2", 8000, None), rec("sleep-native-20ms-w2", 2000, None)]
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "results.json").write_text(json.dumps(old))
            logs = []
            saved = h.set_log(logs.append)
            try:
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    rc = h.main(["matrix", "--list", "--quick", "--resume", d])
            finally:
                h.set_log(saved)
        self.assertEqual(rc, 0)
        lines = out.getvalue().splitlines()
        self.assertEqual([ln.split()[0] for ln in lines[:-1]],
                         ["none-w2", "sleep-native-20ms-w2", "sleep-sync-20ms-w2", "http-native-20ms-w2"])
        self.assertIn("(done)", lines[0])
        self.assertNotIn("(done)", lines[2])
        self.assertEqual(len(logs), 1)
        self.assertIn("udp_sockets=per_worker and keep its names", logs[0])


if __name__ == "__main__":
    unittest.main()
