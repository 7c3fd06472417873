import LDAPDriver
import MongoDriver
import Testing
@testable import TandemServer

/// Filling placeholders for drivers without bound parameters: values can never change the structure.
struct QueryTemplateTests {
    @Test("JSON templates: a value with quotes and braces stays inside its string")
    func json() {
        let filled = QueryTemplate.fill(#"{"find": "subscriber", "filter": {"username": "$1"}, "n": "$10$2"}"#,
                                        values: [#"x", "$where": "1"#, "b", nil, nil, nil, nil, nil, nil, nil, "ten"],
                                        escape: MongoJSON.escape)
        #expect(filled == #"{"find": "subscriber", "filter": {"username": "x\", \"$where\": \"1"}, "n": "tenb"}"#)
    }

    @Test("LDAP filters: RFC 4515 escaping of * ( ) \\ and NUL; unknown $n kept")
    func ldap() {
        let filled = QueryTemplate.fill("ldap://s/dc=example,dc=com?uid?sub?(uid=$1)$5",
                                        values: ["*)(uid=*"], escape: LDAPFilter.escape)
        #expect(filled == #"ldap://s/dc=example,dc=com?uid?sub?(uid=\2a\29\28uid=\2a)$5"#)
    }
}
