/// A listening socket from `socket=`/`listen=`.
public struct ScriptSocket: Sendable, Hashable {
    public var proto: String
    public var host: String
    public var port: Int
    /// `as host:port` advertised address, if any.
    public var advertised: String?

    /// Parses `udp:127.0.0.1:5060`, `udp:*:5060`, `127.0.0.1`, `udp:[::1]:5060 as 1.2.3.4:5060`.
    public static func parse(_ text: String) -> ScriptSocket? {
        var spec = Substring(text)
        var advertised: String?
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        if words.count == 3 && words[1] == "as" {
            advertised = String(words[2])
            spec = words[0]
        } else if words.count != 1 {
            return nil
        }
        var s = String(spec).trimmingSpaces()
        var proto = "udp"
        for p in ["udp", "tcp", "tls", "ws", "wss", "sctp", "hep_udp", "hep_tcp", "bin"] where s.hasPrefix(p + ":") {
            proto = p
            s = String(s.dropFirst(p.count + 1))
            break
        }
        var host = s
        var port = 5060
        if s.hasPrefix("[") {
            guard let close = s.firstIndex(of: "]") else { return nil }
            host = String(s[s.index(after: s.startIndex)..<close])
            let rest = s[s.index(after: close)...]
            if rest.hasPrefix(":") { guard let p = Int(rest.dropFirst()) else { return nil }; port = p }
            else if !rest.isEmpty { return nil }
        } else if let colon = s.lastIndex(of: ":") {
            host = String(s[..<colon])
            guard let p = Int(s[s.index(after: colon)...]) else { return nil }
            port = p
        }
        guard !host.isEmpty, port > 0, port < 65536 else { return nil }
        return ScriptSocket(proto: proto, host: host, port: port, advertised: advertised)
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// Everything user-visible that the script configures: core globals, sockets, workers, log level,
/// loaded modules and their parameters.
public struct ScriptConfig: Sendable {
    /// Global parameters in source order.
    public var globals: [GlobalParam] = []
    public var sockets: [ScriptSocket] = []
    public var aliases: [String] = []
    /// `log_level` (OpenSIPS numbering: -3 L_ALERT ... 4 L_DBG; default 2 = L_NOTICE).
    public var logLevel: Int = 2
    /// `xlog_level`: the verbosity of xlog() alone (OpenSIPS numbering); nil: xlog() follows `log_level`.
    public var xlogLevel: Int?
    /// `xlog_print_level` (older name `xlog_default_level`): the level of an xlog() given none; nil: L_ERR.
    public var xlogPrintLevel: Int?
    /// `udp_workers` / `children`.
    public var udpWorkers: Int = 8
    /// `tcp_workers` / `tcp_children`.
    public var tcpWorkers: Int = 8
    public var debugMode = false
    public var autoAliases = true
    public var dns = true
    public var reverseDNS = false
    public var mhomed = false
    public var disableTCP = false
    /// `async_timeout` as written in the script, if given.
    public var asyncTimeout: Int? = nil
    public var maxWhileLoops = 10_000
    public var mpath: String?
    /// Loaded module names (without `.so`), in order.
    public var modules: [String] = []
    /// Where each loaded module's `loadmodule` is (first one), for diagnostics about the module.
    public var moduleLocations: [String: SourceLocation] = [:]
    public var modparams: [ModParamDecl] = []

    public init() {}

    /// Last value given for a global parameter.
    public func global(_ name: String) -> ConfigValue? { globals.last { $0.name == name }?.value }

    /// Last value given for a module parameter.
    public func modparam(_ module: String, _ param: String) -> ConfigValue? {
        modparams.last { $0.module == module && $0.param == param }?.value
    }

    public func isLoaded(_ module: String) -> Bool { modules.contains(module) }

    /// tm `fr_timeout` in seconds (OpenSIPS default 30).
    public var frTimeout: Int { modparam("tm", "fr_timeout")?.intValue ?? 30 }
    /// tm `fr_inv_timeout` in seconds (OpenSIPS default 120).
    public var frInviteTimeout: Int { modparam("tm", "fr_inv_timeout")?.intValue ?? 120 }
    /// tm `T1_timer` in milliseconds (default 500).
    public var t1Milliseconds: Int { modparam("tm", "T1_timer")?.intValue ?? 500 }
    /// tm `T2_timer` in milliseconds (default 4000).
    public var t2Milliseconds: Int { modparam("tm", "T2_timer")?.intValue ?? 4000 }
}
