import Logging
import TandemProxy
import TandemScript
import TandemServer
import TandemTestSupport

/// A Tandem server built from a routing script, on a free 127.0.0.1 port, for one test.
final class ScriptedProxy {
    let port: UInt16
    /// The `tls:` socket's port (0 without TLS).
    let tlsPort: UInt16
    let server: TandemServer
    var core: ProxyCore { server.core }
    var address: String { "127.0.0.1:\(port)" }

    /// `body` is the script after the global section; `globals` are extra lines for it.
    /// `logger` receives the server's log lines (default: errors only, to the process's handler).
    /// `tcp`: also listen on `tcp:127.0.0.1:port` (the same port number).
    /// `tls`: the `tls_mgm` modparams; when given, also listens on `tls:127.0.0.1:tlsPort` with
    /// `proto_tls`, `tls_mgm` and `tls_openssl` loaded.
    init(routes body: String, globals: String = "", workers: Int = 2, tcp: Bool = false, tls: String? = nil,
         logger: Logger? = nil) throws {
        port = Ports.free()
        let tlsPort: UInt16 = tls == nil ? 0 : Ports.free()
        self.tlsPort = tlsPort
        let tlsLines = tls.map { modparams in
            """
            socket = tls:127.0.0.1:\(tlsPort)
            loadmodule "proto_tls.so"
            loadmodule "tls_mgm.so"
            loadmodule "tls_openssl.so"
            \(modparams)
            """
        } ?? ""
        let source = """
            log_level = 1
            udp_workers = \(workers)
            socket = udp:127.0.0.1:\(port)
            \(tcp ? "socket = tcp:127.0.0.1:\(port)" : "")
            \(tlsLines)
            loadmodule "tm.so"
            loadmodule "sl.so"
            loadmodule "rr.so"
            loadmodule "maxfwd.so"
            loadmodule "sipmsgops.so"
            \(globals)
            \(body)
            """
        var quiet = Logger(label: "test")
        quiet.logLevel = .error
        let loaded = TandemServer.load(source: source, fileName: "test.cfg", logger: logger ?? quiet)
        guard let server = loaded.server else {
            throw ScriptError(diagnostics: loaded.diagnostics.map(\.description))
        }
        self.server = server
        try server.start()
    }

    deinit { server.stop() }

    struct ScriptError: Error, CustomStringConvertible {
        let diagnostics: [String]
        var description: String { diagnostics.joined(separator: "\n") }
    }

    /// The routing logic of a plain record-routing stateful proxy.
    static let relayRoutes = """
        route {
            if (!mf_process_maxfwd_header(70)) { sl_send_reply(483, "Too Many Hops"); exit; }
            if (has_totag()) {
                if (loose_route()) { t_relay(); exit; }
                sl_send_reply(404, "Not Here");
                exit;
            }
            if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
            record_route();
            if (!t_relay()) { sl_send_reply(500, "Relay Failed"); }
        }
        """
}
