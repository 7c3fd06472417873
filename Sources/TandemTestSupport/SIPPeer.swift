import Reactor
import SIPCore

/// A SIP endpoint in memory (a UAC or UAS at `address`) that writes the requests and responses a test
/// feeds an ``InMemoryProxy``. It only builds bytes; it keeps no state.
public struct SIPPeer: Sendable {
    /// The peer's address: in its Via and Contact, and the source of what it sends.
    public let address: SocketAddress

    /// A peer at `ip:port`.
    public init(ip: String = "127.0.0.1", port: UInt16) {
        address = SocketAddress(ip: ip, port: port)!
    }

    /// A request from this peer; `branch` and `callID` identify its transaction, `toTag` makes it in-dialog.
    public func request(_ method: String, uri: String, branch: String, callID: String, cseq: Int = 1,
                        toTag: String? = nil, extraHeaders: String = "") -> [UInt8] {
        let to = toTag.map { "<\(uri)>;tag=\($0)" } ?? "<\(uri)>"
        return Array("""
            \(method) \(uri) SIP/2.0\r
            Via: SIP/2.0/UDP \(address.ip):\(address.port);branch=\(branch)\r
            From: <sip:alice@\(address.ip)>;tag=a1\r
            To: \(to)\r
            Call-ID: \(callID)\r
            CSeq: \(cseq) \(method)\r
            Max-Forwards: 70\r
            Contact: <sip:alice@\(address.ip):\(address.port)>\r
            \(extraHeaders)Content-Length: 0\r
            \r

            """.utf8)
    }

    /// A response to `request` (as this peer received it: every Via kept), with `toTag` on finals.
    public func response(to request: SIPMessage, status: Int, toTag: String = "uas1") -> [UInt8] {
        SIPMessage.makeResponse(to: request, status: status, toTag: status > 100 ? toTag : nil)
    }
}
