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

    @Test("Script: a 486 held by async(sleep) in onreply_route is ACKed at once, its retransmission runs no route, and at the resume it reaches failure_route")
    func heldNegativeFinalReachesFailureRoute() throws {
        let source = """
            log_level = 1
            udp_workers = 1
            socket = udp:127.0.0.1:5060
            loadmodule "tm.so"
            loadmodule "cfgutils.so"
            route {
                t_on_reply("r");
                t_on_failure("f");
                t_relay();
            }
            onreply_route[r] {
                if ($rs == 486) { async(sleep(1), held); }
            }
            route[held] {
                xlog("L_INFO", "resumed\n");
            }
            failure_route[f] {
                if (t_check_status("486")) { t_reply(603, "Declined After Hold"); }
            }
            """
        let (proxy, server) = try scriptProxy(source, fileName: "heldfinal.cfg")
        defer { server.detachWorker(proxy.worker) }

        let received = try invite(proxy, branch: "z9hG4bK-rhold-9", callID: "rhold-9")
        let busy = uas.response(to: received, status: 486)
        proxy.receive(busy, from: uas.address)
        let ack = try only(proxy.sent(), to: uas.address)
        #expect(ack.method == .ack)
        proxy.advance(byMilliseconds: 500)
        #expect(proxy.sent().isEmpty)
        proxy.receive(busy, from: uas.address)
        #expect(try only(proxy.sent(), to: uas.address).method == .ack)
        #expect(proxy.core.counters.heldReplyRetransmissionsAbsorbed.load(ordering: .relaxed) == 1)
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 1)
        proxy.advance(byMilliseconds: 500)
        let declined = try only(proxy.sent(), to: uac.address)
        #expect(declined.statusCode == 603)
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

    @Test("A held 180 stops Timer A: no INVITE retransmission to the UAS at 0.5, 1 and 2 s; its retransmission starts no second job")
    func heldProvisionalStopsRetransmissions() throws {
        let router = ReplySuspendingRouter(milliseconds: 3_000, holding: [180])
        let proxy = try InMemoryProxy(router: router)
        let received = try invite(proxy, branch: "z9hG4bK-rhold-5", callID: "rhold-5")
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(proxy.sent().isEmpty)
        // Timer A would fire at 500 and 1500 ms: nothing goes to the UAS while the 180 is held.
        for step: UInt64 in [500, 500, 1_000] {  // at 0.5, 1 and 2 s
            proxy.advance(byMilliseconds: step)
            #expect(proxy.sent().isEmpty)
        }
        // The UAS resends its 180: absorbed, the reply routes do not run again.
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(proxy.sent().isEmpty)
        #expect(router.routed.load(ordering: .relaxed) == 1)
        #expect(router.started.load(ordering: .relaxed) == 1)
        #expect(proxy.core.counters.heldReplyRetransmissionsAbsorbed.load(ordering: .relaxed) == 1)
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 1)
        proxy.advance(byMilliseconds: 1_000)
        let ringing = try only(proxy.sent(), to: uac.address)
        #expect(ringing.statusCode == 180)
        #expect(ringing.header(.other("X-Reply-Resumed")) == "1")
        proxy.advance(byMilliseconds: 10_000)
        #expect(proxy.sent().isEmpty)  // still no INVITE retransmission after the resume
        proxy.receive(uas.response(to: received, status: 200), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 200)
        #expect(router.started.load(ordering: .relaxed) == 1)
    }

    @Test("While a 180 is held, a 200 on the branch runs the reply routes and goes upstream at once; the 180 resumed later is not relayed")
    func finalAfterHeldProvisional() throws {
        let router = ReplySuspendingRouter(milliseconds: 1_000, holding: [180])
        let proxy = try InMemoryProxy(router: router)
        let received = try invite(proxy, branch: "z9hG4bK-rhold-6", callID: "rhold-6")
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(proxy.sent().isEmpty)
        proxy.receive(uas.response(to: received, status: 200), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 200)
        #expect(router.routed.load(ordering: .relaxed) == 2)
        #expect(router.started.load(ordering: .relaxed) == 1)
        #expect(proxy.core.counters.heldReplyRetransmissionsAbsorbed.load(ordering: .relaxed) == 0)
        proxy.advance(byMilliseconds: 1_000)
        #expect(proxy.sent().isEmpty)  // a provisional after the 2xx is not relayed
    }

    @Test("While a 183 is held, a 183 from another fork downstream (another To tag) is no retransmission: its reply routes run")
    func otherForkNotAbsorbed() throws {
        let router = ReplySuspendingRouter(milliseconds: 1_000, holding: [183])
        let proxy = try InMemoryProxy(router: router)
        let received = try invite(proxy, branch: "z9hG4bK-rhold-11", callID: "rhold-11")
        proxy.receive(uas.response(to: received, status: 183, toTag: "fork1"), from: uas.address)
        proxy.receive(uas.response(to: received, status: 183, toTag: "fork1"), from: uas.address)
        proxy.receive(uas.response(to: received, status: 183, toTag: "fork2"), from: uas.address)
        #expect(proxy.sent().isEmpty)
        #expect(router.routed.load(ordering: .relaxed) == 2)
        #expect(router.started.load(ordering: .relaxed) == 2)
        #expect(proxy.core.counters.heldReplyRetransmissionsAbsorbed.load(ordering: .relaxed) == 1)
        proxy.advance(byMilliseconds: 1_000)
        #expect(proxy.sent().map { $0.status ?? 0 } == [183, 183])
    }

    @Test("A held 486 is ACKed to the UAS at once, its retransmissions are ACKed and absorbed, and after the resume it goes upstream (no 408 from Timer B)")
    func heldNegativeFinalAcked() throws {
        let router = ReplySuspendingRouter(milliseconds: 2_000, holding: [486])
        let proxy = try InMemoryProxy(router: router)
        let received = try invite(proxy, branch: "z9hG4bK-rhold-7", callID: "rhold-7")
        let busy = uas.response(to: received, status: 486)
        proxy.receive(busy, from: uas.address)
        var sent = proxy.sent()
        #expect(sent.count == 1)
        #expect(sent.first?.destination == uas.address)
        #expect(sent.first?.message.method == .ack)
        let ack = try #require(sent.first?.bytes)
        proxy.advance(byMilliseconds: 500)
        #expect(proxy.sent().isEmpty)  // neither Timer A nor anything upstream
        proxy.receive(busy, from: uas.address)  // Timer G at the UAS (as if the ACK were lost)
        sent = proxy.sent()
        #expect(sent.count == 1)
        #expect(sent.first?.destination == uas.address)
        #expect(sent.first?.bytes == ack)  // the same ACK again
        #expect(router.routed.load(ordering: .relaxed) == 1)
        #expect(router.started.load(ordering: .relaxed) == 1)
        #expect(proxy.core.counters.heldReplyRetransmissionsAbsorbed.load(ordering: .relaxed) == 1)
        proxy.advance(byMilliseconds: 1_500)
        // Resumed: best reply upstream, no second ACK.
        let forwarded = try only(proxy.sent(), to: uac.address)
        #expect(forwarded.statusCode == 486)
        #expect(forwarded.header(.other("X-Reply-Resumed")) == "1")
        proxy.receive(uac.request("ACK", uri: bob, branch: "z9hG4bK-rhold-7", callID: "rhold-7", toTag: "uas1"),
                      from: uac.address)
        proxy.advance(byMilliseconds: 40_000)
        #expect(proxy.sent().isEmpty)  // no 408 (Timer B), no second ACK to the UAS
    }

    @Test("A CANCEL while a 486 is held (after a 180) sends no CANCEL to the UAS, which has its ACK already; 487 upstream")
    func cancelWhileFinalHeld() throws {
        let router = ReplySuspendingRouter(milliseconds: 2_000, holding: [486])
        let proxy = try InMemoryProxy(router: router)
        let received = try invite(proxy, branch: "z9hG4bK-rhold-10", callID: "rhold-10")
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 180)
        proxy.receive(uas.response(to: received, status: 486), from: uas.address)
        #expect(try only(proxy.sent(), to: uas.address).method == .ack)
        proxy.receive(uac.request("CANCEL", uri: bob, branch: "z9hG4bK-rhold-10", callID: "rhold-10"),
                      from: uac.address)
        proxy.advance(byMilliseconds: 0)
        let sent = proxy.sent()
        #expect(!sent.contains { $0.destination == uas.address })
        #expect(sent.map { $0.status ?? 0 } == [200, 487])
        #expect(router.cancelled.load(ordering: .relaxed) == 1)
    }

    @Test("A held 200 to a non-INVITE stops Timer E: no retransmission of the request until the resume")
    func heldNonInviteFinalStopsTimerE() throws {
        let router = ReplySuspendingRouter(milliseconds: 2_000, holding: [200])
        let proxy = try InMemoryProxy(router: router)
        proxy.receive(uac.request("OPTIONS", uri: bob, branch: "z9hG4bK-rhold-8", callID: "rhold-8"), from: uac.address)
        let options = try only(proxy.sent(), to: uas.address)
        proxy.receive(uas.response(to: options, status: 200), from: uas.address)
        #expect(proxy.sent().isEmpty)
        proxy.advance(byMilliseconds: 1_999)
        #expect(proxy.sent().isEmpty)  // Timer E would have fired at 500 and 1500 ms
        proxy.receive(uas.response(to: options, status: 200), from: uas.address)
        #expect(proxy.sent().isEmpty)
        #expect(router.started.load(ordering: .relaxed) == 1)
        proxy.advance(byMilliseconds: 1)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 200)
        proxy.advance(byMilliseconds: 40_000)
        #expect(proxy.sent().isEmpty)  // no 408 (Timer F)
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
    /// Reply route runs, and the async jobs they started (replies held).
    let routed = Atomic<Int>(0)
    let started = Atomic<Int>(0)

    init(milliseconds: UInt64, holding: Set<Int>) {
        self.milliseconds = milliseconds
        self.holding = holding
    }

    func routeRequest(_ context: RequestContext) -> RouteVerdict {
        RelayRouter().routeRequest(context)
    }

    var runsReplyRoutes: Bool { true }

    func routeReply(_ route: Int?, _ context: ReplyContext) -> RouteVerdict {
        routed.add(1, ordering: .relaxed)
        guard let status = context.message.statusCode, holding.contains(status) else { return .finished }
        let core = context.core
        let worker = context.worker
        let suspension = core.suspend(context)
        started.add(1, ordering: .relaxed)
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
