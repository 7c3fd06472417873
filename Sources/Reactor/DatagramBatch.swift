import CReactor
import Glibc

/// Preallocated storage for receiving up to ``capacity`` datagrams with a single `recvmmsg(2)` call
/// (``UDPSocket/receive(batch:)``). Allocated once per worker; receiving allocates nothing.
///
/// Loop-owned (not `Sendable`): the byte views it hands out are valid until the next receive.
public final class DatagramBatch {
    /// Maximum datagrams per call.
    public let capacity: Int
    /// Bytes per datagram buffer (larger datagrams are truncated and flagged).
    public let bufferSize: Int
    /// Datagrams filled by the last receive.
    public internal(set) var count = 0

    let bytes: UnsafeMutableRawPointer
    let headers: UnsafeMutablePointer<creactor_mmsghdr>
    let iovecs: UnsafeMutablePointer<iovec>
    let addresses: UnsafeMutablePointer<sockaddr_storage>

    /// Allocates `capacity` buffers of `bufferSize` bytes.
    public init(capacity: Int = 32, bufferSize: Int = 65_535) {
        precondition(capacity > 0 && bufferSize > 0)
        self.capacity = capacity
        self.bufferSize = bufferSize
        bytes = .allocate(byteCount: capacity * bufferSize, alignment: 16)
        headers = .allocate(capacity: capacity)
        headers.initialize(repeating: creactor_mmsghdr(), count: capacity)
        iovecs = .allocate(capacity: capacity)
        addresses = .allocate(capacity: capacity)
        addresses.initialize(repeating: sockaddr_storage(), count: capacity)
        for i in 0..<capacity {
            iovecs[i] = iovec(iov_base: bytes + i * bufferSize, iov_len: bufferSize)
        }
    }

    deinit {
        bytes.deallocate()
        headers.deallocate()
        iovecs.deallocate()
        addresses.deallocate()
    }

    /// Re-arms the headers before a call (the kernel overwrites lengths and flags).
    func prepare() {
        for i in 0..<capacity {
            var header = msghdr()
            header.msg_name = UnsafeMutableRawPointer(addresses + i)
            header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            header.msg_iov = iovecs + i
            header.msg_iovlen = 1
            headers[i] = creactor_mmsghdr(msg_hdr: header, msg_len: 0)
        }
        count = 0
    }

    /// The bytes of datagram `index` (valid until the next receive).
    public func bytes(at index: Int) -> UnsafeRawBufferPointer {
        precondition(index < count)
        return UnsafeRawBufferPointer(start: bytes + index * bufferSize, count: Int(headers[index].msg_len))
    }

    /// The sender of datagram `index` (`nil` only for unexpected address families).
    public func sender(at index: Int) -> SocketAddress? {
        precondition(index < count)
        return SocketAddress(storage: addresses[index], length: headers[index].msg_hdr.msg_namelen)
    }

    /// Whether datagram `index` was larger than ``bufferSize``.
    public func isTruncated(at index: Int) -> Bool {
        precondition(index < count)
        return headers[index].msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0
    }
}
