import Testing
@testable import TandemScript

@Suite struct ResidentialScriptTests {
    @Test func checksCleanExceptMissingFeatures() {
        let r = check(residentialScript, file: "residential.cfg")
        let unexpected = r.diagnostics.filter {
            !$0.message.hasSuffix("that Tandem does not support yet") && !$0.message.hasSuffix("is not available in Tandem")
        }
        #expect(unexpected.map(\.description) == [])
        // nathelper's basics are provided now: nothing of this script is missing.
        #expect(r.missing.map(\.description) == [])
    }

    /// With the missing features removed, the same script compiles and routes an INVITE.
    @Test func strippedScriptRuns() throws {
        var src = residentialScript
        for m in ["usrloc", "registrar", "auth", "auth_db", "nathelper"] {
            src = src.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.contains("\"\(m).so\"") && !$0.contains("modparam(\"\(m)\"") }
                .joined(separator: "\n")
        }
        let replacements = [
            ("!proxy_authorize(\"\", \"subscriber\")", "$var(noauth) != NULL"),
            ("proxy_challenge(\"\", \"auth\");", "sl_send_reply(407, \"Proxy Authentication Required\");"),
            ("consume_credentials();", "remove_hf(\"Proxy-Authorization\");"),
            ("!www_authorize(\"\", \"subscriber\")", "$var(noauth) != NULL"),
            ("www_challenge(\"\", \"auth\");", "sl_send_reply(401, \"Unauthorized\");"),
            ("nat_uac_test(19)", "is_present_hf(\"X-Behind-NAT\")"),
            ("fix_nated_register();", "xlog(\"nat\");"),
            ("!save(\"location\")", "$var(saved) == NULL"),
            ("!lookup(\"location\")", "$var(found) != NULL"),
            ("nat_uac_test(1)", "is_present_hf(\"X-Behind-NAT\")"),
            ("fix_nated_contact();", "xlog(\"nat\");"),
            ("t_was_cancelled()", "$var(cancelled) != NULL"),
        ]
        for (a, b) in replacements { src = src.replacingAll(a, with: b) }
        let r = check(src, file: "stripped.cfg")
        #expect(r.diagnostics.map(\.description) == [])
        let script = try #require(r.script)
        let msg = TestMessage(method: "INVITE", ruri: "sip:100@127.0.0.1")
        msg.values[.requestUser] = .string("100")
        msg.values[.fromDomain] = .string("example.com")
        let proxy = TestProxy()
        var ctx = ExecutionContext(script: script, message: msg, proxy: proxy)
        #expect(script.run(route: script.mainRoute, context: &ctx).name == "exited")
        #expect(proxy.calls == ["t_check_trans", "record_route", "t_on_branch", "t_on_reply", "t_on_failure", "t_relay 0 -"])
        #expect(msg.headers.first { $0.name == "Max-Forwards" }?.value == "69")
        #expect(script.config.sockets.first?.port == 5060)
        #expect(script.config.udpWorkers == 4)
        #expect(script.timerRoutes.map(\.interval) == [300])
    }
}

extension String {
    func replacingAll(_ a: String, with b: String) -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: a) {
            out += rest[..<r.lowerBound]
            out += b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
