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

    /// Runs reply route `route` (or the main `onreply_route` when nil) for a response received on a
    /// branch, before it is processed. Returns false to drop the response.
    func routeReply(_ route: Int?, _ context: ReplyContext) -> Bool
}

extension RequestRouter {
    public func routeFailure(_ route: Int, _ context: RequestContext) {}
    public func routeReply(_ route: Int?, _ context: ReplyContext) -> Bool { true }
}
