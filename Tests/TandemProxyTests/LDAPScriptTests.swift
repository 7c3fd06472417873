import Foundation
import Glibc
import SIPCore
import Testing
@testable import TandemProxy
import TandemTestSupport

/// Where scripts/test.sh started slapd, if it did.
enum TestLDAP {
    static var url: String? { TestEnvironment.ldapURL }
    static var bindDN: String { TestEnvironment.value("TANDEM_TEST_LDAP_BIND_DN") ?? "" }
    static var bindPassword: String { TestEnvironment.value("TANDEM_TEST_LDAP_BIND_PW") ?? "" }

    /// An OpenSIPS-style ldap.cfg with one session, `people`.
    static func configFile() throws -> String {
        let path = NSTemporaryDirectory() + "tandem-ldap-\(getpid()).cfg"
        try """
            [people]
            ldap_server_url = "\(url ?? "")"
            ldap_bind_dn = "\(bindDN)"
            ldap_bind_password = "\(bindPassword)"
            ldap_network_timeout = 1000
            ldap_client_bind_timeout = 1000
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// ldap_search / ldap_result against the real slapd that scripts/test.sh starts.
@Suite(.serialized, .enabled(if: TestLDAP.url != nil, "TANDEM_TEST_LDAP_URL not set (start with scripts/test.sh)"))
struct LDAPScriptTests {
    func ask(_ proxy: ScriptedProxy, user: String, id: String) throws -> String? {
        let client = try SIPTestClient(proxyPort: proxy.port)
        var text = String(decoding: client.request("INVITE", branch: "z9hG4bK-ldap-\(id)", callID: "ldap-\(id)"),
                          as: UTF8.self)
        text = text.replacingOccurrences(of: "Contact:", with: "X-User: \(user)\r\nContact:")
        try client.send(Array(text.utf8))
        return client.waitFor(timeout: 5) { $0 >= 200 }.match?.reasonPhrase
    }

    @Test("async ldap_search then ldap_result: values stack; no entry -1; an escaped filter value cannot widen the search")
    func searchAndResult() throws {
        let proxy = try ScriptedProxy(routes: """
            route {
                async(ldap_search("ldap://people/ou=people,dc=example,dc=com?telephoneNumber?sub?(uid=$hdr(X-User))"), found);
            }
            route[found] {
                $var(n) = $rc;
                if ($rc > 0) { ldap_result("telephoneNumber/$avp(tel)"); }
                t_reply(299, "n=$var(n) tel=$avp(tel)[0],$avp(tel)[1]");
            }
            """, globals: """
            loadmodule "ldap.so"
            modparam("ldap", "config_file", "\(try TestLDAP.configFile())")
            """)
        #expect(try ask(proxy, user: "alice", id: "1") == "n=1 tel=1001,<null>")
        let carol = try ask(proxy, user: "carol", id: "2")
        #expect(carol == "n=1 tel=1004,1003" || carol == "n=1 tel=1003,1004", "\(carol ?? "")")
        #expect(try ask(proxy, user: "nobody", id: "3") == "n=-1 tel=<null>,<null>")
        #expect(try ask(proxy, user: "*)(uid=*", id: "4") == "n=-1 tel=<null>,<null>")
    }
}
