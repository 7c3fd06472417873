import Foundation
import Glibc
import Reactor
import SIPCore

/// A tiny SIP UAC over a real UDP socket on 127.0.0.1, for tests that need exact control over what is
/// sent (retransmissions, CANCEL timing) and look at every reply.
final class SIPTestClient {
    let socket: UDPSocket
    let port: UInt16
    let proxy: SocketAddress
    private var buffer = [UInt8](repeating: 0, count: 65_536)

    init(proxyPort: UInt16) throws {
        socket = try UDPSocket(bindingTo: SocketAddress(ip: "127.0.0.1", port: 0)!)
        port = try socket.localAddress().port
        proxy = SocketAddress(ip: "127.0.0.1", port: proxyPort)!
    }

    /// An INVITE (or other method) to `uri`; `branch` and `callID` identify its transaction.
    func request(_ method: String, uri: String = "sip:bob@127.0.0.1:9", branch: String, callID: String,
                 cseq: Int = 1, extraHeaders: String = "") -> [UInt8] {
        Array("""
            \(method) \(uri) SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(port);branch=\(branch)\r
            From: <sip:alice@127.0.0.1>;tag=a1\r
            To: <\(uri)>\r
            Call-ID: \(callID)\r
            CSeq: \(cseq) \(method)\r
            Max-Forwards: 70\r
            Contact: <sip:alice@127.0.0.1:\(port)>\r
            \(extraHeaders)Content-Length: 0\r
            \r

            """.utf8)
    }

    func send(_ bytes: [UInt8]) throws {
        _ = try socket.send(bytes, to: proxy)
    }

    /// The next message received within `timeout` seconds, or nil.
    func receive(timeout: Double) -> SIPMessage? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let result = try? socket.receive(into: &buffer), case .processed(let datagram) = result {
                return try? SIPMessage(parsing: Array(buffer[0..<datagram.count]))
            }
            usleep(2_000)
        }
        return nil
    }

    /// Receives until a reply with a status matching `accept` arrives (others are collected), or timeout.
    func waitFor(timeout: Double, _ accept: (Int) -> Bool) -> (match: SIPMessage?, seen: [Int]) {
        let deadline = Date().addingTimeInterval(timeout)
        var seen: [Int] = []
        while Date() < deadline {
            guard let message = receive(timeout: max(0.01, deadline.timeIntervalSinceNow)) else { break }
            guard let status = message.statusCode else { continue }
            seen.append(status)
            if accept(status) { return (message, seen) }
        }
        return (nil, seen)
    }
}
