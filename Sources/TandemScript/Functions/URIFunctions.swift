/// Core Request-URI functions of OpenSIPS 3.6: `seturi`/`rewriteuri`, `rewritehost`, `rewritehostport`,
/// `rewriteport`, `rewriteuser`, `rewriteuserpass` (and their `set*` names), `strip`, `strip_tail`,
/// `prefix`, and `force_rport`.
///
/// They change the Request-URI through the writable `$ru`/`$rU`/`$rd`/`$rp`, so the proxy relays to
/// what they leave (as `t_relay` with no `$du`).
enum URIFunctions {
    private static let routes = RouteKindSet([.request, .failure, .branch, .error, .local])

    static let specs: [FunctionSpec] = [
        setter("seturi", .requestURI), setter("rewriteuri", .requestURI),
        setter("rewritehost", .requestDomain), setter("sethost", .requestDomain),
        setter("rewriteuser", .requestUser), setter("setuser", .requestUser),
        portSetter("rewriteport"), portSetter("setport"),
        hostPortSetter("rewritehostport"), hostPortSetter("sethostport"),
        userPassSetter("rewriteuserpass"), userPassSetter("setuserpass"),
        userEdit("strip", .int) { user, arg in
            guard let n = arg.intValue, n >= 0 else { return nil }
            return String(decoding: user.utf8.dropFirst(n), as: UTF8.self)
        },
        userEdit("strip_tail", .int) { user, arg in
            guard let n = arg.intValue, n >= 0 else { return nil }
            return String(decoding: user.utf8.dropLast(n), as: UTF8.self)
        },
        userEdit("prefix", .string) { user, arg in arg.stringValue + user },
        // `force_send_socket([proto:]IP[:port])`: the listen socket relayed requests leave from.
        FunctionSpec("force_send_socket", args: [.string], routes: RouteKindSet([.request, .failure, .branch]),
                     binder: { _, _, args in
            let socket = args.value(0)
            return { ctx in ctx.proxy.forceSendSocket(socket(&ctx).stringValue) }
        }),
        // `force_tcp_alias([port])`: requests toward the source IP and the Via port (or `port`) reuse the
        // stream connection this request came on (RFC 5923 behaviour for this one peer).
        FunctionSpec("force_tcp_alias", args: [.int], min: 0, routes: RouteKindSet([.request, .failure, .branch]),
                     binder: { _, _, args in
            if args.isEmpty { return { ctx in ctx.proxy.forceTCPAlias(port: nil) } }
            let port = args.value(0)
            return { ctx in ctx.proxy.forceTCPAlias(port: port(&ctx).intValue) }
        }),
        FunctionSpec("force_rport", routes: RouteKindSet([.request, .failure, .branch]), binder: { _, _, _ in
            { ctx in ctx.proxy.forceRport() }
        }),
    ]

    private static func setter(_ name: String, _ pv: MessagePV) -> FunctionSpec {
        FunctionSpec(name, args: [.string], routes: routes, binder: { _, _, args in
            let value = args.value(0)
            return { ctx in
                let v = value(&ctx)
                guard !v.isNull else { return -1 }
                return ctx.message.set(pv, value: .string(v.stringValue)) ? 1 : -1
            }
        })
    }

    private static func portSetter(_ name: String) -> FunctionSpec {
        FunctionSpec(name, args: [.string], routes: routes, binder: { _, _, args in
            let value = args.value(0)
            return { ctx in
                let text = value(&ctx).stringValue
                // An empty port removes it, as OpenSIPS does.
                if text.isEmpty { return ctx.message.set(.requestPort, value: .null) ? 1 : -1 }
                guard let port = Int(text), port > 0, port < 65536 else { return -1 }
                return ctx.message.set(.requestPort, value: .int(port)) ? 1 : -1
            }
        })
    }

    private static func hostPortSetter(_ name: String) -> FunctionSpec {
        FunctionSpec(name, args: [.string], routes: routes, binder: { _, _, args in
            let value = args.value(0)
            return { ctx in
                guard let (host, port) = splitHostPort(value(&ctx).stringValue) else { return -1 }
                guard ctx.message.set(.requestDomain, value: .string(host)) else { return -1 }
                return ctx.message.set(.requestPort, value: port.map { .int($0) } ?? .null) ? 1 : -1
            }
        })
    }

    private static func userPassSetter(_ name: String) -> FunctionSpec {
        FunctionSpec(name, args: [.string], routes: routes, binder: { _, _, args in
            let value = args.value(0)
            return { ctx in
                let uri = ctx.message.get(.requestURI, name: nil, index: nil).stringValue
                guard let changed = replacingUserInfo(in: uri, with: value(&ctx).stringValue) else { return -1 }
                return ctx.message.set(.requestURI, value: .string(changed)) ? 1 : -1
            }
        })
    }

    /// A function that rewrites the Request-URI user from its current value and one argument.
    private static func userEdit(_ name: String, _ kind: ArgKind,
                                 _ edit: @escaping @Sendable (String, ScriptValue) -> String?) -> FunctionSpec {
        FunctionSpec(name, args: [kind], routes: routes, binder: { _, _, args in
            let value = args.value(0)
            return { ctx in
                let current = ctx.message.get(.requestUser, name: nil, index: nil)
                let user = current.isNull ? "" : current.stringValue
                guard let edited = edit(user, value(&ctx)) else { return -1 }
                return ctx.message.set(.requestUser, value: edited.isEmpty ? .null : .string(edited)) ? 1 : -1
            }
        })
    }

    /// `host[:port]`, `[v6]:port` or `[v6]`: the host and the port (nil when absent); nil if malformed.
    static func splitHostPort(_ text: String) -> (String, Int?)? {
        guard !text.isEmpty else { return nil }
        var host = Substring(text), portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[...close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty else { return nil }
        guard let portText else { return (String(host), nil) }
        guard let port = Int(portText), port > 0, port < 65536 else { return nil }
        return (String(host), port)
    }

    /// `uri` with its `user[:password]` part replaced by `userInfo` (removed when empty); nil when the
    /// text has no `scheme:`.
    static func replacingUserInfo(in uri: String, with userInfo: String) -> String? {
        guard let colon = uri.firstIndex(of: ":") else { return nil }
        let scheme = uri[...colon]
        let rest = uri[uri.index(after: colon)...]
        // The user part ends at the last '@' before any parameters or headers.
        let end = rest.firstIndex { $0 == ";" || $0 == "?" } ?? rest.endIndex
        let hostPart = rest[..<end].lastIndex(of: "@").map { rest[rest.index(after: $0)...] } ?? rest
        return userInfo.isEmpty ? String(scheme + hostPart) : String(scheme) + userInfo + "@" + String(hostPart)
    }
}
