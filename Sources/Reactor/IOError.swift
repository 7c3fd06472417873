import Glibc

/// A failed system call: the `errno` value and the name of the function that failed.
///
/// Thrown (typed) by ``System``, ``UDPSocket`` and ``Reactor``. `EINTR` never surfaces (calls are retried)
/// and `EAGAIN`/`EWOULDBLOCK` surface as ``IOResult/wouldBlock`` instead.
public struct IOError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `errno` value reported by the call.
    public let errno: Int32
    /// Name of the failing function, e.g. `"sendto"`.
    public let function: String

    /// Creates an error for `function` with the given errno value.
    public init(errno: Int32, function: String) {
        self.errno = errno
        self.function = function
    }

    /// The `strerror` text for ``errno``.
    public var message: String {
        guard let text = strerror(errno) else { return "Unknown error \(errno)" }
        return String(cString: text)
    }

    public var description: String {
        "\(function): \(message) (errno \(errno))"
    }

    /// `true` for errors that an unconnected UDP socket reports asynchronously after an ICMP error
    /// (port/host/network unreachable, ...). They concern one earlier datagram, not the socket:
    /// a proxy should turn them into a 503 for that destination and keep using the socket.
    public var isAsynchronousNetworkError: Bool {
        switch errno {
        case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ENETDOWN, EPROTO, EMSGSIZE, ENOPROTOOPT, ETIMEDOUT:
            return true
        default:
            return false
        }
    }
}
