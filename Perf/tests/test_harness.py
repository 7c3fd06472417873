"""Unit tests of Perf/harness.py's pass rule, search, matrix configs, start rates, run order and verdict
(no SIPp, no proxy). Run: python3 -m unittest discover -s Perf/tests
"""
import sys
import tempfile
import types
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import harness as h  # noqa: E402


def step(rate, **kw):
    st = h.Step(target="t", rate=rate, duration_s=4.0, calls=rate * 4)
    st.created = st.successful = st.calls
    st.wall_s, st.uac_rc = 4.1, 0
    for k, v in kw.items():
        setattr(st, k, v)
    return st


class PassRuleTests(unittest.TestCase):
    def test_clean_step_passes(self):
        self.assertEqual(h.judge(step(100, rtt_p90_ms=30, p90_limit_ms=90), 0.001, 0.01, 2.0), [])

    def test_latency_bound(self):
        r = h.judge(step(100, rtt_p90_ms=120, p90_limit_ms=90), 0.001, 0.01, 2.0)
        self.assertEqual(r, ["p90 120 ms > 90 ms"])
        # No bound, or no samples: no latency verdict.
        self.assertEqual(h.judge(step(100, rtt_p90_ms=120), 0.001, 0.01, 2.0), [])
        self.assertEqual(h.judge(step(100, p90_limit_ms=90), 0.001, 0.01, 2.0), [])

    def test_p90_limit_rule(self):
        self.assertEqual(h.p90_limit(20, 1, 50, 2), 90)
        self.assertEqual(h.p90_limit(20, 3, 50, 2), 170)
        self.assertEqual(h.p90_limit(0, 0, 50, 2), 50)
        self.assertIsNone(h.p90_limit(20, 1, 0, 2))

    def test_reasons_most_telling_first(self):
        st = step(1000, failed=50, successful=3950, wall_s=9.0, retransmissions=100, retrans_first_half=0,
                  retrans_second_half=100, rtt_p90_ms=300, p90_limit_ms=90)
        r = h.judge(st, 0.001, 0.01, 2.0)
        self.assertEqual(r[0], "failed calls 50")
        self.assertEqual(r[1], "p90 300 ms > 90 ms")
        self.assertIn("retransmissions growing 0->100", r)
        self.assertIn("late (9.0 s for 4 s)", r)
        self.assertEqual(h.judge(step(10, uac_rc=None), 0.001, 0.01, 2.0), ["late (killed at time limit)"])

    def test_retransmission_floor(self):
        self.assertEqual(h.judge(step(10, retransmissions=2, retrans_second_half=2), 0.001, 0.01, 2.0), [])
        self.assertEqual(h.judge(step(10, retransmissions=3, retrans_first_half=2, retrans_second_half=1),
                                 0.001, 0.01, 2.0), ["retransmissions 3"])

    def test_early_stop(self):
        rows = [{"FailedCall(C)": "3", "Retransmissions(C)": "0"}]
        self.assertEqual(h.early_stop_reason(rows, 4000, 0.001, 0.01), "")
        rows = [{"FailedCall(C)": "5", "Retransmissions(C)": "0"}]
        self.assertEqual(h.early_stop_reason(rows, 4000, 0.001, 0.01), "failed calls 5 > 4")
        self.assertEqual(h.early_stop_reason([], 4000, 0.001, 0.01), "")

    def test_slow_counter_reads_appended_samples(self):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "rtt.csv"
            c = h.SlowCounter(path, 90.0)
            self.assertEqual(c.count(), 0)  # no file yet
            path.write_text("Date_ms;response_time_ms;rtd_no\n1;20.0;1\n2;120.0;1\n3;9")
            self.assertEqual(c.count(), 1)
            with open(path, "a") as f:
                f.write("5.0;1\n4;300;1\n")
            self.assertEqual(c.count(), 3)  # the line split across looks counts once: 95.0

    def test_limit_reason_first_failure_above_best(self):
        steps = [step(1000, ok=True), step(2000, ok=False, reason="p90 120 ms > 90 ms; late (6 s for 4 s); x"),
                 step(1500, ok=False, reason="failed calls 9"), step(1250, ok=True)]
        self.assertEqual(h.limit_reason(steps, 1250), "1500: failed calls 9")
        self.assertEqual(h.limit_reason(steps[:2], 1000), "2000: p90 120 ms > 90 ms; late (6 s for 4 s) ...")
        self.assertEqual(h.limit_reason(steps[:1], 1000), "")


class FakeRunner:
    """Passes every step at or below `ceiling` (confirmation steps: `confirm_ceiling`)."""

    def __init__(self, ceiling, confirm_ceiling=None):
        self.ceiling, self.confirm_ceiling = ceiling, confirm_ceiling if confirm_ceiling is not None else ceiling
        self.calls = []

    def run(self, rate, target, duration=None, confirm=False):
        self.calls.append((rate, confirm))
        ok = rate <= (self.confirm_ceiling if confirm else self.ceiling)
        return step(rate, ok=ok, confirm=confirm, reason="" if ok else "p90 200 ms > 90 ms")


class SearchTests(unittest.TestCase):
    def setUp(self):
        h.set_log(lambda msg: None)
        self.addCleanup(h.set_log, None)

    def test_ramp_bisect_confirm(self):
        r = FakeRunner(1300)
        s = h.search(r, "x", 1000, 40000, 0.2, 5, 1e9, min_rate=1, ramp=1.5, confirm_s=10)
        self.assertEqual(r.calls, [(1000, False), (1500, False), (1250, False), (1250, True)])
        self.assertEqual((s.max_rate, s.first_fail, s.search_max_rate), (1250, 1500, 1250))
        self.assertIn("confirmed 10 s", s.stopped_by)
        self.assertTrue(h.best_step(s).confirm)

    def test_failed_confirmation_steps_down(self):
        r = FakeRunner(1300, confirm_ceiling=1100)
        s = h.search(r, "x", 1000, 40000, 0.2, 5, 1e9, min_rate=1, ramp=1.5, confirm_s=10)
        # 1250 fails its confirmation; the next candidate is max(1000 (passed), 0.8 x 1250) = 1000.
        self.assertEqual(r.calls[-2:], [(1250, True), (1000, True)])
        self.assertEqual((s.max_rate, s.first_fail), (1000, 1250))
        self.assertIn("confirmed 1000 at 10 s", s.stopped_by)
        self.assertEqual(h.limit_reason(s.steps, s.max_rate), "1250: p90 200 ms > 90 ms")

    def test_start_too_high_steps_down_to_low_rates(self):
        r = FakeRunner(3)
        s = h.search(r, "x", 20, 40000, 0.2, 8, 1e9, min_rate=1, ramp=1.5)
        self.assertEqual(s.max_rate, 3)
        self.assertTrue(all(rate >= 1 for rate, _ in r.calls))

    def test_hard_deadline_marks_incomplete(self):
        r = FakeRunner(1300)
        s = h.search(r, "x", 1000, 40000, 0.2, 5, 1e9, ramp=1.5, confirm_s=10, hard_deadline=0.0)
        self.assertTrue(s.incomplete)
        self.assertEqual(r.calls, [])


def args(**kw):
    a = types.SimpleNamespace(quick=False, full=True, only=None, duration=None, precision=None, max_steps=None,
                              budget=None, start_rate=None, ramp=None, confirm_duration=None, est_steps=None,
                              drain=6.0, late_slack=2.0)
    a.__dict__.update(kw)
    h.matrix_defaults(a)
    return a


class MatrixTests(unittest.TestCase):
    def test_scenario_count_and_order(self):
        scs = h.all_scenarios(h.BACKENDS, h.MODES, [1, 20, 100], [1, 2, 4])
        self.assertEqual(len(scs), 300)
        order = h.run_order(scs, [20, 1, 100])
        self.assertEqual([sc.name for sc in order[:4]], ["none-w2", "none-w1", "none-w4", "sleep-native-20ms-w2"])
        first100 = next(i for i, sc in enumerate(order) if sc.delay_ms == 100)
        last20 = max(i for i, sc in enumerate(order) if sc.delay_ms == 20)
        last1 = max(i for i, sc in enumerate(order) if sc.delay_ms == 1)
        self.assertLess(last20, min(i for i, sc in enumerate(order) if sc.delay_ms == 1))
        self.assertLess(last1, first100)

    def test_mixed_config_chains_three_backends(self):
        sc = h.Scenario("mixed", "native", 20, 2)
        # Every wait of a mixed call is network latency: each port is a delay proxy in front of its server.
        env = {"postgres_port": "25432", "http_port": "28080", "ldap_port": "27300"}
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "configs").mkdir()
            text = h.scenario_config(sc, 15160, env, Path(d), 64, stats_port=18990)
            ldap_conf = (Path(d) / "configs" / "mixed-native-20ms-w2-ldap.conf").read_text()
        self.assertIn('modparam("tandem", "async_mode", "postgres=native;http=native;ldap=native")', text)
        self.assertIn("async(avp_db_query(\"SELECT 1, 1\"), after_postgres);", text)
        self.assertIn("postgres://postgres@127.0.0.1:25432/tandem", text)
        self.assertIn("route[after_postgres]", text)
        self.assertIn('rest_get("http://127.0.0.1:28080/route", $var(b))', text)
        self.assertIn("ldap_search(", text)
        self.assertIn('modparam("httpd", "port", 18990)', text)
        self.assertIn("27300", ldap_conf)
        self.assertEqual(text.count("t_relay();"), 2)  # in-dialog + after the last wait

    def test_single_backend_config_without_stats(self):
        sc = h.Scenario("sleep", "offload", 20, 2)
        text = h.scenario_config(sc, 15160, {}, Path("/tmp"), 64)
        self.assertNotIn("httpd", text)
        self.assertIn('"usleep=offload"', text)
        self.assertIn('"usleep=64"', text)
        self.assertIn("async(usleep(20000), resume);", text)

    def test_predicted_start_rates(self):
        known = {}
        sync = h.Scenario("http", "sync", 20, 2)
        self.assertEqual(h.predict_start(sync, known, 1000, 64), (50, "half the sync bound 100"))
        mixed_sync = h.Scenario("mixed", "sync", 100, 1)
        self.assertEqual(h.predict_start(mixed_sync, known, 1000, 64)[0], 2)  # 1000 / 300 / 2
        known["none-w2"] = {"max_rate": 8000}
        known["http-native-20ms-w2"] = {"max_rate": 2000}
        known["http-sync-20ms-w2"] = {"max_rate": 40}
        self.assertEqual(h.predict_start(h.Scenario("http", "native", 20, 1), known, 1000, 64),
                         (2000, "http-native-20ms-w2"))
        self.assertEqual(h.predict_start(h.Scenario("http", "sync", 20, 4), known, 1000, 64)[0], 80)
        off = h.predict_start(h.Scenario("http", "offload", 100, 2), known, 1000, 64)
        self.assertEqual(off[0], 580)  # 0.9 x 64 x 1000 / 100, tidied
        self.assertEqual(h.predict_start(h.Scenario("postgres", "native", 20, 2), known, 1000, 64),
                         (4000, "half the relay rate"))
        known["none-w4"] = {"max_rate": 1500}
        self.assertEqual(h.predict_start(h.Scenario("http", "native", 20, 4), known, 1000, 64),
                         (1500, "http-native-20ms-w2, capped at the relay rate"))

    def test_full_estimate_fits(self):
        a = args()
        scs = h.all_scenarios(h.BACKENDS, h.MODES, [1, 20, 100], [1, 2, 4])
        est = h.estimate_run_s(scs, a, with_baseline=True)
        self.assertGreater(est, 70 * 60)
        self.assertLess(est, 150 * 60)  # 300 scenarios (MySQL, HTTP/2, pipelined PostgreSQL, echo_sleep, pg_sleep joined)

    def test_verdict(self):
        def rec(name, rate, limit=""):
            b, m, d, w = name.split("-")
            return {"name": name, "max_rate": rate, "limit": limit, "steps": [{}],
                    "scenario": {"backend": b, "mode": m, "delay_ms": int(d[:-2]), "workers": int(w[1:])}}
        recs = [rec("http-native-20ms-w2", 2000), rec("http-offload-20ms-w2", 2500), rec("http-sync-20ms-w2", 40),
                rec("http-sync-20ms-w4", 80), rec("ldap-native-20ms-w2", 300, "450: p90 300 ms > 90 ms"),
                rec("ldap-sync-20ms-w2", 100), rec("exec-native-20ms-w2", 500), rec("sleep-sync-1ms-w2", 500)]
        rows = {r["backend"]: r for r in h.verdict_rows(recs, 20, 5.0)}
        self.assertEqual(rows["http"]["verdict"], "PASS")
        self.assertEqual((rows["http"]["async"], rows["http"]["sync"]), ("http-offload-20ms-w2", "http-sync-20ms-w4"))
        self.assertAlmostEqual(rows["http"]["ratio"], 31.25)
        self.assertEqual(rows["ldap"]["verdict"], "FAIL")
        self.assertIn("3.0x < 5x; async limited by 450: p90 300 ms > 90 ms", rows["ldap"]["reason"])
        self.assertEqual(rows["exec"]["verdict"], "n/a")
        self.assertNotIn("sleep", rows)
        md = "\n".join(h.verdict_md(list(rows.values()), 20, 5.0))
        self.assertIn("| http | http-offload-20ms-w2 | 2500 | http-sync-20ms-w4 | 80 | 31.2x | **PASS** |", md)


if __name__ == "__main__":
    unittest.main()
