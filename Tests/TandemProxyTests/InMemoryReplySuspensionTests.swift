import Reactor
import SIPCore
import Synchronization
import TandemTestSupport
import Testing
@testable import TandemProxy
import TandemServer

/// Replies held by `async()` in an `onreply_route`, and `local_route`, through the core in memory: the
/// core keeps the held reply as a ``Suspension``; a CANCEL or Timer C cancels its job; local_route runs
/// with no transaction lock held.
extension InMemoryCoreTests {
    @Test("async() in onreply_route: the core holds the 180 (nothing upstream) until the resume, which changes it")
    func replyHeldAndResumed() throws {
        let router = ReplySuspendingRouter(milliseconds: 20, holding: [180])
        let proxy = try InMemoryProxy(router: router)
        let received = try invite(proxy, branch: "z9hG4bK-rhold-1", callID: "rhold-1")
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(proxy.sent().isEmpty)
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 1)
        proxy.advance(byMilliseconds: 19)
        #expect(proxy.sent().isEmpty)
        proxy.advance(byMilliseconds: 1)
        let ringing = try only(proxy.sent(), to: uac.address)
        #expect(ringing.statusCode == 180)
        #expect(ringing.header(.other("X-Reply-Resumed")) == "1")
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 0)
        proxy.receive(uas.response(to: received, status: 200), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 200)
    }

    @Test("A CANCEL while a reply is held cancels its job: the resume runs at once with -1, the reply goes on, the CANCEL follows it")
    func cancelWhileReplyHeld() throws {
        let router = ReplySuspendingRouter(milliseconds: 50, holding: [180])
        let proxy = try InMemoryProxy(router: router)
        let received = try invite(proxy, branch: "z9hG4bK-rhold-2", callID: "rhold-2")
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(proxy.sent().isEmpty)
        proxy.receive(uac.request("CANCEL", uri: bob, branch: "z9hG4bK-rhold-2", callID: "rhold-2"), from: uac.address)
        let sent = proxy.sent()
        // The 180 reaches its branch: the CANCEL that waited for a provisional goes, then the 180 upstream.
        #expect(sent.map { $0.status ?? 0 } == [200, 0, 180])
        #expect(sent.map(\.destination) == [uac.address, uas.address, uac.address])
        #expect(sent.dropFirst().first?.message.method == .cancel)
        #expect(sent.last?.message.header(.other("X-Reply-Resumed")) == "-1")
        #expect(router.cancelled.load(ordering: .relaxed) == 1)
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 0)
        proxy.advance(byMilliseconds: 50)
        #expect(proxy.sent().isEmpty)  // the timer finds nothing left to resume
        proxy.receive(uas.response(to: received, status: 487), from: uas.address)
        #expect(proxy.sent().map { $0.status ?? 0 } == [0, 487])  // the ACK for the 487, the 487 upstream
    }

    @Test("Script: Timer C (fr_inv_timeout 5) cancels the job of a held 183: its resume route sees $rc = -1, the CANCEL goes at 5 s")
    func timerCCancelsHeldReply() throws {
        let source = """
            log_level = 1
            udp_workers = 1
            socket = udp:127.0.0.1:5060
            loadmodule "tm.so"
            loadmodule "cfgutils.so"
            modparam("tm", "fr_inv_timeout", 5)
            route {
                t_on_reply("r");
                t_relay();
            }
            onreply_route[r] {
                if ($rs == 183) { async(sleep(30), held); }
            }
            route[held] {
                if ($rc == -1) { drop; }
            }
            """
        let (proxy, server) = try scriptProxy(source, fileName: "timerc.cfg")
        defer { server.detachWorker(proxy.worker) }

        let received = try invite(proxy, branch: "z9hG4bK-rhold-3", callID: "rhold-3")
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 180)
        proxy.receive(uas.response(to: received, status: 183), from: uas.address)
        #expect(proxy.sent().isEmpty)
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 1)
        proxy.advance(byMilliseconds: 4_999)
        #expect(proxy.sent().isEmpty)
        proxy.advance(byMilliseconds: 1)
        // Timer C: the held 183's job is cancelled (its resume route drops it on $rc = -1) and the
        // branch is cancelled; nothing waits for the 30 s sleep.
        let cancel = try only(proxy.sent(), to: uas.address)
        #expect(cancel.method == .cancel)
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 0)
    }

    @Test("local_route runs with no transaction lock held: a route that takes the lock (reads the transaction) does not deadlock")
    func localRouteOutsideLock() throws {
        let router = LockingLocalRouter()
        let proxy = try InMemoryProxy(router: router)
        let received = try invite(proxy, branch: "z9hG4bK-local-1", callID: "local-1")
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 180)
        proxy.receive(uac.request("CANCEL", uri: bob, branch: "z9hG4bK-local-1", callID: "local-1"), from: uac.address)
        let sent = proxy.sent()
        #expect(sent.map { $0.status ?? 0 } == [200, 0])
        let cancel = try #require(sent.last)
        #expect(cancel.destination == uas.address)
        #expect(cancel.method == .cancel)
        #expect(cancel.message.header(.other("X-Local")) == "cancelled")
        #expect(router.localRuns.load(ordering: .relaxed) == 1)
        proxy.receive(uas.response(to: received, status: 487), from: uas.address)
        #expect(proxy.sent().map { $0.status ?? 0 } == [0, 487])  // the ACK for the 487, the 487 upstream
    }
}

/// Relays every request; an `onreply_route` stand-in holds replies whose status is in `holding` with
/// `async()` semantics: the core keeps the reply, a timer on the manual clock resumes it after
/// `milliseconds` ($rc 1), and the cancel hook resumes it at once with $rc -1 (as a driver's cancel
/// completes the job). The resume adds `X-Reply-Resumed: $rc`.
final class ReplySuspendingRouter: RequestRouter {
    let milliseconds: UInt64
    let holding: Set<Int>
    /// Cancel hooks run.
    let cancelled = Atomic<Int>(0)

    init(milliseconds: UInt64, holding: Set<Int>) {
        self.milliseconds = milliseconds
        self.holding = holding
    }

    func routeRequest(_ context: RequestContext) -> RouteVerdict {
        RelayRouter().routeRequest(context)
    }

    var runsReplyRoutes: Bool { true }

    func routeReply(_ route: Int?, _ context: ReplyContext) -> RouteVerdict {
        guard let status = context.message.statusCode, holding.contains(status) else { return .finished }
        let core = context.core
        let worker = context.worker
        let suspension = core.suspend(context)
        let resume: @Sendable (Int) -> Void = { rc in
            guard case .reply(let resumed)? = core.resume(suspension, worker: worker) else { return }
            resumed.message.appendHeader(.other("X-Reply-Resumed"), "\(rc)")
            core.routeFinished(resumed, verdict: .finished)
        }
        suspension.setCancelHandler { [self] in
            cancelled.add(1, ordering: .relaxed)
            worker.reactor.schedule(afterMilliseconds: 0) { resume(-1) }
        }
        worker.reactor.schedule(afterMilliseconds: milliseconds) { resume(1) }
        return .suspended
    }
}

/// Relays every request and keeps the INVITE's transaction; its `local_route` stand-in reads that
/// transaction (taking its lock) and marks the CANCEL.
final class LockingLocalRouter: RequestRouter, @unchecked Sendable {
    let localRuns = Atomic<Int>(0)
    private let transaction = Mutex<ProxyTransaction?>(nil)

    func routeRequest(_ context: RequestContext) -> RouteVerdict {
        let verdict = RelayRouter().routeRequest(context)
        if context.message.method == .invite, let txn = context.transaction { transaction.withLock { $0 = txn } }
        return verdict
    }

    var runsLocalRoute: Bool { true }

    func routeLocal(_ context: RequestContext) -> Bool {
        localRuns.add(1, ordering: .relaxed)
        guard let txn = transaction.withLock({ $0 }) else { return true }
        let cancelled = context.core.isCancelled(txn)  // takes the transaction's lock
        context.message.appendHeader(.other("X-Local"), cancelled ? "cancelled" : "not cancelled")
        return true
    }
}
