import Foundation
import Glibc
import Reactor
import SIPCore
import TLSTransport
import TandemTestSupport
@testable import TandemProxy

/// A TLS client for tests: a blocking TCP connection to 127.0.0.1 with a ``TLSSession`` driven by hand,
/// and the proxy's stream framer for what it decrypts.
final class TLSTestClient {
    let peer: TCPTestPeer
    let session: TLSSession
    private var framer = StreamFramer(maxMessageSize: 1 << 22)
    private(set) var closedByPeer = false

    /// Connects to `port` with a client context of `certificate`/`key` (none: no client certificate),
    /// verifying the server against `caFile` when given.
    init(port: UInt16, ip: String = "127.0.0.1", certificate: String? = nil, key: String? = nil,
         caFile: String? = nil) throws {
        var configuration = TLSContextConfiguration(role: .client)
        configuration.certificatePath = certificate
        configuration.privateKeyPath = key
        configuration.caListPath = caFile
        configuration.verifyCertificate = caFile != nil
        let context = try TLSContext(configuration)
        peer = try TCPTestPeer(connectingTo: port, ip: ip)
        session = try context.makeSession(peer: "\(ip):\(port)", serverName: "localhost")
    }

    /// Runs the handshake for up to `timeout` seconds; true once established.
    func handshake(timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        flushOutput()
        while session.state == .handshaking && !closedByPeer && Date() < deadline {
            pump(until: deadline)
        }
        return session.state == .established
    }

    /// Sends `text` encrypted.
    func send(_ text: String) {
        try? session.send(plaintext: Array(text.utf8))
        flushOutput()
    }

    /// The next SIP message within `timeout` seconds.
    func receive(timeout: Double) -> SIPMessage? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if case .message(let bytes)? = try? framer.next() {
                return try? SIPMessage(parsing: bytes, maxSize: 1 << 22)
            }
            if closedByPeer || session.state.isFinished || Date() >= deadline { return nil }
            pump(until: deadline)
        }
    }

    /// True once the server closed the connection (or failed the session) within `timeout` seconds.
    func waitForClose(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !closedByPeer && Date() < deadline { pump(until: deadline) }
        return closedByPeer
    }

    private func flushOutput() {
        if session.wantsWrite { peer.send(session.takeOutput()) }
    }

    private func pump(until deadline: Date) {
        var poll = pollfd(fd: peer.fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(max(1, min(200, deadline.timeIntervalSinceNow * 1000)))
        guard Glibc.poll(&poll, 1, ms) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { Glibc.recv(peer.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n > 0 {
            if let plaintext = try? session.receive(ciphertext: Array(buffer[0..<n])) {
                framer.append(plaintext)
            }
            flushOutput()
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            closedByPeer = true
        }
    }
}
