extension ScriptAST {
    /// Every function call in the script's routes, in source order: plain calls, calls inside
    /// expressions and the calls of `async()`/`launch()` (for checks that need the host's settings).
    public var functionCalls: [FunctionCall] {
        var calls: [FunctionCall] = []
        for item in items {
            guard case .route(let route) = item else { continue }
            Self.collect(route.body, into: &calls)
        }
        return calls
    }

    private static func collect(_ body: [Statement], into calls: inout [FunctionCall]) {
        for statement in body {
            switch statement.kind {
            case .call(let call), .async(let call, _, _, _), .launch(let call, _, _, _):
                calls.append(call)
                for arg in call.args { collect(arg, into: &calls) }
            case .routeCall(_, let args):
                for arg in args { collect(arg, into: &calls) }
            case .assign(_, _, let value):
                collect(value, into: &calls)
            case .ifElse(let condition, let then, let otherwise):
                collect(condition, into: &calls)
                collect(then, into: &calls)
                if let otherwise { collect(otherwise, into: &calls) }
            case .whileLoop(let condition, let loop):
                collect(condition, into: &calls)
                collect(loop, into: &calls)
            case .forEach(_, _, let loop):
                collect(loop, into: &calls)
            case .switchBlock(let subject, let cases):
                collect(subject, into: &calls)
                for c in cases { collect(c.body, into: &calls) }
            case .returnStatement(let value):
                if let value { collect(value, into: &calls) }
            case .block(let inner):
                collect(inner, into: &calls)
            case .breakStatement, .exit, .drop:
                break
            }
        }
    }

    private static func collect(_ expr: Expr, into calls: inout [FunctionCall]) {
        switch expr.kind {
        case .call(let call):
            calls.append(call)
            for arg in call.args { collect(arg, into: &calls) }
        case .routeCall(_, let args):
            for arg in args { collect(arg, into: &calls) }
        case .binary(_, let a, let b):
            collect(a, into: &calls)
            collect(b, into: &calls)
        case .unary(_, let a):
            collect(a, into: &calls)
        case .int, .string, .null, .pv, .word, .myself, .address, .omitted, .hostName:
            break
        }
    }
}
