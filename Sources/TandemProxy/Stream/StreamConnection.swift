import Reactor
import TLSTransport

/// What sits between a stream socket and the SIP framer, so reading and writing switch on it with no
/// existential.
enum StreamSecurity {
    /// Bytes go to and from the socket as they are (TCP).
    case plain
    /// A TLS session on memory BIOs: fed the ciphertext read from the socket, it gives back plaintext
    /// for the framer and the ciphertext (handshake, records, alerts) to write.
    case tls(TLSSession)
}

/// One TCP or TLS connection, owned by one worker (``StreamWorker``): its descriptor, the framer of what it
/// reads, the bytes waiting for the socket to drain, and the times the sweep checks.
///
/// Not `Sendable`: only its owner's thread touches it.
final class StreamConnection {
    /// The table entry (id, owner, peer, local socket).
    let entry: StreamHub.Entry
    let fd: Int32
    let security: StreamSecurity
    var registration: RegistrationID?
    var framer: StreamFramer
    /// Bytes not yet written; `outbound[outboundStart...]` is what is left.
    var outbound: [UInt8] = []
    var outboundStart = 0
    /// An outgoing connect not yet complete (writes are queued until it is).
    var connecting: Bool
    /// When the connect started or the connection was accepted.
    let opened: Deadline
    /// Last byte read or written.
    var lastActivity: Deadline
    /// When the message now partly buffered started (the `tcp_max_msg_time` clock), nil when none.
    var partialSince: Deadline?
    /// Close once the outbound queue drained (after a 400 for a framing error).
    var closeAfterFlush = false
    var closed = false

    init(entry: StreamHub.Entry, fd: Int32, security: StreamSecurity, connecting: Bool, maxMessageSize: Int,
         now: Deadline) {
        self.entry = entry
        self.fd = fd
        self.security = security
        self.connecting = connecting
        self.framer = StreamFramer(maxMessageSize: maxMessageSize)
        self.opened = now
        self.lastActivity = now
    }

    /// Bytes queued and not yet written.
    var pendingOutbound: Int { outbound.count - outboundStart }
}
