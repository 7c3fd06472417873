import Reactor
import SIPCore
import SIPTransaction
@testable import TandemProxy
import TandemTestSupport

/// A router with the logic of a plain record-routing stateful proxy, for testing the proxy core
/// without the script engine: in-dialog requests follow Route, initial ones are record-routed and
/// relayed to the Request-URI; an optional failure route sends the request to `fallback`.
struct RelayRouter: RequestRouter {
    var fallback: String?

    func routeRequest(_ context: RequestContext) -> RouteVerdict {
        let core = context.core
        if (try? context.message.to())?.tag != nil {
            if core.looseRoute(context) > 0 { _ = core.relay(context) }
            return .finished
        }
        if context.message.method == .cancel {
            _ = core.relay(context)
            return .finished
        }
        _ = core.recordRoute(context)
        if fallback != nil { context.failureRoute = 1 }
        if core.relay(context) < 0 && !context.replied {
            _ = core.statelessReply(context, status: 500, reason: "Relay Failed")
        }
        return .finished
    }

    func routeFailure(_ route: Int, _ context: RequestContext) -> RouteVerdict {
        guard let fallback, context.failureStatus == 486 else { return .finished }
        context.destinationURI = fallback
        _ = context.core.relay(context)
        return .finished
    }
}

/// An in-process Tandem proxy on 127.0.0.1 for one test.
final class ProxyHarness {
    let port: UInt16
    let server: ProxyServer
    var core: ProxyCore { server.core }
    var address: String { "127.0.0.1:\(port)" }

    init(router: any RequestRouter = RelayRouter(), workers: Int = 2, timers: TimerSettings = .standard,
         maxDatagramSize: Int = 65_535, maxTransactions: Int = ProxySettings.defaultMaxTransactions) throws {
        port = Ports.free()
        let settings = ProxySettings(listen: [SocketAddress(ip: "127.0.0.1", port: port)!], workers: workers,
                                     timers: timers, maxDatagramSize: maxDatagramSize,
                                     maxTransactions: maxTransactions)
        server = ProxyServer(core: ProxyCore(settings: settings, router: router))
        try server.start()
    }

    deinit { server.stop() }
}
