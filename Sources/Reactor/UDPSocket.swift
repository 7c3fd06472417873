import CReactor
import Glibc

/// A nonblocking UDP socket (IPv4 or IPv6) for SIP transport.
///
/// - One socket may be read by several threads (Tandem's workers share one per listen address); or
///   bind with `reusePort: true` (SO_REUSEPORT) so several sockets share one IP:port and the kernel
///   spreads datagrams across them by peer.
/// - ``receive(into:)`` fills a caller-owned buffer and never allocates per datagram.
/// - ``send(_:to:)`` reports a full send buffer as ``IOResult/wouldBlock``.
///
/// ## ICMP errors (what Linux does)
/// On an **unconnected** UDP socket Linux does *not* report ICMP errors (port/host unreachable) unless
/// `IP_RECVERR` is enabled; a connected socket gets `ECONNREFUSED` on its next send/receive.
/// ``enableErrorQueue()`` turns on `IP_RECVERR`/`IPV6_RECVERR`: each ICMP error is then queued with the
/// original destination, the socket becomes `EPOLLERR`-ready (``ReadyEvents/error``), and
/// ``readError()`` returns ``UDPErrorReport``s — so the proxy can answer 503 for that destination.
/// With `IP_RECVERR` Linux *also* sets the socket's pending error (`sk_err`), which the next
/// `recvfrom`/`sendto` returns once — even a `sendto` to an unrelated destination, whose datagram is then
/// not sent; and each ``readError()`` sets it again from the next queued report. Once the error queue is
/// enabled this class absorbs that error (``send(_:to:reports:)-(UnsafeRawBufferPointer,_,_)`` drains
/// the queue and retries; the plain sends and receives retry), so ICMP errors reach the caller only as
/// ``UDPErrorReport``s.
///
/// `@unchecked Sendable`: the socket is only a descriptor, and socket syscalls are thread-safe. The
/// invariant is that ``close()`` must not race with other use (in Tandem a socket is closed only when
/// the last worker holding it is gone).
public final class UDPSocket: @unchecked Sendable {
    /// Result of one successful ``UDPSocket/receive(into:)``.
    public struct Datagram: Sendable, Hashable {
        /// Bytes written into the buffer.
        public var count: Int
        /// Sender.
        public var from: SocketAddress
        /// The datagram was larger than the buffer; the excess was discarded.
        public var truncated: Bool
    }

    /// The address family.
    public let family: SocketAddress.Family
    /// The descriptor (-1 once closed).
    public private(set) var fd: Int32
    /// `IP_RECVERR` is on: asynchronous errors are also in the error queue.
    public private(set) var isErrorQueueEnabled = false

    /// Creates an unbound nonblocking, close-on-exec UDP socket.
    public init(family: SocketAddress.Family) throws(IOError) {
        self.family = family
        fd = try System.socket(domain: family.rawValue, type: Int32(SOCK_DGRAM.rawValue))
    }

    /// Creates a socket bound to `address` (port 0 picks an ephemeral port).
    public convenience init(
        bindingTo address: SocketAddress, reusePort: Bool = false,
        receiveBufferSize: Int? = nil, sendBufferSize: Int? = nil
    ) throws(IOError) {
        try self.init(family: address.family)
        if let receiveBufferSize { try setReceiveBufferSize(receiveBufferSize) }
        if let sendBufferSize { try setSendBufferSize(sendBufferSize) }
        try bind(to: address, reusePort: reusePort)
    }

    deinit {
        close()
    }

    /// Binds; with `reusePort` sets `SO_REUSEPORT` first so several sockets can share the address.
    public func bind(to address: SocketAddress, reusePort: Bool = false) throws(IOError) {
        if reusePort {
            try System.setSocketOption(fd, level: SOL_SOCKET, name: SO_REUSEPORT, value: 1)
        }
        if address.family == .ipv6 {
            // Keep v6 sockets v6-only so a v4 socket can share the port number.
            try System.setSocketOption(fd, level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, value: 1)
        }
        try System.bind(fd, to: address)
    }

    /// Sets the default peer (errors for that peer then come back as `ECONNREFUSED` from send/receive).
    public func connect(to address: SocketAddress) throws(IOError) {
        try System.connect(fd, to: address)
    }

    /// Sets `SO_RCVBUF` (the kernel doubles it and caps it at `net.core.rmem_max`).
    public func setReceiveBufferSize(_ bytes: Int) throws(IOError) {
        try System.setSocketOption(fd, level: SOL_SOCKET, name: SO_RCVBUF, value: Int32(clamping: bytes))
    }

    /// Sets `SO_SNDBUF` (the kernel doubles it and caps it at `net.core.wmem_max`).
    public func setSendBufferSize(_ bytes: Int) throws(IOError) {
        try System.setSocketOption(fd, level: SOL_SOCKET, name: SO_SNDBUF, value: Int32(clamping: bytes))
    }

    /// The effective `SO_RCVBUF`.
    public func receiveBufferSize() throws(IOError) -> Int {
        Int(try System.socketOption(fd, level: SOL_SOCKET, name: SO_RCVBUF))
    }

    /// The effective `SO_SNDBUF`.
    public func sendBufferSize() throws(IOError) -> Int {
        Int(try System.socketOption(fd, level: SOL_SOCKET, name: SO_SNDBUF))
    }

    /// The bound local address (`getsockname`).
    public func localAddress() throws(IOError) -> SocketAddress {
        try System.localAddress(of: fd)
    }

    /// Receives one datagram into `buffer` without allocating.
    @inline(__always)
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> IOResult<Datagram> {
        var storage = sockaddr_storage()
        var length = socklen_t(0)
        let result: IOResult<Int>
        do {
            result = try System.recvfrom(fd, buffer, flags: Int32(MSG_TRUNC), from: &storage, length: &length)
        } catch where isErrorQueueEnabled && error.isAsynchronousNetworkError {
            // The sk_err of a queued ICMP report (see type docs); it was consumed, retry. Reading the error
            // queue (another worker) sets it again from the next report, so allow a few in a row.
            var attempt = 2
            while true {
                do {
                    result = try System.recvfrom(fd, buffer, flags: Int32(MSG_TRUNC), from: &storage, length: &length)
                    break
                } catch where error.isAsynchronousNetworkError && attempt < Self.maximumSendAttempts {
                    attempt += 1
                }
            }
        }
        switch result {
        case .wouldBlock:
            return .wouldBlock
        case .processed(let size):
            guard let from = SocketAddress(storage: storage, length: length) else {
                throw IOError(errno: EAFNOSUPPORT, function: "recvfrom")
            }
            return .processed(Datagram(count: min(size, buffer.count), from: from, truncated: size > buffer.count))
        }
    }

    /// Receives one datagram into `buffer` (its current `count` is the capacity; it is not resized).
    public func receive(into buffer: inout [UInt8]) throws(IOError) -> IOResult<Datagram> {
        let result = buffer.withUnsafeMutableBytes { raw -> Result<IOResult<Datagram>, IOError> in
            do throws(IOError) { return .success(try receive(into: raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Receives up to `batch.capacity` datagrams with one `recvmmsg(2)`; `.processed(n)` with n ≥ 1
    /// (also in `batch.count`), `.wouldBlock` if none are queued.
    public func receive(batch: DatagramBatch) throws(IOError) -> IOResult<Int> {
        func call() throws(IOError) -> IOResult<Int32> {
            batch.prepare()
            return try System.retryingIO("recvmmsg") { creactor_recvmmsg(fd, batch.headers, UInt32(batch.capacity), 0) }
        }
        let result: IOResult<Int32>
        do {
            result = try call()
        } catch where isErrorQueueEnabled && error.isAsynchronousNetworkError {
            // As for one datagram: the sk_err of a queued ICMP report was consumed; reading the error
            // queue (another worker) sets it again from the next report, so allow a few in a row.
            var attempt = 2
            while true {
                do {
                    result = try call()
                    break
                } catch where error.isAsynchronousNetworkError && attempt < Self.maximumSendAttempts {
                    attempt += 1
                }
            }
        }
        switch result {
        case .wouldBlock:
            return .wouldBlock
        case .processed(let n):
            batch.count = Int(n)
            return .processed(Int(n))
        }
    }

    /// Sends one datagram to `address`. `.processed(n)` is the number of bytes sent (the whole datagram).
    @inline(__always)
    public func send(_ bytes: UnsafeRawBufferPointer, to address: SocketAddress) throws(IOError) -> IOResult<Int> {
        do {
            return try System.sendto(fd, bytes, to: address)
        } catch where isErrorQueueEnabled && error.isAsynchronousNetworkError {
            // A pending sk_err from an earlier ICMP report failed this call before anything was sent
            // (see type docs); it is consumed now, so retry once. A genuine error repeats and is thrown.
            return try System.sendto(fd, bytes, to: address)
        }
    }

    /// Sends one datagram to `address` on a socket whose error queue is on, without ever failing it for
    /// another destination's ICMP error.
    ///
    /// A `sendto` that fails with an asynchronous network error (`ECONNREFUSED`, `EHOSTUNREACH`, …) sent
    /// nothing: the error is the socket's pending `sk_err`, set by an ICMP report for *some* earlier
    /// datagram — and Linux sets it again from the next queued report each time one is read, so under a
    /// storm of ICMP errors a single retry is not enough. Here the error queue is drained (each report
    /// handed to `report`, attributed to its own destination) before every retry, up to
    /// ``maximumSendAttempts`` attempts; only an error that survives them is thrown.
    public func send(_ bytes: UnsafeRawBufferPointer, to address: SocketAddress,
                     reports report: (UDPErrorReport) -> Void) throws(IOError) -> IOResult<Int> {
        var attempt = 1
        while true {
            do {
                return try System.sendto(fd, bytes, to: address)
            } catch where isErrorQueueEnabled && error.isAsynchronousNetworkError && attempt < Self.maximumSendAttempts {
                attempt += 1
                drainErrorQueue(report)
            }
        }
    }

    /// Sends one datagram to `address`, handing the ICMP reports drained on the way to `report`
    /// (see ``send(_:to:reports:)-(UnsafeRawBufferPointer,_,_)``).
    public func send(_ bytes: [UInt8], to address: SocketAddress,
                     reports report: (UDPErrorReport) -> Void) throws(IOError) -> IOResult<Int> {
        let result = bytes.withUnsafeBytes { raw -> Result<IOResult<Int>, IOError> in
            do throws(IOError) { return .success(try send(raw, to: address, reports: report)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// How many times ``send(_:to:reports:)-(UnsafeRawBufferPointer,_,_)`` tries a datagram that fails
    /// with another datagram's asynchronous error.
    public static let maximumSendAttempts = 8

    /// Reads the error queue until it is empty (at most 1,024 reports), handing each to `report`.
    /// Reading the last one also clears the socket's pending error. Returns how many were read.
    @discardableResult
    public func drainErrorQueue(_ report: (UDPErrorReport) -> Void) -> Int {
        var count = 0
        while count < 1024 {
            do {
                guard case .processed(let entry) = try readError() else { break }
                report(entry)
                count += 1
            } catch {
                // EPROTO for an entry without a usable extended error: it was dequeued; go on.
                count += 1
            }
        }
        return count
    }

    /// Sends one datagram to `address`.
    public func send(_ bytes: [UInt8], to address: SocketAddress) throws(IOError) -> IOResult<Int> {
        let result = bytes.withUnsafeBytes { raw -> Result<IOResult<Int>, IOError> in
            do throws(IOError) { return .success(try send(raw, to: address)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Sends one datagram to the connected peer.
    public func send(_ bytes: UnsafeRawBufferPointer) throws(IOError) -> IOResult<Int> {
        do {
            return try System.send(fd, bytes)
        } catch where isErrorQueueEnabled && error.isAsynchronousNetworkError {
            return try System.send(fd, bytes)
        }
    }

    /// Sends one datagram to the connected peer.
    public func send(_ bytes: [UInt8]) throws(IOError) -> IOResult<Int> {
        let result = bytes.withUnsafeBytes { raw -> Result<IOResult<Int>, IOError> in
            do throws(IOError) { return .success(try send(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Turns on `IP_RECVERR` (IPv4) or `IPV6_RECVERR` (IPv6) so ICMP errors for unconnected sends are
    /// queued for ``readError()``.
    public func enableErrorQueue() throws(IOError) {
        switch family {
        case .ipv4: try System.setSocketOption(fd, level: Int32(IPPROTO_IP), name: IP_RECVERR, value: 1)
        case .ipv6: try System.setSocketOption(fd, level: Int32(IPPROTO_IPV6), name: IPV6_RECVERR, value: 1)
        }
        isErrorQueueEnabled = true
    }

    /// Reads one entry from the error queue (`MSG_ERRQUEUE`); `.wouldBlock` when it is empty.
    /// Call it until `.wouldBlock` when the reactor reports ``ReadyEvents/error``.
    public func readError() throws(IOError) -> IOResult<UDPErrorReport> {
        var name = sockaddr_storage()
        var payload: UInt64 = 0  // the original datagram comes back too; we only need its header
        return try withUnsafeMutableBytes(of: &payload) { payloadBytes throws(IOError) -> IOResult<UDPErrorReport> in
            try withUnsafeTemporaryAllocation(byteCount: 512, alignment: 8) { control throws(IOError) -> IOResult<UDPErrorReport> in
                try withUnsafeMutablePointer(to: &name) { namePtr throws(IOError) -> IOResult<UDPErrorReport> in
                    var iov = iovec(iov_base: payloadBytes.baseAddress, iov_len: payloadBytes.count)
                    return try withUnsafeMutablePointer(to: &iov) { iovPtr throws(IOError) -> IOResult<UDPErrorReport> in
                        var message = msghdr()
                        message.msg_name = UnsafeMutableRawPointer(namePtr)
                        message.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        message.msg_iov = iovPtr
                        message.msg_iovlen = 1
                        message.msg_control = control.baseAddress
                        message.msg_controllen = control.count
                        let flags = Int32(MSG_ERRQUEUE) | Int32(MSG_TRUNC)
                        switch try System.recvmsg(fd, &message, flags: flags) {
                        case .wouldBlock:
                            return .wouldBlock
                        case .processed:
                            let destination = SocketAddress(
                                bytes: UnsafeRawBufferPointer(start: namePtr, count: MemoryLayout<sockaddr_storage>.size),
                                length: message.msg_namelen)
                            let used = UnsafeRawBufferPointer(start: control.baseAddress, count: Int(message.msg_controllen))
                            guard let report = Self.parseErrorControl(used, destination: destination) else {
                                throw IOError(errno: EPROTO, function: "recvmsg(MSG_ERRQUEUE)")
                            }
                            return .processed(report)
                        }
                    }
                }
            }
        }
    }

    /// Walks the control messages (manual `CMSG_*`: the macros are not importable) looking for the
    /// `sock_extended_err` of an `IP_RECVERR`/`IPV6_RECVERR` message.
    static func parseErrorControl(_ control: UnsafeRawBufferPointer, destination: SocketAddress?) -> UDPErrorReport? {
        let headerSize = MemoryLayout<cmsghdr>.size
        let align = MemoryLayout<Int>.size
        func aligned(_ n: Int) -> Int { (n + align - 1) & ~(align - 1) }
        var offset = 0
        while offset + headerSize <= control.count {
            let header = control.loadUnaligned(fromByteOffset: offset, as: cmsghdr.self)
            let length = Int(header.cmsg_len)
            if length < headerSize || offset + length > control.count { break }
            let isV4 = header.cmsg_level == Int32(IPPROTO_IP) && header.cmsg_type == IP_RECVERR
            let isV6 = header.cmsg_level == Int32(IPPROTO_IPV6) && header.cmsg_type == IPV6_RECVERR
            let dataOffset = offset + aligned(headerSize)
            let errSize = MemoryLayout<sock_extended_err>.size
            if (isV4 || isV6) && dataOffset + errSize <= offset + length {
                let ee = control.loadUnaligned(fromByteOffset: dataOffset, as: sock_extended_err.self)
                let offenderStart = dataOffset + errSize
                let offenderBytes = UnsafeRawBufferPointer(rebasing: control[offenderStart..<(offset + length)])
                let offender = SocketAddress(bytes: offenderBytes, length: socklen_t(offenderBytes.count))
                let origin: UDPErrorReport.Origin
                switch Int32(ee.ee_origin) {
                case SO_EE_ORIGIN_LOCAL: origin = .local
                case SO_EE_ORIGIN_ICMP: origin = .icmp
                case SO_EE_ORIGIN_ICMP6: origin = .icmp6
                default: origin = .other(ee.ee_origin)
                }
                return UDPErrorReport(
                    errno: Int32(bitPattern: ee.ee_errno), origin: origin, icmpType: ee.ee_type,
                    icmpCode: ee.ee_code, destination: destination, offender: offender)
            }
            offset += aligned(length)
        }
        return nil
    }

    /// Closes the descriptor (idempotent). Deregister it from any reactor first.
    public func close() {
        guard fd >= 0 else { return }
        try? System.close(fd)
        fd = -1
    }
}
