#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A compiled POSIX extended regular expression (case-insensitive, match-only, as OpenSIPS' `=~`).
///
/// `@unchecked Sendable`: the `regex_t` is written once by `compile` and afterwards only read by
/// `regexec`, which is thread-safe on a compiled pattern; it is freed in `deinit`.
final class POSIXRegex: @unchecked Sendable {
    private let re: UnsafeMutablePointer<regex_t>

    private init(re: UnsafeMutablePointer<regex_t>) { self.re = re }

    /// Compiles `pattern`; on failure returns the regerror text. `lineMode` adds REG_NEWLINE (`^`/`$`
    /// at line ends, as textops `search` over a whole message).
    static func compile(_ pattern: String, lineMode: Bool = false) -> Result<POSIXRegex, RegexError> {
        let re = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        re.initialize(to: regex_t())
        let rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB | REG_ICASE | (lineMode ? REG_NEWLINE : 0))
        if rc != 0 {
            var buf = [CChar](repeating: 0, count: 256)
            regerror(rc, re, &buf, buf.count)
            re.deallocate()
            return .failure(RegexError(message: String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)))
        }
        return .success(POSIXRegex(re: re))
    }

    deinit {
        regfree(re)
        re.deallocate()
    }

    func matches(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { buf -> Bool in
            // regexec needs a NUL-terminated string; short strings use a stack buffer.
            let n = buf.count
            if n < 1024 {
                return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { tmp -> Bool in
                    if let base = buf.baseAddress, n > 0 {
                        UnsafeMutableRawPointer(tmp.baseAddress!).copyMemory(from: base, byteCount: n)
                    }
                    tmp[n] = 0
                    return regexec(re, tmp.baseAddress!, 0, nil, 0) == 0
                }
            }
            return String(decoding: buf, as: UTF8.self).withCString { regexec(re, $0, 0, nil, 0) == 0 }
        }
    }
}

/// A pattern that failed to compile.
struct RegexError: Error, Sendable {
    var message: String
}
