import Reactor
import SIPCore
import TandemScript

/// A message read through a `<request>` / `<reply>` context (`$(<reply>hdr(X))`): a copy of the
/// transaction's other message; changes made through it are not kept.
final class ContextMessageAdapter: SIPMessageAdapter {
    private var copy: SIPMessage

    init(_ message: SIPMessage, source: SocketAddress, local: SocketAddress?, proto: String) {
        copy = message
        super.init(local: local, source: source, proto: proto)
    }

    override var message: SIPMessage {
        _read { yield copy }
        _modify { yield &copy }
    }
}
