#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading of script files named by `include_file` / `import_file`.
public enum ScriptFiles {
    /// Reads a file as UTF-8 text; on failure returns the OS reason (`No such file or directory`).
    ///
    /// The file is read until end of file rather than by its size, so non-regular files work too:
    /// `/dev/stdin`, a FIFO, a shell process substitution (`<(…)`).
    public static func load(_ path: String) -> Result<String, ScriptFileError> {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            let code = errno
            return .failure(ScriptFileError(path: path, reason: String(cString: strerror(code)), notFound: code == ENOENT))
        }
        defer { close(fd) }
        return readAll(fd, path: path)
    }

    /// The name ``loadStandardInput()`` gives standard input in errors and diagnostics.
    public static let standardInputName = "<stdin>"

    /// Reads standard input to end of file as UTF-8 text (`tandem check -f -`).
    public static func loadStandardInput() -> Result<String, ScriptFileError> {
        readAll(STDIN_FILENO, path: standardInputName)
    }

    /// Reads `fd` to end of file (at most 16 MB); `path` names it in the error.
    private static func readAll(_ fd: Int32, path: String) -> Result<String, ScriptFileError> {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                return .failure(ScriptFileError(path: path, reason: String(cString: strerror(code))))
            }
            if n == 0 { break }
            data += chunk[..<n]
            if data.count > 16 << 20 { return .failure(ScriptFileError(path: path, reason: "file is larger than 16 MB")) }
        }
        return .success(String(decoding: data, as: UTF8.self))
    }

    /// `path` relative to the directory of `includingFile` (absolute paths stay as they are).
    static func resolve(_ path: String, from includingFile: String) -> String {
        if path.hasPrefix("/") { return path }
        guard let slash = includingFile.lastIndex(of: "/") else { return path }
        return String(includingFile[...slash]) + path
    }
}

/// A script file that could not be read.
public struct ScriptFileError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    /// The file does not exist (`import_file` then skips it).
    public var notFound: Bool

    public init(path: String, reason: String, notFound: Bool = false) {
        self.path = path
        self.reason = reason
        self.notFound = notFound
    }
    public var description: String { "cannot read '\(path)': \(reason)" }
}

/// Replaces `include_file "x"` / `import_file "x"` tokens with the tokens of the named file
/// (recursively; `import_file` is the same but a missing file is not an error). Tokens keep their
/// own file name, so diagnostics point into the included file.
struct IncludeExpander {
    typealias Reader = @Sendable (String) -> Result<String, ScriptFileError>
    var buffers: [[UInt8]]
    var diagnostics: [Diagnostic] = []
    let reader: Reader
    private static let maxDepth = 16

    init(mainBytes: [UInt8], reader: @escaping Reader) {
        buffers = [mainBytes]
        self.reader = reader
    }

    private static func isDirective(_ t: Token) -> Bool {
        if case .identifier(let n) = t.kind { return n == "include_file" || n == "import_file" }
        return false
    }

    mutating func expand(_ tokens: [Token], file: String, stack: [String] = []) -> [Token] {
        guard tokens.contains(where: IncludeExpander.isDirective) else { return tokens }
        var out: [Token] = []
        out.reserveCapacity(tokens.count)
        var i = 0
        while i < tokens.count {
            let t = tokens[i]
            guard IncludeExpander.isDirective(t), i + 1 < tokens.count, case .string(let raw) = tokens[i + 1].kind,
                  case .identifier(let directive) = t.kind else {
                if IncludeExpander.isDirective(t) {
                    diagnostics.append(Diagnostic(t.location, "expected a file name string after '\(t.kind == .identifier("import_file") ? "import_file" : "include_file")'"))
                    i += 1
                    continue
                }
                out.append(t)
                i += 1
                continue
            }
            i += 2
            if i < tokens.count, case .punct(.semicolon) = tokens[i].kind { i += 1 }
            let path = ScriptFiles.resolve(raw, from: file)
            if stack.contains(path) || path == file {
                diagnostics.append(Diagnostic(t.location, "'\(raw)' includes itself (include cycle)"))
                continue
            }
            if stack.count >= IncludeExpander.maxDepth {
                diagnostics.append(Diagnostic(t.location, "includes nested more than \(IncludeExpander.maxDepth) deep"))
                continue
            }
            switch reader(path) {
            case .failure(let e):
                if directive == "import_file" && e.notFound { continue }
                diagnostics.append(Diagnostic(t.location, "\(directive): \(e.description)"))
            case .success(let text):
                var lexer = Lexer(source: text, file: path)
                var inner = lexer.tokenize()
                diagnostics += lexer.diagnostics
                inner.removeLast() // eof
                let index = buffers.count
                buffers.append(lexer.bytes)
                for k in inner.indices { inner[k].buffer = index }
                out += expand(inner, file: path, stack: stack + [file])
            }
        }
        return out
    }
}
