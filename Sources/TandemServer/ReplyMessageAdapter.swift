import Reactor
import SIPCore
import TandemProxy
import TandemScript

/// A reply received on a branch, as `onreply_route` sees it (`$rs`, `$rr`, headers).
final class ReplyMessageAdapter: SIPMessageAdapter {
    let context: ReplyContext

    init(context: ReplyContext, local: SocketAddress?) {
        self.context = context
        // A reply over TCP comes on a connection Tandem knows by its peer.
        let overTCP = !context.core.settings.tcpListen.isEmpty && context.core.streams.connection(to: context.source) != nil
        super.init(local: local, source: context.source, proto: overTCP ? "tcp" : "udp")
    }

    override var message: SIPMessage {
        get { context.message }
        set { context.message = newValue }
    }

    /// The server transaction's branch, like the request's lines (the reply's own top Via is ours).
    override var transactionBranch: String? { context.transactionBranch }

    override func get(_ pv: MessagePV, name: String?, index: Int?) -> ScriptValue {
        pv == .branchIndex ? .int(context.branchIndex) : super.get(pv, name: name, index: index)
    }
}
