import TandemAsync

/// The ``BackendHealth`` entries of the HTTP origins one worker's `rest_*` calls reach, remembered by the
/// worker so that a finished call finds its entry by comparing the URL's `scheme://host[:port]` bytes
/// with the few origins seen, instead of building the origin string and looking it up in the process-wide
/// registry (a lock and a hash) on every call (issue 19: CPU per backend call).
///
/// The same entries as ``BackendObservation/httpOrigin(_:)`` gives: URLs it cannot compare byte for
/// byte (non-ASCII, or credentials before the host) take that path. Worker-thread only.
final class HTTPOriginHealthCache {
    /// At most this many origins are remembered; a further one replaces the oldest.
    static let capacity = 16

    private var entries: [(origin: String, health: BackendHealth)] = []
    private var oldest = 0

    /// Where the origin of a URL ends, when it is a plain prefix of the URL.
    enum Origin: Equatable {
        /// The first `length` bytes (`scheme://authority`).
        case prefix(length: Int)
        /// The URL names no origin (no `scheme://`, or an empty authority).
        case noOrigin
        /// Not comparable byte for byte: ``BackendObservation/httpOrigin(_:)`` decides.
        case other
    }

    /// The health entry of `url`'s origin (nil when it names none).
    func health(forURL url: String, registry: BackendHealthRegistry) -> BackendHealth? {
        let origin = url.utf8.withContiguousStorageIfAvailable { Self.origin(of: $0) } ?? .other
        switch origin {
        case .noOrigin:
            return nil
        case .other:
            guard let address = BackendObservation.httpOrigin(url) else { return nil }
            return registry.health(driver: "http", address: address)
        case .prefix(let length):
            let prefix = url.utf8.prefix(length)
            for entry in entries where entry.origin.utf8.elementsEqual(prefix) { return entry.health }
            let text = String(Substring(prefix))
            let health = registry.health(driver: "http", address: text)
            remember(text, health)
            return health
        }
    }

    private func remember(_ origin: String, _ health: BackendHealth) {
        if entries.count < Self.capacity {
            entries.append((origin, health))
        } else {
            entries[oldest] = (origin, health)
            oldest = (oldest + 1) % Self.capacity
        }
    }

    /// Where `scheme://authority` ends in an ASCII URL (the authority ends at `/`, `?`, `#` or the end).
    static func origin(of bytes: UnsafeBufferPointer<UInt8>) -> Origin {
        var colon: Int?
        for (index, byte) in bytes.enumerated() {
            if byte >= 0x80 { return .other }
            if colon == nil && byte == UInt8(ascii: ":") { colon = index }
        }
        guard let colon else { return .noOrigin }
        let start = colon + 3
        guard start <= bytes.count, bytes[colon + 1] == UInt8(ascii: "/"), bytes[colon + 2] == UInt8(ascii: "/") else {
            return .noOrigin
        }
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "/") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") { break }
            if byte == UInt8(ascii: "@") { return .other }
            end += 1
        }
        return end == start ? .noOrigin : .prefix(length: end)
    }
}
