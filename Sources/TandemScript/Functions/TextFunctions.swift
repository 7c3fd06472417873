/// textops and sipmsgops functions that read or rewrite the message as text: `search`, `search_body`,
/// `subst`, `subst_body`, `subst_uri`, `subst_user`, `has_body`, `append_to_reply`, and the domain
/// module's `is_uri_host_local`.
///
/// Patterns given as literals are compiled once, when the script is loaded; a pattern held in a
/// variable is compiled per call (as OpenSIPS does for dynamic patterns).
enum TextFunctions {
    private static let textops = ["textops"]
    private static let routes = RouteKindSet.message

    static let specs: [FunctionSpec] = [
        searchSpec("search") { $0.message.rawText },
        searchSpec("search_body") { $0.message.get(.body, name: nil, index: nil).stringValue },
        substSpec("subst") { ctx, re in
            let (text, count) = re.substituteCounting(ctx.message.rawText)
            return count > 0 && ctx.message.replaceRaw(text)
        },
        substSpec("subst_body") { ctx, re in
            let (text, count) = re.substituteCounting(ctx.message.get(.body, name: nil, index: nil).stringValue)
            return count > 0 && ctx.message.replaceBody(text)
        },
        substSpec("subst_uri") { ctx, re in
            let (text, count) = re.substituteCounting(ctx.message.get(.requestURI, name: nil, index: nil).stringValue)
            return count > 0 && ctx.message.set(.requestURI, value: .string(text))
        },
        substSpec("subst_user") { ctx, re in
            let user = ctx.message.get(.requestUser, name: nil, index: nil)
            let (text, count) = re.substituteCounting(user.isNull ? "" : user.stringValue)
            return count > 0 && ctx.message.set(.requestUser, value: text.isEmpty ? .null : .string(text))
        },
        FunctionSpec("has_body", modules: ["sipmsgops", "textops"], args: [.string], min: 0, routes: routes,
                     binder: { _, _, args in
            let mime = args.isEmpty ? nil : args.value(0)
            return { ctx in
                let body = ctx.message.get(.body, name: nil, index: nil)
                guard !body.isNull, !body.stringValue.isEmpty else { return -1 }
                guard let mime else { return 1 }
                let wanted = mime(&ctx).stringValue
                let type = ctx.message.get(.header, name: "Content-Type", index: 0).stringValue
                return hasType(wanted, contentType: type, body: body.stringValue) ? 1 : -1
            }
        }),
        FunctionSpec("append_to_reply", modules: ["sipmsgops", "textops"], args: [.string],
                     routes: RouteKindSet([.request, .failure, .branch, .error]), binder: { _, _, args in
            let text = args.value(0)
            return { ctx in
                let raw = text(&ctx).stringValue
                guard !raw.isEmpty else { return -1 }
                ctx.proxy.appendToReply(raw)
                return 1
            }
        }),
        // domain: without a domain table, the local domains are Tandem's listen addresses and aliases.
        FunctionSpec("is_uri_host_local", modules: ["domain"], routes: RouteKindSet([.request, .failure, .branch]),
                     binder: { _, _, _ in
            { ctx in
                let host = ctx.message.get(.requestDomain, name: nil, index: nil)
                guard !host.isNull else { return -1 }
                return ctx.proxy.isMyself(host: host.stringValue, port: 0) ? 1 : -1
            }
        }),
        // is_from_local(): the From URI's host is a local domain (same rule as is_uri_host_local).
        FunctionSpec("is_from_local", modules: ["domain"], routes: RouteKindSet([.request, .failure, .branch]),
                     binder: { _, _, _ in
            { ctx in
                let host = ctx.message.get(.fromDomain, name: nil, index: nil)
                guard !host.isNull, !host.stringValue.isEmpty else { return -1 }
                return ctx.proxy.isMyself(host: host.stringValue, port: 0) ? 1 : -1
            }
        }),
        // is_domain_local(domain): the given domain is local.
        FunctionSpec("is_domain_local", modules: ["domain"], args: [.string], routes: .all, binder: { _, _, args in
            let domain = args.value(0)
            return { ctx in
                let host = domain(&ctx).stringValue
                guard !host.isEmpty else { return -1 }
                return ctx.proxy.isMyself(host: host, port: 0) ? 1 : -1
            }
        }),
    ]

    /// `search(re)` / `search_body(re)`: case-insensitive extended regex, `^`/`$` at line ends.
    private static func searchSpec(_ name: String,
                                   _ text: @escaping @Sendable (inout ExecutionContext) -> String) -> FunctionSpec {
        FunctionSpec(name, modules: textops, args: [.string], routes: routes, binder: { _, _, args in
            if case .string(let pattern)? = args.constant(0),
               case .success(let re) = POSIXRegex.compile(pattern, lineMode: true) {
                return { ctx in re.matches(text(&ctx)) ? 1 : -1 }
            }
            let pattern = args.value(0)
            return { ctx in
                guard case .success(let re) = POSIXRegex.compile(pattern(&ctx).stringValue, lineMode: true) else {
                    return -1
                }
                return re.matches(text(&ctx)) ? 1 : -1
            }
        })
    }

    /// `subst*('/re/replacement/flags')`: true (1) when something was replaced, -1 otherwise.
    private static func substSpec(_ name: String,
                                  _ apply: @escaping @Sendable (inout ExecutionContext, SubstitutionRegex) -> Bool)
        -> FunctionSpec {
        let lineMode = name == "subst" || name == "subst_body"
        return FunctionSpec(name, modules: textops, args: [.string], routes: routes, binder: { _, _, args in
            if case .string(let expression)? = args.constant(0),
               case .success(let re) = SubstitutionRegex.compile(expression, lineMode: lineMode) {
                return { ctx in apply(&ctx, re) ? 1 : -1 }
            }
            let expression = args.value(0)
            return { ctx in
                guard case .success(let re) = SubstitutionRegex.compile(expression(&ctx).stringValue,
                                                                        lineMode: lineMode) else { return -1 }
                return apply(&ctx, re) ? 1 : -1
            }
        })
    }

    /// Whether the body is of MIME type `wanted` (`type/subtype`, case-insensitive): the Content-Type,
    /// or for a multipart body the Content-Type of one of its parts.
    static func hasType(_ wanted: String, contentType: String, body: String) -> Bool {
        func bare(_ s: Substring) -> String {
            String(s.split(separator: ";", maxSplits: 1).first ?? "").trimmingSpaces().lowercased()
        }
        let want = wanted.trimmingSpaces().lowercased()
        let type = bare(Substring(contentType))
        if type == want { return true }
        guard type.hasPrefix("multipart/") else { return false }
        for line in body.split(whereSeparator: \.isNewline) {
            let lower = line.lowercased()
            guard lower.hasPrefix("content-type:") else { continue }
            if bare(Substring(lower.dropFirst("content-type:".count))) == want { return true }
        }
        return false
    }
}
