import Glibc

/// Why the operations endpoint could not start listening (address in use, address not on this host…).
public struct OperationsEndpointError: Error, Sendable, CustomStringConvertible {
    /// `host:port` it tried to listen on.
    public var address: String
    /// The `errno` of the failed call, when there is one (e.g. `EADDRINUSE`).
    public var errno: Int32?
    /// What went wrong, in words.
    public var reason: String

    public init(address: String, errno: Int32?, reason: String) {
        self.address = address
        self.errno = errno
        self.reason = reason
    }

    public var description: String { "httpd: cannot listen on \(address): \(reason)" }
}
