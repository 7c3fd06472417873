import Foundation
import Glibc
import Reactor
import SIPCore
import Synchronization
import TandemTestSupport
@testable import TandemProxy

/// One end of a real TCP connection on 127.0.0.1 for tests: sends raw bytes, frames what it reads with
/// the proxy's own stream framer, and tells when the other side closed.
final class TCPTestPeer {
    let fd: Int32
    private var framer = StreamFramer(maxMessageSize: 1 << 22)
    private var pending: [StreamFramer.Event] = []
    private(set) var closedByPeer = false

    init(fd: Int32) {
        self.fd = fd
    }

    /// Connects (blocking, with a 5 s bound) to 127.0.0.1:`port`.
    convenience init(connectingTo port: UInt16, ip: String = "127.0.0.1") throws {
        let (fd, inProgress) = try System.connectStream(to: SocketAddress(ip: ip, port: port)!)
        if inProgress {
            var poll = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = Glibc.poll(&poll, 1, 5_000)
            let error = System.pendingSocketError(fd)
            guard error == 0 else {
                Glibc.close(fd)
                throw IOError(errno: error, function: "connect")
            }
        }
        self.init(fd: fd)
    }

    deinit { Glibc.close(fd) }

    /// The local port of the connection.
    var localPort: UInt16 { (try? System.localAddress(of: fd).port) ?? 0 }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        let deadline = Date().addingTimeInterval(5)
        while offset < bytes.count && Date() < deadline {
            let n = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n > 0 { offset += n } else if errno == EAGAIN { usleep(1_000) } else { return }
        }
    }

    /// The next framed event (message, ping, pong) within `timeout` seconds.
    func nextEvent(timeout: Double) -> StreamFramer.Event? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if !pending.isEmpty { return pending.removeFirst() }
            while let event = try? framer.next() { pending.append(event) }
            if !pending.isEmpty { continue }
            if closedByPeer || Date() >= deadline { return nil }
            readSome(until: deadline)
        }
    }

    /// The next SIP message within `timeout` seconds (pings and pongs skipped).
    func receive(timeout: Double) -> SIPMessage? {
        let deadline = Date().addingTimeInterval(timeout)
        while let event = nextEvent(timeout: max(0, deadline.timeIntervalSinceNow)) {
            if case .message(let bytes) = event { return try? SIPMessage(parsing: bytes, maxSize: 1 << 22) }
        }
        return nil
    }

    /// True once a lone CRLF (the pong of a keep-alive) arrived within `timeout` seconds.
    func waitForPong(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            // A lone CRLF at the end of what was read stays buffered (it may be half a ping).
            if framer.pendingBytes == [13, 10] || pending.contains(.pong) { return true }
            if closedByPeer { return false }
            readSome(until: deadline)
        }
        return false
    }

    /// True once the other side closed the connection (read returned 0 or an error) within `timeout`.
    func waitForClose(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !closedByPeer && Date() < deadline { readSome(until: deadline) }
        return closedByPeer
    }

    private func readSome(until deadline: Date) {
        var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(max(1, min(200, deadline.timeIntervalSinceNow * 1000)))
        guard Glibc.poll(&poll, 1, ms) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n > 0 {
            framer.append(Array(buffer[0..<n]))
        } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
            closedByPeer = true
        }
    }
}

/// A TCP listening socket on 127.0.0.1 for tests (a callee reached over TCP).
final class TCPTestListener {
    let fd: Int32
    let port: UInt16

    /// Listens on `ip`:`port` (a free port when nil).
    init(ip: String = "127.0.0.1", port: UInt16? = nil) throws {
        fd = try System.listeningStreamSocket(SocketAddress(ip: ip, port: port ?? Ports.free())!, reusePort: false)
        self.port = try System.localAddress(of: fd).port
    }

    deinit { Glibc.close(fd) }

    /// The next connection within `timeout` seconds.
    func accept(timeout: Double) -> TCPTestPeer? {
        var poll = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard Glibc.poll(&poll, 1, Int32(timeout * 1000)) > 0,
              case .processed(let accepted)? = try? System.accept(fd) else { return nil }
        return TCPTestPeer(fd: accepted.fd)
    }
}

/// TCP sockets whose local port is `port` and that still hold a descriptor (established, or closed by
/// the peer and not yet by us), from `/proc/net/tcp` and `tcp6`: the proxy side of its connections,
/// whatever other tests of the process open meanwhile. Listening sockets count with `listening`.
func tcpSockets(localPort port: UInt16, listening: Bool = false) -> Int {
    var count = 0
    for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
        // procfs files report size 0: read to the end instead of by size.
        guard let handle = FileHandle(forReadingAtPath: file) else { continue }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        try? handle.close()
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3, let colon = fields[1].lastIndex(of: ":"),
                  UInt16(fields[1][fields[1].index(after: colon)...], radix: 16) == port else { continue }
            let state = fields[3]
            if state == "01" || state == "08" || (listening && state == "0A") { count += 1 }
        }
    }
    return count
}

/// Open descriptors of this process (`/proc/self/fd`).
func openDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

/// A SIP request over TCP from `port` (the Via says TCP, the Contact carries `;transport=tcp`).
func tcpRequest(_ method: String, uri: String = "sip:bob@127.0.0.1:9", port: UInt16, branch: String, callID: String,
                cseq: Int = 1, extraHeaders: String = "", body: String = "") -> String {
    "\(method) \(uri) SIP/2.0\r\n"
        + "Via: SIP/2.0/TCP 127.0.0.1:\(port);branch=\(branch)\r\n"
        + "From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <\(uri)>\r\nCall-ID: \(callID)\r\n"
        + "CSeq: \(cseq) \(method)\r\nMax-Forwards: 70\r\n"
        + "Contact: <sip:alice@127.0.0.1:\(port);transport=tcp>\r\n"
        + extraHeaders + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
}

/// Many idle TCP connections to 127.0.0.1:`port`, opened without blocking (connects started in a
/// bounded loop; the kernel completes them while the proxy accepts). Closed on `close()` or deinit.
final class IdleTCPConnections {
    private(set) var fds: [Int32] = []

    /// Starts up to `count` connects within `seconds`.
    init(count: Int, port: UInt16, seconds: Double = 20) {
        let target = SocketAddress(ip: "127.0.0.1", port: port)!
        let deadline = Date().addingTimeInterval(seconds)
        fds.reserveCapacity(count)
        while fds.count < count && Date() < deadline {
            if let (fd, _) = try? System.connectStream(to: target) { fds.append(fd) } else { usleep(1_000) }
        }
    }

    deinit { close() }

    /// Connections still open from this side (SO_ERROR clear and no hang-up), checked without blocking.
    var openCount: Int {
        var polls = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        _ = Glibc.poll(&polls, nfds_t(polls.count), 0)
        return polls.filter { $0.revents & Int16(POLLHUP | POLLERR | POLLIN) == 0 }.count
    }

    func close() {
        for fd in fds { Glibc.close(fd) }
        fds = []
    }
}
