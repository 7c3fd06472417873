/// Checks a script (syntax, functions, modules, routes, pseudo-variables) and compiles it when clean.
public struct ScriptChecker: Sendable {
    public let registry: FunctionRegistry
    /// Reads files named by `include_file` / `import_file` (paths relative to the including file).
    public var fileReader: @Sendable (String) -> Result<String, ScriptFileError> = ScriptFiles.load

    public init(registry: FunctionRegistry = .standard) { self.registry = registry }

    public func check(source: String, fileName: String) -> CheckResult {
        check(source: source, fileName: fileName, instrument: false)
    }

    /// An unterminated string or comment swallows the rest of its file: what is reported after it
    /// in that file (and unclosed blocks or a missing main route anywhere) only follows from it.
    static func dropKnockOns(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        guard let cut = diagnostics.first(where: {
            $0.message == "unterminated string literal" || $0.message == "unterminated block comment"
        }) else { return diagnostics }
        return diagnostics.filter { d in
            if d == cut { return true }
            // Unclosed blocks and a missing main route are reported wherever their start is.
            if d.message.hasPrefix("missing ") || d.message.hasPrefix("no main route") { return false }
            return d.file != cut.file || (d.line, d.column) < (cut.line, cut.column)
        }
    }

    /// The same message more than `limit` times is listed `limit` times, then once with a count.
    static func capRepeats(_ diagnostics: [Diagnostic], limit: Int = 3) -> [Diagnostic] {
        var counts: [String: Int] = [:]
        for d in diagnostics { counts[d.message, default: 0] += 1 }
        guard counts.values.contains(where: { $0 > limit }) else { return diagnostics }
        var seen: [String: Int] = [:]
        var out: [Diagnostic] = []
        for d in diagnostics {
            let n = seen[d.message, default: 0] + 1
            seen[d.message] = n
            if n <= limit {
                out.append(d)
            } else if n == limit + 1 {
                var summary = d
                summary.message = "\(d.message) (and \(counts[d.message]! - limit) more like this, not listed)"
                out.append(summary)
            }
        }
        return out
    }

    /// `instrument` makes the compiled script count executed statements (benchmarks).
    func check(source: String, fileName: String, instrument: Bool) -> CheckResult {
        var parser = Parser(source: source, file: fileName, reader: fileReader)
        let ast = parser.parse()
        var analyzer = Analyzer(ast: ast, file: fileName, registry: registry)
        analyzer.diagnostics = parser.diagnostics
        analyzer.run()
        var diagnostics = analyzer.diagnostics
        // The main file first, then included files by name; each by position.
        diagnostics.sort {
            ($0.file == fileName ? 0 : 1, $0.file, $0.line, $0.column) < ($1.file == fileName ? 0 : 1, $1.file, $1.line, $1.column)
        }
        diagnostics = ScriptChecker.dropKnockOns(diagnostics)
        diagnostics = ScriptChecker.capRepeats(diagnostics)
        var seen = Set<MissingFeature>()
        let missing = analyzer.missing.filter { seen.insert($0).inserted }
            .sorted { ($0.location.line, $0.location.column) < ($1.location.line, $1.location.column) }
        var result = CheckResult(diagnostics: diagnostics, missing: missing, config: analyzer.config,
                                 script: nil, ast: ast)
        if !result.hasErrors {
            var compiler = Compiler(ast: ast, config: analyzer.config, registry: registry)
            compiler.instrument = instrument
            result.script = compiler.compile()
        }
        return result
    }
}
