import Reactor
import SIPCore
import TandemProxy
import TandemScript

/// A reply received on a branch, as `onreply_route` sees it (`$rs`, `$rr`, headers).
final class ReplyMessageAdapter: SIPMessageAdapter {
    let context: ReplyContext

    init(context: ReplyContext, local: SocketAddress?) {
        self.context = context
        // A reply over TCP or TLS comes on a connection Tandem knows by its peer.
        let core = context.core
        var proto = "udp"
        if !core.settings.tlsListen.isEmpty && core.streams.connection(to: context.source, transport: .tls) != nil {
            proto = "tls"
        } else if !core.settings.tcpListen.isEmpty && core.streams.connection(to: context.source) != nil {
            proto = "tcp"
        }
        super.init(local: local, source: context.source, proto: proto)
    }

    override var message: SIPMessage {
        _read { yield context.message }
        _modify { yield &context.message }
    }

    /// The server transaction's branch, like the request's lines (the reply's own top Via is ours).
    override var transactionBranch: String? { context.transactionBranch }

    override func get(_ pv: MessagePV, name: String?, index: Int?) -> ScriptValue {
        pv == .branchIndex ? .int(context.branchIndex) : super.get(pv, name: name, index: index)
    }
}
