import Foundation
import Glibc
import Reactor
import SIPCore

/// A tiny UAS over a real UDP socket on 127.0.0.1: receives requests and answers them as told.
final class SIPTestServer {
    let socket: UDPSocket
    let port: UInt16
    private var buffer = [UInt8](repeating: 0, count: 65_536)

    init(port wanted: UInt16 = 0) throws {
        socket = try UDPSocket(bindingTo: SocketAddress(ip: "127.0.0.1", port: wanted)!)
        port = try socket.localAddress().port
    }

    /// The next request received within `timeout` seconds, with where it came from.
    func receive(timeout: Double) -> (SIPMessage, SocketAddress)? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let result = try? socket.receive(into: &buffer), case .processed(let datagram) = result,
               let message = try? SIPMessage(parsing: Array(buffer[0..<datagram.count])) {
                return (message, datagram.from)
            }
            usleep(2_000)
        }
        return nil
    }

    /// Answers `request` (sent by `peer`) with `status`.
    func reply(to request: SIPMessage, from peer: SocketAddress, status: Int, reason: String? = nil) throws {
        let bytes = SIPMessage.makeResponse(to: request, status: status, reason: reason,
                                            toTag: status > 100 ? "uas1" : nil)
        _ = try socket.send(bytes, to: peer)
    }
}
