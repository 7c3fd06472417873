/// Core `forward([destination])`: the request relayed without a transaction.
extension ProxyCore {
    /// Forwards the request of `context` statelessly (OpenSIPS core `forward()`): to `destination`
    /// when given, else `$du`, the top Route or the Request-URI. No transaction is created, so no
    /// retransmission, no failure route and no reply is generated here; replies go back along the Vias.
    public func forward(_ context: RequestContext, to destination: String?) -> RelayOutcome {
        forwardStatelessly(context, to: destination)
    }
}
