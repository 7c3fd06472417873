import Logging
import TandemProxy
import TandemScript
import TandemServer
import TandemTestSupport

/// A Tandem server built from a routing script, on a free 127.0.0.1 port, for one test.
final class ScriptedProxy {
    let port: UInt16
    let server: TandemServer
    var core: ProxyCore { server.core }
    var address: String { "127.0.0.1:\(port)" }

    /// `body` is the script after the global section; `globals` are extra lines for it.
    /// `logger` receives the server's log lines (default: errors only, to the process's handler).
    /// `tcp`: also listen on `tcp:127.0.0.1:port` (the same port number).
    init(routes body: String, globals: String = "", workers: Int = 2, tcp: Bool = false, logger: Logger? = nil) throws {
        port = Ports.free()
        let source = """
            log_level = 1
            udp_workers = \(workers)
            socket = udp:127.0.0.1:\(port)
            \(tcp ? "socket = tcp:127.0.0.1:\(port)" : "")
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
