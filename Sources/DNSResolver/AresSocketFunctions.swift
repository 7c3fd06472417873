import CAres
import Glibc
import Reactor

/// Per-name-server counting for one c-ares channel (UDP queries; the rare TCP retry of a truncated
/// answer is not counted). c-ares 1.18 reports a query's outcome without saying which server gave it,
/// but lets the application do the socket calls itself (`ares_set_socket_functions`): each socket is connected to one server, so every datagram sent,
/// every reply read (its RCODE is in the fourth byte) and every socket error (ICMP port unreachable
/// as `ECONNREFUSED`) is counted against that server in ``DNSStatistics``. The calls are the plain
/// system calls c-ares would make (non-blocking, close-on-exec sockets: c-ares leaves that to us when
/// it does not open them itself; `TCP_NODELAY` on its TCP sockets), plus one dictionary lookup by
/// descriptor.
///
/// Loop-thread only: c-ares calls these from `ares_query`/`ares_process_fd` on the channel's thread.
final class AresServerTracker {
    let statistics: DNSStatistics
    /// The server each connected UDP socket talks to (`ip:port`).
    private var servers: [Int32: String] = [:]
    /// UDP sockets c-ares opened (not yet connected).
    private var datagramSockets: Set<Int32> = []

    init(statistics: DNSStatistics) { self.statistics = statistics }

    /// Installs the counting socket functions on `channel`; the tracker must outlive it.
    func install(on channel: ares_channel) {
        ares_set_socket_functions(channel, AresServerTracker.functions, Unmanaged.passUnretained(self).toOpaque())
    }

    fileprivate func opened(_ fd: Int32, type: Int32) {
        if fd >= 0, type & 0xF == Int32(SOCK_DGRAM.rawValue) { datagramSockets.insert(fd) }
    }

    fileprivate func connected(_ fd: Int32, to address: UnsafePointer<sockaddr>, length: socklen_t) {
        guard datagramSockets.contains(fd),
              let peer = SocketAddress(bytes: UnsafeRawBufferPointer(start: address, count: Int(length)), length: length)
        else { return }
        servers[fd] = peer.description
    }

    fileprivate func closed(_ fd: Int32) {
        servers[fd] = nil
        datagramSockets.remove(fd)
    }

    fileprivate func sent(_ fd: Int32) {
        if let server = servers[fd] { statistics.addServer(server, .sent) }
    }

    fileprivate func received(_ fd: Int32, bytes: UnsafeRawPointer, count: Int) {
        guard let server = servers[fd] else { return }
        // RCODE 2 SERVFAIL, 4 NOTIMP, 5 REFUSED: the server failed (3 NXDOMAIN is an answer).
        let rcode = count >= 4 ? bytes.load(fromByteOffset: 3, as: UInt8.self) & 0x0F : 0
        statistics.addServer(server, rcode == 2 || rcode == 4 || rcode == 5 ? .failed : .answered)
    }

    fileprivate func failed(_ fd: Int32, errno code: Int32) {
        guard code != EAGAIN, code != EWOULDBLOCK, code != EINTR, code != EINPROGRESS,
              let server = servers[fd] else { return }
        statistics.addServer(server, .unreachable)
    }

    private static func tracker(_ data: UnsafeMutableRawPointer?) -> AresServerTracker? {
        data.map { Unmanaged<AresServerTracker>.fromOpaque($0).takeUnretainedValue() }
    }

    /// c-ares keeps the pointer, not a copy: one table for the process, never freed.
    nonisolated(unsafe) private static let functions: UnsafeMutablePointer<ares_socket_functions> = {
        let table = UnsafeMutablePointer<ares_socket_functions>.allocate(capacity: 1)
        // Each function keeps the system call's errno for c-ares, which reads it after the call.
        table.initialize(to: ares_socket_functions(
            asocket: { domain, type, proto, data in
                let fd = socket(domain, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), proto)
                let saved = errno
                if fd >= 0, type & 0xF == Int32(SOCK_STREAM.rawValue) {
                    // What c-ares does for its own TCP sockets (a truncated answer asked again): no Nagle delay.
                    var on: Int32 = 1
                    _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                }
                tracker(data)?.opened(fd, type: type)
                errno = saved
                return fd
            },
            aclose: { fd, data in
                tracker(data)?.closed(fd)
                return Glibc.close(fd)
            },
            aconnect: { fd, address, length, data in
                let rc = Glibc.connect(fd, address, length)
                let saved = errno
                if let address { tracker(data)?.connected(fd, to: address, length: length) }
                if rc < 0 { tracker(data)?.failed(fd, errno: saved) }
                errno = saved
                return rc
            },
            arecvfrom: { fd, buffer, length, flags, from, fromLength, data in
                let n = recvfrom(fd, buffer, length, flags, from, fromLength)
                let saved = errno
                if n > 0, let buffer { tracker(data)?.received(fd, bytes: buffer, count: n) }
                if n < 0 { tracker(data)?.failed(fd, errno: saved) }
                errno = saved
                return n
            },
            asendv: { fd, vectors, count, data in
                let n = writev(fd, vectors, count)
                let saved = errno
                if n >= 0 { tracker(data)?.sent(fd) } else { tracker(data)?.failed(fd, errno: saved) }
                errno = saved
                return n
            }))
        return table
    }()
}
