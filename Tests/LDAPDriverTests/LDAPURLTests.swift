import LDAPDriver
import Testing

@Suite struct LDAPURLTests {
    @Test func fullURL() throws {
        let url = try LDAPURL.parse("ldap://accounts/ou=people,dc=example,dc=com?telephoneNumber,mail?sub?(uid=alice)")
        #expect(url.session == "accounts")
        #expect(url.base == "ou=people,dc=example,dc=com")
        #expect(url.attributes == ["telephoneNumber", "mail"])
        #expect(url.scope == .sub)
        #expect(url.filter == "(uid=alice)")
    }

    @Test func defaultsAndPercentDecoding() throws {
        let bare = try LDAPURL.parse("LDAP://s/dc=x")
        #expect(bare.session == "s" && bare.base == "dc=x" && bare.attributes.isEmpty)
        #expect(bare.scope == .base && bare.filter == "(objectClass=*)")
        let decoded = try LDAPURL.parse("ldap://s/o=A%20B??one?cn=a%3Fb?x-ext")
        #expect(decoded.base == "o=A B" && decoded.scope == .one && decoded.filter == "(cn=a?b)")
        #expect(try LDAPURL.parse("ldap://s").base == "")
    }

    @Test func malformedURLsThrow() {
        #expect(throws: LDAPError.self) { try LDAPURL.parse("http://s/dc=x") }
        #expect(throws: LDAPError.self) { try LDAPURL.parse("ldap:///dc=x") }
        #expect(throws: LDAPError.self) { try LDAPURL.parse("ldap://s/dc=x??deep") }
        #expect(throws: LDAPError.self) { try LDAPURL.parse("ldap://s/dc=%zz") }
        #expect(throws: LDAPError.self) { try LDAPURL.parse("ldap://s/dc=x%2") }
        #expect(throws: LDAPError.self) { try LDAPURL.parse("ldap://s/dc=x????!critical") }
    }

    @Test func filterEscapeRFC4515() {
        #expect(LDAPFilter.escape("alice") == "alice")
        #expect(LDAPFilter.escape("*)(uid=*") == "\\2a\\29\\28uid=\\2a")
        #expect(LDAPFilter.escape("a\\b\u{0}c") == "a\\5cb\\00c")
        #expect(LDAPFilter.escape("50%?") == "50\\25\\3f")
        #expect(LDAPFilter.escape("Jörg") == "Jörg")
    }

    @Test func escapedValueSurvivesURLParsing() throws {
        let hostile = "%29%28uid=*)?sub?(x=1"
        let url = try LDAPURL.parse("ldap://s/dc=x?uid?sub?(uid=\(LDAPFilter.escape(hostile)))")
        #expect(url.scope == .sub)
        #expect(url.filter == "(uid=\\2529\\2528uid=\\2a\\29\\3fsub\\3f\\28x=1)")
    }
}
