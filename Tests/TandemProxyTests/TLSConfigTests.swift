import TLSTransport
import TandemScript
import TandemServer
import Testing
import TandemTestSupport

/// OpenSIPS 3.6 tls_mgm / proto_tls modparams read into TLSConfiguration, checked as `tandem check` does.
struct TLSConfigTests {
    private func load(_ modparams: String, modules: String = #"""
        loadmodule "proto_tls.so"
        loadmodule "tls_mgm.so"
        loadmodule "tls_openssl.so"
        """#) -> TandemServer.Loaded {
        TandemServer.load(source: """
            socket = udp:127.0.0.1:\(Ports.free())
            loadmodule "tm.so"
            \(modules)
            \(modparams)
            route { t_relay(); }
            """, fileName: "tls.cfg")
    }

    private func errors(_ loaded: TandemServer.Loaded) -> [String] {
        loaded.diagnostics.filter { $0.severity == .error }.map(\.message)
    }

    @Test func defaultDomainsFromUnprefixedParameters() throws {
        let loaded = load("""
            modparam("tls_mgm", "certificate", "\(try TestCertificates.path("server.pem"))")
            modparam("tls_mgm", "private_key", "\(try TestCertificates.path("server.key"))")
            modparam("tls_mgm", "ca_list", "\(try TestCertificates.path("ca.pem"))")
            modparam("tls_mgm", "tls_method", "TLSv1_2-TLSv1_3")
            modparam("tls_mgm", "verify_cert", "1")
            modparam("tls_mgm", "require_cert", "0")
            modparam("proto_tls", "tls_handshake_timeout", 2500)
            """)
        #expect(errors(loaded).isEmpty, "\(loaded.diagnostics)")
        let tls = try #require(loaded.tls)
        #expect(loaded.server != nil)
        #expect(tls.handshakeTimeoutMs == 2500)
        let server = try #require(tls.serverDomain(local: "127.0.0.1:5061"))
        #expect(server.name == "default")
        #expect(server.settings.requireCertificate == false)
        #expect(server.settings.versions == .all)
        #expect(server.settings.handshakeTimeoutMs == 2500)
        let client = try #require(tls.clientDomain(remote: "192.0.2.1:5061"))
        #expect(client.name == "default" && client.settings.role == .client)
    }

    @Test func namedDomainsWithPrefixesAndMatching() throws {
        let loaded = load("""
            modparam("tls_mgm", "server_domain", "sv")
            modparam("tls_mgm", "match_ip_address", "[sv]127.0.0.1:5061")
            modparam("tls_mgm", "match_sip_domain", "[sv]sip.tandem.test")
            modparam("tls_mgm", "certificate", "[sv]\(try TestCertificates.path("server.pem"))")
            modparam("tls_mgm", "private_key", "[sv]\(try TestCertificates.path("server.key"))")
            modparam("tls_mgm", "ca_dir", "[sv]\(try TestCertificates.path("cadir"))")
            modparam("tls_mgm", "tls_method", "[sv]TLSv1_3")
            modparam("tls_mgm", "dh_params", "[sv]\(try TestCertificates.path("dh.pem"))")
            modparam("tls_mgm", "ec_curve", "[sv]prime256v1")
            modparam("tls_mgm", "client_domain", "trunk")
            modparam("tls_mgm", "match_ip_address", "[trunk]*")
            modparam("tls_mgm", "match_sip_domain", "[trunk]*.carrier.test")
            modparam("tls_mgm", "server_name", "[trunk]edge.carrier.test")
            modparam("tls_mgm", "verify_cert", "[trunk]0")
            modparam("tls_mgm", "ciphers_list", "[trunk]ECDHE-ECDSA-AES128-GCM-SHA256")
            """)
        #expect(errors(loaded).isEmpty, "\(loaded.diagnostics)")
        let tls = try #require(loaded.tls)
        #expect(tls.serverDomains.map(\.name) == ["sv"])  // no certificate without prefix: no default server
        let sv = try #require(tls.serverDomain(local: "127.0.0.1:5061", serverName: "sip.tandem.test"))
        #expect(sv.name == "sv" && sv.settings.versions == TLSVersionRange(minimum: .tls1_3, maximum: .tls1_3))
        #expect(tls.serverDomain(local: "127.0.0.1:5062") == nil)
        #expect(tls.clientDomains.map(\.name) == ["trunk"])  // it matches *: no implicit default
        let trunk = try #require(tls.clientDomain(remote: "192.0.2.9:5061", sipDomain: "pop1.carrier.test"))
        #expect(trunk.settings.serverName == "edge.carrier.test")
        #expect(trunk.settings.verifyCertificate == false)
        #expect(tls.domain(named: "trunk", role: .client) != nil)
    }

    @Test func serverDomainChosenBySNIDuringHandshake() throws {
        let loaded = load("""
            modparam("tls_mgm", "certificate", "\(try TestCertificates.path("server.pem"))")
            modparam("tls_mgm", "private_key", "\(try TestCertificates.path("server.key"))")
            modparam("tls_mgm", "require_cert", "0")
            modparam("tls_mgm", "server_domain", "alt")
            modparam("tls_mgm", "match_sip_domain", "[alt]*.alt.test")
            modparam("tls_mgm", "certificate", "[alt]\(try TestCertificates.path("client.pem"))")
            modparam("tls_mgm", "private_key", "[alt]\(try TestCertificates.path("client.key"))")
            modparam("tls_mgm", "require_cert", "[alt]0")
            modparam("tls_mgm", "ca_list", "[alt]\(try TestCertificates.path("ca.pem"))")
            """)
        #expect(errors(loaded).isEmpty, "\(loaded.diagnostics)")
        let tls = try #require(loaded.tls)
        let accepted = try #require(tls.serverDomain(local: "127.0.0.1:5061"))
        #expect(accepted.name == "default")
        var clientSettings = TLSContextConfiguration(role: .client)
        clientSettings.caListPath = try TestCertificates.path("ca.pem")
        clientSettings.serverName = "pbx.alt.test"
        let client = try TLSContext(clientSettings).makeSession()
        let server = try accepted.context.makeSession(peer: "client")
        for _ in 0..<10 where client.wantsWrite || server.wantsWrite {
            _ = try server.receive(ciphertext: client.takeOutput())
            _ = try client.receive(ciphertext: server.takeOutput())
        }
        #expect(client.state == .established && server.state == .established)
        #expect(client.peerCertificate?.subject.contains("client.tandem.test") == true)  // alt's certificate
    }

    @Test func missingFileNamesPathAndReason() throws {
        let loaded = load("""
            modparam("tls_mgm", "certificate", "/nonexistent/tandem/server.pem")
            modparam("tls_mgm", "private_key", "\(try TestCertificates.path("server.key"))")
            """)
        let error = try #require(loaded.diagnostics.first { $0.severity == .error })
        #expect(error.message.contains("/nonexistent/tandem/server.pem"))
        #expect(error.message.contains("No such file or directory"))
        #expect(error.line == 6)  // the certificate modparam's line
        #expect(loaded.server == nil && loaded.tls == nil)
    }

    @Test func keyNotMatchingCertificate() throws {
        let loaded = load("""
            modparam("tls_mgm", "certificate", "\(try TestCertificates.path("server.pem"))")
            modparam("tls_mgm", "private_key", "\(try TestCertificates.path("client.key"))")
            """)
        let errors = loaded.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1, "said once, not again for the default client domain: \(errors)")
        let error = try #require(errors.first)
        #expect(error.message.contains("does not match certificate"), "\(error.message)")
        #expect(error.line == 7)  // the private_key modparam's line
    }

    @Test func badValues() throws {
        let loaded = load("""
            modparam("tls_mgm", "server_domain", "a")
            modparam("tls_mgm", "certificate", "[nosuch]/x.pem")
            modparam("tls_mgm", "tls_method", "[a]TLSv1")
            modparam("tls_mgm", "verify_cert", "[a]maybe")
            modparam("tls_mgm", "match_ip_address", "[a]not-an-ip:5061")
            """)
        let messages = errors(loaded)
        #expect(messages.contains { $0.contains("TLS domain 'nosuch' is not defined") })
        #expect(messages.contains { $0.contains("TLS 1.0/1.1") })
        #expect(messages.contains { $0.contains("verify_cert must be 0 or 1") })
        #expect(messages.contains { $0.contains("not-an-ip:5061") })
        #expect(loaded.server == nil)
    }

    @Test func moduleDependencies() throws {
        let noMgm = load("", modules: #"loadmodule "proto_tls.so""#)
        #expect(errors(noMgm).contains { $0.contains("needs the tls_mgm module") })
        let noServer = load("")
        #expect(errors(noServer).contains { $0.contains("no TLS server domain") })
        let wolf = load("""
            modparam("tls_mgm", "certificate", "\(try TestCertificates.path("server.pem"))")
            modparam("tls_mgm", "private_key", "\(try TestCertificates.path("server.key"))")
            """, modules: #"""
            loadmodule "proto_tls.so"
            loadmodule "tls_mgm.so"
            loadmodule "tls_wolfssl.so"
            """#)
        #expect(errors(wolf).isEmpty, "\(wolf.diagnostics)")
        let noLibrary = load("""
            modparam("tls_mgm", "certificate", "\(try TestCertificates.path("server.pem"))")
            modparam("tls_mgm", "private_key", "\(try TestCertificates.path("server.key"))")
            """, modules: #"""
            loadmodule "proto_tls.so"
            loadmodule "tls_mgm.so"
            """#)
        #expect(errors(noLibrary).isEmpty)
        #expect(noLibrary.diagnostics.contains { $0.severity == .warning && $0.message.contains("tls_openssl.so") })
    }
}
