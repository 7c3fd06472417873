/// Recursive-descent parser for the OpenSIPS 3.x routing language; recovers at statement
/// and block level so that every syntax error of a file is reported.
struct Parser {
    private struct ParseError: Error { var diagnostic: Diagnostic }

    private let tokens: [Token]
    /// Source bytes of the main file (index 0) and of each included file.
    private let buffers: [[UInt8]]
    private let file: String
    private var p = 0
    private(set) var diagnostics: [Diagnostic] = []
    /// Nesting guard so hostile input cannot overflow the stack.
    private var depth = 0
    private static let maxDepth = 200
    /// Height of the expression tree the last expression parser returned. A flat chain such as
    /// `a + b + … ` parses in a loop but builds a tree as deep as it is long, which every later pass
    /// (checker, compiler, the compiled closures) walks recursively; it is bounded here.
    private var height = 0
    /// Largest expression tree height (operators applied one after the other) a script may have.
    static let maxExpressionHeight = 1_000
    /// Most `if`/`else if` branches in one chain (each nests the next one in the tree).
    static let maxElseIfChain = 1_000
    /// The last block whose `}` was not indented like the line that opened it (token index of its
    /// `{` and where it is): when a block turns out unclosed, that one probably lacks its `}`.
    private var misindentedBlock: (open: Int, location: SourceLocation)?
    /// Set once an unclosed block is reported, so the blocks around it are not reported too.
    private var reportedUnclosed = false

    static let routeKeywords: [String: RouteKind] = [
        "route": .request, "failure_route": .failure, "onreply_route": .onReply,
        "branch_route": .branch, "startup_route": .startup, "timer_route": .timer,
        "error_route": .error, "local_route": .local, "event_route": .event,
    ]

    init(source: String, file: String, reader: @escaping IncludeExpander.Reader = ScriptFiles.load) {
        var lexer = Lexer(source: source, file: file)
        let tokens = lexer.tokenize()
        var expander = IncludeExpander(mainBytes: lexer.bytes, reader: reader)
        self.tokens = expander.expand(tokens, file: file)
        self.buffers = expander.buffers
        self.file = file
        self.diagnostics = lexer.diagnostics + expander.diagnostics
    }

    // MARK: token helpers

    private var tok: Token { tokens[p] }
    private func peekKind(_ k: Int = 1) -> TokenKind { tokens[min(p + k, tokens.count - 1)].kind }

    private mutating func advance() -> Token {
        let t = tokens[p]
        if p < tokens.count - 1 { p += 1 }
        return t
    }

    private func isPunct(_ punct: Punct) -> Bool {
        if case .punct(let x) = tok.kind, x == punct { return true }
        return false
    }

    private func isIdent(_ name: String) -> Bool {
        if case .identifier(let x) = tok.kind, x == name { return true }
        return false
    }

    private var atEOF: Bool { if case .eof = tok.kind { return true } else { return false } }

    private mutating func accept(_ punct: Punct) -> Bool {
        if isPunct(punct) { _ = advance(); return true }
        return false
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .identifier(let s): return "'\(s)'"
        case .integer(let v): return "'\(v)'"
        case .string: return "string literal"
        case .pseudoVar(let s): return "'$\(s)'"
        case .address(let s): return "'\(s)'"
        case .punct(let x): return "'\(x.rawValue)'"
        case .eof: return "end of file"
        }
    }

    private func error(_ message: String, at t: Token? = nil) -> ParseError {
        ParseError(diagnostic: Diagnostic((t ?? tok).location, message))
    }

    private mutating func expect(_ punct: Punct, _ context: String) throws {
        guard accept(punct) else {
            throw error("expected '\(punct.rawValue)' \(context), found \(describe(tok))")
        }
    }

    private mutating func expectName(_ what: String) throws -> (String, SourceLocation) {
        let t = tok
        switch t.kind {
        case .identifier(let s), .string(let s): _ = advance(); return (s, t.location)
        case .integer(let v): _ = advance(); return (String(v), t.location)
        default: throw error("expected \(what), found \(describe(t))")
        }
    }

    // MARK: top level

    mutating func parse() -> ScriptAST {
        var items: [TopLevelItem] = []
        while !atEOF {
            let before = p
            reportedUnclosed = false
            do {
                if let item = try parseTopLevel() { items.append(item) }
            } catch let e as ParseError {
                diagnostics.append(e.diagnostic)
                synchronizeTopLevel(progressFrom: before)
            } catch {}
        }
        return ScriptAST(items: items)
    }

    private mutating func synchronizeTopLevel(progressFrom before: Int) {
        if p == before { _ = advance() }
        while !atEOF {
            if case .identifier(let s) = tok.kind {
                if Parser.routeKeywords[s] != nil || s == "loadmodule" || s == "modparam" { return }
                if case .punct(.assign) = peekKind(), tokens[p - 1].line < tok.line { return }
            }
            if isPunct(.lbrace) { skipBalancedBraces(); continue }
            _ = advance()
        }
    }

    private mutating func skipBalancedBraces() {
        var d = 0
        repeat {
            if isPunct(.lbrace) { d += 1 } else if isPunct(.rbrace) { d -= 1 }
            _ = advance()
        } while d > 0 && !atEOF
    }

    private mutating func parseTopLevel() throws -> TopLevelItem? {
        let t = tok
        if accept(.semicolon) { return nil }
        guard case .identifier(let name) = t.kind else {
            throw error("unexpected \(describe(t)) at top level")
        }
        if name == "loadmodule" {
            _ = advance()
            guard case .string(let module) = tok.kind else { throw error("expected module file name string after 'loadmodule'") }
            let l = tok.location
            _ = advance()
            _ = accept(.semicolon)
            return .loadModule(name: module, location: l)
        }
        if name == "modparam" {
            _ = advance()
            try expect(.lparen, "after 'modparam'")
            guard case .string(let module) = tok.kind else { throw error("expected module name string in modparam") }
            _ = advance()
            try expect(.comma, "in modparam")
            guard case .string(let param) = tok.kind else { throw error("expected parameter name string in modparam") }
            _ = advance()
            try expect(.comma, "in modparam")
            let value: ConfigValue
            switch tok.kind {
            case .string(let s): value = .string(s); _ = advance()
            case .integer(let v): value = .int(v); _ = advance()
            case .punct(.minus):
                _ = advance()
                guard case .integer(let v) = tok.kind else { throw error("expected integer after '-'") }
                value = .int(-v); _ = advance()
            case .identifier(let w) where ConfigValue.word(w).intValue != nil:
                value = .word(w); _ = advance()
            default: throw error("expected string or integer value in modparam, found \(describe(tok))")
            }
            try expect(.rparen, "to close modparam")
            _ = accept(.semicolon)
            return .modparam(ModParamDecl(module: module, param: param, value: value, location: t.location))
        }
        if let kind = Parser.routeKeywords[name], isRouteHeader() {
            return .route(try parseRouteBlock(kind: kind))
        }
        if case .punct(.assign) = peekKind() {
            _ = advance(); _ = advance()
            return .global(try parseGlobalValue(name: name, at: t))
        }
        throw error("unexpected \(describe(t)) at top level")
    }

    private func isRouteHeader() -> Bool {
        switch peekKind() {
        case .punct(.lbrace), .punct(.lbracket): return true
        default: return false
        }
    }

    private mutating func parseGlobalValue(name: String, at nameToken: Token) throws -> GlobalParam {
        let line = tokens[p - 1].line
        var valueTokens: [Token] = []
        while !atEOF && tok.line == line && !isPunct(.semicolon) {
            valueTokens.append(advance())
        }
        _ = accept(.semicolon)
        guard let first = valueTokens.first, let last = valueTokens.last else {
            throw ParseError(diagnostic: Diagnostic(tokens[p == 0 ? 0 : p - 1].location, "expected a value for global parameter '\(name)'"))
        }
        let value: ConfigValue
        if valueTokens.count == 1, case .string(let s) = first.kind {
            value = .string(s)
        } else if valueTokens.count == 1, case .integer(let v) = first.kind {
            value = .int(v)
        } else if valueTokens.count == 2, case .punct(.minus) = first.kind, case .integer(let v) = last.kind {
            value = .int(-v)
        } else {
            let text = first.buffer == last.buffer
                ? String(decoding: buffers[first.buffer][first.start..<last.end], as: UTF8.self)
                : valueTokens.map { String(decoding: buffers[$0.buffer][$0.start..<$0.end], as: UTF8.self) }.joined(separator: " ")
            value = .word(text)
        }
        return GlobalParam(name: name, value: value, location: nameToken.location)
    }

    private mutating func parseRouteBlock(kind: RouteKind) throws -> RouteBlock {
        let start = advance()
        var name: String?
        var interval: Int?
        if accept(.lbracket) {
            name = try expectName("route name").0
            if accept(.comma) {
                guard case .integer(let v) = tok.kind else { throw error("expected timer interval in seconds") }
                interval = v
                _ = advance()
            }
            try expect(.rbracket, "after route name")
        }
        // `route[0]` is another spelling of the main route.
        if kind == .request && name == "0" { name = nil }
        let body = try parseBlock()
        return RouteBlock(kind: kind, name: name, interval: interval, body: body, location: start.location)
    }

    // MARK: statements

    /// Column of the first token on the line of token `index`.
    private func lineIndent(_ index: Int) -> Int {
        var j = index
        while j > 0 && tokens[j - 1].line == tokens[index].line && tokens[j - 1].location.file == tokens[index].location.file { j -= 1 }
        return tokens[j].location.column
    }

    /// A route header (`route[x] {`, `failure_route[y] {`) at the start of a line inside a block.
    private func atRouteHeader() -> Bool {
        guard case .identifier(let s) = tok.kind, Parser.routeKeywords[s] != nil, p > 0,
              tokens[p - 1].line < tok.line || tokens[p - 1].location.file != tok.location.file else {
            return false
        }
        return isRouteHeader()
    }

    /// Reports an unclosed block once, at the innermost block that probably lacks its `}`.
    private mutating func reportUnclosed(openIndex: Int, _ open: SourceLocation) {
        guard !reportedUnclosed else { return }
        reportedUnclosed = true
        if let m = misindentedBlock, m.open > openIndex {
            diagnostics.append(Diagnostic(m.location, "missing '}' to close this block"))
        } else {
            diagnostics.append(Diagnostic(open, "missing '}' to close this block"))
        }
    }

    private mutating func parseBlock() throws -> [Statement] {
        let open = tok
        let openIndex = p
        try expect(.lbrace, "to open a block")
        var body: [Statement] = []
        while !isPunct(.rbrace) {
            if atEOF || atRouteHeader() {
                // Keep what was parsed so later checks still see the block.
                reportUnclosed(openIndex: openIndex, open.location)
                return body
            }
            let before = p
            do {
                if let s = try parseStatement() { body.append(s) }
            } catch let e as ParseError {
                diagnostics.append(e.diagnostic)
                synchronizeStatement(progressFrom: before)
            }
        }
        let close = advance()
        if tokens[max(0, p - 2)].line < close.line && close.location.column != lineIndent(openIndex) {
            misindentedBlock = (openIndex, open.location)
        }
        return body
    }

    private mutating func synchronizeStatement(progressFrom before: Int) {
        if p == before && !isPunct(.rbrace) { _ = advance() }
        var d = 0
        while !atEOF {
            if isPunct(.lbrace) { d += 1 }
            else if isPunct(.rbrace) {
                if d == 0 { return }
                d -= 1
                _ = advance()
                if d == 0 { return }
                continue
            } else if isPunct(.semicolon) && d == 0 { _ = advance(); return }
            else if d == 0, case .identifier(let s) = tok.kind, Parser.routeKeywords[s] != nil,
                    s != "route", tokens[p - 1].line < tok.line { return }
            _ = advance()
        }
    }

    private mutating func expectSemicolon() throws {
        guard accept(.semicolon) else {
            let prev = tokens[max(0, p - 1)]
            throw ParseError(diagnostic: Diagnostic(prev.location, "expected ';' after statement, found \(describe(tok))"))
        }
    }

    private mutating func parseBody() throws -> [Statement] {
        if isPunct(.lbrace) { return try parseBlock() }
        guard let s = try parseStatement() else { return [] }
        return [s]
    }

    private mutating func parseStatement() throws -> Statement? {
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxDepth { throw error("statements nested too deeply") }
        let t = tok
        let l = t.location
        switch t.kind {
        case .punct(.semicolon):
            _ = advance()
            return nil
        case .punct(.lbrace):
            return Statement(kind: .block(try parseBlock()), location: l)
        case .pseudoVar(let raw):
            _ = advance()
            let target = try pvRef(raw, t)
            let op: AssignOp
            switch tok.kind {
            case .punct(.assign): op = .assign
            case .punct(.plusAssign): op = .add
            case .punct(.minusAssign): op = .subtract
            case .punct(.colonAssign): op = .colonAssign
            case .punct(.starAssign): op = .multiply
            case .punct(.slashAssign): op = .divide
            case .punct(.percentAssign): op = .modulo
            case .punct(.ampAssign): op = .bitAnd
            case .punct(.pipeAssign): op = .bitOr
            case .punct(.caretAssign): op = .bitXor
            default: throw error("expected assignment operator after '\(target.spec.text)', found \(describe(tok))")
            }
            _ = advance()
            let value = try parseExpr()
            try expectSemicolon()
            return Statement(kind: .assign(target: target, op: op, value: value), location: l)
        case .identifier(let name):
            switch name {
            case "if":
                // An `else if` chain is read in a loop (it is one level of the script, however long),
                // then built from its end: each `else if` is the `else` branch of the one before.
                var rungs: [(condition: Expr, then: [Statement], location: SourceLocation)] = []
                var rungLocation = l
                var otherwise: [Statement]?
                while true {
                    _ = advance()
                    try expect(.lparen, "after 'if'")
                    let cond = try parseExpr()
                    try expect(.rparen, "after if condition")
                    rungs.append((cond, try parseBody(), rungLocation))
                    guard isIdent("else") else { break }
                    _ = advance()
                    guard isIdent("if") else {
                        otherwise = try parseBody()
                        break
                    }
                    if rungs.count >= Parser.maxElseIfChain {
                        throw error("else-if chain longer than \(Parser.maxElseIfChain) branches; use switch or split it")
                    }
                    rungLocation = tok.location
                }
                var tail = otherwise
                for rung in rungs.reversed() {
                    tail = [Statement(kind: .ifElse(condition: rung.condition, then: rung.then, otherwise: tail),
                                      location: rung.location)]
                }
                return tail![0]
            case "while":
                _ = advance()
                try expect(.lparen, "after 'while'")
                let cond = try parseExpr()
                try expect(.rparen, "after while condition")
                return Statement(kind: .whileLoop(condition: cond, body: try parseBody()), location: l)
            case "for":
                _ = advance()
                try expect(.lparen, "after 'for'")
                guard case .pseudoVar(let rawVar) = tok.kind else {
                    throw error("expected a variable after 'for (', e.g. for ($var(x) in $(avp(y)[*]))")
                }
                let variable = try pvRef(rawVar, advance())
                guard isIdent("in") else { throw error("expected 'in' after the loop variable, found \(describe(tok))") }
                _ = advance()
                guard case .pseudoVar(let rawValues) = tok.kind else {
                    throw error("expected a pseudo-variable to iterate over, e.g. $(avp(y)[*])")
                }
                let values = try pvRef(rawValues, advance())
                try expect(.rparen, "after the for-each header")
                return Statement(kind: .forEach(variable: variable, values: values, body: try parseBody()), location: l)
            case "switch":
                return try parseSwitch()
            case "break":
                _ = advance(); try expectSemicolon()
                return Statement(kind: .breakStatement, location: l)
            case "exit", "drop":
                _ = advance()
                if accept(.lparen) { try expect(.rparen, "after '\(name)('") }
                try expectSemicolon()
                return Statement(kind: name == "exit" ? .exit : .drop, location: l)
            case "return":
                _ = advance()
                var value: Expr?
                if !isPunct(.semicolon) { value = try parseExpr() }
                try expectSemicolon()
                return Statement(kind: .returnStatement(value), location: l)
            case "else":
                throw error("'else' without a matching 'if'")
            case "case", "default":
                throw error("'\(name)' outside of a switch")
            default:
                guard case .punct(.lparen) = peekKind() else {
                    throw error("unexpected \(describe(t)); expected a statement")
                }
                let e = try parsePrimary()
                try expectSemicolon()
                switch e.kind {
                case .call(let c):
                    if c.name == "async" || c.name == "launch" { return try asyncOrLaunch(c, l) }
                    return Statement(kind: .call(c), location: l)
                case .routeCall(let n, let args):
                    return Statement(kind: .routeCall(name: n, args: args), location: l)
                default:
                    throw error("expected a statement", at: t)
                }
            }
        default:
            throw error("unexpected \(describe(t)); expected a statement")
        }
    }

    private func asyncOrLaunch(_ c: FunctionCall, _ l: SourceLocation) throws -> Statement {
        func fail(_ m: String) -> ParseError { ParseError(diagnostic: Diagnostic(c.location, m)) }
        guard let first = c.args.first, case .call(let inner) = first.kind else {
            throw fail("\(c.name)() expects a function call as its first argument")
        }
        func routeName(_ e: Expr) -> String? {
            switch e.kind {
            case .word(let s), .string(let s): return s
            case .int(let v): return String(v)
            default: return nil
            }
        }
        if c.name == "async" {
            guard c.args.count == 2 || c.args.count == 3 else {
                throw fail("async() expects a function call, a resume route and an optional timeout")
            }
            guard let r = routeName(c.args[1]) else { throw fail("async() resume route must be a route name") }
            return Statement(kind: .async(call: inner, resumeRoute: r, resumeLocation: c.args[1].location,
                                          timeout: c.args.count == 3 ? c.args[2] : nil), location: l)
        }
        guard c.args.count <= 3 else { throw fail("launch() expects a function call, an optional report route and an optional parameter") }
        var report: String?
        var reportLoc: SourceLocation?
        if c.args.count >= 2 {
            guard let r = routeName(c.args[1]) else { throw fail("launch() report route must be a route name") }
            report = r
            reportLoc = c.args[1].location
        }
        return Statement(kind: .launch(call: inner, reportRoute: report, reportLocation: reportLoc,
                                       param: c.args.count == 3 ? c.args[2] : nil), location: l)
    }

    private mutating func parseSwitch() throws -> Statement {
        let l = advance().location
        try expect(.lparen, "after 'switch'")
        let subject = try parseExpr()
        try expect(.rparen, "after switch subject")
        let open = tok
        try expect(.lbrace, "to open switch body")
        var cases: [SwitchCase] = []
        while !isPunct(.rbrace) {
            if atEOF { throw ParseError(diagnostic: Diagnostic(open.location, "missing '}' to close this switch")) }
            let ct = tok
            let label: Expr?
            if isIdent("case") {
                _ = advance()
                switch tok.kind {
                case .integer(let v): label = Expr(kind: .int(v), location: tok.location); _ = advance()
                case .string(let s): label = Expr(kind: .string(s), location: tok.location); _ = advance()
                case .punct(.minus):
                    let ml = tok.location
                    _ = advance()
                    guard case .integer(let v) = tok.kind else { throw error("expected integer after '-' in case label") }
                    _ = advance()
                    label = Expr(kind: .int(-v), location: ml)
                default: throw error("expected integer or string case label, found \(describe(tok))")
                }
            } else if isIdent("default") {
                _ = advance()
                label = nil
            } else {
                throw error("expected 'case' or 'default' in switch, found \(describe(tok))")
            }
            try expect(.colon, "after case label")
            var body: [Statement] = []
            while !isPunct(.rbrace) && !isIdent("case") && !isIdent("default") && !atEOF {
                let before = p
                do {
                    if let s = try parseStatement() { body.append(s) }
                } catch let e as ParseError {
                    diagnostics.append(e.diagnostic)
                    synchronizeStatement(progressFrom: before)
                }
            }
            cases.append(SwitchCase(label: label, body: body, location: ct.location))
        }
        _ = advance()
        return Statement(kind: .switchBlock(subject: subject, cases: cases), location: l)
    }

    // MARK: expressions

    private func pvRef(_ raw: String, _ t: Token) throws -> PVRef {
        guard let spec = PVSyntax.parse(raw) else {
            if raw.hasPrefix("(<"), !raw.hasPrefix("(<request>"), !raw.hasPrefix("(<reply>") {
                throw ParseError(diagnostic: Diagnostic(t.location,
                    "unknown context in '$\(raw)': a pseudo-variable context is <request> or <reply>"))
            }
            throw ParseError(diagnostic: Diagnostic(t.location, "malformed pseudo-variable '$\(raw)'"))
        }
        return PVRef(spec: spec, location: t.location)
    }

    mutating func parseExpr() throws -> Expr {
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxDepth { throw error("expression nested too deeply") }
        return try parseBinary(level: 0)
    }

    private static let levels: [[Punct: BinaryOp]] = [
        [.or: .or],
        [.and: .and],
        [.pipe: .bitOr],
        [.caret: .bitXor],
        [.amp: .bitAnd],
        [.eq: .equal, .ne: .notEqual, .match: .match, .noMatch: .noMatch],
        [.lt: .less, .gt: .greater, .le: .lessEqual, .ge: .greaterEqual],
        [.shl: .shiftLeft, .shr: .shiftRight],
        [.plus: .add, .minus: .subtract],
        [.star: .multiply, .slash: .divide, .percent: .modulo],
    ]

    private mutating func parseBinary(level: Int) throws -> Expr {
        if level == Parser.levels.count { return try parseUnary() }
        var lhs = try parseBinary(level: level + 1)
        var lhsHeight = height
        while case .punct(let x) = tok.kind, let op = Parser.levels[level][x] {
            let operatorToken = advance()
            let rhs = try parseBinary(level: level + 1)
            lhsHeight = max(lhsHeight, height) + 1
            if lhsHeight > Parser.maxExpressionHeight {
                throw error("expression too long: more than \(Parser.maxExpressionHeight) operators in a row "
                            + "(split it over several assignments)", at: operatorToken)
            }
            lhs = Expr(kind: .binary(op, lhs, rhs), location: lhs.location)
        }
        height = lhsHeight
        return lhs
    }

    private mutating func parseUnary() throws -> Expr {
        let t = tok
        let op: UnaryOp?
        switch t.kind {
        case .punct(.not): op = .not
        case .punct(.tilde): op = .bitNot
        case .punct(.minus): op = .negate
        default: op = nil
        }
        guard let op else { return try parsePrimary() }
        _ = advance()
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxDepth { throw error("expression nested too deeply") }
        let operand = try parseUnary()
        height += 1
        if op == .negate, case .int(let v) = operand.kind { return Expr(kind: .int(-v), location: t.location) }
        return Expr(kind: .unary(op, operand), location: t.location)
    }

    private mutating func parsePrimary() throws -> Expr {
        let t = tok
        height = 1
        switch t.kind {
        case .integer(let v): _ = advance(); return Expr(kind: .int(v), location: t.location)
        case .string(let s): _ = advance(); return Expr(kind: .string(s), location: t.location)
        case .pseudoVar(let raw): _ = advance(); return Expr(kind: .pv(try pvRef(raw, t)), location: t.location)
        case .address(let text):
            _ = advance()
            guard let net = IPNetwork(text) else { throw error("invalid IP address or network '\(text)'", at: t) }
            return Expr(kind: .address(net, text: text), location: t.location)
        case .punct(.lparen):
            _ = advance()
            let e = try parseExpr()
            try expect(.rparen, "to close '('")
            return e
        case .identifier(let name):
            _ = advance()
            if name == "NULL" || name == "null" { return Expr(kind: .null, location: t.location) }
            if name == "myself" { return Expr(kind: .myself, location: t.location) }
            // `src_ip == backup.example.com`: a host name written without quotes.
            if isPunct(.dot) || isPunct(.minus), let host = hostNameLiteral(after: t) { return Expr(kind: .hostName(host), location: t.location) }
            // `msg:len` (the message size) is the length of `$ml`.
            if name == "msg", isPunct(.colon), case .identifier("len") = peekKind() {
                _ = advance(); _ = advance()
                let spec = PVSpec(name: "ml", argument: nil, index: nil, transformations: ["s.len"], text: "msg:len")
                return Expr(kind: .pv(PVRef(spec: spec, location: t.location)), location: t.location)
            }
            guard accept(.lparen) else {
                if let b = Parser.booleanWord(name) { return Expr(kind: .int(b), location: t.location) }
                return Expr(kind: .word(name), location: t.location)
            }
            var args: [Expr] = []
            var argsHeight = 0
            // `force_send_socket(tcp:10.0.0.1:5060)`: OpenSIPS takes the socket as a bare literal.
            if name == "force_send_socket", let literal = socketLiteral() {
                args.append(Expr(kind: .string(literal), location: t.location))
            }
            if args.isEmpty, !isPunct(.rparen) {
                repeat {
                    // An empty positional argument (`f(a, , c)`) leaves an optional parameter out.
                    if isPunct(.comma) || (isPunct(.rparen) && !args.isEmpty) {
                        args.append(Expr(kind: .omitted, location: tok.location))
                    } else {
                        args.append(try parseExpr())
                        argsHeight = max(argsHeight, height)
                    }
                } while accept(.comma)
            }
            height = argsHeight + 1
            if height > Parser.maxExpressionHeight {
                throw error("expression too long: more than \(Parser.maxExpressionHeight) operators in a row "
                            + "(split it over several assignments)", at: t)
            }
            try expect(.rparen, "to close the argument list of '\(name)'")
            if name == "route" {
                guard let first = args.first else { throw error("route() needs a route name", at: t) }
                let rname: String
                switch first.kind {
                case .word(let s), .string(let s): rname = s
                case .int(let v): rname = String(v)
                default: throw error("route() needs a route name", at: t)
                }
                return Expr(kind: .routeCall(name: rname, args: Array(args.dropFirst())), location: t.location)
            }
            return Expr(kind: .call(FunctionCall(name: name, args: args, location: t.location)), location: t.location)
        default:
            throw error("expected an expression, found \(describe(t))")
        }
    }
}

extension Parser {
    /// Protocols a bare socket literal (`proto:host[:port]`) starts with.
    static let socketProtocols: Set<String> = ["udp", "tcp", "tls", "sctp", "ws", "wss", "bin", "hep_udp", "hep_tcp"]

    /// A bare socket literal up to the closing parenthesis (`tcp:127.0.0.1:5060`, `udp:[::1]:5060`,
    /// `10.0.0.1:5060`), consumed and returned as its source text; nil (nothing consumed) when the
    /// argument is anything else.
    mutating func socketLiteral() -> String? {
        let startsLiteral: Bool
        switch tok.kind {
        case .identifier(let word):
            if case .punct(.colon) = peekKind() { startsLiteral = Parser.socketProtocols.contains(word.lowercased()) }
            else { startsLiteral = false }
        case .integer, .string:
            // `10.0.0.1:5060` lexes as a decimal (kept as text), dots and numbers: an address with a port
            // is not one token. Nothing else puts a dot after a number or a string.
            if case .punct(.dot) = peekKind() { startsLiteral = true } else { startsLiteral = false }
        case .address:
            if case .punct(.rparen) = peekKind() { startsLiteral = true }
            else if case .punct(.colon) = peekKind() { startsLiteral = true }
            else { startsLiteral = false }
        default:
            startsLiteral = false
        }
        guard startsLiteral else { return nil }
        var end = p
        while end < tokens.count - 1 {
            if case .punct(.rparen) = tokens[end].kind { break }
            if case .eof = tokens[end].kind { return nil }
            end += 1
        }
        let first = tokens[p], last = tokens[end - 1]
        guard end > p, first.buffer == last.buffer, first.line == last.line else { return nil }
        p = end
        return String(decoding: buffers[first.buffer][first.start..<last.end], as: UTF8.self)
    }

    /// A dotted host name (`backup.foo.bar`, `sip-1.example.com`) whose first label, `first`, was just
    /// consumed: its labels and the dots and hyphens between them, written without spaces, consumed
    /// and returned; nil (nothing consumed) unless a label follows the first dot.
    mutating func hostNameLiteral(after first: Token) -> String? {
        var end = p
        var last = first
        var sawDot = false
        while end < tokens.count - 1 {
            let t = tokens[end]
            guard t.buffer == last.buffer, t.start == last.end else { break }
            switch t.kind {
            case .punct(.dot), .punct(.minus):
                let next = tokens[end + 1]
                guard next.buffer == t.buffer, next.start == t.end else { return finishHost(first, last, end, sawDot) }
                switch next.kind {
                case .identifier, .integer: break
                default: return finishHost(first, last, end, sawDot)
                }
                if case .punct(.dot) = t.kind { sawDot = true }
                last = next
                end += 2
                continue
            default:
                break
            }
            break
        }
        return finishHost(first, last, end, sawDot)
    }

    private mutating func finishHost(_ first: Token, _ last: Token, _ end: Int, _ sawDot: Bool) -> String? {
        guard sawDot, first.buffer == last.buffer else { return nil }
        p = end
        return String(decoding: buffers[first.buffer][first.start..<last.end], as: UTF8.self).lowercased()
    }

    /// Boolean words of OpenSIPS 3.6 in expressions (`$msg.flag(X) = off;`): 1, 0, or nil for other words.
    /// Kept out of line so the recursive expression parser's frame stays small.
    @inline(never)
    static func booleanWord(_ name: String) -> Int? {
        switch name {
        case "true", "on", "yes": return 1
        case "false", "off", "no": return 0
        default: return nil
        }
    }
}
