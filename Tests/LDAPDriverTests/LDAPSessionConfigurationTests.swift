import LDAPDriver
import Testing

@Suite struct LDAPSessionConfigurationTests {
    @Test func parametersAndHostPinning() throws {
        let session = try LDAPSessionConfiguration(name: "a", parameters: [
            ("ldap_server_url", "ldap://localhost:3890"), ("ldap_bind_dn", "cn=admin,dc=x"),
            ("ldap_bind_password", "pw"), ("ldap_network_timeout", "250"), ("ldap_client_bind_timeout", "400"),
        ])
        #expect(session.connectURL == "ldap://127.0.0.1:3890")
        #expect(session.bindDN == "cn=admin,dc=x" && session.bindPassword == "pw")
        #expect(session.networkTimeoutMs == 250 && session.bindTimeoutMs == 400)
        #expect(try LDAPSessionConfiguration(name: "b", serverURL: "ldap://10.1.2.3").connectURL == "ldap://10.1.2.3:389")
        #expect(try LDAPSessionConfiguration(name: "c", serverURL: "ldap://[::1]:1389/").connectURL == "ldap://[::1]:1389")
    }

    @Test func badParametersThrow() {
        #expect(throws: LDAPError.self) { try LDAPSessionConfiguration(name: "a", parameters: []) }
        #expect(throws: LDAPError.self) { try LDAPSessionConfiguration(name: "a", parameters: [("ldap_server_url", "ldaps://x")]) }
        #expect(throws: LDAPError.self) {
            try LDAPSessionConfiguration(name: "a", parameters: [("ldap_server_url", "ldap://127.0.0.1"), ("bogus", "1")])
        }
        #expect(throws: LDAPError.self) {
            try LDAPSessionConfiguration(name: "a", parameters: [("ldap_server_url", "ldap://127.0.0.1"), ("ldap_network_timeout", "x")])
        }
        #expect(throws: LDAPError.self) { try LDAPSessionConfiguration(name: "a", serverURL: "ldap://127.0.0.1:99999") }
    }

    @Test func configFile() throws {
        let text = """
        # OpenSIPS ldap.cfg
        [sipaccounts]
        ldap_server_url = "ldap://127.0.0.1:3890"
        ldap_bind_dn = "cn=admin,dc=example,dc=com"
        ldap_bind_password = secret

        [other]
        ldap_server_url = ldap://127.0.0.2
        ldap_network_timeout = 300
        """
        let sessions = try LDAPSessionConfiguration.parseConfigFile(text)
        #expect(sessions.map(\.name) == ["sipaccounts", "other"])
        #expect(sessions[0].bindPassword == "secret" && sessions[0].bindDN == "cn=admin,dc=example,dc=com")
        #expect(sessions[1].networkTimeoutMs == 300 && sessions[1].bindDN == "")
        #expect(throws: LDAPError.self) { try LDAPSessionConfiguration.parseConfigFile("ldap_server_url = x") }
        #expect(throws: LDAPError.self) { try LDAPSessionConfiguration.parseConfigFile("[a]\nldap_server_url = ldap://h\n[a]\nldap_server_url = ldap://h") }
    }
}
