import Foundation
import Glibc
import HTTPDriver
import SIPCore
import TandemScript
import TandemServer
import Testing
@testable import TandemProxy
import TandemTestSupport

/// Where scripts/test.sh started the HTTP echo server, if it did.
enum TestHTTP {
    static var url: String? { TestEnvironment.httpURL }
}

/// rest_get / rest_post / rest_put against the real HTTP echo server that scripts/test.sh starts.
@Suite(.serialized, .enabled(if: TestHTTP.url != nil, "TANDEM_TEST_HTTP_URL not set (start with scripts/test.sh)"))
struct HTTPScriptTests {
    static var base: String { (TestHTTP.url ?? "").hasSuffix("/") ? String((TestHTTP.url ?? "").dropLast()) : TestHTTP.url ?? "" }

    static let globals = """
        loadmodule "rest_client.so"
        loadmodule "cfgutils.so"
        modparam("rest_client", "connection_timeout", 2)
        modparam("rest_client", "curl_timeout", 5)
        """

    func ask(_ proxy: ScriptedProxy, id: String) throws -> String? {
        let client = try SIPTestClient(proxyPort: proxy.port)
        try client.send(client.request("INVITE", branch: "z9hG4bK-http-\(id)", callID: "http-\(id)"))
        return client.waitFor(timeout: 8) { $0 >= 200 }.match?.reasonPhrase
    }

    @Test("modparam tandem http_max_host_connections: default 100, a number, 0 for unlimited, else an error")
    func hostConnectionCapParameter() {
        func http(_ line: String) -> (HTTPDriverSettings?, [Diagnostic]) {
            let result = ScriptChecker().check(source: Self.globals + "\n" + line + "\nroute { exit; }\n",
                                               fileName: "http.cfg")
            return ServerConfiguration.httpSettings(for: result.config)
        }
        #expect(http("").0?.maxHostConnections == 100)
        #expect(http(#"modparam("tandem", "http_max_host_connections", 8)"#).0?.maxHostConnections == 8)
        #expect(http(#"modparam("tandem", "http_max_host_connections", 0)"#).0?.maxHostConnections == 0)
        let bad = http(#"modparam("tandem", "http_max_host_connections", "many")"#)
        #expect(bad.0 == nil && bad.1.first?.message.contains("http_max_host_connections") == true)
        let loaded = TandemServer.load(source: Self.globals + "\n" + #"modparam("tandem", "http_max_host_connections", 8)"#
                                       + "\nroute { exit; }\n", fileName: "http.cfg")
        #expect(!loaded.diagnostics.contains { $0.message.contains("http_max_host_connections") },
                "honoured, not reported as ignored: \(loaded.diagnostics.map(\.description))")
    }

    @Test("modparam tandem http_version (1.1, 2tls default, h2c) and http_max_streams")
    func httpVersionParameters() {
        func http(_ line: String) -> (HTTPDriverSettings?, [Diagnostic]) {
            let result = ScriptChecker().check(source: Self.globals + "\n" + line + "\nroute { exit; }\n",
                                               fileName: "http.cfg")
            return ServerConfiguration.httpSettings(for: result.config)
        }
        #expect(http("").0?.httpVersion == .http2TLS)
        #expect(http("").0?.maxConcurrentStreams == 100)
        #expect(http(#"modparam("tandem", "http_version", "h2c")"#).0?.httpVersion == .http2PriorKnowledge)
        #expect(http(#"modparam("tandem", "http_version", "1.1")"#).0?.httpVersion == .http1_1)
        #expect(http(#"modparam("tandem", "http_max_streams", 32)"#).0?.maxConcurrentStreams == 32)
        let bad = http(#"modparam("tandem", "http_version", "3")"#)
        #expect(bad.0 == nil && bad.1.first?.message.contains("http_version") == true)
        #expect(http(#"modparam("tandem", "http_max_streams", 0)"#).0 == nil)
        let loaded = TandemServer.load(source: Self.globals + "\n" + #"modparam("tandem", "http_version", "h2c")"#
                                       + "\nroute { exit; }\n", fileName: "http.cfg")
        #expect(!loaded.diagnostics.contains { $0.message.contains("http_version") },
                "honoured, not reported as ignored: \(loaded.diagnostics.map(\.description))")
    }

    @Test("async rest_get and rest_post fill body, content type and code; an HTTP 404 is rc 1 with code 404")
    func getAndPost() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                async(rest_get("\(Self.base)/status/404", $var(b), $var(t), $var(c)), got);
            }
            route[got] {
                $var(first) = "rc=$rc code=$var(c)";
                async(rest_post("\(Self.base)/echo", "{\\"user\\": \\"$fU\\"}", "application/json", $var(b), $var(t), $var(c)), posted);
            }
            route[posted] {
                if ($var(b) =~ "alice") { $var(seen) = "body-echoed"; } else { $var(seen) = "no-echo"; }
                t_reply(299, "rc=$rc code=$var(c) ctype=$var(t) $var(seen)");
            }
            """, globals: Self.globals)
        let reason = try ask(proxy, id: "1")
        #expect(reason?.hasPrefix("rc=1 code=200 ctype=application/json") == true, "\(reason ?? "")")
        #expect(reason?.hasSuffix("body-echoed") == true, "\(reason ?? "")")
    }

    @Test("HTTP status, refused port, timeout and a synchronous call, with rest_client's return codes")
    func failuresAndSync() throws {
        let dead = Ports.free()
        let proxy = try ScriptedProxy(routes: """
            route {
                rest_get("\(Self.base)/status/404", $var(b), $var(t), $var(c));
                $avp(r404) = "$rc/$var(c)";
                rest_get("http://127.0.0.1:\(dead)/", $var(b2));
                $avp(refused) = $rc;
                async(rest_put("\(Self.base)/slow?delay_ms=3000", "x", "text/plain", $var(b3)), slow, 0.4);
            }
            route[slow] {
                t_reply(299, "404=$avp(r404) refused=$avp(refused) slow=$rc");
            }
            """, globals: Self.globals)
        let started = Date()
        let reason = try ask(proxy, id: "2")
        #expect(reason == "404=1/404 refused=-1 slow=-3", "\(reason ?? "nil")")
        #expect(Date().timeIntervalSince(started) < 3)
    }
}
