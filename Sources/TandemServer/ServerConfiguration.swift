import Reactor
import SIPTransaction
import HTTPDriver
import TandemAsync
import TandemProxy
import TandemScript

/// Turns a checked script's global parameters and module parameters into the proxy's settings,
/// with a `file:line:col` diagnostic for every value Tandem cannot honour.
public enum ServerConfiguration {
    /// Default listen address when the script names none.
    public static let defaultSocket = "udp:127.0.0.1:5060"

    /// Proxy settings for `config`, or the diagnostics explaining why there are none.
    public static func settings(for config: ScriptConfig, file: String) -> (ProxySettings?, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var listen: [SocketAddress] = []
        var tcpListen: [SocketAddress] = []
        var tlsListen: [SocketAddress] = []
        for param in config.globals where param.name == "socket" || param.name == "listen" {
            let text = param.value.plainText
            guard let socket = ScriptSocket.parse(text) else {
                diagnostics.append(Diagnostic(param.location, "\(param.name): cannot parse '\(text)' (expected udp:IP:PORT, tcp:IP:PORT or tls:IP:PORT)"))
                continue
            }
            if socket.proto == "tls" && !(config.isLoaded("proto_tls") && config.isLoaded("tls_mgm")) {
                diagnostics.append(Diagnostic(param.location,
                    "\(param.name): a tls socket needs loadmodule \"proto_tls.so\" and \"tls_mgm.so\" (with a certificate and private key), as in OpenSIPS"))
                continue
            }
            guard socket.proto == "udp" || socket.proto == "tcp" || socket.proto == "tls" else {
                diagnostics.append(Diagnostic(param.location,
                    "\(param.name): '\(socket.proto)' sockets are not supported yet (only udp, tcp and tls)"))
                continue
            }
            if socket.advertised != nil {
                diagnostics.append(Diagnostic(param.location, "\(param.name): 'as' advertised addresses are not supported yet"))
                continue
            }
            guard let address = SocketAddress(ip: socket.host, port: UInt16(socket.port)) else {
                diagnostics.append(Diagnostic(param.location,
                    "\(param.name): '\(socket.host)' is not an IP address (listen on an explicit IPv4 or IPv6 address)"))
                continue
            }
            if address.ip == "0.0.0.0" || address.ip == "::" {
                diagnostics.append(Diagnostic(param.location,
                    "\(param.name): the wildcard address cannot be put in Via/Record-Route; listen on an explicit address"))
                continue
            }
            if socket.proto == "tcp" {
                if !tcpListen.contains(address) { tcpListen.append(address) }
            } else if socket.proto == "tls" {
                if !tlsListen.contains(address) { tlsListen.append(address) }
            } else {
                listen.append(address)
            }
        }
        // The proxy sends UDP from a UDP socket: a script with only TCP sockets still gets the default one.
        if listen.isEmpty && diagnostics.isEmpty {
            listen.append(SocketAddress(ip: "127.0.0.1", port: 5060)!)
        }
        var t1: Int64 = 500, t2: Int64 = 4000, t4: Int64 = 5000, timerC: Int64 = 180_000
        var finalResponseTimeout: Int64?
        for decl in config.modparams where decl.module == "tm" {
            switch decl.param {
            case "T1_timer", "timer_t1":
                guard let v = decl.value.intValue, v > 0 else {
                    diagnostics.append(Diagnostic(decl.location, "tm \(decl.param) must be a positive number of milliseconds"))
                    continue
                }
                t1 = Int64(v)
            case "T2_timer", "timer_t2":
                guard let v = decl.value.intValue, v > 0 else {
                    diagnostics.append(Diagnostic(decl.location, "tm \(decl.param) must be a positive number of milliseconds"))
                    continue
                }
                t2 = Int64(v)
            case "T4_timer":
                guard let v = decl.value.intValue, v > 0 else {
                    diagnostics.append(Diagnostic(decl.location, "tm \(decl.param) must be a positive number of milliseconds"))
                    continue
                }
                t4 = Int64(v)
            case "fr_inv_timeout":
                guard let v = decl.value.intValue, v > 0 else {
                    diagnostics.append(Diagnostic(decl.location, "tm fr_inv_timeout must be a positive number of seconds"))
                    continue
                }
                timerC = Int64(v) * 1000
            case "fr_timeout":
                // Timers B and F: a branch with no reply at all ends with a 408 after this many seconds.
                guard let v = decl.value.intValue, v > 0 else {
                    diagnostics.append(Diagnostic(decl.location, "tm fr_timeout must be a positive number of seconds"))
                    continue
                }
                finalResponseTimeout = Int64(v) * 1000
            default:
                break
            }
        }
        var socketLayout = UDPSocketLayout.shared
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "udp_sockets" }) {
            if let layout = UDPSocketLayout(rawValue: decl.value.plainText) {
                socketLayout = layout
            } else {
                diagnostics.append(Diagnostic(decl.location,
                    "tandem udp_sockets must be \"shared\" (one socket all workers read) or \"per_worker\" (SO_REUSEPORT, peers hashed to workers), not '\(decl.value.plainText)'"))
            }
        }
        var bounds: [String: Int] = ["max_transactions": ProxySettings.defaultMaxTransactions,
                                     "max_suspended": ProxySettings.defaultMaxSuspended, "overload_retry_after": 5]
        for decl in config.modparams where decl.module == "tandem" && bounds[decl.param] != nil {
            guard let v = decl.value.intValue, v >= 0 else {
                diagnostics.append(Diagnostic(decl.location, "tandem \(decl.param) must be a non-negative number (0: no bound)"))
                continue
            }
            bounds[decl.param] = v
        }
        let (registrar, registrarDiagnostics) = registrarSettings(for: config)
        diagnostics += registrarDiagnostics
        let (stream, streamDiagnostics) = streamSettings(for: config)
        diagnostics += streamDiagnostics
        guard diagnostics.isEmpty else { return (nil, diagnostics) }
        let settings = ProxySettings(
            listen: listen,
            workers: config.udpWorkers,
            timers: TimerSettings(t1: t1, t2: t2, t4: t4, timerC: timerC,
                                  finalResponseTimeout: finalResponseTimeout),
            aliases: config.aliases,
            socketLayout: socketLayout,
            maxTransactions: bounds["max_transactions"]!,
            maxSuspended: bounds["max_suspended"]!,
            overloadRetryAfter: bounds["overload_retry_after"]!,
            registrar: registrar)
        var withStreams = settings
        withStreams.tcpListen = tcpListen
        withStreams.tlsListen = tlsListen
        withStreams.stream = stream
        return (withStreams, [])
    }
}

extension ServerConfiguration {
    /// Global parameters Tandem acts on; the other known ones are accepted for compatibility.
    static let honouredGlobals: Set<String> = Set([
        "log_level", "udp_workers", "children", "socket", "listen", "alias", "async_timeout", "max_while_loops",
        "tcp_max_msg_size", "tcp_max_msg_time", "tcp_connection_lifetime", "tcp_connect_timeout", "tcp_max_connections",
        "udp_mtu", "tcp_accept_aliases", "xlog_level", "xlog_print_level", "xlog_default_level", "db_max_async_connections",
        // Tandem always logs to stderr.
        "log_stderror", "stderror_enabled",
    ]).union(dnsGlobals)
    /// Module parameters Tandem acts on, by module.
    static let honouredModparams: [String: Set<String>] = [
        "tm": ["T1_timer", "timer_t1", "T2_timer", "timer_t2", "T4_timer", "fr_timeout", "fr_inv_timeout"],
        "tandem": ["offload_limit", "offload_queue", "async_mode", "db_pool_size", "db_pipeline_depth", "db_queue",
                   "db_pool_min_size", "db_pool_idle_timeout", "db_prepared_statements",
                   "http_queue", "http_max_host_connections", "log_format", "drain_time", "udp_sockets", "max_transactions", "max_suspended",
                   "http_version", "http_max_streams", "overload_retry_after", "ldap_max_connections", "ldap_max_searches_per_connection"],
        "rr": ["enable_double_rr"],
        "sqlops": ["db_url"], "avpops": ["db_url"], "dbops": ["db_url"], "cachedb_mongodb": ["cachedb_url"],
        "ldap": ["config_file"],
        "auth": ["secret", "nonce_expire", "password_spec", "calculate_ha1"],
        "auth_db": ["db_url", "calculate_ha1", "use_domain", "user_column", "domain_column", "password_column",
                    "hash_column_sha256"],
        "registrar": ["default_expires", "min_expires", "max_expires", "max_contacts", "received_avp", "received_param"],
        "nathelper": ["received_avp"],
        "usrloc": Set(["use_domain", "working_mode_preset", "db_mode", "db_url", "timer_interval", "cluster_mode"])
            .union(ServerConfiguration.usrlocColumns.keys),
        "httpd": ["ip", "port"], "prometheus": ["root"],
        "rest_client": ["connection_timeout", "curl_timeout", "ssl_verifypeer", "ssl_verifyhost",
                        "max_transfer_size", "max_async_transfers"],
    ]

    /// rest_client's settings: `connection_timeout`/`curl_timeout` (s), `ssl_verifypeer`/`ssl_verifyhost`
    /// (0/1), `max_transfer_size` (KB), `max_async_transfers`; and Tandem's `http_queue` and
    /// `http_max_host_connections` (rest_client has no per-host connection cap).
    public static func httpSettings(for config: ScriptConfig) -> (HTTPDriverSettings?, [Diagnostic]) {
        var settings = HTTPDriverSettings()
        var diagnostics: [Diagnostic] = []
        for decl in config.modparams where decl.module == "rest_client" {
            guard let value = decl.value.intValue, value >= 0 else {
                if honouredModparams["rest_client"]?.contains(decl.param) == true {
                    diagnostics.append(Diagnostic(decl.location, "rest_client \(decl.param) must be a non-negative number"))
                }
                continue
            }
            switch decl.param {
            case "connection_timeout": settings.connectTimeoutMs = UInt64(max(1, value)) * 1000
            case "curl_timeout": settings.totalTimeoutMs = UInt64(max(1, value)) * 1000
            case "ssl_verifypeer": settings.verifyPeer = value != 0
            case "ssl_verifyhost": settings.verifyHost = value != 0
            case "max_transfer_size": settings.maxResponseBytes = max(1, value) * 1024
            case "max_async_transfers": settings.maxAsyncTransfers = max(1, value)
            default: break
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "http_queue" }) {
            if let value = decl.value.intValue, (0...100_000).contains(value) {
                settings.maxPendingTransfers = value
            } else {
                diagnostics.append(Diagnostic(decl.location, "tandem http_queue must be a number from 0 to 100000"))
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "http_max_host_connections" }) {
            if let value = decl.value.intValue, (0...100_000).contains(value) {
                settings.maxHostConnections = value
            } else {
                diagnostics.append(Diagnostic(decl.location,
                    "tandem http_max_host_connections must be a number from 0 (unlimited) to 100000"))
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "http_version" }) {
            if let version = HTTPVersion(rawValue: decl.value.plainText) {
                settings.httpVersion = version
            } else {
                diagnostics.append(Diagnostic(decl.location,
                    "tandem http_version must be \"1.1\", \"2tls\" (HTTP/2 when a TLS server offers it) or \"h2c\" (HTTP/2 with prior knowledge), not '\(decl.value.plainText)'"))
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "http_max_streams" }) {
            if let value = decl.value.intValue, (1...100_000).contains(value) {
                settings.maxConcurrentStreams = value
            } else {
                diagnostics.append(Diagnostic(decl.location, "tandem http_max_streams must be a number from 1 to 100000"))
            }
        }
        return diagnostics.isEmpty ? (settings, []) : (nil, diagnostics)
    }

    /// A warning for every parameter that is accepted but has no effect, so that an operator knows.
    public static func ignoredParameters(in config: ScriptConfig) -> [Diagnostic] {
        var warnings: [Diagnostic] = []
        for param in config.globals where !honouredGlobals.contains(param.name) {
            warnings.append(Diagnostic(param.location,
                "global parameter '\(param.name)' is accepted for compatibility but has no effect in Tandem",
                severity: .warning))
        }
        for decl in config.modparams where !(honouredModparams[decl.module]?.contains(decl.param) ?? false) {
            warnings.append(Diagnostic(decl.location,
                "modparam \(decl.module).\(decl.param) is accepted for compatibility but has no effect in Tandem",
                severity: .warning))
        }
        return warnings
    }

    /// Offload jobs that can run at once in a process: the lanes' Dispatch pool (libdispatch's overcommit pool
    /// of one QoS) starts at most this many threads.
    public static let dispatchThreadCap = 255

    /// A warning when the `offload_limit` values (with MongoDB's default) add up to more than
    /// ``dispatchThreadCap``: the lanes then run fewer jobs at once than their limits allow.
    public static func offloadWarnings(for engine: AsyncEngineConfiguration, config: ScriptConfig) -> [Diagnostic] {
        let sum = engine.offload.limits.values.values.reduce(0, +)
        guard sum > dispatchThreadCap,
              let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "offload_limit" }) else {
            return []
        }
        return [Diagnostic(decl.location,
            "tandem offload_limit: the limits add up to \(sum), but the offload lanes share one Dispatch pool of at most \(dispatchThreadCap) threads: no more than \(dispatchThreadCap) offload jobs run at once",
            severity: .warning)]
    }

    /// Seconds a graceful shutdown waits for transactions to finish when the script does not say.
    public static let defaultDrainTime = 30

    /// The longest a graceful shutdown (SIGTERM/SIGINT) drains: `modparam("tandem", "drain_time", SECONDS)`,
    /// 0 to 86400, default 30. 0 stops without waiting.
    public static func drainTime(for config: ScriptConfig) -> (Int?, [Diagnostic]) {
        guard let decl = config.modparams.last(where: { $0.module == "tandem" && $0.param == "drain_time" }) else {
            return (defaultDrainTime, [])
        }
        guard let seconds = decl.value.intValue, (0...86_400).contains(seconds) else {
            return (nil, [Diagnostic(decl.location, "tandem drain_time must be a number of seconds from 0 to 86400")])
        }
        return (seconds, [])
    }

    /// MongoDB operations running at once when `offload_limit` does not say (libmongoc can only block).
    public static let defaultMongoLimit = 8

    /// The async engine's settings: `async_timeout` (seconds, default 30), and
    /// `modparam("tandem", "offload_limit" | "offload_queue" | "async_mode", "driver=value;…")`.
    public static func asyncEngine(for config: ScriptConfig) -> (AsyncEngineConfiguration?, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var configuration = AsyncEngineConfiguration()
        if let timeout = config.asyncTimeout {
            configuration.defaultTimeoutMs = UInt64(max(1, timeout)) * 1000
        }
        for decl in config.modparams where decl.module == "tandem" {
            let text = decl.value.plainText
            switch decl.param {
            case "offload_limit", "offload_queue":
                do {
                    let limits = try OffloadLimits.parse(text, knownDrivers: AsyncBindings.knownDrivers,
                                                         minimum: decl.param == "offload_limit" ? 1 : 0)
                    if decl.param == "offload_limit" {
                        configuration.offload.limits = limits
                    } else {
                        configuration.offload.queueBounds = limits
                    }
                } catch {
                    diagnostics.append(Diagnostic(decl.location, "tandem \(decl.param): \(error)"))
                }
            case "async_mode":
                for entry in text.split(separator: ";") where !entry.isEmpty {
                    let parts = entry.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
                    guard parts.count == 2, AsyncBindings.knownDrivers.contains(parts[0]),
                          let mode = AsyncMode(rawValue: parts[1]) else {
                        diagnostics.append(Diagnostic(decl.location,
                            "tandem async_mode: '\(entry)' must be DRIVER=native|offload|sync with DRIVER one of \(AsyncBindings.knownDrivers.joined(separator: ", "))"))
                        continue
                    }
                    configuration.modes[parts[0]] = mode
                }
            default:
                break
            }
        }
        if configuration.offload.limits["mongodb"] == nil {
            configuration.offload.limits.values["mongodb"] = defaultMongoLimit
        }
        return diagnostics.isEmpty ? (configuration, []) : (nil, diagnostics)
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

extension ConfigValue {
    /// The value as written, without quotes.
    var plainText: String {
        switch self {
        case .int(let v): String(v)
        case .string(let s), .word(let s): s
        }
    }

    var intValue: Int? {
        switch self {
        case .int(let v): v
        case .string(let s), .word(let s): Int(s)
        }
    }
}

extension ServerConfiguration {
    /// The TCP parameters: `tcp_max_msg_size` (bytes), `tcp_max_msg_time` (s), `tcp_connection_lifetime`
    /// (s), `tcp_connect_timeout` (ms), `tcp_max_connections`, `udp_mtu` (bytes), and `modparam("rr", "enable_double_rr", 0|1)`.
    static func streamSettings(for config: ScriptConfig) -> (StreamSettings, [Diagnostic]) {
        var settings = StreamSettings()
        var diagnostics: [Diagnostic] = []
        let ranges: [String: ClosedRange<Int>] = [
            "tcp_max_msg_size": 1_024...16_777_216, "tcp_max_msg_time": 1...3_600,
            "tcp_connection_lifetime": 1...86_400 * 7, "tcp_connect_timeout": 10...600_000,
            "tcp_max_connections": 1...1_000_000, "udp_mtu": 0...65_535,
        ]
        for param in config.globals {
            guard let range = ranges[param.name] else { continue }
            guard let value = param.value.intValue, range.contains(value) else {
                diagnostics.append(Diagnostic(param.location,
                    "\(param.name) must be a number from \(range.lowerBound) to \(range.upperBound)"))
                continue
            }
            switch param.name {
            case "tcp_max_msg_size": settings.maxMessageSize = value
            case "tcp_max_msg_time": settings.messageTimeout = value
            case "tcp_connection_lifetime": settings.connectionLifetime = value
            case "tcp_connect_timeout": settings.connectTimeoutMs = value
            case "tcp_max_connections": settings.maxConnections = value
            case "udp_mtu": settings.udpMTU = value
            default: break
            }
        }
        if let param = config.globals.last(where: { $0.name == "tcp_accept_aliases" }) {
            let text = param.value.plainText.lowercased()
            settings.acceptAliases = ["1", "yes", "on", "true"].contains(text)
            if !settings.acceptAliases && !["0", "no", "off", "false"].contains(text) {
                diagnostics.append(Diagnostic(param.location, "tcp_accept_aliases must be yes or no"))
            }
        }
        if let decl = config.modparams.last(where: { $0.module == "rr" && $0.param == "enable_double_rr" }) {
            if let value = decl.value.intValue, value == 0 || value == 1 {
                settings.doubleRecordRoute = value == 1
            } else {
                diagnostics.append(Diagnostic(decl.location, "rr enable_double_rr must be 0 or 1"))
            }
        }
        return (settings, diagnostics)
    }
}
