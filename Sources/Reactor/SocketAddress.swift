import Glibc

/// An IPv4 or IPv6 socket address (IP + port), stored as the kernel's `sockaddr_in`/`sockaddr_in6`
/// so it converts to and from `sockaddr` pointers without work. Value type, `Hashable`, `Sendable`.
///
/// Rendering: ``ip`` gives `"192.0.2.1"` / `"2001:db8::1"`, ``description`` gives `"192.0.2.1:5060"` /
/// `"[2001:db8::1]:5060"`.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// Address family.
    public enum Family: Sendable, Hashable {
        case ipv4
        case ipv6

        /// The `AF_*` constant.
        public var rawValue: Int32 { self == .ipv4 ? AF_INET : AF_INET6 }
    }

    @usableFromInline
    enum Storage: Sendable {
        case v4(sockaddr_in)
        case v6(sockaddr_in6)
    }

    @usableFromInline
    var storage: Storage

    /// Parses a numeric IP (`inet_pton`; IPv6 may be written with or without brackets) and a port.
    /// Returns `nil` if `ip` is not a numeric address (no DNS).
    public init?(ip: String, port: UInt16) {
        var text = Substring(ip)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        var v4 = sockaddr_in()
        // Dotted decimal is read here (the proxy reads a Via, Route or Request-URI host on every
        // request); anything else goes to inet_pton as before.
        if let address = Self.parseDottedDecimal(text.utf8) {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            v4.sin_addr.s_addr = address.bigEndian
            storage = .v4(v4)
            return
        }
        let parsedV4 = String(text).withCString { inet_pton(AF_INET, $0, &v4.sin_addr) }
        if parsedV4 == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            storage = .v4(v4)
            return
        }
        var v6 = sockaddr_in6()
        let parsedV6 = String(text).withCString { inet_pton(AF_INET6, $0, &v6.sin6_addr) }
        guard parsedV6 == 1 else { return nil }
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_port = port.bigEndian
        storage = .v6(v6)
    }

    /// Parses `"ip:port"` or `"[v6]:port"` (a bare IP gets `defaultPort`).
    public init?(_ text: String, defaultPort: UInt16? = nil) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.isEmpty {
                guard let port = defaultPort else { return nil }
                self.init(ip: host, port: port)
            } else {
                guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()) else { return nil }
                self.init(ip: host, port: port)
            }
            return
        }
        let colons = text.count(where: { $0 == ":" })
        if colons == 1, let colon = text.firstIndex(of: ":") {
            guard let port = UInt16(text[text.index(after: colon)...]) else { return nil }
            self.init(ip: String(text[..<colon]), port: port)
        } else {
            guard let port = defaultPort else { return nil }
            self.init(ip: text, port: port)
        }
    }

    /// Wraps a kernel `sockaddr_in`.
    public init(_ address: sockaddr_in) { storage = .v4(address) }

    /// Wraps a kernel `sockaddr_in6`.
    public init(_ address: sockaddr_in6) { storage = .v6(address) }

    /// Reads an address from a `sockaddr_storage` filled by the kernel; `nil` for other families.
    @inlinable
    public init?(storage raw: sockaddr_storage, length: socklen_t) {
        var raw = raw
        guard let value = withUnsafeBytes(of: &raw, { SocketAddress(bytes: $0, length: length) }) else { return nil }
        self = value
    }

    /// Reads an address from raw `sockaddr` bytes; `nil` for other families or short lengths.
    @inlinable
    public init?(bytes: UnsafeRawBufferPointer, length: socklen_t) {
        guard let base = bytes.baseAddress, length >= MemoryLayout<sa_family_t>.size else { return nil }
        let family = Int32(base.loadUnaligned(as: sa_family_t.self))
        if family == AF_INET, Int(length) >= MemoryLayout<sockaddr_in>.size {
            storage = .v4(base.loadUnaligned(as: sockaddr_in.self))
        } else if family == AF_INET6, Int(length) >= MemoryLayout<sockaddr_in6>.size {
            storage = .v6(base.loadUnaligned(as: sockaddr_in6.self))
        } else {
            return nil
        }
    }

    /// The address family.
    public var family: Family {
        switch storage {
        case .v4: return .ipv4
        case .v6: return .ipv6
        }
    }

    /// The port in host byte order.
    public var port: UInt16 {
        get {
            switch storage {
            case .v4(let a): return UInt16(bigEndian: a.sin_port)
            case .v6(let a): return UInt16(bigEndian: a.sin6_port)
            }
        }
        set {
            switch storage {
            case .v4(var a): a.sin_port = newValue.bigEndian; storage = .v4(a)
            case .v6(var a): a.sin6_port = newValue.bigEndian; storage = .v6(a)
            }
        }
    }

    /// A copy with a different port.
    public func withPort(_ port: UInt16) -> SocketAddress {
        var copy = self
        copy.port = port
        return copy
    }

    /// The numeric IP without port or brackets (`inet_ntop`'s text).
    public var ip: String {
        // An IPv4 address is written here, as inet_ntop writes it (dotted decimal, no leading zeros):
        // glibc formats it with sprintf, and the proxy reads the source address of every request.
        if case .v4(let a) = storage { return Self.dottedDecimal(UInt32(bigEndian: a.sin_addr.s_addr)) }
        // INET6_ADDRSTRLEN is 46.
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer -> String in
            let base = buffer.baseAddress!
            let ok: Bool
            switch storage {
            case .v4(var a): ok = inet_ntop(AF_INET, &a.sin_addr, base, 64) != nil
            case .v6(var a): ok = inet_ntop(AF_INET6, &a.sin6_addr, base, 64) != nil
            }
            return ok ? String(cString: base) : "?"
        }
    }

    /// The IPv4 address (host byte order) `inet_pton(AF_INET, …)` reads from `text` (up to a NUL, as the C
    /// string it would get), or nil where it would fail: four decimal octets of at most 255 separated by
    /// dots, no leading zeros, nothing else.
    static func parseDottedDecimal(_ text: Substring.UTF8View) -> UInt32? {
        var address: UInt32 = 0
        var octet: UInt32 = 0
        var octets = 0
        var sawDigit = false
        for byte in text {
            if byte == 0 { break }
            if byte >= 48 && byte <= 57 {
                let value = octet * 10 + UInt32(byte - 48)
                if sawDigit && octet == 0 { return nil }
                if value > 255 { return nil }
                octet = value
                if !sawDigit {
                    octets += 1
                    if octets > 4 { return nil }
                    sawDigit = true
                }
            } else if byte == 46 && sawDigit {
                if octets == 4 { return nil }
                address = address << 8 | octet
                octet = 0
                sawDigit = false
            } else {
                return nil
            }
        }
        guard octets == 4, sawDigit else { return nil }
        return address << 8 | octet
    }

    /// `a.b.c.d` of an IPv4 address in host byte order (at most 15 bytes: a small string, no allocation).
    static func dottedDecimal(_ address: UInt32) -> String {
        String(unsafeUninitializedCapacity: 15) { buffer in
            var n = 0
            for shift in stride(from: 24, through: 0, by: -8) {
                let octet = UInt8(truncatingIfNeeded: address >> UInt32(shift))
                if octet >= 100 { buffer[n] = 48 + octet / 100; n += 1 }
                if octet >= 10 { buffer[n] = 48 + octet / 10 % 10; n += 1 }
                buffer[n] = 48 + octet % 10
                n += 1
                if shift > 0 { buffer[n] = 46; n += 1 }
            }
            return n
        }
    }

    /// `"ip:port"` for IPv4, `"[ip]:port"` for IPv6.
    public var description: String {
        switch storage {
        case .v4: return "\(ip):\(port)"
        case .v6: return "[\(ip)]:\(port)"
        }
    }

    /// Whether the IP is a loopback address (127/8 or ::1).
    public var isLoopback: Bool {
        switch storage {
        case .v4(let a): return UInt32(bigEndian: a.sin_addr.s_addr) >> 24 == 127
        case .v6(var a):
            return withUnsafeBytes(of: &a.sin6_addr) { bytes in
                bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1
            }
        }
    }

    /// Calls `body` with a `sockaddr` pointer and length suitable for `sendto`/`bind`/`connect`.
    @inlinable
    public func withSockAddr<R, E: Error>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(E) -> R) throws(E) -> R {
        switch storage {
        case .v4(var a):
            return try withUnsafePointer(to: &a) { p throws(E) -> R in
                try body(UnsafeRawPointer(p).assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        case .v6(var a):
            return try withUnsafePointer(to: &a) { p throws(E) -> R in
                try body(UnsafeRawPointer(p).assumingMemoryBound(to: sockaddr.self), socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
    }

    // MARK: Hashable (address, port, scope; ignores padding and flow info)

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        switch (lhs.storage, rhs.storage) {
        case (.v4(let a), .v4(let b)):
            return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port
        case (.v6(var a), .v6(var b)):
            guard a.sin6_port == b.sin6_port, a.sin6_scope_id == b.sin6_scope_id else { return false }
            return withUnsafeBytes(of: &a.sin6_addr) { x in
                withUnsafeBytes(of: &b.sin6_addr) { y in x.elementsEqual(y) }
            }
        default:
            return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch storage {
        case .v4(let a):
            hasher.combine(4 as UInt8)
            hasher.combine(a.sin_addr.s_addr)
            hasher.combine(a.sin_port)
        case .v6(var a):
            hasher.combine(6 as UInt8)
            withUnsafeBytes(of: &a.sin6_addr) { hasher.combine(bytes: $0) }
            hasher.combine(a.sin6_port)
            hasher.combine(a.sin6_scope_id)
        }
    }
}
