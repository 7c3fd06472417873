/// What runs the routing logic for requests the transaction layer did not absorb: the compiled
/// routing script in production, a small fixed router in tests.
///
/// Routers are called on the worker thread that received the message and must not block it.
/// They act on the request only through the `RequestContext` operations (t_relay, sl_send_reply…).
public protocol RequestRouter: Sendable {
    /// Runs the main request route for a request that matched no transaction.
    func routeRequest(_ context: RequestContext)

    /// Runs failure route `route` after every branch of `context.transaction` failed.
    /// A `t_relay` in it adds a new branch (serial forking); otherwise the best reply is sent upstream.
    func routeFailure(_ route: Int, _ context: RequestContext)

    /// True if `routeReply` has anything to run (the script has an `onreply_route`); when false the
    /// proxy skips it on the reply path.
    var runsReplyRoutes: Bool { get }

    /// Runs the main `onreply_route` and then reply route `route` (armed by `t_on_reply`) for a reply
    /// received on a branch, before the proxy processes it.
    func routeReply(_ route: Int?, _ context: ReplyContext) -> ReplyVerdict

    /// Runs branch route `route` (armed by `t_on_branch`) on the copy of the request about to be sent
    /// on a new branch. Returns false to drop the branch.
    func routeBranch(_ route: Int, _ context: RequestContext) -> Bool
}

extension RequestRouter {
    public func routeFailure(_ route: Int, _ context: RequestContext) {}
    public var runsReplyRoutes: Bool { false }
    public func routeReply(_ route: Int?, _ context: ReplyContext) -> ReplyVerdict { .relay }
    public func routeBranch(_ route: Int, _ context: RequestContext) -> Bool { true }
}

/// What a reply route decided about the reply it ran for.
public enum ReplyVerdict: Sendable {
    /// Process the reply (forward it, count it for the branch).
    case relay
    /// `drop`: discard a provisional reply.
    case drop
    /// `async()`: the router calls `ProxyCore.resumeReply` when its resume route has run.
    case suspended
}
