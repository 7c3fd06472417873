#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Result of `ScriptBenchmark.run`.
public struct ScriptBenchmarkResult: Sendable, CustomStringConvertible {
    public var iterations: Int
    /// Statements executed by one run of the route.
    public var statementsPerRun: Int
    public var totalNanoseconds: UInt64
    public var nanosecondsPerRun: Double { Double(totalNanoseconds) / Double(max(1, iterations)) }
    public var nanosecondsPerStatement: Double { nanosecondsPerRun / Double(max(1, statementsPerRun)) }

    public var description: String {
        let perRun = Int(nanosecondsPerRun.rounded())
        let perStmt = (nanosecondsPerStatement * 10).rounded() / 10
        return "\(iterations) runs, \(statementsPerRun) statements/run, \(perRun) ns/run, \(perStmt) ns/statement"
    }
}

/// Micro-benchmark of the interpreter: runs a typical request route N times against an in-memory
/// message and a no-op proxy. Callable from the Perf target.
public enum ScriptBenchmark {
    /// A typical request route (max-forwards, in-dialog check, method tests, header ops, AVPs, relay).
    public static let typicalScript = #"""
    log_level = 2
    loadmodule "tm.so"
    loadmodule "sl.so"
    loadmodule "rr.so"
    loadmodule "maxfwd.so"
    loadmodule "sipmsgops.so"
    route {
        if (!mf_process_maxfwd_header(70)) { sl_send_reply(483, "Too Many Hops"); exit; }
        if (has_totag()) {
            if (loose_route()) { t_relay(); exit; }
            sl_send_reply(404, "Not here");
            exit;
        }
        if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
        if (is_method("INVITE|SUBSCRIBE")) record_route();
        $var(attempts) = 0;
        $avp(caller) = $fU;
        if ($rU =~ "^\+?[0-9]+$") { $var(kind) = "pstn"; } else { $var(kind) = "user"; }
        switch ($rm) {
        case "INVITE":
            $var(attempts) = $var(attempts) + 1;
            append_hf("X-Kind: $var(kind)\r\n");
            break;
        default:
            xlog("L_DBG", "other method $rm\n");
        }
        if (uri == myself) { route(local, $rU); }
        setflag(4);
        t_on_failure("missed");
        if (!t_relay()) { sl_send_reply(500, "Server Error"); }
        exit;
    }
    route[local] {
        if ($param(1) == NULL) return(-1);
        $du = "sip:10.0.0.2:5060";
        return(1);
    }
    failure_route[missed] { exit; }
    """#

    /// Runs `source`'s main route `iterations` times (default: `typicalScript`).
    /// Returns nil if the script does not check clean.
    public static func run(iterations: Int = 100_000, source: String = typicalScript) -> ScriptBenchmarkResult? {
        let checker = ScriptChecker()
        guard let counting = checker.check(source: source, fileName: "bench.cfg", instrument: true).script,
              let script = checker.check(source: source, fileName: "bench.cfg").script else { return nil }
        let message = BenchMessage()
        let proxy = BenchProxy()
        var cctx = ExecutionContext(script: counting, message: message, proxy: proxy)
        _ = counting.run(route: counting.mainRoute, context: &cctx)
        let statements = cctx.statementCount

        var ctx = ExecutionContext(script: script, message: message, proxy: proxy)
        for _ in 0..<min(1000, iterations) {
            ctx.reset(message: message)
            message.reset()
            _ = script.run(route: script.mainRoute, context: &ctx)
        }
        let start = monotonicNanoseconds()
        for _ in 0..<iterations {
            ctx.reset(message: message)
            message.reset()
            _ = script.run(route: script.mainRoute, context: &ctx)
        }
        let elapsed = monotonicNanoseconds() - start
        return ScriptBenchmarkResult(iterations: iterations, statementsPerRun: statements, totalNanoseconds: elapsed)
    }

    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

/// Minimal message for the benchmark: fixed INVITE values, one mutable Max-Forwards.
private final class BenchMessage: ScriptMessage {
    var maxForwards = "70"
    var du: ScriptValue = .null
    var flags: UInt64 = 0
    let isRequest = true
    let method = "INVITE"
    let hasToTag = false
    private let ru = ScriptValue.string("sip:+15551234@127.0.0.1:5060")
    private let rU = ScriptValue.string("+15551234")
    private let fU = ScriptValue.string("alice")
    private let rm = ScriptValue.string("INVITE")
    private let rd = ScriptValue.string("127.0.0.1")
    private let rp = ScriptValue.int(5060)

    func reset() { maxForwards = "70"; du = .null; flags = 0 }

    func get(_ pv: MessagePV, name: String?, index: Int?) -> ScriptValue {
        switch pv {
        case .requestURI: return ru
        case .requestUser: return rU
        case .fromUser: return fU
        case .method: return rm
        case .requestDomain: return rd
        case .requestPort: return rp
        case .destinationURI: return du
        case .header: return name == "Max-Forwards" ? .string(maxForwards) : .null
        default: return .null
        }
    }

    func set(_ pv: MessagePV, value: ScriptValue) -> Bool {
        if pv == .destinationURI { du = value; return true }
        return false
    }

    func appendHeader(_ raw: String) {}
    func insertHeader(_ raw: String) {}
    func removeHeader(named name: String) -> Int { 0 }
    func isHeaderPresent(named name: String) -> Bool { false }
    func replaceHeader(named name: String, value: String) -> Bool { maxForwards = value; return true }
}

/// No-op proxy for the benchmark.
private final class BenchProxy: ScriptProxy {
    func slSendReply(code: Int, reason: String) -> Int { 1 }
    func tRelay(flags: Int, destination: String?) -> Int { 1 }
    func tNewTran() -> Int { 1 }
    func tReply(code: Int, reason: String) -> Int { 1 }
    func tCheckTrans() -> Int { -1 }
    func tOnFailure(_ route: RouteID) {}
    func tOnReply(_ route: RouteID) {}
    func tOnBranch(_ route: RouteID) {}
    func recordRoute() -> Int { 1 }
    func looseRoute() -> Int { -1 }
    func isMyself(host: String, port: Int) -> Bool { host == "127.0.0.1" }
    func invoke(_ call: ExternalCall, context: inout ExecutionContext) -> Int { -1 }
}
