import TandemTestSupport
import Testing
@testable import TandemScript

@Suite struct FuzzTests {
    static let seedScript = prelude + """
    route {
        if (!mf_process_maxfwd_header(10)) { sl_send_reply(483, "Too Many Hops"); exit; }
        $var(i) = 0;
        while ($var(i) < 3) { $var(i) += 1; $avp(x) = $var(i) * 2; }
        switch ($rm) { case "INVITE": route(inv, 1); break; default: xlog("L_INFO", "other $rm\\n"); }
        if ($ru =~ "^sip:[0-9]+@" || uri == myself) { t_on_failure("f"); t_relay(); }
        async(sleep(1), res);
    }
    route[inv] { return($param(1) - 2); }
    route[res] { drop; }
    failure_route[f] { if (t_check_status("486")) { exit; } }
    """

    func exercise(_ source: String) {
        let r = ScriptChecker().check(source: source, fileName: "fuzz.cfg")
        for d in r.diagnostics { _ = d.description }
        if let script = r.script {
            var ctx = ExecutionContext(script: script, message: TestMessage(), proxy: TestProxy())
            ctx.maxWhileLoops = 100
            _ = script.run(route: script.mainRoute, context: &ctx)
        }
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix64(state: 42)
        let alphabet = Array("route{}()[];,=$\"'#/*!~<>&|+-%^:.avpr0123 \n\tifelsewhile".utf8)
        for i in 0..<400 {
            let n = Int.random(in: 0..<300, using: &rng)
            var bytes: [UInt8] = []
            for _ in 0..<n {
                bytes.append(i % 2 == 0 ? UInt8.random(in: 0...255, using: &rng) : alphabet.randomElement(using: &rng)!)
            }
            exercise(String(decoding: bytes, as: UTF8.self))
        }
    }

    static let snippets = ["{", "}", "(", ")", ";", "$", "\"", "$avp(", "route(", "if (", "else", "/*", "==", "=~", "\n",
                           "[", "]"]

    /// The seed script with 1–6 random edits.
    static func mutated(_ rng: inout SplitMix64) -> String {
        var b = Array(FuzzTests.seedScript.utf8)
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            let pos = Int.random(in: 0..<max(1, b.count), using: &rng)
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: if !b.isEmpty { b.remove(at: min(pos, b.count - 1)) }
            case 1: b.insert(contentsOf: Array(snippets.randomElement(using: &rng)!.utf8), at: min(pos, b.count))
            default: if !b.isEmpty { b[min(pos, b.count - 1)] = UInt8.random(in: 32...126, using: &rng) }
            }
        }
        return String(decoding: b, as: UTF8.self)
    }

    @Test func mutatedScriptsNeverCrash() {
        var rng = SplitMix64(state: 7)
        for _ in 0..<400 {
            exercise(Self.mutated(&rng))
        }
    }

    /// The long run of `Perf/fuzz.sh` (skipped unless `TANDEM_FUZZ_SECONDS` is set): mutated scripts for
    /// that many seconds from `TANDEM_FUZZ_SEED`; each input is written to
    /// `$TANDEM_FUZZ_DIR/script-current.cfg` first, so a crash leaves the script that caused it.
    @Test(.enabled(if: LongFuzz.seconds != nil, "set TANDEM_FUZZ_SECONDS (Perf/fuzz.sh)"))
    func longRun() {
        var rng = SplitMix64(state: LongFuzz.seed)
        let recorder = LongFuzz.Recorder(name: "script-current.cfg")
        let end = LongFuzz.now() + (LongFuzz.seconds ?? 0)
        var i = 0
        while LongFuzz.now() < end {
            for _ in 0..<16 {
                let source = Self.mutated(&rng)
                recorder.record(Array(source.utf8))
                exercise(source)
                i += 1
            }
        }
        LongFuzz.report(name: "script", inputs: i)
    }

    @Test("A flat chain of 16,000 + or || operands is a clear error, not a stack overflow")
    func flatChainsAreLimited() {
        for op in [" + ", " || ", " && ", " * "] {
            let chain = Array(repeating: "$var(b)", count: 16_000).joined(separator: op)
            let r = check(prelude + "route { $var(a) = \(chain); }")
            #expect(r.diagnostics.map(\.message) == ["expression too long: more than 1000 operators in a row "
                                                      + "(split it over several assignments)"], "\(op)")
        }
        let args = "f(" + Array(repeating: "1 + 1", count: 2).joined(separator: ", ") + ")"
        #expect(!check(prelude + "route { $var(a) = \(args); }").diagnostics.contains {
            $0.message.contains("too long")
        })
    }

    @Test("A flat chain of 999 operators and an else-if ladder of 1,000 branches check, compile and run")
    func longChainsWork() throws {
        var r = try Run("route { $var(a) = " + Array(repeating: "1", count: 1000).joined(separator: " + ") + "; }")
        r.run()
        #expect(r.variable("a") == .int(1000))
        var ladder = "route { $var(n) = 999; if ($var(n) == 0) { $var(b) = 0; }\n"
        for i in 1..<1000 { ladder += " else if ($var(n) == \(i)) { $var(b) = \(i); }\n" }
        var run = try Run(ladder + " else { $var(b) = -1; } }")
        run.run()
        #expect(run.variable("b") == .int(999))
        ladder += " else if ($var(n) == 1000) { $var(b) = 1000; } }"
        let tooLong = check(prelude + ladder)
        #expect(tooLong.diagnostics.map(\.message) == ["else-if chain longer than 1000 branches; use switch or split it"])
        #expect(!tooLong.diagnostics.contains { $0.message.contains("nested too deeply") })
    }

    @Test func deepNestingIsRejectedNotCrashing() {
        exercise("route { $var(a) = " + String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000) + "; }")
        exercise("route { " + String(repeating: "{", count: 5000) + String(repeating: "}", count: 5000) + " }")
        exercise("route { $var(a) = " + String(repeating: "!", count: 5000) + "1; }")
        exercise("route { " + String(repeating: "if (1) ", count: 3000) + "exit; }")
        let r = check("route { $var(a) = " + String(repeating: "(", count: 500) + "1" + String(repeating: ")", count: 500) + "; }")
        #expect(r.hasErrors)
    }
}
