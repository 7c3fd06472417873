/// An IPv4 or IPv6 address as its network-order bytes (4 or 16 of them).
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    public var isV6: Bool { bytes.count == 16 }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses dotted IPv4 or IPv6 text; IPv6 may be written in brackets (`[2001:db8::1]`).
    public init?(_ text: some StringProtocol) {
        var s = Substring(text)
        if s.first == "[" && s.last == "]" && s.count >= 2 { s = s.dropFirst().dropLast() }
        if let v4 = IPAddress.parseV4(s) { bytes = v4; return }
        if let v6 = IPAddress.parseV6(s) { bytes = v6; return }
        return nil
    }

    static func parseV4(_ s: Substring) -> [UInt8]? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for p in parts {
            guard !p.isEmpty, p.count <= 3, p.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(p), v <= 255 else {
                return nil
            }
            out.append(UInt8(v))
        }
        return out
    }

    static func parseV6(_ s: Substring) -> [UInt8]? {
        guard s.contains(":"), s.count <= 45 else { return nil }
        var halves: [String] = []
        var rest = s
        while let r = rest.firstRange(of: "::") {
            halves.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        halves.append(String(rest))
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, allowV4Tail: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            let items = part.split(separator: ":", omittingEmptySubsequences: false)
            var out: [UInt8] = []
            for (i, g) in items.enumerated() {
                if allowV4Tail && i == items.count - 1 && g.contains(".") {
                    guard let v4 = parseV4(g) else { return nil }
                    out += v4
                    continue
                }
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(UInt8(v >> 8))
                out.append(UInt8(v & 0xFF))
            }
            return out
        }
        if halves.count == 1 {
            guard let all = groups(halves[0], allowV4Tail: true), all.count == 16 else { return nil }
            return all
        }
        guard let head = groups(halves[0], allowV4Tail: false), let tail = groups(halves[1], allowV4Tail: true),
              head.count + tail.count <= 14 else { return nil }
        return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
    }

    /// Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as `::`).
    public var description: String {
        if !isV6 { return bytes.map { String($0) }.joined(separator: ".") }
        var words: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) { words.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])) }
        var bestStart = -1, bestLen = 0, runStart = -1
        for i in 0...8 {
            if i < 8 && words[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLen && i - runStart >= 2 { bestStart = runStart; bestLen = i - runStart }
                runStart = -1
            }
        }
        func hex(_ r: ArraySlice<UInt16>) -> String { r.map { String($0, radix: 16) }.joined(separator: ":") }
        guard bestStart >= 0 else { return hex(words[...]) }
        return hex(words[..<bestStart]) + "::" + hex(words[(bestStart + bestLen)...])
    }
}

/// An address with a prefix length (`10.0.0.0/8`, `2001:db8::/32`); a plain address has the full length.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let prefix: Int

    /// Parses `address` or `address/prefix`.
    public init?(_ text: some StringProtocol) {
        if let slash = text.lastIndex(of: "/") {
            guard let a = IPAddress(text[..<slash]), let p = Int(text[text.index(after: slash)...]),
                  p >= 0, p <= a.bytes.count * 8 else { return nil }
            address = a
            prefix = p
        } else {
            guard let a = IPAddress(text) else { return nil }
            address = a
            prefix = a.bytes.count * 8
        }
    }

    /// Whether `other` lies in this network (an exact match for a plain address); families must agree.
    public func contains(_ other: IPAddress) -> Bool {
        guard other.bytes.count == address.bytes.count else { return false }
        var bits = prefix
        for i in 0..<address.bytes.count {
            if bits <= 0 { return true }
            let mask: UInt8 = bits >= 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address.bytes[i] & mask != other.bytes[i] & mask { return false }
            bits -= 8
        }
        return true
    }

    public var description: String { "\(address)/\(prefix)" }
}
