#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A POSIX extended regex with capture groups, for `{re.subst,/re/replacement/flags}`.
///
/// `@unchecked Sendable`: the `regex_t` is written once at compile time and only read by
/// `regexec` afterwards (thread-safe on a compiled pattern); it is freed in `deinit`.
final class SubstitutionRegex: @unchecked Sendable {
    private let re: UnsafeMutablePointer<regex_t>
    let replacement: [UInt8]
    let global: Bool

    private init(re: UnsafeMutablePointer<regex_t>, replacement: [UInt8], global: Bool) {
        self.re = re
        self.replacement = replacement
        self.global = global
    }

    deinit {
        regfree(re)
        re.deallocate()
    }

    /// Parses `/regex/replacement/flags` (any delimiter; flags `i`, `g` and `s`, which makes `^`/`$`
    /// match at line ends and `.` stop at them). `lineMode` sets `s` always (textops on a message).
    static func compile(_ expression: String, lineMode: Bool = false) -> Result<SubstitutionRegex, TransformError> {
        let b = Array(expression.utf8)
        guard let d = b.first else { return .failure(TransformError(message: "empty substitution expression")) }
        var parts: [[UInt8]] = [[]]
        var i = 1
        while i < b.count {
            if b[i] == 92 && i + 1 < b.count && b[i + 1] == d { parts[parts.count - 1].append(d); i += 2; continue }
            if b[i] == d { parts.append([]) } else { parts[parts.count - 1].append(b[i]) }
            i += 1
        }
        guard parts.count == 3 else {
            return .failure(TransformError(message: "expected /regex/replacement/flags"))
        }
        var flags = REG_EXTENDED
        if lineMode { flags |= REG_NEWLINE }
        var global = false
        for f in parts[2] {
            switch f {
            case UInt8(ascii: "i"): flags |= REG_ICASE
            case UInt8(ascii: "g"): global = true
            case UInt8(ascii: "s"): flags |= REG_NEWLINE
            default: return .failure(TransformError(message: "unknown flag '\(Character(UnicodeScalar(f)))'"))
            }
        }
        let re = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        re.initialize(to: regex_t())
        let rc = regcomp(re, String(decoding: parts[0], as: UTF8.self), flags)
        if rc != 0 {
            var buf = [CChar](repeating: 0, count: 256)
            regerror(rc, re, &buf, buf.count)
            re.deallocate()
            let text = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return .failure(TransformError(message: "invalid regular expression: \(text)"))
        }
        return .success(SubstitutionRegex(re: re, replacement: parts[1], global: global))
    }

    /// Replaces the first (or every, with `g`) match; `\0`…`\9` insert the groups.
    func substitute(_ input: String) -> String { substituteCounting(input).text }

    /// ``substitute(_:)`` with the number of replacements made (0: no match, text unchanged).
    func substituteCounting(_ input: String) -> (text: String, count: Int) {
        let b = Array(input.utf8)
        var count = 0
        var cstr = b.map { CChar(bitPattern: $0) }
        cstr.append(0)
        var out: [UInt8] = []
        var offset = 0
        var matches = [regmatch_t](repeating: regmatch_t(), count: 10)
        while offset <= b.count {
            let rc = cstr.withUnsafeBufferPointer { p in
                regexec(re, p.baseAddress! + offset, 10, &matches, offset > 0 ? REG_NOTBOL : 0)
            }
            guard rc == 0 else { break }
            count += 1
            let start = offset + Int(matches[0].rm_so), end = offset + Int(matches[0].rm_eo)
            out += b[offset..<start]
            var k = 0
            while k < replacement.count {
                let c = replacement[k]
                if c == 92, k + 1 < replacement.count, replacement[k + 1] >= 48, replacement[k + 1] <= 57 {
                    let g = Int(replacement[k + 1] - 48)
                    if matches[g].rm_so >= 0 {
                        out += b[(offset + Int(matches[g].rm_so))..<(offset + Int(matches[g].rm_eo))]
                    }
                    k += 2
                    continue
                }
                out.append(c)
                k += 1
            }
            if end == start {
                if start < b.count { out.append(b[start]) }
                offset = start + 1
            } else {
                offset = end
            }
            if !global { break }
        }
        if count == 0 { return (input, 0) }
        if offset < b.count { out += b[offset...] }
        return (String(decoding: out, as: UTF8.self), count)
    }
}

/// The `re.*` transformations.
enum RegexTransformations {
    static let all: [String: TransformDefinition] = [
        "re.subst": TransformDefinition(args: 1...1) { c in
            if let text = c[0] {
                return SubstitutionRegex.compile(text.stringValue).map { re in
                    { v, _ in .string(re.substitute(StringTransformations.text(v))) }
                }
            }
            // A pattern held in a variable is compiled per call, as OpenSIPS does.
            return .success { v, a in
                guard case .success(let re) = SubstitutionRegex.compile(StringTransformations.text(a[0])) else { return .null }
                return .string(re.substitute(StringTransformations.text(v)))
            }
        },
    ]
}
