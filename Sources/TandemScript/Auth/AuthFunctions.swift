/// The `auth` module's functions: `www_challenge`/`proxy_challenge` (401/407 with signed nonces),
/// `pv_www_authorize`/`pv_proxy_authorize` (password from `password_spec`), `consume_credentials`.
/// The compiler appends the module's settings to every call (``hiddenArguments``): the password
/// pseudo-variable's value, `calculate_ha1`, `secret`, `nonce_expire`.
enum AuthFunctions {
    /// Functions that get the hidden settings arguments.
    static let names: Set<String> = ["www_challenge", "proxy_challenge", "pv_www_authorize", "pv_proxy_authorize"]
    /// How many arguments the compiler appends.
    static let hiddenArguments = 4
    /// Return codes of the authorize functions (OpenSIPS 3.6 auth).
    static let invalidUser = -1, invalidPassword = -2, staleNonce = -3, noCredentials = -4, genericError = -5

    private static let requestRoutes = RouteKindSet([.request])

    static let specs: [FunctionSpec] = [
        challengeSpec("www_challenge", proxy: false),
        challengeSpec("proxy_challenge", proxy: true),
        authorizeSpec("pv_www_authorize", proxy: false),
        authorizeSpec("pv_proxy_authorize", proxy: true),
        FunctionSpec("consume_credentials", modules: ["auth"], routes: requestRoutes, binder: { _, _, _ in
            { ctx in
                if ctx.message.isHeaderPresent(named: "Proxy-Authorization") {
                    return ctx.message.removeHeader(named: "Proxy-Authorization") > 0 ? 1 : -1
                }
                return ctx.message.removeHeader(named: "Authorization") > 0 ? 1 : -1
            }
        }),
    ]

    /// The module settings a call carries after its own arguments.
    struct Settings {
        let password: ScriptValue
        let calculateHA1: Bool
        let secret: String
        let nonceExpire: UInt64

        static func read(_ args: [BoundArg], declared: Int, _ ctx: inout ExecutionContext) -> Settings {
            let base = args.count - hiddenArguments
            return Settings(password: args.value(base)(&ctx), calculateHA1: (args.value(base + 1)(&ctx).intValue ?? 0) != 0,
                            secret: args.value(base + 2)(&ctx).stringValue,
                            nonceExpire: UInt64(max(1, args.value(base + 3)(&ctx).intValue ?? 30)))
        }
    }

    /// The realm: the argument, or the domain of To (REGISTER) / From (other requests).
    static func realm(_ given: String, _ ctx: inout ExecutionContext) -> String {
        if !given.isEmpty { return given }
        let pv: MessagePV = ctx.message.method == "REGISTER" ? .toDomain : .fromDomain
        return ctx.message.get(pv, name: nil, index: nil).stringValue
    }

    private static func challengeSpec(_ name: String, proxy: Bool) -> FunctionSpec {
        FunctionSpec(name, modules: ["auth"], args: [.string, .string, .string], min: 1, routes: requestRoutes,
                     binder: { _, _, args in
            let declared = args.count - hiddenArguments
            let realmArg = args.value(0), qopArg = args.value(1), algorithmsArg = args.value(2)
            return { ctx in
                let settings = Settings.read(args, declared: declared, &ctx)
                let realm = realm(realmArg(&ctx).stringValue, &ctx)
                var qop = declared > 1 ? qopArg(&ctx).stringValue : "auth"
                if qop == "1" { qop = "auth" } else if qop == "0" { qop = "" }
                var algorithms: [DigestAlgorithm] = []
                if declared > 2 {
                    for part in algorithmsArg(&ctx).stringValue.split(separator: ",") {
                        if let algorithm = DigestAlgorithm(name: String(part)) { algorithms.append(algorithm) }
                    }
                }
                if algorithms.isEmpty { algorithms = [.md5] }
                let now = DigestAuth.wallClockSeconds()
                // stale=true when the request's credentials for this realm carry our nonce, expired.
                let header = proxy ? "Proxy-Authorization" : "Authorization"
                let stale = ctx.message.credentials(header: header, realm: realm).map {
                    DigestAuth.checkNonce($0.nonce, secret: settings.secret, now: now) == .stale
                } ?? false
                var challenges: [(String, String)] = []
                for algorithm in algorithms {
                    let nonce = DigestAuth.makeNonce(secret: settings.secret, expires: now + settings.nonceExpire)
                    var value = "Digest realm=\"\(realm)\", nonce=\"\(nonce)\""
                    if !qop.isEmpty { value += ", qop=\"\(qop)\"" }
                    if stale { value += ", stale=true" }
                    value += ", algorithm=\(algorithm.rawValue)"
                    challenges.append((proxy ? "Proxy-Authenticate" : "WWW-Authenticate", value))
                }
                return ctx.proxy.sendReply(code: proxy ? 407 : 401,
                                           reason: proxy ? "Proxy Authentication Required" : "Unauthorized",
                                           headers: challenges)
            }
        })
    }

    private static func authorizeSpec(_ name: String, proxy: Bool) -> FunctionSpec {
        FunctionSpec(name, modules: ["auth"], args: [.string], routes: requestRoutes, binder: { _, _, args in
            let declared = args.count - hiddenArguments
            let realmArg = args.value(0)
            return { ctx in
                let settings = Settings.read(args, declared: declared, &ctx)
                return verify(proxy: proxy, realm: realm(realmArg(&ctx).stringValue, &ctx), password: settings.password,
                              calculateHA1: settings.calculateHA1, secret: settings.secret, &ctx)
            }
        })
    }

    /// The verdict on the request's credentials for `realm` given the stored `password` (plain with
    /// `calculateHA1`, else HA1; NULL: no such user): 1 or one of the negative codes above.
    static func verify(proxy: Bool, realm: String, password: ScriptValue, calculateHA1: Bool, secret: String,
                       _ ctx: inout ExecutionContext) -> Int {
        let header = proxy ? "Proxy-Authorization" : "Authorization"
        guard let credentials = ctx.message.credentials(header: header, realm: realm) else {
            return noCredentials
        }
        let now = DigestAuth.wallClockSeconds()
        switch DigestAuth.checkNonce(credentials.nonce, secret: secret, now: now) {
        case .valid: break
        case .stale: return staleNonce
        case .invalid: return genericError
        }
        guard !password.isNull else { return invalidUser }
        let ha1 = calculateHA1
            ? DigestAuth.ha1(credentials.algorithm, username: credentials.username, realm: realm,
                             password: password.stringValue)
            : password.stringValue.lowercased()
        let body = credentials.qop?.lowercased() == "auth-int"
            ? Array(ctx.message.get(.body, name: nil, index: nil).stringValue.utf8) : []
        let expected = DigestAuth.expectedResponse(credentials, ha1: ha1, method: ctx.message.method, body: body)
        guard DigestAuth.constantTimeEqual(expected, credentials.response) else { return invalidPassword }
        // A right answer seen before (same nonce, nc not higher) is a replay: treated as a stale nonce
        // (OpenSIPS's nonce reuse check), unless it is the same request again (a retransmission).
        let nc = credentials.qop.flatMap { _ in credentials.nc.flatMap { UInt64($0, radix: 16) } }
        let request = NonceCounters.requestIdentity(callID: ctx.message.get(.callID, name: nil, index: nil).stringValue,
                                                    cseq: ctx.message.get(.cseq, name: nil, index: nil).stringValue,
                                                    branch: ctx.message.transactionBranch ?? "")
        guard NonceCounters.shared.accept(nonce: credentials.nonce, nc: nc, request: request,
                                          expires: NonceCounters.expiry(of: credentials.nonce) ?? now,
                                          now: now) else { return staleNonce }
        return 1
    }
}
