import Synchronization
import TandemScript

/// Records proxy calls for assertions.
final class TestProxy: ScriptProxy {
    var calls: [String] = []
    var relayResult = 1
    var looseRouteResult = -1
    var checkTransResult = -1
    var myHosts: Set<String> = ["127.0.0.1", "proxy.example.com"]
    var invokeResult = 1
    var failureRoute: RouteID?
    var replyRoute: RouteID?
    var branchRoute: RouteID?
    var cancelled = false
    var localReplies: Set<LocalReplyScope> = []
    var replyHeaders: [String] = []
    var timeouts: [Bool: Int] = [false: 30, true: 120]
    /// What `$(<request>...)` / `$(<reply>...)` read.
    var contextMessages: [PVContext: TestMessage] = [:]

    func contextMessage(_ context: PVContext) -> (any ScriptMessage)? { contextMessages[context] }

    func slSendReply(code: Int, reason: String) -> Int { calls.append("sl_send_reply \(code) \(reason)"); return 1 }
    func tRelay(flags: Int, destination: String?) -> Int {
        calls.append("t_relay \(flags) \(destination ?? "-")")
        return relayResult
    }
    func tNewTran() -> Int { calls.append("t_newtran"); return 1 }
    func tReply(code: Int, reason: String) -> Int { calls.append("t_reply \(code) \(reason)"); return 1 }
    func tCheckTrans() -> Int { calls.append("t_check_trans"); return checkTransResult }
    func tOnFailure(_ route: RouteID) { calls.append("t_on_failure"); failureRoute = route }
    func tOnReply(_ route: RouteID) { calls.append("t_on_reply"); replyRoute = route }
    func tOnBranch(_ route: RouteID) { calls.append("t_on_branch"); branchRoute = route }
    func tDisarm(_ kind: RouteKind) { calls.append("t_disarm \(kind.rawValue)") }
    func recordRoute() -> Int { calls.append("record_route"); return 1 }
    func looseRoute() -> Int { calls.append("loose_route"); return looseRouteResult }
    func isMyself(host: String, port: Int) -> Bool { myHosts.contains(host) }
    /// Branch flags by branch index (0: the Request-URI branch).
    var branchFlagSets: [UInt64] = [0]
    func branchFlags(index: Int) -> UInt64? { index >= 0 && index < branchFlagSets.count ? branchFlagSets[index] : nil }
    func setBranchFlags(index: Int, _ flags: UInt64) -> Bool {
        guard index >= 0 && index < branchFlagSets.count else { return false }
        branchFlagSets[index] = flags
        return true
    }
    func forward(destination: String?) -> Int { calls.append("forward \(destination ?? "-")"); return 1 }
    /// Message branches (index 0: the Request-URI branch) for `$msg.branch...`.
    var messageBranches: [MessageBranch] = [MessageBranch(uri: "sip:bob@example.org")]
    var messageBranchCount: Int { messageBranches.count - 1 }
    func messageBranch(index: Int) -> MessageBranch? {
        index >= 0 && index < messageBranches.count ? messageBranches[index] : nil
    }
    func setMessageBranch(index: Int, _ branch: MessageBranch) -> Bool {
        guard index >= 0 && index < messageBranches.count else { return false }
        messageBranches[index] = branch
        return true
    }
    func appendBranch(uri: String?, q: String?) -> Int {
        messageBranches.append(MessageBranch(uri: uri ?? messageBranches[0].uri))
        return 1
    }
    func forceRport() -> Int { calls.append("force_rport"); return 1 }
    func tWasCancelled() -> Bool { cancelled }
    func tLocalReplied(_ which: LocalReplyScope) -> Bool { localReplies.contains(which) }
    func appendToReply(_ raw: String) { replyHeaders.append(raw) }
    func transactionTimeout(invite: Bool) -> Int? { timeouts[invite] }
    func setTransactionTimeout(invite: Bool, seconds: Int?) { timeouts[invite] = seconds ?? (invite ? 120 : 30) }
    func invoke(_ call: ExternalCall, context: inout ExecutionContext) -> Int {
        calls.append("invoke \(call.name) \(call.args.map(\.stringValue).joined(separator: ","))")
        return invokeResult
    }
}

/// Collects xlog output.
final class TestLogger: ScriptLogger {
    private let lines = Mutex<[(message: String, context: ScriptLogContext)]>([])
    func log(_ level: ScriptLogLevel, _ message: String, context: ScriptLogContext) {
        lines.withLock { $0.append((message, context)) }
    }
    var messages: [String] { lines.withLock { $0.map(\.message) } }
    var contexts: [ScriptLogContext] { lines.withLock { $0.map(\.context) } }
}
