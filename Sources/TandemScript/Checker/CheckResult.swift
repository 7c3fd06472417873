/// Something a script uses that Tandem does not provide (reported by `tandem check`).
public struct MissingFeature: Sendable, Hashable, CustomStringConvertible {
    /// What kind of feature is missing.
    public enum Kind: String, Sendable, Hashable {
        case function, module, pseudoVariable = "pseudo-variable", routeType = "route type"
        case transformation
    }
    public var kind: Kind
    public var name: String
    public var location: SourceLocation

    public var description: String { "\(location.file):\(location.line): \(kind.rawValue) '\(name)'" }

    /// A missing feature without where it is used, to group uses.
    struct Key: Hashable {
        var kind: Kind
        var name: String
    }
}

extension Array where Element == MissingFeature {
    /// `tandem check --list-missing`: one block per missing feature, in order of first use, with every
    /// line that uses it (`function 'append_branch': 2 uses` then `  file:line:column` lines). Empty when nothing is missing.
    public func migrationReport() -> String {
        var order: [MissingFeature.Key] = []
        var uses: [MissingFeature.Key: [SourceLocation]] = [:]
        for feature in self {
            let key = MissingFeature.Key(kind: feature.kind, name: feature.name)
            if uses[key] == nil { order.append(key) }
            uses[key, default: []].append(feature.location)
        }
        var lines: [String] = []
        for key in order {
            let locations = uses[key] ?? []
            lines.append("\(key.kind.rawValue) '\(key.name)': \(locations.count) use\(locations.count == 1 ? "" : "s")")
            for l in locations { lines.append("  \(l.file):\(l.line):\(l.column)") }
        }
        return lines.joined(separator: "\n")
    }
}

/// Outcome of `ScriptChecker.check`: every diagnostic, what the script lacks, and the compiled
/// script when there are no errors.
public struct CheckResult: Sendable {
    public var diagnostics: [Diagnostic]
    /// Unknown functions/modules/pseudo-variables with their lines, sorted by position.
    public var missing: [MissingFeature]
    public var config: ScriptConfig
    public var script: Script?
    public var ast: ScriptAST

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }

    /// Text for `tandem check`: every diagnostic (`file:line:col: message`), then a summary of
    /// what the script uses that Tandem lacks, with line numbers.
    public func report() -> String {
        var lines = diagnostics.map(\.description)
        if !missing.isEmpty {
            lines.append("")
            lines.append("Not available in Tandem (\(missing.count)):")
            for m in missing { lines.append("  line \(m.location.line): \(m.kind.rawValue) '\(m.name)'") }
        }
        if !hasErrors { lines.append("\(diagnostics.isEmpty ? "OK" : "OK with warnings")") }
        return lines.joined(separator: "\n")
    }
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Word aliases accepted in conditions (`uri == myself`, `method == "INVITE"`).
enum ExprAliases {
    static let message: [String: MessagePV] = [
        "uri": .requestURI, "from_uri": .fromURI, "to_uri": .toURI, "method": .method,
        "status": .replyStatus, "src_ip": .sourceIP, "src_port": .sourcePort, "dst_ip": .receivedIP,
        "dst_port": .receivedPort, "proto": .proto,
    ]
}

/// Identifies a route block by kind and name ("" for unnamed blocks).
struct RouteKey: Hashable, Sendable {
    var kind: RouteKind
    var name: String
}
