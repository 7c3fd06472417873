/// The `[index]` of a pseudo-variable: a number (negative counts from the end), another
/// pseudo-variable (`$(avp(x)[$var(i)])`) or `*` (every value).
enum PVIndex: Sendable {
    case fixed(Int)
    case dynamic(PVSpec)
    case all
}

/// A pseudo-variable resolved at compile time.
enum PVKind: Sendable {
    case variable(String)
    case avp(String, index: PVIndex?)
    case param(Int)
    case rc
    case rand
    case time(String)
    case timestamp
    /// `$Tf`: the current time as ctime(3) prints it.
    case formattedTime
    /// `$mf`: the message/transaction flags that are set, as a list.
    case messageFlags
    /// `$T_fr_timeout` / `$T_fr_inv_timeout` (seconds), readable and writable per transaction.
    case transactionTimeout(invite: Bool)
    case message(MessagePV, name: String?, index: PVIndex?)
    /// `$msg.flag(name)`: 1 when that message flag is set, else 0; assigning 1/0 sets or resets it.
    case messageFlag(String)
    /// `$msg.is_request` (1 for a request, 0 for a reply).
    case messageIsRequest
    /// `$msg.type` (`request` or `reply`).
    case messageType
    /// `$sdp`, `$sdp.line(...)`, `$sdp.session(...)`, `$sdp.stream(...)` (writable) and `$sdp.stream.idx(...)`.
    /// (indirect: the selector is large, and PVKind sits in the frames of the checker's deep recursion)
    indirect case sdp(SDPSelector)
    /// `$msg.branch.uri|duri|path|q|flags|socket|flag(name)|attr(name)` of a message branch (no index:
    /// the last one); `field` nil: `$msg.branch` itself (reads the last URI, assigning appends a branch).
    indirect case messageBranch(MessageBranchField?, index: PVIndex?)
    /// `$msg.branch.last_idx`.
    case messageBranchLastIndex
    /// `$xlog_level` / `$log_level`: this worker's xlog() / log() verbosity, writable (NULL resets it).
    case logVerbosity(xlog: Bool)
    /// `$bf`: the branch flags of the current branch (branch 0), as a list like `$mf`.
    case branchFlags
    /// `$branch.flag(name)`: 1 when that flag of the current branch is set; assigning 1/0 sets or resets it.
    case branchFlag(String)
    /// `$(<request>...)` / `$(<reply>...)`: a message variable read from the transaction's other message.
    indirect case inContext(PVContext, PVKind)

    var isWritable: Bool {
        switch self {
        case .variable, .avp, .transactionTimeout, .messageFlag, .branchFlag, .logVerbosity, .messageBranch: return true
        case .message(let pv, _, _): return pv.isWritable
        case .sdp(let sel): return sel.scope != .streamIndex
        default: return false
        }
    }
}

/// OpenSIPS 3.6 core pseudo-variables Tandem does not provide yet (named as such by the checker).
let openSIPSOnly: Set<String> = [
    "af", "ai", "ad", "aU", "Au", "argv", "bF", "br", "bR", "cl", "cT", "dd", "di",
    "dip", "dir", "dp", "dP", "ds", "fn", "fs", "hdr_name", "mF", "mi", "od", "op", "oP", "oU",
    "pp", "proto", "pd", "pn", "pu", "pU", "rb", "rP", "rt", "ruri", "src_ip", "tn", "T_ruri", "Tsm",
    "TS", "T_id", "T_reply_reason", "ctime", "cfg_line", "cfg_file",
    "route_type", "socket_out", "C", "DLG_status", "DLG_lifetime",
    "shv", "dlg_val", "stat", "json", "xml", "sipmsg", "msg", "sdp", "authattr", "cnt", "ts",
    "an", "proxy_protocol", "re", "return", "route", "ru_q", "path",
]

/// Classification of pseudo-variable references (`$var(x)`, `$avp(x)[1]`, `$ru`, `$hdr(Via)[0]`...).
enum PseudoVariables {
    static func classify(_ spec: PVSpec) -> Result<PVKind, PVError> {
        if let context = spec.context { return classifyInContext(spec, context) }
        var index: PVIndex?
        if let raw = spec.index?.trimmingSpaces() {
            if raw == "*" {
                index = .all
            } else if let i = Int(raw) {
                index = .fixed(i)
            } else if raw.hasPrefix("$"), let inner = PVSyntax.parse(String(raw.dropFirst())) {
                if case .failure(let e) = classify(inner) { return .failure(e) }
                index = .dynamic(inner)
            } else {
                return .failure(PVError(message: "invalid index '[\(raw)]' in '\(spec.text)'", missing: nil))
            }
        }
        func noArg(_ kind: PVKind) -> Result<PVKind, PVError> {
            if spec.argument != nil || index != nil {
                return .failure(PVError(message: "pseudo-variable '$\(spec.name)' takes no name or index", missing: nil))
            }
            return .success(kind)
        }
        func needArg() -> String? {
            guard let a = spec.argument?.trimmingSpaces(), !a.isEmpty else { return nil }
            return a
        }
        switch spec.name {
        case "var":
            guard let a = needArg() else { return .failure(.needsName(spec)) }
            if index != nil { return .failure(PVError(message: "'$var(\(a))' cannot be indexed", missing: nil)) }
            return .success(.variable(a))
        case "avp":
            guard let a = needArg() else { return .failure(.needsName(spec)) }
            return .success(.avp(a, index: index))
        case "param":
            guard let a = needArg(), let n = Int(a), n >= 1, index == nil else {
                return .failure(PVError(message: "'\(spec.text)' needs a positive parameter number, e.g. $param(1)", missing: nil))
            }
            return .success(.param(n))
        case "ulc":
            guard let a = needArg(), let (profile, attr) = UlcProfile.parse(a) else {
                return .failure(PVError(message: "'\(spec.text)' needs profile=>attribute, the attribute one of "
                                        + UlcProfile.attributes.joined(separator: ", "), missing: nil))
            }
            return .success(.avp(UlcProfile.avpName(profile, attr), index: index))
        case "rc", "retcode": return noArg(.rc)
        case "rand", "RANDOM": return noArg(.rand)
        case "Ts": return noArg(.timestamp)
        case "Tf": return noArg(.formattedTime)
        case "mf": return noArg(.messageFlags)
        case "bf": return noArg(.branchFlags)
        case "branch.flag":
            guard let a = needArg(), index == nil else { return .failure(.needsName(spec)) }
            return .success(.branchFlag(a))
        case "msg.branch", "msg.branch.uri", "msg.branch.duri", "msg.branch.path", "msg.branch.q", "msg.branch.flags",
             "msg.branch.socket", "msg.branch.flag", "msg.branch.attr", "msg.branch.last_idx":
            return classifyMessageBranch(spec, index: index)
        case "xlog_level": return noArg(.logVerbosity(xlog: true))
        case "log_level": return noArg(.logVerbosity(xlog: false))
        case "T_fr_timeout": return noArg(.transactionTimeout(invite: false))
        case "T_fr_inv_timeout": return noArg(.transactionTimeout(invite: true))
        case "sf", "sF":
            return .failure(PVError(message: "'\(spec.text)' (script flags) was removed in OpenSIPS 3.x; use message flags ($mf, setflag/isflagset)",
                                    missing: nil))
        case "time":
            guard let a = spec.argument, index == nil else { return .failure(.needsName(spec)) }
            return .success(.time(a))
        case "msg.flag", "msg.is_request", "msg.type", "sdp", "sdp.line", "sdp.session", "sdp.stream", "sdp.stream.idx":
            return classifyDotted(spec, indexed: index != nil)
        default:
            guard let pv = MessagePV.byName[spec.name] else {
                if spec.name.contains(".") || openSIPSOnly.contains(spec.name) {
                    return .failure(PVError(message: "'\(spec.text)' is OpenSIPS 3.6 syntax that Tandem does not support yet",
                                            missing: spec.text))
                }
                let known = Array(MessagePV.byName.keys) + ["var", "avp", "param", "rc", "retcode", "rand", "Ts", "time",
                                                            "Tf", "mf", "T_fr_timeout", "T_fr_inv_timeout", "bf",
                                                            "branch.flag"]
                let hint = Suggestions.closest(to: spec.name, in: known).map { " (did you mean '$\($0)'?)" } ?? ""
                return .failure(PVError(message: "unknown pseudo-variable '\(spec.text)'\(hint)", missing: spec.text))
            }
            if pv.needsName {
                guard let a = needArg() else { return .failure(.needsName(spec)) }
                return .success(.message(pv, name: a, index: index))
            }
            if pv.allowsName, let a = needArg() {
                if index != nil { return .failure(PVError(message: "'\(spec.text)' cannot be indexed", missing: nil)) }
                return .success(.message(pv, name: a, index: nil))
            }
            return noArg(.message(pv, name: nil, index: nil))
        }
    }

    /// `$msg.branch...`: index 0 is the Request-URI branch, none the last branch, negative from the end.
    @inline(never)
    static func classifyMessageBranch(_ spec: PVSpec, index: PVIndex?) -> Result<PVKind, PVError> {
        let name = spec.name
        let arg = spec.argument?.trimmingSpaces()
        let field: MessageBranchField?
        switch name {
        case "msg.branch", "msg.branch.last_idx":
            if spec.argument != nil || index != nil {
                return .failure(PVError(message: "pseudo-variable '$\(name)' takes no name or index", missing: nil))
            }
            return .success(name == "msg.branch" ? .messageBranch(nil, index: nil) : .messageBranchLastIndex)
        case "msg.branch.flag", "msg.branch.attr":
            guard let a = arg, !a.isEmpty else { return .failure(.needsName(spec)) }
            if case .all = index {
                return .failure(PVError(message: "'\(spec.text)' cannot take the [*] index", missing: nil))
            }
            field = name == "msg.branch.flag" ? .flag(a) : .attribute(a)
        default:
            if spec.argument != nil { return .failure(PVError(message: "'$\(name)' takes no name", missing: nil)) }
            field = MessageBranchField(name: String(name.dropFirst("msg.branch.".count)))
        }
        return .success(.messageBranch(field, index: index))
    }

    /// `$msg.flag/.is_request/.type` and `$sdp...`. Out of line: `classify` runs at the bottom of the
    /// checker's recursion through long else-if ladders, so its own frame must stay small.
    @inline(never)
    static func classifyDotted(_ spec: PVSpec, indexed: Bool) -> Result<PVKind, PVError> {
        if indexed, spec.name.hasPrefix("sdp") {
            return .failure(PVError(message: "'\(spec.text)' cannot be indexed; put the index inside the filter, e.g. $sdp.line(a=ptime[1])",
                                    missing: nil))
        }
        if indexed { return .failure(PVError(message: "'\(spec.text)' cannot be indexed", missing: nil)) }
        let arg = spec.argument?.trimmingSpaces()
        switch spec.name {
        case "msg.flag":
            guard let a = arg, !a.isEmpty else { return .failure(.needsName(spec)) }
            return .success(.messageFlag(a))
        case "msg.is_request", "msg.type":
            if spec.argument != nil {
                return .failure(PVError(message: "pseudo-variable '$\(spec.name)' takes no name or index", missing: nil))
            }
            return .success(spec.name == "msg.type" ? .messageType : .messageIsRequest)
        default:
            let scope: SDPSelector.Scope = spec.name == "sdp" ? .body
                : spec.name == "sdp.line" ? .line : spec.name == "sdp.session" ? .session
                : spec.name == "sdp.stream" ? .stream : .streamIndex
            switch SDPSelector.parse(scope: scope, argument: spec.argument) {
            case .success(let sel): return .success(.sdp(sel))
            case .failure(let why): return .failure(PVError(message: "'\(spec.text)': \(why.reason)", missing: nil))
            }
        }
    }
}

/// Why a pseudo-variable reference is rejected; `missing` names a feature Tandem lacks, if that is the reason.
struct PVError: Error, Sendable {
    var message: String
    var missing: String?

    static func needsName(_ spec: PVSpec) -> PVError {
        PVError(message: "pseudo-variable '$\(spec.name)' needs a name, e.g. $\(spec.name)(x)", missing: nil)
    }
}

/// A piece of a string literal: text or an interpolated pseudo-variable.
enum StringSegment: Sendable {
    case literal(String)
    case pv(PVSpec)
}

/// Splits string literals into literal text and `$pv` segments.
enum Interpolation {
    static func segments(_ s: String) -> [StringSegment] { segmentsWithOffsets(s).map(\.0) }

    /// Segments with the byte offset where each starts in the (unescaped) string.
    static func segmentsWithOffsets(_ s: String) -> [(StringSegment, Int)] {
        let b = Array(s.utf8)
        guard b.contains(36) else { return [(.literal(s), 0)] }
        var out: [(StringSegment, Int)] = []
        var lit: [UInt8] = []
        var litStart = 0
        var i = 0
        while i < b.count {
            if b[i] == 36, let end = PVSyntax.scan(b, from: i, inString: true),
               let spec = PVSyntax.parse(String(decoding: b[(i + 1)..<end], as: UTF8.self)) {
                if !lit.isEmpty { out.append((.literal(String(decoding: lit, as: UTF8.self)), litStart)); lit.removeAll() }
                out.append((.pv(spec), i))
                i = end
                litStart = i
            } else {
                lit.append(b[i])
                i += 1
            }
        }
        if !lit.isEmpty { out.append((.literal(String(decoding: lit, as: UTF8.self)), litStart)) }
        return out
    }
}
