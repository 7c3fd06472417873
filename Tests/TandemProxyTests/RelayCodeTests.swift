import Foundation
import Reactor
import SIPCore
import Synchronization
import TandemTestSupport
import Testing
@testable import TandemProxy

/// `t_relay`'s return codes as OpenSIPS 3.6 documents them, from ``RelayOutcome/scriptCode`` (the one
/// mapping), each produced through the core in memory.
extension InMemoryCoreTests {
    @Test("t_relay codes: 1 relayed, -1 Max-Forwards exhausted (483), -3 branch dropped, -4 no usable next hop, -6 send failed")
    func relayCodes() throws {
        let router = CodeRouter()
        let proxy = try InMemoryProxy(router: router)
        func send(_ uri: String, _ callID: String, maxForwards: Int = 70) -> [Int] {
            var text = String(decoding: uac.request("MESSAGE", uri: uri, branch: "z9hG4bK-\(callID)", callID: callID),
                              as: UTF8.self)
            text = text.replacingOccurrences(of: "Max-Forwards: 70", with: "Max-Forwards: \(maxForwards)")
            proxy.receive(Array(text.utf8), from: uac.address)
            return proxy.sent().map { $0.status ?? 0 }
        }
        #expect(send(bob, "code-ok") == [0])  // the MESSAGE, forwarded
        #expect(send(bob, "code-hops", maxForwards: 0).contains(483))
        #expect(!send("sip:dropbranch@127.0.0.1:5080", "code-branch").contains(0))  // nothing forwarded
        // A host name is located on the worker's resolver while t_relay returns 1 (DNSRelayTests cover the answer).
        #expect(!send("sip:bob@example.com", "code-name").contains(503))
        #expect(!send("sip:nohop@127.0.0.1:5080", "code-nohop").contains(0))
        proxy.transport.setReachable(uas.address, false)
        proxy.receive(uac.request("ACK", uri: bob, branch: "z9hG4bK-code-ack", callID: "code-ack", toTag: "t"),
                      from: uac.address)
        let codes = router.codes.withLock { $0 }
        #expect(codes["code-ok"] == 1)
        #expect(codes["code-hops"] == -1)
        #expect(codes["code-branch"] == -3)
        #expect(codes["code-name"] == 1)
        #expect(codes["code-nohop"] == -4)
        #expect(codes["code-ack"] == -6)
        #expect(RelayOutcome.noTransaction.scriptCode == -2)
        #expect(RelayOutcome.transactionClosed.scriptCode == -3)
    }
}

/// Relays every request and records `t_relay`'s script code per Call-ID. User `dropbranch` arms a
/// branch route that drops the branch; user `nohop` sets `$du` to text that is no URI. A
/// failed relay that answered nothing gets a 500.
final class CodeRouter: RequestRouter {
    let codes = Mutex<[String: Int32]>([:])

    func routeRequest(_ context: RequestContext) -> RouteVerdict {
        let uri = context.message.requestURIText ?? ""
        if uri.hasPrefix("sip:dropbranch@") { context.branchRoute = 0 }
        if uri.hasPrefix("sip:nohop@") { context.destinationURI = "" }
        let code = context.core.relay(context)
        codes.withLock { $0[context.message.callID ?? ""] = code }
        if code < 0 && !context.replied && context.message.method != .ack {
            _ = context.core.statelessReply(context, status: 500, reason: "Relay Failed")
        }
        return .finished
    }

    func routeBranch(_ route: Int, _ context: RequestContext) -> Bool { false }
}
