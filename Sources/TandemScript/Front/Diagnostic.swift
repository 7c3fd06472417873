/// How serious a diagnostic is.
public enum DiagnosticSeverity: String, Sendable, Hashable {
    case error
    case warning
}

/// One message produced while checking a script, printed as `file:line:col: message`.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    public var severity: DiagnosticSeverity

    public init(_ location: SourceLocation, _ message: String, severity: DiagnosticSeverity = .error) {
        self.location = location
        self.message = message
        self.severity = severity
    }

    public var file: String { location.file }
    public var line: Int { location.line }
    public var column: Int { location.column }

    /// Exactly `file:line:col: message`.
    public var description: String { "\(location.file):\(location.line):\(location.column): \(message)" }
}
