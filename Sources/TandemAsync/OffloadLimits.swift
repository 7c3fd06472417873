/// Per-driver numbers parsed from a config string such as `"mongodb=16;pg_connect=4;ldap_connect=4"` —
/// used both for `offload_limits` (jobs running at once) and `offload_queue` (queue bounds).
public struct OffloadLimits: Sendable, Equatable {
    /// Driver name → value.
    public var values: [String: Int]

    /// Creates limits from a dictionary.
    public init(_ values: [String: Int] = [:]) {
        self.values = values
    }

    /// The value for `driver`, if configured.
    public subscript(driver: String) -> Int? { values[driver] }

    /// Parses `name=number;name=number`. Whitespace around names, numbers and separators is ignored,
    /// as are empty entries (a trailing `;`).
    /// - Parameters:
    ///   - knownDrivers: if given, any other name is an error.
    ///   - minimum: smallest accepted value (1 for limits, 0 for queue bounds).
    ///   - maximum: largest accepted value.
    public static func parse(
        _ text: String, knownDrivers: [String]? = nil, minimum: Int = 1, maximum: Int = 100_000
    ) throws(OffloadConfigError) -> OffloadLimits {
        var values: [String: Int] = [:]
        for rawEntry in text.split(separator: ";", omittingEmptySubsequences: false) {
            let entry = trim(rawEntry)
            if entry.isEmpty { continue }
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw .malformedEntry(String(entry)) }
            let name = String(trim(parts[0]))
            let numberText = String(trim(parts[1]))
            guard !name.isEmpty else { throw .malformedEntry(String(entry)) }
            if let knownDrivers, !knownDrivers.contains(name) {
                throw .unknownDriver(name, known: knownDrivers.sorted())
            }
            guard let number = Int(numberText), number >= minimum, number <= maximum else {
                throw .badNumber(driver: name, text: numberText, minimum: minimum, maximum: maximum)
            }
            guard values[name] == nil else { throw .duplicateDriver(name) }
            values[name] = number
        }
        return OffloadLimits(values)
    }

    private static func trim(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}

/// Why an offload limits / queue bounds string was refused.
public enum OffloadConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The name is not an async driver.
    case unknownDriver(String, known: [String])
    /// The value is not an integer in range.
    case badNumber(driver: String, text: String, minimum: Int, maximum: Int)
    /// An entry is not `name=number`.
    case malformedEntry(String)
    /// A driver appears twice.
    case duplicateDriver(String)

    public var description: String {
        switch self {
        case .unknownDriver(let name, let known):
            return "unknown async driver '\(name)' (known: \(known.joined(separator: ", ")))"
        case .badNumber(let driver, let text, let minimum, let maximum):
            return "bad number '\(text)' for driver '\(driver)' (expected an integer in \(minimum)...\(maximum))"
        case .malformedEntry(let entry):
            return "malformed entry '\(entry)' (expected driver=number)"
        case .duplicateDriver(let name):
            return "driver '\(name)' is listed twice"
        }
    }
}
