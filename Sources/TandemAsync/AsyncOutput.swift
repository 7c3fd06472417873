/// One named output of an async function, e.g. `"stdout"` → `.string(...)` or `"avp:credit"` → `.list(...)`.
/// Neutral on purpose: the script binding decides how names map onto `$avp`/`$var`.
public struct AsyncOutput: Sendable, Equatable {
    /// Output name (driver-defined, e.g. `"stdout"`, `"stderr"`, `"status"`, `"avp:credit"`).
    public var name: String
    /// The value.
    public var value: AsyncValue

    /// Creates a named output.
    public init(_ name: String, _ value: AsyncValue) {
        self.name = name
        self.value = value
    }
}

/// The value of an ``AsyncOutput``.
public enum AsyncValue: Sendable, Equatable {
    /// A string (e.g. captured stdout).
    case string(String)
    /// An integer (e.g. an exit status).
    case int(Int)
    /// Several values, one per row; `nil` is SQL NULL / absent.
    case list([String?])

    /// The string payload, if any.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer payload, if any.
    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }
}
