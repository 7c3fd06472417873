import Logging
import Reactor
import SIPCore
import Synchronization
import TandemTestSupport
import Testing
@testable import TandemProxy
import SIPTransaction
import TandemServer

/// The proxy core driven in memory (issue 13): datagrams injected and captured by a `MemoryTransport`,
/// transaction timers on a manual clock. No socket, no sleep: every step is deterministic.
@Suite struct InMemoryCoreTests {
    let uac = SIPPeer(port: 5070)
    let uas = SIPPeer(port: 5080)
    var bob: String { "sip:bob@127.0.0.1:5080" }

    /// The one message sent, checked to go to `destination`.
    func only(_ sent: [SentMessage], to destination: SocketAddress,
              sourceLocation: SourceLocation = #_sourceLocation) throws -> SIPMessage {
        #expect(sent.count == 1, "sent: \(sent.map { $0.status ?? 0 })", sourceLocation: sourceLocation)
        let first = try #require(sent.first, sourceLocation: sourceLocation)
        #expect(first.destination == destination, sourceLocation: sourceLocation)
        return first.message
    }

    /// Sends an INVITE through the proxy and returns it as the UAS received it (after the 100 Trying).
    func invite(_ proxy: InMemoryProxy, branch: String, callID: String) throws -> SIPMessage {
        proxy.receive(uac.request("INVITE", uri: bob, branch: branch, callID: callID), from: uac.address)
        let sent = proxy.sent()
        #expect(sent.map(\.status) == [100, nil])
        #expect(sent.first?.destination == uac.address)
        let forwarded = try #require(sent.last)
        #expect(forwarded.destination == uas.address)
        #expect(forwarded.method == .invite)
        return forwarded.message
    }

    @Test("INVITE → 100 → 180 → 200 → ACK (end to end) → BYE → 200")
    func basicCall() throws {
        let proxy = try InMemoryProxy(router: RelayRouter())
        let received = try invite(proxy, branch: "z9hG4bK-call-1", callID: "call-1")
        #expect(received.headerValues(.via).count == 2)
        #expect(try received.recordRoutes().count == 1)

        proxy.receive(uas.response(to: received, status: 100), from: uas.address)
        #expect(proxy.sent().isEmpty)  // a 100 is hop by hop
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        let ringing = try only(proxy.sent(), to: uac.address)
        #expect(ringing.statusCode == 180)
        #expect(ringing.headerValues(.via).count == 1)  // our Via removed
        proxy.receive(uas.response(to: received, status: 200), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 200)

        // The ACK for the 2xx is a request of its own, routed end to end along the Route set.
        let route = "Route: <sip:127.0.0.1:5060;lr>\r\n"
        proxy.receive(uac.request("ACK", uri: bob, branch: "z9hG4bK-call-1-ack", callID: "call-1", toTag: "uas1",
                                  extraHeaders: route), from: uac.address)
        let ack = try only(proxy.sent(), to: uas.address)
        #expect(ack.method == .ack)
        #expect(try ack.routes().isEmpty)

        proxy.receive(uac.request("BYE", uri: bob, branch: "z9hG4bK-call-1-bye", callID: "call-1", cseq: 2,
                                  toTag: "uas1", extraHeaders: route), from: uac.address)
        let bye = try only(proxy.sent(), to: uas.address)
        #expect(bye.method == .bye)
        proxy.receive(uas.response(to: bye, status: 200), from: uas.address)
        let ok = try only(proxy.sent(), to: uac.address)
        #expect(ok.statusCode == 200)
        #expect((try? ok.cseq())?.method == .bye)

        // Timers K/J and L end both transactions once the clock moves on.
        proxy.advance(byMilliseconds: 64_000)
        #expect(proxy.sent().isEmpty)
        #expect(proxy.core.transactionCount == 0)
        #expect(proxy.core.clientTransactionCount == 0)
    }

    @Test("CANCEL: 200 to the CANCEL, CANCEL to the branch, 487 upstream, the ACK for the 487 absorbed")
    func cancel() throws {
        let proxy = try InMemoryProxy(router: RelayRouter())
        let received = try invite(proxy, branch: "z9hG4bK-cancel-1", callID: "cancel-1")
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 180)

        proxy.receive(uac.request("CANCEL", uri: bob, branch: "z9hG4bK-cancel-1", callID: "cancel-1"), from: uac.address)
        let sent = proxy.sent()
        #expect(sent.count == 2)
        #expect(sent.first?.status == 200 && sent.first?.method == .cancel && sent.first?.destination == uac.address)
        let cancel = try #require(sent.last)
        #expect(cancel.method == .cancel && cancel.destination == uas.address)
        // RFC 3261 §9.1: the CANCEL carries the branch of the INVITE it cancels.
        #expect((try? cancel.message.topVia())?.branch == (try? received.topVia())?.branch)

        proxy.receive(uas.response(to: cancel.message, status: 200), from: uas.address)
        #expect(proxy.sent().isEmpty)  // the 200 for our CANCEL stays here
        proxy.receive(uas.response(to: received, status: 487), from: uas.address)
        let replies = proxy.sent()
        #expect(replies.count == 2)
        let hopAck = try #require(replies.first { $0.method == .ack })
        #expect(hopAck.destination == uas.address)
        let terminated = try #require(replies.first { $0.status != nil })
        #expect(terminated.status == 487 && terminated.destination == uac.address)

        // The UAC's ACK for the 487 matches the INVITE's server transaction and goes no further.
        proxy.receive(uac.request("ACK", uri: bob, branch: "z9hG4bK-cancel-1", callID: "cancel-1", toTag: "uas1"),
                      from: uac.address)
        #expect(proxy.sent().isEmpty)
        #expect(proxy.core.counters.retransmissionsAbsorbed.load(ordering: .relaxed) == 1)
    }

    @Test("Retransmissions of INVITE and non-INVITE requests are absorbed; the last reply is resent")
    func retransmissions() throws {
        let proxy = try InMemoryProxy(router: RelayRouter())
        let invite = uac.request("INVITE", uri: bob, branch: "z9hG4bK-rtx-1", callID: "rtx-1")
        let received = try self.invite(proxy, branch: "z9hG4bK-rtx-1", callID: "rtx-1")
        proxy.receive(invite, from: uac.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 100)
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 180)
        proxy.receive(invite, from: uac.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 180)

        let message = uac.request("MESSAGE", uri: bob, branch: "z9hG4bK-rtx-2", callID: "rtx-2")
        proxy.receive(message, from: uac.address)
        let forwarded = try only(proxy.sent(), to: uas.address)  // no 100 for a non-INVITE
        proxy.receive(message, from: uac.address)
        #expect(proxy.sent().isEmpty)  // nothing to resend yet
        proxy.receive(uas.response(to: forwarded, status: 202), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 202)
        proxy.receive(message, from: uac.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 202)
        #expect(proxy.core.counters.retransmissionsAbsorbed.load(ordering: .relaxed) == 4)
    }

    @Test("Timer B: an INVITE nobody answers is retransmitted (Timer A) and fails with 408 at 64·T1")
    func timerB() throws {
        let proxy = try InMemoryProxy(router: RelayRouter())
        _ = try invite(proxy, branch: "z9hG4bK-timerb-1", callID: "timerb-1")
        var retransmissions: [UInt64] = []
        var elapsed: UInt64 = 0
        while elapsed < 31_999 {
            proxy.advance(byMilliseconds: 1)
            elapsed += 1
            for sent in proxy.sent() {
                #expect(sent.method == .invite && sent.destination == uas.address)
                retransmissions.append(elapsed)
            }
        }
        // T1 = 500 ms, doubling (RFC 3261 §17.1.1.2).
        #expect(retransmissions == [500, 1_500, 3_500, 7_500, 15_500, 31_500])
        proxy.advance(byMilliseconds: 1)
        let timeout = try only(proxy.sent(), to: uac.address)
        #expect(timeout.statusCode == 408)
        proxy.receive(uac.request("ACK", uri: bob, branch: "z9hG4bK-timerb-1", callID: "timerb-1", toTag: "x"),
                      from: uac.address)
        #expect(proxy.sent().isEmpty)
    }

    /// A core built by `TandemServer` from a relaying script with the given tm `modparams`, driven in memory.
    /// The caller detaches the worker (`server.detachWorker(proxy.worker)`) when done.
    func timerScriptProxy(_ modparams: String) throws -> (proxy: InMemoryProxy, server: TandemServer) {
        let source = """
            log_level = 1
            udp_workers = 1
            socket = udp:127.0.0.1:5060
            loadmodule "tm.so"
            \(modparams)
            route {
                t_relay();
            }
            """
        return try scriptProxy(source, fileName: "frtimer.cfg", forbidding: "fr_")
    }

    /// The core a script builds, driven in memory as its worker 0 (detach the worker when done); no
    /// diagnostic may mention `forbidding`.
    func scriptProxy(_ source: String, fileName: String, forbidding: String? = nil,
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> (proxy: InMemoryProxy, server: TandemServer) {
        var quiet = Logger(label: "test")
        quiet.logLevel = .error
        let loaded = TandemServer.load(source: source, fileName: fileName, logger: quiet)
        if let forbidding {
            #expect(!"\(loaded.diagnostics)".contains(forbidding), "\(loaded.diagnostics)", sourceLocation: sourceLocation)
        }
        let server = try #require(loaded.server, "\(loaded.diagnostics)", sourceLocation: sourceLocation)
        let proxy = try InMemoryProxy(core: server.core)
        server.attachWorker(proxy.worker)
        return (proxy, server)
    }

    @Test("tm fr_timeout 2: an INVITE branch with no reply at all fails with 408 at 2 s (Timer B), not 32 s")
    func frTimeoutInvite() throws {
        let (proxy, server) = try timerScriptProxy(#"modparam("tm", "fr_timeout", 2)"#)
        defer { server.detachWorker(proxy.worker) }
        #expect(server.core.settings.timers.timerB == 2_000)
        _ = try invite(proxy, branch: "z9hG4bK-frinv-1", callID: "frinv-1")
        var retransmissions: [UInt64] = []
        for elapsed in 1...UInt64(1_999) {
            proxy.advance(byMilliseconds: 1)
            for sent in proxy.sent() {
                #expect(sent.method == .invite && sent.destination == uas.address)
                retransmissions.append(elapsed)
            }
        }
        #expect(retransmissions == [500, 1_500])
        proxy.advance(byMilliseconds: 1)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 408)
    }

    @Test("tm fr_timeout 2: a non-INVITE branch with no reply fails with 408 at 2 s (Timer F)")
    func frTimeoutNonInvite() throws {
        let (proxy, server) = try timerScriptProxy(#"modparam("tm", "fr_timeout", 2)"#)
        defer { server.detachWorker(proxy.worker) }
        proxy.receive(uac.request("OPTIONS", uri: bob, branch: "z9hG4bK-frf-1", callID: "frf-1"), from: uac.address)
        let forwarded = try only(proxy.sent(), to: uas.address)
        #expect(forwarded.method == .options)
        var retransmissions: [UInt64] = []
        for elapsed in 1...UInt64(1_999) {
            proxy.advance(byMilliseconds: 1)
            for sent in proxy.sent() {
                #expect(sent.method == .options && sent.destination == uas.address)
                retransmissions.append(elapsed)
            }
        }
        #expect(retransmissions == [500, 1_500])
        proxy.advance(byMilliseconds: 1)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 408)
    }

    @Test("tm fr_inv_timeout 5: after a 180 the branch waits 5 s for a final reply (Timer C), then is cancelled")
    func frInviteTimeout() throws {
        let (proxy, server) = try timerScriptProxy("""
            modparam("tm", "fr_timeout", 2)
            modparam("tm", "fr_inv_timeout", 5)
            """)
        defer { server.detachWorker(proxy.worker) }
        let received = try invite(proxy, branch: "z9hG4bK-frc-1", callID: "frc-1")
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 180)
        // The provisional stopped Timer B (fr_timeout): nothing at 2 s, the CANCEL at 5 s.
        proxy.advance(byMilliseconds: 4_999)
        #expect(proxy.sent().isEmpty)
        proxy.advance(byMilliseconds: 1)
        let cancel = try only(proxy.sent(), to: uas.address)
        #expect(cancel.method == .cancel)
    }

    @Test("tm fr_inv_timeout counts from the first provisional: fr_timeout 10 s, a 180 at 8 s, the CANCEL at 13 s")
    func frInviteTimeoutStartsAtFirstProvisional() throws {
        let (proxy, server) = try timerScriptProxy("""
            modparam("tm", "fr_timeout", 10)
            modparam("tm", "fr_inv_timeout", 5)
            """)
        defer { server.detachWorker(proxy.worker) }
        let received = try invite(proxy, branch: "z9hG4bK-frc-2", callID: "frc-2")
        // No provisional yet: fr_timeout (Timer B) alone runs; at 8 s only INVITE retransmissions went out
        // (before, Timer C ran from the send and timed the branch out at 5 s).
        proxy.advance(byMilliseconds: 8_000)
        let early = proxy.sent()
        #expect(!early.isEmpty)
        #expect(early.allSatisfy { $0.destination == uas.address && $0.message.method == .invite })
        proxy.receive(uas.response(to: received, status: 180), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 180)
        proxy.advance(byMilliseconds: 4_999)
        #expect(proxy.sent().isEmpty)
        proxy.advance(byMilliseconds: 1)
        let cancel = try only(proxy.sent(), to: uas.address)
        #expect(cancel.method == .cancel)
    }

    @Test("The 100 Trying a retransmission gets is byte for byte the first one (rebuilt, not stored), also while suspended")
    func tryingResentIdentically() throws {
        for router in [RelayRouter() as any RequestRouter, SuspendingRouter(milliseconds: 20)] {
            let proxy = try InMemoryProxy(router: router)
            let invite = uac.request("INVITE", uri: bob, branch: "z9hG4bK-trying-1", callID: "trying-1")
            proxy.receive(invite, from: uac.address)
            let first = try #require(proxy.sent().first { $0.destination == uac.address })
            #expect(first.status == 100)
            proxy.receive(invite, from: uac.address)
            let again = proxy.sent()
            #expect(again.count == 1 && again.first?.destination == uac.address)
            #expect(again.first?.bytes == first.bytes)
        }
    }

    @Test("async(): the request waits suspended (retransmissions get the 100), then resumes on the manual clock")
    func suspendResume() throws {
        let router = SuspendingRouter(milliseconds: 20)
        let proxy = try InMemoryProxy(router: router)
        let invite = uac.request("INVITE", uri: bob, branch: "z9hG4bK-async-1", callID: "async-1")
        proxy.receive(invite, from: uac.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 100)  // the transaction exists while suspended
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 1)
        proxy.receive(invite, from: uac.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 100)
        #expect(router.routed.load(ordering: .relaxed) == 1)  // the copy never ran the route

        proxy.advance(byMilliseconds: 19)
        #expect(proxy.sent().isEmpty)
        proxy.advance(byMilliseconds: 1)
        let forwarded = try only(proxy.sent(), to: uas.address)
        #expect(forwarded.method == .invite)
        #expect(forwarded.header(.other("X-Resumed")) == "1")  // the resume route's change
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 0)
        proxy.receive(uas.response(to: forwarded, status: 200), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 200)
    }

    @Test("async(): a CANCEL while suspended runs the cancel hook and answers 487 at once; the resume relays nothing")
    func cancelWhileSuspended() throws {
        let router = SuspendingRouter(milliseconds: 50)
        let proxy = try InMemoryProxy(router: router)
        proxy.receive(uac.request("INVITE", uri: bob, branch: "z9hG4bK-async-2", callID: "async-2"), from: uac.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 100)
        proxy.receive(uac.request("CANCEL", uri: bob, branch: "z9hG4bK-async-2", callID: "async-2"), from: uac.address)
        let sent = proxy.sent()
        #expect(sent.map(\.status) == [200, 487])
        #expect(sent.allSatisfy { $0.destination == uac.address })
        #expect(router.cancelled.load(ordering: .relaxed) == 1)
        proxy.advance(byMilliseconds: 50)
        #expect(proxy.sent().isEmpty)
        #expect(router.relayResults.withLock { $0 } == [-3])  // t_relay: no destination (cancelled)
    }

    @Test("A branch whose send fails (sent after the lock is released) fails with 503; t_relay still reports relayed")
    func branchSendFails() throws {
        let router = OutcomeRouter()
        let proxy = try InMemoryProxy(router: router)
        proxy.transport.setReachable(uas.address, false)
        proxy.receive(uac.request("INVITE", uri: bob, branch: "z9hG4bK-fail-1", callID: "fail-1"), from: uac.address)
        let sent = proxy.sent()
        #expect(sent.map(\.status) == [100, 503])
        #expect(sent.allSatisfy { $0.destination == uac.address })
        #expect(router.outcomes.withLock { $0 } == [.relayed])
        #expect(proxy.core.counters.sendErrors.load(ordering: .relaxed) == 1)

        // A stateless forward (an ACK) that cannot be sent is a failure the script sees.
        proxy.receive(uac.request("ACK", uri: bob, branch: "z9hG4bK-fail-2", callID: "fail-2", toTag: "t"),
                      from: uac.address)
        #expect(proxy.sent().isEmpty)
        #expect(router.outcomes.withLock { $0 } == [.relayed, .sendFailed])
        #expect(RelayOutcome.sendFailed.scriptCode == -6 && RelayOutcome.absorbed.scriptCode == 0)
    }

    @Test("Sends made while a transaction lock is held wait for its release and keep their order")
    func heldSends() throws {
        let proxy = try InMemoryProxy(router: RelayRouter())
        let worker = proxy.worker
        worker.holdSends()
        worker.send([1], to: uas.address)
        worker.holdSends()  // nested: only the outermost release sends
        worker.send([2], to: uac.address)
        worker.releaseSends()
        #expect(proxy.transport.pendingCount == 0)
        worker.releaseSends()
        let sent = proxy.transport.take()
        #expect(sent.map(\.bytes) == [[1], [2]])
        #expect(sent.map(\.destination) == [uas.address, uac.address])
        worker.send([3], to: uas.address)  // not held: at once
        #expect(proxy.transport.pendingCount == 1)
    }

    @Test("async(usleep) in the script: the real ScriptRouter suspends, and the resume route runs when the manual clock passes 20 ms")
    func scriptAsyncSleep() throws {
        let source = """
            log_level = 1
            udp_workers = 1
            socket = udp:127.0.0.1:5060
            loadmodule "tm.so"
            loadmodule "sl.so"
            loadmodule "rr.so"
            loadmodule "cfgutils.so"
            loadmodule "sipmsgops.so"
            route {
                record_route();
                async(usleep(20000), resume);
            }
            route[resume] {
                append_hf("X-Slept: $rc\\r\\n");
                t_relay();
            }
            """
        let (proxy, server) = try scriptProxy(source, fileName: "inmemory.cfg")
        defer { server.detachWorker(proxy.worker) }

        proxy.receive(uac.request("INVITE", uri: bob, branch: "z9hG4bK-script-1", callID: "script-1"), from: uac.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 100)
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 1)
        proxy.advance(byMilliseconds: 19)
        #expect(proxy.sent().isEmpty)
        proxy.advance(byMilliseconds: 1)
        let forwarded = try only(proxy.sent(), to: uas.address)
        #expect(forwarded.method == .invite)
        #expect(forwarded.header(.other("X-Slept")) == "1")
        #expect(proxy.core.counters.suspendedNow.load(ordering: .relaxed) == 0)
        proxy.receive(uas.response(to: forwarded, status: 200), from: uas.address)
        #expect(try only(proxy.sent(), to: uac.address).statusCode == 200)
    }
}

/// Relays every request and records the typed outcome.
final class OutcomeRouter: RequestRouter {
    let outcomes = Mutex<[RelayOutcome]>([])

    func routeRequest(_ context: RequestContext) -> RouteVerdict {
        let outcome = context.core.relayOutcome(context)
        outcomes.withLock { $0.append(outcome) }
        return .finished
    }
}

/// A router standing in for `async(sleep, resume)`: every request is suspended and resumed by a timer
/// on the worker's reactor (the manual clock) after `milliseconds`; the resume route adds a header and
/// relays. Deterministic, and independent of the script engine.
final class SuspendingRouter: RequestRouter {
    let milliseconds: UInt64
    /// Main route runs.
    let routed = Atomic<Int>(0)
    /// Cancel hooks run.
    let cancelled = Atomic<Int>(0)
    /// What `t_relay` returned in each resume route.
    let relayResults = Mutex<[Int32]>([])

    init(milliseconds: UInt64) { self.milliseconds = milliseconds }

    func routeRequest(_ context: RequestContext) -> RouteVerdict {
        routed.add(1, ordering: .relaxed)
        let core = context.core
        _ = core.recordRoute(context)
        guard core.suspend(context), let transaction = context.transaction else { return .finished }
        transaction.setCancelHandler { [self] in cancelled.add(1, ordering: .relaxed) }
        let worker = context.worker
        worker.reactor.schedule(afterMilliseconds: milliseconds) { [self] in
            guard let resumed = core.resume(transaction, worker: worker) else { return }
            resumed.message.appendHeader(.other("X-Resumed"), "1")
            let result = core.relay(resumed)
            relayResults.withLock { $0.append(result) }
            core.routeFinished(resumed)
        }
        return .suspended
    }
}
