/// What runs the routing logic for requests the transaction layer did not absorb: the compiled
/// routing script in production, a small fixed router in tests.
///
/// Routers are called on the worker thread that received the message and must not block it.
/// They act on the request only through the `RequestContext` operations (t_relay, sl_send_reply…).
public protocol RequestRouter: Sendable {
    /// Runs the main request route for a request that matched no transaction. `.suspended`: an
    /// `async()` holds the request; the router calls `routeFinished` after its resume route.
    func routeRequest(_ context: RequestContext) -> RouteVerdict

    /// Runs failure route `route` after every branch of `context.transaction` failed.
    /// A `t_relay` in it adds a new branch (serial forking); otherwise the best reply is sent upstream.
    /// `.suspended`: the best reply waits until the router calls `routeFinished` after the resume route.
    func routeFailure(_ route: Int, _ context: RequestContext) -> RouteVerdict

    /// True if `routeReply` has anything to run (the script has an `onreply_route`); when false the
    /// proxy skips it on the reply path.
    var runsReplyRoutes: Bool { get }

    /// Runs the main `onreply_route` and then reply route `route` (armed by `t_on_reply`) for a reply
    /// received on a branch, before the proxy processes it. `.suspended`: an `async()` holds the reply;
    /// the router had the core keep it (`ProxyCore.suspend(_:)` of the `ReplyContext`), takes it back
    /// with `ProxyCore.resume(_:worker:)` and ends with `ProxyCore.routeFinished(_:verdict:)`.
    func routeReply(_ route: Int?, _ context: ReplyContext) -> RouteVerdict

    /// Runs branch route `route` (armed by `t_on_branch`) on the copy of the request about to be sent
    /// on a new branch. Returns false to drop the branch.
    func routeBranch(_ route: Int, _ context: RequestContext) -> Bool

    /// True if the router takes requests that fail to parse (`error_route`); the proxy then leaves the
    /// reply (or none) to it instead of answering 400 itself.
    var runsErrorRoute: Bool { get }

    /// Runs `error_route` for a request that failed validation (`context.message` as far as it parsed).
    func routeError(_ context: RequestContext)

    /// True if the router has a `local_route` for requests the proxy generates itself.
    var runsLocalRoute: Bool { get }

    /// Runs `local_route` on a request the proxy generated (the CANCEL of a branch) just before it is
    /// sent; the route may change `context.message`. Returns false to drop it. Runs with no
    /// transaction lock held (the CANCEL leaves when it returns); the script must not relay or reply
    /// there (the checker refuses those).
    func routeLocal(_ context: RequestContext) -> Bool
}

extension RequestRouter {
    public func routeFailure(_ route: Int, _ context: RequestContext) -> RouteVerdict { .finished }
    public var runsReplyRoutes: Bool { false }
    public func routeReply(_ route: Int?, _ context: ReplyContext) -> RouteVerdict { .finished }
    public func routeBranch(_ route: Int, _ context: RequestContext) -> Bool { true }
    public var runsErrorRoute: Bool { false }
    public func routeError(_ context: RequestContext) {}
    public var runsLocalRoute: Bool { false }
    public func routeLocal(_ context: RequestContext) -> Bool { true }
}

/// What a route run decided, the same for every route the core runs (request, failure, reply).
public enum RouteVerdict: Sendable, Equatable {
    /// The route ended: the core goes on (forwards the reply, completes the transaction, …).
    case finished
    /// `drop`: a provisional reply is discarded (for a request: it is simply not forwarded).
    case dropped
    /// `async()`: the message waits for an operation, kept by the core as a ``Suspension``; the router
    /// takes it back with `ProxyCore.resume(_:worker:)` and ends the resume route with `routeFinished`.
    case suspended
}
