import Glibc

/// A backend server's host as a numeric address, for the drivers that pin it once when their settings
/// are read (at start, never on the packet path): an IP literal stays as it is, `localhost` is
/// 127.0.0.1, a name takes its first `getaddrinfo` answer.
public enum NumericHost {
    /// Why a host has no numeric address.
    public enum Failure: Error, Sendable, Equatable {
        /// `getaddrinfo` failed; its reason (`gai_strerror`).
        case unresolved(String)
        /// The answer could not be printed as a numeric address.
        case unformattable
    }

    /// The numeric address of `host`.
    public static func address(of host: String) -> Result<String, Failure> {
        if host == "localhost" { return .success("127.0.0.1") }
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1 { return .success(host) }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &result)
        guard rc == 0, let first = result else { return .failure(.unresolved(String(cString: gai_strerror(rc)))) }
        defer { freeaddrinfo(result) }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let nrc = getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &text, socklen_t(text.count),
                              nil, 0, NI_NUMERICHOST)
        guard nrc == 0 else { return .failure(.unformattable) }
        return .success(text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    }
}
